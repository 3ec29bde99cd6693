/**
 * How long a person looked before deciding, from whatever the record holds.
 * Review time is shown → decided (or a review_seconds the source records directly);
 * time-to-decision is requested → decided, an upper bound on review time, so a
 * decision whose time-to-decision is already under the threshold was fast for sure.
 */
import { readingSeconds } from '../core/reading-time.js';
import { type ApprovalRecord, FALLBACK_MIN_REVIEW_SECONDS, type RecordDecision } from './record.js';

const seconds = (from: Date | undefined, to: Date | undefined): number | undefined =>
  from === undefined || to === undefined ? undefined : Math.max(0, (to.getTime() - from.getTime()) / 1000);

export function reviewSeconds(d: RecordDecision): number | undefined {
  if (d.reviewSeconds !== undefined && Number.isFinite(d.reviewSeconds)) return d.reviewSeconds;
  return seconds(d.shownAt, d.decidedAt);
}

export function timeToDecision(r: ApprovalRecord, d: RecordDecision): number | undefined {
  return seconds(r.requestedAt, d.decidedAt);
}

/** True, false, or undefined when the source does not record views. */
export function viewedDetail(r: ApprovalRecord, d: RecordDecision): boolean | undefined {
  if (d.viewedDetail !== undefined) return d.viewedDetail;
  if (d.shownAt !== undefined) return true;
  return r.viewsRecorded ? false : undefined;
}

/**
 * The review this decision needed: the override when given; else the longer of the minimum
 * review its guards applied and the time to read what the approver was shown; else (a source
 * that records neither) FALLBACK_MIN_REVIEW_SECONDS.
 */
export function minReviewFor(r: ApprovalRecord, d: RecordDecision, override?: number): number {
  if (override !== undefined) return override;
  if (r.shownWords === undefined && d.guardMinReviewSeconds === undefined) return FALLBACK_MIN_REVIEW_SECONDS;
  return Math.max(d.guardMinReviewSeconds ?? 0, readingSeconds(r.shownWords ?? 0));
}

/** Reviewed for less than the review it needed (minReviewFor), as far as the record can show. */
export function isFast(r: ApprovalRecord, d: RecordDecision, override?: number): boolean {
  const min = minReviewFor(r, d, override);
  const review = reviewSeconds(d);
  if (review !== undefined) return review < min;
  const ttd = timeToDecision(r, d);
  return ttd !== undefined && ttd < min;
}
