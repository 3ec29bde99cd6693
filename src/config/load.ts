/**
 * YAML config → AirlockConfig. The file is parsed with yaml (keeping node positions),
 * its plain value checked against the one schema (schema.ts), and every problem is
 * reported as `file:line:col: message` so a broken config refuses to start with a
 * pointer to the line to fix — all problems at once, in file order.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { buildAuditCheck } from './audit-check-config.js';
import type { AirlockConfig } from './config.js';
import { buildDatabases } from './databases.js';
import { buildAdmins, buildAudit, checkpointsBesideStore } from './load-audit.js';
import { buildSlack, buildWebhooks } from './load-channels.js';
import { buildConsole, buildGuards } from './load-console.js';
import { buildLimits } from './load-limits.js';
import { buildListenerTls } from './load-listen-tls.js';
import { buildMcp } from './load-mcp.js';
import { buildResources } from './load-resources.js';
import { buildStore } from './load-store.js';
import { fromIssues, type Path, type Problem, problemAt, render } from './positions.js';
import { CONFIG_SCHEMA, type ConfigInput } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

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
  if (doc.errors.length > 0) {
    const syntax = doc.errors.map((e) => ({ offset: e.pos[0], message: e.message.split('\n')[0] ?? '' }));
    throw new ConfigError(render(syntax, path, lines).join('\n'));
  }
  const raw = doc.toJS() ?? null;
  const problems: Problem[] = [];
  const problem = (at: Path, msg: string) => problems.push(problemAt(doc, at, msg));
  checkpointsBesideStore(raw, dirname(path), problem);
  const parsed = CONFIG_SCHEMA.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      render([...problems, ...fromIssues(doc, parsed.error.issues)], path, lines).join('\n'),
    );
  const config = build(parsed.data, path);
  if (problems.length > 0) throw new ConfigError(render(problems, path, lines).join('\n'));
  return config;
}

/** The checked file → what the rest of Airlock reads: camelCase, absolute paths, defaults. */
function build(c: ConfigInput, path: string): AirlockConfig {
  const base = dirname(path);
  const dataDir = resolve(base, c.data_dir);
  const auditCheck = buildAuditCheck(c.audit_check);
  const audit = buildAudit(c.audit, base);
  const mcp = buildMcp(c.mcp);
  const slack = buildSlack(c.slack);
  const listen = c.listen ?? undefined;
  const holds = c.holds ?? undefined;
  return {
    source: path,
    dataDir,
    listen: {
      aws: listen?.aws ?? { host: '127.0.0.1', port: 4566 },
      api: listen?.api ?? { host: '127.0.0.1', port: 4567 },
      awsTls: buildListenerTls(listen?.aws_tls, base),
      apiTls: buildListenerTls(listen?.api_tls, base),
    },
    aws: { accountId: c.aws.account_id, clockSkewSeconds: c.aws.clock_skew_seconds },
    policies: c.policies.map((p) => resolve(base, p)),
    holds: {
      windowSeconds: holds?.window_seconds ?? 50,
      approvalTtlSeconds: holds?.approval_ttl_seconds ?? 900,
      defaultMaxGrantSeconds: holds?.default_max_grant_seconds ?? 3600,
    },
    resources: buildResources(c.resources),
    ...(auditCheck === undefined ? {} : { auditCheck }),
    guards: buildGuards(c.guards),
    console: buildConsole(c.console, c.oidc),
    databases: buildDatabases(c.databases, base),
    limits: buildLimits(c.limits),
    ...(audit === undefined ? {} : { audit }),
    admins: buildAdmins(c.admins),
    ...(mcp === undefined ? {} : { mcp }),
    ...(slack === undefined ? {} : { slack }),
    webhooks: buildWebhooks(c.webhooks),
    store: buildStore(c.store, base),
  };
}
