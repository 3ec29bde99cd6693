/**
 * Issue 21: statements a read-only agent got past the classifier, each run through
 * `pg` against a real PostgreSQL 18 with `log_statement=all`. Every case asserts the
 * upstream's state (sequence, tables, rows, the other backend, locks, large objects)
 * and the upstream's statement log, not only Airlock's answer.
 * Policy (test/fixtures/policies/postgres.cedar): reads and control allowed, writes to
 * public held, admin (functions, DDL) held; the test's approver denies every hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type PgHarness, startPgHarness, UPSTREAM_PASSWORD } from '../support/pg-harness.js';
import { refused } from '../support/pg-refused.js';

const SETUP = `
  CREATE SEQUENCE public.payments_seq;
  CREATE TABLE public.payments (id int PRIMARY KEY, amount int);
  INSERT INTO public.payments VALUES (1, 10), (2, 20), (3, 30);
  CREATE INDEX payments_brin ON public.payments USING brin (id);
  CREATE EXTENSION pg_trgm;
  CREATE INDEX payments_gin ON public.payments USING gin ((amount::text) gin_trgm_ops);
  CREATE EXTENSION tablefunc;
  CREATE EXTENSION pg_surgery;
  CREATE EXTENSION xml2;
  CREATE FUNCTION public.bump_op(int, int) RETURNS int VOLATILE LANGUAGE sql
    AS $$ SELECT nextval('public.payments_seq')::int $$;
  CREATE OPERATOR public.#%# (LEFTARG = int, RIGHTARG = int, FUNCTION = public.bump_op);
  CREATE TYPE public.bumped AS (v int);
  CREATE FUNCTION public.bump_cast(int) RETURNS public.bumped VOLATILE LANGUAGE sql
    AS $$ SELECT row(nextval('public.payments_seq')::int)::public.bumped $$;
  CREATE CAST (int AS public.bumped) WITH FUNCTION public.bump_cast(int);
`;

interface Upstream {
  seq: string;
  payments: string;
  orders: string;
  tables: string;
  advisory: number;
  largeObjects: number;
}

async function upstream(h: PgHarness): Promise<Upstream> {
  const q = async (sql: string) => (await h.direct.query(sql)).rows[0]?.v;
  return {
    seq: await q("SELECT last_value || ':' || is_called AS v FROM public.payments_seq"),
    payments: await q("SELECT string_agg(id || ':' || amount, ',' ORDER BY id) AS v FROM public.payments"),
    orders: await q("SELECT string_agg(id || ':' || status, ',' ORDER BY id) AS v FROM public.orders"),
    tables: await q(
      "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') AS v FROM pg_class WHERE relname LIKE 'evil%'",
    ),
    advisory: Number(await q("SELECT count(*) AS v FROM pg_locks WHERE locktype = 'advisory'")),
    largeObjects: Number(await q('SELECT count(*) AS v FROM pg_largeobject_metadata')),
  };
}

describe('issue 21: classifier holes, checked at the upstream', () => {
  let h: PgHarness;
  let c: pg.Client;
  let victim: pg.Client;
  let victimPid: number;
  let baseline: Upstream;

  before(async () => {
    h = await startPgHarness({ flags: ['-c', 'log_statement=all'], setupSql: SETUP });
    victim = new pg.Client({
      host: '127.0.0.1',
      port: h.upstreamPort,
      user: 'postgres',
      password: UPSTREAM_PASSWORD,
      database: 'app',
    });
    victim.on('error', () => undefined);
    await victim.connect();
    victimPid = (await victim.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    baseline = await upstream(h);
    c = await h.client();
  });
  after(async () => {
    await victim?.end().catch(() => undefined);
    await h?.close();
  });

  /** The statement never reached the upstream (its distinctive text is not in the log). */
  const neverRan = (marker: string) =>
    assert.ok(
      !h.serverLog.some((l) => l.includes('statement:') && l.includes(marker)),
      `the upstream ran a statement containing ${marker}`,
    );
  const unchanged = async () => {
    assert.deepEqual(await upstream(h), baseline);
    assert.equal((await victim.query('SELECT 1 AS one')).rows[0].one, 1, 'the other backend is alive');
  };

  const attribute: Array<[string, string]> = [
    ['nextval', "select ('payments_seq'::regclass).nextval AS evil_a1"],
    ['lo_import', "select ('/etc/hostname'::text).lo_import AS evil_a2"],
    ['lo_create', 'select (0::oid).lo_create AS evil_a3'],
    ['lo_unlink', 'select (424242::oid).lo_unlink AS evil_a4'],
    ['pg_terminate_backend', 'select (%PID%).pg_terminate_backend AS evil_a5'],
    ['pg_cancel_backend', 'select (%PID%).pg_cancel_backend AS evil_a6'],
    ['pg_read_file', "select ('/etc/hostname'::text).pg_read_file AS evil_a7"],
    ['pg_ls_dir', "select ('.'::text).pg_ls_dir AS evil_a8"],
    ['pg_advisory_lock', 'select (42::bigint).pg_advisory_lock AS evil_a9'],
    ['pg_create_restore_point', "select ('rp'::text).pg_create_restore_point AS evil_a10"],
    ['rel.fn from a function in FROM', "select s.nextval AS evil_a11 from to_regclass('payments_seq') s"],
    ['in WHERE', "select 1 AS evil_a12 from payments where ('payments_seq'::regclass).nextval > 0"],
    ['in ORDER BY', "select id AS evil_a13 from payments order by ('payments_seq'::regclass).nextval"],
    ['in a CTE', "with w AS (select ('payments_seq'::regclass).nextval AS evil_a14) select * from w"],
    [
      'in LATERAL',
      "select * from payments p, lateral (select ('payments_seq'::regclass).nextval AS evil_a15) l",
    ],
    ['inside EXPLAIN ANALYZE', "explain analyze select ('payments_seq'::regclass).nextval AS evil_a16"],
    [
      'rel.fn of a whole row',
      'select x.pg_terminate_backend AS evil_a17 from (select %PID% AS pid) t, lateral (select t.pid) x(p)',
    ],
  ];
  for (const [name, sql] of attribute)
    it(`1. attribute notation: ${name}`, async () => {
      const text = sql.replaceAll('%PID%', String(victimPid));
      await refused(h, () => c.query(text));
      neverRan(text.match(/evil_a\d+/)?.[0] ?? text);
      await unchanged();
    });

  it('1. attribute notation through a DECLARE ... WITH HOLD cursor', async () => {
    await refused(h, () =>
      c.query("declare evil_cur cursor with hold for select ('payments_seq'::regclass).nextval"),
    );
    neverRan('evil_cur');
    await unchanged();
  });

  it('1. attribute notation over the extended protocol', async () => {
    await refused(h, () =>
      c.query({ text: 'select ($1::regclass).nextval AS evil_x1', values: ['payments_seq'] }),
    );
    neverRan('evil_x1');
    await unchanged();
  });

  const into: Array<[string, string]> = [
    ['UNION', 'select * into evil_t1 from payments union select * from payments'],
    ['temp', 'select * into temp evil_t2 from payments union select * from payments'],
    ['unlogged', 'select * into unlogged evil_t3 from payments union all select * from payments'],
    ['INTERSECT', 'select * into evil_t4 from payments intersect select * from payments'],
    [
      'EXCEPT, nested',
      '(select * into evil_t5 from payments union select * from payments) except select 0, 0',
    ],
    ['EXPLAIN ANALYZE', 'explain analyze select * into evil_t6 from payments union select * from payments'],
  ];
  for (const [name, sql] of into)
    it(`2. SELECT INTO inside a set operation: ${name}`, async () => {
      await refused(h, () => c.query(sql));
      neverRan(sql.match(/evil_t\d/)?.[0] ?? sql);
      await unchanged();
    });

  it('2. SELECT INTO inside a set operation, extended protocol', async () => {
    await refused(h, () =>
      c.query({
        text: 'select * into evil_t7 from payments where id > $1 union select * from payments',
        values: [0],
      }),
    );
    neverRan('evil_t7');
    await unchanged();
  });

  it('3. standard_conforming_strings and the other lexing settings are pinned (55P02)', async () => {
    for (const sql of [
      'set standard_conforming_strings = off',
      'set standard_conforming_strings to false',
      'set backslash_quote = on',
      'set escape_string_warning = off',
      "select set_config('standard_conforming_strings', 'off', false)",
      "select set_config(lower('STANDARD_CONFORMING_STRINGS'), 'off', false)",
      "select set_config('client_encoding', 'SJIS', false)",
      'set default_transaction_read_only = off',
      'set session characteristics as transaction read write',
    ])
      await assert.rejects(c.query(sql), { code: '55P02' }, sql);
    await assert.rejects(
      c.query({ text: "select set_config('standard_conforming_strings', $1, false)", values: ['off'] }),
      { code: '55P02' },
    );
    let recorded = false;
    for (let i = 0; i < 100 && !recorded; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const entries = await h.airlock.store.ledger({ agent: h.agent.name });
      recorded = entries.some((e) => e.kind === 'action' && e.body.includes('pinned-setting'));
    }
    assert.ok(recorded, 'a refused change of a pinned setting is recorded');
    await c.query('BEGIN');
    await assert.rejects(c.query('set local standard_conforming_strings = off'), { code: '55P02' });
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await assert.rejects(c.query('set transaction read write'), { code: '55P02' });
    await c.query('ROLLBACK');
    // Setting them to the pinned value, or back to it, changes nothing and is allowed.
    await c.query('set standard_conforming_strings = on');
    await c.query('RESET ALL');
    await c.query('RESET standard_conforming_strings');
    assert.equal(
      (await c.query('SHOW standard_conforming_strings')).rows[0].standard_conforming_strings,
      'on',
    );
    assert.equal((await c.query('SHOW backslash_quote')).rows[0].backslash_quote, 'safe_encoding');
    // The differential: with the setting on, this is one SELECT of two strings, for both readers.
    const r = await c.query("select 'x\\' , $$ ' ; delete from payments ; -- $$ AS evil_s");
    assert.equal(r.rows.length, 1);
    await unchanged();
  });

  it('3. the lexing settings cannot come in a startup option either', async () => {
    await assert.rejects(
      h.client({ options: '-c standard_conforming_strings=off' }),
      /not passed through Airlock/,
    );
    await assert.rejects(
      h.client({ options: '-c default_transaction_read_only=off' }),
      /not passed through Airlock/,
    );
  });

  const storage: Array<[string, string]> = [
    ['brin_summarize_new_values', "select brin_summarize_new_values('payments_brin') AS evil_b1"],
    ['brin_summarize_range', "select brin_summarize_range('payments_brin', 0) AS evil_b2"],
    ['brin_desummarize_range', "select brin_desummarize_range('payments_brin', 0) AS evil_b3"],
    ['gin_clean_pending_list', "select gin_clean_pending_list('payments_gin') AS evil_b4"],
    [
      'gin_clean_pending_list, attribute notation',
      "select ('payments_gin'::regclass).gin_clean_pending_list AS evil_b5",
    ],
  ];
  for (const [name, sql] of storage)
    it(`4. side-effecting built-in: ${name}`, async () => {
      await refused(h, () => c.query(sql));
      neverRan(sql.match(/evil_b\d/)?.[0] ?? sql);
      await unchanged();
    });

  it('5. tablefunc crosstab runs its SQL argument: not a read', async () => {
    const sql =
      "select * from crosstab('select 1::int, 1::int, nextval(''payments_seq'')::int') AS evil_c1(r int, a int)";
    await refused(h, () => c.query(sql));
    neverRan('evil_c1');
    await unchanged();
  });

  it('5. pg_surgery heap_force_kill destroys a row: not a read', async () => {
    const sql = "select heap_force_kill('payments'::regclass, array['(0,1)']::tid[]) AS evil_c2";
    await refused(h, () => c.query(sql));
    neverRan('evil_c2');
    await unchanged();
  });

  it('5. xml2 xpath_table runs SQL from its last argument: not a read', async () => {
    const sql =
      "select * from xpath_table('id', 'status', 'orders', '/x', 'true; delete from orders; select 1') AS evil_c3(id int, x text)";
    await refused(h, () => c.query(sql));
    neverRan('evil_c3');
    await unchanged();
  });

  it('operators and casts with a volatile function behind them are not reads', async () => {
    await refused(h, () => c.query('select 1 #%# 2 AS evil_o1'));
    await refused(h, () => c.query('select 1 OPERATOR(public.#%#) 2 AS evil_o2'));
    await refused(h, () => c.query('select (1::public.bumped).v AS evil_o3'));
    await refused(h, () => c.query('select cast(1 AS bumped) AS evil_o4'));
    for (const m of ['evil_o1', 'evil_o2', 'evil_o3', 'evil_o4']) neverRan(m);
    await unchanged();
  });

  it('6. a Query message with a NUL byte gets ErrorResponse, then ReadyForQuery', async () => {
    // pg reports an error it did not ask for as a connection error: a client of its own.
    const nul = await h.client();
    const conn = (nul as unknown as { connection: pg.Connection & { stream: import('node:net').Socket } })
      .connection;
    const seen: string[] = [];
    const onError = (m: { code?: string }) => seen.push(`E:${m.code}`);
    const onReady = () => seen.push('Z');
    conn.on('errorMessage', onError);
    conn.on('readyForQuery', onReady);
    const body = Buffer.from('select 1\0delete from payments /* evil_n1 */\0', 'utf8');
    const msg = Buffer.alloc(5 + body.length);
    msg[0] = 0x51;
    msg.writeInt32BE(4 + body.length, 1);
    body.copy(msg, 5);
    conn.stream.write(msg);
    for (let i = 0; i < 100 && !seen.includes('Z'); i++) await new Promise((r) => setTimeout(r, 20));
    conn.off('errorMessage', onError);
    conn.off('readyForQuery', onReady);
    assert.deepEqual(seen, ['E:08P01', 'Z']);
    neverRan('evil_n1');
    await unchanged();
  });

  it('ordinary reads still pass: built-ins, attribute notation of stable functions, psql-style catalog queries', async () => {
    const r = await c.query(
      "select now() IS NOT NULL AS a, (p.amount).numeric AS n, lower('X'), count(*) over () from payments p where p.id = 1",
    );
    assert.equal(r.rows.length, 1);
    await c.query(
      "select pg_catalog.format_type(a.atttypid, a.atttypmod), pg_catalog.pg_get_userbyid(c.relowner), pg_size_pretty(pg_table_size(c.oid)) from pg_class c join pg_attribute a on a.attrelid = c.oid where c.relname = 'payments' and a.attnum > 0",
    );
  });
});
