import { createRequire } from 'node:module';
import type { AnySchema, ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import { BODY_AJV_OPTIONS, makeAjv } from './input.ts';

// Compiling every route's schemas (Ajv for requests, fast-json-stringify for
// responses) at start-up was ~250 ms of a 1.4 s cold start, for routes most
// processes never serve. Each schema is now compiled on its route's first use
// (tests exercise every route, so a broken schema still fails there), and Ajv
// (~90 modules) and fast-json-stringify load then too.
const require = createRequire(import.meta.url);

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/**
 * The request validator compiler: bodies strictly (no coercion, every failing
 * field reported; form bodies were coerced to the schema before, see input.ts);
 * query strings and params arrive as text, so those coerce.
 * `shared` are schemas referenced by $id.
 */
function lazyValidatorCompiler(shared: AnySchema[]): FastifySchemaCompiler<AnySchema> {
  const ajvs = once(() => {
    const body = makeAjv(BODY_AJV_OPTIONS);
    const other = makeAjv({ ...BODY_AJV_OPTIONS, coerceTypes: 'array' });
    for (const ajv of [body, other]) for (const s of shared) ajv.addSchema(s);
    return { body, other };
  });
  return ({ schema, httpPart }) => {
    let compiled: ValidateFunction | undefined;
    // Fastify reads .errors from the function it was given after a failed call.
    const validate = (data: unknown) => {
      compiled ??= (httpPart === 'body' ? ajvs().body : ajvs().other).compile(schema);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate;
  };
}

type ValidatorFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator'];

/**
 * For Fastify's schemaController.compilersFactory.buildValidator: always the
 * compiler above, as app.setValidatorCompiler() would install it. (Fastify's
 * type describes its Ajv pool's signature; at run time it takes any compiler.)
 */
export function lazyValidatorFactory(shared: AnySchema[]): ValidatorFactory {
  const compiler = lazyValidatorCompiler(shared);
  return (() => compiler) as unknown as ValidatorFactory;
}

type FjsBuild = (schema: unknown, options: Record<string, unknown>) => (data: unknown) => string;

/**
 * For Fastify's schemaController.compilersFactory.buildSerializer: the same
 * fast-json-stringify serializers Fastify builds by default, built on first use.
 */
export function lazySerializerFactory() {
  const build = once(() => require('fast-json-stringify') as FjsBuild);
  return (externalSchemas?: unknown, serializerOpts?: object) => {
    return ({ schema }: { schema?: unknown }) => {
      let serialize: ((data: unknown) => string) | undefined;
      return (data: unknown) => {
        if (!serialize) {
          // As @fastify/fast-json-stringify-compiler does: a schema is not its own external reference.
          const external: Record<string, unknown> = { ...(externalSchemas as Record<string, unknown> | undefined) };
          const id = (schema as { $id?: string }).$id;
          if (id) delete external[id];
          serialize = build()(schema, { ...serializerOpts, schema: external });
        }
        return serialize(data);
      };
    };
  };
}
