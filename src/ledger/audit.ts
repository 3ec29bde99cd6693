/**
 * The linked record of one approval, read only from the hash-chained ledger,
 * so what `audit show` prints is what `audit verify` proves intact.
 * Keys are the six items: requester, request, reason, decisions, grant, actions — the one
 * serializer behind `audit show`, its --json, the console record page (api/records.ts) and the
 * item names of `audit check` (audit-check/record.ts ITEMS).
 */

import { joinActionOutcomes } from './action-outcomes.js';
import type { Store } from './store.js';

export interface AuditRecord {
  readonly approvalId: string;
  readonly status: string;
  readonly requester: { readonly agent: string; readonly accessKeyId: string | undefined };
  readonly request: {
    readonly service: string;
    readonly operation: string;
    readonly scopes: unknown;
    readonly summary: unknown;
    readonly policyReasons: unknown;
    readonly terms: unknown;
    readonly requestedAt: string;
  };
  readonly reason: string | null;
  readonly decisions: readonly Record<string, unknown>[];
  readonly grant: Record<string, unknown> | null;
  readonly actions: readonly Record<string, unknown>[];
  /** Ledger sequence numbers the record was built from. */
  readonly ledgerSeqs: readonly number[];
}

export async function auditRecord(store: Store, approvalId: string): Promise<AuditRecord | undefined> {
  const entries = joinActionOutcomes(await store.ledger({ approvalId }));
  const requested = entries.find((e) => e.kind === 'approval.requested');
  if (requested === undefined) return undefined;
  const approval = JSON.parse(requested.body) as Record<string, unknown>;
  const shown = new Map<string, string>();
  let status = 'pending';
  let grant: Record<string, unknown> | null = null;
  const decisions: Record<string, unknown>[] = [];
  const actions: Record<string, unknown>[] = [];
  let resolvedAt: string | undefined;
  for (const e of entries) {
    const body = JSON.parse(e.body) as Record<string, unknown>;
    switch (e.kind) {
      case 'approval.shown':
        if (!shown.has(String(body.approver))) shown.set(String(body.approver), String(body.at));
        break;
      case 'approval.decided':
        decisions.push(body);
        break;
      case 'approval.resolved':
        status = String(body.status);
        resolvedAt = typeof body.at === 'string' ? body.at : undefined;
        break;
      case 'grant.issued':
        grant = { ...body, revoked: null };
        break;
      case 'grant.revoked':
        if (grant !== null) grant = Object.assign({}, grant, { revoked: body });
        break;
      case 'action':
        actions.push({ seq: e.seq, ...body });
        break;
      default:
        break;
    }
  }
  const agent = String(approval.agent);
  const agentRow = await store.agentByName(agent);
  return {
    approvalId,
    status,
    requester: { agent, accessKeyId: agentRow?.accessKeyId },
    request: {
      service: String(approval.service),
      operation: String(approval.operation),
      scopes: approval.scopes,
      summary: approval.summary,
      policyReasons: approval.policyReasons,
      terms: approval.terms,
      requestedAt: String(approval.createdAt),
    },
    reason: typeof approval.reason === 'string' ? approval.reason : null,
    decisions: decisions.map((d) => ({ ...d, firstShownAt: shown.get(String(d.approver)) ?? null })),
    grant: grant === null ? null : currentGrant(grant, actions),
    actions: actions.map((a) => withTimes(a, resolvedAt)).sort((x, y) => cmp(x.receivedAt, y.receivedAt)),
    ledgerSeqs: entries.map((e) => e.seq),
  };
}

/** The four times of an action, named, in the order they happen (ACTION_TIMES). */
export const ACTION_TIMES = ['receivedAt', 'decidedAt', 'forwardedAt', 'completedAt'] as const;

/**
 * An action row with its own times: received (`at`), decided (the approval's resolution, for
 * the request that waited on it: outcome approved or denied), forwarded (its intent), completed
 * (its outcome, or its refusal). Absent times are null: never the request's arrival instead.
 */
function withTimes(a: Record<string, unknown>, resolvedAt: string | undefined): Record<string, unknown> {
  const waited = a.outcome === 'approved' || a.outcome === 'denied' || a.decision === 'approved';
  const refused = a.forwardedAt === undefined && a.completedAt === undefined;
  const completed =
    typeof a.completedAt === 'string'
      ? a.completedAt
      : refused && typeof a.at === 'string' && typeof a.latencyMs === 'number'
        ? new Date(Date.parse(a.at) + a.latencyMs).toISOString()
        : null;
  return {
    ...a,
    receivedAt: a.at ?? null,
    decidedAt: waited && resolvedAt !== undefined ? resolvedAt : null,
    forwardedAt: typeof a.forwardedAt === 'string' ? a.forwardedAt : null,
    completedAt: completed,
  };
}

const cmp = (x: unknown, y: unknown): number => String(x ?? '').localeCompare(String(y ?? ''));

/**
 * The grant as it stands, from the ledger alone: `grant.issued` records uses 0 and no
 * revocation; the uses are the actions that ran under it, the revocation its `grant.revoked`.
 */
function currentGrant(
  grant: Record<string, unknown>,
  actions: readonly Record<string, unknown>[],
): Record<string, unknown> {
  const { revoked: r, ...issued } = grant;
  const revoked = r as Record<string, unknown> | null;
  // One set of fields, always current (issue 16): no `revoked` object beside a stale revokedAt.
  return {
    ...issued,
    uses: actions.filter((a) => a.grantId === grant.id).length,
    revokedAt: revoked === null ? null : (revoked.at ?? null),
    revokedBy: revoked === null ? null : (revoked.by ?? null),
  };
}
