/**
 * Scores records with the six checks and aggregates them into the report every
 * renderer (text, JSON, HTML) prints. Context (reason repeats, rubber-stamp
 * approvers) comes from every record the source holds, so filtering to one
 * agent does not hide a pattern; scoring and the gate cover the filtered set.
 */
import { type ApproverMetrics, approverMetrics } from './approver-metrics.js';
import { type CheckContext, checkAll, normalizeReason } from './checks.js';
import {
  type ApprovalRecord,
  globMatch,
  ITEMS,
  type ItemName,
  type ItemResult,
  type OrphanAction,
  type Thresholds,
} from './record.js';
import { isFast, viewedDetail } from './review-time.js';

export interface ScoredRecord {
  readonly record: ApprovalRecord;
  readonly items: readonly ItemResult[];
  readonly ok: boolean;
  readonly failedItems: readonly ItemName[];
}

export interface Filter {
  readonly since?: Date | undefined;
  readonly agent?: string | undefined;
  /** Resource glob (`*` = any run); plain text matches as a substring. */
  readonly resource?: string | undefined;
}

export interface TimeBucket {
  /** Start of the bucket (UTC day), ISO date. */
  readonly day: string;
  readonly records: number;
  /** Records that hold all six items. */
  readonly passing: number;
  readonly failing: Record<ItemName, number>;
}

export interface CheckReport {
  readonly source: string;
  readonly generatedAt: string;
  readonly thresholds: Thresholds;
  readonly filter: { since: string | null; agent: string | null; resource: string | null };
  readonly totals: {
    /** Approved or denied records (pending and expired are not scored). */
    readonly scored: number;
    readonly notScored: number;
    readonly passing: number;
    readonly failing: number;
    readonly orphanActions: number;
    /** (failing records + orphan actions) / (scored + orphan actions). */
    readonly failShare: number;
    /** Approvals whose every approving decision was under the rubber-stamp threshold or unviewed. */
    readonly rubberStampShare: number;
    /** Grants of the scored records by breadth: `scope` is wide, `items` and `exact` narrow (RecordGrant.breadth). */
    readonly grants: {
      readonly exact: number;
      readonly items: number;
      readonly scope: number;
      readonly unrecorded: number;
    };
  };
  readonly items: Record<ItemName, { pass: number; fail: number; codes: Record<string, number> }>;
  readonly gate: { readonly passed: boolean; readonly maxFailShare: number };
  readonly approvers: readonly ApproverMetrics[];
  readonly timeline: readonly TimeBucket[];
  readonly records: readonly ScoredRecord[];
  readonly orphans: readonly OrphanAction[];
}

export function matchesFilter(r: ApprovalRecord, f: Filter): boolean {
  if (f.since !== undefined && (r.requestedAt === undefined || r.requestedAt < f.since)) return false;
  if (f.agent !== undefined && r.requester.name !== f.agent) return false;
  if (f.resource !== undefined) {
    const want = f.resource;
    if (
      !r.request.scopes.some((s) => resourceHit(want, s.resource)) &&
      !resourceHit(want, r.request.text ?? '')
    )
      return false;
  }
  return true;
}

/** A glob not starting with `arn:` matches the end of the ARN (`table/*`); plain text, any part. */
function resourceHit(want: string, resource: string): boolean {
  if (!want.includes('*')) return resource.includes(want);
  return globMatch(want.startsWith('arn:') ? want : `*${want}`, resource);
}

