/**
 * `audit check` over what the real gateway writes: an agent's held PutItem through
 * Airlock (real SDK v3, strict SigV4 upstream), decided over the API, then scored
 * from the ledger. Proves the adapter reads real entries, not only generated ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { recordsFromLedger } from '../../src/audit-check/from-ledger.js';
import { DEFAULT_THRESHOLDS } from '../../src/audit-check/record.js';
import { buildReport } from '../../src/audit-check/report.js';
import { type Harness, startHarness, waitForPending } from '../support/harness.js';

describe('audit check over a real gateway ledger', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('scores a held write approved at once as a rubber stamp, and passes it with no review minimum', async () => {
    const alice = h.approvers.alice ?? '';
    const client = h.client({ reason: 'Refund order 8812 after the duplicate charge in FIN-221' });
    const held = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'refund-8812' } } }));
    const pending = await waitForPending(h, alice, 'PutItem');
    const id = String(pending.id);
    const shown = await h.api('GET', `/v1/approvals/${id}`, alice);
    assert.equal(shown.status, 200);
    // Held over a second: the held request arrived before its grant existed, yet ran under it.
    await new Promise((r) => setTimeout(r, 1200));
    const ok = await h.api('POST', `/v1/approvals/${id}/approve`, alice, {
      comment: 'checked',
      durationSeconds: 600,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await held;
    // A second write under the same grant, and a read that needs no approval.
    await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'refund-8812b' } } }));
    await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'refund-8812' } } }));
    await new Promise((r) => setTimeout(r, 50)); // group commit of the action rows

    assert.equal((await h.airlock.store.verify()).ok, true);
    const { records, orphans } = recordsFromLedger(await h.airlock.store.ledger({}));
    assert.deepEqual(orphans, []);
    const rec = records.find((r) => r.id === id);
    assert.ok(rec);
    assert.equal(rec.status, 'approved');
    assert.equal(rec.requester.name, 'billing-bot');
    assert.equal(rec.requester.known, true);
    assert.equal(rec.decisions[0]?.authenticated, true);
    assert.ok(rec.decisions[0]?.shownAt, 'the API recorded the view');
    assert.deepEqual(
      rec.actions?.map((a) => [a.outcome, a.link]),
      [
        ['approved', 'recorded'],
        ['allowed', 'recorded'],
      ],
    );

    const now = new Date();
    const strict = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: DEFAULT_THRESHOLDS,
      filter: {},
      now,
    });
    const scored = strict.records.find((s) => s.record.id === id);
    assert.deepEqual(
      scored?.items.flatMap((i) => i.findings.map((f) => f.code)),
      ['decisions.rubber-stamp-fast'],
      'approved quickly after opening it',
    );
    const lax = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: { ...DEFAULT_THRESHOLDS, minReviewSeconds: 0 },
      filter: {},
      now,
    });
    assert.equal(lax.records.find((s) => s.record.id === id)?.ok, true);
    assert.equal(lax.gate.passed, true);
  });
});
