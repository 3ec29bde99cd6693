/**
 * Adversarial requests against the AWS front from an agent holding a valid
 * Airlock key: each one tries to get something authorized that differs from what
 * the upstream would execute. Airlock must refuse it (AWS-shaped error) before
 * anything reaches the strict SigV4-verifying stand-in, which records all it gets.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startVerifyingRpc, type VerifyingRpc } from '../../src/demo/verifying-rpc.js';
import { auditRecord } from '../../src/ledger/audit.js';
import { type Gateway, startGateway } from '../support/gateway.js';
import { type Harness, REGION, startHarness, UPSTREAM_CREDS } from '../support/harness.js';
import { type S3Harness, startS3Harness } from '../support/s3-harness.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';

interface RawReply {
  status: number;
  code: string;
  body: string;
}

/**
 * Signs `signPath` (the path the agent's signature covers) with the agent's key and
 * sends `wirePath` byte for byte (node:http, so nothing normalizes it on the way).
 */
async function signedRaw(
  gw: Gateway,
  o: {
    service: string;
    method?: string;
    signPath: string;
    wirePath?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<RawReply> {
  const url = new URL(gw.airlock.awsUrl);
  const signer = new SignatureV4({
    credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
    region: REGION,
    service: o.service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: o.service !== 's3',
  });
  const body = o.body ?? '';
  const signed = await signer.sign(
    new HttpRequest({
      method: o.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: o.signPath,
      query: o.query ?? {},
      headers: { host: url.host, ...o.headers },
      body,
    }),
  );
  const qs = new URLSearchParams(o.query ?? {}).toString();
  const path = `${o.wirePath ?? o.signPath}${qs === '' ? '' : `?${qs}`}`;
  return await new Promise<RawReply>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: Number(url.port),
        method: o.method ?? 'POST',
        path,
        headers: signed.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            code: String(res.headers['x-amzn-errortype'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('AWS front: requests whose meaning differs between Airlock and the upstream', () => {
  let up: VerifyingRpc;
  let gw: Gateway;
  before(async () => {
    up = await startVerifyingRpc(UPSTREAM_CREDS);
    const routes = ['sqs', 'lambda', 's3']
      .map((s) => `  - arn: "arn:aws:${s}:*"\n    endpoint: ${up.url}\n`)
      .join('');
    gw = await startGateway({
      policy: 'test/fixtures/policies/services.cedar',
      resources: routes,
      agentName: 'ops-bot',
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  /** Nothing new reached the stand-in (neither executed nor refused there). */
  function untouched(received: number, refused: number): void {
    assert.equal(up.received.length, received, 'the request reached the upstream');
    assert.equal(up.refused.length, refused, 'the request reached the upstream');
  }

  it('refuses a Lambda path whose encoded "/.." would re-sign to another function (report-* → secret)', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    // The signature covers the normalized path (/functions/secret/…), as SigV4 canonicalizes;
    // the wire path names "report-x%2F..%2Fsecret", which the policy's report-* would match.
    const reply = await signedRaw(gw, {
      service: 'lambda',
      signPath: '/2015-03-31/functions/report-x/../secret/invocations',
      wirePath: '/2015-03-31/functions/report-x%2F..%2Fsecret/invocations',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(reply.status, 400, reply.body);
    assert.equal(reply.code, 'InvalidURI', reply.body);
    untouched(n, r);
  });

  it('refuses an S3 key with encoded dot segments (bucket/a%2F..%2F..%2Fother/x)', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    const reply = await signedRaw(gw, {
      service: 's3',
      method: 'GET',
      signPath: '/reports/a%2F..%2F..%2Fpayroll/x',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(reply.status, 400, reply.body);
    assert.match(reply.body, /<Code>InvalidURI<\/Code>/);
    untouched(n, r);
  });

  it('refuses an X-Amz-Target call sent with a form Content-Type (JSON for Airlock, a form for SQS)', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    const body = JSON.stringify({
      QueueUrl: QUEUE,
      x: `&Action=DeleteQueue&QueueUrl=${encodeURIComponent(QUEUE)}&y=`,
    });
    const reply = await signedRaw(gw, {
      service: 'sqs',
      signPath: '/',
      headers: {
        'x-amz-target': 'AmazonSQS.ReceiveMessage',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
    });
    assert.equal(reply.status, 400, reply.body);
    assert.equal(reply.code, 'UnknownOperationException', reply.body);
    untouched(n, r);
  });

  it('refuses Query-protocol parameters in the URL beside the form body (?Action=DeleteQueue)', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    const reply = await signedRaw(gw, {
      service: 'sqs',
      signPath: '/',
      query: { Action: 'DeleteQueue', QueueUrl: QUEUE },
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'Action=ListQueues&Version=2012-11-05',
    });
    assert.equal(reply.status, 400, reply.body);
    assert.match(reply.body, /<Code>InvalidParameterValue<\/Code>/);
    untouched(n, r);
  });

  it('refuses an SQS call sent to one queue path whose QueueUrl names another', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    const reply = await signedRaw(gw, {
      service: 'sqs',
      signPath: '/123456789012/payroll-events',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: `Action=SendMessage&Version=2012-11-05&QueueUrl=${encodeURIComponent(QUEUE)}&MessageBody=x`,
    });
    assert.equal(reply.status, 400, reply.body);
    assert.match(reply.body, /<Code>InvalidAddress<\/Code>/);
    untouched(n, r);
  });

  it('refuses duplicate keys in an awsJson body (real SQS client, body rewritten before signing)', async () => {
    const [n, r] = [up.received.length, up.refused.length];
    const sqs = new SQSClient({
      endpoint: gw.airlock.awsUrl,
      region: REGION,
      credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
      maxAttempts: 1,
    });
    sqs.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body: string; headers: Record<string, string> };
        req.body = '{"QueueNamePrefix":"jobs","\\u0051ueueNamePrefix":"other"}';
        req.headers['content-length'] = String(Buffer.byteLength(req.body));
        return next(args);
      },
      { step: 'build', name: 'duplicateKeys' },
    );
    try {
      await assert.rejects(sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'jobs' })), (err: Error) => {
        assert.equal(err.name, 'SerializationException');
        assert.match(err.message, /repeats the key "QueueNamePrefix"/);
        return true;
      });
    } finally {
      sqs.destroy();
    }
    untouched(n, r);
  });
});

describe('AWS front: DynamoDB bodies with two meanings', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  /** A real DynamoDB client whose build step rewrites the request before it is signed. */
  function rewriting(change: (req: { body: string; headers: Record<string, string> }) => void) {
    const c = h.client({ reason: 'attack corpus' });
    c.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body: string; headers: Record<string, string> };
        change(req);
        req.headers['content-length'] = String(Buffer.byteLength(req.body));
        return next(args);
      },
      { step: 'build', name: 'rewrite' },
    );
    return c;
  }

  it('refuses duplicate TableName keys (JSON.parse keeps the last; another parser the first)', async () => {
    const before = h.upstream.received.length;
    const c = rewriting((req) => {
      req.body = '{"TableName":"customers","Key":{"id":{"S":"1"}},"TableName":"orders"}';
    });
    await assert.rejects(
      c.send(new GetItemCommand({ TableName: 'customers', Key: { id: { S: '1' } } })),
      (err: Error) =>
        err.name === 'SerializationException' && /repeats the key "TableName"/.test(err.message),
    );
    assert.equal(h.upstream.received.length, before);
  });

  it('refuses duplicate keys nested in an item, also when escaped', async () => {
    const before = h.upstream.received.length;
    const c = rewriting((req) => {
      req.body = '{"TableName":"customers","Key":{"id":{"S":"1"},"\\u0069d":{"S":"2"}}}';
    });
    await assert.rejects(
      c.send(new GetItemCommand({ TableName: 'customers', Key: { id: { S: '1' } } })),
      (err: Error) => err.name === 'SerializationException',
    );
    assert.equal(h.upstream.received.length, before);
  });

  it('refuses a reason with terminal escapes or newlines (it would rewrite what approvers read)', async () => {
    const before = h.upstream.received.length;
    for (const reason of ['%1B[2K%1B[1Aroutine', 'INC-1%0A  request   dynamodb:GetItem', 'ok %E2%80%AEtxt']) {
      const c = h.client({ reason });
      await assert.rejects(
        c.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'r' } } })),
        (err: Error) => err.name === 'ValidationException' && /one line of text/.test(err.message),
      );
    }
    assert.equal(h.upstream.received.length, before);
    const pending = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    assert.deepEqual(pending.body.approvals, []);
  });

  it('refuses a Content-Encoding the upstream would decode before reading the body', async () => {
    const before = h.upstream.received.length;
    const c = rewriting((req) => {
      req.headers['content-encoding'] = 'gzip';
    });
    await assert.rejects(
      c.send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'z' } } })),
      (err: Error) => err.name === 'ValidationException' && /Content-Encoding gzip/.test(err.message),
    );
    assert.equal(h.upstream.received.length, before);
  });
});

