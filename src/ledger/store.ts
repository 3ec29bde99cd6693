/**
 * The one store interface. The embedded default is SQLite (./sqlite/); a
 * PostgreSQL backend for multi-replica deployments implements the same surface.
 *
 * Two kinds of data live behind it:
 *  - state (agents, approvers, approvals, grants) that the gateway reads on the hot path;
 *  - the ledger: an append-only, hash-chained log of every fact (action, approval
 *    requested, decision, grant issued/revoked, ...). `audit show` and `audit verify`
 *    read only the ledger, so what is shown is what is proven intact.
 * Every state change that matters for the record is written together with its ledger
 * entry in one transaction.
 */

import type {
  ActionRecord,
  ActionResult,
  Agent,
  Approval,
  ApprovalStatus,
  Approver,
  DecisionRecord,
  Grant,
} from '../core/types.js';
import type { Coordination } from './coordination.js';
import type { ChainHead } from './hash-chain.js';

export type LedgerKind =
  | 'agent.created'
  | 'agent.revoked'
  | 'approver.created'
  | 'approver.revoked'
  | 'approver.updated'
  | 'approval.requested'
  | 'approval.shown'
  | 'approval.decided'
  | 'approval.resolved'
  | 'grant.issued'
  | 'grant.revoked'
  | 'action'
  | 'action.outcome'
  | 'mcp.tool.accepted';

export interface LedgerEntry {
  readonly seq: number;
  readonly at: Date;
  readonly kind: LedgerKind;
  readonly agent: string | undefined;
  readonly approvalId: string | undefined;
  readonly grantId: string | undefined;
  /** JSON body, exactly as hashed. */
  readonly body: string;
  readonly prevHash: string;
  readonly hash: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | {
      readonly ok: false;
      readonly entries: number;
      /** seq of the first entry that does not verify (or where one is missing). */
      readonly firstBadSeq: number;
      readonly problem: 'edited' | 'deleted' | 'reordered' | 'truncated';
      readonly detail: string;
    };

/**
 * An operator accepted a changed MCP tool definition (`airlock mcp accept`, docs/MCP.md,
 * "Pinned tool definitions"): the pin moved from `oldHash` to `newHash`.
 */
export interface McpToolAccepted {
  readonly server: string;
  readonly tool: string;
  /** sha256 of the definition pinned before. */
  readonly oldHash: string;
  /** sha256 of the definition accepted. */
  readonly newHash: string;
  /** Who ran the command (the operating-system user on the host). */
  readonly by: string;
  readonly at: Date;
}

export interface StoredAgent extends Agent {
  /** AES-256-GCM sealed secret (see core/secrets.ts); never logged. */
  readonly sealedSecret: string;
}

export interface StoredApprover extends Approver {
  /** sha256 of the bearer token; the token itself is never stored. */
  readonly tokenHash: string;
  /** scrypt hash for console sign-in (api/passwords.ts); absent: no password set. */
  readonly passwordHash?: string;
  /** 'oidc' for approvers provisioned by SSO sign-in; absent means a local approver. */
  readonly source?: 'oidc';
  /** Slack user id linked with `airlock approvers link` (channels/slack/); absent: none. */
  readonly slackUser?: string;
}

export interface Store {
  /** State processes sharing this store see alike (sessions, throttle, cancel keys, leases). */
  readonly coordination: Coordination;

  // Agents
  createAgent(agent: StoredAgent): Promise<void>;
  agentByAccessKey(accessKeyId: string): Promise<StoredAgent | undefined>;
  agentByName(name: string): Promise<StoredAgent | undefined>;
  listAgents(): Promise<StoredAgent[]>;
  /** Returns false when no active agent has that name. */
  revokeAgent(name: string, at: Date): Promise<boolean>;

