/**
 * The RPC service tables → scopes: every kind of name each service accepts, as
 * the ARN IAM evaluates, and refusal of anything that is not clearly one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import { RPC_SERVICES } from '../../src/fronts/aws/codecs.js';
import { serviceActionGroups, serviceIamActions } from '../../src/fronts/aws/service-actions.js';
import { KMS } from '../../src/fronts/aws/services/kms.js';
import { LAMBDA } from '../../src/fronts/aws/services/lambda.js';
import { parseQueryForm } from '../../src/fronts/aws/services/query-form.js';
import {
  jsonParams,
  queryParams,
  type RpcService,
  rpcScopes,
} from '../../src/fronts/aws/services/rpc-table.js';
import { SECRETS_MANAGER } from '../../src/fronts/aws/services/secrets-manager.js';
import { SNS } from '../../src/fronts/aws/services/sns.js';
import { SQS } from '../../src/fronts/aws/services/sqs.js';
import { SSM } from '../../src/fronts/aws/services/ssm.js';

const ctx = { region: 'eu-west-1', accountId: '123456789012' };

function scopes(service: RpcService, op: string, body: Record<string, unknown>) {
  const spec = service.operations.get(op);
  assert.ok(spec, `${op} is in the table`);
  return rpcScopes(service, op, spec, jsonParams(body), ctx);
}

describe('RPC service tables', () => {
  it('SQS: queue URL → queue ARN (the URL names the account); batch ops are their single action', () => {
    assert.deepEqual(
      scopes(SQS, 'SendMessageBatch', {
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/210987654321/jobs.fifo',
      }),
      [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:210987654321:jobs.fifo' }],
    );
    assert.deepEqual(scopes(SQS, 'ListQueues', {}), [{ action: 'sqs:ListQueues', resource: '*' }]);
    assert.throws(() => scopes(SQS, 'SendMessage', { QueueUrl: 'https://sqs/../x' }), AwsError);
    assert.throws(() => scopes(SQS, 'SendMessage', {}), /QueueUrl is required/);
  });

  it('SNS (Query): topic, endpoint or phone number; a subscription is its topic', () => {
    const q = (o: Record<string, string>) => queryParams(new Map(Object.entries(o)));
    const pub = SNS.operations.get('Publish');
    const unsub = SNS.operations.get('Unsubscribe');
    assert.ok(pub && unsub);
    assert.deepEqual(rpcScopes(SNS, 'Publish', pub, q({ PhoneNumber: '+15555550100', Message: 'x' }), ctx), [
      { action: 'sns:Publish', resource: '*' },
    ]);
    const sub = 'arn:aws:sns:eu-west-1:123456789012:alerts:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
    assert.deepEqual(rpcScopes(SNS, 'Unsubscribe', unsub, q({ SubscriptionArn: sub }), ctx), [
      { action: 'sns:Unsubscribe', resource: 'arn:aws:sns:eu-west-1:123456789012:alerts' },
    ]);
    // A repeated parameter is ambiguous: refused, never first-wins.
    assert.throws(() => parseQueryForm('Action=Publish&TopicArn=a&TopicArn=b'), /more than once/);
  });

  it('Lambda: name, name:alias, partial and full ARNs', () => {
    const fn = (FunctionName: string) => scopes(LAMBDA, 'Invoke', { FunctionName })[0]?.resource;
    assert.equal(fn('report'), 'arn:aws:lambda:eu-west-1:123456789012:function:report');
    assert.equal(fn('report:live'), 'arn:aws:lambda:eu-west-1:123456789012:function:report:live');
    assert.equal(fn('210987654321:function:report'), 'arn:aws:lambda:eu-west-1:210987654321:function:report');
    assert.equal(
      fn('arn:aws:lambda:us-east-1:210987654321:function:report:$LATEST'),
      'arn:aws:lambda:us-east-1:210987654321:function:report:$LATEST',
    );
    assert.throws(() => fn('arn:aws:lambda:us-east-1:210987654321:layer:x'), AwsError);
  });

  it('Secrets Manager, SSM and KMS names', () => {
    assert.equal(
      scopes(SECRETS_MANAGER, 'GetSecretValue', { SecretId: 'prod/db' })[0]?.resource,
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-??????',
    );
    assert.deepEqual(scopes(SSM, 'GetParameters', { Names: ['/app/a', 'app/b'] }), [
      { action: 'ssm:GetParameters', resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/a' },
      { action: 'ssm:GetParameters', resource: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/b' },
    ]);
    assert.deepEqual(
      scopes(KMS, 'ReEncrypt', {
        DestinationKeyId: 'alias/new',
        SourceKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      }),
      [
        {
          action: 'kms:ReEncryptFrom',
          resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
        { action: 'kms:ReEncryptTo', resource: 'arn:aws:kms:eu-west-1:123456789012:alias/new' },
      ],
    );
    assert.deepEqual(scopes(KMS, 'Decrypt', { CiphertextBlob: 'AQID' }), [
      { action: 'kms:Decrypt', resource: '*' },
    ]);
    assert.throws(() => scopes(KMS, 'Encrypt', { KeyId: 'not a key' }), AwsError);
    assert.throws(() => scopes(SSM, 'GetParameter', { Name: 7 }), /must be a string/);
  });

  it('registers every action and its read/write/admin group for the policy schema', () => {
    const actions = serviceIamActions();
    for (const a of [
      'sqs:SendMessage',
      'sns:Publish',
      'lambda:InvokeFunction',
      'secretsmanager:GetSecretValue',
      'ssm:GetParameter',
      'kms:ReEncryptTo',
      's3:PutObject',
    ])
      assert.ok(actions.includes(a), a);
    assert.ok(!actions.includes('sqs:SendMessageBatch'), 'batch ops are not IAM actions');
    assert.deepEqual(serviceActionGroups('kms:Decrypt'), ['kms:read']);
    assert.deepEqual(serviceActionGroups('sqs:PurgeQueue'), ['sqs:admin']);
    assert.deepEqual(serviceActionGroups('ec2:DescribeInstances'), []);
    assert.equal(RPC_SERVICES.length, 6);
  });
});

describe('Query-protocol form bodies (issue 20)', () => {
  it('reads the SDK spelling: + and %20 are spaces, member paths as names', () => {
    assert.deepEqual(
      [
        ...parseQueryForm(
          'Action=Publish&Message=a+b%20c%26d&MessageAttributes.entry.1.Value.DataType=String',
        ),
      ],
      [
        ['Action', 'Publish'],
        ['Message', 'a b c&d'],
        ['MessageAttributes.entry.1.Value.DataType', 'String'],
      ],
    );
    assert.deepEqual([...parseQueryForm('')], []);
  });

  it('refuses a parameter given twice, however spelled', () => {
    for (const body of [
      'Action=SendMessage&Action=PurgeQueue',
      'Action=SendMessage&%41ction=PurgeQueue',
      'Action=SendMessage&action=PurgeQueue',
      'QueueUrl=a&QueueUrl=a',
    ])
      assert.throws(() => parseQueryForm(body), /more than once/, body);
  });

  it('refuses what readers could split or decode differently', () => {
    for (const body of [
      'a=1&&b=2',
      'a=%zz',
      'a=%FF',
      'Act ion=x',
      'Action%3DPurgeQueue=1',
      'a;b=1',
      '.a=1',
      '=x',
    ])
      assert.throws(() => parseQueryForm(body), AwsError, body);
  });
});
