/**
 * The `store:` section: where state and the ledger live. Absent, or `store: {sqlite: {}}`:
 * the embedded SQLite file in data_dir. `store: {postgres: {...}}`: a PostgreSQL
 * database shared by several replicas (docs/DEPLOY.md). Secrets are named here (an env
 * var, a file, RDS IAM) and read only when the store is opened.
 */
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { PgPasswordSource } from '../upstream/pg-password.js';
import { int, obj, text } from './schema-fields.js';

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

const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d$/;
const SOURCES = ['password_env', 'password_file', 'rds_iam'] as const;

const POSTGRES_SCHEMA = obj({
  url_env: text('store.postgres.url_env must be an environment variable name', /^$|^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .describe('environment variable holding a postgres:// URL'),
  host: text().optional().describe("overrides the URL's host"),
  port: int(1, 65535).optional(),
  database: text().optional(),
  user: text().optional(),
  password_env: text('store.postgres.password_env must be an environment variable name', ENV_RE)
    .optional()
    .describe('environment variable holding the password'),
  password_file: text().optional().describe('file holding the password'),
  rds_iam: obj(
    {
      region: text('store.postgres.rds_iam.region must be an AWS region such as us-east-1', REGION_RE),
    },
    'store.postgres.rds_iam.region must be an AWS region such as us-east-1',
  )
    .optional()
    .describe('sign in with an RDS IAM token'),
  tls: obj({
    // Only verify-full: the store holds the record, a server that is not the one named
    // (or a certificate no CA vouches for) must not receive it.
    mode: text(
      'store.postgres.tls.mode must be verify-full (the CA in ca_file and the host name are checked)',
      /^verify-full$/,
    ).prefault('verify-full'),
    ca_file: text(
      'store.postgres.tls.ca_file must name the CA bundle of the server certificate',
      (s) => s !== '',
    ),
  })
    .optional()
    .describe('verify-full only; omit for loopback'),
  pool_size: int(1, 200).default(10),
}).superRefine((p, ctx) => {
  const set = (v: string | undefined) => (v === '' ? undefined : v);
  if (
    set(p.url_env) === undefined &&
    (set(p.host) === undefined || set(p.database) === undefined || set(p.user) === undefined)
  )
    ctx.addIssue({
      code: 'custom',
      path: ['host'],
      message: 'store.postgres needs url_env, or host, database and user',
    });
  const sources = SOURCES.filter((k) => p[k] !== undefined);
  if (sources[1] !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: [sources[1]],
      message: 'store.postgres takes one of password_env, password_file, rds_iam',
    });
});

export const STORE_SCHEMA = obj({
  sqlite: obj({}).optional().describe('the SQLite file in data_dir (the default)'),
  postgres: POSTGRES_SCHEMA.optional().describe(
    'a PostgreSQL database shared by several replicas (docs/DEPLOY.md)',
  ),
})
  .superRefine((s, ctx) => {
    if (s.sqlite !== undefined && s.postgres !== undefined && s.postgres !== null)
      ctx.addIssue({
        code: 'custom',
        path: ['postgres'],
        message: 'store takes one backend: sqlite or postgres, not both',
      });
    if (s.sqlite === undefined && (s.postgres === undefined || s.postgres === null))
      ctx.addIssue({
        code: 'custom',
        path: ['postgres'],
        message: 'store must name a backend: sqlite or postgres',
      });
  })
  .describe('where state and the ledger live (absent: SQLite in data_dir)');

export function buildStore(s: z.output<typeof STORE_SCHEMA> | null | undefined, base: string): StoreConfig {
  const p = s?.postgres;
  if (p === undefined || p === null) return { kind: 'sqlite' };
  const opt = (v: string | undefined) => (v === '' ? undefined : v);
  const password: PgPasswordSource | undefined =
    p.password_env !== undefined
      ? { kind: 'env', name: p.password_env }
      : p.password_file !== undefined
        ? { kind: 'file', path: resolve(base, p.password_file) }
        : p.rds_iam !== undefined
          ? { kind: 'rds_iam', region: p.rds_iam.region }
          : undefined;
  return {
    kind: 'postgres',
    postgres: {
      urlEnv: opt(p.url_env),
      host: opt(p.host),
      port: p.port,
      database: opt(p.database),
      user: opt(p.user),
      password,
      tls: p.tls === undefined ? undefined : { mode: 'verify-full', caFile: resolve(base, p.tls.ca_file) },
      poolSize: p.pool_size,
    },
  };
}
