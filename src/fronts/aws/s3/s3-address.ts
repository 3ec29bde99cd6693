/**
 * Where an S3 request points: bucket and key from a path-style URL
 * (`/bucket/key`) or a virtual-hosted one (`bucket.s3.REGION.amazonaws.com/key`,
 * or `bucket.<anything>.localhost` when agents reach Airlock by a local name), the
 * copy source of CopyObject/UploadPartCopy, and the IAM resource ARNs of both.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (x-amz-copy-source)
 */
import { AwsError } from '../aws-error.js';

export interface S3Address {
  readonly bucket: string | undefined;
  /** Decoded object key ('' for bucket- and service-level requests). */
  readonly key: string;
  readonly virtualHosted: boolean;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const AWS_VHOST = /^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;
const LOCAL_VHOST = /^(.+)\.localhost$/;

export function s3Address(host: string, rawPath: string): S3Address {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const vhost = AWS_VHOST.exec(hostname)?.[1] ?? LOCAL_VHOST.exec(hostname)?.[1];
  if (!rawPath.startsWith('/')) throw new AwsError('InvalidURI', 'request path must start with /');
  if (vhost !== undefined) {
    checkBucket(vhost);
    const key = decodeKey(rawPath.slice(1));
    checkKey(key, 'the object key');
    return { bucket: vhost, key, virtualHosted: true };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: '', virtualHosted: false };
  const slash = rest.indexOf('/');
  const bucket = decodeKey(slash === -1 ? rest : rest.slice(0, slash));
  checkBucket(bucket);
  const key = slash === -1 ? '' : decodeKey(rest.slice(slash + 1));
  checkKey(key, 'the object key');
  return { bucket, key, virtualHosted: false };
}

export function bucketArn(partition: string, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

export function objectArn(partition: string, bucket: string, key: string): string {
  return `arn:${partition}:s3:::${bucket}/${key}`;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. Access-point sources are refused. */
export function copySource(value: string): { bucket: string; key: string; versionId: string | undefined } {
  const q = value.indexOf('?');
  const path = (q === -1 ? value : value.slice(0, q)).replace(/^\//, '');
  let versionId: string | undefined;
  if (q !== -1) {
    const m = /^versionId=([^&]+)$/.exec(value.slice(q + 1));
    if (m === null) throw new AwsError('InvalidArgument', 'x-amz-copy-source may only carry ?versionId=');
    versionId = decodeKey(m[1] ?? '');
  }
  if (path.startsWith('arn:'))
    throw new AwsError('InvalidArgument', 'Airlock does not accept access-point ARNs as x-amz-copy-source');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1)
    throw new AwsError('InvalidArgument', 'x-amz-copy-source must be bucket/key');
  const bucket = decodeKey(path.slice(0, slash));
  checkBucket(bucket);
  const key = decodeKey(path.slice(slash + 1));
  checkKey(key, 'x-amz-copy-source');
  return { bucket, key, versionId };
}

/**
 * S3 reads keys literally, but S3-compatible upstreams resolve `.` and `..` segments (s3rver
 * copied and deleted in another bucket), so every key Airlock scopes follows the rule the
 * URL path guard (path-guard.ts) applies to paths: no dot segment, however it was encoded.
 */
export function checkKey(key: string, what: string): void {
  if (key.split('/').some((s) => s === '.' || s === '..'))
    throw new AwsError(
      'InvalidArgument',
      `Airlock refuses "." or ".." segments in ${what}: the upstream could resolve them to another object`,
    );
}

function checkBucket(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new AwsError('InvalidBucketName', `The specified bucket is not valid: ${bucket.slice(0, 80)}`);
}

function decodeKey(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AwsError('InvalidURI', 'Couldn\u2019t parse the specified URI (bad percent-encoding).');
  }
}
