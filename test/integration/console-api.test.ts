/**
 * The approver API as the console uses it: decision-quality guards enforced by the
 * server, console sessions with CSRF tokens, agents refused at sign-in, sign-out.
 * Real AWS SDK requests held at the gateway; guards with a 2 s minimum review.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hashPassword } from '../../src/api/passwords.js';
import { auditRecord } from '../../src/ledger/audit.js';
import { signIn, startGuardedHarness } from '../support/console.js';
import { type Harness, waitForPending } from '../support/harness.js';
import { insertApproverRow } from '../support/raw-rows.js';

const PASSWORD = 'correct horse battery staple';

async function itemIn(h: Harness, table: string, id: string): Promise<unknown> {
  return (await h.direct.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }))).Item;
}

describe('decision-quality guards (server-enforced)', () => {
  let h: Harness;
  before(async () => {
    h = await startGuardedHarness();
  });
  after(async () => {
    await h.close();
  });

  it('refuses an approve before the detail was shown and before the minimum review; then approves', async () => {
    const alice = h.approvers.alice ?? '';
    const put = h
      .client({ reason: 'INC-9 fix order' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'g-1' } } }));
    const pending = await waitForPending(h, alice, 'PutItem');
    const id = String(pending.id);
    assert.equal((pending.guards as { risk: string }).risk, 'critical');
    const body = { comment: 'checked INC-9', confirm: 'orders' };

    const unseen = await h.api('POST', `/v1/approvals/${id}/approve`, alice, body);
    assert.equal(unseen.status, 409);
    assert.equal(unseen.body.error, 'not-reviewed');

    const shown = await h.api('GET', `/v1/approvals/${id}`, alice);
    const review = shown.body.review as {
      minReviewSeconds: number;
      confirmText: string;
      requireComment: boolean;
    };
    assert.equal(review.minReviewSeconds, 2);
    assert.equal(review.confirmText, 'orders');
    assert.equal(review.requireComment, true);
    const early = await h.api('POST', `/v1/approvals/${id}/approve`, alice, body);
    assert.equal(early.status, 409);
    assert.equal(early.body.error, 'review-too-short');
    assert.match(String(early.body.message), /try again in \ds/);
    // Still held: nothing written, still pending.
    assert.equal(await itemIn(h, 'orders', 'g-1'), undefined);
    assert.equal(
      ((await h.api('GET', `/v1/approvals/${id}`, alice)).body.approval as { status: string }).status,
      'pending',
    );

    await new Promise((r) => setTimeout(r, 2100));
    const noComment = await h.api('POST', `/v1/approvals/${id}/approve`, alice, { confirm: 'orders' });
    assert.equal(noComment.status, 400);
    assert.equal(noComment.body.error, 'comment-required');
    const wrongName = await h.api('POST', `/v1/approvals/${id}/approve`, alice, {
      ...body,
      confirm: 'order',
    });
    assert.equal(wrongName.status, 400);
    assert.equal(wrongName.body.error, 'confirmation-required');
    // Another approver's clock is their own: bob has not opened it.
    const bob = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.bob ?? '', body);
    assert.equal(bob.body.error, 'not-reviewed');

    const ok = await h.api('POST', `/v1/approvals/${id}/approve`, alice, body);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.state, 'approved');
    await put;
    assert.ok(await itemIn(h, 'orders', 'g-1'));

    await new Promise((r) => setTimeout(r, 50));
    const rec = await auditRecord(h.airlock.store, id);
    const d = rec?.decisions[0] as Record<string, unknown>;
    assert.equal(d.channel, 'api');
    assert.equal(d.viewedDetail, true);
    assert.ok(Number(d.reviewSeconds) >= 2, String(d.reviewSeconds));
    assert.deepEqual(d.guards, {
      risk: 'critical',
      minReviewSeconds: 2,
      requireComment: true,
      confirmText: 'orders',
    });
  });

  it('searches records by resource, agent, approval, grant and time; a record lists its actions', async () => {
    const alice = h.approvers.alice ?? '';
    const all = await h.api('GET', '/v1/records?resource=orders', alice);
    const recs = all.body.records as { id: string; grant: { id: string; active: boolean } | null }[];
    assert.equal(recs.length, 1);
    const rec = recs[0];
    assert.ok(rec?.grant);
    // Critical risk: the grant is `exact` by default (docs/POLICY.md), spent by the request it approved.
    assert.equal(rec.grant.active, false);
    const byGrant = await h.api('GET', `/v1/records?grant=${rec.grant.id}`, alice);
    assert.deepEqual(
      (byGrant.body.records as { id: string }[]).map((r) => r.id),
      [rec.id],
    );
    const byApproval = await h.api('GET', `/v1/records?approval=${rec.id}&agent=billing-bot`, alice);
    assert.equal((byApproval.body.records as unknown[]).length, 1);
    const future = await h.api(
      'GET',
      `/v1/records?from=${new Date(Date.now() + 60_000).toISOString()}`,
      alice,
    );
    assert.equal((future.body.records as unknown[]).length, 0);
    assert.equal((await h.api('GET', '/v1/records?from=yesterday', alice)).body.error, 'bad-date');
    const full = await h.api('GET', `/v1/records/${rec.id}`, alice);
    const audit = full.body.audit as { actions: { outcome: string }[] };
    assert.deepEqual(
      audit.actions.map((a) => a.outcome),
      ['approved'],
    );
  });

  it('default tier: no waiting, but the detail must still have been shown; denials always need a comment', async () => {
    const carolless = h.approvers.alice ?? '';
    const put = h
      .client({ reason: 'add customer' })
      .send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'c-1' } } }));
    const pending = await waitForPending(h, carolless, 'PutItem');
    const id = String(pending.id);
    assert.equal((pending.guards as { risk: string }).risk, 'medium');
    const noDenyComment = await h.api('POST', `/v1/approvals/${id}/deny`, carolless, {});
    assert.equal(noDenyComment.body.error, 'comment-required');
    assert.equal(
      (await h.api('POST', `/v1/approvals/${id}/approve`, carolless, {})).body.error,
      'not-reviewed',
    );
    await h.api('GET', `/v1/approvals/${id}`, carolless);
    const ok = await h.api('POST', `/v1/approvals/${id}/approve`, carolless, {});
    assert.equal(ok.body.state, 'approved');
    await put;
  });
});

describe('console sessions', () => {
  let h: Harness;
  before(async () => {
    h = await startGuardedHarness();
    await h.airlock.store.setApproverPassword('alice', await hashPassword(PASSWORD), new Date());
  });
  after(async () => {
    await h.close();
  });

  it('signs in with a password into an HttpOnly, SameSite=Strict session; wrong passwords are refused', async () => {
    const bad = await fetch(`${h.airlock.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'alice', password: 'wrong password here' }),
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const form = await fetch(`${h.airlock.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `name=alice&password=${encodeURIComponent(PASSWORD)}`,
    });
    assert.equal(form.status, 415, 'a cross-site form post cannot sign in');
    const s = await signIn(h, 'alice', PASSWORD);
    assert.match(s.setCookie, /HttpOnly/);
    assert.match(s.setCookie, /SameSite=Strict/);
    assert.doesNotMatch(s.setCookie, /Secure/, 'no Secure flag over plain http');
    const me = await s.call('GET', '/v1/session', { csrf: null });
    assert.equal(me.status, 200);
    assert.equal(me.body.approver, 'alice');
    assert.equal(me.body.csrfToken, s.csrf);
  });

  it('pauses sign-in for a name after five wrong passwords, even with the right one', async () => {
    await h.airlock.store.setApproverPassword('bob', await hashPassword(PASSWORD), new Date());
    const attempt = (password: string) =>
      fetch(`${h.airlock.apiUrl}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bob', password }),
      });
    for (let i = 0; i < 5; i++) assert.equal((await attempt(`wrong password ${i}`)).status, 401);
    const paused = await attempt(PASSWORD);
    assert.equal(paused.status, 429);
    assert.equal(paused.headers.get('set-cookie'), null);
  });

  it('requires the CSRF token on every cookie-authenticated call; a forged approve leaves the request held', async () => {
    const s = await signIn(h, 'alice', PASSWORD);
    const put = h
      .client({ reason: 'csrf test' })
      .send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'csrf-1' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const id = String(pending.id);
    assert.equal((await s.call('GET', `/v1/approvals/${id}`, { csrf: null })).body.error, 'csrf');
    const shown = await s.call('GET', `/v1/approvals/${id}`);
    assert.equal(shown.status, 200);
    for (const csrf of [null, '', 'x'.repeat(32), `${s.csrf}x`]) {
      const forged = await s.call('POST', `/v1/approvals/${id}/approve`, { body: { comment: 'x' }, csrf });
      assert.equal(forged.status, 403, String(csrf));
      assert.equal(forged.body.error, 'csrf');
    }
    assert.equal(await itemIn(h, 'customers', 'csrf-1'), undefined);
    const ok = await s.call('POST', `/v1/approvals/${id}/approve`, { body: { comment: 'fine' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.decision as { channel: string }).channel, 'console');
    await put;
  });

  it('refuses agent credentials at sign-in and on the API', async () => {
    const attempt = (name: string, headers: Record<string, string> = {}) =>
      fetch(`${h.airlock.apiUrl}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name, password: h.agent.secretAccessKey }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    for (const name of [h.agent.name, h.agent.accessKeyId]) {
      const r = await attempt(name);
      assert.equal(r.status, 403, name);
      assert.equal(r.body.error, 'agent-credential');
    }
    const sigv4 = await attempt('alice', {
      authorization: `AWS4-HMAC-SHA256 Credential=${h.agent.accessKeyId}/20260101/us-east-1/dynamodb/aws4_request`,
    });
    assert.equal(sigv4.body.error, 'agent-credential');
    const sso = await fetch(`${h.airlock.apiUrl}/v1/auth/oidc/login`, {
      redirect: 'manual',
      headers: { authorization: `AWS4-HMAC-SHA256 Credential=${h.agent.accessKeyId}/x` },
    });
    assert.equal(sso.status, 403);
    // The agent's name cannot be used even if an approver row carrying it exists (the store
    // refuses to create one: written into the file by hand).
    insertApproverRow(h.config.dataDir, h.agent.name, ['dba'], 'unused-hash-for-test');
    await h.airlock.store.setApproverPassword(h.agent.name, await hashPassword(PASSWORD), new Date());
    const self = await fetch(`${h.airlock.apiUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: h.agent.name, password: PASSWORD }),
    });
    assert.equal(self.status, 403);
  });

  it('signs out: the session cookie stops working', async () => {
    const s = await signIn(h, 'alice', PASSWORD);
    assert.equal((await s.call('GET', '/v1/approvals')).status, 200);
    const out = await s.call('DELETE', '/v1/session');
    assert.equal(out.status, 200);
    assert.equal((await s.call('GET', '/v1/approvals')).status, 401);
  });

  it('serves the console with a strict CSP and no inline script', async () => {
    const r = await fetch(`${h.airlock.apiUrl}/console/`);
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await r.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'no inline style or handlers');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from a CDN');
  });
});
