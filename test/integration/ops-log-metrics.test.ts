/**
 * The operator's view of one scripted session: an agent created, requests allowed, denied
 * and held, a hold approved, a grant revoked, a console sign-in. The structured log has one
 * line per request with its fields, one per decision and grant change, and none of the
 * secrets used anywhere; /metrics, read with a strict text parser, counts what was sent.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hashPassword } from '../../src/api/passwords.js';
import { createLogger } from '../../src/ops/log.js';
import { signIn } from '../support/console.js';
import { type Harness, startHarness, UPSTREAM_CREDS, waitForPending } from '../support/harness.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const PASSWORD = 'console-password-never-logged-7Q';
const PAYLOAD = 'payload-value-never-logged-zebra';
const REASON = 'INC-77 reason text kept out of the log';

describe('structured log and metrics of a full session', () => {
  let h: Harness;
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  const secrets: string[] = [PASSWORD, PAYLOAD, REASON, UPSTREAM_CREDS.secretAccessKey];

  before(async () => {
    h = await startHarness({ logger: createLogger({ destination: sink, level: 'debug' }) });
    secrets.push(h.agent.secretAccessKey, ...Object.values(h.approvers));
    await h.airlock.store.setApproverPassword('alice', await hashPassword(PASSWORD), new Date());
  });
  after(async () => {
    await h.close();
  });

  it('logs one line per request, decision and grant change, and no secret', async () => {
    const alice = h.approvers.alice ?? '';
    const agent = h.client({ reason: REASON });
    await agent.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: PAYLOAD } } }));
    await agent.send(new GetItemCommand({ TableName: 'customers', Key: { id: { S: 'c-1' } } }));
    await assert.rejects(agent.send(new DeleteTableCommand({ TableName: 'orders' })), /AccessDenied/);
    const put = agent.send(
      new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-1' }, note: { S: PAYLOAD } } }),
    );
    const pending = await waitForPending(h, alice, 'PutItem');
    const id = String(pending.id);
    const session = await signIn(h, 'alice', PASSWORD);
    secrets.push(session.csrf, session.cookie.split('=')[1] ?? '');
    assert.equal((await session.call('GET', `/v1/approvals/${id}`)).status, 200);
    const approved = await session.call('POST', `/v1/approvals/${id}/approve`, {
      body: { comment: 'checked the order' },
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    await put;
    const grantId = String((approved.body.grant as { id: string }).id);
    assert.equal((await h.api('POST', `/v1/grants/${grantId}/revoke`, alice)).status, 200);
    // A wrong token and an agent key used as a token are refused, and not logged either.
    await h.api('GET', '/v1/approvals', `alt_${'x'.repeat(30)}`);
    await h.api('GET', '/v1/approvals', h.agent.secretAccessKey);
    await new Promise((r) => setTimeout(r, 100));

    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l.event === 'request');
    assert.deepEqual(
      requests.map((r) => `${String(r.operation)}:${String(r.outcome)}`),
      ['GetItem:allowed', 'GetItem:allowed', 'DeleteTable:denied', 'PutItem:approved'],
    );
    for (const r of requests) {
      for (const field of [
        'time',
        'level',
        'requestId',
        'front',
        'agent',
        'service',
        'operation',
        'resources',
        'outcome',
        'latencyMs',
      ]) {
        assert.ok(field in r, `${field} missing in ${JSON.stringify(r)}`);
      }
      assert.equal(r.front, 'aws');
      assert.equal(r.agent, 'billing-bot');
    }
    const write = requests[3] ?? {};
    assert.equal(write.approvalId, id);
    assert.equal(write.grantId, grantId);
    assert.equal(write.upstreamStatus, 200);
    assert.deepEqual(write.resources, ['arn:aws:dynamodb:us-east-1:123456789012:table/orders']);
    assert.equal(requests[2]?.level, 'warn');
    const decisions = lines.filter((l) => l.event === 'decision');
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.approver, 'alice');
    assert.equal(decisions[0]?.channel, 'console');
    assert.equal(decisions[0]?.state, 'approved');
    const grants = lines.filter((l) => l.event === 'grant').map((l) => l.change);
    assert.deepEqual(grants, ['issued', 'revoked']);

    for (const s of secrets) {
      assert.ok(s.length >= 8, 'a secret to look for');
      assert.equal(log.includes(s), false, `the log contains a secret: ${s.slice(0, 6)}…`);
    }
  });

  it('serves /metrics in the text format with counts matching the session', async () => {
    const res = await fetch(`${h.airlock.apiUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheusText(await res.text());
    const req = (operation: string, outcome: string) =>
      sampleValue(samples, 'airlock_requests_total', {
        front: 'aws',
        service: 'dynamodb',
        operation,
        outcome,
      });
    assert.equal(req('GetItem', 'allowed'), 2);
    assert.equal(req('DeleteTable', 'denied'), 1);
    assert.equal(req('PutItem', 'approved'), 1);
    assert.equal(sampleValue(samples, 'airlock_requests_total'), 4);
    assert.equal(types.get('airlock_requests_total'), 'counter');
    assert.equal(
      sampleValue(samples, 'airlock_decisions_total', { channel: 'console', verdict: 'approve' }),
      1,
    );
    assert.equal(sampleValue(samples, 'airlock_time_to_decision_seconds_count', { state: 'approved' }), 1);
    assert.equal(sampleValue(samples, 'airlock_grant_uses_total', { front: 'aws' }), 1);
    assert.equal(sampleValue(samples, 'airlock_grants_issued_total'), 1);
    assert.equal(sampleValue(samples, 'airlock_grants_revoked_total'), 1);
    assert.equal(sampleValue(samples, 'airlock_holds_pending'), 0);
    assert.equal(sampleValue(samples, 'airlock_upstream_latency_seconds_count', { service: 'dynamodb' }), 3);
    assert.ok(sampleValue(samples, 'airlock_policy_evaluation_seconds_count') >= 4);
    assert.ok(sampleValue(samples, 'airlock_ledger_commit_batch_size_count') >= 1);
    assert.ok(
      sampleValue(samples, 'airlock_ledger_commit_batch_size_sum') >= 7,
      'intents, outcomes, refusal',
    );
    assert.equal(types.get('airlock_ledger_commit_seconds'), 'histogram');
  });

  it('counts a pending hold while it waits', async () => {
    const put = h
      .client({ reason: REASON })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-2' } } }))
      .catch(() => undefined);
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const { samples } = parsePrometheusText(await (await fetch(`${h.airlock.apiUrl}/metrics`)).text());
    assert.equal(sampleValue(samples, 'airlock_holds_pending'), 1);
    await h.api('POST', `/v1/approvals/${String(pending.id)}/deny`, h.approvers.alice ?? '', {
      comment: 'not now',
    });
    await put;
  });

  it('/readyz reports the store, policies and credentials', async () => {
    const r = await fetch(`${h.airlock.apiUrl}/readyz`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.ok, true);
    assert.ok(Number(body.policies) > 0);
  });
});
