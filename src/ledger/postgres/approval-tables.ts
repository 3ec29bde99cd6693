/**
 * SQL of the approval tables (approvals, approval_views, decisions) for PostgresStore.
 * Writers run inside the store's transaction after it locked the chain head, so a
 * check and the write it guards (retry dedupe, one vote per approver, a revoked
 * approver) see every replica's earlier writes; each returns the ledger entries to
 * append with it. A change of an approval's status is announced (NOTIFY, delivered at
 * commit) so holds on other replicas wake at once.
 */
import type { Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type ApprovalRow, type DecisionRow, toApproval, toDecision, toJson } from '../sql-rows.js';
import { StoreConflict } from '../store.js';
import { insertGrant } from './grant-tables.js';
import type { Sql } from './pool.js';

/** The LISTEN/NOTIFY channel whose payload is the id of an approval that left 'pending'. */
export const APPROVAL_CHANNEL = 'airlock_approval';

export async function insertApproval(sql: Sql, a: Approval, fingerprint?: string): Promise<NewEntry[]> {
  await sql(
    `INSERT INTO approvals (id, request_id, agent, status, created_at, expires_at, decided_at, grant_id, json, fingerprint)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      a.id,
      a.requestId,
      a.agent,
      a.status,
      a.createdAt.getTime(),
      a.expiresAt.getTime(),
      a.decidedAt?.getTime() ?? null,
      a.grantId ?? null,
      toJson(a),
      fingerprint ?? null,
    ],
  );
  return [entry.approvalRequested(a)];
}

/** The pending, unexpired approval opened for the same request (`fingerprint`), or `a` inserted. */
export async function openApproval(
  sql: Sql,
  a: Approval,
  fingerprint: string,
): Promise<{ result: Approval; entries: NewEntry[] }> {
  const row = (
    await sql<ApprovalRow>(
      `SELECT * FROM approvals WHERE fingerprint = $1 AND status = 'pending' AND expires_at > $2
         ORDER BY created_at LIMIT 1`,
      [fingerprint, a.createdAt.getTime()],
    )
  ).rows[0];
  if (row !== undefined) return { result: toApproval(row), entries: [] };
  return { result: a, entries: await insertApproval(sql, a, fingerprint) };
}

export async function getApproval(sql: Sql, id: string): Promise<Approval | undefined> {
  const row = await approvalRow(sql, id);
  return row === undefined ? undefined : toApproval(row);
}

export async function listApprovals(sql: Sql, filter: { status?: ApprovalStatus }): Promise<Approval[]> {
  const order = 'ORDER BY created_at, id COLLATE "C"';
  const r =
    filter.status === undefined
      ? await sql<ApprovalRow>(`SELECT * FROM approvals ${order}`)
      : await sql<ApprovalRow>(`SELECT * FROM approvals WHERE status = $1 ${order}`, [filter.status]);
  return r.rows.map(toApproval);
}

export async function markShown(
  sql: Sql,
  approvalId: string,
  approver: string,
  at: Date,
): Promise<{ result: Date; entries: NewEntry[] }> {
  const agent = (await approvalRow(sql, approvalId))?.agent;
  if (agent === undefined) throw new Error(`approval ${approvalId} not found`);
  const r = await sql(
    `INSERT INTO approval_views (approval_id, approver, first_shown_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
    [approvalId, approver, at.getTime()],
  );
  const first = (await firstShown(sql, approvalId, approver)) ?? at;
  return {
    result: first,
    entries: r.rowCount === 1 ? [entry.approvalShown(approvalId, agent, approver, at)] : [],
  };
}

export async function firstShown(sql: Sql, approvalId: string, approver: string): Promise<Date | undefined> {
  const row = (
    await sql<{ first_shown_at: number }>(
      'SELECT first_shown_at FROM approval_views WHERE approval_id = $1 AND approver = $2',
      [approvalId, approver],
    )
  ).rows[0];
  return row === undefined ? undefined : new Date(row.first_shown_at);
}

export async function decisions(sql: Sql, approvalId: string): Promise<DecisionRecord[]> {
  const r = await sql<DecisionRow>(
    'SELECT * FROM decisions WHERE approval_id = $1 ORDER BY decided_at, approver COLLATE "C"',
    [approvalId],
  );
  return r.rows.map(toDecision);
}

export async function recordDecision(
  sql: Sql,
  d: DecisionRecord,
  resolve?: { status: 'approved' | 'denied'; grant?: Grant; countedApprovers?: readonly string[] },
): Promise<NewEntry[]> {
  const approval = await approvalRow(sql, d.approvalId);
  if (approval === undefined) throw new StoreConflict(`approval ${d.approvalId} not found`);
  if (approval.status !== 'pending') {
    throw new StoreConflict(`approval ${d.approvalId} is ${approval.status}`);
  }
  // The Decider counted votes from a read made before this transaction: an approver
  // revoked since (through any replica) must neither decide nor be counted.
  const names = [...new Set([d.approver, ...(resolve?.countedApprovers ?? [])])];
  const revoked = await sql<{ name: string }>(
    'SELECT name FROM approvers WHERE name = ANY($1) AND revoked_at IS NOT NULL',
    [names],
  );
  if (revoked.rows[0] !== undefined) {
    throw new StoreConflict(
      `approver ${revoked.rows[0].name} was revoked while this decision was being made; try again`,
    );
  }
  const r = await sql(
    `INSERT INTO decisions (approval_id, approver, verdict, comment, channel, shown_at, decided_at, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [
      d.approvalId,
      d.approver,
      d.verdict,
      d.comment,
      d.channel,
      d.shownAt?.getTime() ?? null,
      d.decidedAt.getTime(),
      d.viewedDetail === undefined
        ? null
        : toJson({
            reviewSeconds: d.reviewSeconds,
            viewedDetail: d.viewedDetail,
            guards: d.guards,
            ...(d.breadth === undefined ? {} : { breadth: d.breadth }),
          }),
    ],
  );
  if (r.rowCount !== 1) throw new StoreConflict(`${d.approver} already decided approval ${d.approvalId}`);
  const agent = approval.agent;
  const entries = [entry.approvalDecided(d, agent)];
  if (resolve === undefined) return entries;
  const grant = resolve.status === 'approved' ? resolve.grant : undefined;
  if (grant !== undefined && grant.approvalId !== d.approvalId) {
    throw new Error(`grant ${grant.id} is for approval ${grant.approvalId}, not ${d.approvalId}`);
  }
  await sql('UPDATE approvals SET status = $1, decided_at = $2, grant_id = $3 WHERE id = $4', [
    resolve.status,
    d.decidedAt.getTime(),
    grant?.id ?? null,
    d.approvalId,
  ]);
  entries.push(entry.approvalResolved(d.approvalId, agent, resolve.status, d.decidedAt, grant?.id));
  if (grant !== undefined) {
    await insertGrant(sql, grant);
    entries.push(entry.grantIssued(grant));
  }
  await announce(sql, [d.approvalId]);
  return entries;
}

export async function expireApprovals(
  sql: Sql,
  now: Date,
): Promise<{ result: string[]; entries: NewEntry[] }> {
  const due = await sql<{ id: string; agent: string; expires_at: number }>(
    `UPDATE approvals SET status = 'expired', decided_at = $1
       WHERE status = 'pending' AND expires_at <= $1 RETURNING id, agent, expires_at`,
    [now.getTime()],
  );
  // RETURNING has no order: the ledger lists them as SQLite does, by expiry then id.
  const rows = [...due.rows].sort(
    (a, b) => a.expires_at - b.expires_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  await announce(
    sql,
    rows.map((a) => a.id),
  );
  const entries = rows.map(({ id, agent }) => entry.approvalResolved(id, agent, 'expired', now));
  return { result: rows.map((a) => a.id), entries };
}

/** NOTIFY is transactional: listeners hear it only if (and once) the decision commits. */
async function announce(sql: Sql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql(`SELECT pg_notify('${APPROVAL_CHANNEL}', id) FROM unnest($1::text[]) AS id`, [ids]);
}

async function approvalRow(sql: Sql, id: string): Promise<ApprovalRow | undefined> {
  return (await sql<ApprovalRow>('SELECT * FROM approvals WHERE id = $1', [id])).rows[0];
}
