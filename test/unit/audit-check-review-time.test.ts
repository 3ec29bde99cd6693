/**
 * "Too fast" in audit check comes from what applied to the decision (issue 16): the tier's
 * minimum review and the time to read what the approver was shown (core/reading-time.ts,
 * 238 words per minute), not one fixed 30 s; --min-review-seconds still overrides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckContext, checkDecision, checkReason } from '../../src/audit-check/checks.js';
import {
  type ApprovalRecord,
  DEFAULT_THRESHOLDS,
  FALLBACK_MIN_REVIEW_SECONDS,
  type RecordDecision,
} from '../../src/audit-check/record.js';
import { minReviewFor } from '../../src/audit-check/review-time.js';
import { readingSeconds, wordsIn } from '../../src/core/reading-time.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const ctx = (minReviewSeconds?: number): CheckContext => ({
  thresholds: { ...DEFAULT_THRESHOLDS, ...(minReviewSeconds === undefined ? {} : { minReviewSeconds }) },
  now: new Date(T0 + 3600_000),
  reasonCounts: new Map(),
  rubberStampers: new Set(),
});

function approvalOf(summary: unknown, reason: string, resource: string, review: number, comment: string) {
  const decision: RecordDecision = {
    approver: 'alice',
    authenticated: true,
    verdict: 'approve',
    channel: 'cli',
    inRecord: true,
    comment,
    shownAt: new Date(T0 + 5000),
    decidedAt: new Date(T0 + 5000 + review * 1000),
    reviewSeconds: review,
    viewedDetail: true,
    guardMinReviewSeconds: 0, // the medium tier: no minimum review
  };
  const record: ApprovalRecord = {
    id: 'apr_1',
    source: 'ledger',
    status: 'approved',
    requestedAt: new Date(T0),
    requester: { name: 'billing-bot', known: true },
    request: { scopes: [{ action: 'x', resource }], text: undefined },
    reason,
    decisions: [decision],
    grant: undefined,
    actions: [],
    viewsRecorded: true,
    shownWords: wordsIn(summary) + wordsIn(reason) + wordsIn([resource]),
  };
  return { record, decision };
}

const codes = (r: { findings: readonly { code: string }[] }) => r.findings.map((f) => f.code);

describe('audit check: decision too fast for what was shown', () => {
  it('a 3-second approval of a non-trivial request fails', () => {
    const sql =
      "UPDATE invoices SET status = 'void', voided_by = 'billing-bot', voided_at = now() WHERE customer_id IN (SELECT id FROM customers WHERE region = 'eu-west' AND closed_at < '2026-01-01') AND status = 'open'";
    const { record, decision } = approvalOf(
      { database: 'shop', statement: sql, tables: ['invoices', 'customers'] },
      'FIN-231 void the open invoices of customers closed before 2026',
      'arn:airlock:postgres:shop:table/public.invoices',
      3,
      'checked FIN-231',
    );
    const needed = minReviewFor(record, decision);
    assert.ok(needed > 3, `reading it takes ${needed.toFixed(1)} s`);
    assert.deepEqual(codes(checkDecision(record, ctx())), ['decisions.rubber-stamp-fast']);
  });

  it('a 12-second review of a one-item PutItem with a ticketed reason and a specific comment passes', () => {
    const { record } = approvalOf(
      { operation: 'PutItem', tables: ['orders'], item: { id: 'o-2', status: 'restock', total: 42 } },
      'JIRA-9 restock order o-2',
      'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
      12,
      'o-2 restock matches JIRA-9',
    );
    assert.deepEqual(codes(checkDecision(record, ctx())), []);
    assert.deepEqual(codes(checkReason(record, ctx())), []);
    // The same review is flagged under a 30 s override.
    assert.deepEqual(codes(checkDecision(record, ctx(30))), ['decisions.rubber-stamp-fast']);
  });

  it("the tier's minimum review counts when it is longer than the reading time", () => {
    const { record, decision } = approvalOf({ operation: 'DeleteItem' }, 'JIRA-1 x', 'arn:t', 20, 'ok');
    assert.equal(minReviewFor(record, { ...decision, guardMinReviewSeconds: 30 }), 30);
    const high = { ...record, decisions: [{ ...decision, guardMinReviewSeconds: 30 }] };
    assert.deepEqual(codes(checkDecision(high, ctx())), ['decisions.rubber-stamp-fast']);
  });

  it('238 words a minute; a source that records neither falls back to 30 s', () => {
    assert.equal(readingSeconds(238), 60);
    assert.equal(wordsIn({ statement: "UPDATE orders SET status = 'paid'" }), 6);
    const { record, decision } = approvalOf({}, 'r', 'arn:t', 1, 'c');
    const bare = { ...record, shownWords: undefined };
    const { guardMinReviewSeconds: _g, ...noGuards } = decision;
    assert.equal(minReviewFor(bare, noGuards), FALLBACK_MIN_REVIEW_SECONDS);
  });
});
