/**
 * Chooses the Store backend the config names: the SQLite file in data_dir (the
 * default) or a PostgreSQL database shared by several replicas (`store: {postgres}`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AirlockConfig } from './config/config.js';
import type { PostgresStoreConfig } from './config/load-store.js';
import { ensurePrivateFile } from './core/private-files.js';
import { PostgresStore } from './ledger/postgres/pg-store.js';
import { openPool, type PgConnection } from './ledger/postgres/pool.js';
import { migrate } from './ledger/postgres/schema.js';
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './ledger/sqlite/schema.js';
import { SqliteStore } from './ledger/sqlite/sqlite-store.js';
import type { Store } from './ledger/store.js';
import { passwordProvider } from './upstream/pg-password.js';

export function openConfiguredStore(
  config: AirlockConfig,
  ledgerKey: Buffer,
  onCommit?: (batchSize: number, ms: number) => void,
): Store {
  const store = config.store;
  if (store === undefined || store.kind === 'sqlite') {
    const path = join(config.dataDir, 'airlock.sqlite');
    // 0600 in a 0700 directory, whatever the umask; SQLite gives -wal and -shm the same mode.
    ensurePrivateFile(path);
    return SqliteStore.open({ path, ledgerKey, onCommit });
  }
  return PostgresStore.open({
    connection: pgConnection(store.postgres, config.source),
    ledgerKey,
    poolSize: store.postgres.poolSize,
  });
}

/** Where the configured store lives, for messages (never a password). */
export function describeStore(config: AirlockConfig): string {
  const store = config.store;
  if (store === undefined || store.kind === 'sqlite') return `the store in ${config.dataDir}`;
  const p = store.postgres;
  const where =
    p.host === undefined ? `the URL in $${p.urlEnv}` : `${p.host}:${p.port ?? 5432}/${p.database ?? ''}`;
  return `the PostgreSQL store (${where})`;
}

/** The connection settings, reading the URL and CA file now; a password source is read per connection. */
export function pgConnection(p: PostgresStoreConfig, source: string): PgConnection {
  // The URL is split here rather than handed to pg as connectionString: pg lets the
  // URL's parts override explicit settings, and host/port/database/user here override it.
  let url: URL | undefined;
  if (p.urlEnv !== undefined) {
    const text = process.env[p.urlEnv];
    if (text === undefined || text === '') {
      throw new Error(`${source}: store.postgres.url_env names ${p.urlEnv}, which is not set`);
    }
    try {
      url = new URL(text);
    } catch {
      throw new Error(`${source}: store.postgres.url_env: $${p.urlEnv} is not a postgres:// URL`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new Error(`${source}: store.postgres.url_env: $${p.urlEnv} is not a postgres:// URL`);
    }
  }
  let ca: string | undefined;
  if (p.tls !== undefined) {
    try {
      ca = readFileSync(p.tls.caFile, 'utf8');
    } catch (err) {
      throw new Error(
        `${source}: store.postgres.tls.ca_file: cannot read ${p.tls.caFile}: ${(err as Error).message}`,
      );
    }
  }
  const fromUrl = (v: string | undefined) =>
    v === undefined || v === '' ? undefined : decodeURIComponent(v);
  const host = p.host ?? fromUrl(url?.hostname.replace(/^\[(.*)\]$/, '$1'));
  const port = p.port ?? (url?.port ? Number(url.port) : 5432);
  const database = p.database ?? fromUrl(url?.pathname.slice(1));
  const user = p.user ?? fromUrl(url?.username);
  const password =
    p.password === undefined
      ? fromUrl(url?.password)
      : passwordProvider(p.password, { host: host ?? '', port, user: user ?? '' });
  return {
    port,
    ...(host === undefined ? {} : { host }),
    ...(database === undefined ? {} : { database }),
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { ssl: { ca, ...(host === undefined ? {} : { servername: host }) } }),
  };
}
/**
 * `airlock store migrate`: brings the configured store to this build's schema (under
 * the advisory lock on PostgreSQL, so it may run while replicas start); returns what it did.
 */
export async function migrateConfiguredStore(config: AirlockConfig): Promise<string> {
  const store = config.store;
  if (store === undefined || store.kind === 'sqlite') {
    // SQLite migrates on open, in one IMMEDIATE transaction per step.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const s = SqliteStore.open({ path: join(config.dataDir, 'airlock.sqlite'), ledgerKey: Buffer.alloc(32) });
    await s.close();
    return `${describeStore(config)} is at schema ${SQLITE_SCHEMA_VERSION}`;
  }
  const pool = openPool(pgConnection(store.postgres, config.source), {
    max: 1,
    lockWaitMs: 60_000,
    onError: () => undefined,
  });
  try {
    const { from, to } = await migrate(pool);
    return from === to
      ? `${describeStore(config)} is at schema ${to}; nothing to do`
      : `${describeStore(config)}: migrated from schema ${from} to ${to}`;
  } finally {
    await pool.end();
  }
}
