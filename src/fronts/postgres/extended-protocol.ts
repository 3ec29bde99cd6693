/**
 * The extended query protocol. Parse is classified and gated before a byte of it is
 * forwarded; a Bind of a statement prepared earlier is gated again (a grant may have
 * expired or been revoked); Execute and Close follow the portals and statements they name.
 */
import { serialize } from 'pg-protocol';
import { databaseResource, postgresAction, type StatementClass } from './actions.js';
import type { Classification } from './classification.js';
import { preparedScopes } from './classify.js';
import { decodeBind, decodeExecute, decodeParse, decodeTarget, type Frame } from './frontend-codec.js';
import { PgError, SqlState } from './pg-error.js';
import type { Outcome, Prepared } from './prepared-statements.js';
import type { ProxyExchange } from './proxy-exchange.js';
import type { ReadOnlyGuard } from './read-only-guard.js';
import { Terminals } from './response-queue.js';
import type { PgDatabase } from './session.js';
import { type GatedStatement, recordParams, type StatementDone } from './statement-gate.js';
import { inFailedTx, pinnedSetting, unparsable } from './statement-refusals.js';
import { preparedUnit, txOpOf, type UpstreamSessionState, unitOf } from './upstream-session-state.js';

interface Portal {
  readonly stmt: Prepared;
  /** undefined for ROLLBACK inside a failed block (passed without a check, not recorded). */
  readonly gated: GatedStatement | undefined;
  readonly params: string[] | undefined;
}

/** The statement proxy's checks, shared with the simple query path. */
export interface StatementChecks {
  gate(sql: string, c: Classification): Promise<GatedStatement>;
  deny(g: GatedStatement, mode: 'simple' | 'extended', params?: string[]): Promise<void>;
  /** Records the intent before the statement runs: its outcome recorder, or the refusal to answer. */
  run(g: GatedStatement, params: string[] | undefined): Promise<((done: StatementDone) => void) | PgError>;
  /** Records and answers a refusal decided without policy (a pinned setting). */
  refusePinned(sql: string, c: Classification, err: PgError, mode: 'simple' | 'extended'): Promise<void>;
}

export class ExtendedProtocol {
  private readonly portals = new Map<string, Portal>();

  constructor(
    private readonly db: PgDatabase,
    private readonly state: UpstreamSessionState,
    private readonly out: ProxyExchange,
    private readonly guard: ReadOnlyGuard,
    private readonly checks: StatementChecks,
  ) {}

