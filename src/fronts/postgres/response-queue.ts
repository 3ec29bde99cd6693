/**
 * Keeps the upstream's responses and Airlock's own (refusals) in the order the
 * client sent its messages. Every message forwarded upstream that PostgreSQL
 * answers gets an entry naming the message type(s) that complete it; an entry
 * Airlock answers itself is "synthetic" and is written when it reaches the head.
 * Also applies the failed-transaction overlay: after Airlock refuses a statement
 * inside a transaction block, ReadyForQuery 'T' is reported as 'E' until the
 * client ends the block, as PostgreSQL would after an error.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import {
  Backend,
  type BackendFrame,
  decodeCommandTag,
  decodeErrorFields,
  type TxStatus,
} from './backend-codec.js';

/** What a forwarded message waits for. */
export type EntryKind = 'simple' | 'extended' | 'sync';

export interface Completion {
  readonly tags: string[];
  sqlstate: string | undefined;
  error: string | undefined;
  /** Transaction status in the ReadyForQuery that completed a simple query or Sync. */
  status?: TxStatus;
}

export interface UpstreamEntry {
  readonly kind: EntryKind;
  /** Backend message types that complete this entry. */
  readonly terminals: readonly number[];
  /** Called once with what the upstream answered (statement recording). */
  readonly onDone?: (c: Completion) => void;
  /** A ROLLBACK that ends the failed-transaction overlay once it completes. */
  readonly clearsFailed?: boolean;
  /** Sent to make the upstream fail in Airlock's place: its ErrorResponse is replaced by this. */
  readonly replaceError?: Buffer;
  /** Airlock's own statement (read-only-guard.ts): every answer to it is kept from the client. */
  readonly internal?: boolean;
}

interface SyntheticEntry {
  readonly kind: 'synthetic';
  /** Bytes to send; `failed` is whether it leaves a transaction block failed. */
  readonly render: (status: TxStatus) => { bytes: Buffer; failsTransaction: boolean };
}

type Entry = (UpstreamEntry & { completion: Completion }) | SyntheticEntry;

export const Terminals = {
  query: [Backend.readyForQuery],
  sync: [Backend.readyForQuery],
  parse: [Backend.parseComplete],
  bind: [Backend.bindComplete],
  close: [Backend.closeComplete],
  describe: [Backend.rowDescription, Backend.noData],
  execute: [Backend.commandComplete, Backend.emptyQuery, Backend.portalSuspended],
} as const;

const CUT = Buffer.alloc(0);
const NOTIFICATION = 0x41; // 'A' NotificationResponse

export class ResponseQueue {
  private entries: Entry[] = [];
  private idleWaiters: Array<() => void> = [];
  /** The upstream reported an error in extended mode and ignores messages until Sync. */
  upstreamSkipping = false;
  /** Transaction status as of the last ReadyForQuery relayed. */
  status: TxStatus = 'I';
  /** Airlock refused a statement inside a transaction block; not yet rolled back. */
  failedTx = false;

  constructor(private readonly toClient: (b: Buffer) => void) {}

  get empty(): boolean {
    return this.entries.length === 0;
  }

  expect(entry: UpstreamEntry): void {
    if (entry.kind === 'sync') this.upstreamSkipping = false;
    else if (this.upstreamSkipping) return; // ignored by the upstream until Sync: no answer will come
    this.entries.push({ ...entry, completion: { tags: [], sqlstate: undefined, error: undefined } });
  }

  /** Queues a response Airlock writes itself; sent now if nothing is in flight. */
  synthetic(render: SyntheticEntry['render']): void {
    // The upstream is discarding messages until Sync after its own error: PostgreSQL
    // would have skipped the refused message too, so the client must not hear of it.
    if (this.upstreamSkipping) return;
    this.entries.push({ kind: 'synthetic', render });
    if (this.entries.length === 1) this.toClient(this.drainSynthetic());
  }

  /**
   * The session ended with messages forwarded but not answered (agent or upstream
   * gone): each may have run, so each is completed with `c` for the record.
   */
  abandon(c: Omit<Completion, 'tags'>): void {
    const left = this.entries;
    this.entries = [];
    for (const e of left)
      if (e.kind !== 'synthetic')
        e.onDone?.({
          ...e.completion,
          sqlstate: e.completion.sqlstate ?? c.sqlstate,
          error: e.completion.error ?? c.error,
        });
  }

