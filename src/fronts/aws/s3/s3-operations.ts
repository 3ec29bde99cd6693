/**
 * S3 operations as data: (HTTP method, what the path names, the subresource in the
 * query, whether x-amz-copy-source is present) → operation, IAM action, class.
 * Follows "Actions, resources, and condition keys for Amazon S3"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html)
 * and the S3 API reference for the request shapes. First match wins, so specific
 * rows (subresources, copies) come before the plain ones.
 */

export type S3Class = 'read' | 'write' | 'admin';
export type S3Target = 'service' | 'bucket' | 'object';

export interface S3Operation {
  readonly name: string;
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  readonly target: S3Target;
  /** Query key that selects this operation (`uploads`, `tagging`, …); undefined: none present. */
  readonly sub: string | undefined;
  /** true: only with x-amz-copy-source; false: only without; undefined: either. */
  readonly copy: boolean | undefined;
  readonly action: string;
  /** The action IAM checks instead when the request names a versionId. */
  readonly versionedAction: string | undefined;
  readonly cls: S3Class;
  /**
   * Bodies Airlock reads: DeleteObjects names every key it deletes, a RestoreObject may name a
   * bucket, a replication configuration the role it passes.
   */
  readonly special: 'deleteObjects' | 'restoreObject' | 'putReplication' | undefined;
}

type Row = [
  name: string,
  method: S3Operation['method'],
  target: S3Target,
  sub: string | undefined,
  action: string,
  cls: S3Class,
  opts?: { copy?: boolean; versioned?: string; special?: S3Operation['special'] },
];

