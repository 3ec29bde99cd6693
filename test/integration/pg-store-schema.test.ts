/**
 * PostgresStore schema handling against a real PostgreSQL: replicas starting at once
 * on an empty database (the advisory lock), a schema newer than this build (refused),
 * `airlock store migrate`, and the configured store chosen by `store: {postgres}`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseConfig } from '../../src/config/load.js';
import { PostgresStore } from '../../src/ledger/postgres/pg-store.js';
import { PG_SCHEMA_VERSION } from '../../src/ledger/postgres/schema.js';
import { openConfiguredStore } from '../../src/open-store.js';
import { airlockCli } from '../support/cli.js';
import { type EmbeddedPg, startEmbeddedPg } from '../support/embedded-pg.js';

const PASSWORD = 'schema-pw';
const key = randomBytes(32);
let dir: string;
let server: EmbeddedPg;
let n = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-pg-schema-'));
  server = await startEmbeddedPg({ dir, password: PASSWORD });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freshDb() {
  const database = `schema_${n++}`;
  await server.createDatabase(database);
  const connection = { host: '127.0.0.1', port: server.port, user: 'postgres', password: PASSWORD, database };
  const query = async (sql: string) => {
    const c = new pg.Client(connection);
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  return { database, connection, query };
}

describe('PostgresStore schema', () => {
  it('four replicas opening an empty database at once apply each migration once', async () => {
    const { connection, query } = await freshDb();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresStore.connect({ connection, ledgerKey: key })),
    );
    await Promise.all(stores.map((s) => s.checkWritable()));
    const rows = await query('SELECT version FROM airlock_schema ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    for (const s of stores) await s.close();
  });

  it('refuses a schema newer than this build, and a missing one in check mode', async () => {
    const { connection, query } = await freshDb();
    const s = await PostgresStore.connect({ connection, ledgerKey: key });
    await s.close();
    await query(`INSERT INTO airlock_schema (version) VALUES (${PG_SCHEMA_VERSION + 1})`);
    await assert.rejects(
      PostgresStore.connect({ connection, ledgerKey: key }),
      new RegExp(`schema ${PG_SCHEMA_VERSION + 1}, newer than this Airlock knows`),
    );
    // Opened without waiting: every call and health() report it; nothing is written.
    const late = PostgresStore.open({ connection, ledgerKey: key });
    await assert.rejects(late.checkWritable(), /newer than this Airlock/);
    const health = late.health();
    assert.match(health.ok ? '' : health.problem, /newer than this Airlock/);
    await late.close();
    const empty = await freshDb();
    await assert.rejects(
      PostgresStore.connect({ connection: empty.connection, ledgerKey: key, migrations: 'check' }),
      /run `airlock store migrate`/,
    );
  });

  it('`airlock store migrate` applies the schema once; the configured store then opens on it', async () => {
    const { database, query } = await freshDb();
    const cfgPath = join(dir, `airlock-${database}.yaml`);
    const yaml = `data_dir: ${join(dir, `data-${database}`)}
aws:
  account_id: "123456789012"
policies:
  - ${resolve('test/fixtures/policies/faults.cedar')}
store:
  postgres:
    url_env: TEST_PG_URL
    password_env: TEST_PG_PASSWORD
`;
    writeFileSync(cfgPath, yaml);
    const env = {
      TEST_PG_URL: `postgres://postgres@127.0.0.1:${server.port}/${database}`,
      TEST_PG_PASSWORD: PASSWORD,
    };
    const first = await airlockCli(['--config', cfgPath, 'store', 'migrate'], env);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, new RegExp(`migrated from schema 0 to ${PG_SCHEMA_VERSION}`));
    const again = await airlockCli(['--config', cfgPath, 'store', 'migrate'], env);
    assert.match(again.stdout, /nothing to do/);
    const unset = await airlockCli(['--config', cfgPath, 'store', 'migrate'], { TEST_PG_PASSWORD: PASSWORD });
    assert.notEqual(unset.code, 0);
    assert.match(unset.stderr, /store\.postgres\.url_env names TEST_PG_URL, which is not set/);

    Object.assign(process.env, env);
    try {
      const store = openConfiguredStore(parseConfig(yaml, cfgPath), key);
      assert.ok(store instanceof PostgresStore);
      await store.checkWritable();
      await store.close();
    } finally {
      delete process.env.TEST_PG_URL;
      delete process.env.TEST_PG_PASSWORD;
    }
    assert.equal((await query('SELECT count(*)::int AS n FROM airlock_schema'))[0]?.n, PG_SCHEMA_VERSION);
  });
});
