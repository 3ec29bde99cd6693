/**
 * SQS, SNS, Lambda Invoke, Secrets Manager, SSM Parameter Store, KMS and "any
 * other service" through Airlock with the real SDK v3 clients, against a strict
 * SigV4-verifying stand-in that records exactly what it received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startVerifyingRpc, type VerifyingRpc } from '../../src/demo/verifying-rpc.js';
import { type Gateway, startGateway } from '../support/gateway.js';
import { REGION, UPSTREAM_CREDS } from '../support/harness.js';
import { addReason } from '../support/s3-harness.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';

/** A Query-protocol call (form body), SigV4-signed with the agent's key for `service`. */
async function signedForm(gw: Gateway, service: string, path: string, body: string): Promise<Response> {
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
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    }),
  );
  return fetch(`${gw.airlock.awsUrl}${path}`, { method: 'POST', headers: signed.headers, body });
}

describe('SQS, SNS, Lambda, Secrets Manager, SSM, KMS and other services through Airlock', () => {
  let up: VerifyingRpc;
  let gw: Gateway;
  const destroy: { destroy(): void }[] = [];
  const cfg = () => ({
    endpoint: gw.airlock.awsUrl,
    region: REGION,
    credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
    maxAttempts: 1,
  });
  function track<T extends { destroy(): void }>(c: T): T {
    destroy.push(c);
    return c;
  }

  before(async () => {
    up = await startVerifyingRpc(UPSTREAM_CREDS);
    const routes = ['sqs', 'sns', 'lambda', 'secretsmanager', 'ssm', 'kms', 'ec2']
      .map((s) => `  - arn: "arn:aws:${s}:*"\n    endpoint: ${up.url}\n`)
      .join('');
    gw = await startGateway({
      policy: 'test/fixtures/policies/services.cedar',
      resources: routes,
      agentName: 'ops-bot',
    });
  });
  after(async () => {
    for (const c of destroy) c.destroy();
    await gw.close();
    await up.close();
  });

  it('SQS (JSON protocol): SendMessage to the permitted queue passes unchanged; another queue is denied', async () => {
    const sqs = track(new SQSClient({ ...cfg(), useQueueUrlAsEndpoint: false }));
    const r = await sqs.send(new SendMessageCommand({ QueueUrl: QUEUE, MessageBody: 'job 42' }));
    assert.ok(r.MessageId);
    const got = up.received.at(-1);
    assert.equal(got?.operation, 'SendMessage');
    assert.equal(got?.accessKeyId, UPSTREAM_CREDS.accessKeyId);
    assert.deepEqual(JSON.parse(got?.body ?? '{}'), { QueueUrl: QUEUE, MessageBody: 'job 42' });
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: QUEUE.replace('jobs', 'other') }));
    const before = up.received.length;
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl: QUEUE.replace('jobs', 'other'), MessageBody: 'x' })),
      (e: Error) => e.name === 'AccessDeniedException' || /default deny/.test(e.message),
    );
    assert.equal(up.received.length, before);
  });

  it('SQS over its Query protocol (queue in the path) is read the same way; errors come back as Query XML', async () => {
    const ok = await signedForm(
      gw,
      'sqs',
      '/123456789012/jobs',
      'Action=SendMessage&MessageBody=via%20query&Version=2012-11-05',
    );
    assert.equal(ok.status, 200, await ok.clone().text());
    const got = up.received.at(-1);
    assert.equal(got?.operation, 'SendMessage');
    assert.equal(new URLSearchParams(got?.body).get('MessageBody'), 'via query');
    const denied = await signedForm(
      gw,
      'sqs',
      '/123456789012/other',
      'Action=SendMessage&MessageBody=x&Version=2012-11-05',
    );
    assert.equal(denied.status, 400);
    assert.match(
      await denied.text(),
      /^<\?xml version="1.0"\?>\n<ErrorResponse><Error><Type>Sender<\/Type><Code>AccessDeniedException<\/Code><Message>no policy permits sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:other/,
    );
  });

  it('SNS (Query protocol): Publish to the permitted topic passes; errors come back as Query XML', async () => {
    const sns = track(new SNSClient(cfg()));
    const topic = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const r = await sns.send(new PublishCommand({ TopicArn: topic, Message: 'disk full' }));
    assert.ok(r.MessageId);
    const got = up.received.at(-1);
    assert.equal(got?.operation, 'Publish');
    const form = new URLSearchParams(got?.body);
    assert.equal(form.get('TopicArn'), topic);
    assert.equal(form.get('Message'), 'disk full');
    const e = await sns
      .send(new PublishCommand({ TopicArn: `${topic}-2`, Message: 'x' }))
      .catch((err: Error) => err);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'AccessDeniedException');
    assert.match(e.message, /no policy permits sns:Publish on arn:aws:sns:us-east-1:123456789012:alerts-2/);
  });

  it('Lambda Invoke: the function ARN (with qualifier) is the scope; the payload arrives unchanged', async () => {
    const lambda = track(new LambdaClient(cfg()));
    const payload = Buffer.from(JSON.stringify({ month: '2024-06' }));
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'report-monthly', Qualifier: 'live', Payload: payload }),
    );
    assert.deepEqual(JSON.parse(Buffer.from(r.Payload ?? []).toString()), { echo: { month: '2024-06' } });
    const got = up.received.at(-1);
    assert.equal(got?.operation, 'Invoke');
    assert.equal(got?.path, '/2015-03-31/functions/report-monthly/invocations');
    assert.equal(got?.body, payload.toString());
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'billing-run' })), /default deny/);
  });

  it('Secrets Manager: reading a prod secret is held until a dba approves', async () => {
    const sm = track(new SecretsManagerClient(cfg()));
    addReason(sm as never, 'INC-7 rotate check');
    const read = sm.send(new GetSecretValueCommand({ SecretId: 'prod/db-password' }));
    const pending = await gw.pending('GetSecretValue');
    assert.deepEqual(pending.scopes, [
      {
        action: 'secretsmanager:GetSecretValue',
        resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-??????',
      },
    ]);
    assert.equal(
      up.received.filter((r) => r.operation === 'GetSecretValue').length,
      0,
      'nothing sent while held',
    );
    const ok = await gw.approve(String(pending.id), 'ok');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const r = await read;
    assert.equal(r.SecretString, 'stand-in-secret-value');
    assert.deepEqual(JSON.parse(up.received.at(-1)?.body ?? '{}'), { SecretId: 'prod/db-password' });
  });

  it('SSM Parameter Store: reads under /app pass, a PutParameter is denied and never sent', async () => {
    const ssm = track(new SSMClient(cfg()));
    const r = await ssm.send(new GetParameterCommand({ Name: '/app/feature-flags' }));
    assert.equal(r.Parameter?.Value, 'stand-in-value');
    const before = up.received.length;
    await assert.rejects(
      ssm.send(new PutParameterCommand({ Name: '/app/feature-flags', Value: 'x', Overwrite: true })),
      /no policy permits ssm:PutParameter on arn:aws:ssm:us-east-1:123456789012:parameter\/app\/feature-flags/,
    );
    assert.equal(up.received.length, before);
  });

  it('KMS: Encrypt with the permitted alias passes', async () => {
    const kms = track(new KMSClient(cfg()));
    const r = await kms.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('hi') }));
    assert.ok(r.CiphertextBlob);
    assert.equal(up.received.at(-1)?.operation, 'Encrypt');
    await assert.rejects(
      kms.send(new EncryptCommand({ KeyId: 'alias/other', Plaintext: Buffer.from('hi') })),
      /default deny/,
    );
  });

  it('another service passes only by a policy naming its exact action on *, never by a broad permit', async () => {
    const call = (action: string) => signedForm(gw, 'ec2', '/', `Action=${action}&Version=2016-11-15`);
    const ok = await call('DescribeInstances');
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(up.received.at(-1)?.operation, 'DescribeInstances');
    const before = up.received.length;
    const denied = await call('TerminateInstances');
    assert.equal(denied.status, 400);
    const text = await denied.text();
    assert.match(text, /<Code>AccessDeniedException<\/Code>/);
    assert.match(text, /only a permit naming ec2:TerminateInstances exactly allows it/);
    assert.equal(up.received.length, before);
  });
});
