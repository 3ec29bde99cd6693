/**
 * The durability worker (src/ledger/sqlite/wal-sync.ts) fails closed: a commit it cannot
 * fsync, or one asked of it after it stopped, is refused — never reported durable — and
 * the store turns such a failure into a StoreFault (the request is then not forwarded).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { WalSync } from '../../src/ledger/sqlite/wal-sync.js';
import { StoreFault } from '../../src/ledger/store.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('makes commits of a WAL database durable, batching the waiters of one fsync', async () => {
    const path = join(dir, 'ok.sqlite');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE t (x INTEGER)');
    const sync = new WalSync(path);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      db.prepare('INSERT INTO t VALUES (?)').run(i);
      waits.push(sync.durable());
    }
    await Promise.all(waits);
    assert.ok(statSync(`${path}-wal`).size > 0);
    await sync.close();
    await assert.rejects(sync.durable(), /durability worker stopped/);
    db.close();
  });

  it('refuses when the WAL cannot be synced (no WAL file)', async () => {
    const sync = new WalSync(join(dir, 'never-opened.sqlite'));
    await assert.rejects(sync.durable(), /could not make the write durable \(fdatasync\).*ENOENT/);
    await sync.close();
  });

  it('a store whose durability worker is gone refuses intents with StoreFault', async () => {
    const store = SqliteStore.open({ path: join(dir, 'store.sqlite'), ledgerKey: randomBytes(32) });
    await store.checkWritable();
    // What the store would see if the worker died: reach its private WalSync and stop it.
    await (store as unknown as { walSync: WalSync }).walSync.close();
    await assert.rejects(store.checkWritable(), (err: unknown) => err instanceof StoreFault);
    assert.equal(store.health().ok, false);
  });
});
