/**
 * Streaming payload verification, byte fixtures incl. input split at every
 * awkward boundary: the AWS documentation's chunk-signed example, unsigned
 * payloads with trailing checksums, and tampering of each kind.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import {
  AwsChunkedDecoder,
  checkTrailerName,
  payloadMode,
  Sha256Verifier,
} from '../../src/fronts/aws/s3/payload-verify.js';
import { signingKey } from '../../src/fronts/aws/sigv4-verify.js';

/** https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (Example: PUT Object) */
const DOC = {
  secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  sigs: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
};

function docBody(): Buffer {
  const c1 = Buffer.alloc(65536, 'a');
  const c2 = Buffer.alloc(1024, 'a');
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${DOC.sigs[0]}\r\n`),
    c1,
    Buffer.from(`\r\n400;chunk-signature=${DOC.sigs[1]}\r\n`),
    c2,
    Buffer.from(`\r\n0;chunk-signature=${DOC.sigs[2]}\r\n\r\n`),
  ]);
}

const docSigning = () => ({
  key: signingKey(DOC.secret, '20130524', 'us-east-1', 's3'),
  amzDate: DOC.amzDate,
  scope: DOC.scope,
  seed: DOC.seed,
});

/** Feeds `input` in pieces of `size` bytes and collects the output (or the error). */
async function run(t: import('node:stream').Transform, input: Buffer, size: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) pieces.push(input.subarray(i, i + size));
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(t)) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('aws-chunked, chunk-signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  for (const size of [1, 7, 64, 65536 + 90, 1 << 20]) {
    it(`verifies the AWS example fed ${size} bytes at a time`, async () => {
      const out = await run(
        new AwsChunkedDecoder({
          signed: true,
          trailer: false,
          decodedLength: 66560,
          signing: docSigning(),
          trailerName: undefined,
        }),
        docBody(),
        size,
      );
      assert.equal(out.length, 66560);
      assert.ok(out.every((b) => b === 0x61));
    });
  }

  it('refuses a flipped data byte, a wrong seed, and a truncated body', async () => {
    const flipped = docBody();
    flipped[100] = 0x62;
    const mk = (over: object = {}) =>
      new AwsChunkedDecoder({
        signed: true,
        trailer: false,
        decodedLength: 66560,
        signing: { ...docSigning(), ...over },
        trailerName: undefined,
      });
    await assert.rejects(run(mk(), flipped, 4096), /chunk signature does not match/);
    await assert.rejects(
      run(mk({ seed: '0'.repeat(64) }), docBody(), 4096),
      /chunk signature does not match/,
    );
    const body = docBody();
    await assert.rejects(run(mk(), body.subarray(0, body.length - 10), 4096), AwsError);
  });

  it('holds the last chunk back until the final signature verified', async () => {
    const d = new AwsChunkedDecoder({
      signed: true,
      trailer: false,
      decodedLength: 66560,
      signing: docSigning(),
      trailerName: undefined,
    });
    const body = docBody();
    const cut = body.indexOf(Buffer.from('\r\n0;chunk-signature'));
    let seen = 0;
    d.on('data', (c: Buffer) => {
      seen += c.length;
    });
    d.write(body.subarray(0, cut + 2));
    await new Promise((r) => setImmediate(r));
    assert.equal(seen, 65536, 'only the first chunk is released before the final one arrives');
    d.end(body.subarray(cut + 2));
    await new Promise((r) => d.on('end', r));
    assert.equal(seen, 66560);
  });
});

describe('aws-chunked with a signed trailer', () => {
  it('verifies chunk and trailer signatures computed per the spec', async () => {
    const key = signingKey(DOC.secret, '20130524', 'us-east-1', 's3');
    const data = Buffer.from('trailer payload');
    const h = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
    const sign = (s: string) => createHmac('sha256', key).update(s).digest('hex');
    const empty = h('');
    const s1 = sign(
      ['AWS4-HMAC-SHA256-PAYLOAD', DOC.amzDate, DOC.scope, DOC.seed, empty, h(data)].join('\n'),
    );
    const s2 = sign(['AWS4-HMAC-SHA256-PAYLOAD', DOC.amzDate, DOC.scope, s1, empty, empty].join('\n'));
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data) >>> 0);
    const trailer = `x-amz-checksum-crc32:${crc.toString('base64')}\n`;
    const st = sign(['AWS4-HMAC-SHA256-TRAILER', DOC.amzDate, DOC.scope, s2, h(trailer)].join('\n'));
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)};chunk-signature=${s1}\r\n`),
      data,
      Buffer.from(
        `\r\n0;chunk-signature=${s2}\r\n${trailer.trim()}\r\nx-amz-trailer-signature:${st}\r\n\r\n`,
      ),
    ]);
    const mk = () =>
      new AwsChunkedDecoder({
        signed: true,
        trailer: true,
        decodedLength: data.length,
        signing: docSigning(),
        trailerName: 'x-amz-checksum-crc32',
      });
    assert.equal((await run(mk(), body, 5)).toString(), 'trailer payload');
    const forged = Buffer.from(
      body.toString('latin1').replace(`trailer-signature:${st}`, `trailer-signature:${s2}`),
      'latin1',
    );
    await assert.rejects(run(mk(), forged, 5), /trailer signature does not match/);
  });
});

describe('aws-chunked, unsigned with trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  const body = (checksum: string) =>
    Buffer.from(
      `${(20).toString(16)}\r\n${data.subarray(0, 20).toString()}\r\n${(data.length - 20).toString(16)}\r\n${data.subarray(20).toString()}\r\n0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`,
    );
  const mk = () =>
    new AwsChunkedDecoder({
      signed: false,
      trailer: true,
      decodedLength: data.length,
      signing: undefined,
      trailerName: 'x-amz-checksum-crc32',
    });

  it('passes a body whose CRC32 matches', async () => {
    // crc32("The quick brown fox jumps over the lazy dog") = 0x414fa339
    assert.equal((await run(mk(), body('QU+jOQ=='), 3)).toString(), data.toString());
  });

  it('refuses a body whose CRC32 does not match, and an unknown algorithm up front', async () => {
    await assert.rejects(run(mk(), body('AAAAAA=='), 3), /did not match the calculated checksum/);
    assert.throws(() => checkTrailerName('x-amz-checksum-crc64nvme'), /not supported/);
    assert.throws(() => payloadMode('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD'), /not supported/);
  });
});

describe('signed SHA-256 payload', () => {
  it('passes a matching body and refuses a different one of the same length', async () => {
    const body = Buffer.from('approved body');
    const hex = createHash('sha256').update(body).digest('hex');
    assert.equal((await run(new Sha256Verifier(hex, body.length), body, 4)).toString(), 'approved body');
    await assert.rejects(
      run(new Sha256Verifier(hex, body.length), Buffer.from('altered body!'), 4),
      /does not match/,
    );
  });
});
