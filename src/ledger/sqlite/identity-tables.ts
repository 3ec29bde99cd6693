/**
 * SQL of the identity tables (agents, approvers) for SqliteStore. Writers run inside
 * the store's IMMEDIATE transaction and return the ledger entries to append with them.
 */
import { randomBytes } from 'node:crypto';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import { type AgentRow, type ApproverRow, toAgent, toApprover } from '../sql-rows.js';
import { StoreConflict, type StoredAgent, type StoredApprover } from '../store.js';
import type { Sql } from './statement-cache.js';

// Agents

export function insertAgent(sql: Sql, a: StoredAgent): NewEntry[] {
  // Checked here, inside the write transaction, so a concurrent `approvers create` of the
  // same name in another process cannot slip between a check and this insert.
  if (approverByName(sql, a.name) !== undefined) {
    throw new StoreConflict(`${a.name} is an approver; an approver identity cannot also be an agent`);
  }
  sql('INSERT INTO agents (name, access_key_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)').run(
    a.name,
    a.accessKeyId,
    a.sealedSecret,
    a.createdAt.getTime(),
  );
  return [entry.agentCreated(a)];
}

export function agentByAccessKey(sql: Sql, accessKeyId: string): StoredAgent | undefined {
  const row = sql<[string], AgentRow>('SELECT * FROM agents WHERE access_key_id = ?').get(accessKeyId);
  return row === undefined ? undefined : toAgent(row);
}

export function agentByName(sql: Sql, name: string): StoredAgent | undefined {
  const row = sql<[string], AgentRow>('SELECT * FROM agents WHERE name = ?').get(name);
  return row === undefined ? undefined : toAgent(row);
}

export function listAgents(sql: Sql): StoredAgent[] {
  return sql<[], AgentRow>('SELECT * FROM agents ORDER BY name').all().map(toAgent);
}

export function revokeAgent(sql: Sql, name: string, at: Date): { result: boolean; entries: NewEntry[] } {
  const r = sql('UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(
    at.getTime(),
    name,
  );
  if (r.changes !== 1) return { result: false, entries: [] };
  return { result: true, entries: [entry.agentRevoked(name, at)] };
}

// Approvers

export function insertApprover(sql: Sql, a: StoredApprover): NewEntry[] {
  if (agentByName(sql, a.name) !== undefined) {
    throw new StoreConflict(`${a.name} is an agent; an agent identity cannot also be an approver`);
  }
  sql('INSERT INTO approvers (name, groups, token_hash, created_at) VALUES (?, ?, ?, ?)').run(
    a.name,
    JSON.stringify(a.groups),
    a.tokenHash,
    a.createdAt.getTime(),
  );
  return [entry.approverCreated(a)];
}

export function approverByTokenHash(sql: Sql, tokenHash: string): StoredApprover | undefined {
  const row = sql<[string], ApproverRow>('SELECT * FROM approvers WHERE token_hash = ?').get(tokenHash);
  return row === undefined ? undefined : toApprover(row);
}

export function listApprovers(sql: Sql): StoredApprover[] {
  return sql<[], ApproverRow>('SELECT * FROM approvers ORDER BY name').all().map(toApprover);
}

export function approverByName(sql: Sql, name: string): StoredApprover | undefined {
  const row = sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
  return row === undefined ? undefined : toApprover(row);
}

export function setApproverPassword(
  sql: Sql,
  name: string,
  passwordHash: string,
  at: Date,
): { result: boolean; entries: NewEntry[] } {
  const r = sql(
    "UPDATE approvers SET password_hash = ? WHERE name = ? AND revoked_at IS NULL AND source = 'local'",
  ).run(passwordHash, name);
  if (r.changes !== 1) return { result: false, entries: [] };
  return {
    result: true,
    entries: [
      entry.approverUpdated(
        name,
        { change: 'password-set', passwordDigest: entry.credentialDigest(passwordHash) },
        at,
      ),
    ],
  };
}

export function revokeApprover(sql: Sql, name: string, at: Date): { result: boolean; entries: NewEntry[] } {
  const r = sql('UPDATE approvers SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(
    at.getTime(),
    name,
  );
  if (r.changes !== 1) return { result: false, entries: [] };
  return { result: true, entries: [entry.approverRevoked(name, at)] };
}

