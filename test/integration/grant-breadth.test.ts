/**
 * Grant breadth with the real AWS SDK through the gateway: an `exact` grant covers only the
 * request the approver saw (another item is held again), a `scope` grant covers others within
 * its time and uses, the sentence is in the detail before the decision and in the record after,
 * and a request under a grant still needs its own reason.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchWriteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { breadthTerms } from '../../src/approvals/breadth.js';
import { recordsFromLedger } from '../../src/audit-check/from-ledger.js';
import { DEFAULT_THRESHOLDS } from '../../src/audit-check/record.js';
import { buildReport } from '../../src/audit-check/report.js';
import { printApproval, printAudit } from '../../src/cli/print.js';
import { auditRecord } from '../../src/ledger/audit.js';
import { readTerms } from '../../src/policy/annotations.js';
import { type Harness, startHarness, waitForPending } from '../support/harness.js';

const POLICY = `
@id("reads-allowed")
permit (principal, action in Airlock::Action::"dynamodb:read", resource);

@id("orders-writes-exact-first")
@hold("dba")
@max_grant("15m")
@require_reason("true")
@grant_default("exact")
permit (
  principal,
  action in Airlock::Action::"dynamodb:write",
  resource == Airlock::Resource::"arn:aws:dynamodb:us-east-1:123456789012:table/orders"
);

@id("ledger-writes-exact-only")
@hold("dba")
@require_reason("true")
@grant_widest("exact")
permit (
  principal,
  action in Airlock::Action::"dynamodb:write",
  resource == Airlock::Resource::"arn:aws:dynamodb:us-east-1:123456789012:table/ledger"
);
`;

async function fails(p: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(p, (e: Error) => e.name === name);
}

describe('grant breadth through the gateway', () => {
  let h: Harness;
  let alice: string;
  before(async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'breadth-'));
    const policy = join(dir, 'breadth.cedar');
    writeFileSync(policy, POLICY);
    h = await startHarness({ policy });
    alice = h.approvers.alice ?? '';
  });
  after(async () => {
    await h.close();
  });

  const item = async (table: string, id: string) =>
    (await h.direct.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }))).Item;

  it('shows the sentence of each breadth before the decision; exact covers only the request approved', async () => {
    const client = h.client({ reason: 'JIRA-9 fix order 1' });
    const put1 = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-1' } } }));
    const p1 = await waitForPending(h, alice, 'PutItem');
    const shown = await h.api('GET', `/v1/approvals/${String(p1.id)}`, alice);
    const gc = shown.body.grantChoices as {
      default: string;
      choices: { breadth: string; sentence: string; isDefault: boolean }[];
    };
    assert.equal(gc.default, 'exact');
    assert.deepEqual(
      gc.choices.map((c) => [c.breadth, c.sentence, c.isDefault]),
      [
        ['exact', 'This approval lets billing-bot run PutItem on orders once, for this exact item', true],
        [
          'scope',
          'This approval lets billing-bot run any PutItem on orders for 15 minutes, with no limit on uses',
          false,
        ],
      ],
    );
    // The CLI's `approvals show` prints the same sentences from the same detail.
    const text = printApproval(shown.body);
    assert.match(
      text,
      /covers {4}This approval lets billing-bot run PutItem on orders once, for this exact item {2}\(default: --breadth exact\)/,
    );
    assert.match(
      text,
      /--breadth scope: This approval lets billing-bot run any PutItem on orders for 15 minutes/,
    );

    const ok = await h.api('POST', `/v1/approvals/${String(p1.id)}/approve`, alice, { comment: 'JIRA-9' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const grant = ok.body.grant as Record<string, unknown>;
    assert.equal(grant.breadth, 'exact');
    assert.equal(grant.maxUses, 1);
    assert.equal(
      grant.description,
      'This approval lets billing-bot run PutItem on orders once, for this exact item',
    );
    await put1;
    assert.ok(await item('orders', 'o-1'));

    // Another item, same operation and table: held again, nothing written until decided.
    const put2 = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-2' } } }));
    const p2 = await waitForPending(h, alice, 'PutItem');
    assert.notEqual(p2.id, p1.id);
    assert.equal(await item('orders', 'o-2'), undefined);
    await h.api('GET', `/v1/approvals/${String(p2.id)}`, alice);
    const wide = await h.api('POST', `/v1/approvals/${String(p2.id)}/approve`, alice, {
      comment: 'JIRA-9 batch',
      breadth: 'scope',
      durationSeconds: 900,
      maxUses: 2,
    });
    assert.equal(wide.status, 200, JSON.stringify(wide.body));
    const g2 = wide.body.grant as Record<string, unknown>;
    assert.equal(g2.breadth, 'scope');
    assert.equal(
      g2.description,
      'This approval lets billing-bot run any PutItem on orders for 15 minutes, at most 2 times',
    );
    await put2;

    // Under the scope grant: a request without its own reason is still refused ...
    await fails(
      h.client().send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-3' } } })),
      'ValidationException',
    );
    assert.equal(await item('orders', 'o-3'), undefined);
    // ... one with a reason passes (second and last use) ...
    await h
      .client({ reason: 'JIRA-9 order 3' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-3' } } }));
    assert.ok(await item('orders', 'o-3'));
    // ... and the next is held again: the grant is used up.
    const put4 = h
      .client({ reason: 'JIRA-9 order 4' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-4' } } }));
    const p4 = await waitForPending(h, alice, 'PutItem');
    await h.api('GET', `/v1/approvals/${String(p4.id)}`, alice);
    await h.api('POST', `/v1/approvals/${String(p4.id)}/deny`, alice, { comment: 'enough' });
    await fails(put4, 'AccessDeniedException');
    assert.equal(await item('orders', 'o-4'), undefined);

    // The record keeps the choice and its sentence.
    await new Promise((r) => setTimeout(r, 50));
    const rec1 = await auditRecord(h.airlock.store, String(p1.id));
    assert.equal(rec1?.grant?.breadth, 'exact');
    assert.equal(rec1?.grant?.description, grant.description);
    // The held write has its own four times, in order; the decision is after its arrival.
    const held = rec1?.actions[0] as Record<string, string | null>;
    const times = ['receivedAt', 'decidedAt', 'forwardedAt', 'completedAt'].map((k) => held[k]);
    assert.ok(
      times.every((t) => typeof t === 'string'),
      JSON.stringify(held),
    );
    const ms = times.map((t) => Date.parse(String(t)));
    assert.deepEqual(
      [...ms].sort((x, y) => x - y),
      ms,
      `times out of order: ${times.join(' ')}`,
    );
    assert.ok((ms[1] ?? 0) > (ms[0] ?? 0), 'decided after received');
    assert.match(
      printAudit(rec1 as NonNullable<typeof rec1>),
      /times {3}received \S+ · decided \S+ · forwarded \S+ · completed \S+/,
    );
    assert.match(
      printAudit(rec1 as NonNullable<typeof rec1>),
      /exact: This approval lets billing-bot run PutItem on orders once/,
    );
    const rec2 = await auditRecord(h.airlock.store, String(p2.id));
    assert.equal(rec2?.grant?.breadth, 'scope');
    // Uses are current in the record (the issued entry said 0): o-2 and o-3 ran under it.
    assert.equal(rec2?.grant?.uses, 2);
    assert.equal(rec2?.grant?.revokedAt, null);
    // After a revoke the record, the grants list and the console's record agree.
    const rv = await h.api('POST', `/v1/grants/${String(g2.id)}/revoke`, alice);
    assert.equal(rv.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    const after = await auditRecord(h.airlock.store, String(p2.id));
    const listed = (
      (await h.api('GET', '/v1/grants?agent=billing-bot', alice)).body.grants as Record<string, unknown>[]
    ).find((x) => x.id === g2.id);
    assert.equal(after?.grant?.uses, listed?.uses);
    assert.equal(after?.grant?.revokedBy, 'alice');
    assert.equal(Date.parse(String(after?.grant?.revokedAt)), Date.parse(String(listed?.revokedAt)));
    // A request under the scope grant was not held: no decided time of its own.
    const reuse = rec2?.actions.find((x) => x.outcome === 'allowed');
    assert.ok(reuse, JSON.stringify(rec2?.actions));
    assert.equal(reuse.decidedAt, null);
    assert.equal(reuse.reason, 'JIRA-9 order 3', "its own reason, not the approval's");
    assert.ok(reuse.forwardedAt && reuse.completedAt);

    // `audit check` tells the narrow grant from the wide one.
    const { records, orphans } = recordsFromLedger(await h.airlock.store.ledger({}));
    const report = buildReport({
      source: 't',
      records,
      orphans,
      thresholds: DEFAULT_THRESHOLDS,
      filter: {},
      now: new Date(),
    });
    const byId = (id: unknown) => report.records.find((r) => r.record.id === id)?.record.grant?.breadth;
    assert.equal(byId(p1.id), 'exact');
    assert.equal(byId(p2.id), 'scope');
    assert.deepEqual(report.totals.grants, { exact: 1, items: 0, scope: 1, unrecorded: 0 });
  });

  it('an items grant covers only the keys the approver was shown, not a third', async () => {
    const client = h.client({ reason: 'JIRA-11 drop test orders' });
    for (const id of ['i-1', 'i-2', 'i-3'])
      await h.direct.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: id } } }));
    const deletes = (...ids: string[]) =>
      new BatchWriteItemCommand({
        RequestItems: { orders: ids.map((id) => ({ DeleteRequest: { Key: { id: { S: id } } } })) },
      });
    const first = client.send(deletes('i-1', 'i-2'));
    const p = await waitForPending(h, alice, 'BatchWriteItem');
    const shown = await h.api('GET', `/v1/approvals/${String(p.id)}`, alice);
    const gc = shown.body.grantChoices as { choices: { breadth: string; sentence: string }[] };
    assert.deepEqual(
      gc.choices.map((c) => c.breadth),
      ['exact', 'items', 'scope'],
    );
    assert.equal(
      gc.choices[1]?.sentence,
      'This approval lets billing-bot run BatchWriteItem on orders for these items only (id=i-1, id=i-2) for 15 minutes, with no limit on uses',
    );
    const ok = await h.api('POST', `/v1/approvals/${String(p.id)}/approve`, alice, {
      comment: 'JIRA-11: the two test orders',
      breadth: 'items',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const g = ok.body.grant as { id: string; breadth: string; items: { shown: string }[] };
    assert.equal(g.breadth, 'items');
    assert.deepEqual(
      g.items.map((i) => i.shown),
      ['id=i-1', 'id=i-2'],
    );
    await first;
    assert.equal(await item('orders', 'i-1'), undefined);

    // One of the approved keys again: covered by the grant, no new approval.
    await client.send(deletes('i-2'));
    const pending = (await h.api('GET', '/v1/approvals?status=pending', alice)).body.approvals as unknown[];
    assert.equal(pending.length, 0);
    // A third key, alone or beside an approved one: held again, nothing deleted.
    const third = client.send(deletes('i-2', 'i-3'));
    const p3 = await waitForPending(h, alice, 'BatchWriteItem');
    assert.notEqual(p3.id, p.id);
    assert.ok(await item('orders', 'i-3'));
    await h.api('GET', `/v1/approvals/${String(p3.id)}`, alice);
    await h.api('POST', `/v1/approvals/${String(p3.id)}/deny`, alice, { comment: 'not i-3' });
    await fails(third, 'AccessDeniedException');
    assert.ok(await item('orders', 'i-3'));
    await h.api('POST', `/v1/grants/${g.id}/revoke`, alice);
    await new Promise((r) => setTimeout(r, 50)); // group commit of the action rows

    // After the revoke, `audit show`, its --json and the console record agree: 2 uses, revoked.
    const rec = await auditRecord(h.airlock.store, String(p.id));
    assert.ok(rec);
    const json = JSON.parse(JSON.stringify(rec)) as { grant: Record<string, unknown> };
    assert.equal(json.grant.uses, 2);
    assert.equal(typeof json.grant.revokedAt, 'string');
    assert.equal(json.grant.revokedBy, 'alice');
    assert.equal('revoked' in json.grant, false, 'one set of fields, no stale copy');
    assert.match(
      printAudit(rec),
      new RegExp(`5 grant {6}${g.id} until \\S+ \\(revoked by alice at \\S+\\) · uses 2\\b`),
    );
    const page = await h.api('GET', `/v1/records/${String(p.id)}`, alice);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const shownGrant = page.body.grant as Record<string, unknown>;
    assert.equal(shownGrant.uses, 2);
    assert.equal(shownGrant.revokedAt, json.grant.revokedAt);
    assert.equal(shownGrant.active, false);
    assert.deepEqual((page.body.audit as { grant: unknown }).grant, json.grant);
    const listed = (await h.api('GET', '/v1/grants?agent=billing-bot', alice)).body.grants as {
      id: string;
      uses: number;
      revokedAt: string | null;
    }[];
    const mine = listed.find((x) => x.id === g.id);
    assert.equal(mine?.uses, 2);
    assert.equal(mine?.revokedAt, json.grant.revokedAt);
  });

  it('refuses a grant wider than the policy allows', async () => {
    const put = h
      .client({ reason: 'LEDGER-1' })
      .send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'l-1' } } }));
    const p = await waitForPending(h, alice, 'PutItem');
    const shown = await h.api('GET', `/v1/approvals/${String(p.id)}`, alice);
    const gc = shown.body.grantChoices as { widest: string; choices: { breadth: string }[] };
    assert.equal(gc.widest, 'exact');
    assert.deepEqual(
      gc.choices.map((c) => c.breadth),
      ['exact'],
    );
    const wide = await h.api('POST', `/v1/approvals/${String(p.id)}/approve`, alice, {
      comment: 'ok',
      breadth: 'scope',
    });
    assert.equal(wide.status, 403);
    assert.equal(wide.body.error, 'widen-not-allowed');
    const bad = await h.api('POST', `/v1/approvals/${String(p.id)}/approve`, alice, { breadth: 'all' });
    assert.equal(bad.status, 400);
    const ok = await h.api('POST', `/v1/approvals/${String(p.id)}/approve`, alice, {
      comment: 'ok',
      breadth: 'exact',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await put;
  });
});

const NO_ITEMS = { scopes: [] };

describe('grant breadth terms', () => {
  it('defaults to exact from high risk up, scope below; the policy can narrow either', () => {
    assert.deepEqual(
      breadthTerms({ requirements: [], maxGrantSeconds: 60, requireReason: false }, 'medium', NO_ITEMS),
      { default: 'scope', widest: 'scope', offered: ['exact', 'scope'] },
    );
    assert.deepEqual(
      breadthTerms({ requirements: [], maxGrantSeconds: 60, requireReason: false }, 'high', NO_ITEMS),
      { default: 'exact', widest: 'scope', offered: ['exact', 'scope'] },
    );
    assert.deepEqual(
      breadthTerms(
        { requirements: [], maxGrantSeconds: 60, requireReason: false, breadth: { widest: 'exact' } },
        'low',
        NO_ITEMS,
      ),
      { default: 'exact', widest: 'exact', offered: ['exact'] },
    );
    // Items are offered only when the request names them; an MCP call defaults to exact, widest exact.
    const items = { scopes: [], items: [{ resource: 't', key: 'k', shown: 'id=o-1' }] };
    assert.deepEqual(
      breadthTerms(
        { requirements: [], maxGrantSeconds: 60, requireReason: false, breadth: { default: 'items' } },
        'medium',
        items,
      ),
      { default: 'items', widest: 'scope', offered: ['exact', 'items', 'scope'] },
    );
    assert.deepEqual(
      breadthTerms({ requirements: [], maxGrantSeconds: 60, requireReason: false }, 'low', {
        scopes: [{ action: 'mcp:call', resource: 'arn:airlock:mcp:x:tool/t', call: 'c' }],
      }),
      { default: 'exact', widest: 'exact', offered: ['exact'] },
    );
  });

  it('rejects an unknown breadth and a default wider than the widest', () => {
    assert.match(
      JSON.stringify(readTerms('permit', { hold: 'dba', grant_default: 'all' })),
      /must be \\"exact\\".*or \\"scope\\"/,
    );
    assert.match(
      JSON.stringify(readTerms('permit', { hold: 'dba', grant_default: 'scope', grant_widest: 'exact' })),
      /wider than @grant_widest/,
    );
    assert.match(JSON.stringify(readTerms('permit', { grant_default: 'exact' })), /needs @hold/);
  });
});
