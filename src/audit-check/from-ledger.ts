/**
 * Airlock's ledger → approval records. Reads only ledger entries (what `audit verify`
 * proves), the same source as `audit show`. Bodies are parsed leniently: fields added
 * later (e.g. decision-quality fields such as review_seconds / viewed_detail) are
 * used when present and ignored otherwise.
 */
import { shownWords } from '../core/reading-time.js';
import type { Scope } from '../core/types.js';
import { joinActionOutcomes } from '../ledger/action-outcomes.js';
import type { LedgerEntry } from '../ledger/store.js';
import type { ApprovalRecord, OrphanAction, RecordAction, RecordDecision, RecordGrant } from './record.js';

type Body = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
function date(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
function scopes(v: unknown): Scope[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((s): s is Body => typeof s === 'object' && s !== null)
    .map((s) => ({ action: String(s.action ?? ''), resource: String(s.resource ?? '') }));
}
const key = (s: Scope) => `${s.action}\u0000${s.resource}`;
const ran = (outcome: string) => outcome === 'allowed' || outcome === 'approved';

interface Building {
  id: string;
  agent: string;
  requestedAt: Date | undefined;
  scopes: Scope[];
  reason: string | undefined;
  status: ApprovalRecord['status'];
  shown: Map<string, Date>;
  decisions: Body[];
  grant: (RecordGrant & { id: string }) | undefined;
  actions: RecordAction[];
  shownWords: number;
}

export function recordsFromLedger(raw: readonly LedgerEntry[]): {
  records: ApprovalRecord[];
  orphans: OrphanAction[];
} {
  // One action per forwarded request: its intent joined with its outcome (or outcome unknown).
  const entries = joinActionOutcomes(raw);
  const agents = new Map<string, { revokedAt: Date | undefined }>();
  const approvers = new Set<string>();
  const approvals = new Map<string, Building>();
  const grantToApproval = new Map<string, string>();
  const heldScopes = new Set<string>();
  const actions: { seq: number; body: Body }[] = [];

  for (const e of entries) {
    let body: Body;
    try {
      body = JSON.parse(e.body) as Body;
    } catch {
      continue;
    }
    switch (e.kind) {
      case 'agent.created':
        agents.set(String(body.name), { revokedAt: undefined });
        break;
      case 'agent.revoked': {
        const a = agents.get(String(body.name));
        if (a !== undefined) a.revokedAt = date(body.at) ?? e.at;
        break;
      }
      case 'approver.created':
        approvers.add(String(body.name));
        break;
      case 'approval.requested': {
        const id = String(body.id ?? e.approvalId);
        const sc = scopes(body.scopes);
        for (const s of sc) heldScopes.add(key(s));
        approvals.set(id, {
          id,
          agent: String(body.agent ?? e.agent ?? ''),
          requestedAt: date(body.createdAt) ?? e.at,
          scopes: sc,
          reason: typeof body.reason === 'string' ? body.reason : undefined,
          status: 'pending',
          shown: new Map(),
          decisions: [],
          grant: undefined,
          actions: [],
          // What the detail shows the approver: the payload summary (SQL, arguments), the
          // reason and the resources (approvals show, the console's request item).
          shownWords: shownWords({
            summary: body.summary,
            reason: typeof body.reason === 'string' ? body.reason : undefined,
            scopes: sc,
          }),
        });
        break;
      }
      case 'approval.shown': {
        const a = approvals.get(String(body.approvalId ?? e.approvalId));
        const who = String(body.approver);
        if (a !== undefined && !a.shown.has(who)) a.shown.set(who, date(body.at) ?? e.at);
        break;
      }
      case 'approval.decided':
        approvals.get(String(body.approvalId ?? e.approvalId))?.decisions.push(body);
        break;
      case 'approval.resolved': {
        const a = approvals.get(String(body.approvalId ?? e.approvalId));
        const s = String(body.status);
        if (a !== undefined && (s === 'approved' || s === 'denied' || s === 'expired')) a.status = s;
        break;
      }
      case 'grant.issued': {
        const a = approvals.get(String(body.approvalId ?? e.approvalId));
        const id = String(body.id ?? e.grantId);
        if (a === undefined) break;
        grantToApproval.set(id, a.id);
        a.grant = {
          id,
          scopes: scopes(body.scopes),
          issuedAt: date(body.issuedAt),
          expiresAt: date(body.expiresAt),
          revokedAt: undefined,
          maxUses: num(body.maxUses),
          // Grants issued before breadth was recorded covered the whole scope.
          breadth: body.breadth === 'exact' || body.breadth === 'items' ? body.breadth : 'scope',
        };
        break;
      }
      case 'grant.revoked': {
        const a = approvals.get(grantToApproval.get(String(body.grantId ?? e.grantId)) ?? '');
        if (a?.grant !== undefined) a.grant = { ...a.grant, revokedAt: date(body.at) ?? e.at };
        break;
      }
      case 'action':
        actions.push({ seq: e.seq, body });
        break;
      default:
        break;
    }
  }

  const orphans: OrphanAction[] = [];
  for (const { seq, body } of actions) {
    const id = String(body.requestId ?? `seq-${seq}`);
    const at = date(body.at) ?? new Date(0);
    const sc = scopes(body.scopes);
    const outcome = String(body.outcome ?? 'unknown');
    const agent = String(body.agent ?? '');
    const grantId = str(body.grantId);
    const approvalId = str(body.approvalId);
    const orphan = (code: string, message: string) =>
      orphans.push({ id, at, agent, scopes: sc, outcome, code, message });
    if (grantId !== undefined) {
      const owner = grantToApproval.get(grantId);
      if (owner === undefined) {
        orphan(
          'actions.dangling-grant',
          `action ${id} names grant ${grantId}, which the ledger never issued`,
        );
        continue;
      }
      const link = approvalId === undefined || approvalId === owner ? 'recorded' : 'mismatch';
      // A held request is received before its grant exists and runs once it is issued:
      // its time under the grant is when it finished, not when it arrived.
      const latency = typeof body.latencyMs === 'number' ? body.latencyMs : 0;
      const doneAt = new Date(at.getTime() + latency);
      approvals.get(owner)?.actions.push({ id, at, doneAt, scopes: sc, outcome, link });
      continue;
    }
    if (approvalId !== undefined) {
      const a = approvals.get(approvalId);
      if (a === undefined) {
        orphan(
          'actions.dangling-approval',
          `action ${id} names approval ${approvalId}, which the ledger never held`,
        );
        continue;
      }
      a.actions.push({ id, at, scopes: sc, outcome, link: 'recorded' });
      continue;
    }
    if (ran(outcome) && sc.some((s) => heldScopes.has(key(s))))
      orphan(
        'actions.unapproved-action',
        `action ${id} (${agent}) ran without an approval on a scope that elsewhere needed one`,
      );
  }

  const records = [...approvals.values()].map((a): ApprovalRecord => {
    const agent = agents.get(a.agent);
    const known =
      agent !== undefined &&
      (agent.revokedAt === undefined || a.requestedAt === undefined || agent.revokedAt > a.requestedAt);
    return {
      id: a.id,
      source: 'ledger',
      status: a.status,
      requestedAt: a.requestedAt,
      requester: { name: a.agent === '' ? undefined : a.agent, known },
      request: { scopes: a.scopes, text: undefined },
      reason: a.reason,
      decisions: a.decisions.map((d) => decision(d, a, approvers)),
      grant: a.grant,
      actions: a.actions,
      viewsRecorded: true,
      shownWords: a.shownWords,
    };
  });
  return { records, orphans };
}

function decision(d: Body, a: Building, approvers: ReadonlySet<string>): RecordDecision {
  const approver = str(d.approver);
  const verdict = d.verdict === 'approve' || d.verdict === 'deny' ? d.verdict : undefined;
  return {
    approver,
    authenticated: approver !== undefined && approvers.has(approver),
    verdict,
    channel: str(d.channel),
    inRecord: true,
    comment: typeof d.comment === 'string' ? d.comment : undefined,
    decidedAt: date(d.decidedAt),
    shownAt: date(d.shownAt) ?? (approver === undefined ? undefined : a.shown.get(approver)),
    reviewSeconds: num(d.reviewSeconds) ?? num(d.review_seconds),
    viewedDetail: bool(d.viewedDetail) ?? bool(d.viewed_detail),
    guardMinReviewSeconds:
      typeof d.guards === 'object' && d.guards !== null
        ? num((d.guards as Body).minReviewSeconds)
        : undefined,
  };
}
