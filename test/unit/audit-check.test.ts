/**
 * The six-item checks over a ledger generated through the real SqliteStore API:
 * every failure mode and every pass, orphan actions, per-approver metrics, filters,
 * thresholds and the ledger adapter (rules on other records: audit-check-rules.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordsFromLedger } from '../../src/audit-check/from-ledger.js';
import { type ApprovalRecord, DEFAULT_THRESHOLDS, type OrphanAction } from '../../src/audit-check/record.js';
import { buildReport, type CheckReport } from '../../src/audit-check/report.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import type { LedgerEntry } from '../../src/ledger/store.js';
import { EXPECTED, EXPECTED_ORPHANS, T0, writeScenarios } from '../support/audit-ledger.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const codes = (r: CheckReport, id: string): string[] => {
  const s = r.records.find((x) => x.record.id === id);
  assert.ok(s, `record ${id} was scored`);
  return [...new Set(s.items.flatMap((i) => i.findings.map((f) => f.code)))].sort();
};

describe('audit check over a generated ledger', () => {
  let dir: string;
  let records: ApprovalRecord[];
  let orphans: OrphanAction[];
  let report: CheckReport;
  const t = DEFAULT_THRESHOLDS;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-audit-check-'));
    const store = SqliteStore.open({ path: join(dir, 'a.sqlite'), ledgerKey: randomBytes(32) });
    await writeScenarios(store);
    const verified = await store.verify();
    assert.equal(verified.ok, true);
    ({ records, orphans } = recordsFromLedger(await store.ledger({})));
    await store.close();
    report = buildReport({ source: 'test', records, orphans, thresholds: t, filter: {}, now: NOW });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds exactly the expected named reasons for every scenario, and passes the good ones', () => {
    for (const [id, want] of Object.entries(EXPECTED))
      assert.deepEqual(codes(report, id), [...want].sort(), id);
    const passing = report.records.filter((s) => s.ok).map((s) => s.record.id);
    assert.deepEqual(passing.sort(), ['ap-denied', 'ap-good', 'ap-good-2']);
    assert.equal(report.records.length, Object.keys(EXPECTED).length);
  });

  it('fails only the item each scenario targets', () => {
    const item = (id: string) => report.records.find((s) => s.record.id === id)?.failedItems;
    assert.deepEqual(item('ap-shared'), ['requester']);
    assert.deepEqual(item('ap-wildcard'), ['request']);
    assert.deepEqual(item('ap-no-reason'), ['reason']);
    assert.deepEqual(item('ap-fast'), ['decisions']);
    assert.deepEqual(item('ap-broad-grant'), ['grant']);
    assert.deepEqual(item('ap-outside'), ['actions']);
    assert.deepEqual(item('ap-stamp-1'), ['reason', 'decisions']);
  });

  it('reports actions without the approval they needed, and not plain reads', () => {
    assert.deepEqual(orphans.map((o) => o.code).sort(), EXPECTED_ORPHANS);
    assert.ok(orphans.every((o) => o.scopes.every((s) => s.action === 'dynamodb:PutItem')));
    assert.equal(report.totals.orphanActions, 3);
    assert.equal(report.items.actions.codes['actions.unapproved-action'], 1);
  });

  it('does not score pending approvals', () => {
    assert.equal(report.totals.notScored, 1);
    assert.ok(!report.records.some((s) => s.record.id === 'ap-pending'));
  });

  it('computes per-approver metrics and flags only the rubber stamp', () => {
    const m = new Map(report.approvers.map((a) => [a.approver, a]));
    const carol = m.get('carol');
    assert.ok(carol);
    assert.equal(carol.approvals, 5);
    assert.equal(carol.denials, 0);
    assert.equal(carol.fastOrUnviewed, 5);
    assert.equal(carol.stampShare, 1);
    assert.equal(carol.medianReviewSeconds, 2);
    assert.equal(carol.medianTimeToDecisionSeconds, 7);
    assert.equal(carol.rubberStamp, true);
    const dave = m.get('dave');
    assert.ok(dave);
    // Both of dave's approvals are bad (one fast, one unread) but two are too few to call a pattern.
    assert.equal(dave.fastOrUnviewed, 2);
    assert.equal(dave.unviewed, 1);
    assert.equal(dave.rubberStamp, false);
    const bob = m.get('bob');
    assert.equal(bob?.denials, 2);
    assert.equal(bob?.rubberStamp, false);
    const alice = m.get('alice');
    assert.equal(alice?.rubberStamp, false);
    assert.equal(alice?.fastOrUnviewed, 0);
    // 5 stamps + ap-unviewed + ap-fast out of 21 approved records.
    assert.equal(report.totals.rubberStampShare, 7 / 21);
  });

  it('gates on the failing share, orphans included', () => {
    assert.equal(report.totals.failing, 20);
    assert.equal(report.totals.failShare, (20 + 3) / (23 + 3));
    assert.equal(report.gate.passed, false);
    const lenient = buildReport({
      source: 'test',
      records,
      orphans,
      thresholds: { ...t, maxFailShare: 0.9 },
      filter: {},
      now: NOW,
    });
    assert.equal(lenient.gate.passed, true);
  });

  it('filters by agent, resource and since, keeping patterns found across the whole ledger', () => {
    const shared = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: t,
      filter: { agent: 'shared-ops' },
      now: NOW,
    });
    assert.deepEqual(
      shared.records.map((s) => s.record.id),
      ['ap-shared'],
    );
    assert.equal(shared.totals.orphanActions, 0);
    const late = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: t,
      filter: { since: new Date(T0 + 8 * 86400_000) },
      now: NOW,
    });
    assert.deepEqual(late.records.map((s) => s.record.id).sort(), [
      'ap-denied-but-ran',
      'ap-mismatch',
      'ap-outside',
      'ap-revoked-then-used',
    ]);
    assert.equal(late.totals.orphanActions, 3);
    // carol's pattern is found over all records even when one stamp is selected alone.
    const one = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: t,
      filter: { since: new Date(T0 + 6 * 86400_000) },
      now: NOW,
    });
    assert.ok(codes(one, 'ap-stamp-2').includes('decisions.rubber-stamp-approver'));
    const wild = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: t,
      filter: { resource: 'table/*' },
      now: NOW,
    });
    assert.ok(wild.records.some((s) => s.record.id === 'ap-wildcard'));
    assert.ok(wild.records.length > 1, 'a glob matches concrete tables too');
    assert.equal(
      buildReport({
        source: 't',
        records,
        orphans,
        thresholds: t,
        filter: { resource: 'table/ledger' },
        now: NOW,
      }).records.length,
      0,
    );
  });

  it('applies a different review threshold', () => {
    const strict = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: { ...t, minReviewSeconds: 300 },
      filter: {},
      now: NOW,
    });
    assert.ok(codes(strict, 'ap-good').includes('decisions.rubber-stamp-fast'), '120 s is under 300 s');
    assert.ok(!codes(strict, 'ap-good-2').includes('decisions.rubber-stamp-fast'), '360 s is not');
  });

  it('times the timeline by request day', () => {
    assert.equal(report.timeline[0]?.day, '2026-03-02');
    assert.equal(
      report.timeline.reduce((n, b) => n + b.records, 0),
      23,
    );
    const day3 = report.timeline.find((b) => b.day === '2026-03-05');
    assert.equal(day3?.failing.reason, 2);
  });
});

describe('ledger adapter', () => {
  const entry = (seq: number, kind: LedgerEntry['kind'], body: unknown): LedgerEntry => ({
    seq,
    at: new Date(T0 + seq * 1000),
    kind,
    agent: 'bot',
    approvalId: 'ap-1',
    grantId: undefined,
    body: JSON.stringify(body),
    prevHash: '',
    hash: '',
  });
  it('uses decision-quality fields when present and tolerates unknown ones', () => {
    const { records } = recordsFromLedger([
      entry(1, 'agent.created', { name: 'bot' }),
      entry(2, 'approver.created', { name: 'alice' }),
      entry(3, 'approval.requested', {
        id: 'ap-1',
        agent: 'bot',
        scopes: [{ action: 'dynamodb:PutItem', resource: 'arn:x' }],
        reason: 'r',
        createdAt: new Date(T0).toISOString(),
      }),
      entry(4, 'approval.decided', {
        approvalId: 'ap-1',
        approver: 'alice',
        verdict: 'approve',
        channel: 'console',
        decidedAt: new Date(T0 + 600_000).toISOString(),
        review_seconds: 3,
        viewed_detail: false,
        guards: ['typed-resource-name'],
        somethingNew: { x: 1 },
      }),
      entry(5, 'approval.resolved', { approvalId: 'ap-1', status: 'approved' }),
    ]);
    const d = records[0]?.decisions[0];
    assert.equal(d?.reviewSeconds, 3);
    assert.equal(d?.viewedDetail, false);
    assert.equal(d?.authenticated, true);
    assert.equal(records[0]?.requester.known, true);
  });
  it('skips an entry whose body is not JSON rather than crashing', () => {
    const bad: LedgerEntry = { ...entry(1, 'action', {}), body: '{not json' };
    assert.deepEqual(recordsFromLedger([bad]).records, []);
  });
});
