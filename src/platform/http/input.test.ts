import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { checkInput, coerceForm, MESSAGES, NOT_BLANK } from './input.ts';

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

  test('valid input passes through unchanged', () => {
    const ok = { title: 'Hello', notify: false, image: null, tags: [], at: '2026-12-01T09:30:00Z' };
    assert.deepEqual(checkInput(Command, ok), ok);
  });
});
