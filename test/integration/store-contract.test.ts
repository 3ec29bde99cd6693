/**
 * The Store contract (test/support/store-contract.ts) on every backend.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { storeContract } from '../support/store-contract.js';

const key = randomBytes(32);
let n = 0;

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-contract-'));
  const path = join(dir, `s${n++}.sqlite`);
  return {
    open: async () => SqliteStore.open({ path, ledgerKey: key }),
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
