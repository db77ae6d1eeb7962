import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { checkInput, checkPatch, coerceForm, MESSAGES, NOT_BLANK } from './input.ts';

// A command with one field of each kind a form has to send as text.
const Command = Type.Object(
  {
    title: Type.String({ maxLength: 10, pattern: NOT_BLANK, errorMessage: MESSAGES.blank }),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    ratio: Type.Optional(Type.Number()),
    notify: Type.Boolean(),
    pinned: Type.Optional(Type.Boolean()),
    note: Type.Optional(Type.String()),
    image: Type.Optional(Type.Union([Type.String({ maxLength: 4 }), Type.Null()])),
    ids: Type.Optional(Type.Array(Type.Integer())),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 5 }), { maxItems: 2, 'x-form-separator': ',' })),
    at: Type.Optional(Type.String({ format: 'date-time' })),
    mode: Type.Optional(Type.Enum(['open', 'closed'])),
  },
  { additionalProperties: false },
);

const fails = (value: unknown) => {
  try {
    checkInput(Command, value);
  } catch (err) {
    assert.ok(err instanceof AppError && err.code === 'validation_failed');
    return Object.fromEntries(err.errors.map((e) => [e.field, e.message]));
  }
  assert.fail('the input was accepted');
};

describe('form bodies become the command schema’s types', () => {
  test('a ticked checkbox is true, an unticked (absent) one false', () => {
    assert.deepEqual(coerceForm(Command, { title: 'x', notify: 'on', pinned: 'true' }), { title: 'x', notify: true, pinned: true });
    assert.deepEqual(coerceForm(Command, { title: 'x' }), { title: 'x', notify: false, pinned: false });
    // A hidden "0" before the checkbox: the last value counts.
    assert.equal(coerceForm(Command, { title: 'x', notify: ['0', 'on'] }).notify, true);
    assert.equal(coerceForm(Command, { title: 'x', notify: '0' }).notify, false);
  });

  test('numbers are read as numbers; text that is no number stays text and is refused by name', () => {
    assert.deepEqual(coerceForm(Command, { title: 'x', count: ' 3 ', ratio: '0.5' }), { title: 'x', count: 3, ratio: 0.5, notify: false, pinned: false });
    const form = coerceForm(Command, { title: 'x', count: 'three' });
    assert.equal(form.count, 'three');
    assert.deepEqual(fails(form), { count: 'must be a whole number' });
    assert.deepEqual(fails(coerceForm(Command, { title: 'x', count: '9' })), { count: MESSAGES.atMost(5) });
  });

  test('an empty optional number, date or choice is absent, null where the field takes null; empty text stays text', () => {
    const form = coerceForm(Command, { title: '', note: '', image: '', count: '', at: '', mode: '' });
    // An emptied note is an empty note (cleared), not "unchanged"; an empty title is refused by the schema.
    assert.deepEqual(form, { title: '', note: '', image: null, notify: false, pinned: false });
    assert.deepEqual(fails(form), { title: 'cannot be blank' });
    assert.deepEqual(fails(coerceForm(Command, { title: '   ' })), { title: 'cannot be blank' });
  });

  test('repeated keys make a list; one text splits at the field’s separator', () => {
    assert.deepEqual(coerceForm(Command, { title: 'x', ids: ['1', '2'] }).ids, [1, 2]);
    assert.deepEqual(coerceForm(Command, { title: 'x', ids: '7' }).ids, [7]);
    assert.deepEqual(coerceForm(Command, { title: 'x', tags: ' a, b ,,c ' }).tags, ['a', 'b', 'c']);
    assert.deepEqual(coerceForm(Command, { title: 'x', tags: '' }).tags, [], 'an emptied list is an empty list, not "unchanged"');
    assert.deepEqual(coerceForm(Command, { title: 'x', tags: ['a', 'b'] }).tags, ['a', 'b']);
    // A field that takes one value, sent twice: the last counts.
    assert.equal(coerceForm(Command, { title: ['first', 'last'] }).title, 'last');
  });

  test('a list of objects from lines: each line its fields in order, split at the item’s separator', () => {
    const Links = Type.Object({
      links: Type.Array(Type.Object({ label: Type.String(), url: Type.String() }, { 'x-form-separator': '|' }), { 'x-form-separator': '\n' }),
      counts: Type.Optional(Type.Array(Type.Object({ name: Type.String(), n: Type.Integer() }, { 'x-form-separator': ':' }), { 'x-form-separator': ',' })),
    });
    assert.deepEqual(coerceForm(Links, { links: 'Home | https://a.test\r\n\r\n  A | B | /b \nhttps://bare.test' }).links, [
      { label: 'Home', url: 'https://a.test' },
      // Only the first field may hold the separator; a line without one is the last field alone.
      { label: 'A | B', url: '/b' },
      { label: '', url: 'https://bare.test' },
    ]);
    assert.deepEqual(coerceForm(Links, { links: '' }).links, []);
    assert.deepEqual(coerceForm(Links, { links: 'x', counts: 'a: 2, b:x' }).counts, [
      { name: 'a', n: 2 },
      { name: 'b', n: 'x' },
    ]);
  });

  test('a datetime-local value (no zone) is a time of the given zone (UTC when none is given)', () => {
    assert.equal(coerceForm(Command, { title: 'x', at: '2026-12-01T09:30' }).at, '2026-12-01T09:30:00.000Z');
    assert.equal(coerceForm(Command, { title: 'x', at: '2026-12-01T09:30:15' }).at, '2026-12-01T09:30:15.000Z');
    assert.equal(coerceForm(Command, { title: 'x', at: '2026-12-01T09:30' }, 'America/New_York').at, '2026-12-01T14:30:00.000Z');
    assert.equal(coerceForm(Command, { title: 'x', at: '2026-07-01T09:30' }, 'America/New_York').at, '2026-07-01T13:30:00.000Z');
    assert.deepEqual(fails(coerceForm(Command, { title: 'x', at: 'tomorrow' })), { at: MESSAGES.dateTime });
    assert.deepEqual(fails(coerceForm(Command, { title: 'x', at: '2026-02-30T09:30' }, 'Europe/Paris')), { at: MESSAGES.dateTime });
  });

  test('platform fields and fields the command does not know are left out of a form', () => {
    assert.deepEqual(coerceForm(Command, { _csrf: 't', _method: 'PUT', title: 'x', website: '', button: 'save' }), {
      title: 'x',
      notify: false,
      pinned: false,
    });
  });
});

