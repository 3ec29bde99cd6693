/**
 * The Store on one SQLite file (the embedded default): the queries, one table module per
 * concept (identity, approval, grant, webhook, coordination tables). How each write is made
 * durable, waits for a lock another process holds and fails closed is in sqlite-store-core.ts.
 */
import Database from 'better-sqlite3';
import type { Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import type { ChainHead } from '../hash-chain.js';
import * as entry from '../ledger-entries.js';
import { ssoSource } from '../sql-rows.js';
import type {
  LedgerEntry,
  McpToolAccepted,
  Store,
  StoredAgent,
  StoredApprover,
  WebhookAttempt,
  WebhookDelivery,
} from '../store.js';
import * as approvals from './approval-tables.js';
import * as grants from './grant-tables.js';
import * as identities from './identity-tables.js';
import { applyPragmas, migrate } from './schema.js';
import { SqliteStoreCore, type SqliteStoreOptions } from './sqlite-store-core.js';
import * as webhooks from './webhook-tables.js';

export type { SqliteStoreOptions } from './sqlite-store-core.js';

/** How often watchApprovals looks for other connections' commits (a WAL snapshot read, ~10 µs). */
const WATCH_MS = 50;

export class SqliteStore extends SqliteStoreCore implements Store {
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

  /**
   * Commits by other connections (another process's decision or expiry, a CLI approve),
   * seen within 50 ms by PRAGMA data_version, which moves on every commit by another
   * connection and never on this one's (https://www.sqlite.org/pragma.html#pragma_data_version).
   * It cannot say which approval changed: `fn(undefined)`, and the waiter reads the ones it waits on.
   */
  watchApprovals(fn: (approvalId: string | undefined) => void): () => void {
    const version = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    let last = version.get();
    const timer = setInterval(() => {
      if (this.closed) return clearInterval(timer);
      const now = version.get();
      if (now === last) return;
      last = now;
      fn(undefined);
    }, WATCH_MS);
    timer.unref();
    return () => clearInterval(timer);
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
}

/** Cached rows are shared between callers: none of them may change one. */
function frozen<T>(value: T): T {
  return value === undefined ? value : Object.freeze(value);
}
