/**
 * Verifies an incoming AWS Signature Version 4 (header form) the way AWS does,
 * by recomputing it over exactly the headers the client signed, as @smithy/signature-v4
 * signs (sigv4-canonical.ts). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * What we do not trust from the client: the payload hash (we hash the body),
 * the region/service (taken from the credential scope, which is itself signed),
 * and the clock (x-amz-date must be inside the skew window).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AwsError } from './aws-error.js';
import { sigV4Signature } from './sigv4-canonical.js';

/** The signing key's HMAC chain, for chunk signatures (s3/payload-verify.ts). */
export { signingKey } from './sigv4-canonical.js';

export interface IncomingSigned {
  readonly method: string;
  /** Request target exactly as received (path + query, still percent-encoded). */
  readonly rawUrl: string;
  /** Node's `req.rawHeaders`: name/value pairs in arrival order. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface VerifiedSignature {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signingDate: Date;
  /** The request's own signature: the seed of a chunked payload's signature chain. */
  readonly signature: string;
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,64})\/aws4_request, ?SignedHeaders=([a-z0-9;_.-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Lower-cased header map; repeated headers joined with "," as AWS canonicalizes them (not Node's ", "). */
export function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const prev = out.get(name);
    out.set(name, prev === undefined ? value : `${prev},${value}`);
  }
  return out;
}

export async function verifySigV4(
  req: IncomingSigned,
  headers: Map<string, string>,
  lookupSecret: (accessKeyId: string) => Promise<string | undefined>,
  opts: {
    now: Date;
    skewSeconds: number;
    /** Whether `token` is the live session token of `accessKeyId` (AWS stand-ins only). */
    acceptsSessionToken?: (accessKeyId: string, token: string) => boolean;
    /**
     * S3: the body is streamed, not in `req.body`. The signed x-amz-content-sha256
     * (a hex hash, UNSIGNED-PAYLOAD or a STREAMING-* mode) is used as the payload hash,
     * and the caller verifies the stream against it (s3/payload-verify.ts).
     */
    deferPayload?: boolean;
  },
): Promise<VerifiedSignature> {
  const auth = headers.get('authorization');
  if (auth === undefined) {
    if (/[?&]X-Amz-Signature=/i.test(req.rawUrl)) {
      throw new AwsError(
        'AccessDeniedException',
        'Airlock accepts header-signed SigV4 requests only (presigned URLs are not supported for this service)',
      );
    }
    throw new AwsError('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  }
  const m = AUTH_RE.exec(auth);
  if (!m) {
    throw new AwsError(
      'IncompleteSignatureException',
      'Authorization header is not a well-formed AWS4-HMAC-SHA256 signature',
    );
  }
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) {
    throw new AwsError('IncompleteSignatureException', "'Host' must be a signed header");
  }
  refuseUnsignedHeaders(headers, signedHeaders, 'IncompleteSignatureException');
  const token = headers.get('x-amz-security-token');
  if (token !== undefined && opts.acceptsSessionToken?.(accessKeyId, token) !== true) {
    // Airlock issues long-term keys only; a session token means the caller is using
    // some other credential (e.g. a real AWS STS session) against us. Only the test
    // stand-ins for AWS pass acceptsSessionToken, to check Airlock's STS sessions.
    throw new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }

  const amzDate = headers.get('x-amz-date');
  const dm = amzDate === undefined ? null : AMZ_DATE_RE.exec(amzDate);
  if (!dm || !signedHeaders.includes('x-amz-date')) {
    throw new AwsError(
      'IncompleteSignatureException',
      'x-amz-date must be present and signed (format YYYYMMDDTHHMMSSZ)',
    );
  }
  const signingDate = new Date(`${dm[1]}-${dm[2]}-${dm[3]}T${dm[4]}:${dm[5]}:${dm[6]}Z`);
  if (Number.isNaN(signingDate.getTime()) || scopeDate !== amzDate?.slice(0, 8)) {
    throw new AwsError('InvalidSignatureException', 'Credential scope date does not match x-amz-date');
  }
  const skewMs = Math.abs(opts.now.getTime() - signingDate.getTime());
  if (skewMs > opts.skewSeconds * 1000) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is outside the ${opts.skewSeconds}s window of the gateway clock (${compactDate(opts.now)}). Check the client clock.`,
    );
  }

  const secret = await lookupSecret(accessKeyId);
  if (secret === undefined) {
    throw new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }

  // The payload hash is ours: a signed x-amz-content-sha256 must equal the body's hash
  // (smithy would otherwise take the header at its word); without it, the signer hashes the body.
  const clientSignsHash = signedHeaders.includes('x-amz-content-sha256');
  if (opts.deferPayload === true) {
    if (!clientSignsHash)
      throw new AwsError('IncompleteSignatureException', 'x-amz-content-sha256 must be present and signed');
  } else if (clientSignsHash) {
    const bodyHash =
      req.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(req.body).digest('hex');
    if (headers.get('x-amz-content-sha256') !== bodyHash) {
      throw new AwsError('InvalidSignatureException', 'x-amz-content-sha256 does not match the request body');
    }
  }

  const qIndex = req.rawUrl.indexOf('?');
  const rawPath = qIndex === -1 ? req.rawUrl : req.rawUrl.slice(0, qIndex);
  const signed = new Map<string, string>();
  for (const name of signedHeaders) {
    const value = headers.get(name);
    if (value === undefined) {
      throw new AwsError('IncompleteSignatureException', `Signed header ${name} is missing from the request`);
    }
    signed.set(name, value);
  }

  // S3 signs the path as sent; every other service signs it normalized (RFC 3986 dot
  // segments removed, empty segments collapsed). Verifying S3 over a normalized path let a
  // signature for /b/k also pass for /b//k, another key; and failed the SDK's own `a//b` keys.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request
  const s3 = service === 's3';
  const expected = sigV4Signature(
    {
      method: req.method,
      path: s3 ? s3CanonicalPath(rawPath) : safeDecodePath(rawPath),
      normalizePath: !s3,
      query: parseQuery(qIndex === -1 ? '' : req.rawUrl.slice(qIndex + 1)),
      headers: signed,
      payloadHash: () => createHash('sha256').update(req.body).digest('hex'),
      signingDate,
      region,
      service,
    },
    secret,
  );
  if (!constantTimeEqualHex(expected, signature)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId, region, service, signedHeaders, signingDate, signature };
}

/**
 * x-amz-* headers change what the upstream does (x-amz-target, x-amz-copy-source, x-amz-acl,
 * metadata, tagging): they must be covered by the agent's signature, as S3
 * requires of x-amz-* headers ("There were headers present in the request which were not
 * signed"): Airlock re-signs what it forwards, so it would otherwise turn a header anyone on
 * the path (or any holder of a presigned URL) added into one signed with Airlock's credentials.
 * x-amz-security-token is refused separately.
 */
export function refuseUnsignedHeaders(
  headers: ReadonlyMap<string, string>,
  signedHeaders: readonly string[],
  code: string,
  status = 400,
): void {
  const signed = new Set(signedHeaders);
  const unsigned = [...headers.keys()].filter(
    (h) => !signed.has(h) && h !== 'x-amz-security-token' && h.startsWith('x-amz-'),
  );
  if (unsigned.length > 0)
    throw new AwsError(
      code,
      `There were headers present in the request which were not signed: ${unsigned.join(', ').slice(0, 200)}`,
      status,
    );
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function compactDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AwsError('InvalidSignatureException', 'query string is not valid percent-encoding');
  }
}

/** The signer re-encodes each path segment (uriEscapePath), so hand it the decoded path. */
export function safeDecodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new AwsError('InvalidSignatureException', 'request path is not valid percent-encoding');
  }
}

/**
 * S3's canonical URI: each segment of the path URI-encoded once (RFC 3986 unreserved kept),
 * `/` kept, and nothing else normalized: no dot-segment removal, no `//` collapsing.
 * The signer takes it as is (`uriEscapePath: false`), as the S3 SDK signs.
 */
export function s3CanonicalPath(rawPath: string): string {
  return safeDecodePath(rawPath)
    .split('/')
    .map((seg) =>
      encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

export function parseQuery(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (qs === '') return out;
  // Not URLSearchParams: it reads '+' as a space, which SigV4's canonical query does not.
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq === -1 ? part : part.slice(0, eq));
    const v = eq === -1 ? '' : safeDecode(part.slice(eq + 1));
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
