/**
 * Wire protocol through the Postgres front with unmodified clients: `pg` (simple and
 * extended query), Debian's `psql` (TLS, COPY in/out), raw sockets for pipelining,
 * GSSENCRequest, malformed input and messages split into 1-byte TCP chunks.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { createAgent } from '../../src/admin.js';
import { openMasterKey } from '../../src/app.js';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';
import { PROCESS_START_MS } from '../support/timing.js';

const PSQL = '/usr/bin/psql';

/** Runs Debian's psql asynchronously (the gateway under test lives in this process). */
function psql(
  h: PgHarness,
  args: string[],
  opts: { sslmode?: string; input?: string; password?: string } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(
    PSQL,
    [
      `host=127.0.0.1 port=${h.port} user=${h.agent.name} dbname=app sslmode=${opts.sslmode ?? 'require'}`,
      '-X',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      ...args,
    ],
    {
      env: { ...process.env, PGPASSWORD: opts.password ?? h.agent.secretAccessKey, PGCONNECT_TIMEOUT: '10' },
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill(), PROCESS_START_MS);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: out.trim(), err: err.trim() });
    }),
  );
}

/** A TCP relay that re-sends every client byte as its own chunk: messages arrive split everywhere. */
async function splittingRelay(target: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(target, '127.0.0.1');
    up.setNoDelay(true);
    sockets.add(client).add(up);
    let chain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      for (const byte of chunk)
        chain = chain.then(
          () => new Promise<void>((r) => up.write(Buffer.from([byte]), () => setImmediate(r))),
        );
    });
    up.pipe(client);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Reads raw bytes until `done(bytes)` says enough. */
function readUntil(s: net.Socket, done: (b: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`timeout; got ${buf.toString('latin1')}`)), 5000);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (done(buf)) {
        clearTimeout(timer);
        resolve(buf);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(buf);
    });
  });
}

/** Message types of a backend byte stream. */
function types(b: Buffer): string {
  let out = '';
  let pos = 0;
  while (pos + 5 <= b.length) {
    out += String.fromCharCode(b[pos] as number);
    pos += 1 + b.readInt32BE(pos + 1);
  }
  return out;
}

