/**
 * The IAM actions Airlock can produce for the services beyond DynamoDB, and
 * their policy groups (`s3:read`, `sqs:write`, `kms:admin`, …), for the policy
 * schema (app.ts loadPolicy). Each service's table is the single source.
 */
import { RPC_SERVICES } from './codecs.js';
import { s3ActionClass, s3IamActions } from './s3/s3-operations.js';
import { rpcActionClass, rpcIamActions } from './services/rpc-table.js';

export function serviceIamActions(): string[] {
  return [...s3IamActions(), ...RPC_SERVICES.flatMap(rpcIamActions)];
}

export function serviceActionGroups(action: string): string[] {
  const prefix = action.slice(0, action.indexOf(':'));
  if (prefix === 's3') {
    const cls = s3ActionClass(action);
    return cls === 'unknown' ? [] : [`s3:${cls}`];
  }
  const service = RPC_SERVICES.find((s) => s.iamPrefix === prefix);
  const cls = service === undefined ? 'unknown' : rpcActionClass(service, action);
  return cls === 'unknown' ? [] : [`${prefix}:${cls}`];
}
