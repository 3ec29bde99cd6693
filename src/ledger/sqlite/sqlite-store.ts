/**
 * The embedded Store: one SQLite file (WAL) shared by the gateway and CLI commands.
 *
 * Every write is one IMMEDIATE transaction that changes state and appends its
 * ledger entries together; IMMEDIATE takes the write lock up front, so the
 * chain head read inside it cannot go stale before the append (another process
 * waits on busy_timeout). Actions are group-committed; any other write first
 * flushes queued actions, so the chain keeps call order.
 *
 * Methods are async only so a PostgreSQL backend fits the same interface.
 */
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ActionRecord, Approval, ApprovalStatus, DecisionRecord, Grant } from '../../core/types.js';
import { GroupCommit } from '../group-commit.js';
import type { NewEntry } from '../ledger-entries.js';
import * as entry from '../ledger-entries.js';
import {
  type LedgerEntry,
  type Store,
  StoreConflict,
  type StoredAgent,
  type StoredApprover,
  type VerifyResult,
} from '../store.js';
import {
  type AgentRow,
  type ApprovalRow,
  type ApproverRow,
  type DecisionRow,
  type GrantRow,
  toAgent,
  toApproval,
  toApprover,
  toDecision,
  toGrant,
  toJson,
} from './rows.js';
import { applyPragmas, migrate } from './schema.js';
import { type LedgerFilter, SqliteLedger } from './sqlite-ledger.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  readonly path: string;
  /** 32-byte HMAC key for the ledger chain. */
  readonly ledgerKey: Buffer;
  /** How long an action may wait for others to share its commit. Default 2. */
  readonly groupCommitMs?: number;
}

/** A batch this large is written at once rather than waiting for the timer. */
const MAX_ACTION_BATCH = 256;

/** A grant that may still be used at `?` (bound once). */
const GRANT_ACTIVE = 'revoked_at IS NULL AND expires_at > ? AND (max_uses IS NULL OR uses < max_uses)';

