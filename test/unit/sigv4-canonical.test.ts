/**
 * Airlock verifies SigV4 with its own canonicalization (sigv4-canonical.ts) instead of
 * calling @smithy/signature-v4 per request: over seeded generated requests — odd paths
 * (dot segments, empty segments, reserved characters, non-ASCII), repeated and empty query
 * values, headers with tabs, runs of spaces and line breaks, generated and "unsignable"
 * header names, S3 and other services — it must produce exactly smithy's signature.
 * FUZZ_SEED=<n> replays a run (FUZZ_RUNS=<n> runs longer); a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { sigV4Signature } from '../../src/fronts/aws/sigv4-canonical.js';

const SEED = Number(process.env.FUZZ_SEED ?? 18_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

const segment = fc.oneof(
  fc.constantFrom('', '.', '..', 'orders', 'a b', 'k+1', "it's", '(x)*!', '%2F', '~_-.', 'é', '日本'),
  fc.string({ maxLength: 6 }),
);
const pathArb = fc
  .tuple(fc.array(segment, { maxLength: 5 }), fc.boolean())
  .map(([segs, trailing]) => `/${segs.join('/')}${trailing ? '/' : ''}`);
const queryValue = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('', 'a=b', 'x y', '*', 'é'));
const queryArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom('prefix', 'X-Amz-Signature', 'list-type', 'a b', 'Z', 'z'),
    fc.string({ maxLength: 4 }),
  ),
  fc.oneof(queryValue, fc.array(queryValue, { maxLength: 3 })),
  { maxKeys: 4, noNullPrototype: true },
);
const headerName = fc.constantFrom(
  'content-type',
  'x-amz-target',
  'x-amz-content-sha256',
  'date',
  'authorization',
  'connection',
  'expect',
  'user-agent',
  'sec-fetch-mode',
  'proxy-thing',
  'x-amz-meta-note',
  'amz-sdk-request',
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('  a  b ', '\tx\t\ty', 'l1\r\nl2', 'a,b', ' ', 'application/x-amz-json-1.0'),
);
const requestArb = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
  path: pathArb,
  s3: fc.boolean(),
  query: queryArb,
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 6, noNullPrototype: true }),
  host: fc.constantFrom('127.0.0.1:4566', 'dynamodb.us-east-1.amazonaws.com', 'b.s3.amazonaws.com'),
  body: fc.uint8Array({ maxLength: 40 }),
  date: fc.date({
    min: new Date('2020-01-01T00:00:00Z'),
    max: new Date('2030-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  region: fc.constantFrom('us-east-1', 'eu-west-3', 'ap-south-1'),
  service: fc.constantFrom('dynamodb', 'sqs', 'kms'),
  secret: fc.string({ minLength: 1, maxLength: 20 }),
});

describe('SigV4 canonical signature', () => {
  it('equals @smithy/signature-v4 over generated requests', async () => {
    try {
      await fc.assert(
        fc.asyncProperty(requestArb, async (r) => {
          const service = r.s3 ? 's3' : r.service;
          const headers = new Map<string, string>([
            ['host', r.host],
            ['x-amz-date', 'ignored: the signer writes the signing date'],
            ...Object.entries(r.headers),
          ]);
          const body = Buffer.from(r.body);
          const signingDate = new Date(Math.floor(r.date.getTime() / 1000) * 1000);
          const ours = sigV4Signature(
            {
              method: r.method,
              path: r.path,
              normalizePath: !r.s3,
              query: r.query,
              headers,
              payloadHash: () => createHash('sha256').update(body).digest('hex'),
              signingDate,
              region: r.region,
              service,
            },
            r.secret,
          );
          const signer = new SignatureV4({
            credentials: { accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: r.secret },
            region: r.region,
            service,
            sha256: Hash.bind(null, 'sha256'),
            applyChecksum: false,
            uriEscapePath: !r.s3,
          });
          const signed = await signer.sign(
            new HttpRequest({
              method: r.method,
              protocol: 'https:',
              hostname: r.host,
              path: r.path,
              query: r.query,
              headers: Object.fromEntries(headers),
              body,
            }),
            { signingDate, signableHeaders: new Set(headers.keys()) },
          );
          const theirs = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1];
          assert.equal(ours, theirs);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    } catch (err) {
      console.error(`sigv4 canonical: failed with FUZZ_SEED=${SEED}`);
      throw err;
    }
  });

  it('matches the AWS documentation example (GET with a query, IAM ListUsers)', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
    // (the example's canonical request), signed with the documented example secret.
    const sig = sigV4Signature(
      {
        method: 'GET',
        path: '/',
        normalizePath: true,
        query: { Action: 'ListUsers', Version: '2010-05-08' },
        headers: new Map([
          ['content-type', 'application/x-www-form-urlencoded; charset=utf-8'],
          ['host', 'iam.amazonaws.com'],
          ['x-amz-date', '20150830T123600Z'],
        ]),
        payloadHash: () => createHash('sha256').update('').digest('hex'),
        signingDate: new Date('2015-08-30T12:36:00Z'),
        region: 'us-east-1',
        service: 'iam',
      },
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    );
    assert.equal(sig, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });
});
