/**
 * The statement phase of a session. Client messages arrive strictly in order.
 * Query and Parse are classified and gated before a byte of them is forwarded;
 * a Bind of a statement prepared earlier is gated again (a grant may have expired
 * or been revoked). Everything else is relayed unchanged. Refusals are answered
 * in order with the upstream's responses (response-queue.ts), and a refusal inside
 * a transaction block fails the transaction as PostgreSQL would (docs/POSTGRES.md).
 */

import { randomBytes } from 'node:crypto';
import { serialize } from 'pg-protocol';
import type { GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import { databaseResource, postgresAction, type StatementClass } from './actions.js';
import type { BackendFrame } from './backend-codec.js';
import { errorResponse, readyForQuery } from './backend-codec.js';
import type { Classification, TxOp } from './classification.js';
import { classify, preparedScopes } from './classify.js';
import {
  decodeBind,
  decodeExecute,
  decodeParse,
  decodeQuery,
  decodeTarget,
  encodeQuery,
  type Frame,
  Frontend,
} from './frontend-codec.js';
import { PgError, SqlState } from './pg-error.js';
import { type Outcome, type Prepared, PreparedStatements } from './prepared-statements.js';
import { ResponseQueue, Terminals } from './response-queue.js';
import type { SessionDeps } from './session.js';
import {
  applicationNameReason,
  type ClientStartup,
  isParsableEncoding,
  parseSearchPath,
  statementReason,
  unparsableEncoding,
} from './startup-options.js';
import { actionRecord, type GatedStatement, gateStatement, recordParams, refusal } from './statement-gate.js';

interface Portal {
  readonly stmt: Prepared;
  /** undefined for ROLLBACK inside a failed block (passed without a check, not recorded). */
  readonly gated: GatedStatement | undefined;
  readonly params: string[] | undefined;
}

const AGENT_RECHECK_MS = 1000;
const CLASSIFY_CACHE = 512;

/** Who the statements belong to. */
export interface ProxyContext {
  readonly agent: string;
  readonly sessionId: string;
  readonly sourceIp: string;
  readonly startup: ClientStartup;
}

/** The session's sockets, as the proxy needs them. */
export interface ProxyIo {
  writeUpstream(b: Buffer): void;
  toClient(b: Buffer): void;
  close(): void;
}

export class StatementProxy {
  private readonly queue: ResponseQueue;
  private upOut: Buffer[] = [];
  private skipUntilSync = false;
  private clearOnSync = false;
  private drainAtSync = false;
  private searchPath: readonly string[];
  private appReason: string | undefined;
  private readonly prepared = new PreparedStatements();
  private readonly portals = new Map<string, Portal>();
  private readonly classifyCache = new Map<string, Classification>();
  private hold: AbortController | undefined;
  private agentCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: SessionDeps,
    private readonly io: ProxyIo,
    private readonly session: ProxyContext,
  ) {
    this.queue = new ResponseQueue((b) => io.toClient(b));
    const path = session.startup.forward.get('search_path');
    this.searchPath =
      path === undefined ? this.expand(deps.db.defaultSearchPath) : this.expand(parseSearchPath(path));
    this.appReason = applicationNameReason(session.startup.forward.get('application_name'));
  }

  private get agent(): string {
    return this.session.agent;
  }

  private get startup(): ClientStartup {
    return this.session.startup;
  }

  private get ctx() {
    return {
      agent: this.session.agent,
      db: this.deps.db.name,
      sessionId: this.session.sessionId,
      sourceIp: this.session.sourceIp,
    };
  }

  /** Ends a held statement (CancelRequest); false when nothing is held. */
  cancelHold(): boolean {
    if (this.hold === undefined) return false;
    this.hold.abort();
    return true;
  }

  /** Upstream messages → bytes for the client, in order with Airlock's own answers. */
  relay(complete: Buffer, frames: readonly BackendFrame[]): Buffer[] {
    return this.queue.relay(complete, frames, complete.length);
  }

  close(): void {
    this.hold?.abort();
    // Statements already forwarded may have run (and committed): they are recorded anyway.
    this.queue.abandon({
      sqlstate: SqlState.connectionFailure,
      error: 'the session ended before the upstream answered: the statement may have run',
    });
  }

  private expand(path: readonly string[]): string[] {
    return path.map((s) => (s === '$user' ? this.deps.db.upstream.user : s)).filter((s) => s !== '');
  }

  /** Returns a promise only when the message must wait (gate or drain); relays synchronously otherwise. */
  onMessage(f: Frame): Promise<void> | undefined {
    if (this.skipUntilSync && f.type !== Frontend.sync) return undefined;
    // After an error in extended mode PostgreSQL ignores every message until Sync, so
    // nothing here can run: relay without checking (no hold, no refusal the client
    // would not expect), exactly as the upstream will treat it.
    if (this.queue.upstreamSkipping && f.type !== Frontend.sync && f.type !== Frontend.terminate) {
      this.upOut.push(f.raw);
      return undefined;
    }
    switch (f.type) {
      case Frontend.query:
        return this.onQuery(decodeQuery(f.payload));
      case Frontend.parse:
        return this.onParse(f);
      case Frontend.bind:
        return this.onBind(f);
      case Frontend.execute: {
        const portal = this.portals.get(decodeExecute(f.payload).portal);
        // ROLLBACK TO SAVEPOINT recovers a failed block; the next Sync's ReadyForQuery tells.
        if (this.failedBlock && portal?.stmt.txOp === 'rollback_to') this.clearOnSync = true;
        this.forward(f.raw, {
          kind: 'extended',
          terminals: Terminals.execute,
          onDone: portal?.gated && this.recorder(portal.gated, portal.params),
        });
        return undefined;
      }
      case Frontend.describe:
        decodeTarget(f.payload);
        this.forward(f.raw, { kind: 'extended', terminals: Terminals.describe });
        return undefined;
      case Frontend.close: {
        const t = decodeTarget(f.payload);
        let released: Outcome | undefined;
        if (t.kind === 'S') released = this.prepared.release(t.name);
        else this.portals.delete(t.name);
        this.forward(f.raw, {
          kind: 'extended',
          terminals: Terminals.close,
          ...(released === undefined ? {} : { onDone: (d) => released(d.sqlstate === undefined) }),
        });
        return undefined;
      }
      case Frontend.sync:
        this.skipUntilSync = false;
        this.forward(f.raw, { kind: 'sync', terminals: Terminals.sync, clearsFailed: this.clearOnSync });
        this.clearOnSync = false;
        if (this.failedBlock || this.drainAtSync) {
          // Later decisions depend on the transaction state this Sync reports.
          this.drainAtSync = false;
          return this.drain();
        }
        return undefined;
      case Frontend.flush:
      case Frontend.copyData:
      case Frontend.copyDone:
      case Frontend.copyFail:
        this.upOut.push(f.raw);
        return undefined;
      case Frontend.terminate:
        this.upOut.push(f.raw);
        this.flushUpstream();
        this.io.close();
        return undefined;
      case Frontend.functionCall:
        return this.refuse(
          new PgError(
            SqlState.featureNotSupported,
            'Airlock does not pass fastpath function calls; call the function in SQL',
          ),
          'simple',
        );
      default:
        throw new PgError(SqlState.protocolViolation, `invalid frontend message type ${f.type}`, {
          severity: 'FATAL',
        });
    }
  }

  private async onQuery(sql: string): Promise<void> {
    const c = this.classify(sql);
    const enc = unparsable(c);
    if (enc !== undefined) return this.refuse(enc, 'simple');
    if (c.statements === 0) {
      this.forward(encodeQuery(sql), { kind: 'simple', terminals: Terminals.query });
      return;
    }
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.failedBlock) {
      if (txOp === 'rollback' || txOp === 'rollback_to' || txOp === 'commit') {
        const text = txOp === 'commit' ? 'ROLLBACK' : sql;
        this.forward(encodeQuery(text), {
          kind: 'simple',
          terminals: Terminals.query,
          clearsFailed: true,
          onDone: this.recorder(unchecked(sql, c, 'allow'), undefined),
        });
        return this.drain();
      }
      this.record(actionRecord(unchecked(sql, c, 'deny'), this.ctx, {}));
      return this.refuse(inFailedTx(), 'simple');
    }
    const g = await this.gate(sql, c);
    if (g.result.kind === 'deny') return this.deny(g, 'simple');
    const effects = this.applyEffects(c);
    const record = this.recorder(g, undefined);
    this.forward(encodeQuery(sql), {
      kind: 'simple',
      terminals: Terminals.query,
      onDone: (d) => {
        record(d);
        // Autocommitted without error: the upstream's search_path is now exactly the new one.
        if (d.sqlstate === undefined && d.status === 'I' && c.statements === 1) effects.confirm?.();
        // Prepared names: every statement ran, or (one statement) none did. Otherwise
        // some of them may have run: the names keep standing for every possibility.
        if (d.sqlstate === undefined || c.statements === 1) effects.settle(d.sqlstate === undefined);
      },
    });
  }

  private async onParse(f: Frame): Promise<void> {
    const p = decodeParse(f.payload);
    const c = this.classify(p.sql);
    const enc = unparsable(c);
    if (enc !== undefined) return this.refuse(enc, 'extended');
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.failedBlock && txOp !== 'rollback' && txOp !== 'rollback_to' && txOp !== 'commit')
      return this.refuse(inFailedTx(), 'extended');
    if (this.prepared.isTaken(p.name))
      return this.refuse(
        new PgError(SqlState.duplicatePreparedStatement, `prepared statement "${p.name}" already exists`),
        'extended',
      );
    let g: GatedStatement | undefined;
    if (c.statements > 0 && !this.failedBlock) {
      g = await this.gate(p.sql, c);
      if (g.result.kind === 'deny') return this.deny(g, 'extended');
      // Effects of a statement sent by Parse happen at its Execute, if ever: never confirmed.
      this.applyEffects(c);
    }
    const parsePath = this.searchPath.join(',');
    // One namespace for protocol and SQL-prepared statements, as in PostgreSQL (a named
    // statement cannot be redefined: refused above with 42P05, as PostgreSQL would).
    if (this.failedBlock && txOp === 'commit') {
      // PostgreSQL answers COMMIT of a failed transaction by rolling back: so does Airlock
      // (the upstream's transaction is not failed, so it must not see a COMMIT).
      const defined = this.prepared.define(p.name, {
        sql: 'ROLLBACK',
        scopes: c.scopes,
        sources: [{ sql: 'ROLLBACK' }],
        classes: c.classes,
        txOp: 'rollback',
        parseGate: g,
        parsePath,
        settled: false,
      });
      this.forward(serialize.parse({ name: p.name, text: 'ROLLBACK', types: [...p.paramTypes] }), {
        kind: 'extended',
        terminals: Terminals.parse,
        onDone: (d) => defined(d.sqlstate === undefined),
      });
      return undefined;
    }
    const defined = this.prepared.define(p.name, {
      sql: p.sql,
      scopes: c.scopes,
      sources: [{ sql: p.sql }],
      classes: c.classes,
      txOp,
      parseGate: g,
      parsePath,
      settled: false,
    });
    this.forward(f.raw, {
      kind: 'extended',
      terminals: Terminals.parse,
      onDone: (d) => defined(d.sqlstate === undefined),
    });
    return undefined;
  }

  private async onBind(f: Frame): Promise<void> {
    const b = decodeBind(f.payload);
    const stmt = this.prepared.get(b.statement) ?? unknownStatement(b.statement, this.deps.db.name);
    const params = recordParams(b.params, this.deps.db.params, b.paramFormats);
    if (this.failedBlock) {
      // Only ending the failed block may run. A COMMIT prepared before the failure cannot
      // be turned into ROLLBACK here, so it is refused like everything else.
      if (stmt.txOp !== 'rollback' && stmt.txOp !== 'rollback_to')
        return this.refuse(inFailedTx(), 'extended');
      this.portals.set(b.portal, { stmt, gated: undefined, params });
      this.forward(f.raw, { kind: 'extended', terminals: Terminals.bind });
      return undefined;
    }
    // The Parse's decision holds for the first Bind under the same search_path only.
    let g = stmt.parsePath === this.searchPath.join(',') ? stmt.parseGate : undefined;
    stmt.parseGate = undefined;
    if (g === undefined) {
      // A statement used again (or prepared with SQL PREPARE): the grant or approval
      // that let it through last time may be gone, so it is checked again, with names
      // resolved against today's search_path too (PostgreSQL re-plans for it).
      const scopes = preparedScopes(stmt, this.classifyContext());
      g = await this.gate(stmt.sql, {
        scopes,
        classes: [...new Set(scopes.map((sc) => sc.action.slice('postgres:'.length) as StatementClass))],
        effects: [],
        statements: 1,
        parseError: undefined,
      });
      if (g.result.kind === 'deny') return this.deny(g, 'extended', params);
    }
    this.portals.set(b.portal, { stmt, gated: g, params });
    this.forward(f.raw, { kind: 'extended', terminals: Terminals.bind });
    return undefined;
  }

  private classify(sql: string): Classification {
    const key = `${this.searchPath.join(',')}\0${sql}`;
    let c = this.classifyCache.get(key);
    if (
      c === undefined ||
      c.effects.some((e) => e.kind === 'prepare' || e.kind === 'deallocate') ||
      /\bexecute\b/i.test(sql)
    ) {
      c = classify(sql, this.classifyContext());
      if (this.classifyCache.size >= CLASSIFY_CACHE) this.classifyCache.clear();
      this.classifyCache.set(key, c);
    }
    return c;
  }

  private classifyContext() {
    return {
      db: this.deps.db.name,
      searchPath: this.searchPath,
      user: this.deps.db.upstream.user,
      defaultSearchPath: this.expand(this.deps.db.defaultSearchPath),
      isSideEffect: this.deps.db.isSideEffect,
      prepared: this.prepared.entries,
    };
  }

  private async gate(sql: string, c: Classification): Promise<GatedStatement> {
    // Revoking an agent ends its open sessions: checked again at most every AGENT_RECHECK_MS.
    const now = performance.now();
    if (now - this.agentCheckedAt > AGENT_RECHECK_MS) {
      const agent = await this.deps.store.agentByName(this.agent);
      if (agent === undefined || agent.revokedAt !== undefined)
        throw new PgError(SqlState.invalidAuthorization, `agent "${this.agent}" has been revoked`, {
          severity: 'FATAL',
        });
      this.agentCheckedAt = now;
    }
    const reason = statementReason(sql) ?? this.startup?.reason ?? this.appReason;
    this.hold = new AbortController();
    try {
      return await gateStatement(
        this.deps.gate,
        this.ctx,
        { sql, scopes: c.scopes, classes: c.classes, reason },
        this.hold.signal,
      );
    } finally {
      this.hold = undefined;
    }
  }

  /**
   * Session state the upstream will have once this statement runs. A new search_path
   * is merged with the old one (every schema of both is a candidate) until the upstream
   * confirms it took effect outside any transaction: a SET that fails or is rolled back
   * must not leave Airlock resolving names differently from PostgreSQL. Returns that
   * confirmation step, if any.
   */
  private applyEffects(c: Classification): { confirm?: () => void; settle: Outcome } {
    let confirm: (() => void) | undefined;
    const pending: Outcome[] = [];
    for (const e of c.effects) {
      if (e.kind === 'search_path') {
        const next =
          e.value === 'default' ? this.expand(this.deps.db.defaultSearchPath) : this.expand(e.value);
        this.searchPath = [...new Set([...this.searchPath, ...next])];
        if (!e.local)
          confirm = () => {
            this.searchPath = next;
          };
      } else if (e.kind === 'prepare') {
        pending.push(
          this.prepared.define(e.name, {
            sql: `EXECUTE ${e.name} /* prepared with SQL PREPARE */`,
            scopes: e.scopes,
            sources: [{ query: e.query }],
            classes: [
              ...new Set(e.scopes.map((sc) => sc.action.slice('postgres:'.length) as StatementClass)),
            ],
            txOp: undefined,
            parseGate: undefined,
            parsePath: this.searchPath.join(','),
            settled: false,
          }),
        );
      } else if (e.kind === 'deallocate') {
        pending.push(this.prepared.release(e.name));
      } else if (e.kind === 'application_name')
        this.appReason =
          e.value === 'default'
            ? applicationNameReason(this.startup?.forward.get('application_name'))
            : applicationNameReason(e.value);
    }
    return {
      ...(confirm === undefined ? {} : { confirm }),
      settle: (ok) => {
        for (const p of pending) p(ok);
      },
    };
  }

  private deny(g: GatedStatement, mode: 'simple' | 'extended', params?: string[]): Promise<void> {
    const r = g.result as Extract<GateResult, { kind: 'deny' }>;
    this.record(actionRecord(g, this.ctx, { params }));
    return this.refuse(refusal(r), mode);
  }

  /**
   * Answers a refused message in order: simple query → ErrorResponse + ReadyForQuery;
   * extended → ErrorResponse, then everything up to Sync is discarded (as PostgreSQL does).
   * Waits until the client has seen it, so later decisions see the updated state.
   */
  private refuse(err: PgError, mode: 'simple' | 'extended'): Promise<void> {
    if (mode === 'simple') {
      this.queue.synthetic((status) => ({
        bytes: Buffer.concat([errorResponse(err), readyForQuery(status === 'T' ? 'E' : status)]),
        failsTransaction: true,
      }));
      return this.drain();
    }
    this.skipUntilSync = true;
    this.drainAtSync = true;
    // Already discarding until Sync after its own error: PostgreSQL would skip this too.
    if (this.queue.upstreamSkipping) return this.drain();
    // Make the upstream fail right here, as PostgreSQL would have on an error: its implicit
    // or explicit transaction is aborted by PostgreSQL itself and it discards until Sync.
    // The client sees Airlock's error in place of the upstream's.
    this.forward(FAIL_BIND, { kind: 'extended', terminals: [], replaceError: errorResponse(err) });
    this.upOut.push(FLUSH); // PostgreSQL holds extended responses until Sync or Flush
    return this.drain();
  }

  /** Inside a transaction block that failed (Airlock's refusal or the upstream's own error). */
  private get failedBlock(): boolean {
    return this.queue.failedTx || this.queue.status === 'E';
  }

  private drain(): Promise<void> {
    this.flushUpstream();
    return this.queue.idle();
  }

  private recorder(g: GatedStatement, params: string[] | undefined) {
    return (done: { tags: readonly string[]; sqlstate: string | undefined; error: string | undefined }) =>
      this.record(
        actionRecord(g, this.ctx, { params, tags: done.tags, sqlstate: done.sqlstate, error: done.error }),
      );
  }

  private record(a: ReturnType<typeof actionRecord>): void {
    this.deps.recorder.record(a);
  }

  private forward(raw: Buffer, entry: Parameters<ResponseQueue['expect']>[0]): void {
    this.queue.expect(entry);
    this.upOut.push(raw);
  }

  flushUpstream(): void {
    if (this.upOut.length === 0) return;
    const out = this.upOut.length === 1 ? (this.upOut[0] as Buffer) : Buffer.concat(this.upOut);
    this.upOut = [];
    this.io.writeUpstream(out);
  }
}

