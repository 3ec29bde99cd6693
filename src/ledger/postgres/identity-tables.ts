/**
 * SQL of the identity tables (agents, approvers) for PostgresStore. Writers run inside
 * the store's transaction, after it locked the chain head (so checks such as the
 * agent/approver name clash cannot race another replica), and return the ledger
 * entries to append with them.
 */
import { randomBytes } from 'node:crypto';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type AgentRow, type ApproverRow, toAgent, toApprover } from '../sql-rows.js';
import { StoreConflict, type StoredAgent, type StoredApprover } from '../store.js';
import type { Sql } from './pool.js';

type Changed<R> = { result: R; entries: NewEntry[] };

// Agents

export async function insertAgent(sql: Sql, a: StoredAgent): Promise<NewEntry[]> {
  if ((await approverByName(sql, a.name)) !== undefined) {
    throw new StoreConflict(`${a.name} is an approver; an approver identity cannot also be an agent`);
  }
  await sql('INSERT INTO agents (name, access_key_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4)', [
    a.name,
    a.accessKeyId,
    a.sealedSecret,
    a.createdAt.getTime(),
  ]);
  return [entry.agentCreated(a)];
}

export async function agentByAccessKey(sql: Sql, accessKeyId: string): Promise<StoredAgent | undefined> {
  const r = await sql<AgentRow>('SELECT * FROM agents WHERE access_key_id = $1', [accessKeyId]);
  return r.rows[0] === undefined ? undefined : toAgent(r.rows[0]);
}

export async function agentByName(sql: Sql, name: string): Promise<StoredAgent | undefined> {
  const r = await sql<AgentRow>('SELECT * FROM agents WHERE name = $1', [name]);
  return r.rows[0] === undefined ? undefined : toAgent(r.rows[0]);
}

export async function listAgents(sql: Sql): Promise<StoredAgent[]> {
  return (await sql<AgentRow>('SELECT * FROM agents ORDER BY name COLLATE "C"')).rows.map(toAgent);
}

export async function revokeAgent(sql: Sql, name: string, at: Date): Promise<Changed<boolean>> {
  const r = await sql('UPDATE agents SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [
    at.getTime(),
    name,
  ]);
  if (r.rowCount !== 1) return { result: false, entries: [] };
  return { result: true, entries: [entry.agentRevoked(name, at)] };
}

// Approvers

export async function insertApprover(sql: Sql, a: StoredApprover): Promise<NewEntry[]> {
  if ((await agentByName(sql, a.name)) !== undefined) {
    throw new StoreConflict(`${a.name} is an agent; an agent identity cannot also be an approver`);
  }
  await sql('INSERT INTO approvers (name, groups, token_hash, created_at) VALUES ($1, $2, $3, $4)', [
    a.name,
    JSON.stringify(a.groups),
    a.tokenHash,
    a.createdAt.getTime(),
  ]);
  return [entry.approverCreated(a)];
}

export async function approverByTokenHash(sql: Sql, tokenHash: string): Promise<StoredApprover | undefined> {
  const r = await sql<ApproverRow>('SELECT * FROM approvers WHERE token_hash = $1', [tokenHash]);
  return r.rows[0] === undefined ? undefined : toApprover(r.rows[0]);
}

export async function listApprovers(sql: Sql): Promise<StoredApprover[]> {
  return (await sql<ApproverRow>('SELECT * FROM approvers ORDER BY name COLLATE "C"')).rows.map(toApprover);
}

export async function approverByName(sql: Sql, name: string): Promise<StoredApprover | undefined> {
  const r = await sql<ApproverRow>('SELECT * FROM approvers WHERE name = $1', [name]);
  return r.rows[0] === undefined ? undefined : toApprover(r.rows[0]);
}

/** An UPDATE of one active local approver's column; the ledger entry when it changed. */
async function updateLocal(
  sql: Sql,
  name: string,
  column: 'password_hash' | 'groups' | 'token_hash',
  value: string,
  change: NewEntry,
): Promise<Changed<boolean>> {
  const r = await sql(
    `UPDATE approvers SET ${column} = $1 WHERE name = $2 AND revoked_at IS NULL AND source = 'local'`,
    [value, name],
  );
  return r.rowCount === 1 ? { result: true, entries: [change] } : { result: false, entries: [] };
}

export function setApproverPassword(sql: Sql, name: string, passwordHash: string, at: Date) {
  const change = { change: 'password-set', passwordDigest: entry.credentialDigest(passwordHash) };
  return updateLocal(sql, name, 'password_hash', passwordHash, entry.approverUpdated(name, change, at));
}

