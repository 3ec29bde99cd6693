/**
 * The statement phase of a session. Client messages arrive strictly in order.
 * Query and Parse are classified and gated before a byte of them is forwarded;
 * a Bind of a statement prepared earlier is gated again (a grant may have expired
 * or been revoked). Everything else is relayed unchanged. Refusals are answered
 * in order with the upstream's responses (response-queue.ts), and a refusal inside
 * a transaction block fails the transaction as PostgreSQL would (docs/POSTGRES.md).
 * Here: the simple query path and the checks; the extended protocol is in
 * extended-protocol.ts, the tracked session state in upstream-session-state.ts,
 * ordering and refusal rendering in proxy-exchange.ts and statement-refusals.ts.
 */

import { AccessPath } from '../../access/path.js';
import { RecordUnavailable } from '../../access/recorder.js';
import type { GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import type { BackendFrame } from './backend-codec.js';
import type { Classification } from './classification.js';
import { ExtendedProtocol } from './extended-protocol.js';
import { decodeQuery, decodeTarget, encodeQuery, type Frame, Frontend } from './frontend-codec.js';
import type { FunctionCatalog } from './function-catalog.js';
import { PgError, SqlState } from './pg-error.js';
import { ProxyExchange, type ProxyIo } from './proxy-exchange.js';
import { ReadOnlyGuard } from './read-only-guard.js';
import { Terminals } from './response-queue.js';
import type { SessionDeps } from './session.js';
import { type ClientStartup, statementReason } from './startup-options.js';
import {
  actionRecord,
  actionResult,
  type GatedStatement,
  gateStatement,
  refusal,
  type StatementDone,
} from './statement-gate.js';
import { inFailedTx, pinnedSetting, unchecked, unparsable } from './statement-refusals.js';
import { txOpOf, UpstreamSessionState, unitOf } from './upstream-session-state.js';

const AGENT_RECHECK_MS = 1000;

/** Who the statements belong to. */
export interface ProxyContext {
  readonly agent: string;
  readonly sessionId: string;
  readonly sourceIp: string;
  readonly startup: ClientStartup;
  /** The upstream's function catalog as of this session's start. */
  readonly functions: FunctionCatalog;
}

export class StatementProxy {
  private readonly out: ProxyExchange;
  private readonly state: UpstreamSessionState;
  private readonly extended: ExtendedProtocol;
  private readonly guard: ReadOnlyGuard;
  /** Ends the statement being gated (CancelRequest, session end). Reused until it fires. */
  private hold = new AbortController();
  private gating = false;
  /** Gated statements already run once: a portal run again is another request. */
  private readonly executions = new WeakSet<GatedStatement>();
  private agentCheckedAt = Number.NEGATIVE_INFINITY;
  /** The one request path's recording steps (src/access/path.ts); the gate runs in statement-gate.ts. */
  private readonly path: AccessPath;

  constructor(
    private readonly deps: SessionDeps,
    private readonly io: ProxyIo,
    private readonly session: ProxyContext,
  ) {
    this.path = new AccessPath(deps.gate, deps.recorder);
    this.out = new ProxyExchange(io);
    this.state = new UpstreamSessionState(deps.db, session.startup, session.functions);
    this.guard = new ReadOnlyGuard(this.out);
    this.extended = new ExtendedProtocol(deps.db, this.state, this.out, this.guard, {
      gate: (sql, c) => this.gate(sql, c),
      deny: (g, mode, params) => this.deny(g, mode, params),
      run: (g, params) => this.recorded(g, params),
      refusePinned: (sql, c, err, mode) => this.refusePinned(sql, c, err, mode),
    });
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
    if (!this.gating) return false;
    this.endHold();
    return true;
  }

  private endHold(): void {
    this.hold.abort();
    this.hold = new AbortController();
  }

  /** Upstream messages → bytes for the client, in order with Airlock's own answers. */
  relay(complete: Buffer, frames: readonly BackendFrame[]): Buffer[] {
    return this.out.queue.relay(complete, frames, complete.length);
  }

  close(): void {
    if (this.gating) this.endHold();
    // Statements already forwarded may have run (and committed): they are recorded anyway.
    this.out.queue.abandon({
      sqlstate: SqlState.connectionFailure,
      error: 'the session ended before the upstream answered: the statement may have run',
    });
  }

  /** Returns a promise only when the message must wait (gate or drain); relays synchronously otherwise. */
  onMessage(f: Frame): Promise<void> | undefined {
    if (this.out.skipUntilSync && f.type !== Frontend.sync) return undefined;
    // After an error in extended mode PostgreSQL ignores every message until Sync, so
    // nothing here can run: relay without checking (no hold, no refusal the client
    // would not expect), exactly as the upstream will treat it.
    if (this.out.queue.upstreamSkipping && f.type !== Frontend.sync && f.type !== Frontend.terminate) {
      this.out.send(f.raw);
      return undefined;
    }
    switch (f.type) {
      case Frontend.query: {
        let sql: string;
        try {
          sql = decodeQuery(f.payload);
        } catch (err) {
          // A malformed Query (a NUL inside the text): PostgreSQL answers the error and
          // then ReadyForQuery, and the session goes on; so does Airlock.
          if (err instanceof PgError && err.severity !== 'FATAL') return this.out.refuse(err, 'simple');
          throw err;
        }
        return this.onQuery(sql);
      }
      case Frontend.parse:
        return this.extended.onParse(f);
      case Frontend.bind:
        return this.extended.onBind(f);
      case Frontend.execute:
        return this.extended.onExecute(f);
      case Frontend.describe:
        decodeTarget(f.payload);
        this.guard.extendedMessage();
        this.out.forward(f.raw, { kind: 'extended', terminals: Terminals.describe });
        return undefined;
      case Frontend.close:
        this.extended.onClose(f);
        return undefined;
      case Frontend.sync:
        this.out.skipUntilSync = false;
        this.out.forward(f.raw, {
          kind: 'sync',
          terminals: Terminals.sync,
          clearsFailed: this.out.clearOnSync,
        });
        this.out.clearOnSync = false;
        this.guard.unitEnd();
        if (this.out.failedBlock || this.out.drainAtSync) {
          // Later decisions depend on the transaction state this Sync reports.
          this.out.drainAtSync = false;
          return this.out.drain();
        }
        return undefined;
      case Frontend.flush:
      case Frontend.copyData:
      case Frontend.copyDone:
      case Frontend.copyFail:
        this.out.send(f.raw);
        return undefined;
      case Frontend.terminate:
        this.out.send(f.raw);
        this.out.flushUpstream();
        this.io.close();
        return undefined;
      case Frontend.functionCall:
        return this.out.refuse(
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
    const c = this.state.classify(sql);
    const enc = unparsable(c);
    if (enc !== undefined) return this.out.refuse(enc, 'simple');
    const pin = pinnedSetting(c);
    if (pin !== undefined) return this.refusePinned(sql, c, pin, 'simple');
    if (c.statements === 0) {
      this.out.forward(encodeQuery(sql), { kind: 'simple', terminals: Terminals.query });
      return;
    }
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.out.failedBlock) {
      if (txOp === 'rollback' || txOp === 'rollback_to' || txOp === 'commit') {
        const text = txOp === 'commit' ? 'ROLLBACK' : sql;
        const done = await this.recorded(unchecked(sql, c, 'allow'), undefined);
        if (done instanceof PgError) return this.out.refuse(done, 'simple');
        this.out.forward(encodeQuery(text), {
          kind: 'simple',
          terminals: Terminals.query,
          clearsFailed: true,
          onDone: done,
        });
        this.guard.unitEnd();
        return this.out.drain();
      }
      this.path.refuse(actionRecord(unchecked(sql, c, 'deny'), this.ctx, {}));
      return this.out.refuse(inFailedTx(), 'simple');
    }
    const g = await this.gate(sql, c);
    if (g.result.kind === 'deny') return this.deny(g, 'simple');
    const record = await this.recorded(g, undefined);
    if (record instanceof PgError) return this.out.refuse(record, 'simple');
    const unit = unitOf(c);
    const settle = this.guard.before(unit, 'simple');
    if (settle !== undefined) await settle;
    const effects = this.state.applyEffects(c);
    this.out.forward(encodeQuery(sql), {
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
    this.guard.ran(unit, 'simple');
    this.guard.unitEnd();
  }

  private async gate(sql: string, c: Classification): Promise<GatedStatement> {
    // Revoking an agent ends its open sessions: checked again at most every AGENT_RECHECK_MS.
    const now = performance.now();
    if (now - this.agentCheckedAt > AGENT_RECHECK_MS) {
      const agent = await this.deps.directory.agentByName(this.agent);
      if (agent === undefined)
        throw new PgError(SqlState.invalidAuthorization, `agent "${this.agent}" has been revoked`, {
          severity: 'FATAL',
        });
      this.agentCheckedAt = now;
    }
    const reason = statementReason(sql) ?? this.startup?.reason ?? this.state.appReason;
    this.gating = true;
    try {
      return await gateStatement(
        this.deps.gate,
        this.ctx,
        { sql, scopes: c.scopes, classes: c.classes, reason },
        this.hold.signal,
      );
    } finally {
      this.gating = false;
    }
  }

  private deny(g: GatedStatement, mode: 'simple' | 'extended', params?: string[]): Promise<void> {
    const r = g.result as Extract<GateResult, { kind: 'deny' }>;
    this.path.refuse(actionRecord(g, this.ctx, { params }));
    return this.out.refuse(refusal(r), mode);
  }

  /**
   * Records the intent of a statement about to be sent, durably, and returns what records
   * its outcome; or, when the intent could not be recorded, the error to answer instead
   * (the statement is then not sent: docs/ARCHITECTURE.md, "Store").
   */
  private async recorded(
    g: GatedStatement,
    params: string[] | undefined,
  ): Promise<((done: StatementDone) => void) | PgError> {
    const requestId = this.executions.has(g) ? newId('req') : g.requestId;
    this.executions.add(g);
    if (g.result.kind !== 'allow') throw new Error('only an allowed statement is recorded as an intent');
    const begun = await this.path.begin({
      requestId,
      agent: this.ctx.agent,
      gate: g.result,
      intent: actionRecord(g, this.ctx, { params, requestId }),
      unrecorded: (error) => actionRecord(g, this.ctx, { params, requestId, outcome: 'error', error }),
      elapsedMs: () => Math.round((performance.now() - g.started) * 1000) / 1000,
    });
    if (begun instanceof RecordUnavailable)
      return new PgError(SqlState.systemError, `Airlock: ${begun.message}`, {
        detail: 'the statement was not sent to the database',
      });
    return (done) => begun.finish(actionResult(g, this.ctx, requestId, done));
  }

  private refusePinned(
    sql: string,
    c: Classification,
    err: PgError,
    mode: 'simple' | 'extended',
  ): Promise<void> {
    this.path.refuse(actionRecord(unchecked(sql, c, 'deny', 'pinned-setting', err.message), this.ctx, {}));
    return this.out.refuse(err, mode);
  }

  flushUpstream(): void {
    this.out.flushUpstream();
  }
}
