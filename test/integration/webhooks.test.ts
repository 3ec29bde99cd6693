/**
 * Signed webhooks from the store's outbox: a receiver verifying with the standardwebhooks
 * library, retries after a 500 with the same idempotency id, and a delivery pending when
 * Airlock stops is delivered after it starts again on the same data directory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { openMasterKey, openStore, startAirlock } from '../../src/app.js';
import { channelCommand } from '../../src/cli/channel-commands.js';
import { staticCredentials } from '../../src/upstream/aws-credentials.js';
import { type Harness, startHarness, UPSTREAM_CREDS, waitForPending } from '../support/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * docs/webhooks.schema.json against what was sent: the event type, the required fields
 * of the payload and of its `data` (no JSON Schema validator is a dependency; this keeps
 * the documented required fields honest).
 */
const SCHEMA = JSON.parse(readFileSync('docs/webhooks.schema.json', 'utf8')) as {
  required: string[];
  properties: { type: { enum: string[] } };
  allOf: {
    if: { properties: { type: { const: string } } };
    then: { properties: { data: { $ref: string } } };
  }[];
  $defs: Record<string, { required?: string[] }>;
};
function assertMatchesSchema(p: Record<string, unknown>): void {
  for (const k of SCHEMA.required) assert.ok(k in p, `payload lacks ${k}`);
  assert.ok(SCHEMA.properties.type.enum.includes(String(p.type)));
  const rule = SCHEMA.allOf.find((r) => r.if.properties.type.const === p.type);
  const def = SCHEMA.$defs[String(rule?.then.properties.data.$ref.split('/').at(-1))];
  assert.ok(def, `no schema for ${String(p.type)}`);
  for (const k of def.required ?? []) assert.ok(k in (p.data as object), `${String(p.type)} data lacks ${k}`);
}

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

const hookYaml = (url: string, events: string) => `webhooks:
  - url: ${url}
    events: [${events}]
    secret_env: AIRLOCK_TEST_WEBHOOK_SECRET
    retry_seconds: [1, 1, 1]
`;

describe('webhooks', () => {
  let h: Harness;
  let rx: WebhookReceiver;
  before(async () => {
    process.env.AIRLOCK_TEST_WEBHOOK_SECRET = SECRET;
    rx = await startWebhookReceiver(SECRET);
    h = await startHarness({
      extraYaml: hookYaml(
        rx.url,
        'approval.requested, approval.decided, grant.issued, grant.revoked, action.denied',
      ),
    });
  });
  after(async () => {
    await h.close();
    await rx.close();
  });

  it('sends signed events for a held request, its decision and grant, a revocation and a denied action', async () => {
    const bob = h.approvers.bob ?? '';
    const put = h
      .client({ reason: 'INC-7' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'w-1' } } }));
    const id = String((await waitForPending(h, bob, 'PutItem')).id);
    await h.api('GET', `/v1/approvals/${id}`, bob);
    assert.equal((await h.api('POST', `/v1/approvals/${id}/approve`, bob, { comment: 'ok' })).status, 200);
    await put;
    await assert.rejects(h.client().send(new DeleteTableCommand({ TableName: 'orders' })));
    const grantId = String(((await h.airlock.store.getApproval(id)) ?? { grantId: '' }).grantId);
    assert.equal((await h.api('POST', `/v1/grants/${grantId}/revoke`, bob)).status, 200);

    const types = [
      'approval.requested',
      'approval.decided',
      'grant.issued',
      'action.denied',
      'grant.revoked',
    ];
    await rx.waitFor((r) => types.every((t) => r.some((x) => x.payload?.type === t)));
    assert.ok(
      rx.received.every((r) => r.verified),
      'every delivery verifies',
    );
    const byType = (t: string) => rx.received.find((r) => r.payload?.type === t)?.payload ?? {};
    const dataOf = (t: string) => (byType(t).data ?? {}) as Record<string, unknown>;
    assert.equal(dataOf('approval.requested').id, id);
    assert.equal(dataOf('approval.decided').approver, 'bob');
    assert.equal(dataOf('grant.issued').id, grantId);
    assert.equal(dataOf('action.denied').operation, 'DeleteTable');
    const ledger = byType('grant.issued').ledger as { seq: number; hash: string };
    assert.equal(
      (await h.airlock.store.entryAt(ledger.seq))?.hash,
      ledger.hash,
      'the payload cites its ledger entry',
    );
    for (const r of rx.received) assertMatchesSchema(r.payload ?? {});
    // approval.resolved was not subscribed.
    assert.ok(!rx.received.some((r) => r.payload?.type === 'approval.resolved'));
  });

  it('retries after a 500 with the same webhook-id, and `webhooks deliveries` shows it', async () => {
    rx.answer = 500;
    const before = rx.received.length;
    await assert.rejects(h.client().send(new DeleteTableCommand({ TableName: 'ledger' })));
    await rx.waitFor((r) => r.length > before && r.at(-1)?.answered === 500);
    const failedId = rx.received.at(-1)?.id;
    rx.answer = 200;
    await rx.waitFor((r) => r.some((x) => x.id === failedId && x.answered === 200));
    const ids = rx.received.slice(before).map((r) => r.id);
    assert.deepEqual(new Set(ids), new Set([failedId]), 'one event, one idempotency id');
    const [d] = (await h.airlock.store.webhookDeliveries({ limit: 50 })).filter((x) => x.id === failedId);
    assert.equal(d?.status, 'delivered');
    assert.equal(d?.attempts, 2);
    const lines: string[] = [];
    assert.equal(
      await channelCommand(h.config, 'webhooks deliveries', undefined, {}, (v) => lines.push(String(v))),
      0,
    );
    assert.match(lines.join('\n'), new RegExp(`${failedId}\\s+action.denied\\s+\\S+\\s+delivered\\s+2`));
  });
});

describe('webhooks across a restart', () => {
  it('delivers after a restart what was pending when Airlock stopped', async () => {
    process.env.AIRLOCK_TEST_WEBHOOK_SECRET = SECRET;
    const rx = await startWebhookReceiver(SECRET);
    rx.answer = 503;
    const h = await startHarness({ extraYaml: hookYaml(rx.url, 'action.denied') });
    let restarted: Awaited<ReturnType<typeof startAirlock>> | undefined;
    try {
      await assert.rejects(h.client().send(new DeleteTableCommand({ TableName: 'orders' })));
      await rx.waitFor((r) => r.length === 1);
      const id = rx.received[0]?.id;
      // The failed attempt is recorded (not only sent) before the stop.
      for (let i = 0; i < 200; i++) {
        const [d] = (await h.airlock.store.webhookDeliveries({ limit: 10 })).filter((x) => x.id === id);
        if ((d?.attempts ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await h.airlock.close();
      const key = openMasterKey(h.config);
      const offline = openStore(h.config, key);
      const pending = (await offline.webhookDeliveries({ limit: 10 })).find((d) => d.id === id);
      await offline.close();
      assert.equal(pending?.status, 'pending');
      assert.equal(pending?.lastStatus, 503);

      rx.answer = 200;
      restarted = await startAirlock(h.config, {
        credentials: staticCredentials(UPSTREAM_CREDS),
        log: () => undefined,
      });
      await rx.waitFor((r) => r.some((x) => x.id === id && x.answered === 200));
      assert.equal(rx.received.filter((r) => r.answered === 200).length, 1);
    } finally {
      await restarted?.close();
      await h.upstream.close();
      await rx.close();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });
});
