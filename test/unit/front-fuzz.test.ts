/**
 * Seeded, bounded fuzzing of the parsers an agent's bytes reach first: SigV4 header
 * verification, DynamoDB request extraction (with its JSON reader), PartiQL, and the
 * Postgres frontend framer. Each must refuse hostile input with its own protocol's error
 * (AwsError / PgError) and nothing else: no TypeError, no RangeError from recursion.
 * The framer must also read the same messages however the bytes are split.
 * FUZZ_SEED=<n> replays a run (FUZZ_RUNS=<n> runs longer); a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import { extractDynamoDb } from '../../src/fronts/aws/services/dynamodb.js';
import { PartiqlParseError, parsePartiql } from '../../src/fronts/aws/services/partiql.js';
import { headerMap, verifySigV4 } from '../../src/fronts/aws/sigv4-verify.js';
import { parseStrictJson } from '../../src/fronts/aws/strict-json.js';
import { FrontendFramer } from '../../src/fronts/postgres/frontend-codec.js';
import { PgError } from '../../src/fronts/postgres/pg-error.js';

const SEED = Number(process.env.FUZZ_SEED ?? 12_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

async function run(
  name: string,
  prop: fc.IAsyncProperty<unknown[]> | fc.IProperty<unknown[]>,
): Promise<void> {
  try {
    await fc.assert(prop as fc.IAsyncProperty<unknown[]>, { seed: SEED, numRuns: RUNS });
  } catch (err) {
    throw new Error(`${name}: failed with FUZZ_SEED=${SEED} (FUZZ_RUNS=${RUNS}): ${(err as Error).message}`);
  }
}

const onlyAws = (err: unknown) => {
  if (!(err instanceof AwsError)) throw err;
};

/** JSON values with a bias towards DynamoDB shapes, and deep nesting now and then. */
const attributeValue = fc.letrec((tie) => ({
  av: fc.oneof(
    { depthSize: 'small' },
    fc.record({ S: fc.string() }),
    fc.record({ N: fc.oneof(fc.string(), fc.integer().map(String)) }),
    fc.record({ M: fc.dictionary(fc.string({ maxLength: 8 }), tie('av'), { maxKeys: 4 }) }),
    fc.record({ L: fc.array(tie('av'), { maxLength: 4 }) }),
    fc.jsonValue({ maxDepth: 3 }),
  ),
})).av;