/** Local approvers only: an SSO approver's groups come from its identity provider at each sign-in. */
export function setApproverGroups(
  sql: Sql,
  name: string,
  groups: readonly string[],
  at: Date,
): { result: boolean; entries: NewEntry[] } {
  const r = sql(
    "UPDATE approvers SET groups = ? WHERE name = ? AND revoked_at IS NULL AND source = 'local'",
  ).run(JSON.stringify(groups), name);
  if (r.changes !== 1) return { result: false, entries: [] };
  return { result: true, entries: [entry.approverUpdated(name, { change: 'groups', groups }, at)] };
}

export function rotateApproverToken(
  sql: Sql,
  name: string,
  tokenHash: string,
  at: Date,
): { result: boolean; entries: NewEntry[] } {
  const r = sql(
    "UPDATE approvers SET token_hash = ? WHERE name = ? AND revoked_at IS NULL AND source = 'local'",
  ).run(tokenHash, name);
  if (r.changes !== 1) return { result: false, entries: [] };
  return {
    result: true,
    entries: [
      entry.approverUpdated(
        name,
        { change: 'token-rotated', tokenDigest: entry.credentialDigest(tokenHash) },
        at,
      ),
    ],
  };
}

/** `bound` is the `oidc:<sha256 of subject>` source the name is (or gets) bound to. */
export function upsertSsoApprover(
  sql: Sql,
  name: string,
  groups: readonly string[],
  at: Date,
  bound: string,
): { result: StoredApprover; entries: NewEntry[] } {
  const row = sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
  const entries: NewEntry[] = [];
  if (row === undefined) {
    if (agentByName(sql, name) !== undefined) {
      throw new StoreConflict(`${name} is an agent identity; agents cannot sign in to the console`);
    }
    // SSO approvers have no bearer token: a random hash no token can match.
    const tokenHash = `sso:${randomBytes(32).toString('hex')}`;
    sql('INSERT INTO approvers (name, groups, token_hash, created_at, source) VALUES (?, ?, ?, ?, ?)').run(
      name,
      JSON.stringify(groups),
      tokenHash,
      at.getTime(),
      bound,
    );
    entries.push(
      entry.approverCreated({ name, groups, createdAt: at, revokedAt: undefined, tokenHash, source: 'oidc' }),
    );
  } else {
    if (row.source === null || row.source === undefined || !row.source.startsWith('oidc')) {
      throw new StoreConflict(`${name} is a local approver, not an SSO one`);
    }
    if (row.source === 'oidc') {
      // Provisioned before subjects were bound: the next sign-in binds it.
      sql('UPDATE approvers SET source = ? WHERE name = ?').run(bound, name);
    } else if (row.source !== bound) {
      throw new StoreConflict(`${name} is already the approver name of another SSO identity`);
    }
    if (row.groups !== JSON.stringify(groups)) {
      sql('UPDATE approvers SET groups = ? WHERE name = ?').run(JSON.stringify(groups), name);
      entries.push(entry.approverUpdated(name, { change: 'groups', groups }, at));
    }
  }
  const fresh = sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
  if (fresh === undefined) throw new Error(`approver ${name} vanished`);
  return { result: toApprover(fresh), entries };
}

/** One Slack user per approver and one approver per Slack user (a unique index). */
export function linkApproverSlack(
  sql: Sql,
  name: string,
  slackUserId: string,
  at: Date,
): { result: boolean; entries: NewEntry[] } {
  const other = sql<[string, string], { name: string }>(
    'SELECT name FROM approvers WHERE slack_user = ? AND name <> ?',
  ).get(slackUserId, name);
  if (other !== undefined)
    throw new StoreConflict(`Slack user ${slackUserId} is already linked to approver ${other.name}`);
  const r = sql('UPDATE approvers SET slack_user = ? WHERE name = ? AND revoked_at IS NULL').run(
    slackUserId,
    name,
  );
  if (r.changes !== 1) return { result: false, entries: [] };
  return {
    result: true,
    entries: [entry.approverUpdated(name, { change: 'slack-linked', slackUser: slackUserId }, at)],
  };
}

export function approverBySlackUser(sql: Sql, slackUserId: string): StoredApprover | undefined {
  const row = sql<[string], ApproverRow>('SELECT * FROM approvers WHERE slack_user = ?').get(slackUserId);
  return row === undefined ? undefined : toApprover(row);
}
