/**
 * How SQLite failures become the store's own errors: a lost race is StoreConflict; a lock
 * held by another connection is a StoreFault worth waiting for (busy); anything else (full
 * disk, read-only file, I/O error) is a StoreFault the caller fails closed on. And the
 * file identity check that notices a data directory deleted under the open handle.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreConflict, StoreFault } from '../store.js';

/** A lock another connection holds: worth retrying for a while. */
function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && /^SQLITE_BUSY/.test(err.code);
}

/** The file's identity, to notice it being deleted or replaced under the open handle. */
export function fileId(path: string): string | undefined {
  if (path === ':memory:' || path === '') return undefined;
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** A StoreFault that says whether it was only a lock held elsewhere (worth waiting for). */
export class BusyAwareFault extends StoreFault {
  readonly busy: boolean;
  constructor(cause: unknown) {
    const busy = isBusy(cause);
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(busy ? `the store is locked by another process (${msg})` : `the store cannot write: ${msg}`, {
      cause,
    });
    this.busy = busy;
  }
}

export function isBusyFault(err: unknown): boolean {
  return err instanceof BusyAwareFault && err.busy;
}

/** Unique-key violations mean another writer got there first (duplicate name, key, ...). */
export function conflictOf(err: unknown): unknown {
  if (err instanceof Database.SqliteError && /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(err.code)) {
    return new StoreConflict(err.message);
  }
  return err;
}
