/**
 * Turns one classified statement into a typed AccessRequest, asks the Gate, and
 * maps refusals to PostgreSQL errors. Also builds the ledger row for a statement.
 * No wire bytes here.
 */
import { outcomeOf } from '../../access/outcome.js';
import type { Gate, GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import type { AccessRequest, ActionOutcome, ActionRecord, ActionResult, Scope } from '../../core/types.js';
import type { StatementClass } from './actions.js';
import { PgError, SqlState } from './pg-error.js';

export type ParamRecording = 'full' | 'redacted' | 'none';

/** Approvers read the statement; very long texts are cut for the summary (the record keeps a hash). */
const MAX_SUMMARY_SQL = 8192;

export interface StatementContext {
  readonly agent: string;
  readonly db: string;
  readonly sessionId: string;
  readonly sourceIp: string;
}

export interface GatedStatement {
  readonly requestId: string;
  readonly receivedAt: Date;
  readonly started: number;
  readonly sql: string;
  readonly scopes: readonly Scope[];
  readonly classes: readonly StatementClass[];
  readonly reason: string | undefined;
  readonly result: GateResult;
}

export async function gateStatement(
  gate: Gate,
  ctx: StatementContext,
  stmt: {
    sql: string;
    scopes: readonly Scope[];
    classes: readonly StatementClass[];
    reason: string | undefined;
  },
  signal: AbortSignal | undefined,
): Promise<GatedStatement> {
  const requestId = newId('req');
  const receivedAt = new Date();
  const started = performance.now();
  const req: AccessRequest = {
    id: requestId,
    agent: ctx.agent,
    front: 'postgres',
    service: 'postgres',
    region: '',
    operation: operationName(stmt.classes),
    scopes: stmt.scopes,
    reason: stmt.reason,
    sourceIp: ctx.sourceIp,
    summary: {
      database: ctx.db,
      session: ctx.sessionId,
      sql: stmt.sql.length > MAX_SUMMARY_SQL ? `${stmt.sql.slice(0, MAX_SUMMARY_SQL)}…` : stmt.sql,
    },
    receivedAt,
  };
  const result = await gate.authorize(req, Buffer.from(`${ctx.db}\0${stmt.sql}`), signal);
  return {
    requestId,
    receivedAt,
    started,
    sql: stmt.sql,
    scopes: stmt.scopes,
    classes: stmt.classes,
    reason: stmt.reason,
    result,
  };
}

export function operationName(classes: readonly StatementClass[]): string {
  return classes.length === 0 ? 'empty' : [...classes].sort().join('+');
}

/** The error a client sees for a refused statement. */
export function refusal(r: Extract<GateResult, { kind: 'deny' }>): PgError {
  const detail = `policy: ${r.reasons.join(', ') || 'none'}`;
  switch (r.deny) {
    case 'missing-reason':
      return new PgError(
        SqlState.insufficientPrivilege,
        'Airlock: this statement needs approval and approvers need a reason',
        {
          detail,
          hint: "start the statement with /* airlock:reason=why */ or connect with options='-c airlock.reason=why' (docs/POSTGRES.md)",
        },
      );
    case 'lapsed':
    case 'expired':
    case 'aborted':
      return new PgError(SqlState.queryCanceled, `Airlock: ${r.message}`, { detail });
    default:
      return new PgError(SqlState.insufficientPrivilege, `Airlock: ${r.message}`, { detail });
  }
}

export function recordParams(
  params: readonly (Buffer | null)[] | undefined,
  mode: ParamRecording,
  formats: readonly number[] = [],
): string[] | undefined {
  if (params === undefined || mode === 'none') return undefined;
  return params.map((p, i) => {
    if (p === null) return 'NULL';
    if (mode === 'redacted') return `<redacted ${p.length} bytes>`;
    const binary = (formats.length === 1 ? formats[0] : formats[i]) === 1;
    return binary ? `\\x${p.toString('hex')}` : p.toString('utf8');
  });
}

/** What a forwarded statement's upstream answer says. */
export interface StatementDone {
  readonly tags: readonly string[];
  readonly sqlstate: string | undefined;
  readonly error: string | undefined;
}

function rowCount(tags: readonly string[]): number {
  return tags
    .map((t) => /\s(\d+)$/.exec(t)?.[1])
    .filter((n): n is string => n !== undefined)
    .reduce((a, n) => a + Number(n), 0);
}

/** The outcome row of a statement whose intent (actionRecord, requestId) was recorded first. */
export function actionResult(
  g: GatedStatement,
  ctx: StatementContext,
  requestId: string,
  done: StatementDone,
): ActionResult {
  return {
    requestId,
    at: new Date(),
    agent: ctx.agent,
    grantId: g.result.kind === 'allow' ? g.result.grantId : undefined,
    approvalId: g.result.approvalId,
    outcome: done.sqlstate !== undefined ? 'error' : undefined,
    upstreamStatus: undefined,
    latencyMs: Math.round((performance.now() - g.started) * 1000) / 1000,
    error:
      done.error === undefined
        ? undefined
        : done.sqlstate === undefined
          ? done.error
          : `${done.sqlstate}: ${done.error}`,
    postgres: { commandTags: [...done.tags], rows: rowCount(done.tags), sqlstate: done.sqlstate },
  };
}

export function actionRecord(
  g: GatedStatement,
  ctx: StatementContext,
  done: {
    outcome?: ActionOutcome;
    params?: string[] | undefined;
    tags?: readonly string[];
    sqlstate?: string | undefined;
    error?: string | undefined;
    /** Another execution of the same gated statement (a portal run again). */
    requestId?: string;
  },
): ActionRecord {
  const rows = rowCount(done.tags ?? []);
  const error = done.error ?? (g.result.kind === 'deny' ? g.result.message : undefined);
  return {
    requestId: done.requestId ?? g.requestId,
    at: g.receivedAt,
    agent: ctx.agent,
    front: 'postgres',
    service: 'postgres',
    operation: operationName(g.classes),
    scopes: g.scopes,
    reason: g.reason,
    outcome: done.outcome ?? (done.sqlstate !== undefined ? 'error' : outcomeOf(g.result)),
    policyReasons: g.result.reasons,
    upstreamStatus: undefined,
    latencyMs: Math.round((performance.now() - g.started) * 1000) / 1000,
    grantId: g.result.kind === 'allow' ? g.result.grantId : undefined,
    approvalId: g.result.approvalId,
    error:
      error === undefined ? undefined : done.sqlstate === undefined ? error : `${done.sqlstate}: ${error}`,
    postgres: {
      session: ctx.sessionId,
      database: ctx.db,
      sql: g.sql,
      params: done.params,
      commandTags: done.tags === undefined ? undefined : [...done.tags],
      rows: done.tags === undefined ? undefined : rows,
      sqlstate: done.sqlstate,
    },
  };
}
