/**
 * The write path of PostgresStore: one transaction per write under the locked chain head,
 * action rows group-committed through one queue, the schema check at open, health, and how
 * database errors become StoreFault / StoreConflict (pg-store.ts has the queries).
 */
import type pg from 'pg';
import type { ActionRecord, ActionResult } from '../../core/types.js';
import type { ChainHead } from '../hash-chain.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import {
  type LedgerEntry,
  StoreConflict,
  StoreFault,
  type StoreHealth,
  type VerifyResult,
} from '../store.js';
import { ApprovalListener } from './approval-listener.js';
import { PgCoordination } from './coordination-tables.js';
import * as ledger from './pg-ledger.js';
import { openPool, type PgConnection, type Sql, sqlOf } from './pool.js';
import { checkSchema, migrate } from './schema.js';
import { WriteQueue } from './write-queue.js';

export interface PostgresStoreOptions {
  readonly connection: PgConnection;
  /** 32-byte HMAC key for the ledger chain. */
  readonly ledgerKey: Buffer;
  /** How long an outcome or refusal may wait to share a commit. Default 20. */
  readonly groupCommitMs?: number;
  /** How long a write waits for the chain head another replica holds. Default 2000. */
  readonly lockWaitMs?: number;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /**
   * 'apply' (default): apply missing migrations at open, under the advisory lock;
   * 'check': refuse a database not at exactly this build's schema.
   */
  readonly migrations?: 'apply' | 'check';
}

/** A batch this large is written at once rather than waiting for the timer. */
const MAX_ACTION_BATCH = 256;

type Changed<R> = { result: R; entries: NewEntry[] };

export abstract class PostgresStoreCore {
  readonly coordination = new PgCoordination((fn) => {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.read(fn);
  });
  protected readonly pool: pg.Pool;
  protected readonly key: Buffer;
  protected readonly ready: Promise<void>;
  protected readonly listener: ApprovalListener;
  /** This process's writes, one transaction at a time in call order; actions group-committed. */
  protected readonly queue: WriteQueue;
  protected healthState: StoreHealth = { ok: true };
  private lastProbe = Number.NEGATIVE_INFINITY;
  /** One probe at a time: against an unreachable server each takes up to the connect timeout. */
  private probing = false;
  protected closed = false;

  protected constructor(opts: PostgresStoreOptions) {
    if (opts.ledgerKey.length !== 32) throw new Error('ledgerKey must be 32 bytes');
    this.key = opts.ledgerKey;
    this.pool = openPool(opts.connection, {
      max: opts.poolSize ?? 10,
      lockWaitMs: opts.lockWaitMs ?? 2000,
      onError: (err) => this.failed(err),
    });
    this.listener = new ApprovalListener(opts.connection);
    this.queue = new WriteQueue(
      (items) => this.tx(async () => ({ result: undefined, entries: [...items] })),
      {
        delayMs: opts.groupCommitMs ?? 20,
        maxBatch: MAX_ACTION_BATCH,
      },
    );
    const schema =
      opts.migrations === 'check' ? checkSchema(this.pool) : migrate(this.pool).then(() => undefined);
    this.ready = schema.catch((err: unknown) => {
      const fault = new StoreFault(`the PostgreSQL store cannot be opened: ${messageOf(err)}`, {
        cause: err,
      });
      this.healthState = { ok: false, problem: fault.message, since: new Date() };
      throw fault;
    });
    this.ready.catch(() => undefined); // reported by every call (and health) instead
  }

  // Ledger

  recordAction(action: ActionRecord): Promise<void> {
    return this.queueAction(entry.actionTaken(action), false);
  }

  recordIntent(action: ActionRecord): Promise<void> {
    return this.queueAction(entry.actionTaken({ ...action, phase: 'intent' }), true);
  }

  recordOutcome(result: ActionResult): Promise<void> {
    return this.queueAction(entry.actionOutcome(result), false);
  }

