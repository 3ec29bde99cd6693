/**
 * One agent connection, start to end. Steps: 'auth' (client-auth.ts) →
 * 'connecting' (Airlock's own upstream session) → 'ready' (statements) → 'closed'.
 *
 * In 'ready', client messages are handled strictly in order. Query and Parse are
 * classified and gated before a byte of them is forwarded; Bind of a statement
 * prepared earlier is gated again (a grant may have expired or been revoked).
 * Everything else is relayed unchanged, and writes are coalesced per chunk.
 * Refusals are answered by Airlock in order with the upstream's responses
 * (response-queue.ts). See docs/POSTGRES.md for the behaviour this implements.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Gate, GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import type { MasterKey } from '../../core/secrets.js';
import type { Scope } from '../../core/types.js';
import type { Store } from '../../ledger/store.js';
import { databaseResource, postgresAction, type StatementClass } from './actions.js';
import {
  type BackendFrame,
  BackendFramer,
  backendKeyData,
  errorResponse,
  negotiateProtocol,
  readyForQuery,
} from './backend-codec.js';
import { type Classification, classify, type TxOp } from './classify.js';
import { ClientAuth } from './client-auth.js';
import {
  decodeBind,
  decodeExecute,
  decodeParse,
  decodeQuery,
  decodeTarget,
  type Frame,
  Frontend,
  FrontendFramer,
} from './frontend-codec.js';
import { PgError, SqlState } from './pg-error.js';
import { ResponseQueue, Terminals } from './response-queue.js';
import { applicationNameReason, type ClientStartup, statementReason } from './startup-options.js';
import {
  actionRecord,
  type GatedStatement,
  gateStatement,
  type ParamRecording,
  recordParams,
  refusal,
} from './statement-gate.js';
import type { StatementRecorder } from './statement-recorder.js';
import {
  cancelUpstream,
  connectUpstream,
  type UpstreamSession,
  type UpstreamTarget,
} from './upstream-connection.js';

export interface PgDatabase {
  readonly name: string;
  readonly upstream: UpstreamTarget;
  /** search_path when the session has not set one; `$user` is the upstream user. */
  readonly defaultSearchPath: readonly string[];
  readonly isSideEffect: (fn: string) => boolean;
  readonly params: ParamRecording;
  readonly tls: SecureContext | undefined;
  readonly tlsRequired: boolean;
}

export interface SessionDeps {
  readonly store: Store;
  readonly masterKey: MasterKey;
  readonly gate: Gate;
  readonly db: PgDatabase;
  readonly log: (line: string) => void;
  readonly cancels: CancelRegistry;
  readonly recorder: StatementRecorder;
}

/** Our BackendKeyData → the session it cancels (PostgreSQL's key is never shown to the agent). */
export class CancelRegistry {
  private readonly byPid = new Map<number, { secret: Buffer; cancel: () => void }>();

  register(cancel: () => void): { pid: number; secret: Buffer } {
    let pid = randomInt(1, 2 ** 31 - 1);
    while (this.byPid.has(pid)) pid = randomInt(1, 2 ** 31 - 1);
    const secret = randomBytes(4);
    this.byPid.set(pid, { secret, cancel });
    return { pid, secret };
  }

  unregister(pid: number): void {
    this.byPid.delete(pid);
  }

  cancel(pid: number, secret: Buffer): void {
    const e = this.byPid.get(pid);
    if (e !== undefined && e.secret.length === secret.length && timingSafeEqual(e.secret, secret)) e.cancel();
  }
}

type Step = 'auth' | 'connecting' | 'ready' | 'closed';

interface Prepared {
  readonly sql: string;
  readonly scopes: readonly Scope[];
  readonly classes: readonly StatementClass[];
  readonly txOp: TxOp | undefined;
  /** The gate result of the Parse, good for the first Bind only. */
  parseGate: GatedStatement | undefined;
}

interface Portal {
  readonly stmt: Prepared;
  readonly gated: GatedStatement;
  readonly params: string[] | undefined;
}

const MAX_BUFFERED = 8 * 1024 * 1024;
const AGENT_RECHECK_MS = 1000;
const CLASSIFY_CACHE = 512;

