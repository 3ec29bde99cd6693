import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type {
  ActionRecord,
  ActionResult,
  Approval,
  ApprovalStatus,
  DecisionRecord,
  Grant,
} from '../../core/types.js';
import { GroupCommit } from '../group-commit.js';
import type { ChainHead } from '../hash-chain.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { ssoSource } from '../sql-rows.js';
import {
  type LedgerEntry,
  type McpToolAccepted,
  type Store,
  StoreConflict,
  type StoredAgent,
  type StoredApprover,
  StoreFault,
  type StoreHealth,
  type VerifyResult,
  type WebhookAttempt,
  type WebhookDelivery,
} from '../store.js';
import * as approvals from './approval-tables.js';
import * as grants from './grant-tables.js';
import * as identities from './identity-tables.js';
import { ReadCache } from './read-cache.js';
import { applyPragmas, migrate } from './schema.js';
import { type LedgerFilter, SqliteLedger } from './sqlite-ledger.js';
import { type Sql, statementCache } from './statement-cache.js';
import { BusyAwareFault, conflictOf, fileId, isBusyFault } from './store-faults.js';
import { WalSync } from './wal-sync.js';
import * as webhooks from './webhook-tables.js';

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

export class SqliteStore implements Store {
  private readonly ledgerTable: SqliteLedger;
  /** Action rows, intents and outcomes: one queue, so the chain keeps their order. */
  private readonly actions: GroupCommit<NewEntry>;
  private readonly sql: Sql;
  private readonly cache: ReadCache;
  private readonly openedFile: string | undefined;
  /** Makes commits durable off the event loop (wal-sync.ts); none for ':memory:'. */
  private readonly walSync: WalSync | undefined;
  private healthState: StoreHealth = { ok: true };
  private lastProbe = Number.NEGATIVE_INFINITY;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    ledgerKey: Buffer,
    groupCommitMs: number,
    private readonly path: string,
    private readonly lockWaitMs: number,
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
    this.actions = new GroupCommit((batch) => this.tx(() => this.ledgerTable.append(batch)), {
      delayMs: groupCommitMs,
      maxBatch: MAX_ACTION_BATCH,
      retryable: isBusyFault,
      retryForMs: lockWaitMs,
      onCommit,
      durable: this.walSync === undefined ? undefined : () => this.durable(),
    });
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    if (opts.ledgerKey.length !== 32) throw new Error('ledgerKey must be 32 bytes');
    const db = new Database(opts.path);
    try {
      applyPragmas(db);
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    // Migrations above may wait on SQLite's own busy timeout (startup only); from here on
    // a held lock is waited for off the event loop (writeWith, GroupCommit).
    db.pragma('busy_timeout = 0');
    return new SqliteStore(
      db,
      opts.ledgerKey,
      opts.groupCommitMs ?? 20,
      opts.path,
      opts.lockWaitMs ?? 2000,
      opts.onCommit,
    );
  }

  // Agents

  async createAgent(a: StoredAgent): Promise<void> {
    await this.write(() => identities.insertAgent(this.sql, a));
  }

  async agentByAccessKey(accessKeyId: string): Promise<StoredAgent | undefined> {
    return this.cache.get(`key:${accessKeyId}`, () =>
      frozen(identities.agentByAccessKey(this.sql, accessKeyId)),
    );
  }

  async agentByName(name: string): Promise<StoredAgent | undefined> {
    return this.cache.get(`name:${name}`, () => frozen(identities.agentByName(this.sql, name)));
  }

  async listAgents(): Promise<StoredAgent[]> {
    return identities.listAgents(this.sql);
  }

  async revokeAgent(name: string, at: Date): Promise<boolean> {
    return this.writeWith(() => identities.revokeAgent(this.sql, name, at));
  }

  // Approvers

  async createApprover(a: StoredApprover): Promise<void> {
    await this.write(() => identities.insertApprover(this.sql, a));
  }

  async approverByTokenHash(tokenHash: string): Promise<StoredApprover | undefined> {
    return identities.approverByTokenHash(this.sql, tokenHash);
  }

  async listApprovers(): Promise<StoredApprover[]> {
    return identities.listApprovers(this.sql);
  }

  async approverByName(name: string): Promise<StoredApprover | undefined> {
    return identities.approverByName(this.sql, name);
  }

  async setApproverPassword(name: string, passwordHash: string, at: Date): Promise<boolean> {
    return this.writeWith(() => identities.setApproverPassword(this.sql, name, passwordHash, at));
  }

  async upsertSsoApprover(
    name: string,
    groups: readonly string[],
    at: Date,
    subject: string,
  ): Promise<StoredApprover> {
    // Bind the name to the first subject that claims it and refuse any other.
    const bound = ssoSource(subject);
    return this.writeWith(() => identities.upsertSsoApprover(this.sql, name, groups, at, bound));
  }

  // Approvals

  async createApproval(a: Approval): Promise<void> {
    await this.write(() => approvals.insertApproval(this.sql, a));
  }

  async openApproval(a: Approval, fingerprint: string): Promise<Approval> {
    return this.writeWith(() => approvals.openApproval(this.sql, a, fingerprint));
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    return approvals.getApproval(this.sql, id);
  }

  async listApprovals(filter: { status?: ApprovalStatus }): Promise<Approval[]> {
    return approvals.listApprovals(this.sql, filter);
  }

  async markShown(approvalId: string, approver: string, at: Date): Promise<Date> {
    return this.writeWith(() => approvals.markShown(this.sql, approvalId, approver, at));
  }

