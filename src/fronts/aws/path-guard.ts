/**
 * Request paths Airlock refuses before anything else reads them, because what
 * Airlock would authorize and what the upstream would execute could differ.
 *
 * SigV4 canonicalization removes `.` and `..` segments for every service but S3
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html,
 * "Normalize URI paths according to RFC 3986"), and the forwarder sends each
 * decoded `%2F` as a real `/`. So `/2015-03-31/functions/report-x%2F..%2Fsecret/invocations`
 * was authorized as function `report-x/../secret` (matching `report-*`) while the
 * re-signed request named `/functions/secret`. No SDK sends such paths: refuse them.
 */
import { AwsError } from './aws-error.js';

/** Throws unless every path segment is a plain name (no dot segment; no encoded slash outside S3). */
export function checkRequestPath(rawUrl: string, service: string | undefined): void {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (!rawPath.startsWith('/')) throw new AwsError('InvalidURI', 'request path must start with /', 400);
  for (const raw of rawPath.split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new AwsError('InvalidURI', 'request path is not valid percent-encoding', 400);
    }
    // S3 keys are flat strings in which `/` is an ordinary character (S3 treats `%2F` and `/`
    // alike); dot segments are refused for S3 too: an upstream that normalizes them would
    // address another key or bucket than the one authorized.
    if (seg === '.' || seg === '..' || seg.split('/').some((s) => s === '.' || s === '..'))
      throw new AwsError(
        'InvalidURI',
        'Airlock refuses request paths with "." or ".." segments: the upstream could resolve them to another resource',
        400,
      );
    if (service !== 's3' && (seg.includes('/') || seg.includes('\\')))
      throw new AwsError(
        'InvalidURI',
        'Airlock refuses an encoded "/" or "\\" inside a path segment: the upstream could read it as a separator',
        400,
      );
  }
}
