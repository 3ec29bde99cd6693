/** The function catalog classification unit tests resolve calls against (no upstream needed). */
import { type CatalogFunction, FunctionCatalog } from '../../src/fronts/postgres/function-catalog.js';
import { NEVER_READ_FUNCTIONS } from '../../src/fronts/postgres/never-read-functions.js';

/** A small stand-in for the upstream's pg_proc: (schema, name, all overloads stable/immutable). */
export const CATALOG: readonly CatalogFunction[] = (
  [
    ['pg_catalog', 'now', true],
    ['pg_catalog', 'lower', true],
    ['pg_catalog', 'count', true],
    ['pg_catalog', 'name', true],
    ['pg_catalog', 'pg_backend_pid', true],
    ['pg_catalog', 'pg_read_file', false],
    ['pg_catalog', 'set_config', false],
    ['pg_catalog', 'nextval', false],
    ['pg_catalog', 'ts_stat', false],
    ['pg_catalog', 'pg_terminate_backend', false],
    ['pg_catalog', 'pg_advisory_lock', false],
    ['pg_catalog', 'lo_import', false],
    ['pg_catalog', 'brin_summarize_range', false],
    ['pg_catalog', 'query_to_xml', true],
    ['public', 'dblink', false],
    ['public', 'audit_purge', true],
    ['public', 'crosstab', false],
  ] as const
).map(([schema, name, reads]) => ({ schema, name, reads }));

export const catalog = (readFunctions: readonly string[] = []) =>
  new FunctionCatalog(CATALOG, { neverRead: [...NEVER_READ_FUNCTIONS, 'audit_*'], readFunctions });
