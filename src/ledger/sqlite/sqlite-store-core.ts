/**
 * The write path of SqliteStore: every change is one IMMEDIATE transaction that appends its
 * ledger entries, and resolves only once it is on disk (the fsync runs on a worker thread,
 * wal-sync.ts); action rows are group-committed (an intent on the next event-loop turn);
 * a write lock held by another process is waited for off the event loop; a failing disk or
 * a deleted file turns health() red and every write into a StoreFault (fail closed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { ActionRecord, ActionResult } from '../../core/types.js';
import { GroupCommit } from '../group-commit.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import {
  type LedgerEntry,
  StoreConflict,
  StoreFault,
  type StoreHealth,
  type VerifyResult,
} from '../store.js';
import { SqliteCoordination } from './coordination-tables.js';
import { ReadCache } from './read-cache.js';
import { type LedgerFilter, SqliteLedger } from './sqlite-ledger.js';
import { type Sql, statementCache } from './statement-cache.js';
import { BusyAwareFault, conflictOf, fileId, isBusyFault } from './store-faults.js';
import { WalSync } from './wal-sync.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  readonly path: string;
  /** 32-byte HMAC key for the ledger chain. */
  readonly ledgerKey: Buffer;
  /**
   * How long an action record may wait for others to share its commit. Default 20: at
   * a thousand requests a second that is one durable commit (an fsync, on the event
   * loop) per ~20 records instead of one per ~2. Only refusals and outcomes wait for it:
   * an intent, which a request waits on, is written on the next event-loop turn.
   */
  readonly groupCommitMs?: number;
  /**
   * How long a write waits for a write lock another process holds, retrying off the
   * event loop (SQLite's own busy_timeout would block it), before it fails with
   * StoreFault. Default 2000.
   */
  readonly lockWaitMs?: number;
  /** Told of each group commit of action rows: batch size and write time (metrics). */
  readonly onCommit?: ((batchSize: number, ms: number) => void) | undefined;
}

/** A batch this large is written at once rather than waiting for the timer. */
const MAX_ACTION_BATCH = 256;

export abstract class SqliteStoreCore {
  readonly coordination: SqliteCoordination;
  protected readonly ledgerTable: SqliteLedger;
  /** Action rows, intents and outcomes: one queue, so the chain keeps their order. */
  protected readonly actions: GroupCommit<NewEntry>;
  protected readonly sql: Sql;
  protected readonly cache: ReadCache;
  protected readonly openedFile: string | undefined;
  /** Makes commits durable off the event loop (wal-sync.ts); none for ':memory:'. */
  private readonly walSync: WalSync | undefined;
  protected healthState: StoreHealth = { ok: true };
  private lastProbe = Number.NEGATIVE_INFINITY;
  protected closed = false;

  protected constructor(
    protected readonly db: Database.Database,
    ledgerKey: Buffer,
    groupCommitMs: number,
    protected readonly path: string,
    protected readonly lockWaitMs: number,
    onCommit: ((batchSize: number, ms: number) => void) | undefined,
  ) {
    this.sql = statementCache(db);
    this.cache = new ReadCache(db);
    this.ledgerTable = new SqliteLedger(db, ledgerKey);
    this.openedFile = fileId(path);
    this.walSync = this.openedFile === undefined ? undefined : new WalSync(path);
    if (this.walSync !== undefined) {
      db.pragma('synchronous = OFF');
      db.pragma('wal_autocheckpoint = 0');
    }
    this.coordination = new SqliteCoordination(this.sql, (fn) =>
      this.writeWith(() => ({ result: fn(), entries: [] })),
    );
    this.actions = new GroupCommit((batch) => this.tx(() => this.ledgerTable.append(batch)), {
      delayMs: groupCommitMs,
      maxBatch: MAX_ACTION_BATCH,
      retryable: isBusyFault,
      retryForMs: lockWaitMs,
      onCommit,
      durable: this.walSync === undefined ? undefined : () => this.durable(),
    });
  }

  // Ledger

  recordAction(action: ActionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.actions.add(entry.actionTaken(action));
  }

  recordIntent(action: ActionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.actions.add(entry.actionTaken({ ...action, phase: 'intent' }), true);
  }

