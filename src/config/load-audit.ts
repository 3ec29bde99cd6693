/**
 * The `audit:` section (signed ledger checkpoints, docs/ARCHITECTURE.md "Store") and
 * the `admins:` section (who may revoke other approvers over the API).
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import type { AdminsConfig, AuditConfig } from './config.js';
import { int, obj, scalars, text } from './schema-fields.js';

const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export const AUDIT_SCHEMA = obj({
  checkpoints: obj({
    dir: text('audit.checkpoints.dir must name a directory outside data_dir', (s) => s !== '').describe(
      'outside data_dir, on storage this host cannot rewrite',
    ),
    interval_seconds: int(1, 86400).default(60).describe('also published at start and on shutdown'),
  })
    .optional()
    .describe('signed ledger checkpoints (docs/VERIFY.md)'),
});

export const ADMINS_SCHEMA = obj({
  groups: scalars(
    text('each admins.groups entry must be an approver group name (lower-case)', NAME_RE),
    'admins.groups must be a list of approver groups',
  ).optional(),
});

/** `dir` resolved against the config file (where it may be: checkpointsBesideStore). */
export function buildAudit(
  a: z.output<typeof AUDIT_SCHEMA> | null | undefined,
  base: string,
): AuditConfig | undefined {
  if (a === undefined || a === null) return undefined;
  const cp = a.checkpoints;
  if (cp === undefined || cp === null) return {};
  return { checkpoints: { dir: resolve(base, cp.dir), intervalSeconds: cp.interval_seconds } };
}

/**
 * A checkpoint beside the store is lost, or rewritten, together with it. Checked on the
 * raw file, before and whatever the schema says, so that this problem is reported together
 * with any other one in the file (all problems at once).
 */
export function checkpointsBesideStore(
  raw: unknown,
  base: string,
  problem: (path: readonly PropertyKey[], msg: string) => void,
): void {
  const c = raw as { data_dir?: unknown; audit?: { checkpoints?: { dir?: unknown } | null } | null } | null;
  const dataDirText = c?.data_dir;
  const dirText = c?.audit?.checkpoints?.dir;
  if (typeof dataDirText !== 'string' || typeof dirText !== 'string' || dirText === '') return;
  const dataDir = resolve(base, dataDirText);
  const rel = relative(dataDir, resolve(base, dirText));
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (!outside)
    problem(['audit', 'checkpoints', 'dir'], `audit.checkpoints.dir must be outside data_dir (${dataDir})`);
}

export function buildAdmins(a: z.output<typeof ADMINS_SCHEMA> | null | undefined): AdminsConfig {
  return { groups: a?.groups ?? [] };
}
