/**
 * `databases:` in airlock.yaml: one entry per PostgreSQL database the Postgres
 * front serves (docs/POSTGRES.md has the full reference). Problems are reported
 * with file:line:col through the same Reader as the rest of the config.
 */
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { PgPasswordSource } from '../upstream/pg-password.js';
import type { HostPort } from './config.js';
import type { Reader } from './load.js';

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

const KEYS = [
  'name',
  'listen',
  'upstream',
  'auth',
  'tls',
  'client_tls',
  'search_path',
  'side_effect_functions',
  'read_functions',
  'record_params',
];
const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;

export function readDatabases(
  r: Reader,
  node: Node | undefined,
  base: string,
  at: (node: Node | null | undefined, msg: string) => void,
): DatabaseConfig[] {
  if (node === undefined) return [];
  if (!isSeq(node)) {
    at(node, 'databases must be a list of database entries (see docs/POSTGRES.md)');
    return [];
  }
  const out: DatabaseConfig[] = [];
  const names = new Set<string>();
  for (const item of node.items) {
    if (!isMap(item)) {
      at(item as Node, 'each databases entry must be a mapping');
      continue;
    }
    r.onlyKeys(item, KEYS, 'databases[].');
    const name = r.str(item, 'name', '');
    const nameNode = (item.get('name', true) as Node | undefined) ?? item;
    if (!NAME_RE.test(name)) at(nameNode, 'databases[].name must be a lower-case name such as prod-orders');
    else if (names.has(name)) at(nameNode, `database ${name} is configured twice`);
    names.add(name);
    const up = r.map(item, 'upstream');
    if (up === undefined) at(item, 'databases[].upstream is required: {host, port, database, user}');
    else r.onlyKeys(up, ['host', 'port', 'database', 'user'], 'databases[].upstream.');
    const upstream = {
      host: r.str(up, 'host', ''),
      port: r.int(up, 'port', 5432, 1, 65535),
      database: r.str(up, 'database', ''),
      user: r.str(up, 'user', ''),
    };
    if (up !== undefined)
      for (const k of ['host', 'database', 'user'] as const)
        if (upstream[k] === '') at(up, `databases[].upstream.${k} is required`);
    const tlsMap = r.map(item, 'tls');
    if (tlsMap) r.onlyKeys(tlsMap, ['mode', 'ca_file'], 'databases[].tls.');
    const mode = r.str(tlsMap, 'mode', 'verify-full');
    if (mode !== 'disable' && mode !== 'require' && mode !== 'verify-full')
      at(
        (tlsMap?.get('mode', true) as Node | undefined) ?? item,
        'tls.mode must be disable, require or verify-full',
      );
    const ca = r.str(tlsMap, 'ca_file', '');
    const client = r.map(item, 'client_tls');
    if (client)
      r.onlyKeys(client, ['cert_file', 'key_file', 'required', 'enabled'], 'databases[].client_tls.');
    const cert = r.str(client, 'cert_file', '');
    const key = r.str(client, 'key_file', '');
    if ((cert === '') !== (key === ''))
      at(client ?? item, 'client_tls needs both cert_file and key_file (or neither: self-signed)');
    const required = client?.get('required', true) as Node | undefined;
    if (required !== undefined && !(isScalar(required) && typeof required.value === 'boolean'))
      at(required, 'client_tls.required must be true or false');
    const enabled = client?.get('enabled', true) as Node | undefined;
    if (enabled !== undefined && !(isScalar(enabled) && typeof enabled.value === 'boolean'))
      at(enabled, 'client_tls.enabled must be true or false');
    const tlsEnabled = !(isScalar(enabled) && enabled.value === false);
    if (!tlsEnabled && isScalar(required) && required.value === true)
      at(required, 'client_tls.required cannot be true when client_tls.enabled is false');
    const recordParams = r.str(item, 'record_params', 'full');
    if (recordParams !== 'full' && recordParams !== 'redacted' && recordParams !== 'none')
      at(
        (item.get('record_params', true) as Node | undefined) ?? item,
        'record_params must be full, redacted or none',
      );
    out.push({
      name,
      listen: r.hostPort(item, 'listen', '127.0.0.1:6432'),
      upstream,
      auth: readAuth(r, r.map(item, 'auth'), item, base, at),
      tls: { mode: mode as DatabaseConfig['tls']['mode'], caFile: ca === '' ? undefined : resolve(base, ca) },
      clientTls:
        cert === '' || key === ''
          ? undefined
          : { certFile: resolve(base, cert), keyFile: resolve(base, key) },
      clientTlsRequired: isScalar(required) && required.value === true,
      clientTlsEnabled: tlsEnabled,
      searchPath: strings(item, 'search_path', ['$user', 'public'], at),
      sideEffectFunctions: strings(item, 'side_effect_functions', [], at),
      readFunctions: strings(item, 'read_functions', [], at),
      recordParams: recordParams as DatabaseConfig['recordParams'],
    });
  }
  return out;
}

function readAuth(
  r: Reader,
  auth: YAMLMap | undefined,
  item: YAMLMap,
  base: string,
  at: (node: Node | null | undefined, msg: string) => void,
): PgPasswordSource {
  const hint = 'auth must be one of {password_env: VAR}, {password_file: PATH}, {rds_iam: {region: REGION}}';
  if (auth === undefined || auth.items.length !== 1) {
    at(auth ?? item, hint);
    return { kind: 'env', name: '' };
  }
  r.onlyKeys(auth, ['password_env', 'password_file', 'rds_iam'], 'databases[].auth.');
  if (auth.has('password_env')) return { kind: 'env', name: r.str(auth, 'password_env', '') };
  if (auth.has('password_file'))
    return { kind: 'file', path: resolve(base, r.str(auth, 'password_file', '')) };
  const iam = r.map(auth, 'rds_iam');
  if (iam) r.onlyKeys(iam, ['region'], 'databases[].auth.rds_iam.');
  const region = r.str(iam, 'region', '');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    at(iam ?? auth, 'auth.rds_iam.region must be an AWS region such as us-east-1');
  return { kind: 'rds_iam', region };
}

function strings(
  item: YAMLMap,
  key: string,
  dflt: string[],
  at: (node: Node | null | undefined, msg: string) => void,
): string[] {
  const node = item.get(key, true) as Node | undefined;
  if (node === undefined) return dflt;
  if (isSeq(node) && node.items.every((i) => isScalar(i) && typeof i.value === 'string'))
    return node.items.map((i) => String((i as { value: unknown }).value));
  at(node, `${key} must be a list of strings`);
  return dflt;
}
