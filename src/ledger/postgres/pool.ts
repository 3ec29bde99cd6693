/**
 * The connection pool of PostgresStore, and the one query function the table modules
 * use. BIGINT (int8) columns are read as numbers: they hold epoch milliseconds and
 * ledger seqs, far below 2^53, and the shared row mappers (../sql-rows.ts) take numbers.
 * The parser is set on this pool only, not on the process-wide `pg.types`.
 */
import pg from 'pg';

export interface PgConnection {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  /** A function is called for each new connection (a rotated file, an RDS IAM token). */
  readonly password?: string | (() => Promise<string>);
  /** TLS: verify the server's certificate chain against `ca` and its name (verify-full). */
  readonly ssl?: { readonly ca: string; readonly servername?: string };
}

/** A query on a pool or on one transaction's client. */
export type Sql = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params?: readonly unknown[],
) => Promise<pg.QueryResult<R>>;

const INT8_OID = 20;

export function sqlOf(c: pg.Pool | pg.PoolClient): Sql {
  return (text, params) => c.query(text, params as unknown[] | undefined);
}

export function openPool(
  conn: PgConnection,
  opts: { max: number; lockWaitMs: number; onError: (err: Error) => void },
): pg.Pool {
  const pool = new pg.Pool({
    ...conn,
    ssl:
      conn.ssl === undefined
        ? undefined
        : { ca: conn.ssl.ca, rejectUnauthorized: true, servername: conn.ssl.servername },
    max: opts.max,
    // Fail closed fast when PostgreSQL is unreachable rather than queueing requests.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    // A server that stops answering (a failover, a partition) ends the query client-side.
    query_timeout: 10_000,
    // Waiting for the chain head held by another replica counts against lock_timeout:
    // past it the write fails with StoreFault, as a held SQLite write lock does.
    options: `-c lock_timeout=${opts.lockWaitMs} -c statement_timeout=10000`,
    application_name: 'airlock',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection (PostgreSQL stopped) emits here; unhandled, it
  // would end the process. The next query fails and is reported as a StoreFault.
  pool.on('error', opts.onError);
  return pool;
}
