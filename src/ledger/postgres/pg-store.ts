/**
 * The Store on PostgreSQL, for several Airlock replicas (and CLI processes) sharing one
 * database. The same contract as SqliteStore (test/support/store-contract.ts):
 *
 * - Every write is one READ COMMITTED transaction that first locks the chain head row
 *   (pg-ledger.ts beginLocked). That lock orders all writers of every replica, like
 *   SQLite's IMMEDIATE write lock does for processes sharing a file, so a check and the
 *   write it guards (retry dedupe, name clashes, a revoked approver) cannot race, and
 *   the ledger is one hash chain with a total order. A head held past `lockWaitMs`
 *   (lock_timeout) fails the write with StoreFault.
 * - Action rows are group-committed (one transaction per batch); an intent is written
 *   on the next event-loop turn, outcomes and refusals wait up to `groupCommitMs`. This
 *   process's writes go through one queue in call order, so the chain keeps it.
 * - No read cache: each per-request read (agent by key, active grants) is one indexed
 *   query, so a revocation committed through any replica is seen by the next request
 *   with no invalidation protocol to get wrong.
 * - Any failure to reach or write the database is a StoreFault (fail closed); health()
 *   reports it and probes once a second until PostgreSQL answers again.
 */
import type pg from 'pg';
import type {
  ActionRecord,
  ActionResult,
  Approval,
  ApprovalStatus,
  DecisionRecord,
  Grant,
} from '../../core/types.js';
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
import { ApprovalListener } from './approval-listener.js';
import * as approvals from './approval-tables.js';
import { PgCoordination } from './coordination-tables.js';
import * as grants from './grant-tables.js';
import * as identities from './identity-tables.js';
import * as ledger from './pg-ledger.js';
import { openPool, type PgConnection, type Sql, sqlOf } from './pool.js';
import { checkSchema, migrate } from './schema.js';
import * as webhooks from './webhook-tables.js';
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

export class PostgresStore implements Store {
  readonly coordination = new PgCoordination((fn) => {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.read(fn);
  });
  private readonly pool: pg.Pool;
  private readonly key: Buffer;
  private readonly ready: Promise<void>;
  private readonly listener: ApprovalListener;
  /** This process's writes, one transaction at a time in call order; actions group-committed. */
  private readonly queue: WriteQueue;
  private healthState: StoreHealth = { ok: true };
  private lastProbe = Number.NEGATIVE_INFINITY;
  /** One probe at a time: against an unreachable server each takes up to the connect timeout. */
  private probing = false;
  private closed = false;

