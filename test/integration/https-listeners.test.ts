/**
 * HTTPS on the AWS front and the approver API (`listen.aws_tls` / `api_tls`), with the
 * self-signed certificates Airlock generates into data_dir: the real SDK reaches the AWS
 * front when given that certificate as its CA, a client that does not trust it is
 * refused at the handshake, plain HTTP to the port gets no answer, and an approver
 * token crosses only inside TLS.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { REGION } from '../support/harness.js';
import { type Served, type ServeSetup, serve, setUpServe } from '../support/serve-process.js';

function get(url: string, opts: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, opts, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS listeners', () => {
  let s: ServeSetup;
  let p: Served;
  after(async () => {
    p?.kill('SIGKILL');
    await s?.upstream.close();
    if (s !== undefined) rmSync(s.dir, { recursive: true, force: true });
  });

  it('serves the AWS front and the API over TLS with generated certificates', async () => {
    s = await setUpServe({
      listenYaml: '  aws_tls: { self_signed: true }\n  api_tls: { self_signed: true }\n',
    });
    p = await serve(s);
    assert.match(p.awsUrl, /^https:/);
    assert.match(p.apiUrl, /^https:/);
    const awsCa = readFileSync(join(s.dataDir, 'https-aws-tls', 'cert.pem'));
    const apiCa = readFileSync(join(s.dataDir, 'https-api-tls', 'cert.pem'));
    const client = (ca?: Buffer) =>
      new DynamoDBClient({
        endpoint: p.awsUrl,
        region: REGION,
        credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent(ca === undefined ? {} : { ca }) }),
      });
    const ok = await client(awsCa).send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } }));
    assert.equal(ok.$metadata.httpStatusCode, 200);
    await assert.rejects(
      client().send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } })),
      /self[- ]signed|unable to verify|certificate/i,
    );
    // Plain HTTP to the TLS port: no HTTP answer comes back.
    const plain = await fetch(p.awsUrl.replace('https:', 'http:')).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.equal(plain, 'refused');
    const pending = await get(`${p.apiUrl}/v1/approvals?status=pending`, {
      ca: apiCa,
      headers: { authorization: `Bearer ${s.dbaToken}` },
    });
    assert.equal(pending.status, 200, pending.body);
    await assert.rejects(get(`${p.apiUrl}/healthz`, {}), /self[- ]signed|unable to verify|certificate/i);
  });
});