  // Approvers
  createApprover(approver: StoredApprover): Promise<void>;
  approverByTokenHash(tokenHash: string): Promise<StoredApprover | undefined>;
  listApprovers(): Promise<StoredApprover[]>;
  approverByName(name: string): Promise<StoredApprover | undefined>;
  /** Sets a local approver's console password hash; false when no active local approver has that name. */
  setApproverPassword(name: string, passwordHash: string, at: Date): Promise<boolean>;
  /**
   * Creates or updates an approver provisioned by SSO with the groups its identity
   * provider asserted at sign-in. Rejects with StoreConflict if `name` is a local approver.
   */
  /** Creates or refreshes an SSO approver; the name stays bound to the first `subject` (OIDC `sub`) that used it. */
  upsertSsoApprover(
    name: string,
    groups: readonly string[],
    at: Date,
    subject: string,
  ): Promise<StoredApprover>;

  // Approvals
  createApproval(approval: Approval): Promise<void>;
  /**
   * Retry dedupe: returns the pending, unexpired approval opened with the same
   * `fingerprint`, or creates `approval` (checked and written in one transaction).
   */
  openApproval(approval: Approval, fingerprint: string): Promise<Approval>;
  getApproval(id: string): Promise<Approval | undefined>;
  listApprovals(filter: { status?: ApprovalStatus }): Promise<Approval[]>;
  /** Records the first time `approver` was shown the detail; returns that first time. */
  markShown(approvalId: string, approver: string, at: Date): Promise<Date>;
  shownAt(approvalId: string, approver: string): Promise<Date | undefined>;
  decisions(approvalId: string): Promise<DecisionRecord[]>;
  /**
   * Appends a decision; if `resolve` is given, atomically moves the approval from
   * pending to that status (and issues `grant` if approved). Rejects with
   * StoreConflict when the approval is no longer pending or the approver already decided,
   * or when the deciding approver or one in `countedApprovers` (the votes that made
   * quorum) is revoked by the time the transaction runs.
   */
  recordDecision(
    decision: DecisionRecord,
    resolve?: { status: 'approved' | 'denied'; grant?: Grant; countedApprovers?: readonly string[] },
  ): Promise<void>;
  /** Moves pending approvals whose expiresAt <= now to 'expired'; returns their ids. */
  expireApprovals(now: Date): Promise<string[]>;
  /**
   * Optional: tells `fn` as soon as another process sharing the store commits a change that
   * may decide or expire an approval: with its id (PostgreSQL: LISTEN/NOTIFY), or with
   * undefined when the store cannot say which (SQLite: another connection committed, seen
   * by PRAGMA data_version); returns the unsubscribe. Best effort: waiters keep polling.
   */
  watchApprovals?(fn: (approvalId: string | undefined) => void): () => void;

  // Grants
  getGrant(id: string): Promise<Grant | undefined>;
  listGrants(filter: { agent?: string; activeAt?: Date }): Promise<Grant[]>;
  /** Active (not revoked, not expired, uses left) grants of an agent at `now`. */
  activeGrants(agent: string, now: Date): Promise<Grant[]>;
  /** Counts one use; false if the grant was exhausted/revoked/expired meanwhile. */
  useGrant(id: string, now: Date): Promise<boolean>;
  revokeGrant(id: string, by: string, at: Date): Promise<boolean>;

  // Ledger
  /**
   * Appends a complete action row (a refusal: nothing was forwarded). Group-committed:
   * resolves once durable.
   */
  recordAction(action: ActionRecord): Promise<void>;
  /**
   * Appends the intent of a request about to be forwarded (`phase: 'intent'`). Resolves
   * only once durable, on the next commit (not the group-commit timer); rejects with
   * StoreFault when it cannot be made durable, and then the request must not be sent.
   */
  recordIntent(action: ActionRecord): Promise<void>;
  /** Appends what happened to a forwarded request (group-committed). */
  recordOutcome(result: ActionResult): Promise<void>;
  /** The store's own view of whether it can write (for /readyz and fail-closed checks). */
  health(): StoreHealth;
  /** Proves the store can write now (a startup check); rejects with StoreFault saying why not. */
  checkWritable(): Promise<void>;
  ledger(filter: { approvalId?: string; grantId?: string; agent?: string }): Promise<LedgerEntry[]>;
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;