describe('one message per field, from one catalogue', () => {
  test('lengths, lists, choices, types and unknown fields', () => {
    assert.deepEqual(fails({ title: 'x'.repeat(11), notify: 'yes', tags: ['a', 'toolong'], mode: 'shut', extra: 1, image: 'abcdef' }), {
      title: MESSAGES.tooLong(10),
      notify: 'must be true or false',
      tags: MESSAGES.tooLong(5),
      mode: MESSAGES.oneOf(['open', 'closed']),
      extra: MESSAGES.unknownField,
      // A nullable field speaks of the value given, not of null.
      image: MESSAGES.tooLong(4),
    });
    assert.deepEqual(fails({ notify: true, tags: ['a', 'b', 'c'] }), { title: MESSAGES.required, tags: MESSAGES.tooMany(2) });
    assert.deepEqual(fails({ title: 'x', notify: true, image: 5 }), { image: 'must be text' });
  });

  test("a choice's errorMessage says it in the words of the form's choices", () => {
    const Start = Type.Object({ from: Type.Union([Type.Literal('wordpress'), Type.Literal('ghost')], { errorMessage: 'must be WordPress or Ghost' }) });
    assert.throws(
      () => checkInput(Start, { from: 'blogger' }),
      (err: unknown) => err instanceof AppError && err.errors[0].field === 'from' && err.errors[0].message === 'must be WordPress or Ghost',
    );
  });

  test('a patch is checked field by field: the fields that pass, and a message for each that does not', () => {
    const Patch = Type.Partial(Command, { additionalProperties: false });
    assert.deepEqual(checkPatch(Patch, { title: 'ok', count: 2 }), { value: { title: 'ok', count: 2 }, errors: [] });
    const { value, errors } = checkPatch(Patch, { title: 'x'.repeat(11), count: 9, note: 'kept', extra: 1 });
    assert.deepEqual(value, { note: 'kept' });
    assert.deepEqual(Object.fromEntries(errors.map((e) => [e.field, e.message])), {
      title: MESSAGES.tooLong(10),
      count: MESSAGES.atMost(5),
      extra: MESSAGES.unknownField,
    });
    assert.throws(() => checkPatch(Patch, 'text'), AppError, 'a body that is no object is refused whole');
  });

  test('valid input passes through unchanged', () => {
    const ok = { title: 'Hello', notify: false, image: null, tags: [], at: '2026-12-01T09:30:00Z' };
    assert.deepEqual(checkInput(Command, ok), ok);
  });
});
