/**
 * Defense in depth (issue 21): PostgreSQL itself enforces "read". A classifier miss is
 * planted on purpose (nextval classified as a read, through a test-only patch of the
 * function catalog) and must fail at the upstream with its own 25006 error: in
 * autocommit, in the agent's own transaction, over the extended protocol and pipelined
 * right behind an allowed write. Allowed and approved writes still work.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { serialize } from 'pg-protocol';
import { FunctionCatalog } from '../../src/fronts/postgres/function-catalog.js';
import { pinnedStartupParams } from '../../src/fronts/postgres/session-settings.js';
import { connectUpstream } from '../../src/fronts/postgres/upstream-connection.js';
import { upstreamRoleWarnings } from '../../src/fronts/postgres/upstream-role-check.js';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';

const READ_ONLY = '25006';

/** Writes raw protocol bytes on a pg client's socket and collects what comes back. */
async function raw(h: PgHarness, bytes: Buffer, readies: number): Promise<string[]> {
  const c = await h.client();
  const conn = (c as unknown as { connection: pg.Connection & { stream: net.Socket } }).connection;
  const seen: string[] = [];
  conn.on('errorMessage', (m: { code?: string }) => seen.push(`E:${m.code}`));
  conn.on('commandComplete', (m: { text?: string }) => seen.push(`C:${m.text}`));
  conn.on('readyForQuery', () => seen.push('Z'));
  conn.stream.write(bytes);
  for (let i = 0; i < 200 && seen.filter((s) => s === 'Z').length < readies; i++)
    await new Promise((r) => setTimeout(r, 20));
  return seen;
}

