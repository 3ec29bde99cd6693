/**
 * The hash-chained ledger table: append, filtered reads, verify.
 * Appends read the chain head from the database every time (never a cached copy):
 * the gateway and CLI commands append to the same file from different processes.
 */
import type Database from 'better-sqlite3';
import { type ChainHead, chainEntries, GENESIS_HASH, verifyChain } from '../hash-chain.js';
import type { NewEntry } from '../ledger-entries.js';
import { type LedgerRow, toEntry } from '../sql-rows.js';
import type { LedgerEntry, VerifyResult } from '../store.js';

export interface LedgerFilter {
  approvalId?: string;
  grantId?: string;
  agent?: string;
}

/** Rows per page while verifying: bounds memory on large ledgers. */
const VERIFY_PAGE = 5000;

export class SqliteLedger {
  private readonly readHead: Database.Statement<[], ChainHead>;
  private readonly insert: Database.Statement<unknown[]>;
  private readonly writeHead: Database.Statement<[number, string]>;
  private readonly page: Database.Statement<[number, number], LedgerRow>;
  private readonly byHash: Database.Statement<[string], LedgerRow>;

  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
  ) {
    this.readHead = db.prepare('SELECT seq, hash FROM ledger_head WHERE id = 1');
    this.insert = db.prepare(
      `INSERT INTO ledger (seq, at, kind, agent, approval_id, grant_id, body, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.writeHead = db.prepare('UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1');
    this.page = db.prepare('SELECT * FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?');
    // No index on hash: this runs only after verify already found a problem.
    this.byHash = db.prepare('SELECT * FROM ledger WHERE hash = ? LIMIT 1');
  }

  /** Appends in order. Call only inside an IMMEDIATE transaction, so the head read here stays the head. */
  append(entries: readonly NewEntry[]): void {
    if (entries.length === 0) return;
    const head = this.readHead.get();
    if (head === undefined) throw new Error('ledger_head row is missing; the database is damaged');
    const chained = chainEntries(this.key, head, entries);
    for (const e of chained) {
      this.insert.run(
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
    }
    const last = chained.at(-1) ?? head;
    this.writeHead.run(last.seq, last.hash);
  }

  /**
   * Entries matching every given filter, in seq order. `approvalId` also matches
   * entries under the grant that approval issued (found in the ledger itself,
   * so `audit show` reads only what `audit verify` proves).
   */
  entries(filter: LedgerFilter): LedgerEntry[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.approvalId !== undefined) {
      where.push(
        `(approval_id = ? OR grant_id IN (SELECT grant_id FROM ledger
           WHERE approval_id = ? AND kind = 'grant.issued' AND grant_id IS NOT NULL))`,
      );
      args.push(filter.approvalId, filter.approvalId);
    }
    if (filter.grantId !== undefined) {
      where.push('grant_id = ?');
      args.push(filter.grantId);
    }
    if (filter.agent !== undefined) {
      where.push('agent = ?');
      args.push(filter.agent);
    }
    const sql = `SELECT * FROM ledger${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    return this.db
      .prepare<string[], LedgerRow>(sql)
      .all(...args)
      .map(toEntry);
  }

  /** Verifies inside one read transaction: a consistent snapshot even while others append. */
  verify(): VerifyResult {
    return this.db.transaction((): VerifyResult => {
      const head = this.readHead.get();
      const find = (hash: string): LedgerEntry | undefined => {
        const row = this.byHash.get(hash);
        return row === undefined ? undefined : toEntry(row);
      };
      return verifyChain(this.pages(), head, this.key, find);
    })();
  }

  /** The last row actually present (not ledger_head: that row is what a cut tail leaves behind). */
  last(): ChainHead {
    const row = this.db
      .prepare<[], ChainHead>('SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1')
      .get();
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  at(seq: number): LedgerEntry | undefined {
    const row = this.db.prepare<[number], LedgerRow>('SELECT * FROM ledger WHERE seq = ?').get(seq);
    return row === undefined ? undefined : toEntry(row);
  }

  /** Entries of the given kinds in seq order (a scan: for verification, not the request path). */
  ofKinds(kinds: readonly string[]): LedgerEntry[] {
    const marks = kinds.map(() => '?').join(', ');
    return this.db
      .prepare<string[], LedgerRow>(`SELECT * FROM ledger WHERE kind IN (${marks}) ORDER BY seq`)
      .all(...kinds)
      .map(toEntry);
  }

  /** Pages with .all() rather than .iterate(), so `find` may query between pages. */
  private *pages(): Generator<LedgerEntry> {
    let after = 0;
    for (;;) {
      const rows = this.page.all(after, VERIFY_PAGE);
      for (const r of rows) yield toEntry(r);
      const last = rows.at(-1);
      if (last === undefined || rows.length < VERIFY_PAGE) return;
      after = last.seq;
    }
  }
}
