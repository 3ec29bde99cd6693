/**
 * Which inputs of an S3 request Airlock reads and lets cross: every one that can name a
 * resource or add an IAM action is either scoped or not forwarded. `x-amz-*` query
 * parameters are the headers they stand for (S3 reads `?x-amz-copy-source=` as the header,
 * and the SDK presigner hoists headers into the query), so they join the headers before
 * anything reads them; nothing is given twice.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { AwsError } from '../aws-error.js';

/** Headers S3 needs to carry out the call; never the agent's auth, its checksum-trailer framing or Airlock's own. */
const FORWARDED = new Set([
  'content-type',
  'content-md5',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'accept',
  'accept-encoding',
]);
/**
 * The x-amz-* headers that cross, by exact name where they carry permissions: every one that
 * adds IAM actions is scoped (s3-header-scopes.ts), so a pattern here must not let through a
 * spelling the scope table does not know.
 */
const FORWARDED_AMZ =
  /^x-amz-(meta-.+|acl|grant-(read|read-acp|write|write-acp|full-control)|storage-class|server-side-encryption(-aws-kms-key-id|-context|-bucket-key-enabled|-customer-algorithm|-customer-key|-customer-key-md5)?|tagging|tagging-directive|metadata-directive|website-redirect-location|object-lock-(mode|retain-until-date|legal-hold)|request-payer|expected-bucket-owner|source-expected-bucket-owner|mfa|bypass-governance-retention|checksum-(crc32|crc32c|crc64nvme|sha1|sha256)|checksum-mode|object-ownership|bucket-object-lock-enabled|object-attributes|max-parts|part-number-marker|write-offset-bytes|if-.+)$/;

/** Headers shown to approvers: the ones that add scopes (s3-header-scopes.ts) or name a source. */
export const SCOPED_HEADER =
  /^x-amz-(acl|grant-.+|tagging|object-lock-.+|bypass-governance-retention|server-side-encryption(-aws-kms-key-id|-context)?|bucket-object-lock-enabled|object-ownership)$/;

export function forwardHeader(name: string): boolean {
  return FORWARDED.has(name) || FORWARDED_AMZ.test(name);
}

/** The copy source crosses only on the operations whose scopes include it (CopyObject, UploadPartCopy). */
export function forwardCopyHeader(name: string): boolean {
  return forwardHeader(name) || name.startsWith('x-amz-copy-source');
}

/**
 * The request's headers with its `x-amz-*` query parameters moved in beside them (and out of
 * `query`, which then holds only S3's own parameters). S3 reads such a parameter as the header
 * of that name (sigv4-query-string-auth.html); one given both ways, or twice, is refused.
 */
export function hoistAmzParams(
  headers: ReadonlyMap<string, string>,
  query: Record<string, string | string[]>,
): Map<string, string> {
  const input = new Map(headers);
  for (const k of Object.keys(query)) {
    if (!/^x-amz-/i.test(k)) continue;
    const name = k.toLowerCase();
    const v = query[k];
    if (typeof v !== 'string' || input.has(name))
      throw new AwsError(
        'InvalidArgument',
        `${name.slice(0, 64)} is given more than once (query and header)`,
      );
    input.set(name, v);
    delete query[k];
  }
  return input;
}

/**
 * A repeated x-amz-* header is refused: Node hands both values on joined with ",", which one
 * upstream may read as a list and another as the first or the last value.
 */
export function refuseRepeatedAmzHeaders(rawHeaders: readonly string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (!name.startsWith('x-amz-')) continue;
    if (seen.has(name))
      throw new AwsError('InvalidArgument', `header ${name.slice(0, 64)} appears more than once`);
    seen.add(name);
  }
}
