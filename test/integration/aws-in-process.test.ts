/**
 * The AWS front's in-process entry point (AwsFront.dispatch): the unmodified SDK v3 client,
 * signing with SigV4 as always, handed to the front through a request handler instead of a
 * socket (test/support/in-process.ts). The whole path runs: signature, scopes, policy, hold,
 * approval, intent, re-signing, the upstream (the verifying DynamoDB stand-in), the record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { auditRecord } from '../../src/ledger/audit.js';
import { type Harness, REGION, startHarness, UPSTREAM_CREDS, waitForPending } from '../support/harness.js';
import { InProcessHandler, injectAws } from '../support/in-process.js';

describe('the AWS front in process (no socket)', () => {
  let h: Harness;
  let handler: InProcessHandler;
  let sdk: DynamoDBClient;
  before(async () => {
    h = await startHarness();
    handler = new InProcessHandler(h.airlock);
    sdk = new DynamoDBClient({
      endpoint: 'http://airlock.in-process',
      region: REGION,
      credentials: { accessKeyId: h.agent.accessKeyId, secretAccessKey: h.agent.secretAccessKey },
      maxAttempts: 1,
      requestHandler: handler,
    });
    // How an agent sends its reason with the SDK: a build-step middleware adding the header.
    sdk.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-airlock-reason'] = 'restock JIRA-7';
        return next(args);
      },
      { step: 'build' },
    );
  });
  after(async () => {
    await h.close();
  });

  it('serves an allowed read through the real SDK, re-signed with Airlock credentials', async () => {
    const before = h.upstream.received.length;
    const r = await sdk.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'none' } } }));
    assert.equal(r.Item, undefined);
    assert.equal(handler.handled, 1, 'the request went through the in-process handler');
    assert.equal(h.upstream.received.length, before + 1);
    assert.equal(h.upstream.received.at(-1)?.accessKeyId, UPSTREAM_CREDS.accessKeyId);
  });

  it('holds a write until approved, then forwards it once and links the record', async () => {
    const put = sdk.send(
      new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'in-process-1' }, qty: { N: '2' } } }),
    );
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const id = String(pending.id);
    assert.equal((await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? '')).status, 200);
    const ok = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.alice ?? '', {
      comment: 'one item, checked',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await put;
    const item = await h.direct.send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'in-process-1' } } }),
    );
    assert.equal(item.Item?.qty?.N, '2');
    const record = await auditRecord(h.airlock.store, id);
    assert.equal(record?.actions.length, 1);
    assert.equal(record?.actions[0]?.outcome, 'approved');
  });

  it('refuses a request value with a bad signature in the AWS shape, and forwards nothing', async () => {
    const before = h.upstream.received.length;
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const r = await injectAws(h.airlock, {
      method: 'POST',
      url: '/',
      headers: {
        host: 'dynamodb.us-east-1.amazonaws.com',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=${h.agent.accessKeyId}/${amzDate.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
      },
      payload: JSON.stringify({ TableName: 'orders', Key: { id: { S: 'x' } } }),
    });
    // DynamoDB's own answer to a wrong signature: 400 with the awsJson error type.
    assert.equal(r.statusCode, 400, r.payload);
    assert.match(String(r.json().__type), /#InvalidSignatureException$/);
    assert.equal(h.upstream.received.length, before);
  });
});
