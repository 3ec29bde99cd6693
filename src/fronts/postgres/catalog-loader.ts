/**
 * The upstream's function catalog, loaded with Airlock's own credentials on a fresh
 * upstream session before the agent gets it, shared by every session of the database
 * and refreshed after CATALOG_TTL_MS (the next session to connect reloads it; until
 * then sessions keep the catalog they started with). Functions created in between are
 * unknown, so not reads (function-catalog.ts), and the read-only transaction stands
 * behind that.
 */
import type { Socket } from 'node:net';
import { type CatalogFunction, FunctionCatalog, type VolatileBehind } from './function-catalog.js';
import { upstreamQuery } from './upstream-query.js';

const CATALOG_TTL_MS = 5 * 60_000;

/**
 * Per (schema, name): whether every overload is a function marked immutable or stable
 * (aggregates and window functions count as functions; procedures do not read); and the
 * operators and cast target types with a volatile function behind them.
 */
const CATALOG_SQL = `SELECT 'f', n.nspname, p.proname,
  bool_and(p.provolatile IN ('i', 's') AND p.prokind <> 'p')::text
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
GROUP BY 2, 3
UNION ALL
SELECT 'o', o.oprname, n.nspname, p.proname
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.provolatile = 'v'
UNION ALL
SELECT 't', t.typname, n.nspname, p.proname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_proc p ON p.oid = t.typinput
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.provolatile = 'v'
UNION ALL
SELECT 't', t.typname, n.nspname, p.proname
FROM pg_catalog.pg_cast k JOIN pg_catalog.pg_proc p ON p.oid = k.castfunc
JOIN pg_catalog.pg_type t ON t.oid = k.casttarget
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.provolatile = 'v'`;

export class CatalogLoader {
  private catalog: FunctionCatalog | undefined;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<FunctionCatalog> | undefined;

  constructor(private readonly opts: { neverRead: readonly string[]; readFunctions: readonly string[] }) {}

  /** The catalog, loaded over `socket` (an upstream session not yet handed over) when stale. */
  async get(socket: Socket): Promise<FunctionCatalog> {
    if (this.catalog !== undefined && performance.now() - this.loadedAt < CATALOG_TTL_MS) return this.catalog;
    this.loading ??= this.load(socket).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(socket: Socket): Promise<FunctionCatalog> {
    const rows = await upstreamQuery(socket, CATALOG_SQL);
    const fns: CatalogFunction[] = [];
    const operators: VolatileBehind[] = [];
    const casts: VolatileBehind[] = [];
    for (const [kind, a = '', b = '', c = ''] of rows) {
      if (kind === 'f') fns.push({ schema: a ?? '', name: b ?? '', reads: c === 'true' });
      else (kind === 'o' ? operators : casts).push({ name: a ?? '', schema: b ?? '', fn: c ?? '' });
    }
    this.catalog = new FunctionCatalog(fns, this.opts, { operators, casts });
    this.loadedAt = performance.now();
    return this.catalog;
  }
}
