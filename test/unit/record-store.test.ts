/**
 * The store's side of the durability rule: intents resolve only once durable, outcomes
 * join their intents for readers (or show as outcome unknown), a lock held by another
 * connection is waited for without blocking the event loop and then fails closed, a
 * deleted file is noticed, and retry dedupe survives reopening the store.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ActionRecord, Approval } from '../../src/core/types.js';
import { joinActionOutcomes, OUTCOME_UNKNOWN } from '../../src/ledger/action-outcomes.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { StoreFault } from '../../src/ledger/store.js';

const key = randomBytes(32);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'airlock-rec-'));
  dirs.push(d);
  return join(d, 'airlock.sqlite');
}

const intent = (id: string): ActionRecord => ({
  requestId: id,
  at: new Date(),
  agent: 'bot',
  front: 'aws',
  service: 'dynamodb',
  operation: 'PutItem',
  scopes: [{ action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t' }],
  outcome: 'allowed',
  policyReasons: ['p'],
  upstreamStatus: undefined,
  latencyMs: 1,
  grantId: undefined,
  approvalId: undefined,
  error: undefined,
  requestHash: 'ab'.repeat(32),
});

const pendingApproval = (id: string): Approval => ({
  id,
  requestId: `req-${id}`,
  agent: 'bot',
  service: 'dynamodb',
  operation: 'PutItem',
  scopes: intent('x').scopes,
  reason: 'why',
  summary: {},
  policyReasons: ['hold'],
  terms: {
    requirements: [{ group: 'ops', quorum: 1, policyId: 'p1' }],
    maxGrantSeconds: 600,
    requireReason: false,
  },
  status: 'pending',
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 600_000),
  decidedAt: undefined,
  grantId: undefined,
});

describe('record before forward (SqliteStore)', () => {
  it('an intent is durable when its promise resolves, without waiting for the group-commit timer', async () => {
    const path = freshPath();
    const s = SqliteStore.open({ path, ledgerKey: key, groupCommitMs: 10_000 });
    const t0 = performance.now();
    await s.recordIntent(intent('r1'));
    assert.ok(performance.now() - t0 < 1000, 'not held for the 10 s timer');
    // Another connection sees it at once: it was committed, not merely queued.
    const other = new Database(path, { readonly: true });
    const n = other.prepare("SELECT count(*) AS n FROM ledger WHERE kind = 'action'").get() as { n: number };
    other.close();
    assert.equal(n.n, 1);
    await s.close();
  });

  it('joins outcomes to intents, and shows an intent without one as outcome unknown', async () => {
    const s = SqliteStore.open({ path: freshPath(), ledgerKey: key });
    await s.recordIntent(intent('done'));
    await s.recordIntent(intent('cut'));
    await s.recordOutcome({
      requestId: 'done',
      at: new Date(),
      agent: 'bot',
      grantId: undefined,
      approvalId: undefined,
      outcome: undefined,
      upstreamStatus: 200,
      latencyMs: 7,
      error: undefined,
    });
    const raw = await s.ledger({});
    assert.deepEqual(
      raw.map((e) => e.kind),
      ['action', 'action', 'action.outcome'],
    );
    assert.equal((await s.verify()).ok, true);
    const joined = joinActionOutcomes(raw).map((e) => JSON.parse(e.body) as Record<string, unknown>);
    assert.equal(joined.length, 2);
    const done = joined.find((b) => b.requestId === 'done');
    const cut = joined.find((b) => b.requestId === 'cut');
    assert.equal(done?.outcome, 'allowed');
    assert.equal(done?.upstreamStatus, 200);
    assert.equal(done?.phase, undefined);
    assert.equal(cut?.outcome, OUTCOME_UNKNOWN);
    assert.equal(cut?.decision, 'allowed');
    assert.match(String(cut?.error), /outcome unknown/);
    await s.close();
  });

  it('a write lock held elsewhere: the intent fails closed after lockWaitMs and the event loop keeps running', async () => {
    const path = freshPath();
    const s = SqliteStore.open({ path, ledgerKey: key, lockWaitMs: 400 });
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const err = await s.recordIntent(intent('locked')).then(
      () => undefined,
      (e: unknown) => e,
    );
    clearInterval(timer);
    const waited = performance.now() - t0;
    other.exec('ROLLBACK');
    other.close();
    assert.ok(err instanceof StoreFault, String(err));
    assert.match((err as Error).message, /locked/);
    assert.ok(waited >= 350 && waited < 3000, `${waited} ms`);
    // A wait on the event loop (SQLite's own busy_timeout) would let no timer run until it ended.
    assert.ok(ticks >= 5, `the event loop ran while waiting (${ticks} ticks)`);
    // A lock is not a fault of the store: it is healthy, and the next write goes through.
    await s.recordIntent(intent('after'));
    assert.equal(s.health().ok, true);
    await s.close();
  });

  it('a deleted store file fails every write and reports it', async () => {
    const path = freshPath();
    const s = SqliteStore.open({ path, ledgerKey: key });
    await s.recordIntent(intent('before'));
    rmSync(path);
    const err = await s.recordIntent(intent('after')).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreFault);
    const h = s.health();
    assert.equal(h.ok, false);
    assert.match(h.ok ? '' : h.problem, /deleted/);
    await assert.rejects(s.checkWritable(), StoreFault);
    await s.close();
  });

  it('retry dedupe survives a restart: the same fingerprint joins the pending approval', async () => {
    const path = freshPath();
    const first = SqliteStore.open({ path, ledgerKey: key });
    const a = await first.openApproval(pendingApproval('apr_1'), 'fp-1');
    assert.equal(a.id, 'apr_1');
    await first.close();
    const second = SqliteStore.open({ path, ledgerKey: key });
    const again = await second.openApproval(pendingApproval('apr_2'), 'fp-1');
    assert.equal(again.id, 'apr_1', 'joined the approval opened before the restart');
    const other = await second.openApproval(pendingApproval('apr_3'), 'fp-2');
    assert.equal(other.id, 'apr_3');
    assert.equal((await second.listApprovals({ status: 'pending' })).length, 2);
    await second.close();
  });
});
