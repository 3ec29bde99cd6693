/**
 * The six checks on records the Store cannot produce (imports, shared AWS principals,
 * chat approvals), glob and reason normalization, and the threshold layering.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CheckContext,
  checkDecision,
  checkGrant,
  checkRequest,
  checkRequester,
  checkSession,
  normalizeReason,
} from '../../src/audit-check/checks.js';
import { type ApprovalRecord, DEFAULT_THRESHOLDS, globMatch } from '../../src/audit-check/record.js';
import { parseSince, thresholdsFrom } from '../../src/cli/audit-check-command.js';
import { parseConfig } from '../../src/config/load.js';
import { T0 } from '../support/audit-ledger.js';

const NOW = new Date('2026-06-01T00:00:00Z');
describe('checks on records the Store cannot produce', () => {
  const ctx: CheckContext = {
    thresholds: DEFAULT_THRESHOLDS,
    now: NOW,
    reasonCounts: new Map(),
    rubberStampers: new Set(),
  };
  const base: ApprovalRecord = {
    id: 'x',
    source: 'test',
    status: 'approved',
    requestedAt: new Date(T0),
    requester: { name: 'etl-bot', known: true },
    request: { scopes: [{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }], text: undefined },
    reason: 'Load the March partition for the finance close',
    decisions: [],
    grant: undefined,
    actions: undefined,
    viewsRecorded: false,
  };
  const codesOf = (r: { findings: readonly { code: string }[] }) => r.findings.map((f) => f.code);

  it('requester: shared roles and bare keys', () => {
    const cases: [string | undefined, string[]][] = [
      ['arn:aws:iam::123456789012:role/Admin', ['requester.shared-role']],
      ['arn:aws:sts::123456789012:assumed-role/Deploy/i-0abc123', ['requester.shared-role']],
      [
        'arn:aws:sts::123456789012:assumed-role/Deploy/botocore-session-1772531000',
        ['requester.shared-role'],
      ],
      ['arn:aws:sts::123456789012:assumed-role/Deploy/etl-bot', []],
      ['AKIAIOSFODNN7EXAMPLE', ['requester.unknown-key']],
      ['ops-team', ['requester.shared-role']],
      [undefined, ['requester.missing']],
    ];
    for (const [name, want] of cases)
      assert.deepEqual(
        codesOf(checkRequester({ ...base, requester: { name, known: name !== undefined } }, ctx)),
        want,
        String(name),
      );
  });
  it('request: vague text and missing scope', () => {
    assert.deepEqual(codesOf(checkRequest({ ...base, request: { scopes: [], text: 'production access' } })), [
      'request.vague',
    ]);
    assert.deepEqual(codesOf(checkRequest({ ...base, request: { scopes: [], text: undefined } })), [
      'request.missing',
    ]);
    assert.deepEqual(
      codesOf(
        checkRequest({ ...base, request: { scopes: [{ action: '', resource: 'arn:x' }], text: undefined } }),
      ),
      ['request.incomplete'],
    );
  });
  it('decision: approved in chat is not a recorded decision', () => {
    const r = checkDecision(
      {
        ...base,
        decisions: [
          {
            approver: undefined,
            authenticated: false,
            verdict: 'approve',
            channel: 'slack',
            inRecord: false,
            comment: undefined,
            decidedAt: undefined,
            shownAt: undefined,
            reviewSeconds: undefined,
            viewedDetail: undefined,
          },
        ],
      },
      ctx,
    );
    assert.deepEqual(codesOf(r), ['decisions.not-in-record']);
    assert.equal(r.findings[0]?.kind, 'unproven');
    assert.match(r.findings[0]?.message ?? '', /slack/);
    assert.deepEqual(codesOf(checkDecision(base, ctx)), ['decisions.not-in-record']);
  });
  it('grant: issued on a denial, missing, no scope or lifetime', () => {
    const g = {
      id: 'g',
      scopes: undefined,
      issuedAt: new Date(T0),
      expiresAt: undefined,
      revokedAt: undefined,
      maxUses: undefined,
    };
    assert.deepEqual(codesOf(checkGrant({ ...base, status: 'denied', grant: g }, ctx)), [
      'grant.issued-on-denial',
    ]);
    assert.deepEqual(codesOf(checkGrant(base, ctx)), ['grant.missing']);
    assert.deepEqual(codesOf(checkGrant({ ...base, grant: g }, ctx)), [
      'grant.no-scope',
      'grant.no-lifetime',
    ]);
  });
  it('session: no action data cannot be tied back; inferred links are unproven', () => {
    assert.deepEqual(codesOf(checkSession(base)), ['actions.actions-not-linked']);
    const inferred = checkSession({
      ...base,
      actions: [
        { id: 'e1', at: new Date(T0), scopes: base.request.scopes, outcome: 'allowed', link: 'inferred' },
      ],
    });
    assert.deepEqual(codesOf(inferred), ['actions.inferred-link']);
  });
  it('matches globs in linear time, case-insensitively', () => {
    assert.equal(globMatch('shared*', 'Shared-Ops'), true);
    assert.equal(globMatch('*-team', 'ops-team'), true);
    assert.equal(globMatch('*-team', 'ops-teams'), false);
    assert.equal(globMatch('a*b*c', 'axxbyyc'), true);
    assert.equal(globMatch('a.b', 'axb'), false, 'dots are literal');
    // The shape that makes a `.*` regex backtrack; the linear matcher answers at once.
    assert.equal(globMatch('*a*a*a*a*a*a*a*b', 'a'.repeat(20000)), false);
  });
  it('normalizes reasons so case and punctuation do not hide boilerplate', () => {
    const hostile = `${'!'.repeat(50000)}x${'!'.repeat(50000)}`;
    assert.equal(normalizeReason(hostile), 'x');
    assert.equal(normalizeReason('  Routine   maintenance.  '), normalizeReason('routine maintenance'));
    assert.equal(normalizeReason('"N/A"'), 'n/a');
  });
});

describe('thresholds and flags', () => {
  it('layers defaults, config and flags', () => {
    const cfg = parseConfig(
      `aws:\n  account_id: "123456789012"\npolicies: [p.cedar]\naudit_check:\n  min_review_seconds: 45\n  max_fail_share: 0.25\n  trivial_reasons: [lgtm]\n`,
      '/tmp/x.yaml',
    );
    const t = thresholdsFrom(cfg.auditCheck, {});
    assert.equal(t.minReviewSeconds, 45);
    assert.equal(t.maxFailShare, 0.25);
    assert.ok(t.trivialReasons.includes('lgtm') && t.trivialReasons.includes('asdf'));
    assert.equal(thresholdsFrom(cfg.auditCheck, { 'max-fail-share': '0.5' }).maxFailShare, 0.5);
    assert.throws(() => thresholdsFrom(undefined, { 'max-fail-share': '2' }), /from 0 to 1/);
    assert.throws(() => thresholdsFrom(undefined, { 'min-review-seconds': 'abc' }), /number/);
  });
  it('rejects a bad audit_check section with file:line', () => {
    assert.throws(
      () =>
        parseConfig(
          `aws:\n  account_id: "123456789012"\npolicies: [p.cedar]\naudit_check:\n  max_fail_share: 3\n  bogus: 1\n`,
          '/tmp/x.yaml',
        ),
      (e: Error) =>
        /x\.yaml:5:\d+: audit_check\.max_fail_share/.test(e.message) &&
        /unknown key audit_check\.bogus/.test(e.message),
    );
  });
  it('parses --since as ISO or a duration back from now', () => {
    assert.equal(parseSince('7d', NOW)?.toISOString(), '2026-05-25T00:00:00.000Z');
    assert.equal(parseSince('2026-01-31T00:00:00Z', NOW)?.toISOString(), '2026-01-31T00:00:00.000Z');
    assert.throws(() => parseSince('last tuesday', NOW), /--since/);
  });
});
