/**
 * SQLite schema and its migrations. The schema version lives in
 * PRAGMA user_version; each migration runs once, in its own IMMEDIATE
 * transaction, so two processes opening a fresh file do not both apply it.
 * Timestamps are integer epoch milliseconds.
 */
import type Database from 'better-sqlite3';
import { GENESIS_HASH } from '../hash-chain.js';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE approvers (
    name TEXT PRIMARY KEY,
    groups TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    grant_id TEXT,
    json TEXT NOT NULL
  );
  CREATE INDEX approvals_status ON approvals(status, expires_at);
  CREATE TABLE approval_views (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    approver TEXT NOT NULL,
    first_shown_at INTEGER NOT NULL,
    PRIMARY KEY (approval_id, approver)
  );
  CREATE TABLE decisions (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    approver TEXT NOT NULL,
    verdict TEXT NOT NULL,
    comment TEXT NOT NULL,
    channel TEXT NOT NULL,
    shown_at INTEGER,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (approval_id, approver)
  );
  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    agent TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    revoked_by TEXT,
    json TEXT NOT NULL
  );
  CREATE INDEX grants_agent ON grants(agent, expires_at);
  CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    agent TEXT,
    approval_id TEXT,
    grant_id TEXT,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX ledger_approval ON ledger(approval_id);
  CREATE INDEX ledger_grant ON ledger(grant_id);
  CREATE INDEX ledger_agent ON ledger(agent);
  -- The last appended entry, updated in the same transaction as each append:
  -- deleting entries from the tail leaves the chain itself valid, this row does not.
  CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
  `,
  // 2: console sign-in (scrypt password hashes; SSO-provisioned approvers) and the
  // review facts of each decision (review seconds, viewed detail, guards applied).
  `
  ALTER TABLE approvers ADD COLUMN password_hash TEXT;
  ALTER TABLE approvers ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
  ALTER TABLE decisions ADD COLUMN detail TEXT;
  `,
  // 3: retry dedupe in the store (not in one process's memory): a retry after a restart,
  // or on another process sharing the file, joins the pending approval of the same request.
  `
  ALTER TABLE approvals ADD COLUMN fingerprint TEXT;
  CREATE INDEX approvals_fingerprint ON approvals(fingerprint) WHERE status = 'pending';
  `,
  // 4 (issue 15): approvers linked to a Slack user; the webhook outbox (one row per event
  // and endpoint) and the ledger seq up to which events were turned into rows.
  `
  ALTER TABLE approvers ADD COLUMN slack_user TEXT;
  CREATE UNIQUE INDEX approvers_slack_user ON approvers(slack_user) WHERE slack_user IS NOT NULL;
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at INTEGER
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
  CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
  );
  `,
  // 5 (issues 10, 13): state processes sharing the file must see alike (../coordination.ts):
  // console sessions (by the SHA-256 of the cookie), OIDC sign-ins in flight, sign-in failures, Postgres cancel
  // keys (marked by whichever process receives the CancelRequest) and leases.
  `
  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    approver TEXT NOT NULL,
    csrf TEXT NOT NULL,
    via TEXT NOT NULL,
    credential TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX console_sessions_approver ON console_sessions(approver);
  CREATE TABLE sign_in_failures (
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    since INTEGER NOT NULL
  );
  CREATE TABLE cancel_keys (
    pid INTEGER PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    requested INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX cancel_keys_owner ON cancel_keys(owner);
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function applyPragmas(db: Database.Database): void {
  // WAL lets the gateway and CLI commands read while one writes; FULL makes each
  // commit durable before its promise resolves; busy_timeout makes a second
  // process wait for the write lock instead of failing.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

export function migrate(db: Database.Database): void {
  for (;;) {
    const applied = db
      .transaction((): boolean => {
        const version = Number(db.pragma('user_version', { simple: true }));
        if (version > SCHEMA_VERSION) {
          throw new Error(`database schema ${version} is newer than this Airlock (${SCHEMA_VERSION})`);
        }
        const sql = MIGRATIONS[version];
        if (sql === undefined) return false;
        db.exec(sql);
        db.pragma(`user_version = ${version + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return;
  }
}
