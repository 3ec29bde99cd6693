/**
 * One agent connection, start to end. Steps: 'auth' (client-auth.ts) →
 * 'connecting' (Airlock's own upstream session) → 'ready' (statements) → 'closed'.
 *
 * In 'ready', messages go to the StatementProxy (statement-proxy.ts), and writes
 * to both sockets are coalesced per received chunk.
 */
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { type Directory, DirectoryUnavailable } from '../../access/directory.js';
import type { Recorder } from '../../access/recorder.js';
import type { Gate } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import {
  type BackendFrame,
  BackendFramer,
  backendKeyData,
  errorResponse,
  negotiateProtocol,
  parameterStatus,
  readyForQuery,
} from './backend-codec.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { CatalogLoader } from './catalog-loader.js';
import { ClientAuth } from './client-auth.js';
import { type Frame, FrontendFramer, MAX_AUTH_MESSAGE } from './frontend-codec.js';
import type { FunctionCatalog } from './function-catalog.js';
import { PgError, SqlState } from './pg-error.js';
import { pinnedStartupParams } from './session-settings.js';
import type { ClientStartup } from './startup-options.js';
import type { ParamRecording } from './statement-gate.js';
import { StatementProxy } from './statement-proxy.js';
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
  /** The upstream's function catalog: which calls are reads (function-catalog.ts). */
  readonly catalog: CatalogLoader;
  readonly params: ParamRecording;
  readonly tls: SecureContext | undefined;
  readonly tlsRequired: boolean;
}

export interface SessionDeps {
  /** Agents by name (SCRAM), opened secrets (access/directory.ts). */
  readonly directory: Directory;
  readonly gate: Gate;
  readonly db: PgDatabase;
  readonly log: (line: string) => void;
  readonly cancels: CancelRegistry;
  readonly recorder: Recorder;
}

type Step = 'auth' | 'connecting' | 'ready' | 'closed';