const FLUSH = Buffer.from([Frontend.flush, 0, 0, 0, 4]);

/** A Bind of a statement that cannot exist (random name): the upstream answers 26000 and fails. */
const FAIL_BIND = serialize.bind({
  statement: `airlock_refused_${randomBytes(16).toString('hex')}`,
  portal: `airlock_refused_${randomBytes(16).toString('hex')}`,
});

function inFailedTx(): PgError {
  return new PgError(
    SqlState.inFailedTransaction,
    'current transaction is aborted, commands ignored until end of transaction block',
    {
      detail: 'Airlock refused an earlier statement of this transaction',
    },
  );
}

/**
 * The record of a statement decided by transaction state alone, not by policy: ending a
 * failed block (allowed) or a statement inside one (refused with 25P02).
 */
function unchecked(sql: string, c: Classification, kind: 'allow' | 'deny'): GatedStatement {
  const reasons = ['in-failed-transaction'];
  return {
    requestId: newId('req'),
    receivedAt: new Date(),
    started: performance.now(),
    sql,
    scopes: c.scopes,
    classes: c.classes,
    result:
      kind === 'allow'
        ? { kind: 'allow', reasons, grantId: undefined, approvalId: undefined, held: false }
        : { kind: 'deny', deny: 'policy', reasons, message: inFailedTx().message, approvalId: undefined },
  };
}

/** A SET client_encoding Airlock could no longer parse after (startup-options.ts): refused outright. */
function unparsable(c: Classification): PgError | undefined {
  for (const e of c.effects)
    if (e.kind === 'client_encoding' && !isParsableEncoding(e.value))
      return unparsableEncoding(e.value, 'ERROR');
  return undefined;
}

function txOpOf(c: Classification): TxOp | undefined {
  for (const e of c.effects) if (e.kind === 'transaction') return e.op;
  return undefined;
}

/** A Bind naming a statement Airlock never saw prepared: the most sensitive class. */
function unknownStatement(name: string, db: string): Prepared {
  return {
    sql: `/* Bind of unknown prepared statement "${name}" */`,
    scopes: [{ action: postgresAction('unknown'), resource: databaseResource(db) }],
    classes: ['unknown'],
    sources: [],
    txOp: undefined,
    parseGate: undefined,
    parsePath: '',
    settled: false,
  };
}
