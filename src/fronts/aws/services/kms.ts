/**
 * AWS KMS (awsJson1_1 `TrentService.<Op>`). A key named by alias is scoped as the
 * alias ARN (Airlock does not resolve aliases: policies and approvers see the name
 * the agent used; a scoped STS session turns it into a kms:RequestAlias condition,
 * upstream/session-policy.ts); Decrypt without KeyId is `*`.
 * ReEncrypt needs ReEncryptFrom on the source key and ReEncryptTo on the destination.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
 */
import { op, type RpcService, ref } from './rpc-table.js';

const key = [ref('KeyId', 'kmsKey')];

export const KMS: RpcService = {
  signingName: 'kms',
  iamPrefix: 'kms',
  targetPrefix: 'TrentService',
  operations: new Map([
    ['Decrypt', op('read', [ref('KeyId', 'kmsKey', { optional: true })])],
    ['DescribeKey', op('read', key)],
    ['GetPublicKey', op('read', key)],
    ['Verify', op('read', key)],
    ['VerifyMac', op('read', key)],
    ['ListKeys', op('read')],
    ['ListAliases', op('read')],
    ['GenerateRandom', op('read')],
    ['Encrypt', op('write', key)],
    ['GenerateDataKey', op('write', key)],
    ['GenerateDataKeyWithoutPlaintext', op('write', key)],
    ['GenerateDataKeyPair', op('write', key)],
    ['GenerateDataKeyPairWithoutPlaintext', op('write', key)],
    ['GenerateMac', op('write', key)],
    ['Sign', op('write', key)],
    [
      'ReEncrypt',
      op(
        'write',
        [
          ref('SourceKeyId', 'kmsKey', { optional: true }),
          ref('DestinationKeyId', 'kmsKey', { action: 'ReEncryptTo' }),
        ],
        'ReEncryptFrom',
      ),
    ],
    ['CreateKey', op('admin')],
    ['EnableKey', op('admin', key)],
    ['DisableKey', op('admin', key)],
    ['ScheduleKeyDeletion', op('admin', key)],
    ['CancelKeyDeletion', op('admin', key)],
    ['CreateAlias', op('admin', [ref('AliasName', 'kmsAlias'), ref('TargetKeyId', 'kmsKey')])],
    ['DeleteAlias', op('admin', [ref('AliasName', 'kmsAlias')])],
  ]),
};