const MAX_BUFFERED = 8 * 1024 * 1024;

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
  private proxy: StatementProxy | undefined;
  private pumping = false;
  private key: { pid: number; secret: Buffer } | undefined;
  private upstreamBusy = false;
  private clientBusy = false;

  constructor(
    socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    const db = deps.db;
    this.auth = new ClientAuth(deps.directory, db.tls !== undefined, db.tlsRequired, false);
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      // While a statement is held, later messages queue here; past MAX_BUFFERED stop reading.
      if (this.pumping && this.framer.buffered > MAX_BUFFERED) socket.pause();
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
          this.step === 'auth'
            ? this.auth.step === 'startup'
              ? this.framer.nextStartup()
              : this.framer.next(MAX_AUTH_MESSAGE)
            : this.framer.next();
        if (frame === undefined) break;
        const pending =
          this.step === 'auth' ? this.onAuthFrame(frame) : (this.proxy as StatementProxy).onMessage(frame);
        if (pending !== undefined) {
          this.proxy?.flushUpstream();
          await pending;
        }
      }
      this.proxy?.flushUpstream();
      // The loop ends when the next message is incomplete: more bytes are needed, so read on
      // (unless the upstream is not keeping up with what was already forwarded).
      if (this.socket.isPaused() && !this.upstreamBusy) this.socket.resume();
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
    // No pump() again here: the loop only ends on an incomplete message (the next 'data'
    // event pumps) or a closed session. Calling it again re-ran the loop on the same partial
    // message, recursively, until the stack overflowed (a dribbling peer did it on purpose).
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
        // The protocol sends no reply to a CancelRequest, whatever happens to it.
        await this.deps.cancels
          .cancel(ev.pid, ev.secret)
          .catch((err: unknown) =>
            this.deps.log(`postgres: cancel not forwarded: ${(err as Error).message}`),
          );
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
    let functions: FunctionCatalog;
    try {
      // UTF8 unless the agent chose another parsable encoding (not a role/database default);
      // Airlock's pins come last: they win over anything the agent's startup carried.
      this.upstream = await connectUpstream(
        this.deps.db.upstream,
        new Map([['client_encoding', 'UTF8'], ...startup.forward, ...pinnedStartupParams()]),
      );
      functions = await this.deps.db.catalog.get(this.upstream.socket);
    } catch (err) {
      this.upstream?.socket.destroy();
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
    const proxy = new StatementProxy(
      this.deps,
      {
        writeUpstream: (b) => {
          // Backpressure: stop reading from the agent until the upstream drains.
          if (!up.socket.write(b) && !this.upstreamBusy) {
            this.upstreamBusy = true;
            this.socket.pause();
            up.socket.once('drain', () => {
              this.upstreamBusy = false;
              this.socket.resume();
            });
          }
        },
        toClient: (b) => this.toClient(b),
        close: () => this.close(),
      },
      {
        agent: this.agent,
        sessionId: this.sessionId,
        sourceIp: this.socket.remoteAddress ?? '',
        startup,
        functions,
      },
    );
    this.proxy = proxy;
    up.socket.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    const lost = () => {
      // Tell the agent why its session ends (the upstream's own FATAL, if any, was relayed).
      if (this.step === 'ready')
        this.toClient(
          errorResponse(
            new PgError(SqlState.connectionFailure, 'Airlock lost its session to the database', {
              severity: 'FATAL',
            }),
          ),
        );
      this.close();
    };
    up.socket.on('error', lost);
    up.socket.on('close', lost);
    const key = await this.deps.cancels.register(() => this.cancel());
    this.key = key;
    if ((this.step as string) === 'closed') {
      this.deps.cancels.unregister(key.pid); // the session ended while the key was published
      return;
    }
    this.toClient(
      Buffer.concat([
        ...up.parameterStatus.map(agentView),
        backendKeyData(key.pid, key.secret.readInt32BE(0)),
        readyForQuery('I'),
      ]),
    );
    this.step = 'ready';
  }

  /** CancelRequest: a held statement stops waiting; a running one is cancelled upstream. */
  private cancel(): void {
    if (this.proxy?.cancelHold() === true) return;
    const up = this.upstream;
    if (up !== undefined)
      cancelUpstream(this.deps.db.upstream, up.pid, up.secret).catch((e) =>
        this.deps.log(`postgres front: cancel failed: ${(e as Error).message}`),
      );
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
    const parts = this.proxy?.relay(complete, frames) ?? [];
    if (parts.length === 1) this.toClient(parts[0] as Buffer);
    else if (parts.length > 1) this.toClient(Buffer.concat(parts));
  }

  private toClient(b: Buffer): void {
    if (b.length === 0 || this.socket.destroyed) return;
    // Backpressure: a slow agent reading a large result pauses the upstream, not Airlock's memory.
    if (!this.socket.write(b) && this.upstream !== undefined && !this.clientBusy) {
      const up = this.upstream.socket;
      this.clientBusy = true;
      up.pause();
      this.socket.once('drain', () => {
        this.clientBusy = false;
        up.resume();
      });
    }
  }

  private fail(err: unknown): void {
    if (err instanceof DirectoryUnavailable) {
      // The store cannot be read (who is this agent? is it still active?): fail closed.
      this.toClient(
        errorResponse(
          new PgError(SqlState.cannotConnectNow, `Airlock: ${err.message}`, { severity: 'FATAL' }),
        ),
      );
    } else if (err instanceof PgError) {
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
    this.proxy?.close();
    if (this.key !== undefined) this.deps.cancels.unregister(this.key.pid);
    this.upstream?.socket.end();
    this.upstream?.socket.destroy();
    if (!this.socket.destroyed) this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

/**
 * The upstream reports default_transaction_read_only (a GUC_REPORT setting) as Airlock
 * pinned it; to the agent its session is read-write, Airlock switching per statement
 * (read-only-guard.ts), so libpq's `target_session_attrs=read-write` still connects.
 */
function agentView(status: Buffer): Buffer {
  const [name] = status.subarray(5).toString('utf8').split('\0');
  return name === 'default_transaction_read_only' ? parameterStatus(name, 'off') : status;
}
