/**
 * YAML config → AirlockConfig. Every problem is reported as `file:line:col: message`
 * so a broken config refuses to start with a pointer to the line to fix.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { parseAuditCheck } from './audit-check-config.js';
import type { AirlockConfig, AssumedRoleConfig, HostPort, UpstreamRoute } from './config.js';
import { readDatabases } from './databases.js';
import { readAdmins, readAudit } from './load-audit.js';
import { readSlack, readWebhooks } from './load-channels.js';
import { readConsole, readGuards } from './load-console.js';
import { readLimits } from './load-limits.js';
import { readListenerTls } from './load-listen-tls.js';
import { readMcp } from './load-mcp.js';
import { readStore } from './load-store.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const TOP_KEYS = [
  'data_dir',
  'listen',
  'aws',
  'policies',
  'holds',
  'resources',
  'audit_check',
  'guards',
  'console',
  'oidc',
  'databases',
  'limits',
  'audit',
  'admins',
  'mcp',
  'slack',
  'webhooks',
  'store',
] as const;

export function loadConfig(path: string): AirlockConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config: ${(err as Error).message}`);
  }
  return parseConfig(text, resolve(path));
}

export function parseConfig(text: string, path: string): AirlockConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: Node | null | undefined, msg: string) => {
    const offset = node?.range?.[0] ?? 0;
    const pos = lines.linePos(offset);
    problems.push(`${path}:${pos.line}:${pos.col}: ${msg}`);
  };
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    problems.push(`${path}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const root = doc.contents;
  if (!isMap(root)) throw new ConfigError(`${path}:1:1: the config must be a YAML mapping`);

  const base = dirname(path);
  const r = new Reader(root, at);
  r.onlyKeys(root, TOP_KEYS, '');

  const dataDir = resolve(base, r.str(root, 'data_dir', '.airlock'));
  const listen = r.map(root, 'listen');
  const aws = r.map(root, 'aws');
  const holds = r.map(root, 'holds');
  if (listen) r.onlyKeys(listen, ['aws', 'api', 'aws_tls', 'api_tls'], 'listen.');
  if (aws) r.onlyKeys(aws, ['account_id', 'clock_skew_seconds'], 'aws.');
  if (holds)
    r.onlyKeys(holds, ['window_seconds', 'approval_ttl_seconds', 'default_max_grant_seconds'], 'holds.');

  const accountId = r.str(aws, 'account_id', '');
  if (!/^\d{12}$/.test(accountId))
    at(
      (aws?.get('account_id', true) as Node | undefined) ?? aws ?? root,
      'aws.account_id must be the 12-digit AWS account id whose resources Airlock fronts',
    );

  const policiesNode = root.get('policies', true) as Node | undefined;
  const policies: string[] = [];
  if (!isSeq(policiesNode) || policiesNode.items.length === 0) {
    at(policiesNode ?? root, 'policies must be a non-empty list of Cedar policy files');
  } else {
    for (const item of policiesNode.items) {
      if (isScalar(item) && typeof item.value === 'string' && item.value !== '')
        policies.push(resolve(base, item.value));
      else at(item as Node, 'each policies entry must be a file path');
    }
  }

  const resources: UpstreamRoute[] = [];
  const resNode = root.get('resources', true) as Node | undefined;
  if (resNode !== undefined && !isSeq(resNode)) at(resNode, 'resources must be a list of {arn, endpoint}');
  if (isSeq(resNode)) {
    for (const item of resNode.items) {
      if (!isMap(item)) {
        at(item as Node, 'each resources entry must be a mapping {arn, endpoint}');
        continue;
      }
      r.onlyKeys(item, ['arn', 'endpoint', ...ROLE_KEYS], 'resources[].');
      const arn = r.str(item, 'arn', '');
      const endpoint = r.str(item, 'endpoint', '');
      if (!arn.startsWith('arn:'))
        at(
          (item.get('arn', true) as Node | undefined) ?? item,
          'arn must be an ARN glob such as arn:aws:dynamodb:*:*:table/orders',
        );
      if (!isHttpUrl(endpoint))
        at((item.get('endpoint', true) as Node | undefined) ?? item, 'endpoint must be an http(s) URL');
      const role = readRole(r, item, at);
      resources.push(role === undefined ? { arn, endpoint } : { arn, endpoint, role });
    }
  }

  const windowSeconds = r.int(holds, 'window_seconds', 50, 1, 3600);
  const auditCheck = parseAuditCheck(root.get('audit_check', true) as Node | undefined, at);
  const config: AirlockConfig = {
    source: path,
    dataDir,
    listen: {
      aws: r.hostPort(listen, 'aws', '127.0.0.1:4566'),
      api: r.hostPort(listen, 'api', '127.0.0.1:4567'),
      awsTls: readListenerTls(r, listen, 'aws_tls', base),
      apiTls: readListenerTls(r, listen, 'api_tls', base),
    },
    aws: { accountId, clockSkewSeconds: r.int(aws, 'clock_skew_seconds', 300, 1, 900) },
    policies,
    holds: {
      windowSeconds,
      approvalTtlSeconds: r.int(holds, 'approval_ttl_seconds', 900, 1, 7 * 86400),
      defaultMaxGrantSeconds: r.int(holds, 'default_max_grant_seconds', 3600, 60, 30 * 86400),
    },
    resources,
    ...(auditCheck === undefined ? {} : { auditCheck }),
    guards: readGuards(r, root),
    console: readConsole(r, root),
    databases: readDatabases(r, root.get('databases', true) as Node | undefined, base, at),
    limits: readLimits(r, root),
    ...withAudit(readAudit(r, root, base, dataDir)),
    admins: readAdmins(r, root),
    ...withMcp(readMcp(r, root.get('mcp', true) as Node | undefined, at)),
    ...withSlack(readSlack(r, root)),
    webhooks: readWebhooks(r, root),
    store: readStore(r, root, base),
  };
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return config;
}

const withMcp = (mcp: AirlockConfig['mcp']) => (mcp === undefined ? {} : { mcp });
const withSlack = (slack: AirlockConfig['slack']) => (slack === undefined ? {} : { slack });
const withAudit = (audit: AirlockConfig['audit']) => (audit === undefined ? {} : { audit });

const ROLE_KEYS = ['role_arn', 'external_id', 'sts_endpoint', 'sts_region', 'max_session_seconds'];
/** https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (RoleArn, ExternalId) */
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;

