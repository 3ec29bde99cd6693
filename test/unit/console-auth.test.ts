import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { approverName } from '../../src/api/oidc.js';
import { hashPassword, verifyPassword } from '../../src/api/passwords.js';
import { csrfMatches, Sessions } from '../../src/api/sessions.js';
import { StoreSignInThrottle } from '../../src/api/sign-in-throttle.js';
import { appliedGuards, checkApprove, confirmationText, DEFAULT_GUARDS } from '../../src/approvals/guards.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { readTerms } from '../../src/policy/annotations.js';

describe('sessions', () => {
  it('expire after their lifetime and end on sign-out', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = SqliteStore.open({ path: ':memory:', ledgerKey: randomBytes(32) });
    const s = new Sessions(store.coordination, 60, () => now);
    const { id, session } = await s.create('alice', 'password');
    assert.equal((await s.get(id))?.approver, 'alice');
    assert.ok(csrfMatches(session, session.csrf));
    assert.ok(!csrfMatches(session, undefined));
    assert.ok(!csrfMatches(session, `${session.csrf}a`));
    now = new Date(now.getTime() + 61_000);
    assert.equal(await s.get(id), undefined);
    const two = await s.create('bob', 'oidc');
    await s.end(two.id);
    assert.equal(await s.get(two.id), undefined);
    await store.close();
  });

  it('are shared, with the sign-in throttle, by two processes on one store file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-sessions-'));
    const key = randomBytes(32);
    const a = SqliteStore.open({ path: join(dir, 's.sqlite'), ledgerKey: key });
    const b = SqliteStore.open({ path: join(dir, 's.sqlite'), ledgerKey: key });
    try {
      const made = await new Sessions(a.coordination, 60).create('alice', 'password', 'scrypt$x');
      const onB = new Sessions(b.coordination, 60);
      assert.equal((await onB.get(made.id))?.csrf, made.session.csrf);
      await onB.end(made.id);
      assert.equal(await new Sessions(a.coordination, 60).get(made.id), undefined, 'signed out on both');
      const [ta, tb] = [new StoreSignInThrottle(a.coordination), new StoreSignInThrottle(b.coordination)];
      for (let i = 0; i < 5; i++) await (i % 2 === 0 ? ta : tb).failed('alice');
      assert.equal(await ta.blocked('alice'), true, 'five failures spread over two processes');
      assert.equal(await tb.blocked('alice'), true);
      assert.equal(await tb.blocked('bob'), false);
      await tb.failed('Not A Name!');
      assert.equal(await ta.blocked('Not A Name!'), false, 'names no approver can have are not tracked');
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('passwords', () => {
  it('scrypt-hashes, verifies, and refuses short passwords', async () => {
    const h = await hashPassword('twelve chars!');
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
    assert.ok(await verifyPassword('twelve chars!', h));
    assert.ok(!(await verifyPassword('twelve chars?', h)));
    assert.ok(!(await verifyPassword('x', 'garbage')));
    await assert.rejects(hashPassword('short'), /at least 12/);
  });
});

describe('SSO names', () => {
  it('derives approver names from claims and rejects unusable ones', () => {
    assert.equal(approverName('Jane.Doe@example.com'), 'jane-doe');
    assert.throws(() => approverName(undefined), /no user name/);
    assert.throws(() => approverName('@@'), /cannot make/);
  });
});

describe('guards', () => {
  const scopes = [{ action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' }];
  it('takes the tier from policy and never lets policy loosen it', () => {
    const g = appliedGuards(
      { requirements: [], maxGrantSeconds: 60, requireReason: false, guards: { risk: 'critical' } },
      scopes,
    );
    assert.deepEqual(g, {
      risk: 'critical',
      minReviewSeconds: 60,
      requireComment: true,
      confirmText: 'orders',
    });
    const m = appliedGuards(
      {
        requirements: [],
        maxGrantSeconds: 60,
        requireReason: false,
        guards: { risk: 'high', minReviewSeconds: 5, confirmResource: false },
      },
      scopes,
    );
    assert.equal(m.minReviewSeconds, DEFAULT_GUARDS.tiers.high.minReviewSeconds);
    const d = appliedGuards({ requirements: [], maxGrantSeconds: 60, requireReason: false }, scopes);
    assert.equal(d.risk, 'medium');
  });
  it('checks shown, time, comment and confirmation in that order', () => {
    const g = {
      risk: 'critical' as const,
      minReviewSeconds: 10,
      requireComment: true,
      confirmText: 'orders',
    };
    const now = new Date('2026-01-01T00:00:10Z');
    const c = { now, comment: 'ok', confirm: 'orders' };
    assert.equal(checkApprove('a', g, { ...c, shownAt: undefined })?.code, 'not-reviewed');
    assert.equal(
      checkApprove('a', g, { ...c, shownAt: new Date('2026-01-01T00:00:05Z') })?.code,
      'review-too-short',
    );
    const shownAt = new Date('2026-01-01T00:00:00Z');
    assert.equal(checkApprove('a', g, { ...c, shownAt, comment: ' ' })?.code, 'comment-required');
    assert.equal(checkApprove('a', g, { ...c, shownAt, confirm: 'ORDERS' })?.code, 'confirmation-required');
    assert.equal(checkApprove('a', g, { ...c, shownAt }), undefined);
  });
  it('confirmation text is each resource name once', () => {
    assert.equal(
      confirmationText([
        { action: 'a', resource: 'arn:aws:dynamodb:r:1:table/a' },
        { action: 'b', resource: 'arn:aws:dynamodb:r:1:table/b' },
        { action: 'c', resource: 'arn:aws:dynamodb:r:1:table/a' },
      ]),
      'a,b',
    );
  });
  it('annotations: guards need a hold and valid values', () => {
    assert.ok('problem' in readTerms('permit', { risk: 'high' }));
    assert.ok('problem' in readTerms('permit', { hold: 'dba', risk: 'extreme' }));
    assert.ok('problem' in readTerms('permit', { hold: 'dba', min_review: '2h' }));
    assert.ok('problem' in readTerms('permit', { hold: 'dba', confirm: 'yes' }));
    const ok = readTerms('permit', {
      hold: 'dba',
      risk: 'high',
      min_review: '45s',
      confirm: 'resource',
      require_comment: 'true',
    });
    assert.ok('terms' in ok);
    assert.deepEqual(ok.terms.guards, {
      risk: 'high',
      minReviewSeconds: 45,
      confirmResource: true,
      requireComment: true,
    });
  });
});
