/**
 * The hash-chained ledger table on PostgreSQL: append under the locked chain head,
 * filtered reads, verify.
 *
 * One chain across replicas: every write transaction first locks the `ledger_head` row
 * (`beginLocked`, SELECT ... FOR UPDATE), so appends from all replicas and CLI processes
 * happen one at a time in a total order, and the head read under the lock cannot go
 * stale before the append. The chain itself is computed by the shared code
 * (../hash-chain.ts chainEntries, verifyChain), exactly as on SQLite.
 */
import type pg from 'pg';
import { type ChainHead, chainEntries, GENESIS_HASH, verifyChain } from '../hash-chain.js';
import type { NewEntry } from '../ledger-entries.js';
import { type LedgerRow, toEntry } from '../sql-rows.js';
import type { LedgerEntry, VerifyResult } from '../store.js';
import type { Sql } from './pool.js';

export interface LedgerFilter {
  approvalId?: string;
  grantId?: string;
  agent?: string;
}

const COLUMNS = 9;

/**
 * Begins a transaction and locks the chain head for the rest of it; returns the head.
 * One simple-protocol round trip for both statements (no parameters to bind).
 */
export async function beginLocked(client: pg.ClientBase): Promise<ChainHead> {
  const results = (await client.query(
    'BEGIN; SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE',
  )) as unknown as pg.QueryResult<ChainHead>[];
  const head = results[1]?.rows[0];
  if (head === undefined) throw new Error('ledger_head row is missing; the database is damaged');
  return head;
}

/**
 * Records the new head and commits, in one round trip. The values are inlined, not bound
 * (a multi-statement query cannot take parameters): a safe integer and a hex digest this
 * process computed, checked here all the same.
 */
export async function commitHead(client: pg.ClientBase, from: ChainHead, to: ChainHead): Promise<void> {
  if (to.seq === from.seq) {
    await client.query('COMMIT');
    return;
  }
  if (!Number.isSafeInteger(to.seq) || !/^[0-9a-f]{64}$/.test(to.hash)) throw new Error('bad chain head');
  await client.query(`UPDATE ledger_head SET seq = ${to.seq}, hash = '${to.hash}' WHERE id = 1; COMMIT`);
}

/** Appends in order after `head` (locked by this transaction); returns the new head for commitHead. */
export async function append(
  sql: Sql,
  key: Buffer,
  head: ChainHead,
  entries: readonly NewEntry[],
): Promise<ChainHead> {
  if (entries.length === 0) return head;
  const chained = chainEntries(key, head, entries);
  const values: unknown[] = [];
  const tuples = chained.map((e, i) => {
    values.push(
      e.seq,
      e.at.getTime(),
      e.kind,
      e.agent ?? null,
      e.approvalId ?? null,
      e.grantId ?? null,
      e.body,
      e.prevHash,
      e.hash,
    );
    const base = i * COLUMNS;
    return `(${Array.from({ length: COLUMNS }, (_, c) => `$${base + c + 1}`).join(', ')})`;
  });
  await sql(
    `INSERT INTO ledger (seq, at, kind, agent, approval_id, grant_id, body, prev_hash, hash) VALUES ${tuples.join(', ')}`,
    values,
  );
  const last = chained.at(-1) ?? head;
  return { seq: last.seq, hash: last.hash };
}

/**
 * Entries matching every given filter, in seq order. `approvalId` also matches
 * entries under the grant that approval issued (found in the ledger itself).
 */
export async function entries(sql: Sql, filter: LedgerFilter): Promise<LedgerEntry[]> {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.approvalId !== undefined) {
    args.push(filter.approvalId);
    const p = `$${args.length}`;
    where.push(
      `(approval_id = ${p} OR grant_id IN (SELECT grant_id FROM ledger
         WHERE approval_id = ${p} AND kind = 'grant.issued' AND grant_id IS NOT NULL))`,
    );
  }
  if (filter.grantId !== undefined) {
    args.push(filter.grantId);
    where.push(`grant_id = $${args.length}`);
  }
  if (filter.agent !== undefined) {
    args.push(filter.agent);
    where.push(`agent = $${args.length}`);
  }
  const text = `SELECT * FROM ledger${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  return (await sql<LedgerRow>(text, args)).rows.map(toEntry);
}

/** Rows per page while reading the ledger to verify it. */
const VERIFY_PAGE = 5000;

/**
 * Verifies one consistent snapshot (REPEATABLE READ) even while replicas append. The
 * entries are read page by page and held in memory (verifyChain needs synchronous
 * look-ups by hash): about 1 KiB per entry.
 */
export async function verify(pool: pg.Pool, key: Buffer): Promise<VerifyResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const head = (await client.query<ChainHead>('SELECT seq, hash FROM ledger_head WHERE id = 1')).rows[0];
    const all: LedgerEntry[] = [];
    let after = Number.MIN_SAFE_INTEGER; // seqs are positive; a tampered row may not be
    for (;;) {
      const page = await client.query<LedgerRow>(
        'SELECT * FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, VERIFY_PAGE],
      );
      for (const r of page.rows) all.push(toEntry(r));
      const last = page.rows.at(-1);
      if (last === undefined || page.rows.length < VERIFY_PAGE) break;
      after = last.seq;
    }
    await client.query('COMMIT');
    return verifyChain(all, head, key);
  } finally {
    client.release();
  }
}

/** The last row actually present (not ledger_head: that row is what a cut tail leaves behind). */
export async function last(sql: Sql): Promise<ChainHead> {
  const r = await sql<ChainHead>('SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1');
  return r.rows[0] ?? { seq: 0, hash: GENESIS_HASH };
}

export async function at(sql: Sql, seq: number): Promise<LedgerEntry | undefined> {
  const row = (await sql<LedgerRow>('SELECT * FROM ledger WHERE seq = $1', [seq])).rows[0];
  return row === undefined ? undefined : toEntry(row);
}

export async function ofKinds(sql: Sql, kinds: readonly string[]): Promise<LedgerEntry[]> {
  const r = await sql<LedgerRow>('SELECT * FROM ledger WHERE kind = ANY($1) ORDER BY seq', [kinds]);
  return r.rows.map(toEntry);
}
