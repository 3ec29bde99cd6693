/**
 * Adversarial review of the Postgres front (a motivated agent's attacks). Each test
 * tries to get a write to public.* past the gate without approval and checks AT THE
 * UPSTREAM that nothing changed: Airlock's own view of the session (prepared names,
 * search_path, skip-until-Sync) must never drift from PostgreSQL's.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { joinActionOutcomes } from '../../src/ledger/action-outcomes.js';
import { decide, type PgHarness, startPgHarness } from '../support/pg-harness.js';

/** Sends raw frontend messages on an authenticated pg client's socket; resolves at the next ReadyForQuery. */
function raw(c: pg.Client, ...msgs: Buffer[]): Promise<string> {
  return rawUntil(c, 1, ...msgs);
}

/** As `raw`, until `zs` ReadyForQuery messages have arrived. */
function rawUntil(c: pg.Client, zs: number, ...msgs: Buffer[]): Promise<string> {
  const s = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
  s.removeAllListeners('data');
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`timeout: ${buf.toString('latin1')}`)), 10_000);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let pos = 0;
      let types = '';
      while (pos + 5 <= buf.length && pos + 1 + buf.readInt32BE(pos + 1) <= buf.length) {
        types += String.fromCharCode(buf[pos] as number);
        pos += 1 + buf.readInt32BE(pos + 1);
      }
      if ((types.match(/Z/g) ?? []).length >= zs) {
        clearTimeout(timer);
        s.removeAllListeners('data');
        resolve(`${types} ${buf.toString('latin1')}`);
      }
    });
    s.write(Buffer.concat(msgs));
  });
}

const SNAPSHOT = "SELECT string_agg(id || ':' || status, ',' ORDER BY id) AS s FROM public.orders";

type PgErr = Error & { code?: string };