describe('fuzz: the AWS front parsers', () => {
  it('SigV4 verification refuses any malformed request with an AwsError', async () => {
    const authorization = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.stringMatching(/^[A-Z0-9]{0,20}$/),
          fc.stringMatching(/^\d{0,8}$/),
          fc.string({ maxLength: 12 }),
          fc.string({ maxLength: 40 }),
          fc.stringMatching(/^[0-9a-f]{0,64}$/),
        )
        .map(
          ([k, d, r, h, sig]) =>
            `AWS4-HMAC-SHA256 Credential=${k}/${d}/${r}/dynamodb/aws4_request, SignedHeaders=${h}, Signature=${sig}`,
        ),
    );
    await run(
      'sigv4',
      fc.asyncProperty(
        authorization,
        fc.array(fc.tuple(fc.stringMatching(/^[a-z-]{1,16}$/), fc.string({ maxLength: 40 })), {
          maxLength: 6,
        }),
        fc.string({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 64 }),
        async (auth, extra, url, body) => {
          const raw = ['host', 'x', 'authorization', auth, 'x-amz-date', '20260101T000000Z', ...extra.flat()];
          await verifySigV4(
            { method: 'POST', rawUrl: `/${url}`, rawHeaders: raw, body: Buffer.from(body) },
            headerMap(raw),
            async () => 'secret',
            { now: new Date('2026-01-01T00:00:00Z'), skewSeconds: 300 },
          ).then(() => assert.fail('a random signature verified'), onlyAws);
        },
      ),
    );
  });

  it('DynamoDB extraction of any JSON body ends in scopes or an AwsError', async () => {
    const targets = [
      'PutItem',
      'GetItem',
      'Query',
      'BatchWriteItem',
      'TransactWriteItems',
      'ExecuteStatement',
      'Nope',
    ];
    await run(
      'dynamodb',
      fc.property(
        fc.constantFrom(...targets),
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.record({
            TableName: fc.string({ maxLength: 20 }),
            Item: fc.dictionary(fc.string(), attributeValue),
          }),
          fc.record({ Statement: fc.string() }),
        ),
        (op, body) => {
          try {
            const text = JSON.stringify(body);
            const parsed = parseStrictJson(text, () => new AwsError('SerializationException', 'bad'));
            const x = extractDynamoDb(`DynamoDB_20120810.${op}`, parsed, {
              region: 'us-east-1',
              accountId: '123456789012',
            });
            // Whatever it accepted names at least one scope for policy to see.
            assert.ok(x.scopes.length > 0, `${op} accepted with no scope`);
          } catch (err) {
            onlyAws(err);
          }
        },
      ),
    );
  });

  it('deep nesting is refused before anything recurses, at any depth', async () => {
    await run(
      'depth',
      fc.property(fc.integer({ min: 81, max: 20_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
        const close = open === '[' ? ']' : '}';
        const text = `${open.repeat(depth)}1${close.repeat(depth)}`;
        assert.throws(
          () => parseStrictJson(text, () => new AwsError('SerializationException', 'bad')),
          (e: unknown) => e instanceof AwsError && /deeper than/.test(e.message),
        );
      }),
    );
  });

  it('PartiQL: any statement text ends in a target or a PartiqlParseError', async () => {
    const words = fc.constantFrom(
      'SELECT',
      'INSERT',
      'INTO',
      'UPDATE',
      'DELETE',
      'FROM',
      'WHERE',
      'SET',
      'VALUE',
      '"t"',
      '"a"."b"',
      "'x'",
      '?',
      '*',
      ',',
      '(',
      ')',
      '.',
      '--',
      '/*',
      '*/',
      '"',
      "'",
    );
    await run(
      'partiql',
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(words, { maxLength: 12 }).map((w) => w.join(' ')),
        ),
        (stmt) => {
          try {
            const t = parsePartiql(stmt);
            assert.ok(t !== undefined);
          } catch (err) {
            // The parser's own refusal (the codec renders it as a ValidationException).
            if (!(err instanceof PartiqlParseError)) throw err;
          }
        },
      ),
    );
  });
});

describe('fuzz: the Postgres frontend framer', () => {
  const messages = fc.array(
    fc.oneof(
      fc.string({ maxLength: 200 }).map((q) => serialize.query(q.replace(/\0/g, ''))),
      fc.constant(serialize.sync()),
      fc.constant(serialize.flush()),
      fc
        .string({ maxLength: 40 })
        .map((q) => serialize.parse({ name: '', text: q.replace(/\0/g, ''), types: [] })),
      fc.constant(serialize.execute({ portal: '', rows: 0 })),
    ),
    { minLength: 1, maxLength: 8 },
  );

  it('reads the same messages however the bytes are split, down to one byte at a time', async () => {
    await run(
      'framer-splits',
      fc.property(messages, fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 40 }), (msgs, cuts) => {
        const all = Buffer.concat(msgs);
        const want = msgs.map((m) => m.toString('hex'));
        for (const split of [cuts, [1]]) {
          const f = new FrontendFramer();
          const got: string[] = [];
          for (let at = 0, i = 0; at < all.length; i++) {
            const n = split.length === 0 ? all.length : (split[i % split.length] as number);
            f.push(all.subarray(at, at + n));
            at += n;
            for (let fr = f.next(); fr !== undefined; fr = f.next()) got.push(fr.raw.toString('hex'));
          }
          assert.deepEqual(got, want);
          assert.equal(f.buffered, 0);
        }
      }),
    );
  });

  it('random bytes end in frames, a need for more bytes, or a PgError', async () => {
    await run(
      'framer-random',
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const f = new FrontendFramer();
        f.push(Buffer.from(bytes));
        try {
          for (let i = 0; i < 300 && f.next() !== undefined; i++);
        } catch (err) {
          if (!(err instanceof PgError)) throw err;
        }
      }),
    );
  });
});
