/**
 * The `store:` section: where state and the ledger live. Absent, or `store: {sqlite: {}}`:
 * the embedded SQLite file in data_dir. `store: {postgres: {...}}`: a PostgreSQL
 * database shared by several replicas (docs/DEPLOY.md). Same rules as load.ts: unknown
 * keys and bad values are reported with file:line. Secrets are named here (an env var,
 * a file, RDS IAM) and read only when the store is opened.
 */
import { resolve } from 'node:path';
import type { YAMLMap } from 'yaml';
import type { PgPasswordSource } from '../upstream/pg-password.js';
import type { Reader } from './load.js';

export interface PostgresStoreConfig {
  /** Env var holding a postgres:// URL; host/port/database/user below override its parts. */
  readonly urlEnv: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string | undefined;
  readonly user: string | undefined;
  /** Absent: the URL's password (or none). */
  readonly password: PgPasswordSource | undefined;
  /** Absent: no TLS (loopback only; see docs/DEPLOY.md). */
  readonly tls: { readonly mode: 'verify-full'; readonly caFile: string } | undefined;
  readonly poolSize: number;
}

export type StoreConfig =
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'postgres'; readonly postgres: PostgresStoreConfig };

const PG_KEYS = [
  'url_env',
  'host',
  'port',
  'database',
  'user',
  'password_env',
  'password_file',
  'rds_iam',
  'tls',
  'pool_size',
];
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readStore(r: Reader, root: YAMLMap, base: string): StoreConfig {
  const store = r.map(root, 'store');
  if (store === undefined) return { kind: 'sqlite' };
  r.onlyKeys(store, ['sqlite', 'postgres'], 'store.');
  if (store.has('sqlite') && store.has('postgres')) {
    r.problem(store, 'postgres', 'store takes one backend: sqlite or postgres, not both');
  }
  const p = r.map(store, 'postgres');
  if (p === undefined) {
    if (!store.has('sqlite')) r.problem(store, 'postgres', 'store must name a backend: sqlite or postgres');
    return { kind: 'sqlite' };
  }
  r.onlyKeys(p, PG_KEYS, 'store.postgres.');
  const opt = (key: string) => {
    const v = r.str(p, key, '');
    return v === '' ? undefined : v;
  };
  const urlEnv = opt('url_env');
  if (urlEnv !== undefined && !ENV_RE.test(urlEnv))
    r.problem(p, 'url_env', 'store.postgres.url_env must be an environment variable name');
  const host = opt('host');
  const database = opt('database');
  const user = opt('user');
  if (urlEnv === undefined && (host === undefined || database === undefined || user === undefined)) {
    r.problem(p, 'host', 'store.postgres needs url_env, or host, database and user');
  }
  const port = p.has('port') ? r.int(p, 'port', 5432, 1, 65535) : undefined;
  const sources = ['password_env', 'password_file', 'rds_iam'].filter((k) => p.has(k));
  if (sources.length > 1)
    r.problem(p, sources[1] as string, 'store.postgres takes one of password_env, password_file, rds_iam');
  let password: PgPasswordSource | undefined;
  if (p.has('password_env')) {
    const name = r.str(p, 'password_env', '');
    if (!ENV_RE.test(name))
      r.problem(p, 'password_env', 'store.postgres.password_env must be an environment variable name');
    password = { kind: 'env', name };
  } else if (p.has('password_file')) {
    password = { kind: 'file', path: resolve(base, r.str(p, 'password_file', '')) };
  } else if (p.has('rds_iam')) {
    const iam = r.map(p, 'rds_iam');
    if (iam) r.onlyKeys(iam, ['region'], 'store.postgres.rds_iam.');
    const region = r.str(iam, 'region', '');
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
      r.problem(
        iam ?? p,
        iam ? 'region' : 'rds_iam',
        'store.postgres.rds_iam.region must be an AWS region such as us-east-1',
      );
    password = { kind: 'rds_iam', region };
  }
  let tls: PostgresStoreConfig['tls'];
  const t = r.map(p, 'tls');
  if (t !== undefined) {
    r.onlyKeys(t, ['mode', 'ca_file'], 'store.postgres.tls.');
    // Only verify-full: the store holds the record, a server that is not the one named
    // (or a certificate no CA vouches for) must not receive it.
    if (r.str(t, 'mode', 'verify-full') !== 'verify-full')
      r.problem(
        t,
        'mode',
        'store.postgres.tls.mode must be verify-full (the CA in ca_file and the host name are checked)',
      );
    const ca = r.str(t, 'ca_file', '');
    if (ca === '')
      r.problem(t, 'mode', 'store.postgres.tls.ca_file must name the CA bundle of the server certificate');
    tls = { mode: 'verify-full', caFile: resolve(base, ca) };
  }
  return {
    kind: 'postgres',
    postgres: {
      urlEnv,
      host,
      port,
      database,
      user,
      password,
      tls,
      poolSize: r.int(p, 'pool_size', 10, 1, 200),
    },
  };
}
