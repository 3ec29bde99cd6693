/**
 * S3 (REST-XML) for the AWS front. Authenticates header-signed requests (the
 * payload verified as it streams, see payload-verify.ts) and presigned URLs,
 * names the operation from the data table (s3-operations.ts), and turns it into
 * scopes: the object or bucket ARN, CopyObject's source as well as its
 * destination, every key of a DeleteObjects body, and the actions its headers add
 * (s3-header-scopes.ts) — over the headers and x-amz-* query parameters alike
 * (s3-inputs.ts). Bodies stream; only the small XML bodies of DeleteObjects (its keys
 * are the scopes) and RestoreObject are read whole, by one reader (s3-xml.ts).
 */
import type { IncomingMessage } from 'node:http';
import { AwsError } from '../aws-error.js';
import type { CodecContext, Prepared, ServiceCodec } from '../codec.js';
import { s3Items } from '../item-refs.js';
import { parseQuery, signingKey, type VerifiedSignature, verifySigV4 } from '../sigv4-verify.js';
import { MAX_REPLICATION_BODY, replicationRole } from './bucket-replication.js';
import { MAX_DELETE_BODY, parseDeleteObjects } from './delete-objects.js';
import {
  AwsChunkedDecoder,
  checkTrailerName,
  type PayloadMode,
  payloadMode,
  Sha256Verifier,
} from './payload-verify.js';
import { isPresigned, PRESIGN_PARAMS, verifyPresigned } from './presigned.js';
import { checkRestoreRequest, MAX_RESTORE_BODY } from './restore-object.js';
import { bucketArn, copySource, objectArn, s3Address } from './s3-address.js';
import { headerScopes } from './s3-header-scopes.js';
import {
  forwardCopyHeader,
  forwardHeader,
  hoistAmzParams,
  refuseRepeatedAmzHeaders,
  SCOPED_HEADER,
} from './s3-inputs.js';
import { s3Operation } from './s3-operations.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** A single PUT is at most 5 GiB. */
const MAX_PUT = 5 * 1024 ** 3;

