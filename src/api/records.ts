/**
 * The record view: find approvals (by agent, resource, approval id, grant id, time
 * range) and show one as approval → grant → every action under it, with the
 * agent's attempts outside the grant during its lifetime flagged.
 * The record itself comes from the hash-chained ledger (ledger/audit.ts).
 */
import type { Approval, Grant } from '../core/types.js';
import { joinActionOutcomes } from '../ledger/action-outcomes.js';
import { type AuditRecord, auditRecord } from '../ledger/audit.js';
import type { Store } from '../ledger/store.js';

export interface RecordQuery {
  readonly agent?: string | undefined;
  /** Substring of a resource ARN (e.g. the table name). */
  readonly resource?: string | undefined;
  readonly approvalId?: string | undefined;
  readonly grantId?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  readonly limit?: number | undefined;
}

export async function searchRecords(store: Store, q: RecordQuery): Promise<Record<string, unknown>[]> {
  let grantApproval: string | undefined;
  if (q.grantId !== undefined) {
    grantApproval = (await store.getGrant(q.grantId))?.approvalId;
    if (grantApproval === undefined) return [];
  }
  const all = await store.listApprovals({});
  const hits = all.filter(
    (a) =>
      (q.agent === undefined || a.agent === q.agent) &&
      (q.approvalId === undefined || a.id === q.approvalId) &&
      (grantApproval === undefined || a.id === grantApproval) &&
      (q.resource === undefined || a.scopes.some((s) => s.resource.includes(q.resource ?? ''))) &&
      (q.from === undefined || a.createdAt >= q.from) &&
      (q.to === undefined || a.createdAt <= q.to),
  );
  const out: Record<string, unknown>[] = [];
  for (const a of hits.reverse().slice(0, q.limit ?? 100)) {
    const grant = a.grantId === undefined ? undefined : await store.getGrant(a.grantId);
    out.push(summary(a, grant));
  }
  return out;
}

function summary(a: Approval, g: Grant | undefined): Record<string, unknown> {
  return {
    id: a.id,
    agent: a.agent,
    operation: `${a.service}:${a.operation}`,
    resources: [...new Set(a.scopes.map((s) => s.resource))],
    status: a.status,
    createdAt: a.createdAt,
    grant: g === undefined ? null : grantState(g),
  };
}

export function grantState(g: Grant, now = new Date()): Record<string, unknown> {
  const active =
    g.revokedAt === undefined && g.expiresAt > now && (g.maxUses === undefined || g.uses < g.maxUses);
  return { ...g, active };
}

export interface FullRecord {
  readonly audit: AuditRecord;
  /** The record's grant (audit.grant) and `active`; null when none was issued. */
  readonly grant: Record<string, unknown> | null;
  /** The agent's actions during the grant's life that the grant did not cover. */
  readonly outOfGrant: readonly Record<string, unknown>[];
}

export async function fullRecord(store: Store, approvalId: string): Promise<FullRecord | undefined> {
  const audit = await auditRecord(store, approvalId);
  if (audit === undefined) return undefined;
  const approval = await store.getApproval(approvalId);
  const grant = approval?.grantId === undefined ? undefined : await store.getGrant(approval.grantId);
  if (grant === undefined || audit.grant === null) return { audit, grant: null, outOfGrant: [] };
  const end = Math.min(grant.expiresAt.getTime(), grant.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY);
  const outOfGrant: Record<string, unknown>[] = [];
  for (const e of joinActionOutcomes(await store.ledger({ agent: grant.agent }))) {
    if (e.kind !== 'action' || e.grantId === grant.id) continue;
    const t = e.at.getTime();
    if (t < grant.issuedAt.getTime() || t > end) continue;
    const body = JSON.parse(e.body) as { outcome: string; scopes: { action: string; resource: string }[] };
    // Outside the grant: what the policy held or refused while it was live. A request the policy
    // simply allowed (a read of the same table) needed no grant: not an anomaly, not listed.
    if (body.outcome !== 'allowed') outOfGrant.push({ seq: e.seq, ...body, outOfGrant: true });
  }
  // The grant as the record has it (ledger/audit.ts: uses and revocation current), plus whether
  // it is live: the same fields `audit show --json` prints, so the two never disagree.
  return { audit, grant: { ...audit.grant, active: grantState(grant).active }, outOfGrant };
}
