/**
 * Seeded, bounded fuzzing of the S3 XML body reader (s3-xml.ts via DeleteObjects):
 *  - hostile input never throws anything but a rendered AwsError;
 *  - every key an upstream could read from an accepted body is one Airlock scoped.
 *    Two independent readings stand for "the upstream": s3rver's own parser
 *    (fast-xml-parser 3 with `he` decoding every HTML entity, as s3rver reads
 *    DeleteObjects) and a lenient scan for any `<Key …>…</Key …>` spelling.
 * FUZZ_SEED=<n> replays a run (FUZZ_RUNS=<n> runs longer); a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AwsError } from '../../src/fronts/aws/aws-error.js';
import { parseDeleteObjects } from '../../src/fronts/aws/s3/delete-objects.js';

const require = createRequire(import.meta.url);
const s3rverXml = require('s3rver/node_modules/fast-xml-parser') as {
  validate(xml: string): true | object;
  parse(xml: string, opts: object): unknown;
};
const he = require('he') as { decode(s: string): string };

const SEED = Number(process.env.FUZZ_SEED ?? 20_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

function run(name: string, prop: fc.IPropertyWithHooks<unknown[]> | fc.IProperty<unknown[]>): void {
  try {
    fc.assert(prop, { seed: SEED, numRuns: RUNS });
  } catch (err) {
    console.error(`${name}: failed with FUZZ_SEED=${SEED}`);
    throw err;
  }
}

/** Refusals are AwsErrors the front renders; anything else would be a 500. */
function readOrRefuse(xml: string): string[] | undefined {
  try {
    return parseDeleteObjects(xml).map((t) => t.key);
  } catch (err) {
    if (!(err instanceof AwsError) || !['MalformedXML', 'InvalidArgument'].includes(err.code)) throw err;
    return undefined;
  }
}

/** s3rver's reading of the body (lib/controllers/object.js xmlBodyParser), or undefined if it refuses. */
function s3rverKeys(xml: string): string[] | undefined {
  if (s3rverXml.validate(xml) !== true) return undefined;
  let doc: unknown;
  try {
    doc = s3rverXml.parse(xml, {
      tagValueProcessor: (a: string) => he.decode(a),
      parseNodeValue: false,
      trimValues: false,
    });
  } catch {
    return undefined;
  }
  const out: string[] = [];
  const walk = (v: unknown, inKey: boolean): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, inKey);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        walk(x, k === 'Key' || k.endsWith(':Key'));
    else if (inKey) out.push(String(v));
  };
  walk(doc, false);
  return out;
}

/** Any element spelled like a Key, however lenient the reader (whitespace, attributes, prefixes). */
function lenientKeys(xml: string): string[] {
  return [...xml.matchAll(/<\s*(?:[\w-]+:)?Key(?:\s[^>]*)?>([\s\S]*?)<\s*\/\s*(?:[\w-]+:)?Key\s*>/g)].map(
    (m) => he.decode(m[1] ?? ''),
  );
}

/** Mostly the plain spelling, sometimes a hostile one: enough bodies are accepted to compare. */
const mostly = (plain: string, hostile: readonly string[]) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(plain) },
    { weight: 1, arbitrary: fc.constantFrom(...hostile) },
  );

const ws = mostly('', [' ', '\n', '\t', ' \n ']);
const attr = mostly('', [
  ' a="1"',
  " b='x'",
  ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"',
  ' xmlns:s3="urn:x"',
  ' a',
]);
const keyPiece = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('a', 'k', 'tmp/', 'x.txt', '-', 'é', '%2E', 'a..b') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '&amp;',
      '&lt;',
      '&gt;',
      '&quot;',
      '&apos;',
      '&#46;',
      '&#x2E;',
      '&#x2e;',
      '&#13;',
      '/',
      '.',
      '..',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '&period;',
      '&nbsp;',
      '&bogus;',
      '&#0;',
      '&#xD800;',
      '&',
      '<',
      '>',
      '\r',
      '\n',
      ']]>',
      '<![CDATA[x]]>',
      '<!--c-->',
      '<?p?>',
      '<Key>in</Key>',
      '\u0001',
      '\uFEFF',
    ),
  },
);
const text = fc.array(keyPiece, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
const name = (n: string) => mostly(n, [n.toLowerCase(), `s3:${n}`, `${n}2`]);
const element = (n: string, inner: fc.Arbitrary<string>) =>
  fc
    .tuple(name(n), ws, attr, inner, ws, mostly('', [' ']))
    .map(([nm, w1, a, body, w2, gap]) => `<${gap}${nm}${a}${w1}>${body}</${nm}${w2}>`);
const member = fc.oneof(
  { weight: 30, arbitrary: element('Key', text) },
  { weight: 2, arbitrary: element('VersionId', text) },
  { weight: 1, arbitrary: element('ETag', text) },
  { weight: 1, arbitrary: element('Extra', text) },
  { weight: 1, arbitrary: text },
);
// One <Key> and sometimes a second member (another Key, a VersionId, an unknown element, text).
const object = element(
  'Object',
  fc
    .tuple(ws, element('Key', text), ws, fc.option(member, { freq: 3 }))
    .map(([w1, key, w2, more]) => `${w1}${key}${w2}${more ?? ''}`),
);
const body = fc
  .tuple(
    mostly('', [
      '<?xml version="1.0" encoding="UTF-8"?>',
      "<?xml version='1.0'?>",
      '<?xml version="1.0" encoding="UTF-16"?>',
      '\uFEFF',
    ]),
    mostly('', ['<!DOCTYPE d [<!ENTITY e "keep.txt">]>', '<!-- c -->']),
    fc.array(
      fc.oneof(
        { weight: 20, arbitrary: object },
        { weight: 1, arbitrary: element('Quiet', text) },
        { weight: 1, arbitrary: text },
      ),
      { minLength: 1, maxLength: 4 },
    ),
    attr,
    mostly('', ['\n', 'junk', '<Delete/>']),
  )
  .map(([decl, dtd, children, a, tail]) => `${decl}${dtd}<Delete${a}>${children.join('')}</Delete>${tail}`);

describe('S3 XML body reader under fuzzing', () => {
  it('never throws anything but a rendered refusal, on arbitrary text', () => {
    run(
      'arbitrary',
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        readOrRefuse(s);
        readOrRefuse(`<Delete><Object><Key>${s}</Key></Object></Delete>`);
      }),
    );
  });

  it('every key the upstream could read from an accepted body is scoped', () => {
    let accepted = 0;
    run(
      'differential',
      fc.property(body, (xml) => {
        const mine = readOrRefuse(xml);
        if (mine === undefined) return;
        accepted++;
        const scoped = new Set(mine);
        for (const k of lenientKeys(xml))
          assert.ok(scoped.has(k), `lenient reader finds ${JSON.stringify(k)} in ${JSON.stringify(xml)}`);
        // s3rver may read fewer keys (it does not take `<Key\n>` for <Key>), never another one.
        for (const k of s3rverKeys(xml) ?? [])
          assert.ok(scoped.has(k), `s3rver reads ${JSON.stringify(k)} in ${JSON.stringify(xml)}`);
        for (const k of mine) assert.ok(!k.split('/').includes('..'), k);
      }),
    );
    // The generator must reach the accepting side often enough to mean something.
    assert.ok(accepted > RUNS / 40, `only ${accepted} of ${RUNS} bodies accepted`);
  });
});