  private constructor(opts: PostgresStoreOptions) {
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

  /** Opens at once; the schema check (or migration) runs in the background and every call waits for it. */
  static open(opts: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(opts);
  }

  /** Opens and waits for the schema: rejects on an unreachable database or an unknown schema. */
  static async connect(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const s = new PostgresStore(opts);
    try {
      await s.ready;
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  // Agents

  async createAgent(a: StoredAgent): Promise<void> {
    await this.write(async (sql) => ({ result: undefined, entries: await identities.insertAgent(sql, a) }));
  }

  agentByAccessKey(accessKeyId: string): Promise<StoredAgent | undefined> {
    return this.read((sql) => identities.agentByAccessKey(sql, accessKeyId));
  }

  agentByName(name: string): Promise<StoredAgent | undefined> {
    return this.read((sql) => identities.agentByName(sql, name));
  }

  listAgents(): Promise<StoredAgent[]> {
    return this.read((sql) => identities.listAgents(sql));
  }

  revokeAgent(name: string, at: Date): Promise<boolean> {
    return this.write((sql) => identities.revokeAgent(sql, name, at));
  }

  // Approvers

  async createApprover(a: StoredApprover): Promise<void> {
    await this.write(async (sql) => ({
      result: undefined,
      entries: await identities.insertApprover(sql, a),
    }));
  }

  approverByTokenHash(tokenHash: string): Promise<StoredApprover | undefined> {
    return this.read((sql) => identities.approverByTokenHash(sql, tokenHash));
  }

  listApprovers(): Promise<StoredApprover[]> {
    return this.read((sql) => identities.listApprovers(sql));
  }

  approverByName(name: string): Promise<StoredApprover | undefined> {
    return this.read((sql) => identities.approverByName(sql, name));
  }

  setApproverPassword(name: string, passwordHash: string, at: Date): Promise<boolean> {
    return this.write((sql) => identities.setApproverPassword(sql, name, passwordHash, at));
  }

  upsertSsoApprover(
    name: string,
    groups: readonly string[],
    at: Date,
    subject: string,
  ): Promise<StoredApprover> {
    return this.write((sql) => identities.upsertSsoApprover(sql, name, groups, at, ssoSource(subject)));
  }

  revokeApprover(name: string, at: Date): Promise<boolean> {
    return this.write((sql) => identities.revokeApprover(sql, name, at));
  }

  setApproverGroups(name: string, groups: readonly string[], at: Date): Promise<boolean> {
    return this.write((sql) => identities.setApproverGroups(sql, name, groups, at));
  }

  rotateApproverToken(name: string, tokenHash: string, at: Date): Promise<boolean> {
    return this.write((sql) => identities.rotateApproverToken(sql, name, tokenHash, at));
  }

  // Slack identity and the webhook outbox

  linkApproverSlack(name: string, slackUserId: string, at: Date): Promise<boolean> {
    return this.write((sql) => identities.linkApproverSlack(sql, name, slackUserId, at));
  }

  approverBySlackUser(slackUserId: string): Promise<StoredApprover | undefined> {
    return this.read((sql) => identities.approverBySlackUser(sql, slackUserId));
  }

  webhookCursor(): Promise<number | undefined> {
    return this.read((sql) => webhooks.webhookCursor(sql));
  }

  enqueueWebhookDeliveries(deliveries: readonly WebhookDelivery[], throughSeq: number): Promise<void> {
    return this.write(async (sql) => {
      await webhooks.enqueue(sql, deliveries, throughSeq);
      return { result: undefined, entries: [] };
    });
  }

  webhookDeliveries(filter: { due?: Date; limit: number }): Promise<WebhookDelivery[]> {
    return this.read((sql) => webhooks.deliveries(sql, filter));
  }

  recordWebhookAttempt(id: string, attempt: WebhookAttempt): Promise<void> {
    return this.write(async (sql) => {
      await webhooks.recordAttempt(sql, id, attempt);
      return { result: undefined, entries: [] };
    });
  }

  // MCP tool definitions

  recordMcpToolAccepted(a: McpToolAccepted): Promise<void> {
    return this.write(async () => ({ result: undefined, entries: [entry.mcpToolAccepted(a)] }));
  }

  // Approvals

  async createApproval(a: Approval): Promise<void> {
    await this.write(async (sql) => ({ result: undefined, entries: await approvals.insertApproval(sql, a) }));
  }

  openApproval(a: Approval, fingerprint: string): Promise<Approval> {
    return this.write((sql) => approvals.openApproval(sql, a, fingerprint));
  }

  getApproval(id: string): Promise<Approval | undefined> {
    return this.read((sql) => approvals.getApproval(sql, id));
  }

  listApprovals(filter: { status?: ApprovalStatus }): Promise<Approval[]> {
    return this.read((sql) => approvals.listApprovals(sql, filter));
  }

  markShown(approvalId: string, approver: string, at: Date): Promise<Date> {
    return this.write((sql) => approvals.markShown(sql, approvalId, approver, at));
  }

  shownAt(approvalId: string, approver: string): Promise<Date | undefined> {
    return this.read((sql) => approvals.firstShown(sql, approvalId, approver));
  }

  decisions(approvalId: string): Promise<DecisionRecord[]> {
    return this.read((sql) => approvals.decisions(sql, approvalId));
  }

  async recordDecision(
    d: DecisionRecord,
    resolve?: { status: 'approved' | 'denied'; grant?: Grant; countedApprovers?: readonly string[] },
  ): Promise<void> {
    await this.write(async (sql) => ({
      result: undefined,
      entries: await approvals.recordDecision(sql, d, resolve),
    }));
  }

  expireApprovals(now: Date): Promise<string[]> {
    return this.write((sql) => approvals.expireApprovals(sql, now));
  }

  /**
   * Calls `fn` with the id of every approval decided or expired through any replica, as
   * soon as that commits (LISTEN/NOTIFY); returns the unsubscribe. Best effort: a
   * notification sent while the listening connection was down is not repeated.
   */
  watchApprovals(fn: (approvalId: string) => void): () => void {
    return this.listener.watch(fn);
  }

  // Grants

  getGrant(id: string): Promise<Grant | undefined> {
    return this.read((sql) => grants.getGrant(sql, id));
  }

  listGrants(filter: { agent?: string; activeAt?: Date }): Promise<Grant[]> {
    return this.read((sql) => grants.listGrants(sql, filter));
  }

  activeGrants(agent: string, now: Date): Promise<Grant[]> {
    return this.read((sql) => grants.listGrants(sql, { agent, activeAt: now }));
  }

  /** Not queued behind other writes: one conditional UPDATE, atomic on its own, no ledger entry. */
  useGrant(id: string, now: Date): Promise<boolean> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.read((sql) => grants.useGrant(sql, id, now));
  }

  revokeGrant(id: string, by: string, at: Date): Promise<boolean> {
    return this.write((sql) => grants.revokeGrant(sql, id, by, at));
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

  private queueAction(e: NewEntry, urgent: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.queue.addAction(e, urgent);
  }

  /** Resolves once every write called before it has settled. */
  private settled(): Promise<void> {
    return this.queue.settled();
  }

  /** A state change with its ledger entries; queued actions called earlier commit first. */
  private write<R>(fn: (sql: Sql) => Promise<Changed<R>>): Promise<R> {
    if (this.closed) return Promise.reject(new StoreFault('store is closed'));
    return this.queue.run(() => this.tx(fn));
  }

  /** One transaction under the locked chain head; appends the entries `fn` returns. */
  private async tx<R>(fn: (sql: Sql) => Promise<Changed<R>>): Promise<R> {
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
  private async read<R>(fn: (sql: Sql) => Promise<R>): Promise<R> {
    await this.ready;
    try {
      return await fn(sqlOf(this.pool));
    } catch (err) {
      throw this.classify(err);
    }
  }

  /** A lost race stays a StoreConflict; anything the database said or failed to say is a StoreFault. */
  private classify(err: unknown): Error {
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

  private failed(err: unknown): StoreFault {
    const fault = new StoreFault(`the PostgreSQL store cannot write: ${messageOf(err)}`, { cause: err });
    if (this.healthState.ok) this.healthState = { ok: false, problem: fault.message, since: new Date() };
    return fault;
  }

  private succeeded(): void {
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
