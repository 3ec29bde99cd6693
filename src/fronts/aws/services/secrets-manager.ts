/**
 * AWS Secrets Manager (awsJson1_1 `secretsmanager.<Op>`). A secret named without
 * its ARN is scoped as `…:secret:NAME-??????` (its ARN's random suffix).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 */
import { op, type RpcService, ref } from './rpc-table.js';

const secret = [ref('SecretId', 'secret')];

export const SECRETS_MANAGER: RpcService = {
  signingName: 'secretsmanager',
  iamPrefix: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  operations: new Map([
    ['GetSecretValue', op('read', secret)],
    [
      'BatchGetSecretValue',
      op('read', [ref('SecretIdList', 'secret', { list: true, optional: true })], 'GetSecretValue'),
    ],
    ['DescribeSecret', op('read', secret)],
    ['ListSecretVersionIds', op('read', secret)],
    ['GetResourcePolicy', op('read', secret)],
    ['ListSecrets', op('read')],
    ['GetRandomPassword', op('read')],
    ['PutSecretValue', op('write', secret)],
    ['UpdateSecret', op('write', secret)],
    ['UpdateSecretVersionStage', op('write', secret)],
    ['CreateSecret', op('admin', [ref('Name', 'secret')])],
    ['DeleteSecret', op('admin', secret)],
    ['RestoreSecret', op('admin', secret)],
    ['RotateSecret', op('admin', secret)],
    ['CancelRotateSecret', op('admin', secret)],
    ['TagResource', op('admin', secret)],
    ['UntagResource', op('admin', secret)],
    ['PutResourcePolicy', op('admin', secret)],
    ['DeleteResourcePolicy', op('admin', secret)],
  ]),
};
