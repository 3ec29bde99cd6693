/**
 * The Store methods of issue 15 (Slack links, the webhook outbox) on SQLite, and the
 * pure parts of the Slack channel: mrkdwn escaping and the bounded replay memory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createApprover } from '../../src/admin.js';
import { esc } from '../../src/channels/slack/blocks.js';
import { SlackVerifier, slackSignature } from '../../src/channels/slack/signature.js';
import { deliveryId } from '../../src/channels/webhooks/events.js';
import { approverStateProblems, approversFromLedger } from '../../src/ledger/approver-state.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { StoreConflict, type WebhookDelivery } from '../../src/ledger/store.js';

const open = () => SqliteStore.open({ path: ':memory:', ledgerKey: randomBytes(32) });

const delivery = (seq: number, url: string, at: Date): WebhookDelivery => ({
  id: deliveryId(seq, url),
  url,
  event: 'grant.issued',
  payload: '{}',
  createdAt: at,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: at,
  lastStatus: undefined,
  lastError: undefined,
  deliveredAt: undefined,
});

describe('store: Slack links', () => {
  it('links one Slack user to one approver, in the ledger', async () => {
    const store = open();
    await createApprover(store, 'alice', ['dba']);
    await createApprover(store, 'bob', ['dba']);
    assert.equal(await store.linkApproverSlack('alice', 'U0A', new Date()), true);
    assert.equal((await store.approverBySlackUser('U0A'))?.name, 'alice');
    assert.equal(await store.approverBySlackUser('U0B'), undefined);
    await assert.rejects(store.linkApproverSlack('bob', 'U0A', new Date()), StoreConflict);
    assert.equal(await store.linkApproverSlack('nobody', 'U0C', new Date()), false);
    const last = (await store.approverEntries()).at(-1);
    assert.equal(last?.kind, 'approver.updated');
    assert.deepEqual(JSON.parse(last?.body ?? '{}').slackUser, 'U0A');
    const recorded = approversFromLedger(await store.approverEntries());
    const rows = await store.listApprovers();
    assert.deepEqual(approverStateProblems(recorded, rows), []);
    const tampered = rows.map((r) => (r.name === 'bob' ? { ...r, slackUser: 'U0EVIL' } : r));
    assert.deepEqual(approverStateProblems(recorded, tampered), [
      'approver bob is linked to Slack user U0EVIL but the ledger says (none) (edited by hand)',
    ]);
    await store.revokeApprover('alice', new Date());
    assert.ok(
      (await store.approverBySlackUser('U0A'))?.revokedAt,
      'a revoked approver stays linked, as revoked',
    );
    assert.equal((await store.verify()).ok, true);
    await store.close();
  });
});

describe('store: webhook outbox', () => {
  it('moves the cursor with its deliveries, ignores a second enqueue, and tracks attempts', async () => {
    const store = open();
    const t = new Date('2030-01-01T00:00:00Z');
    assert.equal(await store.webhookCursor(), undefined);
    const d = delivery(7, 'https://h.example/a', t);
    await store.enqueueWebhookDeliveries([d], 7);
    await store.enqueueWebhookDeliveries([d], 7);
    assert.equal(await store.webhookCursor(), 7);
    assert.equal((await store.webhookDeliveries({ due: t, limit: 10 })).length, 1);
    await store.recordWebhookAttempt(d.id, {
      at: t,
      status: 'pending',
      httpStatus: 500,
      error: undefined,
      nextAttemptAt: new Date(t.getTime() + 5000),
    });
    assert.equal(
      (await store.webhookDeliveries({ due: t, limit: 10 })).length,
      0,
      'not due before its retry',
    );
    const later = new Date(t.getTime() + 5000);
    const [due] = await store.webhookDeliveries({ due: later, limit: 10 });
    assert.equal(due?.attempts, 1);
    assert.equal(due?.lastStatus, 500);
    await store.recordWebhookAttempt(d.id, {
      at: later,
      status: 'delivered',
      httpStatus: 204,
      error: undefined,
    });
    const [done] = await store.webhookDeliveries({ limit: 10 });
    assert.equal(done?.status, 'delivered');
    assert.equal(done?.deliveredAt?.getTime(), later.getTime());
    await store.enqueueWebhookDeliveries([], 3);
    assert.equal(await store.webhookCursor(), 7, 'the cursor never moves back');
    await store.close();
  });
});

describe('slack: what an agent controls cannot ping, link or reorder', () => {
  it('escapes mrkdwn control characters and strips bidi controls', () => {
    assert.equal(
      esc('<!channel> <https://evil.example|ok> & \u202Edone'),
      '&lt;!channel&gt; &lt;https://evil.example|ok&gt; &amp; done',
    );
  });

  it('remembers signatures within the window only, and refuses when full', () => {
    let now = 1_900_000_000_000;
    const v = new SlackVerifier(
      () => 's',
      () => now,
      2,
    );
    const req = (body: string) => {
      const ts = String(Math.floor(now / 1000));
      return v.check(ts, slackSignature('s', ts, body), Buffer.from(body));
    };
    assert.equal(req('a'), undefined);
    assert.equal(req('a'), 'replayed');
    assert.equal(req('b'), undefined);
    assert.equal(req('c'), 'overloaded', 'full of in-window signatures: refuse rather than forget');
    now += 301_000;
    assert.equal(req('c'), undefined, 'old signatures are forgotten once outside the window');
  });
});
