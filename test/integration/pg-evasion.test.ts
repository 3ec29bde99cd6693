/**
 * Evasion corpus: statements that would write to a protected table (public.*)
 * dressed up as something else. For each, the test waits until Airlock either
 * refuses it outright or holds it (then denies the hold), and checks AT THE
 * UPSTREAM that public.orders is exactly as it was: no unapproved write happened.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';
import { refused } from '../support/pg-refused.js';

const SNAPSHOT = "SELECT string_agg(id || ':' || status, ',' ORDER BY id) AS s FROM public.orders";

describe('postgres evasion corpus', () => {
  let h: PgHarness;
  let c: pg.Client;
  let before0: string;
  before(async () => {
    // Created before Airlock starts, so its function catalog (loaded at start, then every
    // 5 min) knows them: a CI run that loaded the catalog first saw `o.sneaky` as a column.
    h = await startPgHarness({
      setupSql: [
        "CREATE PROCEDURE public.bump() LANGUAGE sql AS $$ UPDATE public.orders SET status = 'proc' $$;",
        "CREATE FUNCTION public.sneaky() RETURNS int LANGUAGE sql AS $$ UPDATE public.orders SET status = 'fn'; SELECT 1 $$;",
      ].join('\n'),
    });
    before0 = (await h.direct.query(SNAPSHOT)).rows[0].s;
    c = await h.client();
  });
  after(async () => {
    await h?.close();
  });

  const corpus: Array<[string, string]> = [
    ['leading comment', "/* just a select */ UPDATE orders SET status = 'x'"],
    ['line comment then write', "-- select\nUPDATE orders SET status = 'x'"],
    ['mixed case', "uPdAtE OrDeRs SeT status = 'x'"],
    ['quoted identifier', `UPDATE "orders" SET status = 'x'`],
    ['schema-qualified quoted', `UPDATE "public"."orders" SET status = 'x'`],
    ['unicode-escaped identifier', `UPDATE U&"ord\\0065rs" SET status = 'x'`],
    [
      'CTE write under SELECT',
      "WITH w AS (UPDATE orders SET status = 'x' RETURNING 1) SELECT count(*) FROM w",
    ],
    [
      'CTE delete nested in a subquery',
      'SELECT * FROM (WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d) s',
    ],
    [
      'CTE write feeding an allowed insert',
      "INSERT INTO scratch.notes (body) SELECT 'x' FROM (WITH d AS (DELETE FROM orders RETURNING 1) SELECT * FROM d) s",
    ],
    ['multi-statement, write second', "SELECT 1; UPDATE orders SET status = 'x'"],
    ['dollar-quoted semicolon', "SELECT $$;$$; UPDATE orders SET status = 'x'"],
    ['transaction wrapped', "BEGIN; UPDATE orders SET status = 'x'; COMMIT"],
    ['EXPLAIN ANALYZE executes', "EXPLAIN ANALYZE UPDATE orders SET status = 'x'"],
    ['EXPLAIN (ANALYZE) option list', 'EXPLAIN (ANALYZE, COSTS OFF) DELETE FROM orders'],
    ['SELECT ... FOR UPDATE', 'SELECT * FROM orders FOR UPDATE'],
    ['SELECT INTO creates a table', 'SELECT * INTO public.stolen FROM orders'],
    [
      'MERGE',
      "MERGE INTO orders o USING (SELECT 1 AS id) s ON o.id = s.id WHEN MATCHED THEN UPDATE SET status = 'x'",
    ],
    ['DO block', "DO $$ BEGIN UPDATE orders SET status = 'x'; END $$"],
    ['CALL a procedure', 'CALL bump()'],
    ['side-effect function', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE false'],
    ['set_config search_path', "SELECT set_config('search_path', 'scratch', false)"],
    ['dblink prefix', "SELECT dblink_exec('dbname=app', 'DELETE FROM orders')"],
    ['query_to_xml runs SQL', "SELECT query_to_xml('DELETE FROM orders RETURNING 1', true, false, '')"],
    ['COPY FROM STDIN', 'COPY orders FROM STDIN'],
    ['COPY to a server program', "COPY orders TO PROGRAM 'true'"],
    ['TRUNCATE (forbidden)', 'TRUNCATE orders'],
    ['TRUNCATE hidden second', 'SELECT 1; TRUNCATE public.orders'],
    ['syntax error is most sensitive', "UPDATE orders SET status = 'x' WHERE"],
    ['EXECUTE of an unknown name', 'EXECUTE never_prepared'],
    ['SET ROLE', 'SET ROLE postgres'],
    ['SET SESSION AUTHORIZATION', 'SET SESSION AUTHORIZATION postgres'],
    ['GRANT', 'GRANT ALL ON orders TO PUBLIC'],
    ['ALTER TABLE', 'ALTER TABLE orders ADD COLUMN pwned int'],
    ['LOCK TABLE', 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE'],
    [
      'search_path switched in the same query',
      "SET search_path = scratch; RESET search_path; UPDATE orders SET status = 'x'",
    ],
  ];

  for (const [name, sql] of corpus) {
    it(`refuses: ${name}`, async () => {
      await refused(h, () => c.query(sql));
      assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
    });
  }

  it('refuses: PREPARE then EXECUTE (SQL level)', async () => {
    await c.query("PREPARE p1 AS UPDATE orders SET status = 'x'");
    assert.equal(await refused(h, () => c.query('EXECUTE p1')), 'held');
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
  });

  it('refuses: protocol-level named statement', async () => {
    await refused(h, () => c.query({ name: 'w', text: 'UPDATE orders SET status = $1', values: ['x'] }));
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
  });

  it('refuses: redefining a prepared name (one namespace for SQL and protocol) cannot launder a write', async () => {
    await c.query("PREPARE twin AS UPDATE orders SET status = 'x'");
    // The upstream refuses the redefinition; Airlock must keep the UPDATE's classes for `twin`.
    await assert.rejects(
      c.query({ name: 'twin', text: 'SELECT 1' }),
      (e: Error & { code?: string }) => e.code === '42P05',
    );
    assert.equal(await refused(h, () => c.query('EXECUTE twin')), 'held');
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
  });

  it('refuses: a SET search_path rolled back does not move name resolution', async () => {
    await c.query('BEGIN');
    await c.query('SET search_path = scratch');
    await c.query('ROLLBACK');
    // PostgreSQL now resolves `orders` to public.orders again.
    await refused(h, () => c.query("UPDATE orders SET status = 'x'"));
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
  });

  it('allows what the policy allows: search_path to scratch writes scratch.orders only', async () => {
    await c.query('SET search_path = scratch');
    await c.query("INSERT INTO orders VALUES (1, 'scratch-row')");
    assert.equal(
      (await h.direct.query('SELECT status FROM scratch.orders WHERE id = 1')).rows[0].status,
      'scratch-row',
    );
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
    await c.query('RESET search_path');
  });

  it('a user-defined function is not a read: postgres:function, held (issue 21)', async () => {
    // Only stable/immutable built-ins and read_functions are reads (function-catalog.ts).
    await refused(h, () => c.query('SELECT public.sneaky()'));
    await refused(h, () => c.query('SELECT o.sneaky FROM orders o'));
    assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);
  });
});
