/**
 * The guards and `audit check` agree on "too fast" (issue 16): a hold with
 * @min_review("reading") makes the Decider's guard refuse an approve before the time to read
 * what the approver is shown, the same figure (core/reading-time.ts) audit check holds the
 * decision to. What the guard lets through the check passes; a 1-second approval fails both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appliedGuards, checkApprove, DEFAULT_GUARDS } from '../../src/approvals/guards.js';
import { type CheckContext, checkDecision } from '../../src/audit-check/checks.js';
import {
  type ApprovalRecord,
  DEFAULT_THRESHOLDS,
  type RecordDecision,
} from '../../src/audit-check/record.js';
import { readingSeconds, shownWords } from '../../src/core/reading-time.js';
import type { AppliedGuards, HoldTerms, Scope } from '../../src/core/types.js';
import { readTerms } from '../../src/policy/annotations.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const ctx: CheckContext = {
  thresholds: DEFAULT_THRESHOLDS,
  now: new Date(T0 + 3600_000),
  reasonCounts: new Map(),
  rubberStampers: new Set(),
};
const terms = (guards: HoldTerms['guards']): HoldTerms => ({
  requirements: [{ group: 'dba', quorum: 1, policyId: 'p' }],
  maxGrantSeconds: 900,
  requireReason: true,
  ...(guards === undefined ? {} : { guards }),
});

interface Shown {
  readonly summary: unknown;
  readonly reason: string;
  readonly scopes: readonly Scope[];
}

const UPDATE: Shown = {
  summary: {
    database: 'shop',
    statement: "/* airlock:reason=JIRA-7 mark order 1 paid */ UPDATE orders SET status = 'paid' WHERE id = 1",
    tables: ['public.orders'],
  },
  reason: 'JIRA-7 mark order 1 paid',
  scopes: [{ action: 'postgres:update', resource: 'arn:airlock:postgres:shop:table/public/orders' }],
};
const PUT: Shown = {
  summary: { operation: 'PutItem', tables: ['orders'], item: { id: 'o-1', status: 'restock' } },
  reason: 'JIRA-7 restock order',
  scopes: [{ action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders' }],
};

/** The guard's verdict and the check's findings for an approve `review` seconds after opening it. */
function both(shown: Shown, g: AppliedGuards, review: number) {
  const shownAt = new Date(T0 + 5000);
  const decidedAt = new Date(shownAt.getTime() + review * 1000);
  const guard = checkApprove('apr_1', g, {
    shownAt,
    now: decidedAt,
    comment: 'matches JIRA-7',
    confirm: undefined,
  });
  const decision: RecordDecision = {
    approver: 'alice',
    authenticated: true,
    verdict: 'approve',
    channel: 'cli',
    inRecord: true,
    comment: 'matches JIRA-7',
    shownAt,
    decidedAt,
    reviewSeconds: review,
    viewedDetail: true,
    guardMinReviewSeconds: g.minReviewSeconds,
  };
  const record: ApprovalRecord = {
    id: 'apr_1',
    source: 'ledger',
    status: 'approved',
    requestedAt: new Date(T0),
    requester: { name: 'demo-agent', known: true },
    request: { scopes: shown.scopes, text: undefined },
    reason: shown.reason,
    decisions: [decision],
    grant: undefined,
    actions: [],
    viewsRecorded: true,
    shownWords: shownWords(shown),
  };
  return { guard: guard?.code, check: checkDecision(record, ctx).findings.map((f) => f.code) };
}

describe('guards and audit check: one notion of too fast', () => {
  it('@min_review("reading") is read as reading time; anything else is a load error', () => {
    const ok = readTerms('permit', { hold: 'dba', min_review: 'reading' });
    assert.ok('terms' in ok);
    assert.deepEqual(ok.terms.guards, { readingTime: true });
    const bad = readTerms('permit', { hold: 'dba', min_review: 'read it' });
    assert.ok('problem' in bad);
    assert.match(bad.problem, /or "reading"/);
  });

  it('the guard needs the reading time, rounded up, on top of a tier that needs none', () => {
    const g = appliedGuards(terms({ readingTime: true }), UPDATE.scopes, DEFAULT_GUARDS, UPDATE);
    const reading = readingSeconds(shownWords(UPDATE));
    assert.equal(DEFAULT_GUARDS.tiers.medium.minReviewSeconds, 0);
    assert.ok(reading > 1, `reading the UPDATE takes ${reading.toFixed(1)} s`);
    assert.equal(g.minReviewSeconds, Math.ceil(reading));
    assert.equal(g.readingSeconds, Math.round(reading * 10) / 10);
    // Without the annotation the medium tier asks for no wait at all (and records no reading time).
    const plain = appliedGuards(terms(undefined), UPDATE.scopes, DEFAULT_GUARDS, UPDATE);
    assert.equal(plain.minReviewSeconds, 0);
    assert.equal(plain.readingSeconds, undefined);
    // A tier longer than the reading time still wins.
    const high = appliedGuards(terms({ risk: 'high', readingTime: true }), PUT.scopes, DEFAULT_GUARDS, PUT);
    assert.equal(high.minReviewSeconds, DEFAULT_GUARDS.tiers.high.minReviewSeconds);
  });

  for (const [name, shown] of [
    ['a held UPDATE', UPDATE],
    ['a held PutItem', PUT],
  ] as const) {
    it(`${name}: what the guard accepts, the check passes; a 1-second approval fails both`, () => {
      const g = appliedGuards(terms({ readingTime: true }), shown.scopes, DEFAULT_GUARDS, shown);
      assert.deepEqual(both(shown, g, g.minReviewSeconds), { guard: undefined, check: [] });
      assert.deepEqual(both(shown, g, 1), {
        guard: 'review-too-short',
        check: ['decisions.rubber-stamp-fast'],
      });
      // Without the annotation the guard lets the 1-second approval through; the check still flags it.
      const plain = appliedGuards(terms(undefined), shown.scopes, DEFAULT_GUARDS, shown);
      assert.deepEqual(both(shown, plain, 1), { guard: undefined, check: ['decisions.rubber-stamp-fast'] });
    });
  }

  it('the refusal says the wait is the time to read the request', () => {
    const g = appliedGuards(terms({ readingTime: true }), PUT.scopes, DEFAULT_GUARDS, PUT);
    const shownAt = new Date(T0);
    const r = checkApprove('apr_1', g, { shownAt, now: shownAt, comment: '', confirm: undefined });
    assert.match(r?.message ?? '', /need \d+s of review \(the time to read this one\)/);
  });
});