/** Bucket configuration subresources: [query key, Get action, Put action, Delete action (IAM), op suffix]. */
const BUCKET_CONFIG: readonly [string, string, string | undefined, string | undefined, string][] = [
  ['policy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'BucketPolicy'],
  ['tagging', 'GetBucketTagging', 'PutBucketTagging', 'PutBucketTagging', 'BucketTagging'],
  ['versioning', 'GetBucketVersioning', 'PutBucketVersioning', undefined, 'BucketVersioning'],
  [
    'lifecycle',
    'GetLifecycleConfiguration',
    'PutLifecycleConfiguration',
    'PutLifecycleConfiguration',
    'BucketLifecycleConfiguration',
  ],
  ['cors', 'GetBucketCORS', 'PutBucketCORS', 'PutBucketCORS', 'BucketCors'],
  ['website', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite', 'BucketWebsite'],
  ['acl', 'GetBucketAcl', 'PutBucketAcl', undefined, 'BucketAcl'],
  [
    'encryption',
    'GetEncryptionConfiguration',
    'PutEncryptionConfiguration',
    'PutEncryptionConfiguration',
    'BucketEncryption',
  ],
  [
    'notification',
    'GetBucketNotification',
    'PutBucketNotification',
    undefined,
    'BucketNotificationConfiguration',
  ],
  ['logging', 'GetBucketLogging', 'PutBucketLogging', undefined, 'BucketLogging'],
  [
    'publicAccessBlock',
    'GetBucketPublicAccessBlock',
    'PutBucketPublicAccessBlock',
    'PutBucketPublicAccessBlock',
    'PublicAccessBlock',
  ],
  [
    'ownershipControls',
    'GetBucketOwnershipControls',
    'PutBucketOwnershipControls',
    'PutBucketOwnershipControls',
    'BucketOwnershipControls',
  ],
  [
    'object-lock',
    'GetBucketObjectLockConfiguration',
    'PutBucketObjectLockConfiguration',
    undefined,
    'ObjectLockConfiguration',
  ],
  [
    'replication',
    'GetReplicationConfiguration',
    'PutReplicationConfiguration',
    'PutReplicationConfiguration',
    'BucketReplication',
  ],
  [
    'accelerate',
    'GetAccelerateConfiguration',
    'PutAccelerateConfiguration',
    undefined,
    'BucketAccelerateConfiguration',
  ],
  ['requestPayment', 'GetBucketRequestPayment', 'PutBucketRequestPayment', undefined, 'BucketRequestPayment'],
  ['policyStatus', 'GetBucketPolicyStatus', undefined, undefined, 'BucketPolicyStatus'],
];

const ROWS: readonly Row[] = [
  ['ListBuckets', 'GET', 'service', undefined, 'ListAllMyBuckets', 'read'],

  ['ListMultipartUploads', 'GET', 'bucket', 'uploads', 'ListBucketMultipartUploads', 'read'],
  ['ListObjectVersions', 'GET', 'bucket', 'versions', 'ListBucketVersions', 'read'],
  ['GetBucketLocation', 'GET', 'bucket', 'location', 'GetBucketLocation', 'read'],
  ['DeleteObjects', 'POST', 'bucket', 'delete', 'DeleteObject', 'write', { special: 'deleteObjects' }],
  ...BUCKET_CONFIG.flatMap(([sub, get, put, del, op]): Row[] => [
    [`Get${op}`, 'GET', 'bucket', sub, get, 'read'],
    ...(put === undefined
      ? []
      : [
          [
            `Put${op}`,
            'PUT',
            'bucket',
            sub,
            put,
            'admin',
            ...(sub === 'replication' ? [{ special: 'putReplication' as const }] : []),
          ] as Row,
        ]),
    ...(del === undefined ? [] : [[`Delete${op}`, 'DELETE', 'bucket', sub, del, 'admin'] as Row]),
  ]),
  ['ListObjects', 'GET', 'bucket', undefined, 'ListBucket', 'read'],
  ['HeadBucket', 'HEAD', 'bucket', undefined, 'ListBucket', 'read'],
  ['CreateBucket', 'PUT', 'bucket', undefined, 'CreateBucket', 'admin'],
  ['DeleteBucket', 'DELETE', 'bucket', undefined, 'DeleteBucket', 'admin'],

  ['CreateMultipartUpload', 'POST', 'object', 'uploads', 'PutObject', 'write'],
  ['CompleteMultipartUpload', 'POST', 'object', 'uploadId', 'PutObject', 'write'],
  ['UploadPartCopy', 'PUT', 'object', 'uploadId', 'PutObject', 'write', { copy: true }],
  ['UploadPart', 'PUT', 'object', 'uploadId', 'PutObject', 'write', { copy: false }],
  ['AbortMultipartUpload', 'DELETE', 'object', 'uploadId', 'AbortMultipartUpload', 'write'],
  ['ListParts', 'GET', 'object', 'uploadId', 'ListMultipartUploadParts', 'read'],
  [
    'GetObjectTagging',
    'GET',
    'object',
    'tagging',
    'GetObjectTagging',
    'read',
    { versioned: 'GetObjectVersionTagging' },
  ],
  [
    'PutObjectTagging',
    'PUT',
    'object',
    'tagging',
    'PutObjectTagging',
    'write',
    { versioned: 'PutObjectVersionTagging' },
  ],
  [
    'DeleteObjectTagging',
    'DELETE',
    'object',
    'tagging',
    'DeleteObjectTagging',
    'write',
    { versioned: 'DeleteObjectVersionTagging' },
  ],
  ['GetObjectAcl', 'GET', 'object', 'acl', 'GetObjectAcl', 'read', { versioned: 'GetObjectVersionAcl' }],
  ['PutObjectAcl', 'PUT', 'object', 'acl', 'PutObjectAcl', 'admin', { versioned: 'PutObjectVersionAcl' }],
  ['GetObjectRetention', 'GET', 'object', 'retention', 'GetObjectRetention', 'read'],
  ['PutObjectRetention', 'PUT', 'object', 'retention', 'PutObjectRetention', 'admin'],
  ['GetObjectLegalHold', 'GET', 'object', 'legal-hold', 'GetObjectLegalHold', 'read'],
  ['PutObjectLegalHold', 'PUT', 'object', 'legal-hold', 'PutObjectLegalHold', 'admin'],
  [
    'GetObjectAttributes',
    'GET',
    'object',
    'attributes',
    'GetObjectAttributes',
    'read',
    { versioned: 'GetObjectVersionAttributes' },
  ],
  ['RestoreObject', 'POST', 'object', 'restore', 'RestoreObject', 'write', { special: 'restoreObject' }],
  ['SelectObjectContent', 'POST', 'object', 'select', 'GetObject', 'read'],
  ['CopyObject', 'PUT', 'object', undefined, 'PutObject', 'write', { copy: true }],
  ['PutObject', 'PUT', 'object', undefined, 'PutObject', 'write', { copy: false }],
  ['GetObject', 'GET', 'object', undefined, 'GetObject', 'read', { versioned: 'GetObjectVersion' }],
  ['HeadObject', 'HEAD', 'object', undefined, 'GetObject', 'read', { versioned: 'GetObjectVersion' }],
  [
    'DeleteObject',
    'DELETE',
    'object',
    undefined,
    'DeleteObject',
    'write',
    { versioned: 'DeleteObjectVersion' },
  ],
];

export const S3_OPERATIONS: readonly S3Operation[] = ROWS.map(
  ([name, method, target, sub, action, cls, o]) => ({
    name,
    method,
    target,
    sub,
    copy: o?.copy,
    action: `s3:${action}`,
    versionedAction: o?.versioned === undefined ? undefined : `s3:${o.versioned}`,
    cls,
    special: o?.special,
  }),
);

/** Every subresource key the table knows; any other non-parameter query key is an unknown operation. */
const SUBRESOURCES = new Set(S3_OPERATIONS.flatMap((o) => (o.sub === undefined ? [] : [o.sub])));

/**
 * Query keys that are parameters, not subresources. An unlisted key could select an
 * operation this table does not know (e.g. `?torrent`), so it makes the request unknown.
 */
const PARAMETERS = new Set([
  'versionId',
  'partNumber',
  'prefix',
  'delimiter',
  'marker',
  'max-keys',
  'list-type',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'key-marker',
  'version-id-marker',
  'upload-id-marker',
  'max-uploads',
  'max-parts',
  'part-number-marker',
  'x-id',
  'select-type',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'bucket-region',
  'max-buckets',
  'id',
]);

/** The operation for a request, or undefined when Airlock cannot name it with certainty. */
export function s3Operation(
  method: string,
  target: S3Target,
  queryKeys: readonly string[],
  hasCopySource: boolean,
): S3Operation | undefined {
  // x-amz-* keys are headers hoisted into the query; the codec reads them as headers first
  // (s3-codec.ts), so one left here is not understood and makes the request unknown.
  const subs = queryKeys.filter((k) => !PARAMETERS.has(k));
  if (subs.some((k) => !SUBRESOURCES.has(k))) return undefined;
  // uploadId is a subresource of object rows; partNumber rides along with it.
  const sub = subs.length === 0 ? undefined : subs.length === 1 ? subs[0] : undefined;
  if (subs.length > 1) return undefined;
  return S3_OPERATIONS.find(
    (o) =>
      o.method === method &&
      o.target === target &&
      o.sub === sub &&
      (o.copy === undefined || o.copy === hasCopySource),
  );
}

/** Actions only request headers add (s3-header-scopes.ts), with their class. */
const HEADER_ONLY_ACTIONS: Readonly<Record<string, S3Class>> = { 's3:BypassGovernanceRetention': 'admin' };

/** Class of an IAM action (`s3:GetObject`) for the policy groups s3:read / s3:write / s3:admin. */
export function s3ActionClass(action: string): S3Class | 'unknown' {
  let found: S3Class | undefined = HEADER_ONLY_ACTIONS[action];
  for (const o of S3_OPERATIONS) {
    if (o.action === action || o.versionedAction === action) {
      // The strictest class wins when one action appears in several rows.
      if (found === undefined || rank(o.cls) > rank(found)) found = o.cls;
    }
  }
  return found ?? 'unknown';
}

function rank(c: S3Class): number {
  return c === 'read' ? 0 : c === 'write' ? 1 : 2;
}

/** Every IAM action the S3 table can produce (what a policy may name). */
export function s3IamActions(): string[] {
  const all = S3_OPERATIONS.flatMap((o) =>
    o.versionedAction === undefined ? [o.action] : [o.action, o.versionedAction],
  );
  return [...new Set([...all, ...Object.keys(HEADER_ONLY_ACTIONS)])];
}
