import { createRequire } from 'node:module';
import type { Ajv as AjvType, AnySchema, ValidateFunction } from 'ajv';
import type AddFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Static, TSchema } from 'typebox';
import { zonedLocalToIso } from '../../lib/dates.ts';
import { AppError, type FieldError } from '../errors.ts';
import type { FormState } from './forms.ts';
import { callbackHook } from './hooks.ts';

// One TypeBox schema per command. The route that takes the command as JSON (the
// API) and the route that takes it as a form (the HTML page) name the same schema
// as their body. JSON is validated as sent; a form body is first coerced to the
// schema's types (coerceForm below), then validated by the same validator. A
// failure becomes the same field messages (messageOf below) for problem+json and
// for the form shown again. See docs/architecture.md, "How input is validated".

/** Form fields that belong to the platform (CSRF, method override), never to a command. */
const PLATFORM_FIELDS = new Set(['_csrf', '_method']);

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  format?: string;
  maxLength?: number;
  minLength?: number;
  maximum?: number;
  minimum?: number;
  maxItems?: number;
  minItems?: number;
  errorMessage?: string;
  default?: unknown;
  const?: unknown;
  'x-form-separator'?: string;
};

type Raw = Record<string, string | string[]>;

/** The schema a nullable (Union with Null) property carries, and whether it takes null. */
function unwrapNullable(s: Schema): { schema: Schema; nullable: boolean } {
  const branches = s.anyOf;
  if (!branches) return { schema: s, nullable: s.type === 'null' };
  const other = branches.filter((b) => b.type !== 'null');
  return { schema: other.length === 1 ? { ...other[0], errorMessage: s.errorMessage ?? other[0].errorMessage } : s, nullable: other.length < branches.length };
}

/** The values a choice allows: an enum, or a union of constants (Type.Union of Type.Literal). */
const choices = (s: Schema): unknown[] | undefined => s.enum ?? (s.anyOf?.every((b) => 'const' in b) ? s.anyOf.map((b) => b.const) : undefined);

function kind(s: Schema): string {
  if (s.type) return Array.isArray(s.type) ? s.type[0] : s.type;
  const values = choices(s);
  if (!values) return 'unknown';
  return values.every((v) => typeof v === 'number') ? 'number' : values.every((v) => typeof v === 'boolean') ? 'boolean' : 'string';
}

// <input type="datetime-local"> sends no zone (2026-12-01T09:00): it is a time of
// the site's time zone (the forms say so), read as the instant it names there.
const LOCAL_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;

function coerceScalar(s: Schema, v: string, timeZone: string): unknown {
  switch (kind(s)) {
    case 'boolean':
      if (/^(on|true|1|yes)$/i.test(v)) return true;
      if (/^(off|false|0|no|)$/i.test(v)) return false;
      return v;
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v;
    case 'string':
      // A time that is none (February 30) stays as typed, for the format check to name.
      if (s.format === 'date-time' && LOCAL_DATE_TIME.test(v.trim())) return zonedLocalToIso(v.trim(), timeZone) ?? v;
      return v;
    default:
      return v;
  }
}

/**
 * One item of a list. An item that is an object with its own `x-form-separator`
 * is written as one text, its fields in order with the separator between them
 * ("Label | https://…" a line): the last fields take the last parts, so only the
 * first may hold the separator, and a text with fewer parts leaves the first
 * fields empty. Each part is trimmed and read as its field's type.
 */
function coerceItem(s: Schema, text: string, timeZone: string): unknown {
  const sep = s['x-form-separator'];
  if (kind(s) !== 'object' || sep === undefined) return coerceScalar(s, text, timeZone);
  const names = Object.keys(s.properties ?? {});
  const parts = text.split(sep);
  const rest = parts.length - names.length + 1;
  const values = rest > 0 ? [parts.slice(0, rest).join(sep), ...parts.slice(rest)] : [...Array<string>(1 - rest).fill(''), ...parts];
  return Object.fromEntries(names.map((n, i) => [n, coerceScalar(s.properties![n], values[i].trim(), timeZone)]));
}

// An emptied text field says "this text is now empty" (a cleared description):
// it stays, and the schema says whether empty text will do. Other kinds of field
// (numbers, dates, addresses, choices) have no empty value: an empty one is absent.
const emptyIsText = (s: Schema) => kind(s) === 'string' && !s.format && !s.enum;

