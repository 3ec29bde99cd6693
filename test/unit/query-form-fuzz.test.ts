/**
 * Seeded, bounded fuzzing of the Query-protocol form reader (query-form.ts):
 *  - hostile bodies never throw anything but a rendered AwsError;
 *  - an accepted body has one meaning to any reader: URLSearchParams (what many
 *    servers use), a first-wins, a last-wins and a case-insensitive reader all see
 *    exactly the parameters Airlock read, each once.
 * FUZZ_SEED=<n> replays a run (FUZZ_RUNS=<n> runs longer); a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import { parseQueryForm } from '../../src/fronts/aws/services/query-form.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);

function run(name: string, prop: fc.IProperty<unknown[]>): void {
  try {
    fc.assert(prop, { seed: SEED, numRuns: RUNS });
  } catch (err) {
    console.error(`${name}: failed with FUZZ_SEED=${SEED}`);
    throw err;
  }
}

function readOrRefuse(body: string): Map<string, string> | undefined {
  try {
    return parseQueryForm(body);
  } catch (err) {
    if (!(err instanceof AwsError) || err.code !== 'MalformedQueryString') throw err;
    return undefined;
  }
}

const nameArb = fc.constantFrom(
  'Action',
  'action',
  'ACTION',
  '%41ction',
  'Act%69on',
  'QueueUrl',
  'MessageBody',
  'Attribute.1.Name',
  'Attribute.1.Value',
  'Tags.member.1.Key',
  'Version',
  'Action ',
  '+Action',
  'Action%00',
  'Act%ion',
  '',
  'a=b',
  '%E2%80%AEAction',
);
const valuePiece = fc.constantFrom(
  'SendMessage',
  'PurgeQueue',
  'x',
  '+',
  '%20',
  '%2B',
  '%26',
  '%3D',
  '=',
  '%',
  '%zz',
  '%FF',
  '%C3%A9',
  ';',
  ' ',
  'é',
  '&',
);
const valueArb = fc.array(valuePiece, { maxLength: 5 }).map((a) => a.join(''));
const pairArb = fc.tuple(nameArb, fc.boolean(), valueArb).map(([n, eq, v]) => (eq ? `${n}=${v}` : n));
const formArb = fc.array(pairArb, { maxLength: 6 }).map((a) => a.join('&'));

describe('Query-protocol form reader under fuzzing', () => {
  it('never throws anything but a rendered refusal', () => {
    run(
      'arbitrary',
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        readOrRefuse(s);
      }),
    );
  });

  it('an accepted body means the same to every reader, each parameter once', () => {
    let accepted = 0;
    run(
      'differential',
      fc.property(formArb, (body) => {
        const mine = readOrRefuse(body);
        if (mine === undefined) return;
        accepted++;
        const theirs = [...new URLSearchParams(body)];
        assert.equal(theirs.length, mine.size, body);
        const folded = new Set<string>();
        for (const [k, v] of theirs) {
          assert.equal(mine.get(k), v, `${k} in ${body}`);
          assert.ok(!folded.has(k.toLowerCase()), `${k} twice (case-insensitively) in ${body}`);
          folded.add(k.toLowerCase());
        }
      }),
    );
    assert.ok(accepted > RUNS / 40, `only ${accepted} of ${RUNS} forms accepted`);
  });
});
