/**
 * The `audit:` section (signed ledger checkpoints, docs/ARCHITECTURE.md "Store") and
 * the `admins:` section (who may revoke other approvers over the API). Same rules as
 * load.ts: unknown keys and bad values are reported with file:line.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { AdminsConfig, AuditConfig } from './config.js';
import type { Reader } from './load.js';

const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export function readAudit(r: Reader, root: YAMLMap, base: string, dataDir: string): AuditConfig | undefined {
  const audit = r.map(root, 'audit');
  if (audit === undefined) return undefined;
  r.onlyKeys(audit, ['checkpoints'], 'audit.');
  const cp = r.map(audit, 'checkpoints');
  if (cp === undefined) return {};
  r.onlyKeys(cp, ['dir', 'interval_seconds'], 'audit.checkpoints.');
  const raw = r.str(cp, 'dir', '');
  if (raw === '') {
    r.problem(cp, 'dir', 'audit.checkpoints.dir must name a directory outside data_dir');
    return {};
  }
  const dir = resolve(base, raw);
  const rel = relative(dataDir, dir);
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (!outside) {
    // A checkpoint beside the store is lost, or rewritten, together with it.
    r.problem(cp, 'dir', `audit.checkpoints.dir must be outside data_dir (${dataDir})`);
  }
  return { checkpoints: { dir, intervalSeconds: r.int(cp, 'interval_seconds', 60, 1, 86400) } };
}

export function readAdmins(r: Reader, root: YAMLMap): AdminsConfig {
  const admins = r.map(root, 'admins');
  if (admins === undefined) return { groups: [] };
  r.onlyKeys(admins, ['groups'], 'admins.');
  const node = admins.get('groups', true) as Node | undefined;
  const groups: string[] = [];
  if (node !== undefined && !isSeq(node))
    r.problem(admins, 'groups', 'admins.groups must be a list of approver groups');
  if (isSeq(node)) {
    for (const item of node.items) {
      if (isScalar(item) && typeof item.value === 'string' && NAME_RE.test(item.value))
        groups.push(item.value);
      else
        r.problem(admins, 'groups', 'each admins.groups entry must be an approver group name (lower-case)');
    }
  }
  return { groups };
}
