/**
 * Verifies a presigned S3 URL (SigV4 in the query string) made with an
 * Airlock-issued agent key, by recomputing it with @smithy/signature-v4's presign
 * over exactly the signed headers. The payload of a presigned request is unsigned.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from '../aws-error.js';
import {
  compactDate,
  constantTimeEqualHex,
  refuseUnsignedHeaders,
  s3CanonicalPath,
  type VerifiedSignature,
} from '../sigv4-verify.js';

/** The query parameters presigning adds; everything else in the query was signed as the client sent it. */
export const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
] as const;

const CREDENTIAL = /^([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,64})\/aws4_request$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** A presigned URL lives at most 7 days. */
const MAX_EXPIRES = 604800;

export function isPresigned(query: Record<string, string | string[]>): boolean {
  return query['X-Amz-Signature'] !== undefined || query['X-Amz-Credential'] !== undefined;
}

export async function verifyPresigned(
  req: {
    method: string;
    host: string;
    /** Path as received (percent-encoded); S3 signs it un-normalized (s3CanonicalPath). */
    rawPath: string;
    query: Record<string, string | string[]>;
    headers: ReadonlyMap<string, string>;
  },
  lookupSecret: (accessKeyId: string) => Promise<string | undefined>,
  opts: { now: Date; skewSeconds: number },
): Promise<VerifiedSignature & { readonly expiresAt: Date }> {
  const one = (k: string): string => {
    const v = req.query[k];
    if (typeof v !== 'string')
      throw new AwsError('AuthorizationQueryParametersError', `${k} must appear exactly once`);
    return v;
  };
  if (one('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    throw new AwsError('AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  if (req.query['X-Amz-Security-Token'] !== undefined)
    throw new AwsError('InvalidToken', 'Airlock agent keys carry no session token', 400);
  const cred = CREDENTIAL.exec(one('X-Amz-Credential'));
  const amzDate = one('X-Amz-Date');
  const dm = AMZ_DATE.exec(amzDate);
  const expires = Number(one('X-Amz-Expires'));
  const signature = one('X-Amz-Signature');
  const signedHeaders = one('X-Amz-SignedHeaders').split(';');
  if (cred === null || dm === null || !/^[0-9a-f]{64}$/.test(signature))
    throw new AwsError('AuthorizationQueryParametersError', 'malformed presigned URL parameters');
  const [, accessKeyId, scopeDate, region, service] = cred as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  // Whoever holds the URL must not add x-amz-* headers the agent did not sign (a copy source,
  // an ACL, metadata): S3 refuses them too.
  refuseUnsignedHeaders(req.headers, signedHeaders, 'AccessDenied', 403);
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES)
    throw new AwsError('AuthorizationQueryParametersError', `X-Amz-Expires must be 1..${MAX_EXPIRES}`);
  if (scopeDate !== amzDate.slice(0, 8))
    throw new AwsError('SignatureDoesNotMatch', 'Credential scope date does not match X-Amz-Date', 403);
  if (!signedHeaders.includes('host'))
    throw new AwsError('AuthorizationQueryParametersError', "'host' must be a signed header");
  const signingDate = new Date(`${dm[1]}-${dm[2]}-${dm[3]}T${dm[4]}:${dm[5]}:${dm[6]}Z`);
  const expiresAt = new Date(signingDate.getTime() + expires * 1000);
  if (signingDate.getTime() - opts.now.getTime() > opts.skewSeconds * 1000)
    throw new AwsError(
      'AccessDenied',
      `X-Amz-Date ${amzDate} is in the future (gateway clock ${compactDate(opts.now)})`,
      403,
    );
  if (opts.now >= expiresAt) throw new AwsError('AccessDenied', 'Request has expired', 403);

  const secret = await lookupSecret(accessKeyId);
  if (secret === undefined)
    throw new AwsError(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      403,
    );

  const query: Record<string, string | string[]> = { ...req.query };
  for (const k of PRESIGN_PARAMS) delete query[k];
  const headers: Record<string, string> = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  for (const name of signedHeaders) {
    const v = req.headers.get(name);
    if (v === undefined) throw new AwsError('AccessDenied', `Signed header ${name} is missing`, 403);
    headers[name] = v;
  }
  const keep = new Set(['x-amz-content-sha256', ...signedHeaders]);
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
    uriEscapePath: false,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: req.method,
      protocol: 'https:',
      hostname: req.host,
      path: s3CanonicalPath(req.rawPath),
      query,
      headers,
    }),
    {
      signingDate,
      expiresIn: expires,
      // Hoisting nothing and signing only what the URL says was signed: we recompute, not re-sign.
      unhoistableHeaders: keep,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      signableHeaders: new Set(signedHeaders),
    },
  );
  const expected = presigned.query?.['X-Amz-Signature'];
  if (
    typeof expected !== 'string' ||
    presigned.query?.['X-Amz-SignedHeaders'] !== signedHeaders.join(';') ||
    !constantTimeEqualHex(expected, signature)
  ) {
    throw new AwsError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      403,
    );
  }
  return { accessKeyId, region, service, signedHeaders, signingDate, signature, expiresAt };
}