  recordOutcome(result: ActionResult): Promise<void> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.actions.add(entry.actionOutcome(result));
  }

  async checkWritable(): Promise<void> {
    await this.writeWith(() => ({ result: this.touch(), entries: [] }));
  }

  /** A real write that changes nothing: SQLite writes the page to the WAL all the same. */
  private touch(): void {
    this.sql('UPDATE ledger_head SET seq = seq WHERE id = 1').run();
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, problem: 'store is closed', since: new Date() };
    const stopped = this.walSync?.stopped;
    if (stopped !== undefined)
      return { ok: false, problem: `the store cannot write: ${stopped}`, since: new Date() };
    this.checkFile();
    // A failing store heals when a write succeeds again; without traffic, probe for it (at
    // most once a second) so /readyz turns green by itself when space or access returns.
    if (!this.healthState.ok && performance.now() - this.lastProbe > 1000) {
      this.lastProbe = performance.now();
      try {
        this.tx(() => this.touch());
      } catch {
        /* still failing: tx recorded the problem */
      }
    }
    return this.healthState;
  }

  async ledger(filter: LedgerFilter): Promise<LedgerEntry[]> {
    this.actions.flush();
    return this.ledgerTable.entries(filter);
  }

  async verify(): Promise<VerifyResult> {
    this.actions.flush();
    return this.ledgerTable.verify();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Outcomes still queued (a held lock being retried) get their chance before the end.
    const deadline = performance.now() + this.lockWaitMs;
    while (!this.actions.flush() && performance.now() < deadline) await sleep(10);
    this.closed = true;
    await this.walSync?.close();
    // The last connection's closing checkpoint must fsync the database before the WAL goes.
    if (this.walSync !== undefined) this.db.pragma('synchronous = FULL');
    this.db.close();
  }

  // Internals

  /** Runs `fn` in an IMMEDIATE transaction and appends the ledger entries it returns. */
  protected async write(fn: () => NewEntry[]): Promise<void> {
    await this.writeWith(() => ({ result: undefined, entries: fn() }));
  }

  /**
   * As `write`, for changes that also return a result. A write lock held by another
   * process is waited for off the event loop, up to lockWaitMs.
   */
  protected async writeWith<R>(fn: () => { result: R; entries: NewEntry[] }): Promise<R> {
    const deadline = performance.now() + this.lockWaitMs;
    for (;;) {
      if (this.closed) throw new StoreFault('store is closed');
      // Queued actions happened before this call: commit them first to keep chain order.
      this.actions.flush();
      this.cache.invalidate();
      try {
        const result = this.tx(() => {
          const out = fn();
          this.ledgerTable.append(out.entries);
          return out.result;
        });
        await this.durable();
        return result;
      } catch (err) {
        if (!isBusyFault(err) || performance.now() >= deadline) throw err;
      }
      await sleep(10);
    }
  }

  /** Resolves once every commit so far is on disk (wal-sync.ts); a failure is a StoreFault. */
  private async durable(): Promise<void> {
    try {
      await this.walSync?.durable();
    } catch (err) {
      const problem = `the store cannot write: ${(err as Error).message}`;
      this.healthState = { ok: false, problem, since: new Date() };
      throw new StoreFault(problem, { cause: err });
    }
  }

  /** One IMMEDIATE transaction; every failure but a lost race becomes a StoreFault. */
  protected tx<R>(fn: () => R): R {
    this.checkFile();
    if (!this.healthState.ok && this.healthState.problem.startsWith('the store file'))
      throw new StoreFault(this.healthState.problem);
    try {
      const out = this.db.transaction(fn).immediate();
      if (!this.healthState.ok) this.healthState = { ok: true };
      return out;
    } catch (err) {
      const conflict = conflictOf(err);
      if (conflict instanceof StoreConflict) throw conflict;
      const fault = new BusyAwareFault(err);
      if (!fault.busy) this.healthState = { ok: false, problem: fault.message, since: new Date() };
      throw fault;
    }
  }

  /**
   * A data directory deleted (or the file replaced) while serving leaves SQLite writing to
   * an unlinked inode: every later write would vanish. Once seen, the store stays failed.
   */
  protected checkFile(): void {
    if (this.openedFile === undefined) return;
    const now = fileId(this.path);
    if (now === this.openedFile) return;
    const problem = `the store file ${this.path} was ${now === 'missing' ? 'deleted' : 'replaced'} while open; restart Airlock on a restored data directory`;
    if (this.healthState.ok || this.healthState.problem !== problem)
      this.healthState = { ok: false, problem, since: new Date() };
  }
}
