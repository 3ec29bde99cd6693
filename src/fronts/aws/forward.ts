/**
 * Sends an authorized request to the real service, re-signed with Airlock's own
 * credentials for the target region and service. Only an allowlist of the agent's
 * headers crosses: never its Authorization, session token or Airlock headers.
 * The response is streamed back (not buffered).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { CredentialSource } from '../../upstream/aws-credentials.js';
import { AwsError } from './aws-error.js';
import type { ForwardPlan } from './codec.js';
import { s3CanonicalPath } from './sigv4-verify.js';

/** Headers the service needs to understand the call; everything else is the agent's business. */
const FORWARDED = new Set(['content-type', 'content-encoding', 'x-amz-target', 'accept', 'accept-encoding']);

export interface ForwardRequest extends ForwardPlan {
  readonly endpoint: URL;
  readonly region: string;
  readonly service: string;
  /** A scoped session's credentials (scoped-sessions.ts) instead of Airlock's own. */
  readonly credentials?: AwsCredentialIdentity | undefined;
}

/** Upstream deadlines (config `limits:`): a hung upstream costs a request this long, not forever. */
export interface UpstreamDeadlines {
  readonly connectTimeoutMs: number;
  /** Socket idle time allowed while waiting for the response and between its bytes. */
  readonly responseTimeoutMs: number;
}

export class Forwarder {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    private readonly credentials: CredentialSource,
    private readonly deadlines: UpstreamDeadlines = { connectTimeoutMs: 5_000, responseTimeoutMs: 30_000 },
  ) {}

  async send(req: ForwardRequest): Promise<IncomingMessage> {
    const headers: Record<string, string> = { host: req.endpoint.host };
    const pass = req.forwardHeader ?? ((name: string) => FORWARDED.has(name));
    for (const [name, value] of req.headers) if (pass(name)) headers[name] = value;
    const streamed = !Buffer.isBuffer(req.body);
    const length = Buffer.isBuffer(req.body) ? req.body.length : req.body.length;
    headers['content-length'] = String(length);
    // A streamed body is verified as it passes (s3/payload-verify.ts) and sent unsigned,
    // as S3 allows: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
    if (req.unsignedPayload === true) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    // S3 verifies the path as sent, un-normalized (sigv4-verify.ts s3CanonicalPath): sign it so.
    const s3 = req.service === 's3';
    const unsigned = new HttpRequest({
      method: req.method,
      protocol: req.endpoint.protocol,
      hostname: req.endpoint.hostname,
      port: req.endpoint.port === '' ? undefined : Number(req.endpoint.port),
      path: s3 ? s3CanonicalPath(req.rawPath) : decodeURIComponent(req.rawPath),
      query: req.query,
      headers,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
    });
    let signed: HttpRequest;
    try {
      const signer =
        req.credentials === undefined
          ? this.signer(req.region, req.service)
          : new SignatureV4({
              credentials: req.credentials,
              region: req.region,
              service: req.service,
              sha256: Hash.bind(null, 'sha256'),
              uriEscapePath: !s3,
            });
      signed = (await signer.sign(unsigned)) as HttpRequest;
    } catch (err) {
      // No usable Airlock credentials: fail closed, and say which side is broken.
      throw new AwsError(
        'InternalFailure',
        `Airlock could not obtain its own AWS credentials to reach ${req.service}: ${(err as Error).message}`,
        500,
      );
    }
    const isHttps = req.endpoint.protocol === 'https:';
    const lib = isHttps ? https : http;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const out = lib.request(
        {
          method: signed.method,
          host: req.endpoint.hostname,
          port: signed.port,
          path: encodePath(req.rawPath) + queryString(req.query),
          headers: signed.headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
        },
        resolve,
      );
      out.on('error', (err) =>
        reject(
          new AwsError(
            'ServiceUnavailable',
            `Airlock could not reach the upstream ${req.service} endpoint: ${err.message}`,
            503,
          ),
        ),
      );
      // A socket that timed out is destroyed (never returned to the pool), so the pool heals
      // as soon as the upstream answers again.
      out.on('socket', (socket) => {
        if (!socket.connecting) return;
        const t = setTimeout(
          () => out.destroy(new Error(`no connection within ${this.deadlines.connectTimeoutMs} ms`)),
          this.deadlines.connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(t));
        socket.once('close', () => clearTimeout(t));
      });
      out.setTimeout(this.deadlines.responseTimeoutMs, () =>
        out.destroy(new Error(`no answer within ${this.deadlines.responseTimeoutMs} ms`)),
      );
      if (!streamed) {
        out.end(req.body);
        return;
      }
      const body = (req.body as { stream: import('node:stream').Readable }).stream;
      // A body that fails verification aborts the upstream request before its last byte.
      body.once('error', (err) => {
        out.destroy();
        reject(err);
      });
      body.pipe(out);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private signer(region: string, service: string): SignatureV4 {
    const key = `${region}/${service}`;
    let s = this.signers.get(key);
    if (s === undefined) {
      s = new SignatureV4({
        credentials: this.credentials,
        region,
        service,
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: service !== 's3',
      });
      this.signers.set(key, s);
    }
    return s;
  }
}

/**
 * The path as SigV4 canonicalizes it (each segment URI-encoded once), so the bytes we
 * send are the bytes we signed even when the agent encoded differently (e.g. `+`, `!`).
 */
function encodePath(rawPath: string): string {
  return decodeURIComponent(rawPath)
    .split('/')
    .map((seg) => encodeRfc3986(seg))
    .join('/');
}

/** Re-encodes the query the way SigV4 canonicalizes it, so what we sign is what we send. */
export function queryString(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeRfc3986(k)}=${encodeRfc3986(one)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
