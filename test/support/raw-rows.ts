/**
 * Rows written straight into the SQLite file, past the store and its checks, as someone
 * with write access to the file could: for tests of the guards behind those checks.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** An approver row the store itself would refuse (e.g. carrying an agent's name). */
export function insertApproverRow(dataDir: string, name: string, groups: string[], tokenHash: string): void {
  const db = new Database(join(dataDir, 'airlock.sqlite'));
  try {
    db.prepare('INSERT INTO approvers (name, groups, token_hash, created_at) VALUES (?, ?, ?, ?)').run(
      name,
      JSON.stringify(groups),
      tokenHash,
      Date.now(),
    );
  } finally {
    db.close();
  }
}