/** Local approvers only: an SSO approver's groups come from its identity provider at each sign-in. */
export function setApproverGroups(sql: Sql, name: string, groups: readonly string[], at: Date) {
  const change = entry.approverUpdated(name, { change: 'groups', groups }, at);
  return updateLocal(sql, name, 'groups', JSON.stringify(groups), change);
}

export function rotateApproverToken(sql: Sql, name: string, tokenHash: string, at: Date) {
  const change = { change: 'token-rotated', tokenDigest: entry.credentialDigest(tokenHash) };
  return updateLocal(sql, name, 'token_hash', tokenHash, entry.approverUpdated(name, change, at));
}

export async function revokeApprover(sql: Sql, name: string, at: Date): Promise<Changed<boolean>> {
  const r = await sql('UPDATE approvers SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [
    at.getTime(),
    name,
  ]);
  if (r.rowCount !== 1) return { result: false, entries: [] };
  return { result: true, entries: [entry.approverRevoked(name, at)] };
}

/** `bound` is the `oidc:<sha256 of subject>` source the name is (or gets) bound to (sql-rows.ts ssoSource). */
export async function upsertSsoApprover(
  sql: Sql,
  name: string,
  groups: readonly string[],
  at: Date,
  bound: string,
): Promise<Changed<StoredApprover>> {
  const row = (await sql<ApproverRow>('SELECT * FROM approvers WHERE name = $1', [name])).rows[0];
  const entries: NewEntry[] = [];
  if (row === undefined) {
    if ((await agentByName(sql, name)) !== undefined) {
      throw new StoreConflict(`${name} is an agent identity; agents cannot sign in to the console`);
    }
    // SSO approvers have no bearer token: a random hash no token can match.
    const tokenHash = `sso:${randomBytes(32).toString('hex')}`;
    await sql(
      'INSERT INTO approvers (name, groups, token_hash, created_at, source) VALUES ($1, $2, $3, $4, $5)',
      [name, JSON.stringify(groups), tokenHash, at.getTime(), bound],
    );
    entries.push(
      entry.approverCreated({ name, groups, createdAt: at, revokedAt: undefined, tokenHash, source: 'oidc' }),
    );
  } else {
    if (row.source === null || row.source === undefined || !row.source.startsWith('oidc')) {
      throw new StoreConflict(`${name} is a local approver, not an SSO one`);
    }
    if (row.source === 'oidc') {
      await sql('UPDATE approvers SET source = $1 WHERE name = $2', [bound, name]);
    } else if (row.source !== bound) {
      throw new StoreConflict(`${name} is already the approver name of another SSO identity`);
    }
    if (row.groups !== JSON.stringify(groups)) {
      await sql('UPDATE approvers SET groups = $1 WHERE name = $2', [JSON.stringify(groups), name]);
      entries.push(entry.approverUpdated(name, { change: 'groups', groups }, at));
    }
  }
  const fresh = await approverByName(sql, name);
  if (fresh === undefined) throw new Error(`approver ${name} vanished`);
  return { result: fresh, entries };
}

/** One Slack user per approver and one approver per Slack user (a unique index). */
export async function linkApproverSlack(
  sql: Sql,
  name: string,
  slackUserId: string,
  at: Date,
): Promise<Changed<boolean>> {
  const other = await sql<{ name: string }>(
    'SELECT name FROM approvers WHERE slack_user = $1 AND name <> $2',
    [slackUserId, name],
  );
  const taken = other.rows[0];
  if (taken !== undefined)
    throw new StoreConflict(`Slack user ${slackUserId} is already linked to approver ${taken.name}`);
  const r = await sql('UPDATE approvers SET slack_user = $1 WHERE name = $2 AND revoked_at IS NULL', [
    slackUserId,
    name,
  ]);
  if (r.rowCount !== 1) return { result: false, entries: [] };
  return {
    result: true,
    entries: [entry.approverUpdated(name, { change: 'slack-linked', slackUser: slackUserId }, at)],
  };
}

export async function approverBySlackUser(
  sql: Sql,
  slackUserId: string,
): Promise<StoredApprover | undefined> {
  const r = await sql<ApproverRow>('SELECT * FROM approvers WHERE slack_user = $1', [slackUserId]);
  return r.rows[0] === undefined ? undefined : toApprover(r.rows[0]);
}
