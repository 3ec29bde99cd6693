/**
 * Seeded, bounded fuzzing of the classifier (fast-check) for the shapes of issue 21:
 * SELECT INTO at a random leaf of a random set-operation tree is never a read, and a
 * function that is not on the allow-list, called in attribute notation (`(expr).fn`,
 * `alias.fn`) anywhere in a query, is never a read. A failure prints its seed and path.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClassifyContext } from '../../src/fronts/postgres/classification.js';
import { classify, loadParser } from '../../src/fronts/postgres/classify.js';
import { catalog } from '../support/pg-catalog-fixture.js';

const SEED = 2121;
const READS = new Set(['select', 'explain', 'copy_to', 'session', 'transaction']);

const ctx: ClassifyContext = {
  db: 'prod',
  searchPath: ['public'],
  user: 'airlock',
  defaultSearchPath: ['public'],
  functions: catalog(),
  prepared: new Map(),
};

const isRead = (sql: string) => classify(sql, ctx).classes.every((c) => READS.has(c));

/** A set-operation tree of simple SELECTs; `into` marks the leaf that carries INTO. */
type Tree = { leaf: string } | { op: string; all: boolean; l: Tree; r: Tree };

const leaf = fc
  .record({
    cols: fc.constantFrom('*', 'id', 'id, amount', '1', 'count(*)'),
    table: fc.constantFrom('payments', 'public.orders', 's.t', '"Weird Name"'),
    where: fc.constantFrom('', ' WHERE id > 1', ' WHERE amount IN (SELECT 1)'),
  })
  .map(({ cols, table, where }) => ({ leaf: `SELECT ${cols} FROM ${table}${where}` }));

const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      op: fc.constantFrom('UNION', 'INTERSECT', 'EXCEPT'),
      all: fc.boolean(),
      l: tie('t'),
      r: tie('t'),
    }),
  ),
})).t;

function leaves(t: Tree): number {
  return 'leaf' in t ? 1 : leaves(t.l) + leaves(t.r);
}

/** Renders the tree, putting `INTO <target>` into leaf number `at` (depth-first). */
function render(t: Tree, at: number, into: string, n = { i: 0 }): string {
  if ('leaf' in t) {
    const s = n.i++ === at ? t.leaf.replace(' FROM ', ` INTO ${into} FROM `) : t.leaf;
    return `(${s})`;
  }
  return `(${render(t.l, at, into, n)} ${t.op}${t.all ? ' ALL' : ''} ${render(t.r, at, into, n)})`;
}

describe('classifier fuzzing (seeded)', () => {
  before(loadParser);

  it('SELECT INTO at any leaf of a set operation is never a read', () => {
    fc.assert(
      fc.property(
        tree,
        fc.nat(),
        fc.constantFrom('evil', 'TEMP evil', 'UNLOGGED evil', 'TEMPORARY TABLE evil', 's.evil'),
        fc.constantFrom('', 'EXPLAIN ANALYZE ', 'DECLARE c CURSOR FOR '),
        (t, pick, into, prefix) => {
          const sql = `${prefix}SELECT * FROM ${render(t, pick % leaves(t), into)} AS sub`.replace(
            /^(.*?)SELECT \* FROM \((.*)\) AS sub$/s,
            '$1$2',
          );
          const c = classify(sql, ctx);
          // A position PostgreSQL's grammar rejects is `unknown`; otherwise INTO is ddl.
          assert.ok(!c.classes.every((k) => READS.has(k)), `read: ${sql}`);
          if (c.parseError === undefined && !prefix.startsWith('DECLARE'))
            assert.ok(c.classes.includes('ddl'), `no ddl: ${sql}`);
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  const fn = fc.constantFrom(
    'nextval',
    'pg_terminate_backend',
    'pg_read_file',
    'pg_advisory_lock',
    'lo_import',
    'brin_summarize_range',
    'set_config',
    'audit_purge',
    'dblink',
    'crosstab',
    'query_to_xml',
  );
  const arg = fc.constantFrom(
    "'payments_seq'::regclass",
    '42',
    "'x'::text",
    '(SELECT 1)',
    'p.id',
    'row(1, 2)',
  );
  const call = fc.oneof(
    fc.tuple(arg, fn).map(([a, f]) => `(${a}).${f}`),
    fn.map((f) => `p.${f}`),
    fn.map((f) => `p.id.${f}`),
  );
  const place = fc.constantFrom(
    (e: string) => `SELECT ${e} FROM payments p`,
    (e: string) => `SELECT 1 FROM payments p WHERE ${e} IS NOT NULL`,
    (e: string) => `SELECT id FROM payments p ORDER BY ${e}`,
    (e: string) => `WITH w AS (SELECT ${e} AS v FROM payments p) SELECT * FROM w`,
    (e: string) => `SELECT * FROM orders o, LATERAL (SELECT ${e} FROM payments p) l`,
    (e: string) => `SELECT (SELECT ${e} FROM payments p LIMIT 1)`,
    (e: string) => `SELECT id FROM payments p GROUP BY id HAVING count(${e}) > 0`,
    (e: string) => `EXPLAIN ANALYZE SELECT ${e} FROM payments p`,
    (e: string) => `DECLARE c CURSOR WITH HOLD FOR SELECT ${e} FROM payments p`,
    (e: string) => `SELECT id FROM payments p UNION SELECT ${e} FROM payments p`,
    (e: string) => `UPDATE scratch.t SET v = ${e} FROM payments p`,
  );

  it('attribute-notation calls of functions off the allow-list are never reads', () => {
    fc.assert(
      fc.property(call, place, (e, p) => {
        const sql = p(e);
        const c = classify(sql, ctx);
        assert.equal(c.parseError, undefined, sql);
        assert.ok(c.classes.includes('function'), `not a function call: ${sql}`);
        assert.ok(!isRead(sql), sql);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('allow-listed functions in attribute notation stay reads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('lower', 'now', 'name'),
        place.filter((p) => !p('x').startsWith('UPDATE')),
        (f, p) => {
          const sql = p(`(p.id::text).${f}`);
          assert.ok(isRead(sql), sql);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });
});
