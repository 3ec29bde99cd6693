/**
 * Prepared statements of one SQLite connection, by SQL text. The table modules take
 * this function, so every query of the store shares one cache.
 */
import type Database from 'better-sqlite3';

export type Sql = <P extends unknown[] = unknown[], R = unknown>(text: string) => Database.Statement<P, R>;

/** Prepared statements are cached: preparing costs more than running most of these. */
export function statementCache(db: Database.Database): Sql {
  const statements = new Map<string, Database.Statement>();
  return <P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> => {
    let s = statements.get(text);
    if (s === undefined) {
      s = db.prepare(text);
      statements.set(text, s);
    }
    return s as Database.Statement<P, R>;
  };
}