export const s3Codec: ServiceCodec = {
  protocol: 'rest-xml',
  async prepare(req: IncomingMessage, headers: Map<string, string>, ctx: CodecContext): Promise<Prepared> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = parseQuery(q === -1 ? '' : rawUrl.slice(q + 1));
    // No S3 operation repeats a query parameter; `?versionId=a&versionId=b` would be read as
    // "no version" here (s3:DeleteObject) while S3 acts on a version (s3:DeleteObjectVersion).
    const repeated = Object.keys(query).find((k) => Array.isArray(query[k]));
    if (repeated !== undefined)
      throw new AwsError(
        'InvalidArgument',
        `query parameter ${repeated.slice(0, 64)} appears more than once`,
      );
    refuseRepeatedAmzHeaders(req.rawHeaders);
    const host = headers.get('host') ?? '';
    const address = s3Address(host, rawPath);

    let secret: string | undefined;
    const lookup = async (key: string) => {
      secret = await ctx.secretFor(key);
      return secret;
    };
    let verified: VerifiedSignature;
    let mode: PayloadMode;
    let presignedUntil: Date | undefined;
    if (headers.has('authorization')) {
      verified = await verifySigV4(
        { method, rawUrl, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) },
        headers,
        lookup,
        {
          now: ctx.receivedAt,
          skewSeconds: ctx.clockSkewSeconds,
          deferPayload: true,
          ...(ctx.acceptsSessionToken === undefined ? {} : { acceptsSessionToken: ctx.acceptsSessionToken }),
        },
      );
      mode = payloadMode(headers.get('x-amz-content-sha256'));
    } else if (isPresigned(query)) {
      const p = await verifyPresigned({ method, host, rawPath, query, headers }, lookup, {
        now: ctx.receivedAt,
        skewSeconds: ctx.clockSkewSeconds,
      });
      verified = p;
      presignedUntil = p.expiresAt;
      mode = { kind: 'unsigned' };
      for (const k of PRESIGN_PARAMS) delete query[k];
      delete query['X-Amz-Content-Sha256'];
    } else {
      throw new AwsError(
        'AccessDenied',
        'Anonymous requests are not accepted: sign with your Airlock key',
        403,
      );
    }
    if (verified.service !== 's3')
      throw new AwsError('AccessDenied', `credential scope names ${verified.service}, not s3`, 403);
    const partition = partitionOf(verified.region);

    const target = address.bucket === undefined ? 'service' : address.key === '' ? 'bucket' : 'object';
    // Every request input that can name a resource is scoped or refused: x-amz-* query
    // parameters are the headers they stand for (S3 reads `?x-amz-copy-source=` as the header,
    // and the SDK's presigner hoists headers so), so they are read, scoped and forwarded as headers.
    const input = hoistAmzParams(headers, query);
    const copyHeader = input.get('x-amz-copy-source');
    const op = s3Operation(method, target, Object.keys(query), copyHeader !== undefined);
    const forwarded = op?.copy === true ? forwardCopyHeader : forwardHeader;
    if (op !== undefined && copyHeader !== undefined && op.copy !== true)
      throw new AwsError('InvalidArgument', `x-amz-copy-source is not a parameter of ${op.name}`);
    const versionId = typeof query.versionId === 'string' ? query.versionId : undefined;
    const scopes: { action: string; resource: string }[] = [];
    const summary: Record<string, unknown> = {};
    const bucket = address.bucket;
    const body = bodyPlan(req, headers, mode, verified, secret, () => ctx.wantBody?.());
    const addHeaderScopes = (operation: string, targets: readonly string[]) => {
      for (const s of headerScopes(input, {
        operation,
        targets,
        region: verified.region,
        accountId: ctx.accountId,
      }))
        pushScope(scopes, s.action, s.resource);
      const shown = [...input].filter(([k]) => SCOPED_HEADER.test(k));
      if (shown.length > 0) summary.headers = Object.fromEntries(shown.map(([k, v]) => [k, v.slice(0, 256)]));
    };

    let operation = op?.name ?? 'Unknown';
    if (op === undefined) {
      // Not an operation Airlock can name with certainty: the broadest scope, which no policy can name.
      scopes.push({ action: 's3:*', resource: bucket === undefined ? '*' : bucketArn(partition, bucket) });
      summary.query = Object.keys(query);
    } else if (op.special === 'deleteObjects' && bucket !== undefined) {
      const xml = await readVerified(body, MAX_DELETE_BODY);
      const targets = parseDeleteObjects(xml);
      for (const t of targets) {
        const action = t.versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion';
        pushScope(scopes, action, objectArn(partition, bucket, t.key));
      }
      addHeaderScopes(
        op.name,
        targets.map((t) => objectArn(partition, bucket, t.key)),
      );
      summary.keys = targets
        .slice(0, 50)
        .map((t) => (t.versionId === undefined ? t.key : `${t.key}?versionId=${t.versionId}`));
      summary.keyCount = targets.length;
      return finish(xml);
    } else {
      const action =
        versionId !== undefined && op.versionedAction !== undefined ? op.versionedAction : op.action;
      if (op.name === 'ListObjects' && query['list-type'] === '2') operation = 'ListObjectsV2';
      const resource =
        bucket === undefined
          ? '*'
          : target === 'bucket'
            ? bucketArn(partition, bucket)
            : objectArn(partition, bucket, address.key);
      pushScope(scopes, action, resource);
      if (copyHeader !== undefined && op.copy === true) {
        const src = copySource(copyHeader);
        pushScope(
          scopes,
          src.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion',
          objectArn(partition, src.bucket, src.key),
        );
        summary.copySource = `${src.bucket}/${src.key}${src.versionId === undefined ? '' : `?versionId=${src.versionId}`}`;
      }
      addHeaderScopes(op.name, [resource]);
      if (op.special === 'putReplication') {
        const xml = await readVerified(body, MAX_REPLICATION_BODY);
        const role = replicationRole(xml);
        pushScope(scopes, 'iam:PassRole', role);
        summary.role = role;
        return finish(xml);
      }
      if (op.special === 'restoreObject' && body.length > 0) {
        const xml = await readVerified(body, MAX_RESTORE_BODY);
        checkRestoreRequest(xml);
        return finish(xml);
      }
    }
    return finish(undefined);

    function finish(buffered: Buffer | undefined): Prepared {
      if (bucket !== undefined) summary.bucket = bucket;
      if (address.key !== '') summary.key = address.key;
      if (versionId !== undefined) summary.versionId = versionId;
      for (const k of ['uploadId', 'partNumber', 'prefix'])
        if (typeof query[k] === 'string') summary[k] = query[k];
      if (body.length > 0) summary.contentLength = body.length;
      const ct = headers.get('content-type');
      if (ct !== undefined && body.length > 0) summary.contentType = ct;
      if (presignedUntil !== undefined) summary.presignedUntil = presignedUntil.toISOString();
      const fingerprint = Buffer.from(
        [
          method,
          rawPath,
          JSON.stringify(query),
          headers.get('x-amz-content-sha256') ?? '',
          String(body.length),
          // Every x-amz-* header that crosses changes what S3 does (an ACL, tags, the copy
          // source, a checksum): a request differing in one is another request.
          ...[...input]
            .filter(([k]) => k.startsWith('x-amz-') && forwarded(k))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => `${k}:${v}`),
        ].join('\n'),
      );
      return {
        service: 's3',
        region: verified.region,
        operation,
        scopes,
        summary,
        items: s3Items(scopes),
        signedHeaders: verified.signedHeaders,
        fingerprint: buffered === undefined ? fingerprint : Buffer.concat([fingerprint, buffered]),
        forward: {
          method,
          // Upstream is always addressed path-style: /bucket/key.
          rawPath:
            address.virtualHosted && bucket !== undefined
              ? `/${encodeURIComponent(bucket)}${rawPath}`
              : rawPath,
          query,
          headers: input,
          forwardHeader: forwarded,
          body: buffered ?? (body.length === 0 ? Buffer.alloc(0) : lazyBody(body)),
          unsignedPayload: true,
        },
      };
    }
  },
};

