/**
 * The embedded Store: one SQLite file (WAL) shared by the gateway and CLI commands.
 *
 * Every write is one IMMEDIATE transaction that changes state and appends its
 * ledger entries together; IMMEDIATE takes the write lock up front, so the
 * chain head read inside it cannot go stale before the append (another process
 * waits on busy_timeout). Actions are group-committed; any other write first
 * flushes queued actions, so the chain keeps call order.
 *
 * Methods are async only so a PostgreSQL backend fits the same interface.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ActionRecord, Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import { GroupCommit } from '../group-commit.js';
import type { ChainHead } from '../hash-chain.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import {
  type LedgerEntry,
  type Store,
  StoreConflict,
  type StoredAgent,
  type StoredApprover,
  type VerifyResult,
} from '../store.js';
import * as approvals from './approval-tables.js';
import * as grants from './grant-tables.js';
import * as identities from './identity-tables.js';
import { ReadCache } from './read-cache.js';
import { applyPragmas, migrate } from './schema.js';
import { type LedgerFilter, SqliteLedger } from './sqlite-ledger.js';
import { type Sql, statementCache } from './statement-cache.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  readonly path: string;
  /** 32-byte HMAC key for the ledger chain. */
  readonly ledgerKey: Buffer;
  /**
   * How long an action record may wait for others to share its commit. Default 20: at
   * a thousand requests a second that is one durable commit (an fsync, on the event
   * loop) per ~20 records instead of one per ~2. Nothing in a request's path waits for it.
   */
  readonly groupCommitMs?: number;
}

/** A batch this large is written at once rather than waiting for the timer. */
const MAX_ACTION_BATCH = 256;

export class SqliteStore implements Store {
  private readonly ledgerTable: SqliteLedger;
  private readonly actions: GroupCommit<ActionRecord>;
  private readonly sql: Sql;
  private readonly cache: ReadCache;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    ledgerKey: Buffer,
    groupCommitMs: number,
  ) {
    this.sql = statementCache(db);
    this.cache = new ReadCache(db);
    this.ledgerTable = new SqliteLedger(db, ledgerKey);
    this.actions = new GroupCommit(
      (batch) => this.tx(() => this.ledgerTable.append(batch.map(entry.actionTaken))),
      groupCommitMs,
      MAX_ACTION_BATCH,
    );
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
    return new SqliteStore(db, opts.ledgerKey, opts.groupCommitMs ?? 20);
  }

  // Agents

  async createAgent(a: StoredAgent): Promise<void> {
    this.write(() => identities.insertAgent(this.sql, a));
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
    this.write(() => identities.insertApprover(this.sql, a));
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
    // The approver name is derived from a claim and can fold two people together
    // (j.doe@, j-doe@); the provider's stable subject cannot. Bind the name to the
    // first subject that claims it and refuse any other.
    const bound = `oidc:${createHash('sha256').update(subject).digest('hex')}`;
    return this.writeWith(() => identities.upsertSsoApprover(this.sql, name, groups, at, bound));
  }

  // Approvals

  async createApproval(a: Approval): Promise<void> {
    this.write(() => approvals.insertApproval(this.sql, a));
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
    this.write(() => approvals.recordDecision(this.sql, d, resolve));
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
    this.cache.invalidate();
    return grants.useGrant(this.sql, id, now);
  }

  async revokeGrant(id: string, by: string, at: Date): Promise<boolean> {
    return this.writeWith(() => grants.revokeGrant(this.sql, id, by, at));
  }

  // Ledger

  recordAction(action: ActionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.actions.add(action);
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
    this.closed = true;
    this.actions.flush();
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

  // Internals

  /** Runs `fn` in an IMMEDIATE transaction and appends the ledger entries it returns. */
  private write(fn: () => NewEntry[]): void {
    this.writeWith(() => ({ result: undefined, entries: fn() }));
  }

  /** As `write`, for changes that also return a result. */
  private writeWith<R>(fn: () => { result: R; entries: NewEntry[] }): R {
    if (this.closed) throw new Error('store is closed');
    // Queued actions happened before this call: commit them first to keep chain order.
    this.actions.flush();
    this.cache.invalidate();
    return this.tx(() => {
      const out = fn();
      this.ledgerTable.append(out.entries);
      return out.result;
    });
  }

  private tx<R>(fn: () => R): R {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw conflictOf(err);
    }
  }
}

/** Cached rows are shared between callers: none of them may change one. */
function frozen<T>(value: T): T {
  return value === undefined ? value : Object.freeze(value);
}

/** Unique-key violations mean another writer got there first (duplicate name, key, ...). */
function conflictOf(err: unknown): unknown {
  if (err instanceof Database.SqliteError && /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(err.code)) {
    return new StoreConflict(err.message);
  }
  return err;
}