function readRole(
  r: Reader,
  item: YAMLMap,
  at: (node: Node | null | undefined, msg: string) => void,
): AssumedRoleConfig | undefined {
  const node = (key: string) => (item.get(key, true) as Node | undefined) ?? item;
  const roleArn = r.str(item, 'role_arn', '');
  if (roleArn === '') {
    for (const k of ROLE_KEYS.slice(1))
      if (item.has(k)) at(node(k), `${k} needs role_arn in the same resources entry`);
    return undefined;
  }
  if (!ROLE_ARN_RE.test(roleArn))
    at(
      node('role_arn'),
      'role_arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/airlock-orders',
    );
  const externalId = item.has('external_id') ? r.str(item, 'external_id', '') : undefined;
  if (externalId !== undefined && !EXTERNAL_ID_RE.test(externalId))
    at(node('external_id'), 'external_id must be 2-1224 characters of [A-Za-z0-9+=,.@:/_-]');
  const stsEndpoint = item.has('sts_endpoint') ? r.str(item, 'sts_endpoint', '') : undefined;
  if (stsEndpoint !== undefined && !isHttpUrl(stsEndpoint))
    at(node('sts_endpoint'), 'sts_endpoint must be an http(s) URL');
  const stsRegion = r.str(item, 'sts_region', 'us-east-1');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(stsRegion)) at(node('sts_region'), 'sts_region must be an AWS region');
  const maxSessionSeconds = r.int(item, 'max_session_seconds', 3600, 900, 43200);
  return { roleArn, externalId, stsEndpoint, stsRegion, maxSessionSeconds };
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Typed reads that report a positioned problem instead of throwing, so all problems surface at once. */
export class Reader {
  constructor(
    private readonly root: YAMLMap,
    private readonly at: (node: Node | null | undefined, msg: string) => void,
  ) {}

  map(parent: YAMLMap | undefined, key: string): YAMLMap | undefined {
    const node = parent?.get(key, true) as Node | undefined;
    if (node === undefined || node === null) return undefined;
    if (!isMap(node)) {
      this.at(node, `${key} must be a mapping`);
      return undefined;
    }
    return node;
  }

  onlyKeys(map: YAMLMap, allowed: readonly string[], prefix: string): void {
    for (const pair of map.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(k)) {
        this.at(pair.key as Node, `unknown key ${prefix}${k} (expected one of: ${allowed.join(', ')})`);
      }
    }
  }

  bool(map: YAMLMap | undefined, key: string, dflt: boolean): boolean {
    const node = map?.get(key, true) as Node | undefined;
    if (node === undefined) return dflt;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.at(node, `${key} must be true or false`);
    return dflt;
  }

  /** Reports a problem at `key` of `map` (or at the map itself). */
  problem(map: YAMLMap, key: string, msg: string): void {
    this.at((map.get(key, true) as Node | undefined) ?? map, msg);
  }

  str(map: YAMLMap | undefined, key: string, dflt: string): string {
    const node = map?.get(key, true) as Node | undefined;
    if (node === undefined) return dflt;
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number'))
      return String(node.value);
    this.at(node, `${key} must be a string`);
    return dflt;
  }

  int(map: YAMLMap | undefined, key: string, dflt: number, min: number, max: number): number {
    const node = map?.get(key, true) as Node | undefined;
    if (node === undefined) return dflt;
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) {
      if (node.value >= min && node.value <= max) return node.value;
    }
    this.at(node, `${key} must be an integer from ${min} to ${max}`);
    return dflt;
  }

  hostPort(map: YAMLMap | undefined, key: string, dflt: string): HostPort {
    const raw = this.str(map, key, dflt);
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw);
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || m[1] === undefined || port > 65535) {
      this.at(
        (map?.get(key, true) as Node | undefined) ?? this.root,
        `${key} must be host:port, e.g. 127.0.0.1:4566`,
      );
      return { host: '127.0.0.1', port: 0 };
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  }
}