export class SqliteStore implements Store {
  private readonly ledgerTable: SqliteLedger;
  private readonly actions: GroupCommit<ActionRecord>;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    ledgerKey: Buffer,
    groupCommitMs: number,
  ) {
    this.ledgerTable = new SqliteLedger(db, ledgerKey);
    this.actions = new GroupCommit(
      (batch) => this.tx(() => this.ledgerTable.append(batch.map(entry.actionTaken))),
      groupCommitMs,
      MAX_ACTION_BATCH,
    );
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    if (opts.ledgerKey.length !== 32) throw new Error('ledgerKey must be 32 bytes');
    const db = new Database(opts.path);
    try {
      applyPragmas(db);
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db, opts.ledgerKey, opts.groupCommitMs ?? 2);
  }

  // Agents

  async createAgent(a: StoredAgent): Promise<void> {
    this.write(() => {
      this.sql('INSERT INTO agents (name, access_key_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)').run(
        a.name,
        a.accessKeyId,
        a.sealedSecret,
        a.createdAt.getTime(),
      );
      return [entry.agentCreated(a)];
    });
  }

  async agentByAccessKey(accessKeyId: string): Promise<StoredAgent | undefined> {
    const row = this.sql<[string], AgentRow>('SELECT * FROM agents WHERE access_key_id = ?').get(accessKeyId);
    return row === undefined ? undefined : toAgent(row);
  }

  async agentByName(name: string): Promise<StoredAgent | undefined> {
    const row = this.sql<[string], AgentRow>('SELECT * FROM agents WHERE name = ?').get(name);
    return row === undefined ? undefined : toAgent(row);
  }

  async listAgents(): Promise<StoredAgent[]> {
    return this.sql<[], AgentRow>('SELECT * FROM agents ORDER BY name').all().map(toAgent);
  }

  async revokeAgent(name: string, at: Date): Promise<boolean> {
    return this.writeWith(() => {
      const r = this.sql('UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(
        at.getTime(),
        name,
      );
      if (r.changes !== 1) return { result: false, entries: [] };
      return { result: true, entries: [entry.agentRevoked(name, at)] };
    });
  }

  // Approvers

  async createApprover(a: StoredApprover): Promise<void> {
    this.write(() => {
      this.sql('INSERT INTO approvers (name, groups, token_hash, created_at) VALUES (?, ?, ?, ?)').run(
        a.name,
        JSON.stringify(a.groups),
        a.tokenHash,
        a.createdAt.getTime(),
      );
      return [entry.approverCreated(a)];
    });
  }

  async approverByTokenHash(tokenHash: string): Promise<StoredApprover | undefined> {
    const row = this.sql<[string], ApproverRow>('SELECT * FROM approvers WHERE token_hash = ?').get(
      tokenHash,
    );
    return row === undefined ? undefined : toApprover(row);
  }

  async listApprovers(): Promise<StoredApprover[]> {
    return this.sql<[], ApproverRow>('SELECT * FROM approvers ORDER BY name').all().map(toApprover);
  }

  async approverByName(name: string): Promise<StoredApprover | undefined> {
    const row = this.sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
    return row === undefined ? undefined : toApprover(row);
  }

  async setApproverPassword(name: string, passwordHash: string, at: Date): Promise<boolean> {
    return this.writeWith(() => {
      const r = this.sql(
        "UPDATE approvers SET password_hash = ? WHERE name = ? AND revoked_at IS NULL AND source = 'local'",
      ).run(passwordHash, name);
      if (r.changes !== 1) return { result: false, entries: [] };
      return { result: true, entries: [entry.approverUpdated(name, { change: 'password-set' }, at)] };
    });
  }

  async upsertSsoApprover(
    name: string,
    groups: readonly string[],
    at: Date,
    subject: string,
  ): Promise<StoredApprover> {
    // The approver name is derived from a claim and can fold two people together
    // (j.doe@, j-doe@); the provider's stable subject cannot. Bind the name to the
    // first subject that claims it and refuse any other.
    const bound = `oidc:${createHash('sha256').update(subject).digest('hex')}`;
    return this.writeWith(() => {
      const row = this.sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
      const entries: NewEntry[] = [];
      if (row === undefined) {
        // SSO approvers have no bearer token: a random hash no token can match.
        const tokenHash = `sso:${randomBytes(32).toString('hex')}`;
        this.sql(
          'INSERT INTO approvers (name, groups, token_hash, created_at, source) VALUES (?, ?, ?, ?, ?)',
        ).run(name, JSON.stringify(groups), tokenHash, at.getTime(), bound);
        entries.push(entry.approverCreated({ name, groups, createdAt: at, revokedAt: undefined }));
      } else {
        if (row.source === null || row.source === undefined || !row.source.startsWith('oidc')) {
          throw new StoreConflict(`${name} is a local approver, not an SSO one`);
        }
        if (row.source === 'oidc') {
          // Provisioned before subjects were bound: the next sign-in binds it.
          this.sql('UPDATE approvers SET source = ? WHERE name = ?').run(bound, name);
        } else if (row.source !== bound) {
          throw new StoreConflict(`${name} is already the approver name of another SSO identity`);
        }
        if (row.groups !== JSON.stringify(groups)) {
          this.sql('UPDATE approvers SET groups = ? WHERE name = ?').run(JSON.stringify(groups), name);
          entries.push(entry.approverUpdated(name, { change: 'groups', groups }, at));
        }
      }
      const fresh = this.sql<[string], ApproverRow>('SELECT * FROM approvers WHERE name = ?').get(name);
      if (fresh === undefined) throw new Error(`approver ${name} vanished`);
      return { result: toApprover(fresh), entries };
    });
  }

  // Approvals

  async createApproval(a: Approval): Promise<void> {
    this.write(() => {
      this.sql(
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
    });
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const row = this.approvalRow(id);
    return row === undefined ? undefined : toApproval(row);
  }

  async listApprovals(filter: { status?: ApprovalStatus }): Promise<Approval[]> {
    const rows =
      filter.status === undefined
        ? this.sql<[], ApprovalRow>('SELECT * FROM approvals ORDER BY created_at, id').all()
        : this.sql<[string], ApprovalRow>(
            'SELECT * FROM approvals WHERE status = ? ORDER BY created_at, id',
          ).all(filter.status);
    return rows.map(toApproval);
  }

  async markShown(approvalId: string, approver: string, at: Date): Promise<Date> {
    return this.writeWith(() => {
      const agent = this.approvalRow(approvalId)?.agent;
      if (agent === undefined) throw new Error(`approval ${approvalId} not found`);
      const r = this.sql(
        'INSERT OR IGNORE INTO approval_views (approval_id, approver, first_shown_at) VALUES (?, ?, ?)',
      ).run(approvalId, approver, at.getTime());
      const first = this.firstShown(approvalId, approver) ?? at;
      return {
        result: first,
        entries: r.changes === 1 ? [entry.approvalShown(approvalId, agent, approver, at)] : [],
      };
    });
  }

  async shownAt(approvalId: string, approver: string): Promise<Date | undefined> {
    return this.firstShown(approvalId, approver);
  }

  async decisions(approvalId: string): Promise<DecisionRecord[]> {
    return this.sql<[string], DecisionRow>(
      'SELECT * FROM decisions WHERE approval_id = ? ORDER BY decided_at, approver',
    )
      .all(approvalId)
      .map(toDecision);
  }

  async recordDecision(
    d: DecisionRecord,
    resolve?: { status: 'approved' | 'denied'; grant?: Grant },
  ): Promise<void> {
    this.write(() => {
      const approval = this.approvalRow(d.approvalId);
      if (approval === undefined) throw new StoreConflict(`approval ${d.approvalId} not found`);
      if (approval.status !== 'pending') {
        throw new StoreConflict(`approval ${d.approvalId} is ${approval.status}`);
      }
      const r = this.sql(
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
          : toJson({ reviewSeconds: d.reviewSeconds, viewedDetail: d.viewedDetail, guards: d.guards }),
      );
      if (r.changes !== 1) throw new StoreConflict(`${d.approver} already decided approval ${d.approvalId}`);
      const agent = approval.agent;
      const entries = [entry.approvalDecided(d, agent)];
      if (resolve === undefined) return entries;
      const grant = resolve.status === 'approved' ? resolve.grant : undefined;
      if (grant !== undefined && grant.approvalId !== d.approvalId) {
        throw new Error(`grant ${grant.id} is for approval ${grant.approvalId}, not ${d.approvalId}`);
      }
      this.sql('UPDATE approvals SET status = ?, decided_at = ?, grant_id = ? WHERE id = ?').run(
        resolve.status,
        d.decidedAt.getTime(),
        grant?.id ?? null,
        d.approvalId,
      );
      entries.push(entry.approvalResolved(d.approvalId, agent, resolve.status, d.decidedAt, grant?.id));
      if (grant !== undefined) {
        this.insertGrant(grant);
        entries.push(entry.grantIssued(grant));
      }
      return entries;
    });
  }

  async expireApprovals(now: Date): Promise<string[]> {
    return this.writeWith(() => {
      const due = this.sql<[number], { id: string; agent: string }>(
        "SELECT id, agent FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, id",
      ).all(now.getTime());
      const update = this.sql(
        "UPDATE approvals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'",
      );
      for (const { id } of due) update.run(now.getTime(), id);
      const entries = due.map(({ id, agent }) => entry.approvalResolved(id, agent, 'expired', now));
      return { result: due.map((a) => a.id), entries };
    });
  }

  // Grants

  async getGrant(id: string): Promise<Grant | undefined> {
    const row = this.sql<[string], GrantRow>('SELECT * FROM grants WHERE id = ?').get(id);
    return row === undefined ? undefined : toGrant(row);
  }

  async listGrants(filter: { agent?: string; activeAt?: Date }): Promise<Grant[]> {
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
    const sql = `SELECT * FROM grants${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at, id`;
    return this.sql<(string | number)[], GrantRow>(sql)
      .all(...args)
      .map(toGrant);
  }

  async activeGrants(agent: string, now: Date): Promise<Grant[]> {
    return this.listGrants({ agent, activeAt: now });
  }

  async useGrant(id: string, now: Date): Promise<boolean> {
    // One conditional UPDATE: two concurrent uses of the last allowed use cannot both win.
    const r = this.sql(`UPDATE grants SET uses = uses + 1 WHERE id = ? AND ${GRANT_ACTIVE}`).run(
      id,
      now.getTime(),
    );
    return r.changes === 1;
  }

  async revokeGrant(id: string, by: string, at: Date): Promise<boolean> {
    return this.writeWith(() => {
      const r = this.sql(
        'UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL',
      ).run(at.getTime(), by, id);
      if (r.changes !== 1) return { result: false, entries: [] };
      const g = this.sql<[string], { agent: string; approval_id: string }>(
        'SELECT agent, approval_id FROM grants WHERE id = ?',
      ).get(id);
      return { result: true, entries: [entry.grantRevoked(id, g?.agent, g?.approval_id, by, at)] };
    });
  }

  // Ledger

  recordAction(action: ActionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.actions.add(action);
  }

  async ledger(filter: LedgerFilter): Promise<LedgerEntry[]> {
    this.actions.flush();
    return this.ledgerTable.entries(filter);
  }

  async verify(): Promise<VerifyResult> {
    this.actions.flush();
    return this.ledgerTable.verify();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.actions.flush();
    this.db.close();
  }

  // Internals

  /** Runs `fn` in an IMMEDIATE transaction and appends the ledger entries it returns. */
  private write(fn: () => NewEntry[]): void {
    this.writeWith(() => ({ result: undefined, entries: fn() }));
  }

  /** As `write`, for changes that also return a result. */
  private writeWith<R>(fn: () => { result: R; entries: NewEntry[] }): R {
    if (this.closed) throw new Error('store is closed');
    // Queued actions happened before this call: commit them first to keep chain order.
    this.actions.flush();
    return this.tx(() => {
      const out = fn();
      this.ledgerTable.append(out.entries);
      return out.result;
    });
  }

  /** Prepared statements are cached: preparing costs more than running most of these. */
  private sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let s = this.statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s as Database.Statement<P, R>;
  }

  private tx<R>(fn: () => R): R {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw conflictOf(err);
    }
  }

  private approvalRow(id: string): ApprovalRow | undefined {
    return this.sql<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?').get(id);
  }

  private firstShown(approvalId: string, approver: string): Date | undefined {
    const row = this.sql<[string, string], { first_shown_at: number }>(
      'SELECT first_shown_at FROM approval_views WHERE approval_id = ? AND approver = ?',
    ).get(approvalId, approver);
    return row === undefined ? undefined : new Date(row.first_shown_at);
  }

  private insertGrant(g: Grant): void {
    this.sql(
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
      toJson({ scopes: g.scopes }),
    );
  }
}

/** Unique-key violations mean another writer got there first (duplicate name, key, ...). */
function conflictOf(err: unknown): unknown {
  if (err instanceof Database.SqliteError && /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(err.code)) {
    return new StoreConflict(err.message);
  }
  return err;
}