describe('read-only upstream transactions stop a classifier miss', () => {
  let h: PgHarness;
  let c: pg.Client;
  const log: string[] = [];
  const isRead = FunctionCatalog.prototype.isRead;
  const seq = async () =>
    (await h.direct.query("SELECT last_value || ':' || is_called AS v FROM public.pay_seq")).rows[0].v;
  const notes = async (body: string) =>
    (await h.direct.query('SELECT count(*)::int AS n FROM scratch.notes WHERE body = $1', [body])).rows[0].n;

  before(async () => {
    h = await startPgHarness({ flags: ['-c', 'log_statement=all'], log: (l) => log.push(l) });
    await h.direct.query('CREATE SEQUENCE public.pay_seq');
    // The planted miss: a test-only hook on the allow-list, so nextval passes as a read.
    FunctionCatalog.prototype.isRead = function (schema, name, path) {
      return name === 'nextval' || isRead.call(this, schema, name, path);
    };
    c = await h.client();
  });
  after(async () => {
    FunctionCatalog.prototype.isRead = isRead;
    await h?.close();
  });

  it('autocommit: the planted miss runs upstream and PostgreSQL refuses it (25006)', async () => {
    await assert.rejects(c.query("SELECT nextval('pay_seq') AS planted_1"), { code: READ_ONLY });
    assert.equal(await seq(), '1:false');
    assert.ok(
      h.serverLog.some((l) => l.includes('statement:') && l.includes('planted_1')),
      'it reached PostgreSQL',
    );
    assert.ok(h.serverLog.some((l) => l.includes('cannot execute nextval() in a read-only transaction')));
  });

  it('extended protocol: refused by PostgreSQL too', async () => {
    await assert.rejects(c.query({ text: 'SELECT nextval($1) AS planted_2', values: ['pay_seq'] }), {
      code: READ_ONLY,
    });
    assert.equal(await seq(), '1:false');
  });

  it("inside the agent's own transaction block: refused by PostgreSQL", async () => {
    await c.query('BEGIN');
    await c.query('SELECT 1');
    await assert.rejects(c.query("SELECT nextval('pay_seq') AS planted_3"), { code: READ_ONLY });
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await assert.rejects(c.query("SELECT nextval('pay_seq') AS planted_4"), { code: READ_ONLY });
    await c.query('ROLLBACK');
    assert.equal(await seq(), '1:false');
  });

  it('pipelined right behind an allowed write (simple protocol): the write runs, the miss does not', async () => {
    const seen = await raw(
      h,
      Buffer.concat([
        serialize.query("INSERT INTO scratch.notes (body) VALUES ('pipelined-1')"),
        serialize.query("SELECT nextval('pay_seq') AS planted_5"),
        serialize.query("INSERT INTO scratch.notes (body) VALUES ('pipelined-2')"),
        serialize.query("SELECT nextval('pay_seq') AS planted_6"),
      ]),
      4,
    );
    assert.deepEqual(seen, [
      'C:INSERT 0 1',
      'Z',
      `E:${READ_ONLY}`,
      'Z',
      'C:INSERT 0 1',
      'Z',
      `E:${READ_ONLY}`,
      'Z',
    ]);
    assert.equal(await notes('pipelined-1'), 1);
    assert.equal(await notes('pipelined-2'), 1);
    assert.equal(await seq(), '1:false');
  });

  it('pipelined right behind an allowed write (extended protocol): the write runs, the miss does not', async () => {
    const stmt = (text: string) =>
      Buffer.concat([serialize.parse({ text }), serialize.bind({}), serialize.execute({}), serialize.sync()]);
    const seen = await raw(
      h,
      Buffer.concat([
        stmt("INSERT INTO scratch.notes (body) VALUES ('pipelined-3')"),
        stmt("SELECT nextval('pay_seq') AS planted_7"),
      ]),
      2,
    );
    assert.deepEqual(seen, ['C:INSERT 0 1', 'Z', `E:${READ_ONLY}`, 'Z']);
    assert.equal(await notes('pipelined-3'), 1);
    assert.equal(await seq(), '1:false');
  });

  it('after a write the session is read-only again; the agent sees a read-write session', async () => {
    await c.query("INSERT INTO scratch.notes (body) VALUES ('then-read')");
    assert.equal((await c.query('SHOW transaction_read_only')).rows[0].transaction_read_only, 'on');
    assert.equal(
      (await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only,
      'on',
    );
  });

  it('writes in blocks: write first, or BEGIN READ WRITE; a block that read first stays read-only', async () => {
    await c.query('BEGIN');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('block-1')");
    await c.query('SELECT 1');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('block-2')");
    await c.query('COMMIT');
    assert.equal(await notes('block-1'), 1);
    assert.equal(await notes('block-2'), 1);
    await c.query('BEGIN');
    await c.query('SELECT 1');
    await assert.rejects(c.query("INSERT INTO scratch.notes (body) VALUES ('block-3')"), { code: READ_ONLY });
    await c.query('ROLLBACK');
    await c.query('BEGIN READ WRITE');
    await c.query('SELECT 1');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('block-4')");
    await c.query('COMMIT');
    assert.equal(await notes('block-3'), 0);
    assert.equal(await notes('block-4'), 1);
    // Extended protocol, the same block shapes.
    await c.query('BEGIN');
    await c.query({ text: 'INSERT INTO scratch.notes (body) VALUES ($1)', values: ['block-5'] });
    await c.query({ text: 'SELECT $1::int', values: [1] });
    await c.query({ text: 'INSERT INTO scratch.notes (body) VALUES ($1)', values: ['block-6'] });
    await c.query('COMMIT');
    assert.equal(await notes('block-6'), 1);
  });

  it('known limit: in a block that has turned read-write, reads are guarded by the classifier alone', async () => {
    await c.query('BEGIN');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('limit')");
    await c.query("SELECT nextval('pay_seq') AS planted_8");
    await c.query('ROLLBACK');
    // Sequences are not transactional: the planted miss ran. Documented in docs/POSTGRES.md.
    assert.equal(await seq(), '1:true');
  });

  it('warns at startup that the upstream role is a superuser', async () => {
    for (let i = 0; i < 200 && !log.some((l) => l.includes('WARNING')); i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.ok(
      log.some((l) => /WARNING upstream role "postgres" is a superuser/.test(l)),
      log.join('\n'),
    );
  });

  it('the role check names the risky predefined roles, and is quiet for a least-privilege role', async () => {
    await h.direct.query("CREATE ROLE airlock_gw LOGIN PASSWORD 'gw-secret' NOSUPERUSER");
    const check = async () => {
      const up = await connectUpstream(
        {
          host: '127.0.0.1',
          port: h.upstreamPort,
          database: 'app',
          user: 'airlock_gw',
          tls: { mode: 'disable', caFile: undefined },
          password: async () => 'gw-secret',
          connectTimeoutMs: 5000,
        },
        pinnedStartupParams(),
      );
      try {
        return await upstreamRoleWarnings(up.socket, 'airlock_gw');
      } finally {
        up.socket.destroy();
      }
    };
    assert.deepEqual(await check(), []);
    await h.direct.query('GRANT pg_signal_backend, pg_read_server_files TO airlock_gw');
    assert.deepEqual(await check(), [
      'upstream role "airlock_gw" is a member of pg_read_server_files, pg_signal_backend',
    ]);
  });
});
