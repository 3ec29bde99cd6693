/**
 * The upstream's function catalog, loaded with Airlock's own credentials on a fresh
 * upstream session before the agent gets it, shared by every session of the database
 * and refreshed after CATALOG_TTL_MS (the next session to connect reloads it; until
 * then sessions keep the catalog they started with). Functions created in between are
 * unknown, so not reads (function-catalog.ts), and the read-only transaction stands
 * behind that.
 */
import type { Socket } from 'node:net';
import { type CatalogFunction, FunctionCatalog } from './function-catalog.js';
import { upstreamQuery } from './upstream-query.js';

const CATALOG_TTL_MS = 5 * 60_000;

/**
 * Per (schema, name): whether every overload is a function marked immutable or stable.
 * Aggregates and window functions count as functions; procedures (CALL) do not read.
 */
const CATALOG_SQL = `SELECT n.nspname, p.proname,
  bool_and(p.provolatile IN ('i', 's') AND p.prokind <> 'p')
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
GROUP BY 1, 2`;

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
    const fns: CatalogFunction[] = rows.map((r) => ({
      schema: r[0] ?? '',
      name: r[1] ?? '',
      reads: r[2] === 't',
    }));
    this.catalog = new FunctionCatalog(fns, this.opts);
    this.loadedAt = performance.now();
    return this.catalog;
  }
}