export function buildReport(input: {
  source: string;
  records: readonly ApprovalRecord[];
  orphans: readonly OrphanAction[];
  thresholds: Thresholds;
  filter: Filter;
  now: Date;
}): CheckReport {
  const t = input.thresholds;
  const all = input.records;
  const reasonCounts = new Map<string, number>();
  for (const r of all) {
    if (r.reason === undefined || r.reason.trim() === '') continue;
    const k = normalizeReason(r.reason);
    reasonCounts.set(k, (reasonCounts.get(k) ?? 0) + 1);
  }
  const metricsAll = approverMetrics(all, t);
  const ctx: CheckContext = {
    thresholds: t,
    now: input.now,
    reasonCounts,
    rubberStampers: new Set(metricsAll.filter((m) => m.rubberStamp).map((m) => m.approver)),
  };
  const selected = all.filter((r) => matchesFilter(r, input.filter));
  const scoredInput = selected.filter((r) => r.status === 'approved' || r.status === 'denied');
  const scored: ScoredRecord[] = scoredInput.map((record) => {
    const items = checkAll(record, ctx);
    const failedItems = items.filter((i) => !i.ok).map((i) => i.item);
    return { record, items, ok: failedItems.length === 0, failedItems };
  });
  const orphans = input.orphans.filter(
    (o) =>
      (input.filter.since === undefined || o.at >= input.filter.since) &&
      (input.filter.agent === undefined || o.agent === input.filter.agent) &&
      (input.filter.resource === undefined ||
        o.scopes.some((s) => resourceHit(input.filter.resource ?? '', s.resource))),
  );

  const items = Object.fromEntries(
    ITEMS.map((name) => [name, { pass: 0, fail: 0, codes: {} as Record<string, number> }]),
  ) as CheckReport['items'];
  for (const s of scored)
    for (const i of s.items) {
      const agg = items[i.item];
      if (i.ok) agg.pass++;
      else agg.fail++;
      for (const f of i.findings) agg.codes[f.code] = (agg.codes[f.code] ?? 0) + 1;
    }
  if (orphans.length > 0) {
    items.actions.fail += orphans.length;
    for (const o of orphans) items.actions.codes[o.code] = (items.actions.codes[o.code] ?? 0) + 1;
  }

  const failing = scored.filter((s) => !s.ok).length;
  const denom = scored.length + orphans.length;
  const failShare = denom === 0 ? 0 : (failing + orphans.length) / denom;
  const approvedScored = scored.filter((s) => s.record.status === 'approved');
  const stamped = approvedScored.filter((s) => {
    const yes = s.record.decisions.filter((d) => d.inRecord && d.verdict === 'approve');
    return (
      yes.length > 0 &&
      yes.every((d) => isFast(s.record, d, t.minReviewSeconds) || viewedDetail(s.record, d) === false)
    );
  }).length;

  return {
    source: input.source,
    generatedAt: input.now.toISOString(),
    thresholds: t,
    filter: {
      since: input.filter.since?.toISOString() ?? null,
      agent: input.filter.agent ?? null,
      resource: input.filter.resource ?? null,
    },
    totals: {
      scored: scored.length,
      notScored: selected.length - scored.length,
      passing: scored.length - failing,
      failing,
      orphanActions: orphans.length,
      failShare,
      rubberStampShare: approvedScored.length === 0 ? 0 : stamped / approvedScored.length,
      grants: {
        exact: scored.filter((x) => x.record.grant?.breadth === 'exact').length,
        items: scored.filter((x) => x.record.grant?.breadth === 'items').length,
        scope: scored.filter((x) => x.record.grant?.breadth === 'scope').length,
        unrecorded: scored.filter((x) => x.record.grant !== undefined && x.record.grant.breadth === undefined)
          .length,
      },
    },
    items,
    gate: { passed: failShare <= t.maxFailShare, maxFailShare: t.maxFailShare },
    approvers: approverMetrics(scoredInput, t).map((m) => ({
      ...m,
      rubberStamp: ctx.rubberStampers.has(m.approver),
    })),
    timeline: timeline(scored),
    records: scored,
    orphans,
  };
}

function timeline(scored: readonly ScoredRecord[]): TimeBucket[] {
  const by = new Map<string, { records: number; passing: number; failing: Record<ItemName, number> }>();
  for (const s of scored) {
    if (s.record.requestedAt === undefined) continue;
    const day = s.record.requestedAt.toISOString().slice(0, 10);
    let b = by.get(day);
    if (b === undefined) {
      b = {
        records: 0,
        passing: 0,
        failing: Object.fromEntries(ITEMS.map((i) => [i, 0])) as Record<ItemName, number>,
      };
      by.set(day, b);
    }
    b.records++;
    if (s.ok) b.passing++;
    for (const i of s.failedItems) b.failing[i]++;
  }
  return [...by.entries()].map(([day, b]) => ({ day, ...b })).sort((a, b) => a.day.localeCompare(b.day));
}

/** Records with the most failing items first, then the most findings. */
export function worstRecords(report: CheckReport, n: number): ScoredRecord[] {
  const weight = (s: ScoredRecord) => s.items.reduce((k, i) => k + i.findings.length, 0);
  return report.records
    .filter((s) => !s.ok)
    .slice()
    .sort((a, b) => b.failedItems.length - a.failedItems.length || weight(b) - weight(a))
    .slice(0, n);
}
