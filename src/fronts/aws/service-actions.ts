/**
 * The IAM actions Airlock can produce for the services beyond DynamoDB, and
 * their policy groups (`s3:read`, `s3:write`, `s3:admin`, …), for the policy
 * schema (app.ts loadPolicy). Each service's table is the single source.
 */
import { s3ActionClass, s3IamActions } from './s3/s3-operations.js';

export function serviceIamActions(): string[] {
  return [...s3IamActions()];
}

export function serviceActionGroups(action: string): string[] {
  if (action.startsWith('s3:')) {
    const cls = s3ActionClass(action);
    return cls === 'unknown' ? [] : [`s3:${cls}`];
  }
  return [];
}
