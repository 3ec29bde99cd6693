/**
 * The SigV4 signature of a request as @smithy/signature-v4 computes it, without its
 * machinery: one canonical request string, one SHA-256, one HMAC with a signing key
 * cached per (secret, date, region, service), as the SDK's own signer caches it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * It reproduces smithy's `signRequest` exactly (test/unit/sigv4-canonical.test.ts compares
 * the two over generated requests), including its quirks, so verification accepts and
 * refuses what it did when it called smithy: `authorization`, `date` and `x-amz-date` are
 * dropped from the signed headers and `x-amz-date` is put back as the signing date
 * formatted again (a client that signed `date` does not verify); header values have CR/LF
 * made spaces, runs of spaces and tabs collapsed and the ends trimmed.
 */
import { createHash, createHmac } from 'node:crypto';

export interface CanonicalInput {
  readonly method: string;
  /** The path to canonicalize: decoded (normalized here when `normalizePath`), or S3's as is. */
  readonly path: string;
  /** Normalize the path (dot segments, empty segments) and URI-encode it: every service but S3. */
  readonly normalizePath: boolean;
  readonly query: Readonly<Record<string, string | string[]>>;
  /** The signed headers, lower-case names (duplicates already joined with ","). */
  readonly headers: ReadonlyMap<string, string>;
  /** The payload hash to sign when the headers carry no x-amz-content-sha256. */
  readonly payloadHash: () => string;
  readonly signingDate: Date;
  readonly region: string;
  readonly service: string;
}

const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);

/** Hex signature of `input` under `secret`. */
export function sigV4Signature(input: CanonicalInput, secret: string): string {
  const longDate = amzDate(input.signingDate);
  const shortDate = longDate.slice(0, 8);
  const names: string[] = ['x-amz-date'];
  for (const name of input.headers.keys()) if (!GENERATED.has(name)) names.push(name);
  names.sort();
  let canonicalHeaders = '';
  for (const name of names) {
    const value = name === 'x-amz-date' ? longDate : (input.headers.get(name) as string);
    canonicalHeaders += `${name}:${canonicalValue(value)}\n`;
  }
  const payloadHash = input.headers.get('x-amz-content-sha256') ?? input.payloadHash();
  const canonicalRequest = `${input.method}\n${canonicalPath(input.path, input.normalizePath)}\n${canonicalQuery(input.query)}\n${canonicalHeaders}\n${names.join(';')}\n${payloadHash}`;
  const scope = `${shortDate}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  return createHmac('sha256', cachedSigningKey(secret, shortDate, input.region, input.service))
    .update(stringToSign)
    .digest('hex');
}

/** YYYYMMDDTHHMMSSZ, as smithy formats a signing date. */
function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function canonicalValue(v: string): string {
  return v
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

function canonicalPath(path: string, normalize: boolean): string {
  if (!normalize) return path;
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(query: Readonly<Record<string, string | string[]>>): string {
  const keys: string[] = [];
  const serialized = new Map<string, string>();
  for (const key of Object.keys(query)) {
    if (key.toLowerCase() === 'x-amz-signature') continue;
    const encodedKey = escapeUri(key);
    keys.push(encodedKey);
    const value = query[key];
    if (typeof value === 'string') serialized.set(encodedKey, `${encodedKey}=${escapeUri(value)}`);
    else if (Array.isArray(value))
      serialized.set(
        encodedKey,
        value
          .map((v) => `${encodedKey}=${escapeUri(v)}`)
          .sort()
          .join('&'),
      );
  }
  return keys
    .sort()
    .map((k) => serialized.get(k))
    .filter((s) => s !== undefined && s !== '')
    .join('&');
}

function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Signing keys change once a day per credential and scope: a small cache, cleared when full. */
const MAX_KEYS = 1024;
const keys = new Map<string, Buffer>();

function cachedSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  // The secret itself is part of the key, so a rotated secret never finds its predecessor's key.
  const id = `${date}\n${region}\n${service}\n${secret}`;
  let key = keys.get(id);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = signingKey(secret, date, region, service);
    keys.set(id, key);
  }
  return key;
}

/** kSigning = HMAC chain over date, region, service (the SigV4 signing key). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const h = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return h(h(h(h(`AWS4${secret}`, date), region), service), 'aws4_request');
}