/**
 * A form body as the command schema's types. Forms send only text, so:
 * a checkbox's "on" (or "true", "1") is true and an unticked (absent) one false
 * (unless the field has a default);
 * numbers are read as numbers; an empty field that is optional and not plain
 * text (a number, a date, an address, a choice, or text that may be null) is
 * absent, or null when it takes null; repeated keys, or one text split at the
 * property's `x-form-separator`, make a list (of objects too, each written as
 * one text: coerceItem); of a field sent twice that takes
 * one value, the last counts (a hidden default before a button or checkbox).
 * Platform fields (_csrf, _method) and fields the schema does not know are left
 * out: a form may carry fields for the page alone.
 */
export function coerceForm(schema: unknown, raw: Raw, timeZone = 'UTC'): Record<string, unknown> {
  const s = schema as Schema;
  const out: Record<string, unknown> = {};
  const required = new Set(s.required ?? []);
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const { schema: p, nullable } = unwrapNullable(prop);
    const given = raw[name];
    if (given === undefined) {
      if (kind(p) === 'boolean' && p.default === undefined) out[name] = false;
      // Checkboxes of one name with none ticked: an empty list.
      else if (kind(p) === 'array' && required.has(name)) out[name] = [];
      continue;
    }
    if (kind(p) === 'array') {
      const sep = p['x-form-separator'];
      const texts = Array.isArray(given) ? given : sep !== undefined ? given.split(sep) : [given];
      const items = sep !== undefined ? texts.map((t) => t.trim()).filter(Boolean) : texts;
      out[name] = items.map((t) => (p.items ? coerceItem(p.items, t, timeZone) : t));
      continue;
    }
    const text = Array.isArray(given) ? (given.at(-1) ?? '') : given;
    if (text === '' && !required.has(name) && (nullable || !emptyIsText(p))) {
      if (nullable) out[name] = null;
      continue;
    }
    out[name] = coerceScalar(p, text, timeZone);
  }
  return out;
}

/** Whether a form body was sent: its fields arrive as text. */
function isForm(request: FastifyRequest): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A form body as it was sent (all text), before coercion; null for JSON. */
    formFields: Raw | null;
    /** The zone a form's date and time fields are read in: the site's, as set now. */
    formTimeZone: string;
  }
}

/** The field values a refused form shows again: as typed, without the CSRF token or any password. */
export function submittedValues(request: FastifyRequest): FormState['values'] {
  const body = request.formFields ?? request.body;
  const out: FormState['values'] = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body)) {
    if (PLATFORM_FIELDS.has(k) || /password/i.test(k)) continue;
    out[k] = Array.isArray(v) ? v.map(String) : String(v ?? '');
  }
  return out;
}

// ---- One message catalogue ------------------------------------------------

/** A pattern for text that must not be blank (with `errorMessage: MESSAGES.blank`). */
export const NOT_BLANK = '\\S';

/** What validation says about one field; the API and the forms both show these words. */
export const MESSAGES = {
  required: 'is required',
  blank: 'cannot be blank',
  unknownField: 'is not a known field',
  tooLong: (n: number) => `must be at most ${n.toLocaleString('en')} characters`,
  tooShort: (n: number) => `must be at least ${n.toLocaleString('en')} characters`,
  tooMany: (n: number) => `must have at most ${n.toLocaleString('en')} items`,
  tooFew: (n: number) => (n === 1 ? 'cannot be empty' : `must have at least ${n.toLocaleString('en')} items`),
  atMost: (n: number) => `must be at most ${n.toLocaleString('en')}`,
  atLeast: (n: number) => `must be at least ${n.toLocaleString('en')}`,
  oneOf: (values: unknown[]) => `must be one of ${values.map((v) => `"${String(v)}"`).join(', ')}`,
  dateTime: 'must be a date and time like 2026-12-01T09:00:00Z',
  email: 'must be an email address',
  url: 'must be a web address (https://…)',
  invalid: 'is invalid',
} as const;

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

/** An Ajv error, as Ajv reports it with `verbose` (so the failing schema is at hand). */
export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: Schema;
}