  async checkWritable(): Promise<void> {
    await this.write(async (sql) => {
      await sql('UPDATE ledger_head SET seq = seq WHERE id = 1');
      return { result: undefined, entries: [] };
    });
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, problem: 'store is closed', since: new Date() };
    // Without traffic a failed store would stay failed: probe (at most once a second)
    // so /readyz turns ready by itself when PostgreSQL is back.
    if (!this.healthState.ok && !this.probing && performance.now() - this.lastProbe > 1000) {
      this.lastProbe = performance.now();
      this.probing = true;
      this.checkWritable()
        .catch(() => undefined)
        .finally(() => {
          this.probing = false;
        });
    }
    return this.healthState;
  }

  async ledger(filter: ledger.LedgerFilter): Promise<LedgerEntry[]> {
    await this.settled();
    return this.read((sql) => ledger.entries(sql, filter));
  }

  async verify(): Promise<VerifyResult> {
    await this.settled();
    return this.read(() => ledger.verify(this.pool, this.key));
  }

  async head(): Promise<ChainHead> {
    await this.settled();
    return this.read((sql) => ledger.last(sql));
  }

  async entryAt(seq: number): Promise<LedgerEntry | undefined> {
    await this.settled();
    return this.read((sql) => ledger.at(sql, seq));
  }

  async approverEntries(): Promise<LedgerEntry[]> {
    await this.settled();
    return this.read((sql) =>
      ledger.ofKinds(sql, ['approver.created', 'approver.updated', 'approver.revoked']),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Queued actions (outcomes of forwarded requests) get their commit before the end.
    await this.settled();
    await this.listener.close();
    await this.pool.end().catch(() => undefined);
  }

  // Internals

  protected queueAction(e: NewEntry, urgent: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.queue.addAction(e, urgent);
  }

  /** Resolves once every write called before it has settled. */
  protected settled(): Promise<void> {
    return this.queue.settled();
  }

  /** A state change with its ledger entries; queued actions called earlier commit first. */
  protected write<R>(fn: (sql: Sql) => Promise<Changed<R>>): Promise<R> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.queue.run(() => this.tx(fn));
  }

  /** One transaction under the locked chain head; appends the entries `fn` returns. */
  protected async tx<R>(fn: (sql: Sql) => Promise<Changed<R>>): Promise<R> {
    await this.ready;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.failed(err);
    }
    let broken = false;
    try {
      const head = await ledger.beginLocked(client);
      const sql = sqlOf(client);
      const out = await fn(sql);
      await ledger.commitHead(client, head, await ledger.append(sql, this.key, head, out.entries));
      this.succeeded();
      return out.result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.classify(err);
    } finally {
      client.release(broken);
    }
  }

  /** A read on the pool; a failure to reach the database is a StoreFault. */
  protected async read<R>(fn: (sql: Sql) => Promise<R>): Promise<R> {
    await this.ready;
    try {
      return await fn(sqlOf(this.pool));
    } catch (err) {
      throw this.classify(err);
    }
  }

  /** A lost race stays a StoreConflict; anything the database said or failed to say is a StoreFault. */
  protected classify(err: unknown): Error {
    if (err instanceof StoreConflict || err instanceof StoreFault) return err;
    const code = (err as { code?: unknown }).code;
    if (code === '23505') return new StoreConflict(messageOf(err));
    // Our own checks (an unknown approval id) and bad data are the caller's problem, not the store's.
    if (code === undefined || (typeof code === 'string' && /^2[23]/.test(code))) {
      return err instanceof Error && code === undefined && !isConnectionError(err)
        ? err
        : new StoreFault(`the store refused the write: ${messageOf(err)}`, { cause: err });
    }
    return this.failed(err);
  }

  protected failed(err: unknown): StoreFault {
    const fault = new StoreFault(`the PostgreSQL store cannot write: ${messageOf(err)}`, { cause: err });
    if (this.healthState.ok) this.healthState = { ok: false, problem: fault.message, since: new Date() };
    return fault;
  }

  protected succeeded(): void {
    if (!this.healthState.ok) this.healthState = { ok: true };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** pg reports a lost or refused connection without a SQLSTATE. */
function isConnectionError(err: Error): boolean {
  return /connect|Connection terminated|timeout|ECONN|EPIPE|socket/i.test(err.message);
}
