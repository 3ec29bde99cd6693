/**
 * `databases:` in airlock.yaml: one entry per PostgreSQL database the Postgres
 * front serves (docs/POSTGRES.md has the full reference).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { PgPasswordSource } from '../upstream/pg-password.js';
import type { HostPort } from './config.js';
import { bool, hostPort, int, obj, scalars, text } from './schema-fields.js';

export interface DatabaseConfig {
  /** Resource name used in policy ids: arn:airlock:postgres:NAME:... */
  readonly name: string;
  readonly listen: HostPort;
  readonly upstream: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
  };
  readonly auth: PgPasswordSource;
  readonly tls: { readonly mode: 'disable' | 'require' | 'verify-full'; readonly caFile: string | undefined };
  readonly clientTls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly clientTlsRequired: boolean;
  /** false: SSLRequest is answered 'N' (plaintext only, e.g. behind a TLS-terminating proxy). */
  readonly clientTlsEnabled: boolean;
  readonly searchPath: readonly string[];
  readonly sideEffectFunctions: readonly string[];
  /** Functions to count as reads besides the upstream's stable/immutable built-ins (`name` or `schema.name`). */
  readonly readFunctions: readonly string[];
  readonly recordParams: 'full' | 'redacted' | 'none';
}

const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d$/;
const AUTH = 'auth must be one of {password_env: VAR}, {password_file: PATH}, {rds_iam: {region: REGION}}';
const strings = (key: string) =>
  scalars(z.string({ error: `${key} must be a list of strings` }), `${key} must be a list of strings`);

const required = (k: string) => text(`databases[].upstream.${k} is required`, (s) => s !== '');

const DATABASE_SCHEMA = obj(
  {
    name: text('databases[].name must be a lower-case name such as prod-orders', NAME_RE).describe(
      'resource name in policies: arn:airlock:postgres:NAME:…',
    ),
    listen: hostPort('127.0.0.1:6432').describe(
      'agents connect here: user = agent name, password = its secret key',
    ),
    upstream: obj(
      {
        host: required('host'),
        port: int(1, 65535).default(5432),
        database: required('database'),
        user: required('user'),
      },
      (_, input) =>
        input === undefined
          ? 'databases[].upstream is required: {host, port, database, user}'
          : 'upstream must be a mapping',
    ).describe('the PostgreSQL server behind this entry'),
    auth: obj(
      {
        password_env: text().optional(),
        password_file: text().optional(),
        rds_iam: obj(
          { region: text('auth.rds_iam.region must be an AWS region such as us-east-1', REGION_RE) },
          'auth.rds_iam.region must be an AWS region such as us-east-1',
        ).optional(),
      },
      AUTH,
    )
      .refine((a) => Object.keys(a).length === 1, { error: AUTH })
      .describe("Airlock's own sign-in to the upstream: one of password_env, password_file, rds_iam"),
    tls: obj({
      mode: z
        .enum(['disable', 'require', 'verify-full'], {
          error: 'tls.mode must be disable, require or verify-full',
        })
        .default('verify-full'),
      ca_file: text().optional(),
    })
      .optional()
      .describe('TLS to the upstream'),
    client_tls: obj({
      cert_file: text().optional(),
      key_file: text().optional(),
      required: bool((p) => `client_tls.${String(p.at(-1))} must be true or false`).default(false),
      enabled: bool((p) => `client_tls.${String(p.at(-1))} must be true or false`).default(true),
    })
      .superRefine(
        (c, ctx) => {
          // Run even when a key has problems: a missing half of the pair is its own mistake.
          if (typeof c !== 'object' || c === null) return;
          if (((c.cert_file ?? '') === '') !== ((c.key_file ?? '') === ''))
            ctx.addIssue({
              code: 'custom',
              message: 'client_tls needs both cert_file and key_file (or neither: self-signed)',
            });
          if (c.enabled === false && c.required === true)
            ctx.addIssue({
              code: 'custom',
              path: ['required'],
              message: 'client_tls.required cannot be true when client_tls.enabled is false',
            });
        },
        { when: () => true },
      )
      .optional()
      .describe("agents' TLS (default: self-signed in data_dir, optional; enabled: false = plaintext only)"),
    search_path: strings('search_path')
      .prefault(['$user', 'public'])
      .describe("the upstream's default search_path"),
    side_effect_functions: strings('side_effect_functions')
      .prefault([])
      .describe('extra functions that count as admin actions'),
    read_functions: strings('read_functions')
      .prefault([])
      .describe("functions to count as reads besides the upstream's stable/immutable built-ins"),
    record_params: z
      .enum(['full', 'redacted', 'none'], { error: 'record_params must be full, redacted or none' })
      .default('full')
      .describe('statement parameters in the ledger'),
  },
  'each databases entry must be a mapping',
);

export const DATABASES_SCHEMA = z
  .array(DATABASE_SCHEMA, { error: 'databases must be a list of database entries (see docs/POSTGRES.md)' })
  .superRefine(
    (dbs, ctx) => {
      // Run even when an entry has problems: a second database of one name is its own mistake.
      if (!Array.isArray(dbs)) return;
      const names = new Set<string>();
      dbs.forEach((d: unknown, i) => {
        const name = (d as { name?: unknown } | null)?.name;
        if (typeof name !== 'string' || !NAME_RE.test(name)) return;
        if (names.has(name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `database ${name} is configured twice`,
          });
        names.add(name);
      });
    },
    { when: () => true },
  )
  .describe('PostgreSQL databases behind the Postgres front (docs/POSTGRES.md)');

export function buildDatabases(
  dbs: z.output<typeof DATABASES_SCHEMA> | undefined,
  base: string,
): DatabaseConfig[] {
  return (dbs ?? []).map((d) => {
    const client = d.client_tls ?? undefined;
    const cert = client?.cert_file ?? '';
    const key = client?.key_file ?? '';
    const ca = d.tls?.ca_file ?? '';
    return {
      name: d.name,
      listen: d.listen,
      upstream: d.upstream,
      auth: buildAuth(d.auth, base),
      tls: { mode: d.tls?.mode ?? 'verify-full', caFile: ca === '' ? undefined : resolve(base, ca) },
      clientTls:
        cert === '' || key === ''
          ? undefined
          : { certFile: resolve(base, cert), keyFile: resolve(base, key) },
      clientTlsRequired: client?.required ?? false,
      clientTlsEnabled: client?.enabled ?? true,
      searchPath: d.search_path,
      sideEffectFunctions: d.side_effect_functions,
      readFunctions: d.read_functions,
      recordParams: d.record_params,
    };
  });
}

function buildAuth(a: z.output<typeof DATABASE_SCHEMA>['auth'], base: string): PgPasswordSource {
  if (a.password_env !== undefined) return { kind: 'env', name: a.password_env };
  if (a.password_file !== undefined) return { kind: 'file', path: resolve(base, a.password_file) };
  return { kind: 'rds_iam', region: a.rds_iam?.region ?? '' };
}