describe('postgres wire protocol', () => {
  let h: PgHarness;
  before(async () => {
    h = await startPgHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('pg: simple and extended queries, NULL and typed parameters, upstream errors keep their SQLSTATE', async () => {
    const c = await h.client();
    const r = await c.query('SELECT $1::int + 1 AS n, $2::text AS t, $3::text IS NULL AS isnull', [
      41,
      'x',
      null,
    ]);
    assert.deepEqual(r.rows[0], { n: 42, t: 'x', isnull: true });
    const multi = (await c.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[];
    assert.equal(multi.length, 2);
    await assert.rejects(c.query('SELECT 1/0'), (e: Error & { code?: string }) => e.code === '22012');
    await assert.rejects(
      c.query('SELECT * FROM no_such_table'),
      (e: Error & { code?: string }) => e.code === '42P01',
    );
    for (let i = 0; i < 3; i++) {
      const n = await c.query({
        name: 'by-id',
        text: 'SELECT status FROM orders WHERE id = $1',
        values: [i + 1],
      });
      assert.equal(n.rows.length, 1);
    }
    const empty = await c.query('');
    assert.equal(empty.rows.length, 0);
    // Our BackendKeyData, not the upstream's.
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    assert.notEqual(pid, (c as unknown as { processID: number }).processID);
    assert.match((await c.query('SHOW server_version')).rows[0].server_version, /^\d+/);
    await c.end();
  });

  it('psql over TLS (self-signed certificate from the data dir) and without', async () => {
    const tlsOut = await psql(h, ['-c', '\\conninfo', '-c', 'SELECT count(*) FROM orders']);
    assert.equal(tlsOut.code, 0, tlsOut.err);
    assert.match(
      tlsOut.out,
      /SSL connection \(protocol: TLSv1\.[23]/,
      'the agent-facing session is encrypted',
    );
    assert.match(tlsOut.out, /\n3$/);
    const plain = await psql(h, ['-c', 'SELECT 7'], { sslmode: 'disable' });
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, '7');
  });

  it('psql meta-commands still pass as reads (issue 21: functions by allow-list, read-only transactions)', async () => {
    const cmds = [
      '\\d',
      '\\d orders',
      '\\d+ orders',
      '\\dt+',
      '\\df',
      '\\dn+',
      '\\du',
      '\\dv',
      '\\di',
      '\\dx',
      '\\sf pg_catalog.lower(text)',
    ];
    const r = await psql(
      h,
      cmds.flatMap((c) => ['-c', c]),
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /orders/);
  });

  it('psql: wrong password, unknown and revoked agents are refused with 28P01', async () => {
    const bad = await psql(h, ['-c', 'SELECT 1'], { password: 'wrong' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /password authentication failed for user "billing-bot"/);
    const other = await createAgent(h.airlock.store, openMasterKey(h.config), 'retired-bot');
    const ok = new pg.Client({
      host: '127.0.0.1',
      port: h.port,
      user: other.name,
      password: other.secretAccessKey,
      database: 'app',
    });
    ok.on('error', () => undefined);
    await ok.connect();
    await ok.query('SELECT 1');
    await h.airlock.store.revokeAgent(other.name, new Date());
    await new Promise((r) => setTimeout(r, 1100)); // open sessions re-check the agent every second
    await assert.rejects(ok.query('SELECT 1'), /revoked/);
    const again = new pg.Client({
      host: '127.0.0.1',
      port: h.port,
      user: other.name,
      password: other.secretAccessKey,
      database: 'app',
    });
    await assert.rejects(again.connect(), (e: Error & { code?: string }) => e.code === '28P01');
    const nobody = new pg.Client({
      host: '127.0.0.1',
      port: h.port,
      user: 'nobody',
      password: 'x',
      database: 'app',
    });
    await assert.rejects(nobody.connect(), (e: Error & { code?: string }) => e.code === '28P01');
  });

  it('psql: COPY FROM STDIN and COPY TO STDOUT pass through', async () => {
    const copyIn = await psql(h, ['-c', 'COPY scratch.notes (body) FROM STDIN'], {
      input: 'copied-1\ncopied-2\n',
    });
    assert.equal(copyIn.code, 0, copyIn.err);
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body LIKE 'copied-%'");
    assert.equal(n.rows[0].n, 2);
    const copyOut = await psql(h, ['-c', 'COPY (SELECT id FROM orders ORDER BY id) TO STDOUT']);
    assert.equal(copyOut.code, 0, copyOut.err);
    assert.equal(copyOut.out, '1\n2\n3');
  });

  it('every message split into 1-byte TCP chunks (startup, SCRAM, queries)', async () => {
    const relay = await splittingRelay(h.port);
    try {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: relay.port,
        user: h.agent.name,
        password: h.agent.secretAccessKey,
        database: 'app',
      });
      await c.connect();
      assert.equal((await c.query('SELECT $1::text AS v', ['split'])).rows[0].v, 'split');
      assert.equal((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n, 3);
      await c.end();
    } finally {
      await relay.close();
    }
  });

  it('pipelined extended queries (named and unnamed statements and portals) in one write', async () => {
    const c = await h.client();
    // Drive the raw socket of an authenticated pg client.
    const s = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
    s.removeAllListeners('data');
    const batch = Buffer.concat([
      serialize.parse({ name: 's1', text: 'SELECT $1::int * 2 AS d', types: [] }),
      serialize.bind({ statement: 's1', portal: 'p1', values: ['21'] }),
      serialize.describe({ type: 'P', name: 'p1' }),
      serialize.execute({ portal: 'p1' }),
      serialize.parse({ text: 'SELECT id FROM orders ORDER BY id', types: [] }),
      serialize.bind({}),
      serialize.execute({ rows: 2 }),
      serialize.execute({}),
      serialize.close({ type: 'S', name: 's1' }),
      serialize.sync(),
      serialize.parse({ text: 'SELECT 1/0', types: [] }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
      serialize.flush(),
      serialize.query('SELECT 5'),
    ]);
    const got = readUntil(s, (b) => (types(b).match(/Z/g) ?? []).length >= 3);
    s.write(batch);
    const t = types(await got);
    assert.equal(t, '12TDC12DDsDC3Z' + '1EZ' + 'TDCZ');
    s.destroy();
  });

  it('a refusal inside a pipelined batch aborts the implicit transaction, as an error would', async () => {
    const c = await h.client();
    const s = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
    s.removeAllListeners('data');
    const got = readUntil(s, (b) => types(b).endsWith('Z'));
    s.write(
      Buffer.concat([
        serialize.parse({ text: "INSERT INTO scratch.notes (body) VALUES ('batch-1')", types: [] }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.parse({ text: 'TRUNCATE orders', types: [] }), // forbidden by policy: refused at once
        serialize.bind({}),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    const bytes = await got;
    assert.equal(types(bytes), '12CEZ');
    assert.match(bytes.toString('latin1'), /42501/);
    assert.match(bytes.toString('latin1'), /pg-no-truncate/);
    assert.doesNotMatch(bytes.toString('latin1'), /airlock_refused_/, 'the upstream error is replaced');
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body = 'batch-1'");
    assert.equal(n.rows[0].n, 0, 'the allowed INSERT of the batch was rolled back with it');
    s.destroy();
  });

  it('GSSENCRequest is answered N; malformed input gets an ErrorResponse with SQLSTATE 08P01', async () => {
    const s = net.connect(h.port, '127.0.0.1');
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    const answer = readUntil(s, (b) => b.length >= 1);
    s.write(gss);
    assert.equal((await answer).toString('latin1'), 'N');
    s.destroy();

    const bad = net.connect(h.port, '127.0.0.1');
    const err = readUntil(bad, (b) => b.includes(0) && b.length > 10);
    const junk = Buffer.alloc(8);
    junk.writeInt32BE(2_000_000, 0);
    bad.write(junk);
    const e = (await err).toString('latin1');
    assert.match(e, /^E/);
    assert.match(e, /08P01/);
    bad.destroy();

    const c = await h.client();
    const stream = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
    stream.removeAllListeners('data');
    const resp = readUntil(stream, (b) => b.length > 5);
    stream.write(Buffer.from([0x7a, 0, 0, 0, 4])); // 'z': no such message
    const r = (await resp).toString('latin1');
    assert.match(r, /08P01/);
    assert.match(r, /invalid frontend message type/);
  });

  it('large messages both ways: a 12 MB parameter and a 20 MB result', async () => {
    const c = await h.client();
    const big = 'y'.repeat(12 * 1024 * 1024);
    assert.equal((await c.query('SELECT length($1::text) AS n', [big])).rows[0].n, big.length);
    const r = await c.query("SELECT repeat('x', 1000) AS s FROM generate_series(1, 20000)");
    assert.equal(r.rows.length, 20000);
    await c.end();
  });

  it('Terminate ends the upstream session too', async () => {
    const c = await h.client({ application_name: 'terminate-check' });
    await c.query('SELECT 1');
    const count = async () =>
      (
        await h.direct.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'terminate-check'",
        )
      ).rows[0].n as number;
    assert.equal(await count(), 1);
    await c.end();
    for (let i = 0; i < 100 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await count(), 0);
  });

  it('when the upstream session dies, the agent gets an error, not a silent hang', async () => {
    const c = await h.client({ application_name: 'to-be-killed' });
    // The upstream's FATAL may reach the client as a connection error before any query.
    const connectionError = new Promise<Error>((resolve) => c.once('error', resolve));
    await h.direct.query(
      // With a timeout, pg_terminate_backend waits until the backend is gone (PostgreSQL 14+).
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'to-be-killed'",
    );
    const query = c.query('SELECT 1').then(
      () => new Error('the query succeeded on a dead session'),
      (e: Error) => e,
    );
    const first = await Promise.race([connectionError, query]);
    assert.match(first.message, /terminating connection|lost its session|Connection terminated/);
  });

  it('a startup setting that changes identity is refused, not passed to the upstream', async () => {
    const c = new pg.Client({
      host: '127.0.0.1',
      port: h.port,
      user: h.agent.name,
      password: h.agent.secretAccessKey,
      database: 'app',
      options: '-c role=pg_write_all_data',
    });
    await assert.rejects(c.connect(), /startup setting "role" is not passed through Airlock/);
  });
});