export class PgSession {
  private step: Step = 'auth';
  private socket: Socket;
  private readonly framer = new FrontendFramer();
  private readonly auth: ClientAuth;
  private readonly sessionId = newId('ses');
  private agent = '';
  private startup: ClientStartup | undefined;
  private upstream: UpstreamSession | undefined;
  private readonly backend = new BackendFramer();
  private readonly queue: ResponseQueue;
  private upOut: Buffer[] = [];
  private pumping = false;
  private skipUntilSync = false;
  private searchPath: readonly string[] = [];
  private appReason: string | undefined;
  private readonly prepared = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private readonly classifyCache = new Map<string, Classification>();
  private key: { pid: number; secret: Buffer } | undefined;
  private hold: AbortController | undefined;
  private agentCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    const db = deps.db;
    this.auth = new ClientAuth(deps.store, deps.masterKey, db.tls !== undefined, db.tlsRequired, false);
    this.queue = new ResponseQueue((b) => this.toClient(b));
    this.attach(socket);
  }

  private get ctx() {
    return {
      agent: this.agent,
      db: this.deps.db.name,
      sessionId: this.sessionId,
      sourceIp: this.socket.remoteAddress ?? '',
    };
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      if (this.framer.buffered > MAX_BUFFERED) socket.pause();
      void this.pump();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.step === 'closed') return;
    this.pumping = true;
    try {
      while (this.step === 'auth' || this.step === 'ready') {
        const frame =
          this.step === 'auth' && this.auth.step === 'startup'
            ? this.framer.nextStartup()
            : this.framer.next();
        if (frame === undefined) break;
        const pending = this.step === 'auth' ? this.onAuthFrame(frame) : this.onMessage(frame);
        if (pending !== undefined) {
          this.flushUpstream();
          await pending;
        }
      }
      this.flushUpstream();
      if (this.socket.isPaused() && this.framer.buffered < MAX_BUFFERED) this.socket.resume();
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
    if (this.step === 'ready' && this.framer.buffered >= 5 && !this.pumping) void this.pump();
  }

  // ---- startup and authentication ------------------------------------------------

  private async onAuthFrame(frame: Frame): Promise<void> {
    const ev = await this.auth.onFrame(frame);
    switch (ev.kind) {
      case 'reply':
        this.toClient(ev.bytes);
        return;
      case 'tls': {
        if (!ev.accept) {
          this.toClient(Buffer.from('N'));
          return;
        }
        // Bytes after SSLRequest but before the handshake would be injected into the
        // TLS session unauthenticated (CVE-2021-23214): refuse them.
        if (this.framer.buffered > 0)
          throw new PgError(SqlState.protocolViolation, 'unexpected data after SSLRequest', {
            severity: 'FATAL',
          });
        this.socket.write('S');
        this.socket.removeAllListeners('data');
        const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.deps.db.tls });
        this.socket = secure;
        this.auth.tlsStarted();
        this.attach(secure);
        return;
      }
      case 'cancel':
        this.deps.cancels.cancel(ev.pid, ev.secret);
        this.close();
        return;
      case 'authenticated':
        this.toClient(ev.bytes);
        if (ev.minor > 0 || ev.startup.protocolExtensions.length > 0)
          this.toClient(negotiateProtocol(0, ev.startup.protocolExtensions));
        this.agent = ev.agent;
        this.startup = ev.startup;
        await this.connect();
        return;
    }
  }

  private async connect(): Promise<void> {
    this.step = 'connecting';
    const startup = this.startup as ClientStartup;
    const path = startup.forward.get('search_path');
    this.searchPath =
      path === undefined ? this.expand(this.deps.db.defaultSearchPath) : this.expand(splitPath(path));
    this.appReason = applicationNameReason(startup.forward.get('application_name'));
    try {
      this.upstream = await connectUpstream(this.deps.db.upstream, startup.forward);
    } catch (err) {
      this.deps.log(
        `postgres front ${this.deps.db.name}: upstream connection failed for ${this.agent} (${this.sessionId}): ${(err as Error).message}`,
      );
      throw new PgError(
        SqlState.cannotConnectNow,
        `Airlock could not open its session to database "${this.deps.db.name}"`,
        {
          severity: 'FATAL',
          hint: `the gateway log has the cause (session ${this.sessionId})`,
        },
      );
    }
    if ((this.step as Step) === 'closed') {
      this.upstream.socket.destroy();
      return;
    }
    const up = this.upstream;
    up.socket.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    up.socket.on('error', () => this.close());
    up.socket.on('close', () => this.close());
    this.key = this.deps.cancels.register(() => this.cancel());
    this.toClient(
      Buffer.concat([
        ...up.parameterStatus,
        backendKeyData(this.key.pid, this.key.secret.readInt32BE(0)),
        readyForQuery('I'),
      ]),
    );
    this.step = 'ready';
  }

  private expand(path: readonly string[]): string[] {
    return path.map((s) => (s === '$user' ? this.deps.db.upstream.user : s)).filter((s) => s !== '');
  }

  /** CancelRequest: a held statement stops waiting; a running one is cancelled upstream. */
  private cancel(): void {
    if (this.hold !== undefined) {
      this.hold.abort();
      return;
    }
    const up = this.upstream;
    if (up !== undefined)
      cancelUpstream(this.deps.db.upstream, up.pid, up.secret).catch((e) =>
        this.deps.log(`postgres front: cancel failed: ${(e as Error).message}`),
      );
  }

  // ---- statements ----------------------------------------------------------------

  /** Returns a promise only when the message must wait (gate or drain); relays synchronously otherwise. */
  private onMessage(f: Frame): Promise<void> | undefined {
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
        this.forward(f.raw, {
          kind: 'extended',
          terminals: Terminals.execute,
          onDone: portal && this.recorder(portal.gated, portal.params),
        });
        return undefined;
      }
      case Frontend.describe:
        decodeTarget(f.payload);
        this.forward(f.raw, { kind: 'extended', terminals: Terminals.describe });
        return undefined;
      case Frontend.close: {
        const t = decodeTarget(f.payload);
        if (t.kind === 'S') this.prepared.delete(t.name);
        else this.portals.delete(t.name);
        this.forward(f.raw, { kind: 'extended', terminals: Terminals.close });
        return undefined;
      }
      case Frontend.sync:
        this.skipUntilSync = false;
        this.forward(f.raw, { kind: 'sync', terminals: Terminals.sync });
        return this.queue.failedTx ? this.drain() : undefined;
      case Frontend.flush:
      case Frontend.copyData:
      case Frontend.copyDone:
      case Frontend.copyFail:
        this.upOut.push(f.raw);
        return undefined;
      case Frontend.terminate:
        this.upOut.push(f.raw);
        this.flushUpstream();
        this.close();
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
    if (c.statements === 0) {
      this.forward(this.queryBytes(sql), { kind: 'simple', terminals: Terminals.query });
      return;
    }
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.queue.failedTx) {
      if (txOp === 'rollback' || txOp === 'rollback_to' || txOp === 'commit') {
        const text = txOp === 'commit' ? 'ROLLBACK' : sql;
        this.forward(this.queryBytes(text), {
          kind: 'simple',
          terminals: Terminals.query,
          clearsFailed: true,
        });
        return this.drain();
      }
      return this.refuse(inFailedTx(), 'simple');
    }
    const g = await this.gate(sql, c);
    if (g.result.kind === 'deny') return this.deny(g, 'simple');
    const effects = this.applyEffects(c);
    const record = this.recorder(g, undefined);
    this.forward(this.queryBytes(sql), {
      kind: 'simple',
      terminals: Terminals.query,
      onDone: (d) => {
        record(d);
        // Autocommitted without error: the upstream's search_path is now exactly the new one.
        if (d.sqlstate === undefined && d.status === 'I' && c.statements === 1) effects.confirm?.();
        if (d.sqlstate !== undefined && c.statements === 1) effects.undo?.();
      },
    });
  }

  private async onParse(f: Frame): Promise<void> {
    const p = decodeParse(f.payload);
    const c = this.classify(p.sql);
    const txOp = c.statements === 1 ? txOpOf(c) : undefined;
    if (this.queue.failedTx && txOp !== 'rollback' && txOp !== 'rollback_to' && txOp !== 'commit')
      return this.refuse(inFailedTx(), 'extended');
    if (p.name !== '' && this.prepared.has(p.name))
      return this.refuse(
        new PgError(SqlState.duplicatePreparedStatement, `prepared statement "${p.name}" already exists`),
        'extended',
      );
    let g: GatedStatement | undefined;
    if (c.statements > 0 && !this.queue.failedTx) {
      g = await this.gate(p.sql, c);
      if (g.result.kind === 'deny') return this.deny(g, 'extended');
      this.applyEffects(c);
    }
    // One namespace for protocol and SQL-prepared statements, as in PostgreSQL (a named
    // statement cannot be redefined: refused above with 42P05, as PostgreSQL would).
    this.prepared.set(p.name, { sql: p.sql, scopes: c.scopes, classes: c.classes, txOp, parseGate: g });
    this.forward(f.raw, { kind: 'extended', terminals: Terminals.parse });
    return undefined;
  }

  private async onBind(f: Frame): Promise<void> {
    const b = decodeBind(f.payload);
    const stmt = this.prepared.get(b.statement) ?? unknownStatement(b.statement, this.deps.db.name);
    const params = recordParams(b.params, this.deps.db.params, b.paramFormats);
    if (
      this.queue.failedTx &&
      stmt.txOp !== 'rollback' &&
      stmt.txOp !== 'rollback_to' &&
      stmt.txOp !== 'commit'
    )
      return this.refuse(inFailedTx(), 'extended');
    let g = stmt.parseGate;
    stmt.parseGate = undefined;
    if (g === undefined) {
      // A statement used again (or prepared with SQL PREPARE): the grant or approval
      // that let it through last time may be gone, so it is checked again.
      g = await this.gate(stmt.sql, {
        scopes: stmt.scopes,
        classes: stmt.classes,
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
      c = classify(sql, {
        db: this.deps.db.name,
        searchPath: this.searchPath,
        user: this.deps.db.upstream.user,
        defaultSearchPath: this.expand(this.deps.db.defaultSearchPath),
        isSideEffect: this.deps.db.isSideEffect,
        prepared: this.prepared,
      });
      if (this.classifyCache.size >= CLASSIFY_CACHE) this.classifyCache.clear();
      this.classifyCache.set(key, c);
    }
    return c;
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
  private applyEffects(c: Classification): { confirm?: () => void; undo?: () => void } {
    let confirm: (() => void) | undefined;
    const added: string[] = [];
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
        if (!this.prepared.has(e.name)) added.push(e.name);
        if (!this.prepared.has(e.name))
          this.prepared.set(e.name, {
            sql: `EXECUTE ${e.name} /* prepared with SQL PREPARE */`,
            scopes: e.scopes,
            classes: [
              ...new Set(e.scopes.map((sc) => sc.action.slice('postgres:'.length) as StatementClass)),
            ],
            txOp: undefined,
            parseGate: undefined,
          });
      } else if (e.kind === 'deallocate') {
        if (e.name === undefined) this.prepared.clear();
        else this.prepared.delete(e.name);
      } else if (e.kind === 'application_name')
        this.appReason =
          e.value === 'default'
            ? applicationNameReason(this.startup?.forward.get('application_name'))
            : applicationNameReason(e.value);
    }
    return {
      ...(confirm === undefined ? {} : { confirm }),
      // A PREPARE the upstream refused did not create its name.
      undo: () => {
        for (const n of added) this.prepared.delete(n);
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
    this.queue.synthetic((status) => ({
      bytes:
        mode === 'simple'
          ? Buffer.concat([errorResponse(err), readyForQuery(status === 'T' ? 'E' : status)])
          : errorResponse(err),
      failsTransaction: true,
    }));
    if (mode === 'extended') {
      this.skipUntilSync = true;
      // PostgreSQL holds responses to extended messages until Sync or Flush.
      if (!this.queue.empty) this.upOut.push(FLUSH);
    }
    return this.drain();
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

  private queryBytes(sql: string): Buffer {
    const body = Buffer.from(`${sql}\0`, 'utf8');
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = Frontend.query;
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  }

  // ---- bytes -----------------------------------------------------------------------

  private forward(raw: Buffer, entry: Parameters<ResponseQueue['expect']>[0]): void {
    this.queue.expect(entry);
    this.upOut.push(raw);
  }

  private flushUpstream(): void {
    if (this.upOut.length === 0 || this.upstream === undefined) return;
    const out = this.upOut.length === 1 ? (this.upOut[0] as Buffer) : Buffer.concat(this.upOut);
    this.upOut = [];
    this.upstream.socket.write(out);
  }

  private fromUpstream(chunk: Buffer): void {
    const frames: BackendFrame[] = [];
    let complete: Buffer;
    try {
      complete = this.backend.push(chunk, (_buf, f) => frames.push(f));
    } catch (err) {
      this.fail(err);
      return;
    }
    if (frames.length === 0) return;
    // `complete` and the frames' offsets refer to the same buffer.
    const parts = this.queue.relay(complete, frames, complete.length);
    if (parts.length === 1) this.toClient(parts[0] as Buffer);
    else if (parts.length > 1) this.toClient(Buffer.concat(parts));
  }

  private toClient(b: Buffer): void {
    if (b.length > 0 && !this.socket.destroyed) this.socket.write(b);
  }

  private fail(err: unknown): void {
    if (err instanceof PgError) {
      this.toClient(errorResponse(err));
      if (err.severity !== 'FATAL' && this.step === 'ready') return;
    } else {
      this.deps.log(
        `postgres front: session ${this.sessionId} failed: ${(err as Error).stack ?? String(err)}`,
      );
      this.toClient(
        errorResponse(new PgError(SqlState.internalError, 'Airlock internal error', { severity: 'FATAL' })),
      );
    }
    this.socket.end();
    this.close();
  }

  close(): void {
    if (this.step === 'closed') return;
    this.step = 'closed';
    this.hold?.abort();
    if (this.key !== undefined) this.deps.cancels.unregister(this.key.pid);
    this.upstream?.socket.end();
    this.upstream?.socket.destroy();
    if (!this.socket.destroyed) this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

const FLUSH = Buffer.from([Frontend.flush, 0, 0, 0, 4]);

function inFailedTx(): PgError {
  return new PgError(
    SqlState.inFailedTransaction,
    'current transaction is aborted, commands ignored until end of transaction block',
    {
      detail: 'Airlock refused an earlier statement of this transaction',
    },
  );
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
    txOp: undefined,
    parseGate: undefined,
  };
}

function splitPath(v: string): string[] {
  return v.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
}
