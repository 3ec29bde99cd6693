/**
 * What a service codec does for the AWS front: authenticate the agent's SigV4,
 * turn the wire request into scopes and a summary (the typed AccessRequest's
 * material), and say what to forward. The front owns everything after that
 * (gate, scoped credentials, forwarding, the record), so every service gets the
 * same path and no codec holds policy.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ItemRef, PayloadSummary, Scope } from '../../core/types.js';
import { AwsError, type ErrorProtocol } from './aws-error.js';

export interface CodecContext {
  readonly accountId: string;
  readonly clockSkewSeconds: number;
  readonly receivedAt: Date;
  /** Secret of an active agent key (and records the agent's name for the ledger). */
  readonly secretFor: (accessKeyId: string) => Promise<string | undefined>;
  /** Call before reading the body: answers a client's `Expect: 100-continue`. */
  readonly wantBody?: () => void;
  /** Only the AWS stand-ins set this, to accept STS session credentials (sigv4-verify.ts). */
  readonly acceptsSessionToken?: (accessKeyId: string, token: string) => boolean;
}

/** What crosses to the upstream: the request minus the agent's authentication. */
export interface ForwardPlan {
  readonly method: string;
  /** Percent-encoded path. */
  readonly rawPath: string;
  readonly query: Record<string, string | string[]>;
  /** The agent's headers (lower-cased); the forwarder passes only `forwardHeader` ones. */
  readonly headers: ReadonlyMap<string, string>;
  readonly forwardHeader?: (name: string) => boolean;
  /** A buffered body, or a verified stream with its decoded length. */
  readonly body: Buffer | { readonly stream: Readable; readonly length: number };
  /** Sign the upstream request with UNSIGNED-PAYLOAD (streamed bodies; S3 only). */
  readonly unsignedPayload?: boolean;
}

export interface Prepared {
  readonly service: string;
  readonly region: string;
  readonly operation: string;
  readonly scopes: Scope[];
  readonly summary: PayloadSummary;
  /** The items the request names by key (item-refs.ts); absent: it names none, or not all by key. */
  readonly items?: readonly ItemRef[] | undefined;
  /** Headers the agent's signature covers (x-airlock-reason must be one of them to count). */
  readonly signedHeaders: readonly string[];
  /** Bytes that identify "the same request", so a retry joins its pending approval. */
  readonly fingerprint: Buffer;
  readonly forward: ForwardPlan;
}

export interface ServiceCodec {
  /** How errors are rendered to this service's clients. */
  readonly protocol: ErrorProtocol;
  /**
   * The most body bytes this codec buffers (it reads the whole body before verifying);
   * absent for a codec that streams the body (S3). The front reserves that much of its
   * buffer budget before the body is read, and refuses a larger Content-Length at once.
   */
  readonly bufferedBodyMax?: number;
  /** For services reachable over two protocols (SQS: JSON and Query), the one this request uses. */
  readonly protocolFor?: (headers: ReadonlyMap<string, string>) => ErrorProtocol;
  prepare(req: IncomingMessage, headers: Map<string, string>, ctx: CodecContext): Promise<Prepared>;
}

/**
 * The signing service named by the request (Authorization credential scope, or a
 * presigned URL's X-Amz-Credential), read before the body so a codec can stream it.
 * Only a hint for choosing the codec: the codec verifies the signature over it.
 */
export function peekService(headers: ReadonlyMap<string, string>, rawUrl: string): string | undefined {
  const auth = headers.get('authorization');
  const fromAuth =
    auth === undefined ? undefined : /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\//.exec(auth)?.[1];
  if (fromAuth !== undefined) return fromAuth;
  const q = rawUrl.indexOf('?');
  if (q === -1) return undefined;
  const cred = /(?:^|&)X-Amz-Credential=([^&]*)/.exec(rawUrl.slice(q + 1))?.[1];
  if (cred === undefined) return undefined;
  try {
    return /^[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\//.exec(decodeURIComponent(cred))?.[1];
  } catch {
    return undefined;
  }
}

/** Reads a whole (small) body, refusing more than `max` bytes. */
export async function readBody(req: IncomingMessage, max: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof AwsError) throw err;
    throw bodyCutOff();
  }
  // A peer that stops sending is cut off by the front's body deadline: the stream ends early.
  // (`=== false`: a request injected in process, AwsFront.dispatch, has no socket to cut.)
  if (req.complete === false) throw bodyCutOff();
  return Buffer.concat(chunks);
}

function bodyCutOff(): AwsError {
  return new AwsError(
    'RequestTimeout',
    'The request body did not arrive in time; the connection was closed',
    400,
  );
}
