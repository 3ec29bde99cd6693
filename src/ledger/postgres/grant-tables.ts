/**
 * SQL of the grants table for PostgresStore. A grant is issued only with the decision
 * that approves it (approval-tables.ts); uses and revocations change it afterwards.
 */
import type { Grant } from '../../core/types.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type GrantRow, grantJson, toGrant } from '../sql-rows.js';
import type { Sql } from './pool.js';

/** A grant that may still be used at `$n` (the placeholder is given). */
const grantActive = (p: string) =>
  `revoked_at IS NULL AND expires_at > ${p} AND (max_uses IS NULL OR uses < max_uses)`;

export async function getGrant(sql: Sql, id: string): Promise<Grant | undefined> {
  const row = (await sql<GrantRow>('SELECT * FROM grants WHERE id = $1', [id])).rows[0];
  return row === undefined ? undefined : toGrant(row);
}

export async function listGrants(sql: Sql, filter: { agent?: string; activeAt?: Date }): Promise<Grant[]> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.agent !== undefined) {
    args.push(filter.agent);
    where.push(`agent = $${args.length}`);
  }
  if (filter.activeAt !== undefined) {
    args.push(filter.activeAt.getTime());
    where.push(grantActive(`$${args.length}`));
  }
  const text = `SELECT * FROM grants${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at, id COLLATE "C"`;
  return (await sql<GrantRow>(text, args)).rows.map(toGrant);
}

export async function useGrant(sql: Sql, id: string, now: Date): Promise<boolean> {
  // One conditional UPDATE: the row lock it takes makes a concurrent use of the last
  // allowed use re-check the condition after this one commits, on any replica.
  const r = await sql(`UPDATE grants SET uses = uses + 1 WHERE id = $1 AND ${grantActive('$2')}`, [
    id,
    now.getTime(),
  ]);
  return r.rowCount === 1;
}

export async function revokeGrant(
  sql: Sql,
  id: string,
  by: string,
  at: Date,
): Promise<{ result: boolean; entries: NewEntry[] }> {
  const r = await sql<{ agent: string; approval_id: string }>(
    'UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING agent, approval_id',
    [at.getTime(), by, id],
  );
  const g = r.rows[0];
  if (g === undefined) return { result: false, entries: [] };
  return { result: true, entries: [entry.grantRevoked(id, g.agent, g.approval_id, by, at)] };
}

export async function insertGrant(sql: Sql, g: Grant): Promise<void> {
  await sql(
    `INSERT INTO grants (id, approval_id, agent, issued_at, expires_at, max_uses, uses, revoked_at, revoked_by, json)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
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
    ],
  );
}
