/**
 * SQL of the grants table for SqliteStore. A grant is issued only with the decision
 * that approves it (approval-tables.ts); uses and revocations change it afterwards.
 */
import type { Grant } from '../../core/types.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type GrantRow, grantJson, toGrant } from '../sql-rows.js';
import type { Sql } from './statement-cache.js';

/** A grant that may still be used at `?` (bound once). */
const GRANT_ACTIVE = 'revoked_at IS NULL AND expires_at > ? AND (max_uses IS NULL OR uses < max_uses)';

export function getGrant(sql: Sql, id: string): Grant | undefined {
  const row = sql<[string], GrantRow>('SELECT * FROM grants WHERE id = ?').get(id);
  return row === undefined ? undefined : toGrant(row);
}

export function listGrants(sql: Sql, filter: { agent?: string; activeAt?: Date }): Grant[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.agent !== undefined) {
    where.push('agent = ?');
    args.push(filter.agent);
  }
  if (filter.activeAt !== undefined) {
    where.push(GRANT_ACTIVE);
    args.push(filter.activeAt.getTime());
  }
  const text = `SELECT * FROM grants${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at, id`;
  return sql<(string | number)[], GrantRow>(text)
    .all(...args)
    .map(toGrant);
}

export function useGrant(sql: Sql, id: string, now: Date): boolean {
  // One conditional UPDATE: two concurrent uses of the last allowed use cannot both win.
  const r = sql(`UPDATE grants SET uses = uses + 1 WHERE id = ? AND ${GRANT_ACTIVE}`).run(id, now.getTime());
  return r.changes === 1;
}

export function revokeGrant(
  sql: Sql,
  id: string,
  by: string,
  at: Date,
): { result: boolean; entries: NewEntry[] } {
  const r = sql('UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL').run(
    at.getTime(),
    by,
    id,
  );
  if (r.changes !== 1) return { result: false, entries: [] };
  const g = sql<[string], { agent: string; approval_id: string }>(
    'SELECT agent, approval_id FROM grants WHERE id = ?',
  ).get(id);
  return { result: true, entries: [entry.grantRevoked(id, g?.agent, g?.approval_id, by, at)] };
}

export function insertGrant(sql: Sql, g: Grant): void {
  sql(
    `INSERT INTO grants (id, approval_id, agent, issued_at, expires_at, max_uses, uses, revoked_at, revoked_by, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    g.id,
    g.approvalId,
    g.agent,
    g.issuedAt.getTime(),
    g.expiresAt.getTime(),
    g.maxUses ?? null,
    g.uses,
    g.revokedAt?.getTime() ?? null,
    g.revokedBy ?? null,
    grantJson(g),
  );
}
