/**
 * Issue 20, hole 5: a Query-protocol body (or query string) naming a parameter twice
 * was authorized on the first value and forwarded with both. Each shape is refused
 * before anything reaches the recording upstream; the SDK's own Query bodies
 * (SNS Publish with message attributes, SQS over Query) still pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startVerifyingRpc, type VerifyingRpc } from '../../src/demo/verifying-rpc.js';
import { type Gateway, startGateway } from '../support/gateway.js';
import { REGION, UPSTREAM_CREDS } from '../support/harness.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';

/** A signed POST with a form body (and optionally a query string), as the Query protocol sends. */
async function signedForm(
  gw: Gateway,
  service: string,
  path: string,
  body: string,
  query: Record<string, string | string[]> = {},
): Promise<Response> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
    region: REGION,
    service,
    sha256: Hash.bind(null, 'sha256'),
  });
  const url = new URL(gw.airlock.awsUrl);
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query,
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    }),
  );
  const qs = Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}=${encodeURIComponent(one)}`))
    .join('&');
  return fetch(`${gw.airlock.awsUrl}${path}${qs === '' ? '' : `?${qs}`}`, {
    method: 'POST',
    headers: signed.headers,
    body,
  });
}

describe('Query protocol: one value per parameter (issue 20)', () => {
  let up: VerifyingRpc;
  let gw: Gateway;
  before(async () => {
    up = await startVerifyingRpc(UPSTREAM_CREDS);
    const routes = ['sqs', 'sns', 'lambda', 'ec2']
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

  const refused = async (
    service: string,
    path: string,
    body: string,
    query?: Record<string, string | string[]>,
  ) => {
    const before = up.received.length;
    const refusedBefore = up.refused.length;
    const res = await signedForm(gw, service, path, body, query);
    const text = await res.text();
    assert.equal(res.status, 400, text);
    // Airlock refused it: the upstream neither accepted nor even saw it.
    assert.equal(up.received.length, before, 'nothing reached the upstream');
    assert.equal(up.refused.length, refusedBefore, 'nothing reached the upstream');
    return text;
  };

  const send = `Action=SendMessage&QueueUrl=${encodeURIComponent(QUEUE)}&MessageBody=x&Version=2012-11-05`;

  it('SQS: SendMessage permitted, a second Action=PurgeQueue in the body is refused', async () => {
    const ok = await signedForm(gw, 'sqs', '/', send);
    assert.equal(ok.status, 200, await ok.text());
    const text = await refused('sqs', '/', `${send}&Action=PurgeQueue`);
    assert.match(text, /MalformedQueryString/);
    assert.match(text, /Action appears more than once/);
  });

  it('the same with the repeat spelled %41ction or action', async () => {
    await refused('sqs', '/', `${send}&%41ction=PurgeQueue`);
    await refused('sqs', '/', `${send}&action=PurgeQueue`);
  });

  it('a repeated resource or body parameter is refused too', async () => {
    await refused('sqs', '/', `${send}&QueueUrl=${encodeURIComponent(QUEUE.replace('jobs', 'other'))}`);
    await refused('sqs', '/', `${send}&MessageBody=y`);
  });

  it('EC2: DescribeInstances permitted, a second Action=TerminateInstances is refused', async () => {
    const base = 'Action=DescribeInstances&Version=2016-11-15';
    const ok = await signedForm(gw, 'ec2', '/', base);
    assert.equal(ok.status, 200, await ok.text());
    await refused('ec2', '/', `${base}&Action=TerminateInstances`);
  });

  it('malformed forms are refused rather than read one way and forwarded another', async () => {
    await refused('sqs', '/', `${send}&&x=1`);
    await refused('sqs', '/', `${send}&Bad%zzName=1`);
    await refused('sqs', '/', `${send}&Attribute.1.Name%00=1`);
    await refused('sqs', '/', send.replace('MessageBody=x', 'MessageBody=%FF'));
  });

  it('query-string parameters: refused on Query services; a repeated Lambda Qualifier is refused', async () => {
    await refused('sqs', '/', send, { Action: 'PurgeQueue' });
    const before = up.received.length;
    const res = await signedForm(gw, 'lambda', '/2015-03-31/functions/report-monthly/invocations', '{}', {
      Qualifier: ['live', 'dev'],
    });
    assert.equal(res.status, 400, await res.text());
    assert.equal(up.received.length, before);
  });

  it("the SDK's own Query bodies still pass (SNS Publish with message attributes)", async () => {
    const sns = new SNSClient({
      endpoint: gw.airlock.awsUrl,
      region: REGION,
      credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      const r = await sns.send(
        new PublishCommand({
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
          Message: 'disk full & more',
          Subject: 'ops+alerts',
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: 'high' },
            'x.y-z_1': { DataType: 'Number', StringValue: '3' },
          },
        }),
      );
      assert.ok(r.MessageId);
      const form = new URLSearchParams(up.received.at(-1)?.body);
      assert.equal(form.get('Message'), 'disk full & more');
      assert.equal(form.get('MessageAttributes.entry.2.Name'), 'x.y-z_1');
    } finally {
      sns.destroy();
    }
  });
});
