/**
 * Figure: cost of `audit check` on a large ledger, against the floor of reading it.
 * Writes N approvals (request, view, decision, grant, two actions each) through the real
 * SqliteStore, then times, in the same process: the baseline (read every ledger entry and
 * JSON.parse its body — what any report must do) vs the full check (verify the chain, read,
 * build records, score six items, render text and HTML).
 * Usage: npx tsx bench/audit-check.ts [--approvals 5000]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recordsFromLedger } from '../src/audit-check/from-ledger.js';
import { DEFAULT_THRESHOLDS } from '../src/audit-check/record.js';
import { renderHtml } from '../src/audit-check/render-html.js';
import { renderText } from '../src/audit-check/render-text.js';
import { buildReport } from '../src/audit-check/report.js';
import type { Scope } from '../src/core/types.js';
import { SqliteStore } from '../src/ledger/sqlite/sqlite-store.js';

const { values } = parseArgs({ options: { approvals: { type: 'string', default: '5000' } } });
const N = Number(values.approvals);
const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-check-'));
const store = SqliteStore.open({ path: join(dir, 'a.sqlite'), ledgerKey: randomBytes(32) });
const T0 = Date.parse('2026-01-01T00:00:00Z');

try {
  const written = performance.now();
  await store.createAgent({
    name: 'bot',
    accessKeyId: 'ALAKBENCH00000000001',
    sealedSecret: 'x',
    createdAt: new Date(T0),
    revokedAt: undefined,
  });
  for (const name of ['alice', 'bob', 'carol'])
    await store.createApprover({
      name,
      groups: ['dba'],
      tokenHash: name,
      createdAt: new Date(T0),
      revokedAt: undefined,
    });
  for (let i = 0; i < N; i++) {
    const at = (s: number) => new Date(T0 + i * 600_000 + s * 1000);
    const scopes: Scope[] = [
      { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:us-east-1:123456789012:table/t${i % 50}` },
    ];
    const id = `ap-${i}`;
    const approver = ['alice', 'bob', 'carol'][i % 3] as string;
    await store.createApproval({
      id,
      requestId: `rq-${i}`,
      agent: 'bot',
      service: 'dynamodb',
      operation: 'PutItem',
      scopes,
      reason: i % 7 === 0 ? 'routine' : `Change ${i} for ticket OPS-${i}`,
      summary: {},
      policyReasons: ['p'],
      terms: {
        requirements: [{ group: 'dba', quorum: 1, policyId: 'p' }],
        maxGrantSeconds: 900,
        requireReason: true,
      },
      status: 'pending',
      createdAt: at(0),
      expiresAt: at(900),
      decidedAt: undefined,
      grantId: undefined,
    });
    await store.markShown(id, approver, at(5));
    const grant = {
      id: `gr-${i}`,
      approvalId: id,
      agent: 'bot',
      scopes,
      issuedAt: at(5 + (i % 90)),
      expiresAt: at(905),
      maxUses: undefined,
      uses: 0,
      revokedAt: undefined,
      revokedBy: undefined,
    };
    await store.recordDecision(
      {
        approvalId: id,
        approver,
        verdict: 'approve',
        comment: 'ok',
        channel: 'api',
        shownAt: at(5),
        decidedAt: grant.issuedAt,
      },
      { status: 'approved', grant },
    );
    for (const s of [100, 200])
      void store.recordAction({
        requestId: `a-${i}-${s}`,
        at: at(s),
        agent: 'bot',
        front: 'aws',
        service: 'dynamodb',
        operation: 'PutItem',
        scopes,
        outcome: 'allowed',
        policyReasons: ['p'],
        upstreamStatus: 200,
        latencyMs: 1,
        grantId: grant.id,
        approvalId: id,
        error: undefined,
      });
  }
  const entries = (await store.ledger({})).length;
  console.log(
    `wrote ${N} approvals, ${entries} ledger entries in ${((performance.now() - written) / 1000).toFixed(1)} s`,
  );

  const time = async (fn: () => Promise<unknown>) => {
    const best: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await fn();
      best.push(performance.now() - t);
    }
    return Math.min(...best);
  };
  const baseline = await time(async () => {
    let n = 0;
    for (const e of await store.ledger({})) n += Object.keys(JSON.parse(e.body) as object).length;
    return n;
  });
  const full = await time(async () => {
    await store.verify();
    const { records, orphans } = recordsFromLedger(await store.ledger({}));
    const report = buildReport({
      source: 'bench',
      records,
      orphans,
      thresholds: DEFAULT_THRESHOLDS,
      filter: {},
      now: new Date(),
    });
    return renderText(report).length + renderHtml(report).length;
  });
  console.log(`baseline (read + parse every entry): ${baseline.toFixed(0)} ms`);
  console.log(`audit check (verify + records + six items + text + html): ${full.toFixed(0)} ms`);
  console.log(
    `ratio: ${(full / baseline).toFixed(2)}x the read; ${((full / N) * 1000).toFixed(0)} µs per approval`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
