/**
 * Agent authentication as AWS does it: unknown keys, wrong secrets, clock skew,
 * tampered bodies and revoked agents are refused with AWS-shaped errors, and
 * none of them reaches the upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createAgent } from '../../src/admin.js';
import { openMasterKey } from '../../src/app.js';
import { type Harness, REGION, startHarness } from '../support/harness.js';

async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

describe('SigV4 verification of agents', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const get = () => new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'x' } } });

  it('accepts the real SDK signature (ListTables, resource *)', async () => {
    const r = await h.client().send(new ListTablesCommand({}));
    assert.ok(r.TableNames?.includes('orders'));
  });

  it('refuses an unknown access key', async () => {
    const before = h.upstream.received.length;
    const c = h.client({ creds: { accessKeyId: 'ALAKUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) } });
    assert.equal(await errorName(c.send(get())), 'UnrecognizedClientException');
    assert.equal(h.upstream.received.length, before);
  });

  it('refuses a wrong secret', async () => {
    const c = h.client({ creds: { accessKeyId: h.agent.accessKeyId, secretAccessKey: 'y'.repeat(40) } });
    assert.equal(await errorName(c.send(get())), 'InvalidSignatureException');
  });

  it('refuses a signature outside the clock-skew window', async () => {
    // The SDK signs with its clock offset; 20 minutes is outside AWS's (and our) 5 minutes.
    const c = h.client({ extra: { systemClockOffset: -20 * 60 * 1000 } });
    try {
      await c.send(get());
      assert.fail('expected a skew error');
    } catch (err) {
      assert.equal((err as Error).name, 'InvalidSignatureException');
      assert.match((err as Error).message, /Signature expired/);
    }
  });

  it('refuses a body changed after signing', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: h.agent.accessKeyId, secretAccessKey: h.agent.secretAccessKey },
      region: REGION,
      service: 'dynamodb',
      sha256: Hash.bind(null, 'sha256'),
    });
    const url = new URL(h.airlock.awsUrl);
    const body = JSON.stringify({ TableName: 'orders', Key: { id: { S: 'x' } } });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.GetItem',
        },
        body,
      }),
    );
    const send = (b: string) =>
      fetch(h.airlock.awsUrl, { method: 'POST', headers: signed.headers as Record<string, string>, body: b });
    const ok = await send(body);
    assert.equal(ok.status, 200);
    const tampered = await send(body.replace('orders', 'ledger'));
    assert.equal(tampered.status, 400);
    const err = (await tampered.json()) as { __type: string };
    assert.match(err.__type, /InvalidSignatureException$/);
  });

  it('refuses a reason header that the signature does not cover', async () => {
    const c = h.client();
    // The deserialize step runs after signing (finalizeRequest): the header is added unsigned, as a proxy on the path could.
    c.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-airlock-reason'] = 'rewritten';
        return next(args);
      },
      { step: 'deserialize', name: 'lateReason' },
    );
    await assert.rejects(
      c.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'x' } } })),
      (err: Error) =>
        err.name === 'IncompleteSignatureException' &&
        /x-airlock-reason must be a signed header/.test(err.message),
    );
  });

  it('refuses a request with no signature', async () => {
    const res = await fetch(h.airlock.awsUrl, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { __type: string }).__type, /MissingAuthenticationTokenException$/);
  });

  it('refuses a revoked agent from then on', async () => {
    const key = openMasterKey(h.config);
    const temp = await createAgent(h.airlock.store, key, 'temp-bot');
    const c = h.client({ creds: temp });
    await c.send(get());
    assert.equal(await h.airlock.store.revokeAgent('temp-bot', new Date()), true);
    assert.equal(await errorName(c.send(get())), 'UnrecognizedClientException');
  });
});
