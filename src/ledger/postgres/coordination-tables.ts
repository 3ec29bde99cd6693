/**
 * Coordination state (../coordination.ts) for PostgresStore: every replica sees the same
 * sessions, throttle counts, cancel keys and leases. Each call is one statement in its own
 * implicit transaction (these rows are not ledger facts, so they do not take the chain
 * head lock); each upsert is atomic, so two replicas counting a failure or taking a lease
 * at once cannot both win.
 */
import type { CancelKeyRecord, ConsoleSessionRecord, Coordination } from '../coordination.js';
import { consoleSessionValues, type SessionRow, toConsoleSession } from '../sql-rows.js';
import type { Sql } from './pool.js';

/** Runs one statement on the pool, with the store's error mapping (StoreFault). */
type Run = <R>(fn: (sql: Sql) => Promise<R>) => Promise<R>;

const THROTTLE_KEEP_MS = 3600_000;

export class PgCoordination implements Coordination {
  constructor(private readonly run: Run) {}

  async putSession(idHash: string, s: ConsoleSessionRecord): Promise<void> {
    await this.run((sql) =>
      sql(
        `INSERT INTO console_sessions (id_hash, approver, csrf, via, credential, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        consoleSessionValues(idHash, s),
      ),
    );
  }

  async getSession(idHash: string, now: Date): Promise<ConsoleSessionRecord | undefined> {
    const r = await this.run((sql) =>
      sql<SessionRow>('SELECT * FROM console_sessions WHERE id_hash = $1 AND expires_at > $2', [
        idHash,
        now.getTime(),
      ]),
    );
    const row = r.rows[0];
    return row === undefined ? undefined : toConsoleSession(row);
  }

  async endSession(idHash: string): Promise<void> {
    await this.run((sql) => sql('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]));
  }

  async endSessionsOf(approver: string): Promise<void> {
    await this.run((sql) => sql('DELETE FROM console_sessions WHERE approver = $1', [approver]));
  }

  async putOidcFlow(
    stateHash: string,
    flow: string,
    expiresAt: Date,
    now: Date,
    max: number,
  ): Promise<boolean> {
    // One statement: the cap is checked and the row written together (INSERT … SELECT … WHERE).
    const r = await this.run(async (sql) => {
      await sql('DELETE FROM oidc_flows WHERE expires_at <= $1', [now.getTime()]);
      return sql(
        `INSERT INTO oidc_flows (state_hash, flow, expires_at)
           SELECT $1, $2, $3 WHERE (SELECT count(*) FROM oidc_flows) < $4`,
        [stateHash, flow, expiresAt.getTime(), max],
      );
    });
    return r.rowCount === 1;
  }

  async takeOidcFlow(stateHash: string, now: Date): Promise<string | undefined> {
    const r = await this.run((sql) =>
      sql<{ flow: string; expires_at: number }>(
        'DELETE FROM oidc_flows WHERE state_hash = $1 RETURNING flow, expires_at',
        [stateHash],
      ),
    );
    const row = r.rows[0];
    return row === undefined || Number(row.expires_at) <= now.getTime() ? undefined : row.flow;
  }

  async signInFailed(name: string, now: Date, windowMs: number): Promise<number> {
    const t = now.getTime();
    const r = await this.run((sql) =>
      sql<{ count: number }>(
        `INSERT INTO sign_in_failures AS f (name, count, since) VALUES ($1, 1, $2)
           ON CONFLICT (name) DO UPDATE SET
             count = CASE WHEN f.since > $3 THEN f.count + 1 ELSE 1 END,
             since = CASE WHEN f.since > $3 THEN f.since ELSE excluded.since END
           RETURNING count`,
        [name, t, t - windowMs],
      ),
    );
    return Number(r.rows[0]?.count ?? 0);
  }

  async signInFailures(name: string, now: Date, windowMs: number): Promise<number> {
    const r = await this.run((sql) =>
      sql<{ count: number }>('SELECT count FROM sign_in_failures WHERE name = $1 AND since > $2', [
        name,
        now.getTime() - windowMs,
      ]),
    );
    return Number(r.rows[0]?.count ?? 0);
  }

  async signInSucceeded(name: string): Promise<void> {
    await this.run((sql) => sql('DELETE FROM sign_in_failures WHERE name = $1', [name]));
  }

  async putCancelKey(k: CancelKeyRecord): Promise<boolean> {
    const r = await this.run((sql) =>
      sql(
        'INSERT INTO cancel_keys (pid, secret_hash, owner) VALUES ($1, $2, $3) ON CONFLICT (pid) DO NOTHING',
        [k.pid, k.secretHash, k.owner],
      ),
    );
    return r.rowCount === 1;
  }

  async dropCancelKey(pid: number): Promise<void> {
    await this.run((sql) => sql('DELETE FROM cancel_keys WHERE pid = $1', [pid]));
  }

  async requestCancel(pid: number, secretHash: string): Promise<string | undefined> {
    const r = await this.run((sql) =>
      sql<{ owner: string }>(
        'UPDATE cancel_keys SET requested = true WHERE pid = $1 AND secret_hash = $2 RETURNING owner',
        [pid, secretHash],
      ),
    );
    return r.rows[0]?.owner;
  }

  async takeCancels(owner: string): Promise<number[]> {
    const r = await this.run((sql) =>
      sql<{ pid: number }>(
        'UPDATE cancel_keys SET requested = false WHERE owner = $1 AND requested RETURNING pid',
        [owner],
      ),
    );
    return r.rows.map((row) => Number(row.pid));
  }

  async tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const t = now.getTime();
    const r = await this.run((sql) =>
      sql<{ holder: string }>(
        `INSERT INTO leases AS l (name, holder, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE l.holder = excluded.holder OR l.expires_at <= $4
           RETURNING holder`,
        [name, holder, t + ttlMs, t],
      ),
    );
    return r.rows[0]?.holder === holder;
  }

  async sweep(now: Date): Promise<void> {
    const t = now.getTime();
    await this.run(async (sql) => {
      await sql('DELETE FROM console_sessions WHERE expires_at <= $1', [t]);
      await sql('DELETE FROM oidc_flows WHERE expires_at <= $1', [t]);
      await sql('DELETE FROM sign_in_failures WHERE since <= $1', [t - THROTTLE_KEEP_MS]);
      await sql('DELETE FROM leases WHERE expires_at <= $1', [t]);
      await sql(
        `DELETE FROM cancel_keys c WHERE NOT EXISTS
           (SELECT 1 FROM leases l WHERE l.name = 'process:' || c.owner AND l.expires_at > $1)`,
        [t],
      );
    });
  }
}
