/**
 * The OpenAPI document and the routes the server answers agree, both ways, over a socket.
 * The document is generated from the route declarations (src/api/route.ts); this list is
 * what the API has always answered, so a route that disappears from both still fails here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../support/harness.js';

/** Every route the API server answers, as `METHOD /path/{param}`. */
const API_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /v1/openapi.json',
  'GET /v1/auth/methods',
  'GET /v1/auth/oidc/login',
  'GET /v1/auth/oidc/callback',
  'POST /v1/session',
  'GET /v1/session',
  'DELETE /v1/session',
  'GET /v1/events',
  'GET /v1/approvals',
  'GET /v1/approvals/{id}',
  'POST /v1/approvals/{id}/approve',
  'POST /v1/approvals/{id}/deny',
  'GET /v1/grants',
  'POST /v1/grants/{id}/revoke',
  'POST /v1/approvers/{name}/revoke',
  'GET /v1/audit/{id}',
  'GET /v1/records',
  'GET /v1/records/{id}',
  'POST /v1/slack/interactions',
] as const;

describe('OpenAPI document', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ tables: [] });
  });
  after(async () => {
    await h.close();
  });

  it('is served at /v1/openapi.json as OpenAPI 3.1 and lists exactly API_ROUTES', async () => {
    const r = await fetch(`${h.airlock.apiUrl}/v1/openapi.json`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, object> };
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual([...documented].sort(), [...API_ROUTES].sort());
  });

  it('every documented route is answered (never "no-route"), with a bearer token', async () => {
    for (const route of API_ROUTES) {
      const [method, template] = route.split(' ') as [string, string];
      const path = template.replace('{id}', 'x_missing');
      const ctrl = new AbortController();
      const res = await fetch(`${h.airlock.apiUrl}${path}`, {
        method,
        redirect: 'manual',
        signal: ctrl.signal,
        headers: {
          authorization: `Bearer ${h.approvers.alice ?? ''}`,
          'content-type': 'application/json',
        },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      const type = res.headers.get('content-type') ?? '';
      const body = type.includes('application/json') ? ((await res.json()) as Record<string, unknown>) : {};
      ctrl.abort(); // the event stream never ends by itself
      assert.notEqual(body.error, 'no-route', `${route}: ${JSON.stringify(body)}`);
    }
  });

  it('answers undocumented routes with no-route', async () => {
    for (const [method, path] of [
      ['PUT', '/v1/approvals'],
      ['DELETE', '/v1/grants/x'],
      ['GET', '/v1/nothing'],
      ['POST', '/v1/records'],
    ] as const) {
      const res = await fetch(`${h.airlock.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${h.approvers.alice ?? ''}` },
      });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: string }).error, 'no-route', `${method} ${path}`);
    }
  });
});
