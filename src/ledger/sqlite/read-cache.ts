/**
 * Results of the per-request reads (agent by key, an agent's active grants) kept
 * for as long as the database provably has not changed, so the hot path does not
 * run and decode the same rows on every request.
 *
 * "Not changed" is exact, not a TTL: the cache is dropped when this connection
 * writes anything but action records (the store calls `invalidate`), and when
 * `PRAGMA data_version` moves, which SQLite guarantees for every commit made by
 * another connection, such as a CLI command revoking an agent from another
 * process (https://www.sqlite.org/pragma.html#pragma_data_version).
 *
 * Reading data_version opens a WAL read snapshot (~10 µs, as much as the reads it
 * saves), so it is read once per event-loop turn: the first cached read of a turn
 * checks it and the rest of that turn trust it. The requests handled in one turn were
 * all received before that check, so a revocation committed before a request arrived
 * is still seen by it.
 */
import type Database from 'better-sqlite3';

/** Distinct keys kept; past this the cache starts over (no unbounded growth from unknown keys). */
const MAX_KEYS = 4096;

export class ReadCache {
  private readonly dataVersion: Database.Statement<[], number>;
  private version = -1;
  private readonly entries = new Map<string, unknown>();
  private checkedThisTurn = false;

  constructor(db: Database.Database) {
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** The cached value of `key`, or `load()`'s, cached while nothing is written. */
  get<T>(key: string, load: () => T): T {
    if (!this.checkedThisTurn) {
      this.checkedThisTurn = true;
      setImmediate(() => {
        this.checkedThisTurn = false;
      });
      const v = this.dataVersion.get() as number;
      if (v !== this.version) {
        this.entries.clear();
        this.version = v;
      }
    }
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = load();
    if (this.entries.size >= MAX_KEYS) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  /** This connection changed state that cached reads may have returned. */
  invalidate(): void {
    this.entries.clear();
  }
}