  async onParse(f: Frame): Promise<void> {
    const p = decodeParse(f.payload);
    const c = this.state.classify(p.sql);
    const enc = unparsable(c);
    if (enc !== undefined) return this.out.refuse(enc, 'extended');
    const pin = pinnedSetting(c);
    if (pin !== undefined) return this.checks.refusePinned(p.sql, c, pin, 'extended');
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.out.failedBlock && txOp !== 'rollback' && txOp !== 'rollback_to' && txOp !== 'commit')
      return this.out.refuse(inFailedTx(), 'extended');
    if (this.state.prepared.isTaken(p.name))
      return this.out.refuse(
        new PgError(SqlState.duplicatePreparedStatement, `prepared statement "${p.name}" already exists`),
        'extended',
      );
    let g: GatedStatement | undefined;
    if (c.statements > 0 && !this.out.failedBlock) {
      g = await this.checks.gate(p.sql, c);
      if (g.result.kind === 'deny') return this.checks.deny(g, 'extended');
      // A write switches to read-write before its Parse: the Parse opens the agent's
      // implicit transaction (read-only-guard.ts). Its Bind finds the switch made.
      const settle = this.guard.before(unitOf(c), 'extended');
      if (settle !== undefined) await settle;
      // Effects of a statement sent by Parse happen at its Execute, if ever: never confirmed.
      this.state.applyEffects(c);
    }
    this.guard.extendedMessage();
    const parsePath = this.state.searchPath.join(',');
    // One namespace for protocol and SQL-prepared statements, as in PostgreSQL (a named
    // statement cannot be redefined: refused above with 42P05, as PostgreSQL would).
    if (this.out.failedBlock && txOp === 'commit') {
      // PostgreSQL answers COMMIT of a failed transaction by rolling back: so does Airlock
      // (the upstream's transaction is not failed, so it must not see a COMMIT).
      const defined = this.state.prepared.define(p.name, {
        sql: 'ROLLBACK',
        scopes: c.scopes,
        sources: [{ sql: 'ROLLBACK' }],
        classes: c.classes,
        txOp: 'rollback',
        parseGate: g,
        parsePath,
        settled: false,
      });
      this.out.forward(serialize.parse({ name: p.name, text: 'ROLLBACK', types: [...p.paramTypes] }), {
        kind: 'extended',
        terminals: Terminals.parse,
        onDone: (d) => defined(d.sqlstate === undefined),
      });
      return undefined;
    }
    const defined = this.state.prepared.define(p.name, {
      sql: p.sql,
      scopes: c.scopes,
      sources: [{ sql: p.sql }],
      classes: c.classes,
      txOp,
      parseGate: g,
      parsePath,
      settled: false,
    });
    this.out.forward(f.raw, {
      kind: 'extended',
      terminals: Terminals.parse,
      onDone: (d) => defined(d.sqlstate === undefined),
    });
    return undefined;
  }

  /**
   * Returns a promise only when the Bind must be gated again: the common Bind right
   * after its Parse is relayed synchronously, so it leaves in the same write as the
   * Describe/Execute/Sync that follow it (one upstream write per round trip).
   */
  onBind(f: Frame): Promise<void> | undefined {
    const b = decodeBind(f.payload);
    const stmt = this.state.prepared.get(b.statement) ?? unknownStatement(b.statement, this.db.name);
    const params = recordParams(b.params, this.db.params, b.paramFormats);
    if (this.out.failedBlock) {
      // Only ending the failed block may run. A COMMIT prepared before the failure cannot
      // be turned into ROLLBACK here, so it is refused like everything else.
      if (stmt.txOp !== 'rollback' && stmt.txOp !== 'rollback_to')
        return this.out.refuse(inFailedTx(), 'extended');
      this.portals.set(b.portal, { stmt, gated: undefined, params });
      this.guard.extendedMessage();
      this.out.forward(f.raw, { kind: 'extended', terminals: Terminals.bind });
      return undefined;
    }
    // The Parse's decision holds for the first Bind under the same search_path only.
    const g = stmt.parsePath === this.state.searchPath.join(',') ? stmt.parseGate : undefined;
    stmt.parseGate = undefined;
    if (g === undefined) return this.bindAgain(f, b.portal, stmt, params);
    const settle = this.guard.before(preparedUnit(stmt), 'extended');
    if (settle !== undefined) return settle.then(() => this.bound(f, b.portal, stmt, g, params));
    this.bound(f, b.portal, stmt, g, params);
    return undefined;
  }

  /**
   * A statement used again (or prepared with SQL PREPARE): the grant or approval that
   * let it through last time may be gone, so it is checked again, with names resolved
   * against today's search_path too (PostgreSQL re-plans for it).
   */
  private async bindAgain(
    f: Frame,
    portal: string,
    stmt: Prepared,
    params: string[] | undefined,
  ): Promise<void> {
    const scopes = preparedScopes(stmt, this.state.classifyContext());
    const classes = [...new Set(scopes.map((sc) => sc.action.slice('postgres:'.length) as StatementClass))];
    const g = await this.checks.gate(stmt.sql, {
      scopes,
      classes,
      effects: [],
      statements: 1,
      parseError: undefined,
    });
    if (g.result.kind === 'deny') return this.checks.deny(g, 'extended', params);
    await this.guard.before(preparedUnit(stmt, classes), 'extended');
    this.bound(f, portal, stmt, g, params, classes);
  }

  private bound(
    f: Frame,
    portal: string,
    stmt: Prepared,
    g: GatedStatement,
    params: string[] | undefined,
    classes: readonly StatementClass[] = stmt.classes,
  ): void {
    this.portals.set(portal, { stmt, gated: g, params });
    this.guard.ran(preparedUnit(stmt, classes), 'extended');
    this.out.forward(f.raw, { kind: 'extended', terminals: Terminals.bind });
  }

  /** Returns a promise when the Execute runs a gated statement: its intent is recorded first. */
  onExecute(f: Frame): Promise<void> | undefined {
    const portal = this.portals.get(decodeExecute(f.payload).portal);
    // ROLLBACK TO SAVEPOINT recovers a failed block; the next Sync's ReadyForQuery tells.
    if (this.out.failedBlock && portal?.stmt.txOp === 'rollback_to') this.out.clearOnSync = true;
    if (portal?.gated === undefined) {
      this.guard.extendedMessage();
      this.out.forward(f.raw, { kind: 'extended', terminals: Terminals.execute });
      return undefined;
    }
    return this.executeRecorded(f, portal.gated, portal.params);
  }

  private async executeRecorded(f: Frame, g: GatedStatement, params: string[] | undefined): Promise<void> {
    const onDone = await this.checks.run(g, params);
    if (onDone instanceof PgError) return this.out.refuse(onDone, 'extended');
    this.guard.extendedMessage();
    this.out.forward(f.raw, { kind: 'extended', terminals: Terminals.execute, onDone });
  }

  onClose(f: Frame): void {
    const t = decodeTarget(f.payload);
    let released: Outcome | undefined;
    if (t.kind === 'S') released = this.state.prepared.release(t.name);
    else this.portals.delete(t.name);
    this.guard.extendedMessage();
    this.out.forward(f.raw, {
      kind: 'extended',
      terminals: Terminals.close,
      ...(released === undefined ? {} : { onDone: (d) => released(d.sqlstate === undefined) }),
    });
  }
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
