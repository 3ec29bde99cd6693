/**
 * Row shapes of the SQL backends (better-sqlite3 rows; PostgreSQL rows with BIGINT read
 * as numbers, see postgres/pool.ts), and their mapping to domain types. Both store
 * timestamps as integer epoch ms: integer in, `Date` out; NULL becomes undefined.
 */
import { createHash } from 'node:crypto';
import type {
  AppliedGuards,
  Approval,
  ApprovalStatus,
  DecisionRecord,
  Grant,
  GrantBreadth,
  ItemRef,
  Scope,
  Verdict,
} from '../core/types.js';
import type { ConsoleSessionRecord } from './coordination.js';
import type { LedgerEntry, LedgerKind, StoredAgent, StoredApprover, WebhookDelivery } from './store.js';

export interface AgentRow {
  name: string;
  access_key_id: string;
  sealed_secret: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ApproverRow {
  name: string;
  groups: string;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
  password_hash?: string | null;
  source?: string;
  slack_user?: string | null;
}

export interface ApprovalRow {
  id: string;
  agent: string;
  status: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  grant_id: string | null;
  json: string;
}

export interface DecisionRow {
  approval_id: string;
  approver: string;
  verdict: string;
  comment: string;
  channel: string;
  shown_at: number | null;
  decided_at: number;
  detail?: string | null;
}

export interface GrantRow {
  id: string;
  approval_id: string;
  agent: string;
  issued_at: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
  revoked_by: string | null;
  json: string;
}

export interface LedgerRow {
  seq: number;
  at: number;
  kind: string;
  agent: string | null;
  approval_id: string | null;
  grant_id: string | null;
  body: string;
  prev_hash: string;
  hash: string;
}

import { toJson } from './ledger-entries.js';

export { toJson };

/**
 * The `source` column of an SSO approver: bound to the identity provider's stable
 * subject (OIDC `sub`), hashed. The approver name is derived from a claim and can fold
 * two people together (j.doe@, j-doe@); the subject cannot.
 */
export const ssoSource = (subject: string): string =>
  `oidc:${createHash('sha256').update(subject).digest('hex')}`;

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export function toAgent(r: AgentRow): StoredAgent {
  return {
    name: r.name,
    accessKeyId: r.access_key_id,
    sealedSecret: r.sealed_secret,
    createdAt: new Date(r.created_at),
    revokedAt: date(r.revoked_at),
  };
}

export function toApprover(r: ApproverRow): StoredApprover {
  return {
    name: r.name,
    groups: JSON.parse(r.groups) as string[],
    tokenHash: r.token_hash,
    createdAt: new Date(r.created_at),
    revokedAt: date(r.revoked_at),
    ...(r.password_hash ? { passwordHash: r.password_hash } : {}),
    ...(r.source?.startsWith('oidc') ? { source: 'oidc' as const } : {}),
    ...(r.slack_user ? { slackUser: r.slack_user } : {}),
  };
}

/** The JSON column holds the approval as first requested; the columns hold what changed since. */
export function toApproval(r: ApprovalRow): Approval {
  const j = JSON.parse(r.json) as Omit<Approval, 'reason'> & { reason: string | null };
  return {
    id: j.id,
    requestId: j.requestId,
    agent: j.agent,
    service: j.service,
    operation: j.operation,
    scopes: j.scopes,
    reason: opt(j.reason),
    summary: j.summary,
    policyReasons: j.policyReasons,
    terms: j.terms,
    status: r.status as ApprovalStatus,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    decidedAt: date(r.decided_at),
    grantId: opt(r.grant_id),
    ...(typeof j.requestHash === 'string' ? { requestHash: j.requestHash } : {}),
    ...(Array.isArray(j.items) ? { items: j.items } : {}),
  };
}

export function toDecision(r: DecisionRow): DecisionRecord {
  return {
    approvalId: r.approval_id,
    approver: r.approver,
    verdict: r.verdict as Verdict,
    comment: r.comment,
    channel: r.channel,
    shownAt: date(r.shown_at),
    decidedAt: new Date(r.decided_at),
    ...(r.detail ? decisionDetail(r.detail) : {}),
  };
}

/** The review facts kept in decisions.detail (JSON): reviewSeconds, viewedDetail, guards. */
function decisionDetail(
  text: string,
): Pick<DecisionRecord, 'reviewSeconds' | 'viewedDetail' | 'guards' | 'slack' | 'breadth'> {
  const j = JSON.parse(text) as {
    reviewSeconds: number | null;
    viewedDetail: boolean;
    guards: (Omit<AppliedGuards, 'confirmText'> & { confirmText: string | null }) | null;
    slack?: { user: string; team: string; permalink: string | null };
    breadth?: GrantBreadth;
  };
  return {
    reviewSeconds: opt(j.reviewSeconds),
    viewedDetail: j.viewedDetail,
    ...(j.guards === null ? {} : { guards: { ...j.guards, confirmText: opt(j.guards.confirmText) } }),
    ...(j.slack === undefined ? {} : { slack: { ...j.slack, permalink: opt(j.slack.permalink) } }),
    ...(j.breadth === undefined ? {} : { breadth: j.breadth }),
  };
}

/** The grants.json column: the scopes and what the breadth binds; fields a grant lacks are left out (both backends). */
export function grantJson(g: Grant): string {
  return toJson({
    scopes: g.scopes,
    ...(g.breadth === undefined ? {} : { breadth: g.breadth }),
    ...(g.requestHash === undefined ? {} : { requestHash: g.requestHash }),
    ...(g.items === undefined ? {} : { items: g.items }),
    ...(g.description === undefined ? {} : { description: g.description }),
  });
}

export function toGrant(r: GrantRow): Grant {
  const j = JSON.parse(r.json) as {
    scopes: Scope[];
    breadth?: GrantBreadth;
    requestHash?: string;
    items?: ItemRef[];
    description?: string;
  };
  return {
    id: r.id,
    approvalId: r.approval_id,
    agent: r.agent,
    scopes: j.scopes,
    issuedAt: new Date(r.issued_at),
    expiresAt: new Date(r.expires_at),
    maxUses: opt(r.max_uses),
    uses: r.uses,
    revokedAt: date(r.revoked_at),
    revokedBy: opt(r.revoked_by),
    ...(typeof j.breadth === 'string' ? { breadth: j.breadth } : {}),
    ...(typeof j.requestHash === 'string' ? { requestHash: j.requestHash } : {}),
    ...(Array.isArray(j.items) ? { items: j.items } : {}),
    ...(typeof j.description === 'string' ? { description: j.description } : {}),
  };
}

export function toEntry(r: LedgerRow): LedgerEntry {
  return {
    seq: r.seq,
    at: new Date(r.at),
    kind: r.kind as LedgerKind,
    agent: opt(r.agent),
    approvalId: opt(r.approval_id),
    grantId: opt(r.grant_id),
    body: r.body,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A webhook_deliveries row (channels/webhooks/); pg returns BIGINT as a string, SQLite a number. */
export interface DeliveryRow {
  id: string;
  url: string;
  event: string;
  payload: string;
  created_at: string | number;
  status: string;
  attempts: number;
  next_attempt_at: string | number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | number | null;
}

export function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    url: r.url,
    event: r.event,
    payload: r.payload,
    createdAt: new Date(Number(r.created_at)),
    status: r.status as WebhookDelivery['status'],
    attempts: r.attempts,
    nextAttemptAt: new Date(Number(r.next_attempt_at)),
    lastStatus: r.last_status ?? undefined,
    lastError: r.last_error ?? undefined,
    deliveredAt: r.delivered_at === null ? undefined : new Date(Number(r.delivered_at)),
  };
}

/** A console_sessions row (coordination tables). */
export interface SessionRow {
  approver: string;
  csrf: string;
  via: string;
  credential: string | null;
  created_at: number;
  expires_at: number;
}

export function toConsoleSession(r: SessionRow): ConsoleSessionRecord {
  return {
    approver: r.approver,
    csrf: r.csrf,
    via: r.via === 'oidc' ? 'oidc' : 'password',
    credential: r.credential ?? undefined,
    createdAt: new Date(Number(r.created_at)),
    expiresAt: new Date(Number(r.expires_at)),
  };
}

/** The console_sessions columns of a record, in insert order. */
export function consoleSessionValues(idHash: string, s: ConsoleSessionRecord): unknown[] {
  return [
    idHash,
    s.approver,
    s.csrf,
    s.via,
    s.credential ?? null,
    s.createdAt.getTime(),
    s.expiresAt.getTime(),
  ];
}
