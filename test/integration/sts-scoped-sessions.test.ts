/**
 * Scoped sessions end to end: a resource with a role_arn is reached only with an
 * STS AssumeRole session whose inline policy allows exactly the grant's scopes.
 * The strict STS stand-in verifies Airlock's signature and every parameter; the
 * verifying upstream accepts only that session (token included) and enforces its policy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { printAudit } from '../../src/cli/print.js';
import { type StsStandIn, startStsStandIn } from '../../src/demo/sts-stand-in.js';
import { auditRecord } from '../../src/ledger/audit.js';
import {
  arn,
  type Harness,
  REGION,
  startHarness,
  UPSTREAM_CREDS,
  waitForPending,
} from '../support/harness.js';

/** Cross-account: the data lives in another account than Airlock's own identity. */
const ROLE = 'arn:aws:iam::210987654321:role/airlock/airlock-orders';
const EXTERNAL_ID = 'airlock-ext-7f3a';

describe('scoped STS sessions per grant', () => {
  let sts: StsStandIn;
  let h: Harness;
  before(async () => {
    sts = await startStsStandIn({
      caller: UPSTREAM_CREDS,
      roles: { [ROLE]: { externalId: EXTERNAL_ID, maxSessionSeconds: 7200 } },
    });
    h = await startHarness({ role: { arn: ROLE, externalId: EXTERNAL_ID, sts } });
  });
  after(async () => {
    await h.close();
    await sts.close();
  });

  it('signs a policy-allowed read with an agent session scoped to exactly that read', async () => {
    await h.client().send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'x' } } }));
    assert.equal(sts.calls.length, 1, sts.refusals.join('\n'));
    const call = sts.calls[0];
    assert.ok(call);
    assert.equal(call.callerAccessKeyId, UPSTREAM_CREDS.accessKeyId);
    assert.equal(call.roleArn, ROLE);
    assert.equal(call.sessionName, 'agent-billing-bot');
    assert.equal(call.sourceIdentity, 'billing-bot');
    assert.equal(call.externalId, EXTERNAL_ID);
    assert.equal(call.durationSeconds, 900);
    assert.deepEqual(call.tags, { 'airlock-agent': 'billing-bot' });
    assert.deepEqual(call.policy, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: arn('orders') }],
    });
    const last = h.upstream.received.at(-1);
    assert.equal(last?.accessKeyId, call.accessKeyId);
    assert.equal(last?.sessionName, 'agent-billing-bot');

    // The same scopes reuse the cached session; other scopes get their own.
    await h.client().send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'y' } } }));
    assert.equal(sts.calls.length, 1);
    await h.client().send(new GetItemCommand({ TableName: 'customers', Key: { id: { S: 'y' } } }));
    assert.equal(sts.calls.length, 2);
    assert.deepEqual(sts.calls[1]?.policy, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: arn('customers') }],
    });
    assert.deepEqual(h.upstream.refused, []);
  });

  it('an approved write runs in a session named after its grant, and the record names the session', async () => {
    const before = sts.calls.length;
    const put = h
      .client({ reason: 'JIRA-7 fix order' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 's-1' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const id = String(pending.id);
    await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? ''); // opening it starts the review
    const ok = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.alice ?? '', { comment: 'ok' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await put;
    const approval = await h.airlock.store.getApproval(id);
    const grantId = approval?.grantId;
    assert.ok(grantId);
    const grant = await h.airlock.store.getGrant(grantId);
    assert.ok(grant);

    assert.equal(sts.calls.length, before + 1);
    const call = sts.calls.at(-1);
    assert.ok(call);
    assert.equal(call.sessionName, grantId);
    assert.equal(call.sourceIdentity, 'billing-bot');
    assert.equal(call.externalId, EXTERNAL_ID);
    assert.deepEqual(call.tags, {
      'airlock-agent': 'billing-bot',
      'airlock-approval': id,
      'airlock-grant': grantId,
    });
    assert.deepEqual(call.policy, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arn('orders') }],
    });
    // The grant's remaining lifetime (max_grant 1h), never less than STS's 900 s.
    const remaining = (grant.expiresAt.getTime() - grant.issuedAt.getTime()) / 1000;
    assert.ok(
      call.durationSeconds <= remaining && call.durationSeconds >= remaining - 5,
      `${call.durationSeconds}`,
    );

    const last = h.upstream.received.at(-1);
    assert.equal(last?.target, 'DynamoDB_20120810.PutItem');
    assert.equal(last?.accessKeyId, call.accessKeyId);
    assert.equal(last?.sessionName, grantId);

    // The grant's second use reuses its session.
    await h
      .client({ reason: 'JIRA-7 fix order' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 's-2' } } }));
    assert.equal(sts.calls.length, before + 1);

    await new Promise((r) => setTimeout(r, 50));
    const rec = await auditRecord(h.airlock.store, id);
    assert.ok(rec);
    const sessionArn = `arn:aws:sts::210987654321:assumed-role/airlock-orders/${grantId}`;
    const session = rec.actions[0]?.awsSession as Record<string, unknown> | undefined;
    assert.equal(session?.sessionArn, sessionArn);
    assert.equal(session?.roleArn, ROLE);
    const printed = printAudit(rec);
    assert.match(printed, new RegExp(`aws session  ${sessionArn.replace(/[/.]/g, '\\$&')}`));
    assert.match(printed, new RegExp(`AttributeValue=${grantId}`));
    assert.match(printed, /EventSource=='dynamodb\.amazonaws\.com'/);
  });

  it('the session itself cannot reach beyond the grant (AWS enforces the session policy)', async () => {
    const call = sts.calls.find((c) => c.sessionName.startsWith('gr_'));
    const session = call === undefined ? undefined : sts.session(call.accessKeyId);
    assert.ok(session);
    const stolen = new DynamoDBClient({
      endpoint: h.upstream.url,
      region: REGION,
      maxAttempts: 1,
      credentials: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
      },
    });
    try {
      await assert.rejects(
        stolen.send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'nope' } } })),
        (e: Error) => e.name === 'AccessDeniedException' && /no session policy allows it/.test(e.message),
      );
      await assert.rejects(
        stolen.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 's-1' } } })),
        (e: Error) => e.name === 'AccessDeniedException',
      );
    } finally {
      stolen.destroy();
    }
  });

  it('fails closed when STS refuses: the approved write is not sent and the table is untouched', async () => {
    sts.refuseAll = true;
    try {
      const received = h.upstream.received.length;
      const put = h
        .client({ reason: 'JIRA-9 ledger fix' })
        .send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'l-1' } } }));
      const pending = await waitForPending(h, h.approvers.bob ?? '', 'PutItem');
      for (const who of ['bob', 'carol']) {
        await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers[who] ?? '');
        const r = await h.api('POST', `/v1/approvals/${String(pending.id)}/approve`, h.approvers[who] ?? '', {
          comment: 'ok',
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      await assert.rejects(put, (e: Error) => {
        assert.equal(e.name, 'AccessDeniedException');
        assert.match(
          e.message,
          /STS refused AssumeRole of arn:aws:iam::210987654321:role\/airlock\/airlock-orders/,
        );
        return true;
      });
      assert.equal(h.upstream.received.length, received, 'nothing reached the upstream');
      const item = await h.direct.send(
        new GetItemCommand({ TableName: 'ledger', Key: { id: { S: 'l-1' } } }),
      );
      assert.equal(item.Item, undefined);
      assert.match(sts.refusals.at(-1) ?? '', /^AccessDenied: /);
    } finally {
      sts.refuseAll = false;
    }
  });
});