interface BodyPlan {
  /** Decoded length of the body. */
  readonly length: number;
  /** The verified, decoded body as a stream (created once, on demand). */
  stream(): import('node:stream').Readable;
}

function bodyPlan(
  req: IncomingMessage,
  headers: ReadonlyMap<string, string>,
  mode: PayloadMode,
  verified: VerifiedSignature,
  secret: string | undefined,
  wantBody: () => void,
): BodyPlan {
  const lengthOf = (name: string): number => {
    const v = headers.get(name);
    if (v === undefined || !/^\d{1,13}$/.test(v)) {
      if (name === 'content-length' && !headers.has('transfer-encoding')) return 0;
      throw new AwsError('MissingContentLength', `You must provide the ${name} HTTP header.`, 411);
    }
    const n = Number(v);
    if (n > MAX_PUT)
      throw new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400);
    return n;
  };
  if (mode.kind === 'chunked') {
    if (!/(^|,)\s*aws-chunked\s*(,|$)/.test(headers.get('content-encoding') ?? ''))
      throw new AwsError('InvalidArgument', 'a STREAMING-* payload needs Content-Encoding: aws-chunked');
    const length = lengthOf('x-amz-decoded-content-length');
    const trailerName = mode.trailer ? checkTrailerName(headers.get('x-amz-trailer')) : undefined;
    if (mode.trailer && trailerName === undefined)
      throw new AwsError('InvalidArgument', 'a *-TRAILER payload needs the x-amz-trailer header');
    const date = headers.get('x-amz-date') ?? '';
    const scopeDate = date.slice(0, 8);
    const signing =
      mode.signed && secret !== undefined
        ? {
            key: signingKey(secret, scopeDate, verified.region, verified.service),
            amzDate: date,
            scope: `${scopeDate}/${verified.region}/${verified.service}/aws4_request`,
            seed: verified.signature,
          }
        : undefined;
    if (mode.signed && signing === undefined) throw new AwsError('AccessDenied', 'no signing key', 403);
    let made: import('node:stream').Readable | undefined;
    return {
      length,
      stream: () => {
        if (made === undefined) wantBody();
        made ??= req.pipe(
          new AwsChunkedDecoder({
            signed: mode.signed,
            trailer: mode.trailer,
            decodedLength: length,
            signing,
            trailerName,
          }),
        );
        return made;
      },
    };
  }
  const length = lengthOf('content-length');
  if (mode.kind === 'sha256' && length === 0 && mode.hex !== EMPTY_SHA256)
    throw new AwsError('XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the empty body');
  let made: import('node:stream').Readable | undefined;
  return {
    length,
    stream: () => {
      if (made === undefined) wantBody();
      made ??= mode.kind === 'sha256' ? req.pipe(new Sha256Verifier(mode.hex, length)) : req;
      return made;
    },
  };
}

/** The body is only read (and a 100 Continue only sent) when the forwarder first takes the stream. */
function lazyBody(body: BodyPlan): {
  readonly stream: import('node:stream').Readable;
  readonly length: number;
} {
  return {
    get stream() {
      return body.stream();
    },
    length: body.length,
  };
}

/** Reads a small verified body whole (DeleteObjects, RestoreObject); verification errors surface here. */
async function readVerified(body: BodyPlan, max: number): Promise<Buffer> {
  if (body.length > max) throw new AwsError('MalformedXML', 'the XML body is too large');
  const chunks: Buffer[] = [];
  for await (const c of body.stream()) chunks.push(c as Buffer);
  const out = Buffer.concat(chunks);
  if (out.length !== body.length)
    throw new AwsError('IncompleteBody', 'request body is shorter than declared');
  return out;
}

function pushScope(scopes: { action: string; resource: string }[], action: string, resource: string): void {
  if (!scopes.some((s) => s.action === action && s.resource === resource)) scopes.push({ action, resource });
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
