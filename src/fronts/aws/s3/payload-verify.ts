/**
 * Streaming verification of an S3 request body against its signed
 * x-amz-content-sha256, without ever holding the whole body:
 *  - a hex SHA-256: hashed as it streams;
 *  - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: aws-chunked, every chunk's
 *    signature checked before its data moves on (and the trailer's signature);
 *    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 *  - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked without chunk signatures; the
 *    trailing checksum (x-amz-checksum-*) is verified;
 *    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 * The output is the decoded body. The last piece is held back until everything
 * has verified, so the upstream never receives a complete body that failed; on a
 * failure the stream errors with an AwsError and the upstream request is aborted.
 */
import { createHash, createHmac, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { AwsError } from '../aws-error.js';
import { constantTimeEqualHex } from '../sigv4-verify.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Buffer this much per direction: big bodies stream in large steps, not 16 KiB stop-and-go. */
const HIGH_WATER = 1024 * 1024;
/** Chunks larger than this are refused: bounds what one request may make us hold. */
const MAX_CHUNK = 16 * 1024 * 1024;
const MAX_LINE = 4096;

export type PayloadMode =
  | { readonly kind: 'sha256'; readonly hex: string }
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'chunked'; readonly signed: boolean; readonly trailer: boolean };

/** Reads x-amz-content-sha256; anything else (incl. SigV4a ECDSA streaming) is refused. */
export function payloadMode(value: string | undefined): PayloadMode {
  if (value !== undefined && /^[0-9a-f]{64}$/.test(value)) return { kind: 'sha256', hex: value };
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'chunked', signed: true, trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'chunked', signed: true, trailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'chunked', signed: false, trailer: true };
    default:
      throw new AwsError(
        'InvalidArgument',
        `x-amz-content-sha256 ${value ?? '(missing)'} is not supported by Airlock (use a SHA-256, UNSIGNED-PAYLOAD or STREAMING-AWS4-HMAC-SHA256-PAYLOAD / STREAMING-UNSIGNED-PAYLOAD-TRAILER)`,
      );
  }
}

function bad(message: string): AwsError {
  return new AwsError('SignatureDoesNotMatch', message, 403);
}

/** Hex SHA-256 over the whole body, compared at the end; the final piece waits for the verdict. */
export class Sha256Verifier extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | undefined;
  private size = 0;

  constructor(
    private readonly expectedHex: string,
    private readonly expectedLength: number,
  ) {
    super({ highWaterMark: HIGH_WATER });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.expectedLength) {
      cb(bad('request body is longer than Content-Length'));
      return;
    }
    this.hash.update(chunk);
    if (this.held !== undefined) this.push(this.held);
    this.held = chunk;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== this.expectedLength) {
      cb(bad('request body is shorter than Content-Length'));
      return;
    }
    if (!constantTimeEqualHex(this.hash.digest('hex'), this.expectedHex)) {
      cb(new AwsError('XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the request body'));
      return;
    }
    if (this.held !== undefined) this.push(this.held);
    cb();
  }
}

export interface ChunkSigning {
  readonly key: Buffer;
  readonly amzDate: string;
  /** `DATE/REGION/SERVICE/aws4_request` */
  readonly scope: string;
  /** The header (seed) signature. */
  readonly seed: string;
}

type Step = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** Trailing checksums Airlock can verify itself; others are refused up front (checksumFor). */
const CHECKSUMS: Record<string, () => { update(b: Buffer): void; digest(): string }> = {
  'x-amz-checksum-crc32': () => {
    let c = 0;
    return {
      update: (b) => {
        c = crc32(b, c);
      },
      digest: () => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(c >>> 0);
        return out.toString('base64');
      },
    };
  },
  'x-amz-checksum-sha1': () => digestOf(createHash('sha1')),
  'x-amz-checksum-sha256': () => digestOf(createHash('sha256')),
};

function digestOf(h: Hash): { update(b: Buffer): void; digest(): string } {
  return { update: (b) => h.update(b), digest: () => h.digest('base64') };
}

/** The trailer header the client announced (x-amz-trailer), if Airlock can verify it. */
export function checkTrailerName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const n = name.trim().toLowerCase();
  if (!(n in CHECKSUMS))
    throw new AwsError(
      'InvalidArgument',
      `Airlock verifies trailing checksums ${Object.keys(CHECKSUMS).join(', ')}; ${n} is not supported (set ChecksumAlgorithm to CRC32)`,
    );
  return n;
}

/** Decodes aws-chunked, verifying as it goes. */
export class AwsChunkedDecoder extends Transform {
  private step: Step = 'header';
  private line: Buffer[] = [];
  private lineLen = 0;
  private remaining = 0;
  private chunkSig = '';
  private chunkHash: Hash | undefined;
  private current: Buffer[] = [];
  private held: Buffer[] = [];
  private prevSig: string;
  private decoded = 0;
  private readonly trailers = new Map<string, string>();
  private readonly checksum: { update(b: Buffer): void; digest(): string } | undefined;