describe('AWS front: headers the agent did not sign', () => {
  let h: S3Harness;
  before(async () => {
    h = await startS3Harness();
  });
  after(async () => {
    await h.close();
  });

  async function objectIn(bucket: string, key: string): Promise<string | undefined> {
    try {
      const r = await h.direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body?.transformToString();
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  it('a presigned PUT cannot be turned into a CopyObject by an added x-amz-copy-source', async () => {
    await h.client().send(new PutObjectCommand({ Bucket: 'reports', Key: 'payroll.csv', Body: 'secret' }));
    // The agent hands out an upload URL for one key in scratch…
    const url = await getSignedUrl(h.client(), new PutObjectCommand({ Bucket: 'scratch', Key: 'drop.bin' }), {
      expiresIn: 300,
    });
    // …and whoever holds it adds a copy source the agent never signed.
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'x-amz-copy-source': '/reports/payroll.csv' },
    });
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(text, /headers present in the request which were not signed: x-amz-copy-source/);
    assert.equal(await objectIn('scratch', 'drop.bin'), undefined);
    assert.ok(!h.upstream.received.some((r) => r.operation === 'CopyObject'));
  });

  it('a repeated versionId cannot pass as a plain DeleteObject (it would delete a version)', async () => {
    const before = h.upstream.received.length;
    const s3 = h.client({ reason: 'cleanup' });
    s3.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { query: Record<string, string | string[]> };
        req.query.versionId = ['v-one', 'v-two'];
        return next(args);
      },
      { step: 'build', name: 'repeatVersionId' },
    );
    await assert.rejects(
      s3.send(new DeleteObjectCommand({ Bucket: 'reports', Key: 'payroll.csv' })),
      (err: Error) => {
        assert.equal(err.name, 'InvalidArgument');
        assert.match(err.message, /versionId appears more than once/);
        return true;
      },
    );
    assert.equal(h.upstream.received.length, before);
    assert.deepEqual((await h.api('GET', '/v1/approvals?status=pending')).body.approvals, []);
  });

  it('a header-signed request cannot carry an x-amz-* header added after signing', async () => {
    const s3 = h.client();
    // After signing (deserialize step): what a proxy on the agent's path could add.
    s3.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-acl'] = 'public-read';
        return next(args);
      },
      { step: 'deserialize', name: 'addAfterSigning' },
    );
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'acl.txt', Body: 'x' })),
      /not signed: x-amz-acl/,
    );
    assert.equal(await objectIn('scratch', 'acl.txt'), undefined);
  });
});

