/**
 * Request headers that make S3 check more IAM actions than the operation's own,
 * per operation, as the S3 API reference documents them. Each becomes a scope, so
 * policy sees (and approvers approve) what the request will really do; a header
 * that adds actions on an operation not listed here is refused, never dropped
 * silently into a request that means something else.
 *  - ACL and grant headers: s3:PutObjectAcl (PutObject, CopyObject, CreateMultipartUpload),
 *    s3:PutBucketAcl (CreateBucket);
 *  - x-amz-tagging: s3:PutObjectTagging;
 *  - x-amz-object-lock-mode / -retain-until-date: s3:PutObjectRetention;
 *    x-amz-object-lock-legal-hold: s3:PutObjectLegalHold;
 *  - x-amz-bypass-governance-retention: s3:BypassGovernanceRetention;
 *  - SSE-KMS (x-amz-server-side-encryption: aws:kms | aws:kms:dsse, or a key id):
 *    kms:GenerateDataKey on the key (and kms:Decrypt for a multipart upload); without a key
 *    id S3 uses the AWS managed key alias/aws/s3;
 *  - CreateBucket's x-amz-bucket-object-lock-enabled: s3:PutBucketObjectLockConfiguration and
 *    s3:PutBucketVersioning; x-amz-object-ownership: s3:PutBucketOwnershipControls.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms
 */
import type { Scope } from '../../../core/types.js';
import { AwsError } from '../aws-error.js';
import { toArn } from '../services/rpc-table.js';

/** What a header rule needs to name its resources. */
export interface HeaderScopeContext {
  readonly operation: string;
  /** ARNs the operation writes: the object (or each DeleteObjects key), or the bucket. */
  readonly targets: readonly string[];
  readonly region: string;
  readonly accountId: string;
}

const WRITES_OBJECT = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];

const ACL_HEADERS = [
  'x-amz-acl',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
];

interface Rule {
  readonly headers: readonly string[];
  /** Operation → the IAM actions the headers add on its targets ([] : the operation's own). */
  readonly ops: Readonly<Record<string, readonly string[]>>;
  /** Only when the header's value says so (e.g. `x-amz-bucket-object-lock-enabled: true`). */
  readonly when?: (value: string) => boolean;
}

const RULES: readonly Rule[] = [
  {
    headers: ACL_HEADERS,
    ops: {
      ...Object.fromEntries(WRITES_OBJECT.map((o) => [o, ['s3:PutObjectAcl']])),
      CreateBucket: ['s3:PutBucketAcl'],
      PutObjectAcl: [],
      PutBucketAcl: [],
    },
  },
  {
    headers: ['x-amz-tagging'],
    ops: Object.fromEntries(WRITES_OBJECT.map((o) => [o, ['s3:PutObjectTagging']])),
  },
  {
    headers: ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date'],
    ops: Object.fromEntries(WRITES_OBJECT.map((o) => [o, ['s3:PutObjectRetention']])),
  },
  {
    headers: ['x-amz-object-lock-legal-hold'],
    ops: Object.fromEntries(WRITES_OBJECT.map((o) => [o, ['s3:PutObjectLegalHold']])),
  },
  {
    headers: ['x-amz-bypass-governance-retention'],
    ops: Object.fromEntries(
      ['DeleteObject', 'DeleteObjects', 'PutObjectRetention'].map((o) => [
        o,
        ['s3:BypassGovernanceRetention'],
      ]),
    ),
  },
  {
    headers: ['x-amz-bucket-object-lock-enabled'],
    ops: { CreateBucket: ['s3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning'] },
    when: (v) => v.trim().toLowerCase() !== 'false',
  },
  { headers: ['x-amz-object-ownership'], ops: { CreateBucket: ['s3:PutBucketOwnershipControls'] } },
];

/** SSE-KMS headers: allowed where S3 writes a new object; the key is a resource of its own. */
const SSE_KMS_HEADERS = [
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
  'x-amz-server-side-encryption-bucket-key-enabled',
];

/** The scopes `headers` add to the operation; throws when one does not belong on it. */
export function headerScopes(headers: ReadonlyMap<string, string>, ctx: HeaderScopeContext): Scope[] {
  const out: Scope[] = [];
  const push = (action: string, resource: string) => {
    if (!out.some((s) => s.action === action && s.resource === resource)) out.push({ action, resource });
  };
  for (const rule of RULES) {
    for (const h of rule.headers) {
      const v = headers.get(h);
      if (v === undefined) continue;
      const actions = rule.ops[ctx.operation];
      if (actions === undefined) throw misplaced(h, ctx.operation);
      if (rule.when !== undefined && !rule.when(v)) continue;
      for (const a of actions) for (const t of ctx.targets) push(a, t);
    }
  }
  for (const s of kmsScopes(headers, ctx)) push(s.action, s.resource);
  return out;
}

function kmsScopes(headers: ReadonlyMap<string, string>, ctx: HeaderScopeContext): Scope[] {
  const present = SSE_KMS_HEADERS.filter((h) => headers.has(h));
  if (present.length === 0) return [];
  if (!WRITES_OBJECT.includes(ctx.operation)) throw misplaced(present[0] ?? '', ctx.operation);
  const sse = headers.get('x-amz-server-side-encryption')?.trim();
  const keyId = headers.get('x-amz-server-side-encryption-aws-kms-key-id')?.trim();
  if (sse === undefined || sse === 'AES256') {
    if (keyId !== undefined || headers.has('x-amz-server-side-encryption-context'))
      throw new AwsError(
        'InvalidArgument',
        'a KMS key id or encryption context needs x-amz-server-side-encryption: aws:kms',
      );
    return [];
  }
  if (sse !== 'aws:kms' && sse !== 'aws:kms:dsse')
    throw new AwsError(
      'InvalidArgument',
      `x-amz-server-side-encryption ${sse.slice(0, 32)} is not known to Airlock`,
    );
  const rctx = { region: ctx.region, accountId: ctx.accountId };
  const key = toArn(
    'kmsKey',
    keyId === undefined || keyId === '' ? 'alias/aws/s3' : keyId,
    'x-amz-server-side-encryption-aws-kms-key-id',
    rctx,
  );
  // A multipart upload decrypts its data keys to complete the parts (CreateMultipartUpload reference).
  const actions =
    ctx.operation === 'CreateMultipartUpload'
      ? ['kms:GenerateDataKey', 'kms:Decrypt']
      : ['kms:GenerateDataKey'];
  return actions.map((action) => ({ action, resource: key }));
}

function misplaced(header: string, operation: string): AwsError {
  return new AwsError(
    'InvalidArgument',
    `Airlock refuses ${header} on ${operation}: it is not a header of that operation, so Airlock cannot scope it`,
  );
}

/** The IAM actions these headers can add (for the policy schema). */
export function headerIamActions(): string[] {
  return [...new Set(RULES.flatMap((r) => Object.values(r.ops).flat()))];
}