  constructor(
    private readonly opts: {
      readonly signed: boolean;
      readonly trailer: boolean;
      readonly decodedLength: number;
      readonly signing: ChunkSigning | undefined;
      /** Lower-cased x-amz-trailer value (checkTrailerName). */
      readonly trailerName: string | undefined;
    },
  ) {
    super({ highWaterMark: HIGH_WATER });
    this.prevSig = opts.signing?.seed ?? '';
    const make = opts.trailerName === undefined ? undefined : CHECKSUMS[opts.trailerName];
    this.checksum = make?.();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    cb(this.step === 'done' ? null : bad('aws-chunked body ended before its final chunk'));
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.step) {
        case 'header':
        case 'trailer':
        case 'data-crlf': {
          const nl = buf.indexOf(0x0a, i);
          const end = nl === -1 ? buf.length : nl + 1;
          this.lineLen += end - i;
          if (this.lineLen > MAX_LINE) throw bad('aws-chunked line too long');
          this.line.push(buf.subarray(i, end));
          i = end;
          if (nl !== -1) {
            const text = Buffer.concat(this.line).toString('latin1');
            this.line = [];
            this.lineLen = 0;
            if (!text.endsWith('\r\n')) throw bad('aws-chunked line must end with CRLF');
            this.onLine(text.slice(0, -2));
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, buf.length - i);
          const piece = buf.subarray(i, i + take);
          i += take;
          this.remaining -= take;
          this.chunkHash?.update(piece);
          this.checksum?.update(piece);
          this.current.push(piece);
          if (this.remaining === 0) this.step = 'data-crlf';
          break;
        }
        case 'done':
          throw bad('data after the final aws-chunked chunk');
      }
    }
  }

  private onLine(line: string): void {
    if (this.step === 'data-crlf') {
      if (line !== '') throw bad('aws-chunked chunk data is longer than its declared size');
      this.endChunk();
      this.step = 'header';
      return;
    }
    if (this.step === 'trailer') {
      if (line === '') {
        this.finish();
        return;
      }
      if (!this.opts.trailer) throw bad('unexpected trailer after the final aws-chunked chunk');
      const colon = line.indexOf(':');
      if (colon <= 0) throw bad('malformed aws-chunked trailer');
      this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      return;
    }
    // Chunk header: hex-size[;chunk-signature=64hex]
    const m = /^([0-9a-fA-F]{1,8})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line);
    if (m === null) throw bad('malformed aws-chunked chunk header');
    if (this.opts.signed !== (m[2] !== undefined))
      throw bad(
        this.opts.signed ? 'aws-chunked chunk without chunk-signature' : 'unexpected chunk-signature',
      );
    const size = Number.parseInt(m[1] ?? '0', 16);
    if (size > MAX_CHUNK) throw bad(`aws-chunked chunk of ${size} bytes exceeds ${MAX_CHUNK}`);
    this.chunkSig = m[2] ?? '';
    this.remaining = size;
    this.chunkHash = this.opts.signed ? createHash('sha256') : undefined;
    this.current = [];
    if (size === 0) {
      this.verifyChunkSignature(EMPTY_SHA256);
      // The final chunk is followed by trailer lines (trailer variants only) and an empty line.
      this.step = 'trailer';
      return;
    }
    this.step = 'data';
  }

  private endChunk(): void {
    const size = this.current.reduce((n, b) => n + b.length, 0);
    if (this.opts.signed) this.verifyChunkSignature(this.chunkHash?.digest('hex') ?? '');
    this.decoded += size;
    if (this.decoded > this.opts.decodedLength)
      throw bad('aws-chunked body exceeds x-amz-decoded-content-length');
    for (const b of this.held) this.push(b);
    this.held = this.current;
    this.current = [];
  }

  private verifyChunkSignature(dataHash: string): void {
    const s = this.opts.signing;
    if (!this.opts.signed || s === undefined) return;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      s.amzDate,
      s.scope,
      this.prevSig,
      EMPTY_SHA256,
      dataHash,
    ].join('\n');
    const expected = createHmac('sha256', s.key).update(toSign).digest('hex');
    if (!constantTimeEqualHex(expected, this.chunkSig))
      throw bad('a chunk signature does not match: the body was altered or signed with another key');
    this.prevSig = this.chunkSig;
  }

  private finish(): void {
    if (this.decoded !== this.opts.decodedLength)
      throw bad('aws-chunked body length differs from x-amz-decoded-content-length');
    const s = this.opts.signing;
    if (this.opts.trailer && this.opts.signed && s !== undefined) {
      const sig = this.trailers.get('x-amz-trailer-signature') ?? '';
      const canonical = [...this.trailers]
        .filter(([k]) => k !== 'x-amz-trailer-signature')
        .map(([k, v]) => `${k}:${v}\n`)
        .join('');
      const toSign = [
        'AWS4-HMAC-SHA256-TRAILER',
        s.amzDate,
        s.scope,
        this.prevSig,
        createHash('sha256').update(canonical).digest('hex'),
      ].join('\n');
      const expected = createHmac('sha256', s.key).update(toSign).digest('hex');
      if (!/^[0-9a-f]{64}$/.test(sig) || !constantTimeEqualHex(expected, sig))
        throw bad('the trailer signature does not match');
    }
    if (this.opts.trailerName !== undefined) {
      const got = this.trailers.get(this.opts.trailerName);
      if (got === undefined) throw bad(`the announced trailer ${this.opts.trailerName} is missing`);
      if (got !== this.checksum?.digest())
        throw new AwsError(
          'BadDigest',
          `The ${this.opts.trailerName} you specified did not match the calculated checksum.`,
        );
    }
    for (const b of this.held) this.push(b);
    this.held = [];
    this.step = 'done';
  }
}