describe('AWS front: secrets in parameters never reach approvers or the ledger', () => {
  let up: VerifyingRpc;
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-sec-'));
    writeFileSync(
      join(dir, 'p.cedar'),
      `@id("rds-modify-needs-dba")
@hold("dba")
@quorum("1")
permit (principal, action == Airlock::Action::"rds:ModifyDBInstance", resource == Airlock::Resource::"*");
`,
    );
    up = await startVerifyingRpc(UPSTREAM_CREDS);
    gw = await startGateway({
      policy: join(dir, 'p.cedar'),
      resources: `  - arn: "arn:aws:rds:*"\n    endpoint: ${up.url}\n`,
      agentName: 'db-bot',
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a held RDS call (a service without a table) shows its MasterUserPassword only by length', async () => {
    const password = 'hunter2-Very-Secret-Value';
    const call = signedRaw(gw, {
      service: 'rds',
      signPath: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: `Action=ModifyDBInstance&Version=2014-10-31&DBInstanceIdentifier=prod-db&MasterUserPassword=${password}`,
    });
    const pending = await gw.pending('ModifyDBInstance');
    const detail = await gw.api('GET', `/v1/approvals/${String(pending.id)}`);
    const summary = (detail.body.approval as { summary: Record<string, unknown> }).summary;
    assert.equal(summary.DBInstanceIdentifier, 'prod-db');
    assert.equal(summary.MasterUserPassword, `(${password.length} chars)`);
    assert.ok(!JSON.stringify(detail.body).includes(password));
    const denied = await gw.api('POST', `/v1/approvals/${String(pending.id)}/deny`, { comment: 'no' });
    assert.equal(denied.status, 200);
    await call;
    const record = await auditRecord(gw.airlock.store, String(pending.id));
    assert.ok(record);
    assert.ok(!JSON.stringify(record).includes(password), 'the password is in the ledger record');
  });
});