/** Settles `run`; a hold (pending approval) is denied, so an unapproved statement always fails. */
async function outcome(h: PgHarness, run: () => Promise<unknown>): Promise<'ran' | 'held' | string> {
  const state: { done?: { ok: boolean; err?: PgErr } } = {};
  const settled = () => state.done;
  const p = run().then(
    () => {
      state.done = { ok: true };
    },
    (err: PgErr) => {
      state.done = { ok: false, err };
    },
  );
  for (let i = 0; i < 300; i++) {
    if (settled() !== undefined) break;
    const r = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    const pending = (r.body.approvals as Array<Record<string, unknown>>)[0];
    if (pending !== undefined) {
      await decide(h, String(pending.id), 'deny', 'adversarial review');
      await p;
      return 'held';
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  await p;
  const d = settled();
  return d?.ok === true ? 'ran' : (d?.err?.code ?? 'error');
}

describe('postgres front: adversarial review', () => {
  let h: PgHarness;
  let before0: string;
  before(async () => {
    h = await startPgHarness();
    before0 = (await h.direct.query(SNAPSHOT)).rows[0].s;
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.direct.query("UPDATE public.orders SET status = CASE id WHEN 3 THEN 'paid' ELSE 'new' END");
  });
  const unchanged = async () => assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);

  it('an upstream error in extended mode does not let the next statements through unchecked', async () => {
    const c = await h.client();
    await assert.rejects(c.query('SELECT * FROM no_such_table WHERE id = $1', [1]));
    const r1 = await outcome(h, () => c.query("UPDATE orders SET status = 'skip-simple'"));
    assert.notEqual(r1, 'ran');
    await unchanged();
    await assert.rejects(c.query('SELECT * FROM no_such_table WHERE id = $1', [1]));
    const r2 = await outcome(h, () => c.query('UPDATE orders SET status = $1', ['skip-extended']));
    assert.notEqual(r2, 'ran');
    await unchanged();
    await c.end();
  });

  it('a Parse the upstream rejected does not shadow a later SQL PREPARE of the same name', async () => {
    const c = await h.client();
    await assert.rejects(c.query({ name: 'w1', text: 'SELECT * FROM no_such_table' }));
    await c.query("PREPARE w1 AS UPDATE orders SET status = 'shadowed'").catch(() => undefined);
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w1')), 'ran');
    await unchanged();
    await c.end();
  });

  it('a pipelined PREPARE right after a failed Parse of the same name cannot launder a write', async () => {
    const c = await h.client();
    const run = () =>
      rawUntil(
        c,
        3,
        serialize.parse({ name: 'w6', text: 'SELECT * FROM no_such_table', types: [] }),
        serialize.sync(),
        serialize.query("PREPARE w6 AS UPDATE orders SET status = 'pipelined'"),
        serialize.query('EXECUTE w6'),
      ).then((r) => {
        if (/42501/.test(r)) throw Object.assign(new Error(r), { code: '42501' });
      });
    assert.notEqual(await outcome(h, run), 'ran');
    await unchanged();
    c.end().catch(() => undefined);
  });

  it('a DEALLOCATE or Close that never ran upstream does not free the name in Airlock', async () => {
    const c = await h.client();
    await c.query("PREPARE w2 AS UPDATE orders SET status = 'dealloc'");
    await assert.rejects(c.query('SELECT 1/0; DEALLOCATE w2'));
    // The upstream still holds w2 (the UPDATE) and refuses this Parse with 42P05 ...
    assert.match(await raw(c, serialize.parse({ name: 'w2', text: 'SELECT 1' }), serialize.sync()), /42P05/);
    // ... so a Bind of w2 must be gated as the UPDATE, not as SELECT 1.
    const run = () =>
      raw(c, serialize.bind({ statement: 'w2' }), serialize.execute({}), serialize.sync()).then((r) => {
        if (/42501/.test(r)) throw Object.assign(new Error(r), { code: '42501' });
      });
    assert.notEqual(await outcome(h, run), 'ran');
    await unchanged();
    // Close skipped by the upstream (after an error in the same batch) frees nothing either.
    const c2 = await h.client();
    await c2.query("PREPARE w2b AS UPDATE orders SET status = 'close'");
    await raw(
      c2,
      serialize.parse({ text: 'SELECT * FROM no_such_table', types: [] }),
      serialize.close({ type: 'S', name: 'w2b' }),
      serialize.sync(),
    );
    assert.match(
      await raw(c2, serialize.parse({ name: 'w2b', text: 'SELECT 1' }), serialize.sync()),
      /42P05/,
    );
    const run2 = () =>
      raw(c2, serialize.bind({ statement: 'w2b' }), serialize.execute({}), serialize.sync()).then((r) => {
        if (/42501/.test(r)) throw Object.assign(new Error(r), { code: '42501' });
      });
    assert.notEqual(await outcome(h, run2), 'ran');
    await unchanged();
    c2.end().catch(() => undefined);
    c.end().catch(() => undefined);
  });

  it('a prepared statement follows the current search_path, as PostgreSQL re-plans it', async () => {
    const c = await h.client();
    await c.query('SET search_path = scratch');
    await c.query("PREPARE w3 AS UPDATE orders SET status = 'path'");
    await c.query('SET search_path = public');
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w3')), 'ran');
    await unchanged();
    await c.query('SET search_path = scratch');
    await c.query({ name: 'w4', text: "UPDATE orders SET status = 'path-protocol'" });
    await c.query('SET search_path = public');
    assert.notEqual(
      await outcome(h, () => c.query({ name: 'w4', text: "UPDATE orders SET status = 'path-protocol'" })),
      'ran',
    );
    await unchanged();
    await c.end();
  });

  it('PREPARE after SET search_path in the same string resolves against the new path', async () => {
    const c = await h.client();
    await c.query('SET search_path = scratch');
    await c.query("SET search_path = public; PREPARE w5 AS UPDATE orders SET status = 'same-string'");
    await c.query('SET search_path = scratch');
    await c.query('SET search_path = public');
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w5')), 'ran');
    await unchanged();
    await c.end();
  });

  it('ts_stat / ts_rewrite run the SQL they are given: a side-effecting call hides inside', async () => {
    await h.direct.query('CREATE SEQUENCE IF NOT EXISTS public.ticket_no');
    const seq = 'SELECT last_value AS v FROM public.ticket_no';
    const hidden = "SELECT * FROM ts_stat('SELECT to_tsvector(setval(''public.ticket_no'', 4242)::text)')";
    // The threat is real: the upstream runs setval() inside ts_stat's query text.
    await h.direct.query('BEGIN');
    await h.direct.query(hidden);
    assert.equal((await h.direct.query(seq)).rows[0].v, '4242');
    await h.direct.query('ROLLBACK');
    const before1 = (await h.direct.query(seq)).rows[0].v;
    const c = await h.client();
    assert.equal(await outcome(h, () => c.query(hidden)), 'held');
    assert.equal(
      await outcome(h, () =>
        c.query("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')"),
      ),
      'held',
    );
    assert.equal((await h.direct.query(seq)).rows[0].v, before1);
    await c.end();
  });

  it('nextval changes a sequence: held like setval', async () => {
    await h.direct.query('CREATE SEQUENCE IF NOT EXISTS public.invoice_no');
    const seq = "SELECT last_value || ':' || is_called AS v FROM public.invoice_no";
    const before1 = (await h.direct.query(seq)).rows[0].v;
    const c = await h.client();
    assert.equal(await outcome(h, () => c.query("SELECT nextval('public.invoice_no')")), 'held');
    assert.equal((await h.direct.query(seq)).rows[0].v, before1);
    await c.end();
  });

  it('INSERT ... ON CONFLICT DO UPDATE needs the update, not just the insert', async () => {
    await h.direct.query(
      'CREATE SCHEMA IF NOT EXISTS books; CREATE TABLE IF NOT EXISTS books.ledger (id int PRIMARY KEY, entry text)',
    );
    await h.direct.query("INSERT INTO books.ledger VALUES (1, 'original') ON CONFLICT DO NOTHING");
    const c = await h.client();
    await c.query("INSERT INTO books.ledger VALUES (2, 'appended') ON CONFLICT DO NOTHING");
    const r = await outcome(h, () =>
      c.query("INSERT INTO books.ledger VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET entry = 'rewritten'"),
    );
    assert.equal(r, '42501');
    const rows = await h.direct.query('SELECT entry FROM books.ledger WHERE id = 1');
    assert.equal(rows.rows[0].entry, 'original');
    await c.end();
  });

  it('NOTIFY reaches other sessions: held like pg_notify()', async () => {
    const listener = new pg.Client({
      host: '127.0.0.1',
      port: h.upstreamPort,
      user: 'postgres',
      password: 'upstream-secret-for-tests-only',
      database: 'app',
    });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(String(n.payload)));
    await listener.query('LISTEN jobs');
    const c = await h.client();
    assert.equal(await outcome(h, () => c.query("NOTIFY jobs, 'purge-all'")), 'held');
    await listener.query('SELECT 1');
    assert.deepEqual(heard, []);
    await listener.end();
    await c.end();
  });

  it('settings off the everyday list (session_replication_role turns off triggers) are admin', async () => {
    const c = await h.client();
    assert.equal(await outcome(h, () => c.query('SET session_replication_role = replica')), 'held');
    assert.equal((await c.query('SHOW session_replication_role')).rows[0].session_replication_role, 'origin');
    await c.query('SET statement_timeout = 5000'); // an everyday setting still passes
    await c.end();
  });

  it('two-phase commit statements (COMMIT/ROLLBACK PREPARED of any session) are admin', async () => {
    const c = await h.client();
    assert.equal(await outcome(h, () => c.query("ROLLBACK PREPARED 'other-app-tx'")), 'held');
    await c.end();
  });

  it('a startup search_path is read as PostgreSQL reads it (unquoted names fold to lower case)', async () => {
    const c = await h.client({ options: '-c search_path=PUBLIC' });
    // PostgreSQL resolves `orders` to public.orders: the public-writes hold must apply.
    assert.equal(await outcome(h, () => c.query("UPDATE orders SET status = 'upper'")), 'held');
    await unchanged();
    await c.end();
  });

  it('an unauthenticated peer cannot make Airlock buffer a huge SASL message', async () => {
    const s = net.connect(h.port, '127.0.0.1');
    const params = Buffer.from(`user\0${h.agent.name}\0database\0app\0\0`);
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    let got = Buffer.alloc(0);
    const closed = new Promise<void>((res) => s.on('close', () => res()));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got[0] === 0x52 && got.length >= 9 && !s.writableEnded) {
        // AuthenticationSASL arrived: announce a 60 MB SASLInitialResponse and send only its header.
        const hdr = Buffer.alloc(5);
        hdr[0] = 0x70;
        hdr.writeInt32BE(60 * 1024 * 1024, 1);
        s.write(hdr);
      }
    });
    s.on('error', () => undefined);
    s.write(startup);
    await closed;
    assert.match(got.toString('latin1'), /08P01/);
  });

  it('a client_encoding whose bytes Airlock would read differently (SJIS) is refused', async () => {
    await h.direct.query('CREATE SEQUENCE IF NOT EXISTS public.sjis_seq');
    const oid = (await h.direct.query("SELECT 'public.sjis_seq'::regclass::oid AS o")).rows[0].o;
    const seq = 'SELECT last_value AS v FROM public.sjis_seq';
    const before1 = (await h.direct.query(seq)).rows[0].v;
    // 0x81 0x5C is one SJIS character: to a UTF-8 reader the 0x5C escapes the quote and the
    // setval() is inside a string literal (then a -- comment); to PostgreSQL, converting
    // from SJIS, it is a call. A Parse is forwarded byte for byte.
    const text = Buffer.concat([
      Buffer.from("SELECT E'"),
      Buffer.from([0x81, 0x5c]),
      Buffer.from(`' , setval(${oid}::regclass, 4242) , '--'`),
    ]);
    const parse = Buffer.concat([Buffer.from('P\0\0\0\0\0'), text, Buffer.from([0, 0, 0])]);
    parse.writeInt32BE(parse.length - 1, 1);
    const batch = [parse, serialize.bind({}), serialize.execute({}), serialize.sync()];
    const c = await h.client();
    const set = await c.query("SET client_encoding = 'SJIS'").then(
      () => 'ran',
      (e: PgErr) => e.code,
    );
    await raw(c, ...batch).catch(() => undefined);
    assert.equal((await h.direct.query(seq)).rows[0].v, before1, 'setval ran unseen');
    assert.equal(set, '0A000');
    const c2 = await h.client();
    await assert.rejects(c2.query("SET NAMES 'big5'"), (e: PgErr) => e.code === '0A000');
    await assert.rejects(h.client({ options: '-c client_encoding=SJIS' }), (e: PgErr) => e.code === '0A000');
  });

  it('a statement forwarded before the agent disconnects is recorded even though no answer came', async () => {
    const c = await h.client();
    const marker = `gone-${Date.now()}`;
    const s = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
    s.write(serialize.query(`INSERT INTO scratch.notes (body) SELECT '${marker}' FROM pg_sleep(0.5)`));
    await new Promise((r) => setTimeout(r, 150));
    s.destroy();
    // The upstream finishes the INSERT (autocommit) although the agent is gone.
    let n = 0;
    for (let i = 0; i < 100 && n === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      n = (await h.direct.query('SELECT count(*)::int AS n FROM scratch.notes WHERE body = $1', [marker]))
        .rows[0].n;
    }
    assert.equal(n, 1);
    let found: string | undefined;
    // The intent is recorded before the statement is sent; its outcome follows (joined for readers).
    for (let i = 0; i < 100 && !/may have run/.test(found ?? ''); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const entries = joinActionOutcomes(await h.airlock.store.ledger({ agent: h.agent.name }));
      found = entries.find((e) => e.kind === 'action' && e.body.includes(marker))?.body;
    }
    assert.ok(found, 'the INSERT that ran has an action record');
    assert.match(found ?? '', /may have run/);
  });
});
