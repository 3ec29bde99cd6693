/**
 * Per-approver decision quality. A single fast approval can be fine; an approver
 * whose approvals are almost all fast or unread and who never denies is a rubber
 * stamp, and every approval they give inherits that.
 */
import type { ApprovalRecord, Thresholds } from './record.js';
import { isFast, reviewSeconds, timeToDecision, viewedDetail } from './review-time.js';

export interface ApproverMetrics {
  readonly approver: string;
  readonly decisions: number;
  readonly approvals: number;
  readonly denials: number;
  /** Approvals reviewed under the threshold (or never viewed). */
  readonly fastOrUnviewed: number;
  readonly unviewed: number;
  /** fastOrUnviewed / approvals (0 when no approvals). */
  readonly stampShare: number;
  readonly medianReviewSeconds: number | undefined;
  readonly medianTimeToDecisionSeconds: number | undefined;
  /**
   * One point per decision for the chart: review seconds (opened → decided), or
   * request → decided when the source records no view; `stamp` when the checks call it fast or unread.
   */
  readonly points: readonly { readonly seconds: number; readonly stamp: boolean }[];
  readonly rubberStamp: boolean;
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] as number;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] as number) + hi) / 2;
}

export function approverMetrics(records: readonly ApprovalRecord[], t: Thresholds): ApproverMetrics[] {
  const by = new Map<
    string,
    {
      approvals: number;
      denials: number;
      stamp: number;
      unviewed: number;
      review: number[];
      ttd: number[];
      points: { seconds: number; stamp: boolean }[];
    }
  >();
  for (const r of records) {
    for (const d of r.decisions) {
      if (!d.inRecord || d.approver === undefined) continue;
      const m = by.get(d.approver) ?? {
        approvals: 0,
        denials: 0,
        stamp: 0,
        unviewed: 0,
        review: [],
        ttd: [],
        points: [],
      };
      by.set(d.approver, m);
      const review = reviewSeconds(d);
      const ttd = timeToDecision(r, d);
      if (review !== undefined) m.review.push(review);
      if (ttd !== undefined) m.ttd.push(ttd);
      const shown = review ?? ttd;
      if (d.verdict === 'deny') {
        m.denials++;
        if (shown !== undefined) m.points.push({ seconds: shown, stamp: false });
        continue;
      }
      if (d.verdict !== 'approve') continue;
      m.approvals++;
      const viewed = viewedDetail(r, d);
      const stamp = viewed === false || isFast(r, d, t.minReviewSeconds);
      if (viewed === false) m.unviewed++;
      if (stamp) m.stamp++;
      if (shown !== undefined) m.points.push({ seconds: shown, stamp });
    }
  }
  return [...by.entries()]
    .map(([approver, m]) => {
      const stampShare = m.approvals === 0 ? 0 : m.stamp / m.approvals;
      return {
        approver,
        decisions: m.approvals + m.denials,
        approvals: m.approvals,
        denials: m.denials,
        fastOrUnviewed: m.stamp,
        unviewed: m.unviewed,
        stampShare,
        medianReviewSeconds: median(m.review),
        medianTimeToDecisionSeconds: median(m.ttd),
        points: m.points,
        rubberStamp:
          m.approvals >= t.rubberStampMinDecisions && m.denials === 0 && stampShare >= t.rubberStampShare,
      };
    })
    .sort((a, b) => a.approver.localeCompare(b.approver));
}