/** The catalogue's message for one failed keyword; a schema's `errorMessage` says what its pattern, format or choice wants. */
export function messageOf(err: AjvError): string {
  const p = err.params;
  if ((err.keyword === 'pattern' || err.keyword === 'format') && err.parentSchema?.errorMessage) return err.parentSchema.errorMessage;
  // A union of constants (301 or 302) says which (or its errorMessage, in the words of the form's choices); its branches' own errors say less.
  const values = err.keyword === 'anyOf' && err.parentSchema ? choices(err.parentSchema) : undefined;
  if (values) return err.parentSchema?.errorMessage ?? MESSAGES.oneOf(values);
  switch (err.keyword) {
    case 'required':
      return MESSAGES.required;
    case 'additionalProperties':
      return MESSAGES.unknownField;
    case 'maxLength':
      return MESSAGES.tooLong(Number(p.limit));
    case 'minLength':
      return Number(p.limit) === 1 ? MESSAGES.blank : MESSAGES.tooShort(Number(p.limit));
    case 'maxItems':
      return MESSAGES.tooMany(Number(p.limit));
    case 'minItems':
      return MESSAGES.tooFew(Number(p.limit));
    case 'maximum':
      return MESSAGES.atMost(Number(p.limit));
    case 'minimum':
      return MESSAGES.atLeast(Number(p.limit));
    case 'enum':
      return MESSAGES.oneOf((p.allowedValues as unknown[]) ?? []);
    case 'type': {
      const types = String(p.type).split(',');
      return `must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`;
    }
    case 'format':
      return p.format === 'date-time' ? MESSAGES.dateTime : p.format === 'email' ? MESSAGES.email : p.format === 'uri' ? MESSAGES.url : MESSAGES.invalid;
    default:
      return MESSAGES.invalid;
  }
}

// Of a nullable field's errors (each branch of the union fails), the one about the
// value given speaks, not "must be null" or "must match a schema in anyOf".
function rank(e: AjvError): number {
  if (e.keyword === 'anyOf') return e.parentSchema && choices(e.parentSchema) ? 0 : 3;
  if (e.keyword === 'const') return 4;
  return e.keyword === 'oneOf' ? 3 : e.keyword === 'type' && e.params.type === 'null' ? 2 : 1;
}

/** Ajv's errors as one message per field (dotted paths), in the order the fields failed. */
export function fieldErrors(errors: AjvError[], context = 'body'): FieldError[] {
  const best = new Map<string, AjvError>();
  for (const err of errors) {
    let field = err.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (err.keyword === 'required') field = [field, String(err.params.missingProperty)].filter(Boolean).join('.');
    else if (err.keyword === 'additionalProperties') field = [field, String(err.params.additionalProperty)].filter(Boolean).join('.');
    field ||= context;
    // A list's items report as the list (tags, not tags.3).
    field = field.replace(/\.\d+$/, '');
    const had = best.get(field);
    if (!had || rank(err) < rank(had)) best.set(field, err);
  }
  return [...best].map(([field, err]) => ({ field, message: messageOf(err) }));
}

// ---- Validating outside a route ------------------------------------------

const require = createRequire(import.meta.url);

/** The Ajv options of request bodies: strict types (forms are coerced before), every failure reported. */
export const BODY_AJV_OPTIONS = { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false, verbose: true } as const;

/** A new Ajv with the formats, as request bodies are validated. */
export function makeAjv(options: Record<string, unknown>): AjvType {
  const { Ajv } = require('ajv') as { Ajv: typeof AjvType };
  const addFormats = require('ajv-formats') as { default: typeof AddFormats.default };
  const ajv = new Ajv(options);
  addFormats.default(ajv);
  return ajv;
}

// One Ajv for commands checked outside a route's schema, each schema compiled once.
let commandAjv: AjvType | undefined;
const compiledCommands = new WeakMap<object, ValidateFunction>();

/**
 * Checks a command's input against its schema outside a route (an adapter with
 * its own envelope, a route that picks its command by a field): returns it as
 * the schema's type, or throws validation_failed with the catalogue's messages.
 */
