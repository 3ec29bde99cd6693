/**
 * What each state change records in the ledger, shared by every backend so
 * they write identical entries. Bodies are built field by field: the ledger is
 * meant to be shown, so secrets (sealed agent secrets, approver token hashes)
 * must never reach it by spreading a stored record.
 */
import { createHash } from 'node:crypto';
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
import type { LedgerKind, McpToolAccepted } from './store.js';

/**
 * JSON for ledger bodies and JSON columns: Dates become ISO strings (via toJSON)
 * and undefined fields become null, so every field of the record is visible.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v));
}

/** An entry before it is chained: the backend assigns seq, prevHash and hash. */
export interface NewEntry {
  readonly at: Date;
  readonly kind: LedgerKind;
  readonly agent?: string | undefined;
  readonly approvalId?: string | undefined;
  readonly grantId?: string | undefined;
  /** Serialized to JSON by the backend; that exact string is hashed and stored. */
  readonly body: unknown;
}

export const agentCreated = (a: Agent): NewEntry => ({
  at: a.createdAt,
  kind: 'agent.created',
  agent: a.name,
  body: { name: a.name, accessKeyId: a.accessKeyId, createdAt: a.createdAt },
});

export const agentRevoked = (name: string, at: Date): NewEntry => ({
  at,
  kind: 'agent.revoked',
  agent: name,
  body: { name, at },
});

/**
 * What the ledger says of an approver's stored credential (token hash, password hash):
 * a domain-separated SHA-256 of it. It lets `audit verify` see a credential swapped in
 * by hand (approver-state.ts) without the credential reaching the ledger: the token
 * hash is itself a hash of 192 random bits, and the digest of a scrypt hash does not
 * carry its salt, so neither can be used to sign in or to guess a password offline.
 */
export const credentialDigest = (stored: string): string =>
  createHash('sha256').update(`airlock:credential:${stored}`).digest('hex');

export const approverCreated = (
  a: Approver & { readonly tokenHash: string; readonly source?: 'oidc' | undefined },
): NewEntry => ({
  at: a.createdAt,
  kind: 'approver.created',
  body: {
    name: a.name,
    groups: a.groups,
    createdAt: a.createdAt,
    source: a.source ?? 'local',
    tokenDigest: credentialDigest(a.tokenHash),
  },
});

/** A change to an approver: never carries a credential itself (credentialDigest at most). */
export const approverUpdated = (name: string, change: Record<string, unknown>, at: Date): NewEntry => ({
  at,
  kind: 'approver.updated',
  body: { name, ...change, at },
});

export const approverRevoked = (name: string, at: Date): NewEntry => ({
  at,
  kind: 'approver.revoked',
  body: { name, at },
});

export const approvalRequested = (a: Approval): NewEntry => ({
  at: a.createdAt,
  kind: 'approval.requested',
  agent: a.agent,
  approvalId: a.id,
  body: a,
});

export const approvalShown = (approvalId: string, agent: string, approver: string, at: Date): NewEntry => ({
  at,
  kind: 'approval.shown',
  agent,
  approvalId,
  body: { approvalId, approver, at },
});

export const approvalDecided = (d: DecisionRecord, agent: string): NewEntry => ({
  at: d.decidedAt,
  kind: 'approval.decided',
  agent,
  approvalId: d.approvalId,
  body: d,
});

export const approvalResolved = (
  approvalId: string,
  agent: string,
  status: Exclude<ApprovalStatus, 'pending'>,
  at: Date,
  grantId?: string,
): NewEntry => ({
  at,
  kind: 'approval.resolved',
  agent,
  approvalId,
  grantId,
  body: { approvalId, status, at },
});

export const grantIssued = (g: Grant): NewEntry => ({
  at: g.issuedAt,
  kind: 'grant.issued',
  agent: g.agent,
  approvalId: g.approvalId,
  grantId: g.id,
  body: g,
});

export const grantRevoked = (
  grantId: string,
  agent: string | undefined,
  approvalId: string | undefined,
  by: string,
  at: Date,
): NewEntry => ({ at, kind: 'grant.revoked', agent, approvalId, grantId, body: { grantId, by, at } });

export const actionTaken = (a: ActionRecord): NewEntry => ({
  at: a.at,
  kind: 'action',
  agent: a.agent,
  approvalId: a.approvalId,
  grantId: a.grantId,
  body: a,
});

export const actionOutcome = (r: ActionResult): NewEntry => ({
  at: r.at,
  kind: 'action.outcome',
  agent: r.agent,
  approvalId: r.approvalId,
  grantId: r.grantId,
  body: r,
});

export const mcpToolAccepted = (a: McpToolAccepted): NewEntry => ({
  at: a.at,
  kind: 'mcp.tool.accepted',
  body: { server: a.server, tool: a.tool, oldHash: a.oldHash, newHash: a.newHash, by: a.by, at: a.at },
});
