/**
 * PostgreSQL schema and its migrations. The same tables and columns as the SQLite
 * schema (../sqlite/schema.ts, all three of its migrations folded into the first one
 * here), timestamps as BIGINT epoch ms, so the row mappers (../sql-rows.ts) and the
 * tamper tests are shared. The applied version lives in `airlock_schema`.
 *
 * Replicas starting at once must not both apply a migration: `migrate` holds a
 * session-level advisory lock (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS)
 * while it reads the version and applies what is missing, each migration in its own
 * transaction. A database whose version is newer than this build knows is refused:
 * an older replica must not write into a schema it does not understand.
 */
import type pg from 'pg';
import { GENESIS_HASH } from '../hash-chain.js';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  CREATE TABLE approvers (
    name TEXT PRIMARY KEY,
    groups TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    password_hash TEXT,
    source TEXT NOT NULL DEFAULT 'local'
  );
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    grant_id TEXT,
    json TEXT NOT NULL,
    fingerprint TEXT
  );
  CREATE INDEX approvals_status ON approvals(status, expires_at);
  CREATE INDEX approvals_fingerprint ON approvals(fingerprint) WHERE status = 'pending';
  CREATE TABLE approval_views (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    approver TEXT NOT NULL,
    first_shown_at BIGINT NOT NULL,
    PRIMARY KEY (approval_id, approver)
  );
  CREATE TABLE decisions (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    approver TEXT NOT NULL,
    verdict TEXT NOT NULL,
    comment TEXT NOT NULL,
    channel TEXT NOT NULL,
    shown_at BIGINT,
    decided_at BIGINT NOT NULL,
    detail TEXT,
    PRIMARY KEY (approval_id, approver)
  );
  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    agent TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at BIGINT,
    revoked_by TEXT,
    json TEXT NOT NULL
  );
  CREATE INDEX grants_agent ON grants(agent, expires_at);
  CREATE TABLE ledger (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
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
  -- The chain head: locked (SELECT ... FOR UPDATE) by every write transaction, which
  -- gives appends from all replicas one total order, and updated with each append, so
  -- deleting entries from the tail leaves the chain itself valid but not this row.
  CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
  `,
  // 2 (issue 15, as SQLite's 4): approvers linked to a Slack user; the webhook outbox and
  // the ledger seq up to which events were turned into deliveries.
  `
  ALTER TABLE approvers ADD COLUMN slack_user TEXT;
  CREATE UNIQUE INDEX approvers_slack_user ON approvers(slack_user) WHERE slack_user IS NOT NULL;
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at BIGINT
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
  CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
  );
  `,
  // 3 (issues 10, 13, as SQLite's 5): state replicas must see alike (../coordination.ts):
  // console sessions, OIDC sign-ins in flight, sign-in failures, Postgres cancel keys and leases.
  `
  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    approver TEXT NOT NULL,
    csrf TEXT NOT NULL,
    via TEXT NOT NULL,
    credential TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX console_sessions_approver ON console_sessions(approver);
  CREATE TABLE sign_in_failures (
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    since BIGINT NOT NULL
  );
  CREATE TABLE cancel_keys (
    pid BIGINT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    requested BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX cancel_keys_owner ON cancel_keys(owner);
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Key of the advisory lock migrations run under (any fixed bigint; "airlock1" in ASCII). */
const MIGRATION_LOCK = '7019846236264133425';

/** The schema version the database is at (0: no Airlock tables yet). */
async function versionOf(client: pg.ClientBase): Promise<number> {
  await client.query('CREATE TABLE IF NOT EXISTS airlock_schema (version INTEGER NOT NULL)');
  const r = await client.query<{ version: number }>('SELECT max(version) AS version FROM airlock_schema');
  return r.rows[0]?.version ?? 0;
}

/**
 * Applies the migrations this database lacks, under the advisory lock; returns the
 * versions before and after. Rejects on a database newer than this build.
 */
export async function migrate(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const from = await versionOf(client);
      if (from > PG_SCHEMA_VERSION) throw newerSchema(from);
      for (let v = from; v < PG_SCHEMA_VERSION; v++) {
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[v] as string);
          await client.query('INSERT INTO airlock_schema (version) VALUES ($1)', [v + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      return { from, to: PG_SCHEMA_VERSION };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/** Checks, without changing anything, that the database is at exactly this build's version. */
export async function checkSchema(pool: pg.Pool): Promise<void> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('airlock_schema')::text AS t");
  const v =
    exists.rows[0]?.t === null
      ? 0
      : ((await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM airlock_schema'))
          .rows[0]?.version ?? 0);
  if (v > PG_SCHEMA_VERSION) throw newerSchema(v);
  if (v < PG_SCHEMA_VERSION) {
    throw new Error(
      `the PostgreSQL store is at schema ${v}, this Airlock needs ${PG_SCHEMA_VERSION}: run \`airlock store migrate\``,
    );
  }
}

function newerSchema(v: number): Error {
  return new Error(
    `the PostgreSQL store is at schema ${v}, newer than this Airlock knows (${PG_SCHEMA_VERSION}): upgrade this replica; it will not write into a schema it does not know`,
  );
}