export function checkInput<T extends TSchema>(schema: T, value: unknown): Static<T> {
  let compiled = compiledCommands.get(schema);
  if (!compiled) {
    commandAjv ??= makeAjv(BODY_AJV_OPTIONS);
    compiled = commandAjv.compile(schema as AnySchema);
    compiledCommands.set(schema, compiled);
  }
  if (compiled(value)) return value as Static<T>;
  throw new AppError('validation_failed', undefined, fieldErrors((compiled.errors ?? []) as AjvError[]));
}

/** A patch's fields that passed its schema, and the messages of those that did not. */
export interface CheckedPatch<T> {
  value: T;
  errors: FieldError[];
}

/**
 * Checks a patch (a command whose fields are all optional) field by field:
 * the fields that pass, and one message for each that does not, instead of
 * refusing it whole. The service then checks its own rules on the fields that
 * passed (well-formed input, still) and reports its messages with these, so
 * one answer names every wrong field (the site settings).
 */
export function checkPatch<T extends TSchema>(schema: T, value: unknown): CheckedPatch<Static<T>> {
  try {
    return { value: checkInput(schema, value), errors: [] };
  } catch (err) {
    if (!(err instanceof AppError) || !value || typeof value !== 'object' || Array.isArray(value)) throw err;
    const wrong = new Set(err.errors.map((e) => e.field.split('.')[0]));
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !wrong.has(k)));
    // The fields left are each valid: only a rule across fields could still refuse them (then, all at once).
    try {
      return { value: checkInput(schema, rest), errors: err.errors };
    } catch {
      throw err;
    }
  }
}

/** A patch read from a route's body, as readInput reads a command (a form is coerced first), and checked by checkPatch. */
export function readPatch<T extends TSchema>(request: FastifyRequest, schema: T): CheckedPatch<Static<T>> {
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  if (isForm(request)) {
    // A route whose body schema is this patch had the form coerced already (inputPlugin): read it as sent.
    request.formFields ??= body as Raw;
    return checkPatch(schema, coerceForm(schema, request.formFields, request.formTimeZone));
  }
  return checkPatch(schema, withoutPlatformFields(body));
}

/** What readInput adds to what the body says. */
export interface ReadOptions {
  /** Values for fields the body leaves out (what a form sent without a button means; a token from the URL). */
  defaults?: Record<string, unknown>;
}

/**
 * A route's command read from its body by `schema`, as the route's own body
 * schema would be: a form is coerced first. For routes that check who may act
 * before what was sent, or take more than one command (a form's _method picks
 * PUT or DELETE).
 */
export function readInput<T extends TSchema>(request: FastifyRequest, schema: T, options: ReadOptions = {}): Static<T> {
  const { defaults = {} } = options;
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  if (isForm(request)) {
    request.formFields = body as Raw;
    const given = coerceForm(schema, { ...(defaults as Raw), ...request.formFields }, request.formTimeZone);
    return checkInput(schema, { ...defaults, ...given });
  }
  return checkInput(schema, { ...defaults, ...withoutPlatformFields(body) });
}

function withoutPlatformFields(body: Record<string, unknown>): Record<string, unknown> {
  if (!Object.keys(body).some((k) => PLATFORM_FIELDS.has(k))) return body;
  return Object.fromEntries(Object.entries(body).filter(([k]) => !PLATFORM_FIELDS.has(k)));
}

/** Coerces form bodies to the route's body schema before it is validated. */
export const inputPlugin = fp(
  async (app: FastifyInstance, opts: { timeZone: () => string }) => {
    app.decorateRequest('formFields', null);
    app.decorateRequest('formTimeZone', {
      getter: () => opts.timeZone(),
    });
    // Registered after the auth plugin: the CSRF check has read _csrf by now.
    app.addHook(
      'preValidation',
      callbackHook((request) => {
        if (!request.body || typeof request.body !== 'object' || Array.isArray(request.body)) return;
        const schema = request.routeOptions.schema?.body as Schema | undefined;
        if (!schema?.properties) return;
        if (isForm(request)) {
          request.formFields = request.body as Raw;
          request.body = coerceForm(schema, request.formFields, request.formTimeZone);
        } else request.body = withoutPlatformFields(request.body as Record<string, unknown>);
      }),
    );
  },
  { name: 'inkwell-input', dependencies: ['inkwell-auth'] },
);