  async shownAt(approvalId: string, approver: string): Promise<Date | undefined> {
    return approvals.firstShown(this.sql, approvalId, approver);
  }

  async decisions(approvalId: string): Promise<DecisionRecord[]> {
    return approvals.decisions(this.sql, approvalId);
  }

  async recordDecision(
    d: DecisionRecord,
    resolve?: { status: 'approved' | 'denied'; grant?: Grant; countedApprovers?: readonly string[] },
  ): Promise<void> {
    await this.write(() => approvals.recordDecision(this.sql, d, resolve));
  }

  async expireApprovals(now: Date): Promise<string[]> {
    return this.writeWith(() => approvals.expireApprovals(this.sql, now));
  }

  // Grants

  async getGrant(id: string): Promise<Grant | undefined> {
    return grants.getGrant(this.sql, id);
  }

  async listGrants(filter: { agent?: string; activeAt?: Date }): Promise<Grant[]> {
    return grants.listGrants(this.sql, filter);
  }

  async activeGrants(agent: string, now: Date): Promise<Grant[]> {
    // Cached: the grants active at `since`. Time only ends grants (any other change is a
    // write, which drops the cache), so for a later `now` the ones not yet expired remain.
    const cached = this.cache.get(`grants:${agent}`, () => {
      const list = grants.listGrants(this.sql, { agent, activeAt: now }).map((g) => frozen(g));
      return { since: now.getTime(), list: Object.freeze(list) };
    });
    if (now.getTime() < cached.since) return grants.listGrants(this.sql, { agent, activeAt: now });
    return cached.list.filter((g) => g.expiresAt.getTime() > now.getTime());
  }

  async useGrant(id: string, now: Date): Promise<boolean> {
    return this.writeWith(() => ({ result: grants.useGrant(this.sql, id, now), entries: [] }));
  }

  async revokeGrant(id: string, by: string, at: Date): Promise<boolean> {
    return this.writeWith(() => grants.revokeGrant(this.sql, id, by, at));
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

  // Checkpoints and approver lifecycle (issue 11)

  async head(): Promise<ChainHead> {
    this.actions.flush();
    return this.ledgerTable.last();
  }

  async entryAt(seq: number): Promise<LedgerEntry | undefined> {
    this.actions.flush();
    return this.ledgerTable.at(seq);
  }

  async approverEntries(): Promise<LedgerEntry[]> {
    this.actions.flush();
    return this.ledgerTable.ofKinds(['approver.created', 'approver.updated', 'approver.revoked']);
  }

  async revokeApprover(name: string, at: Date): Promise<boolean> {
    return this.writeWith(() => identities.revokeApprover(this.sql, name, at));
  }

  async setApproverGroups(name: string, groups: readonly string[], at: Date): Promise<boolean> {
    return this.writeWith(() => identities.setApproverGroups(this.sql, name, groups, at));
  }

  async rotateApproverToken(name: string, tokenHash: string, at: Date): Promise<boolean> {
    return this.writeWith(() => identities.rotateApproverToken(this.sql, name, tokenHash, at));
  }

  // Slack identity and the webhook outbox

  async linkApproverSlack(name: string, slackUserId: string, at: Date): Promise<boolean> {
    return this.writeWith(() => identities.linkApproverSlack(this.sql, name, slackUserId, at));
  }

  async approverBySlackUser(slackUserId: string): Promise<StoredApprover | undefined> {
    return identities.approverBySlackUser(this.sql, slackUserId);
  }

  async webhookCursor(): Promise<number | undefined> {
    return webhooks.webhookCursor(this.sql);
  }

  async enqueueWebhookDeliveries(deliveries: readonly WebhookDelivery[], throughSeq: number): Promise<void> {
    await this.write(() => {
      webhooks.enqueue(this.sql, deliveries, throughSeq);
      return [];
    });
  }

  async webhookDeliveries(filter: { due?: Date; limit: number }): Promise<WebhookDelivery[]> {
    return webhooks.deliveries(this.sql, filter);
  }

  async recordWebhookAttempt(id: string, attempt: WebhookAttempt): Promise<void> {
    await this.write(() => {
      webhooks.recordAttempt(this.sql, id, attempt);
      return [];
    });
  }

  // MCP tool definitions

  async recordMcpToolAccepted(a: McpToolAccepted): Promise<void> {
    await this.write(() => [entry.mcpToolAccepted(a)]);
  }

  // Internals

  /** Runs `fn` in an IMMEDIATE transaction and appends the ledger entries it returns. */
  private async write(fn: () => NewEntry[]): Promise<void> {
    await this.writeWith(() => ({ result: undefined, entries: fn() }));
  }

  /**
   * As `write`, for changes that also return a result. A write lock held by another
   * process is waited for off the event loop, up to lockWaitMs.
   */
  private async writeWith<R>(fn: () => { result: R; entries: NewEntry[] }): Promise<R> {
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
  private tx<R>(fn: () => R): R {
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
  private checkFile(): void {
    if (this.openedFile === undefined) return;
    const now = fileId(this.path);
    if (now === this.openedFile) return;
    const problem = `the store file ${this.path} was ${now === 'missing' ? 'deleted' : 'replaced'} while open; restart Airlock on a restored data directory`;
    if (this.healthState.ok || this.healthState.problem !== problem)
      this.healthState = { ok: false, problem, since: new Date() };
  }
}

/** Cached rows are shared between callers: none of them may change one. */
function frozen<T>(value: T): T {
  return value === undefined ? value : Object.freeze(value);
}
