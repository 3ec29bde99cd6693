/**
 * Live console feed (Server-Sent Events, WHATWG HTML §9.2). One shared poll of the store
 * every `intervalMs` while anyone listens, pushing two events:
 *
 *   queue    the pending approvals, whenever that set changed;
 *   records  which records changed since the last poll: the approval ids, grant ids and
 *            agents named by new ledger entries (an action under a grant, its outcome, a
 *            decision, a revocation), or `all` when more arrived than one poll reads.
 *
 * Polling the store, rather than hooking the gate, also picks up what another process on
 * the same store did (the CLI, another worker or replica). The record page refetches its
 * record when it is named (console/records.js); the ledger stays the only source of it.
 * Each stream is a web ReadableStream (the body of the hono response): it ends when its
 * caller may no longer read the feed, when the server closes, or when the client goes
 * (@hono/node-server cancels the stream when the socket closes).
 */
import type { GuardConfig } from '../approvals/guards.js';
import type { Store } from '../ledger/store.js';
import { queueItem } from './approval-detail.js';

const HEARTBEAT_MS = 15_000;
const encoder = new TextEncoder();
type Listener = ReadableStreamDefaultController<Uint8Array>;
/** Ledger entries read per poll; past that the event says `all` instead of listing them. */
const MAX_ENTRIES_PER_TICK = 200;

/** The `records` event's data. */
export interface RecordsChanged {
  readonly approvals: readonly string[];
  readonly grants: readonly string[];
  readonly agents: readonly string[];
  /** More changed than one poll reads: every open record may have changed. */
  readonly all: boolean;
}

export class ApprovalFeed {
  /** Each open stream, with the check that its caller may still read the queue. */
  private readonly listeners = new Map<Listener, () => Promise<boolean>>();
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private ticks = 0;
  /** The ledger seq already announced; undefined while no one listens. */
  private cursor: number | undefined;

  constructor(
    private readonly store: Store,
    private readonly guards: GuardConfig | undefined,
    private readonly intervalMs = 500,
  ) {}

  /** The response to GET /v1/events: the pending queue at once, then every change. */
  async subscribe(allowed: () => Promise<boolean> = async () => true): Promise<Response> {
    // Read before answering, so a store that cannot be read answers with an error, not a stream.
    const first = `retry: 2000\n\n${this.event('queue', await this.snapshot())}`;
    // What the listener reads next (its record page, the queue) is at least this new.
    if (this.cursor === undefined) this.cursor = (await this.store.head()).seq;
    let self: Listener | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        controller.enqueue(encoder.encode(first));
        this.listeners.set(controller, allowed);
        if (this.timer === undefined) {
          this.timer = setInterval(() => {
            this.tick().catch(() => undefined);
          }, this.intervalMs);
          this.timer.unref();
        }
      },
      cancel: () => {
        if (self !== undefined) this.listeners.delete(self);
        if (this.listeners.size === 0) this.stop();
      },
    });
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      },
    });
  }

  close(): void {
    this.stop();
    for (const controller of this.listeners.keys()) end(controller);
    this.listeners.clear();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.last = '';
    this.cursor = undefined;
  }

  private async tick(): Promise<void> {
    for (const [controller, allowed] of this.listeners) {
      if (!(await allowed().catch(() => false))) {
        this.listeners.delete(controller);
        end(controller);
      }
    }
    if (this.listeners.size === 0) return this.stop();
    const data = await this.snapshot();
    const changed = await this.changes();
    this.ticks++;
    let wrote = false;
    if (data !== this.last) {
      this.last = data;
      this.broadcast(this.event('queue', data));
      wrote = true;
    }
    if (changed !== undefined) {
      this.broadcast(this.event('records', JSON.stringify(changed)));
      wrote = true;
    }
    if (!wrote && (this.ticks * this.intervalMs) % HEARTBEAT_MS < this.intervalMs) {
      this.broadcast(': keep-alive\n\n');
    }
  }

  private broadcast(text: string): void {
    const chunk = encoder.encode(text);
    for (const controller of this.listeners.keys()) {
      // A stream the client already cancelled throws: it is gone either way.
      try {
        controller.enqueue(chunk);
      } catch {}
    }
  }

  /** What the ledger entries since the cursor name; undefined when there are none. */
  private async changes(): Promise<RecordsChanged | undefined> {
    const head = (await this.store.head()).seq;
    const from = this.cursor ?? head;
    if (head <= from) return undefined;
    this.cursor = head;
    if (head - from > MAX_ENTRIES_PER_TICK) return { approvals: [], grants: [], agents: [], all: true };
    const approvals = new Set<string>();
    const grants = new Set<string>();
    const agents = new Set<string>();
    for (let seq = from + 1; seq <= head; seq++) {
      const e = await this.store.entryAt(seq);
      if (e === undefined) continue;
      if (e.approvalId !== undefined) approvals.add(e.approvalId);
      if (e.grantId !== undefined) grants.add(e.grantId);
      if (e.agent !== undefined) agents.add(e.agent);
    }
    return { approvals: [...approvals], grants: [...grants], agents: [...agents], all: false };
  }

  private async snapshot(): Promise<string> {
    const pending = await this.store.listApprovals({ status: 'pending' });
    return JSON.stringify({ approvals: pending.map((a) => queueItem(a, this.guards)) });
  }

  private event(name: 'queue' | 'records', data: string): string {
    return `event: ${name}\ndata: ${data}\n\n`;
  }
}

function end(controller: Listener): void {
  try {
    controller.close();
  } catch {}
}
