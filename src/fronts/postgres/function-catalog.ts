/**
 * Which function calls are reads: an allow-list, not a list of the bad ones. PostgreSQL
 * has thousands of functions, extensions add more and each version moves the line, so
 * a call is a read only when every function its name may resolve to is
 *   - a built-in (`pg_catalog`) whose overloads are all marked immutable or stable in the
 *     upstream's own `pg_proc` (loaded at connect time, catalog-loader.ts), or one of the
 *     few volatile built-ins below that only read, or
 *   - named in `databases[].read_functions` (`name` for pg_catalog, `schema.name` otherwise),
 * and it is not on the never-read list (never-read-functions.ts), whatever its volatility.
 * Every other call is `postgres:function` on `function/<schema>/<name>`, for policy to
 * allow, hold or deny. The upstream's read-only transaction (read-only-guard.ts) backs
 * this up: a function that lies about its volatility still cannot write in a read.
 * https://www.postgresql.org/docs/current/xfunc-volatility.html
 */
import { functionMatcher } from './never-read-functions.js';

/** Volatile built-ins that only read (or only draw random numbers): reads. */
export const DEFAULT_READ_FUNCTIONS: readonly string[] = [
  'random',
  'random_normal',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'pg_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_total_relation_size',
  'pg_database_size',
  'pg_tablespace_size',
];

/** One row of the catalog query: a (schema, name) and whether all its overloads only read. */
export interface CatalogFunction {
  readonly schema: string;
  readonly name: string;
  /** Every overload is immutable or stable (and none is a procedure). */
  readonly reads: boolean;
}

/**
 * An operator or a cast target type with a volatile function behind it (the operator's
 * `oprcode`, the cast's `castfunc` or the type's input function): `name` is the operator
 * or type name, `schema.fn` the function PostgreSQL calls for it.
 */
export interface VolatileBehind {
  readonly name: string;
  readonly schema: string;
  readonly fn: string;
}

export class FunctionCatalog {
  private readonly schemasOf = new Map<string, Set<string>>();
  private readonly operators = new Map<string, VolatileBehind[]>();
  private readonly casts = new Map<string, VolatileBehind[]>();
  private readonly readable = new Set<string>();
  private readonly neverRead: (name: string) => boolean;

  constructor(
    rows: Iterable<CatalogFunction>,
    opts: { readonly neverRead: readonly string[]; readonly readFunctions: readonly string[] },
    behind: { readonly operators?: Iterable<VolatileBehind>; readonly casts?: Iterable<VolatileBehind> } = {},
  ) {
    for (const o of behind.operators ?? [])
      this.operators.set(o.name, [...(this.operators.get(o.name) ?? []), o]);
    for (const t of behind.casts ?? []) this.casts.set(t.name, [...(this.casts.get(t.name) ?? []), t]);
    this.neverRead = functionMatcher(opts.neverRead);
    for (const r of rows) {
      const s = this.schemasOf.get(r.name) ?? new Set<string>();
      this.schemasOf.set(r.name, s);
      s.add(r.schema);
      if (r.reads && r.schema === 'pg_catalog') this.readable.add(`pg_catalog.${r.name}`);
    }
    for (const f of DEFAULT_READ_FUNCTIONS) this.readable.add(`pg_catalog.${f}`);
    for (const f of opts.readFunctions) this.readable.add(f.includes('.') ? f : `pg_catalog.${f}`);
  }

  /** Some schema of the database has a function of this name (attribute notation may call it). */
  mayBeFunction(name: string): boolean {
    return this.schemasOf.has(name);
  }

  /**
   * Schemas a call of `name` may resolve to: the one written, or (unqualified) every
   * schema of the path that holds such a function, pg_catalog first when the path does
   * not place it (https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-CATALOG).
   * A name no schema holds (yet) may resolve anywhere on the path.
   */
  candidates(schema: string | undefined, name: string, path: readonly string[]): string[] {
    if (schema !== undefined) return [schema];
    const order = path.includes('pg_catalog') ? [...path] : ['pg_catalog', ...path];
    const holders = this.schemasOf.get(name);
    const found = order.filter((s) => holders?.has(s) === true);
    if (found.length > 0) return found;
    const rest = order.filter((s) => s !== 'pg_temp');
    return rest.length === 0 ? ['pg_catalog'] : rest;
  }

  /**
   * Functions an operator of this name may call that are volatile. No built-in operator
   * is (PostgreSQL 18); user-defined ones are, if so marked. Other operators, extension
   * ones included, are taken at their volatility mark; the read-only transaction stands
   * behind a mark that lies.
   */
  volatileOperator(name: string): readonly VolatileBehind[] {
    return this.operators.get(name) ?? [];
  }

  /** Volatile functions a cast to (or literal of) this type name may call. */
  volatileCast(typeName: string): readonly VolatileBehind[] {
    return this.casts.get(typeName) ?? [];
  }

  /** A call of `[schema.]name` only reads (see the file comment). */
  isRead(schema: string | undefined, name: string, path: readonly string[]): boolean {
    if (this.neverRead(name)) return false;
    const holders = this.schemasOf.get(name);
    if (schema === undefined && holders === undefined) return false;
    return this.candidates(schema, name, path).every((s) => this.readable.has(`${s}.${name}`));
  }
}
