/**
 * Both directions of the statement phase: bytes queued for the upstream (written
 * together by flushUpstream), and answers to the client kept in order with the
 * upstream's (response-queue.ts), Airlock's refusals among them. A refusal is
 * rendered as PostgreSQL would answer the error (docs/POSTGRES.md).
 */
import { randomBytes } from 'node:crypto';
import { serialize } from 'pg-protocol';
import { errorResponse, readyForQuery } from './backend-codec.js';
import { Frontend } from './frontend-codec.js';
import type { PgError } from './pg-error.js';
import { ResponseQueue } from './response-queue.js';

/** The session's sockets, as the proxy needs them. */
export interface ProxyIo {
  writeUpstream(b: Buffer): void;
  toClient(b: Buffer): void;
  close(): void;
}

export class ProxyExchange {
  readonly queue: ResponseQueue;
  private upOut: Buffer[] = [];
  /** After a refusal in extended mode: client messages are dropped until Sync. */
  skipUntilSync = false;
  /** The next Sync's ReadyForQuery may end a failed block (ROLLBACK TO SAVEPOINT ran). */
  clearOnSync = false;
  /** A refusal in extended mode: wait for the client to see it at the next Sync. */
  drainAtSync = false;

  constructor(private readonly io: ProxyIo) {
    this.queue = new ResponseQueue((b) => io.toClient(b));
  }

  /** Inside a transaction block that failed (Airlock's refusal or the upstream's own error). */
  get failedBlock(): boolean {
    return this.queue.failedTx || this.queue.status === 'E';
  }

  /** Sends `raw` upstream, expecting its answer as `entry` describes. */
  forward(raw: Buffer, entry: Parameters<ResponseQueue['expect']>[0]): void {
    this.queue.expect(entry);
    this.upOut.push(raw);
  }

  /** Sends `raw` upstream with no answer of its own to expect. */
  send(raw: Buffer): void {
    this.upOut.push(raw);
  }

  flushUpstream(): void {
    if (this.upOut.length === 0) return;
    const out = this.upOut.length === 1 ? (this.upOut[0] as Buffer) : Buffer.concat(this.upOut);
    this.upOut = [];
    this.io.writeUpstream(out);
  }

  drain(): Promise<void> {
    this.flushUpstream();
    return this.queue.idle();
  }

  /**
   * Answers a refused message in order: simple query → ErrorResponse + ReadyForQuery;
   * extended → ErrorResponse, then everything up to Sync is discarded (as PostgreSQL does).
   * Waits until the client has seen it, so later decisions see the updated state.
   */
  refuse(err: PgError, mode: 'simple' | 'extended'): Promise<void> {
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
}

const FLUSH = Buffer.from([Frontend.flush, 0, 0, 0, 4]);

/** A Bind of a statement that cannot exist (random name): the upstream answers 26000 and fails. */
const FAIL_BIND = serialize.bind({
  statement: `airlock_refused_${randomBytes(16).toString('hex')}`,
  portal: `airlock_refused_${randomBytes(16).toString('hex')}`,
});
