/**
 * Live queue for the console (Server-Sent Events, WHATWG HTML §9.2). One shared
 * poll of the store every `intervalMs` while anyone listens, pushed only when the
 * pending set changed. Polling the store, rather than hooking the gate, also
 * picks up decisions made by another process on the same store (the CLI).
 * Each stream is a web ReadableStream (the body of the hono response): it ends when its
 * caller may no longer read the queue, when the server closes, or when the client goes
 * (@hono/node-server cancels the stream when the socket closes).
 */
import type { GuardConfig } from '../approvals/guards.js';
import type { Store } from '../ledger/store.js';
import { queueItem } from './approval-detail.js';

const HEARTBEAT_MS = 15_000;
const encoder = new TextEncoder();

/** A stream the client already cancelled throws on enqueue/close: it is gone either way. */
function send(controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): void {
  try {
    controller.enqueue(chunk);
  } catch {}
}
function end(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {}
}

export class ApprovalFeed {
  /** Each open stream, with the check that its caller may still read the queue. */
  private readonly listeners = new Map<ReadableStreamDefaultController<Uint8Array>, () => Promise<boolean>>();
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private ticks = 0;

  constructor(
    private readonly store: Store,
    private readonly guards: GuardConfig | undefined,
    private readonly intervalMs = 500,
  ) {}

  /** The response to GET /v1/events: the current queue at once, then every change. */
  async subscribe(allowed: () => Promise<boolean> = async () => true): Promise<Response> {
    // Read before answering, so a store that cannot be read answers with an error, not a stream.
    const first = `retry: 2000\n\n${this.event(await this.snapshot())}`;
    let self: ReadableStreamDefaultController<Uint8Array> | undefined;
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
    this.ticks++;
    if (data !== this.last) {
      this.last = data;
      const e = encoder.encode(this.event(data));
      for (const controller of this.listeners.keys()) send(controller, e);
    } else if ((this.ticks * this.intervalMs) % HEARTBEAT_MS < this.intervalMs) {
      const beat = encoder.encode(': keep-alive\n\n');
      for (const controller of this.listeners.keys()) send(controller, beat);
    }
  }

  private async snapshot(): Promise<string> {
    const pending = await this.store.listApprovals({ status: 'pending' });
    return JSON.stringify({ approvals: pending.map((a) => queueItem(a, this.guards)) });
  }

  private event(data: string): string {
    return `event: queue\ndata: ${data}\n\n`;
  }
}
