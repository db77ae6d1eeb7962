import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/**
 * A value the query will take on each call: a stand-in while the query is built
 * once, then swapped for the caller's value in the compiled parameters.
 */
export class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

// Only these two are used, and neither depends on the database's tables.
type Executor = Pick<Kysely<object>, 'executeQuery' | 'getExecutor'>;
type Template = { compiled: CompiledQuery; slots: (string | null)[] };

/**
 * Hot queries, built and compiled by Kysely once instead of on every call (the
 * building cost ~10 % of an uncached list page and ~8 % of a write). `build`
 * gets the first caller's db (only to build with: the query is not run then)
 * and one Slot per named value (slot.x for values.x) and must use each only as a value
 * (a where operand, a limit, an inserted value), never to decide the query's
 * shape: anything that changes the SQL (which filters apply, how many ids an
 * IN list has) belongs in `shape`, and each shape is compiled once.
 *
 * Templates are kept per dialect adapter (the SQL differs between SQLite and
 * PostgreSQL), so one process may use both.
 */
export function preparedQuery<E extends Executor, V extends Record<string, unknown>, R>(build: (db: E, slot: V, shape: string) => Compilable<R>) {
  const byAdapter = new WeakMap<object, Map<string, Template>>();
  const slots = new Proxy({} as Record<string, Slot>, {
    get: (cache, name: string) => (cache[name] ??= new Slot(name)),
  });
  return async (db: E, values: V, shape = ''): Promise<QueryResult<R>> => {
    const adapter = db.getExecutor().adapter;
    let templates = byAdapter.get(adapter);
    if (!templates) byAdapter.set(adapter, (templates = new Map()));
    let t = templates.get(shape);
    if (!t) {
      const compiled = build(db, slots as unknown as V, shape).compile();
      t = { compiled, slots: compiled.parameters.map((p) => (p instanceof Slot ? p.name : null)) };
      templates.set(shape, t);
    }
    const { compiled, slots: names } = t;
    const parameters = new Array(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      parameters[i] = name === null ? compiled.parameters[i] : values[name];
    }
    return db.executeQuery<R>({ query: compiled.query, queryId: compiled.queryId, sql: compiled.sql, parameters });
  };
}