  // Checkpoints and approver lifecycle (issue 11; checkpoint-check.ts, approver-state.ts)
  /** The last entry actually in the ledger once queued actions are committed; {0, GENESIS_HASH} when empty. */
  head(): Promise<ChainHead>;
  entryAt(seq: number): Promise<LedgerEntry | undefined>;
  /** Every approver.* entry in seq order (approver-state.ts replays them). */
  approverEntries(): Promise<LedgerEntry[]>;
  /** Returns false when no active approver has that name. */
  revokeApprover(name: string, at: Date): Promise<boolean>;
  /** Replaces a local approver's groups; false when no active local approver has that name. */
  setApproverGroups(name: string, groups: readonly string[], at: Date): Promise<boolean>;
  /** Replaces a local approver's token hash (the old token stops at once); false as above. */
  rotateApproverToken(name: string, tokenHash: string, at: Date): Promise<boolean>;

  // Slack identity and the webhook outbox (issue 15; channels/slack/, channels/webhooks/)
  /**
   * Links an active approver to a Slack user id (recorded as approver.updated, change
   * 'slack-linked'); false when no active approver has that name. Rejects with StoreConflict
   * when that Slack user is already linked to another approver.
   */
  linkApproverSlack(name: string, slackUserId: string, at: Date): Promise<boolean>;
  /** The approver (active or revoked) linked to that Slack user id. */
  approverBySlackUser(slackUserId: string): Promise<StoredApprover | undefined>;
  /** Ledger seq up to which entries were turned into deliveries; undefined before the first run. */
  webhookCursor(): Promise<number | undefined>;
  /**
   * Adds deliveries (ignoring ids already present) and moves the cursor to `throughSeq`,
   * in one transaction, so a crash between them cannot lose or double an event.
   */
  enqueueWebhookDeliveries(deliveries: readonly WebhookDelivery[], throughSeq: number): Promise<void>;
  /** `due`: pending deliveries whose nextAttemptAt <= due, oldest first; otherwise the newest. */
  webhookDeliveries(filter: { readonly due?: Date; readonly limit: number }): Promise<WebhookDelivery[]>;
  /** Records one attempt's result and what happens next (the next try, delivered or failed). */
  recordWebhookAttempt(id: string, attempt: WebhookAttempt): Promise<void>;

  // MCP tool definitions (docs/MCP.md, "Pinned tool definitions")
  /** Appends an `mcp.tool.accepted` entry (committed at once, not group-committed). */
  recordMcpToolAccepted(accepted: McpToolAccepted): Promise<void>;
}

/** One event for one endpoint, kept until delivered or given up on. */
export interface WebhookDelivery {
  /** Idempotency id (Standard Webhooks `webhook-id`): the same on every retry. */
  readonly id: string;
  readonly url: string;
  readonly event: string;
  /** The JSON body sent, exactly as signed. */
  readonly payload: string;
  readonly createdAt: Date;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  readonly deliveredAt: Date | undefined;
}

export interface WebhookAttempt {
  readonly at: Date;
  readonly status: 'pending' | 'delivered' | 'failed';
  /** HTTP status of the answer (undefined: no answer). */
  readonly httpStatus: number | undefined;
  readonly error: string | undefined;
  /** When status is 'pending': the next try. */
  readonly nextAttemptAt?: Date | undefined;
}

export type StoreHealth =
  | { readonly ok: true }
  | { readonly ok: false; readonly problem: string; readonly since: Date };

/**
 * A write the store could not make durable (full disk, read-only or deleted file, a
 * lock held past the wait, an I/O error). Callers fail closed on it.
 */
export class StoreFault extends Error {
  override readonly name = 'StoreFault';
}

/** Thrown when a write loses a race (already decided, duplicate name, ...). */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}
