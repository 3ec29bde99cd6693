/**
 * LISTEN for approvals leaving 'pending' on any replica (approval-tables.ts announces
 * them with NOTIFY in the deciding transaction), so a request held on this replica is
 * released as soon as the decision commits elsewhere instead of at the next poll
 * (https://www.postgresql.org/docs/current/sql-notify.html). One dedicated connection,
 * outside the pool; it reconnects after a failure. Notifications sent while it was
 * disconnected are lost: the waiter's polling (approvals/waiter.ts) still finds them.
 */
import pg from 'pg';
import { APPROVAL_CHANNEL } from './approval-tables.js';
import type { PgConnection } from './pool.js';

const RECONNECT_MS = 1000;

export class ApprovalListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(approvalId: string) => void>();

  constructor(private readonly conn: PgConnection) {}

  /** Calls `fn` with the id of each approval decided or expired; returns the unsubscribe. */
  watch(fn: (approvalId: string) => void): () => void {
    this.listeners.add(fn);
    if (this.client === undefined && this.retry === undefined) this.connect();
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private connect(): void {
    this.retry = undefined;
    if (this.closed) return;
    const c = new pg.Client({
      ...this.conn,
      ssl:
        this.conn.ssl === undefined
          ? undefined
          : { ca: this.conn.ssl.ca, rejectUnauthorized: true, servername: this.conn.ssl.servername },
      connectionTimeoutMillis: 2000,
      application_name: 'airlock-listen',
      keepAlive: true,
    });
    this.client = c;
    const lost = () => {
      if (this.client !== c) return;
      this.client = undefined;
      c.end().catch(() => undefined);
      if (!this.closed) this.retry = setTimeout(() => this.connect(), RECONNECT_MS);
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (n) => {
      if (n.channel !== APPROVAL_CHANNEL || n.payload === undefined) return;
      for (const fn of this.listeners) fn(n.payload);
    });
    c.connect()
      .then(() => c.query(`LISTEN ${APPROVAL_CHANNEL}`))
      .catch(lost);
  }
}
