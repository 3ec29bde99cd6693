/**
 * Airlock → upstream over TLS: a PostgreSQL with ssl=on and a certificate from a
 * test CA. `tls.mode: verify-full` with that CA connects (and the upstream sees an
 * encrypted session); a different CA is refused before any password is sent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createAgent } from '../../src/admin.js';
import { openMasterKey, type RunningAirlock, startAirlock } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { type EmbeddedPg, startEmbeddedPg } from '../support/embedded-pg.js';
import { UPSTREAM_PASSWORD } from '../support/pg-harness.js';

function makeCa(dir: string, name: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    { stdio: 'pipe' },
  );
}

describe('upstream TLS', () => {
  let dir: string;
  let server: EmbeddedPg;
  let airlock: RunningAirlock;
  let agent: { name: string; secretAccessKey: string };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-pgtls-'));
    chmodSync(dir, 0o755);
    const certs = join(dir, 'certs');
    mkdirSync(certs, { mode: 0o755 });
    makeCa(certs, 'test-ca');
    makeCa(certs, 'other-ca');
    execFileSync(
      'openssl',
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(certs, 'server.key'),
        '-out',
        join(certs, 'server.csr'),
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    writeFileSync(join(certs, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        join(certs, 'server.csr'),
        '-CA',
        join(certs, 'test-ca.pem'),
        '-CAkey',
        join(certs, 'test-ca.key'),
        '-CAcreateserial',
        '-out',
        join(certs, 'server.pem'),
        '-days',
        '2',
        '-extfile',
        join(certs, 'ext.cnf'),
      ],
      { stdio: 'pipe' },
    );
    // PostgreSQL insists its key is private to the user it runs as.
    chmodSync(join(certs, 'server.key'), 0o600);
    chmodSync(join(certs, 'server.pem'), 0o644);
    // Started first so that its `postgres` user exists; TLS is then switched on by reload.
    server = await startEmbeddedPg({ dir, password: UPSTREAM_PASSWORD });
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(join(certs, 'server.key'), uid, gid);
    }
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      password: UPSTREAM_PASSWORD,
      database: 'postgres',
    });
    await admin.connect();
    await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${join(certs, 'server.pem')}'`);
    await admin.query(`ALTER SYSTEM SET ssl_key_file = '${join(certs, 'server.key')}'`);
    await admin.query('ALTER SYSTEM SET ssl = on');
    await admin.query('SELECT pg_reload_conf()');
    for (let i = 0; i < 50 && (await admin.query('SHOW ssl')).rows[0].ssl !== 'on'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await admin.end();
    const port = server.port;
    process.env.AIRLOCK_TLS_TEST_PW = UPSTREAM_PASSWORD;
    const entry = (name: string, ca: string, extra = '') => `  - name: ${name}
    listen: 127.0.0.1:0
    upstream: { host: 127.0.0.1, port: ${port}, database: postgres, user: postgres }
    auth: { password_env: AIRLOCK_TLS_TEST_PW }
    tls: { mode: verify-full, ca_file: ${join(certs, ca)} }
${extra}`;
    const yaml = `data_dir: ${dir}/airlock\nlisten:\n  aws: 127.0.0.1:0\n  api: 127.0.0.1:0\naws:\n  account_id: "123456789012"\npolicies:\n  - ${resolve('test/fixtures/policies/postgres.cedar')}\ndatabases:\n${entry('good', 'test-ca.pem')}${entry('wrong-ca', 'other-ca.pem')}${entry('plain', 'test-ca.pem', '    client_tls: { enabled: false }\n')}`;
    const config = parseConfig(yaml, join(dir, 'airlock.yaml'));
    airlock = await startAirlock(config, { log: () => undefined });
    agent = await createAgent(airlock.store, openMasterKey(config), 'tls-bot');
  });
  after(async () => {
    await airlock?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (db: string) =>
    new pg.Client({
      host: '127.0.0.1',
      port: airlock.databases[db]?.port,
      user: agent.name,
      password: agent.secretAccessKey,
      database: 'x',
    });

  it('verify-full with the right CA: the upstream session is encrypted', async () => {
    const c = client('good');
    await c.connect();
    const r = await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    assert.equal(r.rows[0].ssl, true);
    await c.end();
  });

  it('client_tls.enabled: false answers SSLRequest with N and serves plaintext', async () => {
    const net = await import('node:net');
    const s = net.connect(airlock.databases.plain?.port ?? 0, '127.0.0.1');
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    const answer = await new Promise<string>((r) => {
      s.once('data', (d: Buffer) => r(d.toString('latin1')));
      s.write(ssl);
    });
    s.destroy();
    assert.equal(answer, 'N');
    const c = client('plain');
    await c.connect();
    assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    await c.end();
  });

  it('a certificate from another CA is refused; the agent gets 57P03 without the cause', async () => {
    const c = client('wrong-ca');
    c.on('error', () => undefined);
    await assert.rejects(c.connect(), (e: Error & { code?: string }) => {
      assert.equal(e.code, '57P03');
      assert.match(e.message, /could not open its session to database "wrong-ca"/);
      assert.doesNotMatch(e.message, /certificate/);
      return true;
    });
  });
});
