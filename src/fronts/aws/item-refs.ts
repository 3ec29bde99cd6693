/**
 * The items a request names by key (AccessRequest.items): what an `items` grant binds
 * (approvals/breadth.ts, docs/POLICY.md "Grant breadth"). A request gets items only when
 * every item it touches is named by key; one that also touches an item it names otherwise
 * (a PutItem's whole item, a Query) gets none, so an items grant can never cover it.
 */
import { createHash } from 'node:crypto';
import type { ItemRef, Scope } from '../../core/types.js';

/** Canonical JSON: object members sorted by name, so `{a,b}` and `{b,a}` are the same key. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * One DynamoDB item by its Key (AttributeValues as sent); `shown` is the key as the summary
 * renders it (dynamodb-summary.ts renderKey: redacted when named like a secret).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html#DDB-GetItem-request-Key
 */
export function dynamoItem(
  tableArn: string,
  key: Record<string, unknown>,
  shown: Record<string, unknown>,
): ItemRef {
  return {
    resource: tableArn,
    key: createHash('sha256').update(tableArn).update('\n').update(canonical(key)).digest('hex'),
    shown: Object.entries(shown)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(','),
  };
}

/** S3: the objects a request names (`arn:…:s3:::bucket/key`), when every scope is an object. */
export function s3Items(scopes: readonly Scope[]): ItemRef[] | undefined {
  const objects = [...new Set(scopes.map((s) => s.resource))];
  if (objects.length === 0 || !objects.every((r) => /^arn:[a-z-]+:s3:::[^/]+\/./.test(r))) return undefined;
  return objects.map((r) => ({
    resource: r,
    key: createHash('sha256').update(r).digest('hex'),
    shown: r.slice(r.indexOf(':::') + 3),
  }));
}
