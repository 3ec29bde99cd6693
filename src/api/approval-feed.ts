/**
 * Live queue for the console (Server-Sent Events, WHATWG HTML §9.2). One shared
 * poll of the store every `intervalMs` while anyone listens, pushed only when the
 * pending set changed. Polling the store, rather than hooking the gate, also
 * picks up decisions made by another process on the same store (the CLI).
 */
import type { ServerResponse } from 'node:http';
import type { GuardConfig } from '../approvals/guards.js';
import type { Store } from '../ledger/store.js';
import { queueItem } from './approval-detail.js';

const HEARTBEAT_MS = 15_000;

export class ApprovalFeed {
  /** Each open stream, with the check that its caller may still read the queue. */
  private readonly listeners = new Map<ServerResponse, () => Promise<boolean>>();
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private ticks = 0;

  constructor(
    private readonly store: Store,
    private readonly guards: GuardConfig | undefined,
    private readonly intervalMs = 500,
  ) {}

  async subscribe(res: ServerResponse, allowed: () => Promise<boolean> = async () => true): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    res.write(this.event(await this.snapshot()));
    this.listeners.set(res, allowed);
    res.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.tick().catch(() => undefined);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    this.stop();
    for (const res of this.listeners.keys()) res.end();
    this.listeners.clear();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.last = '';
  }

  private async tick(): Promise<void> {
    for (const [res, allowed] of this.listeners) {
      if (!(await allowed().catch(() => false))) {
        this.listeners.delete(res);
        res.end();
      }
    }
    if (this.listeners.size === 0) return this.stop();
    const data = await this.snapshot();
    this.ticks++;
    if (data !== this.last) {
      this.last = data;
      const e = this.event(data);
      for (const res of this.listeners.keys()) res.write(e);
    } else if ((this.ticks * this.intervalMs) % HEARTBEAT_MS < this.intervalMs) {
      for (const res of this.listeners.keys()) res.write(': keep-alive\n\n');
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
