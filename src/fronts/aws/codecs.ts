/**
 * Which codec serves a signing service: DynamoDB and S3 have their own; SQS, SNS,
 * Lambda, Secrets Manager, SSM Parameter Store and KMS share the table-driven RPC
 * codec; any other service goes through the same codec with no table, where only a
 * policy naming the exact action lets a request pass (policy/engine.ts).
 */
import type { ServiceCodec } from './codec.js';
import { s3Codec } from './s3/s3-codec.js';
import { dynamoDbCodec } from './services/dynamodb-codec.js';
import { KMS } from './services/kms.js';
import { LAMBDA } from './services/lambda.js';
import { openService, rpcCodec } from './services/rpc-codec.js';
import type { RpcService } from './services/rpc-table.js';
import { SECRETS_MANAGER } from './services/secrets-manager.js';
import { SNS } from './services/sns.js';
import { SQS } from './services/sqs.js';
import { SSM } from './services/ssm.js';

/** Services with an operation table (their actions are in the policy schema). */
export const RPC_SERVICES: readonly RpcService[] = [SQS, SNS, LAMBDA, SECRETS_MANAGER, SSM, KMS];

const CODECS: ReadonlyMap<string, ServiceCodec> = new Map([
  ['dynamodb', dynamoDbCodec],
  ['s3', s3Codec],
  ...RPC_SERVICES.map((s): [string, ServiceCodec] => [s.signingName, rpcCodec(s)]),
]);

const open = new Map<string, ServiceCodec>();

export function codecFor(service: string | undefined): ServiceCodec {
  if (service === undefined) return dynamoDbCodec; // renders the missing/malformed signature error
  const known = CODECS.get(service);
  if (known !== undefined) return known;
  let c = open.get(service);
  if (c === undefined) {
    if (open.size > 256) open.clear();
    c = rpcCodec(openService(service));
    open.set(service, c);
  }
  return c;
}
