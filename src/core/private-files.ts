/**
 * Files Airlock creates hold secrets or the record: they are created 0600 in a 0700
 * directory, whatever the umask (README, "Data directory").
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Creates `dir` (and parents) 0700 if missing; an existing directory is left as it is. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Creates `path` empty with mode 0600 if it does not exist yet, so that a library opening
 * it afterwards (SQLite, which gives its -wal and -shm files the database file's mode)
 * never creates it with the umask's 0644.
 */
export function ensurePrivateFile(path: string): void {
  ensurePrivateDir(dirname(path));
  if (existsSync(path)) return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
