/**
 * Coordination state (../coordination.ts) for SqliteStore: processes sharing the file see
 * the same sessions, throttle counts, cancel keys and leases. Writes go through the store's
 * `writeWith`, so a write lock held by another process is waited for off the event loop.
 */
import type { CancelKeyRecord, ConsoleSessionRecord, Coordination } from '../coordination.js';
import { consoleSessionValues, type SessionRow, toConsoleSession } from '../sql-rows.js';
import type { Sql } from './statement-cache.js';

type Write = <R>(fn: () => R) => Promise<R>;

/** Throttle rows older than this are swept whatever window a caller used. */
const THROTTLE_KEEP_MS = 3600_000;

export class SqliteCoordination implements Coordination {
  constructor(
    private readonly sql: Sql,
    private readonly write: Write,
  ) {}

  putSession(idHash: string, s: ConsoleSessionRecord): Promise<void> {
    return this.write(() => {
      this.sql(
        `INSERT INTO console_sessions (id_hash, approver, csrf, via, credential, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(...consoleSessionValues(idHash, s));
    });
  }

  async getSession(idHash: string, now: Date): Promise<ConsoleSessionRecord | undefined> {
    const r = this.sql<[string, number], SessionRow>(
      'SELECT * FROM console_sessions WHERE id_hash = ? AND expires_at > ?',
    ).get(idHash, now.getTime());
    return r === undefined ? undefined : toConsoleSession(r);
  }

  endSession(idHash: string): Promise<void> {
    return this.write(() => {
      this.sql('DELETE FROM console_sessions WHERE id_hash = ?').run(idHash);
    });
  }

  endSessionsOf(approver: string): Promise<void> {
    return this.write(() => {
      this.sql('DELETE FROM console_sessions WHERE approver = ?').run(approver);
    });
  }

  putOidcFlow(stateHash: string, flow: string, expiresAt: Date, now: Date, max: number): Promise<boolean> {
    return this.write(() => {
      this.sql('DELETE FROM oidc_flows WHERE expires_at <= ?').run(now.getTime());
      const n = this.sql<[], { n: number }>('SELECT count(*) AS n FROM oidc_flows').get()?.n ?? 0;
      if (n >= max) return false;
      this.sql('INSERT INTO oidc_flows (state_hash, flow, expires_at) VALUES (?, ?, ?)').run(
        stateHash,
        flow,
        expiresAt.getTime(),
      );
      return true;
    });
  }

  takeOidcFlow(stateHash: string, now: Date): Promise<string | undefined> {
    return this.write(() => {
      const r = this.sql<[string, number], { flow: string }>(
        'SELECT flow FROM oidc_flows WHERE state_hash = ? AND expires_at > ?',
      ).get(stateHash, now.getTime());
      this.sql('DELETE FROM oidc_flows WHERE state_hash = ?').run(stateHash);
      return r?.flow;
    });
  }

  signInFailed(name: string, now: Date, windowMs: number): Promise<number> {
    const t = now.getTime();
    return this.write(() => {
      // A window that has passed starts again at this failure.
      this.sql(
        `INSERT INTO sign_in_failures (name, count, since) VALUES (?, 1, ?)
           ON CONFLICT (name) DO UPDATE SET
             count = CASE WHEN since > ? THEN count + 1 ELSE 1 END,
             since = CASE WHEN since > ? THEN since ELSE excluded.since END`,
      ).run(name, t, t - windowMs, t - windowMs);
      return this.failures(name, t, windowMs);
    });
  }

  async signInFailures(name: string, now: Date, windowMs: number): Promise<number> {
    return this.failures(name, now.getTime(), windowMs);
  }

  signInSucceeded(name: string): Promise<void> {
    return this.write(() => {
      this.sql('DELETE FROM sign_in_failures WHERE name = ?').run(name);
    });
  }

  putCancelKey(k: CancelKeyRecord): Promise<boolean> {
    return this.write(
      () =>
        this.sql('INSERT OR IGNORE INTO cancel_keys (pid, secret_hash, owner) VALUES (?, ?, ?)').run(
          k.pid,
          k.secretHash,
          k.owner,
        ).changes === 1,
    );
  }

  dropCancelKey(pid: number): Promise<void> {
    return this.write(() => {
      this.sql('DELETE FROM cancel_keys WHERE pid = ?').run(pid);
    });
  }

  requestCancel(pid: number, secretHash: string): Promise<string | undefined> {
    return this.write(() => {
      const r = this.sql<[number, string], { owner: string }>(
        'SELECT owner FROM cancel_keys WHERE pid = ? AND secret_hash = ?',
      ).get(pid, secretHash);
      if (r === undefined) return undefined;
      this.sql('UPDATE cancel_keys SET requested = 1 WHERE pid = ?').run(pid);
      return r.owner;
    });
  }

  async takeCancels(owner: string): Promise<number[]> {
    // A read first: the owner polls, and most polls find nothing to take.
    const marked = this.sql<[string], { pid: number }>(
      'SELECT pid FROM cancel_keys WHERE owner = ? AND requested = 1',
    ).all(owner);
    if (marked.length === 0) return [];
    return this.write(() => {
      const pids = this.sql<[string], { pid: number }>(
        'SELECT pid FROM cancel_keys WHERE owner = ? AND requested = 1',
      )
        .all(owner)
        .map((r) => r.pid);
      this.sql('UPDATE cancel_keys SET requested = 0 WHERE owner = ? AND requested = 1').run(owner);
      return pids;
    });
  }

  tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const t = now.getTime();
    return this.write(() => {
      this.sql(
        `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
      ).run(name, holder, t + ttlMs, t);
      const r = this.sql<[string], { holder: string }>('SELECT holder FROM leases WHERE name = ?').get(name);
      return r?.holder === holder;
    });
  }

  sweep(now: Date): Promise<void> {
    const t = now.getTime();
    return this.write(() => {
      this.sql('DELETE FROM console_sessions WHERE expires_at <= ?').run(t);
      this.sql('DELETE FROM oidc_flows WHERE expires_at <= ?').run(t);
      this.sql('DELETE FROM sign_in_failures WHERE since <= ?').run(t - THROTTLE_KEEP_MS);
      this.sql('DELETE FROM leases WHERE expires_at <= ?').run(t);
      // Keys of a process that is gone (its `process:` lease lapsed, e.g. after kill -9).
      this.sql(
        `DELETE FROM cancel_keys WHERE NOT EXISTS
           (SELECT 1 FROM leases WHERE name = 'process:' || cancel_keys.owner AND expires_at > ?)`,
      ).run(t);
    });
  }

  private failures(name: string, t: number, windowMs: number): number {
    const r = this.sql<[string, number], { count: number }>(
      'SELECT count FROM sign_in_failures WHERE name = ? AND since > ?',
    ).get(name, t - windowMs);
    return r?.count ?? 0;
  }
}
