/**
 * The approver API in process: the hono app itself (`app.request()`, no socket), on a real
 * in-memory SQLite store with the real Decider. Every answer below is checked against its
 * route's declared schema (checkResponses: strict objects), so a handler that starts
 * sending a field its schema does not declare fails here; the same check runs in every
 * socket test under `node --test`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { createAgent, createApprover } from '../../src/admin.js';
import { type ApiApp, createApiApp } from '../../src/api/api-app.js';
import { hashPassword } from '../../src/api/passwords.js';
import { type ApiEnv, routeDeclarer } from '../../src/api/route.js';
import { Decider } from '../../src/approvals/decide.js';
import { Waiter } from '../../src/approvals/waiter.js';
import { MasterKey } from '../../src/core/secrets.js';
import type { Approval } from '../../src/core/types.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';

const ORDERS = {
  action: 'dynamodb:PutItem',
  resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
};
const PASSWORD = 'correct horse battery staple';

function approval(id: string, agent: string): Approval {
  const now = new Date();
  return {
    id,
    requestId: `req_${id}`,
    agent,
    service: 'dynamodb',
    operation: 'PutItem',
    scopes: [ORDERS],
    reason: 'INC-7 fix order',
    summary: { table: 'orders', item: { id: 'o-1' } },
    policyReasons: ['orders-writes'],
    terms: {
      requirements: [{ group: 'dba', quorum: 1, policyId: 'orders-writes' }],
      maxGrantSeconds: 3600,
      requireReason: false,
    },
    status: 'pending',
    createdAt: now,
    expiresAt: new Date(now.getTime() + 600_000),
    decidedAt: undefined,
    grantId: undefined,
  };
}

type Answer = { status: number; headers: Headers; body: Record<string, unknown> };

describe('approver API in process (app.request, no socket)', () => {
  const store = SqliteStore.open({ path: ':memory:', ledgerKey: randomBytes(32) });
  const logs: string[] = [];
  let api: ApiApp;
  const tokens: Record<string, string> = {};
  const call = async (
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await api.app.request(path, {
      method,
      headers,
      ...(opts.body === undefined
        ? {}
        : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
    });
    const type = res.headers.get('content-type') ?? '';
    const body = type.startsWith('application/json') ? ((await res.json()) as Record<string, unknown>) : {};
    return { status: res.status, headers: res.headers, body };
  };

  before(async () => {
    const decider = new Decider(store, new Waiter(async (id) => (await store.getApproval(id))?.status));
    for (const [name, groups] of [
      ['alice', ['dba']],
      ['bob', ['dba']],
      ['carol', ['finance']],
    ] as const) {
      tokens[name] = (await createApprover(store, name, groups)).token;
    }
    await createAgent(store, MasterKey.fromBytes(randomBytes(32)), 'billing-bot');
    await store.createApproval(approval('apr_a', 'billing-bot'));
    await store.createApproval(approval('apr_b', 'billing-bot'));
    api = createApiApp({ store, decider, log: (l) => logs.push(l), checkResponses: true });
  });
  after(async () => {
    api.close();
    await store.close();
  });

  it('answers a whole approval lifecycle, every answer exactly as its schema declares', async () => {
    const alice = tokens.alice ?? '';
    const pending = await call('GET', '/v1/approvals?status=pending', { token: alice });
    assert.equal(pending.status, 200, JSON.stringify(pending.body));
    assert.deepEqual(
      (pending.body.approvals as { id: string }[]).map((a) => a.id),
      ['apr_a', 'apr_b'],
    );
    const detail = await call('GET', '/v1/approvals/apr_a', { token: alice });
    assert.equal(detail.status, 200, JSON.stringify(detail.body));
    assert.equal((detail.body.viewer as { approver: string }).approver, 'alice');
    const approved = await call('POST', '/v1/approvals/apr_a/approve', {
      token: alice,
      body: { comment: 'checked INC-7', durationSeconds: 600 },
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.state, 'approved');
    const grant = approved.body.grant as { id: string };

    // What the agent then did: one forwarded write under the grant, one refused read beside it.
    const at = new Date();
    const base = {
      at,
      agent: 'billing-bot',
      front: 'aws',
      service: 'dynamodb',
      policyReasons: [],
      latencyMs: 0,
      upstreamStatus: undefined,
      error: undefined,
    } as const;
    await store.recordIntent({
      ...base,
      requestId: 'req_w',
      operation: 'PutItem',
      scopes: [ORDERS],
      outcome: 'approved',
      grantId: grant.id,
      approvalId: 'apr_a',
      requestHash: 'a'.repeat(64),
      phase: 'intent',
    });
    await store.recordOutcome({
      requestId: 'req_w',
      at: new Date(),
      agent: 'billing-bot',
      grantId: grant.id,
      approvalId: 'apr_a',
      outcome: undefined,
      upstreamStatus: 200,
      latencyMs: 4,
      error: undefined,
    });
    await store.recordAction({
      ...base,
      requestId: 'req_r',
      operation: 'DeleteItem',
      scopes: [{ ...ORDERS, action: 'dynamodb:DeleteItem' }],
      outcome: 'denied',
      grantId: undefined,
      approvalId: undefined,
    });

    const grants = await call('GET', '/v1/grants?agent=billing-bot', { token: alice });
    assert.deepEqual(
      (grants.body.grants as { id: string }[]).map((g) => g.id),
      [grant.id],
    );
    const audit = await call('GET', '/v1/audit/apr_a', { token: alice });
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.deepEqual(
      (audit.body.actions as { outcome: string }[]).map((a) => a.outcome),
      ['approved'],
    );
    const records = await call('GET', '/v1/records?resource=orders', { token: alice });
    assert.equal(records.status, 200, JSON.stringify(records.body));
    assert.equal((records.body.records as unknown[]).length, 2);
    const full = await call('GET', '/v1/records/apr_a', { token: alice });
    assert.equal(full.status, 200, JSON.stringify(full.body));
    assert.deepEqual(
      (full.body.outOfGrant as { requestId: string }[]).map((a) => a.requestId),
      ['req_r'],
    );

    await call('GET', '/v1/approvals/apr_b', { token: tokens.bob ?? '' });
    const denied = await call('POST', '/v1/approvals/apr_b/deny', {
      token: tokens.bob ?? '',
      body: { comment: 'no ticket' },
    });
    assert.equal(denied.status, 200, JSON.stringify(denied.body));
    assert.equal(denied.body.state, 'denied');
    const revoked = await call('POST', `/v1/grants/${grant.id}/revoke`, { token: alice });
    assert.deepEqual(revoked.body, { revoked: grant.id, by: 'alice' });

    for (const path of ['/healthz', '/readyz', '/v1/auth/methods', '/v1/openapi.json']) {
      assert.equal((await call('GET', path)).status, 200, path);
    }
    assert.deepEqual(
      logs.filter((l) => l.includes('response-schema') || l.includes('unexpected')),
      [],
    );
  });

  it('keeps console sessions: sign-in, CSRF on every call but the two reads, the event stream, sign-out', async () => {
    await store.setApproverPassword('bob', await hashPassword(PASSWORD), new Date());
    const signIn = await call('POST', '/v1/session', { body: { name: 'bob', password: PASSWORD } });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    const setCookie = signIn.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly; SameSite=Strict/);
    const cookie = setCookie.split(';')[0] ?? '';
    const csrf = String(signIn.body.csrfToken);

    const noCsrf = await call('GET', '/v1/approvals', { headers: { cookie } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error, 'csrf');
    const session = await call('GET', '/v1/session', { headers: { cookie } });
    assert.equal(session.status, 200);
    assert.equal(session.body.csrfToken, csrf);
    assert.equal(
      (await call('GET', '/v1/approvals', { headers: { cookie, 'x-airlock-csrf': csrf } })).status,
      200,
    );
    // An unknown path is still authenticated first: without the token it is a CSRF refusal.
    assert.equal((await call('GET', '/v1/nothing', { headers: { cookie } })).body.error, 'csrf');
    assert.equal(
      (await call('GET', '/v1/nothing', { headers: { cookie, 'x-airlock-csrf': csrf } })).body.error,
      'no-route',
    );

    const events = await api.app.request('/v1/events', { headers: { cookie } });
    assert.equal(events.status, 200);
    assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^retry: 2000\n\nevent: queue\ndata: \{"approvals":\[/);
    await reader.cancel();

    const out = await call('DELETE', '/v1/session', { headers: { cookie, 'x-airlock-csrf': csrf } });
    assert.deepEqual(out.body, { signedOut: 'bob' });
    assert.match(
      out.headers.get('set-cookie') ?? '',
      /airlock_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/,
    );
    assert.equal((await call('GET', '/v1/session', { headers: { cookie } })).status, 401);
  });

  it('answers bad requests with the same codes as ever', async () => {
    const alice = tokens.alice ?? '';
    const cases: [string, string, Parameters<typeof call>[2], number, string][] = [
      ['GET', '/v1/approvals', {}, 401, 'unauthenticated'],
      ['GET', '/v1/nothing', {}, 401, 'unauthenticated'],
      ['GET', '/nothing', { token: alice }, 404, 'not-found'],
      ['PUT', '/v1/approvals', { token: alice }, 404, 'no-route'],
      ['GET', '//v1/approvals', { token: alice }, 404, 'no-route'],
      ['GET', '/v1/approvals?status=open', { token: alice }, 400, 'bad-status'],
      ['GET', '/v1/records?from=yesterday', { token: alice }, 400, 'bad-date'],
      ['POST', '/v1/approvals/apr_a/approve', { token: alice, body: '[1]' }, 400, 'bad-json'],
      ['POST', '/v1/approvals/apr_a/approve', { token: alice, body: { maxUses: 1.5 } }, 400, 'bad-request'],
      ['POST', '/v1/approvals/apr_a/approve', { token: alice, body: { breadth: 'all' } }, 400, 'bad-breadth'],
      [
        'POST',
        '/v1/approvals/apr_a/approve',
        { token: alice, body: { pad: 'x'.repeat(70_000) } },
        413,
        'too-large',
      ],
      ['POST', '/v1/approvals/apr_x/approve', { token: alice, body: '' }, 404, 'not-found'],
      [
        'GET',
        '/v1/approvals',
        { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x' } },
        403,
        'agent-credential',
      ],
      [
        'POST',
        '/v1/session',
        { body: 'name=bob', headers: { 'content-type': 'text/plain' } },
        415,
        'json-required',
      ],
      ['POST', '/v1/approvers/bob/revoke', { token: tokens.carol ?? '' }, 403, 'not-admin'],
      ['POST', '/v1/slack/interactions', { body: '' }, 404, 'slack-not-configured'],
    ];
    for (const [method, path, opts, status, error] of cases) {
      const r = await call(method, path, opts);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, error, `${method} ${path}`);
      assert.equal(typeof r.body.message, 'string');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
    const breadth = await call('POST', '/v1/approvals/apr_a/approve', {
      token: alice,
      body: { breadth: 'all' },
    });
    assert.match(String(breadth.body.message), /^breadth must be "exact" \(this request once\)/);
    const msg = await call('POST', '/v1/approvals/apr_a/approve', {
      token: alice,
      body: { durationSeconds: 'x' },
    });
    assert.equal(msg.body.message, 'durationSeconds must be an integer');
    const self = await call('POST', '/v1/approvers/carol/revoke', { token: tokens.carol ?? '' });
    assert.deepEqual(self.body, { revoked: 'carol', by: 'carol' });
  });

  it('documents exactly the API routes the app answers', async () => {
    const doc = (await call('GET', '/v1/openapi.json')).body as {
      openapi: string;
      paths: Record<string, object>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const answered = api.app.routes
      .filter((r) => r.method !== 'ALL' && r.path !== '/' && !r.path.startsWith('/console'))
      .map((r) => `${r.method} ${r.path.replaceAll(/:([^/]+)/g, '{$1}')}`);
    assert.deepEqual([...new Set(answered)].sort(), [...documented].sort());
  });
});

describe('response schema check', () => {
  function app(check: boolean) {
    const a = new OpenAPIHono<ApiEnv>();
    const route = routeDeclarer({
      app: a,
      check,
      auth: { approver: async (_c, next) => next(), 'session-read': async (_c, next) => next() },
    });
    route(
      {
        method: 'get',
        path: '/thing',
        summary: 'a thing',
        auth: 'none',
        responses: { 200: { description: 'it', json: z.strictObject({ name: z.string() }) } },
      },
      ({ c, json }) => json(c.req.query('status') === 'odd' ? 201 : 200, { name: 'x', secret: 'leaked' }),
    );
    a.onError(
      (err) => new Response(JSON.stringify({ error: err.name, message: err.message }), { status: 500 }),
    );
    return a;
  }

  it('fails a handler that sends a field its schema does not declare, or a status it does not declare', async () => {
    const extra = await app(true).request('/thing');
    assert.equal(extra.status, 500);
    const body = (await extra.json()) as { error: string; message: string };
    assert.equal(body.error, 'ResponseSchemaError');
    assert.match(body.message, /GET \/thing 200 does not match its schema: .*secret/);
    const odd = (await (await app(true).request('/thing?status=odd')).json()) as { message: string };
    assert.match(odd.message, /answered 201, which it does not declare/);
  });

  it('is off in service: the same handler answers as written', async () => {
    const r = await app(false).request('/thing');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { name: 'x', secret: 'leaked' });
  });
});
