import type { Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import * as entry from '../ledger-entries.js';
import { ssoSource } from '../sql-rows.js';
import {
  type McpToolAccepted,
  type Store,
  type StoredAgent,
  type StoredApprover,
  StoreFault,
  type WebhookAttempt,
  type WebhookDelivery,
} from '../store.js';
import * as approvals from './approval-tables.js';
import * as grants from './grant-tables.js';
import * as identities from './identity-tables.js';
import { PostgresStoreCore, type PostgresStoreOptions } from './pg-store-core.js';
import * as webhooks from './webhook-tables.js';

export type { PostgresStoreOptions } from './pg-store-core.js';

export class PostgresStore extends PostgresStoreCore implements Store {
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
}