  /** Resolves when every forwarded message has been answered. */
  idle(): Promise<void> {
    if (this.entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Handles one chunk of complete upstream messages: updates state, rewrites
   * ReadyForQuery when the overlay applies, and returns the bytes for the client
   * (upstream bytes and synthetic responses interleaved in order).
   */
  relay(buf: Buffer, frames: readonly BackendFrame[], completeEnd: number): Buffer[] {
    const out: Buffer[] = [];
    // Upstream bytes pass as one slice; it is cut only where Airlock replaces a message or
    // inserts its own answers (the common chunk goes to the client as it came, uncopied).
    let segStart = 0;
    for (const f of frames) {
      const r = this.onMessage(buf, f);
      if (r === false) continue;
      if (r !== true) {
        out.push(buf.subarray(segStart, f.start), r);
        segStart = f.end;
      }
      if (this.entries[0]?.kind === 'synthetic') {
        if (segStart < f.end) out.push(buf.subarray(segStart, f.end));
        segStart = f.end;
        out.push(this.drainSynthetic());
      }
    }
    if (segStart < completeEnd) out.push(buf.subarray(segStart, completeEnd));
    if (this.entries.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of w) resolve();
    }
    return out;
  }

  /**
   * Returns true when an entry completed (so synthetic entries may follow), or the bytes
   * that replace this message for the client.
   */
  private onMessage(buf: Buffer, f: BackendFrame): boolean | Buffer {
    const head = this.entries[0];
    const type = f.type;
    if (type === Backend.readyForQuery) {
      let status = String.fromCharCode(buf[f.start + 5] as number) as TxStatus;
      // Pop to the entry this ReadyForQuery answers (extended entries before it were skipped).
      let done: Entry | undefined;
      while (this.entries.length > 0) {
        done = this.entries.shift();
        if (done?.kind === 'sync' || done?.kind === 'simple') break;
      }
      if (done !== undefined && done.kind !== 'synthetic' && done.internal === true) {
        if (status === 'I') this.failedTx = false;
        this.status = this.failedTx && status === 'T' ? 'E' : status;
        return CUT;
      }
      if (done !== undefined && done.kind !== 'synthetic') {
        if (done.clearsFailed === true) this.failedTx = false;
        done.completion.status = status;
        done.onDone?.(done.completion);
      }
      if (status === 'I') this.failedTx = false;
      if (this.failedTx && status === 'T') {
        buf[f.start + 5] = 0x45; // 'E'
        status = 'E';
      }
      this.status = status;
      return true;
    }
    if (head === undefined || head.kind === 'synthetic') return false;
    // Notifications are the session's, whatever statement they arrive during.
    if (head.internal === true) return type === NOTIFICATION ? false : CUT;
    if (type === Backend.errorResponse) {
      const fields = decodeErrorFields(buf.subarray(f.start + 5, f.end));
      head.completion.sqlstate = fields.get('C');
      head.completion.error = fields.get('M');
      if (head.kind !== 'extended') return false;
      // Extended protocol: PostgreSQL discards messages until the next Sync *it reads*.
      // When that Sync was already forwarded (an entry waits for its ReadyForQuery), what
      // the client sends from now on is executed again: it must be checked, not relayed.
      this.upstreamSkipping = !this.entries.some((e) => e.kind === 'sync');
      const replacement = head.replaceError;
      while (
        this.entries[0] !== undefined &&
        this.entries[0].kind !== 'sync' &&
        this.entries[0].kind !== 'simple'
      ) {
        const e = this.entries.shift();
        if (e !== undefined && e.kind === 'extended') e.onDone?.(head.completion);
      }
      return replacement ?? true;
    }
    if (type === Backend.commandComplete)
      head.completion.tags.push(decodeCommandTag(buf.subarray(f.start + 5, f.end)));
    if (head.kind === 'extended' && head.terminals.includes(type)) {
      this.entries.shift();
      head.onDone?.(head.completion);
      return true;
    }
    return false;
  }

  private drainSynthetic(): Buffer {
    const parts: Buffer[] = [];
    while (this.entries[0]?.kind === 'synthetic') {
      const e = this.entries.shift() as SyntheticEntry;
      const r = e.render(this.failedTx && this.status === 'T' ? 'E' : this.status);
      if (r.failsTransaction && this.status === 'T') this.failedTx = true;
      parts.push(r.bytes);
    }
    if (this.entries.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of w) resolve();
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}
