/**
 * SQL of the approval tables (approvals, approval_views, decisions) for SqliteStore.
 * Writers run inside the store's IMMEDIATE transaction and return the ledger entries
 * to append with them; the decision that resolves an approval issues its grant too.
 */
import type { Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type ApprovalRow, type DecisionRow, toApproval, toDecision, toJson } from '../sql-rows.js';
import { StoreConflict } from '../store.js';
import { insertGrant } from './grant-tables.js';
import type { Sql } from './statement-cache.js';

export function insertApproval(sql: Sql, a: Approval): NewEntry[] {
  sql(
    `INSERT INTO approvals (id, request_id, agent, status, created_at, expires_at, decided_at, grant_id, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    a.id,
    a.requestId,
    a.agent,
    a.status,
    a.createdAt.getTime(),
    a.expiresAt.getTime(),
    a.decidedAt?.getTime() ?? null,
    a.grantId ?? null,
    toJson(a),
  );
  return [entry.approvalRequested(a)];
}

/**
 * The pending, unexpired approval opened for the same request (`fingerprint`), or `a`
 * inserted as a new one: one transaction, so two retries arriving together share one.
 */
export function openApproval(
  sql: Sql,
  a: Approval,
  fingerprint: string,
): { result: Approval; entries: NewEntry[] } {
  const row = sql<[string, number], ApprovalRow>(
    `SELECT * FROM approvals WHERE fingerprint = ? AND status = 'pending' AND expires_at > ?
       ORDER BY created_at LIMIT 1`,
  ).get(fingerprint, a.createdAt.getTime());
  if (row !== undefined) return { result: toApproval(row), entries: [] };
  const entries = insertApproval(sql, a);
  sql('UPDATE approvals SET fingerprint = ? WHERE id = ?').run(fingerprint, a.id);
  return { result: a, entries };
}

export function getApproval(sql: Sql, id: string): Approval | undefined {
  const row = approvalRow(sql, id);
  return row === undefined ? undefined : toApproval(row);
}

export function listApprovals(sql: Sql, filter: { status?: ApprovalStatus }): Approval[] {
  const rows =
    filter.status === undefined
      ? sql<[], ApprovalRow>('SELECT * FROM approvals ORDER BY created_at, id').all()
      : sql<[string], ApprovalRow>('SELECT * FROM approvals WHERE status = ? ORDER BY created_at, id').all(
          filter.status,
        );
  return rows.map(toApproval);
}

export function markShown(
  sql: Sql,
  approvalId: string,
  approver: string,
  at: Date,
): { result: Date; entries: NewEntry[] } {
  const agent = approvalRow(sql, approvalId)?.agent;
  if (agent === undefined) throw new Error(`approval ${approvalId} not found`);
  const r = sql(
    'INSERT OR IGNORE INTO approval_views (approval_id, approver, first_shown_at) VALUES (?, ?, ?)',
  ).run(approvalId, approver, at.getTime());
  const first = firstShown(sql, approvalId, approver) ?? at;
  return {
    result: first,
    entries: r.changes === 1 ? [entry.approvalShown(approvalId, agent, approver, at)] : [],
  };
}

export function firstShown(sql: Sql, approvalId: string, approver: string): Date | undefined {
  const row = sql<[string, string], { first_shown_at: number }>(
    'SELECT first_shown_at FROM approval_views WHERE approval_id = ? AND approver = ?',
  ).get(approvalId, approver);
  return row === undefined ? undefined : new Date(row.first_shown_at);
}

export function decisions(sql: Sql, approvalId: string): DecisionRecord[] {
  return sql<[string], DecisionRow>(
    'SELECT * FROM decisions WHERE approval_id = ? ORDER BY decided_at, approver',
  )
    .all(approvalId)
    .map(toDecision);
}

export function recordDecision(
  sql: Sql,
  d: DecisionRecord,
  resolve?: { status: 'approved' | 'denied'; grant?: Grant; countedApprovers?: readonly string[] },
): NewEntry[] {
  const approval = approvalRow(sql, d.approvalId);
  if (approval === undefined) throw new StoreConflict(`approval ${d.approvalId} not found`);
  if (approval.status !== 'pending') {
    throw new StoreConflict(`approval ${d.approvalId} is ${approval.status}`);
  }
  // The Decider counted votes from a read made before this transaction: an approver
  // revoked since (by another process) must neither decide nor be counted.
  const revoked = sql<[string], { revoked_at: number | null }>(
    'SELECT revoked_at FROM approvers WHERE name = ?',
  );
  for (const name of new Set([d.approver, ...(resolve?.countedApprovers ?? [])])) {
    if ((revoked.get(name)?.revoked_at ?? null) !== null) {
      throw new StoreConflict(`approver ${name} was revoked while this decision was being made; try again`);
    }
  }
  const r = sql(
    `INSERT OR IGNORE INTO decisions (approval_id, approver, verdict, comment, channel, shown_at, decided_at, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
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
          ...(d.slack === undefined ? {} : { slack: d.slack }),
          ...(d.breadth === undefined ? {} : { breadth: d.breadth }),
        }),
  );
  if (r.changes !== 1) throw new StoreConflict(`${d.approver} already decided approval ${d.approvalId}`);
  const agent = approval.agent;
  const entries = [entry.approvalDecided(d, agent)];
  if (resolve === undefined) return entries;
  const grant = resolve.status === 'approved' ? resolve.grant : undefined;
  if (grant !== undefined && grant.approvalId !== d.approvalId) {
    throw new Error(`grant ${grant.id} is for approval ${grant.approvalId}, not ${d.approvalId}`);
  }
  sql('UPDATE approvals SET status = ?, decided_at = ?, grant_id = ? WHERE id = ?').run(
    resolve.status,
    d.decidedAt.getTime(),
    grant?.id ?? null,
    d.approvalId,
  );
  entries.push(entry.approvalResolved(d.approvalId, agent, resolve.status, d.decidedAt, grant?.id));
  if (grant !== undefined) {
    insertGrant(sql, grant);
    entries.push(entry.grantIssued(grant));
  }
  return entries;
}

export function expireApprovals(sql: Sql, now: Date): { result: string[]; entries: NewEntry[] } {
  const due = sql<[number], { id: string; agent: string }>(
    "SELECT id, agent FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id",
  ).all(now.getTime());
  const update = sql(
    "UPDATE approvals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'",
  );
  for (const { id } of due) update.run(now.getTime(), id);
  const entries = due.map(({ id, agent }) => entry.approvalResolved(id, agent, 'expired', now));
  return { result: due.map((a) => a.id), entries };
}

function approvalRow(sql: Sql, id: string): ApprovalRow | undefined {
  return sql<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?').get(id);
}
