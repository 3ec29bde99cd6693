/**
 * What anonymous or hostile peers may cost the AWS front: connections per source
 * address and in all (refused at accept, before a byte is parsed), and a global budget
 * of request bytes buffered at once (a request that would exceed it is refused from its
 * Content-Length before its body is read). Memory therefore stays bounded by the
 * budget, whatever the peers send.
 */
import type { Server, Socket } from 'node:net';

export class ConnectionLimits {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerAddress: number,
    private readonly maxTotal: number,
  ) {}

  /** Counts each connection; one over a limit is destroyed before any request is read. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      const addr = socket.remoteAddress ?? '';
      const n = this.perAddress.get(addr) ?? 0;
      if (n >= this.maxPerAddress || this.total >= this.maxTotal) {
        socket.destroy();
        return;
      }
      this.perAddress.set(addr, n + 1);
      this.total++;
      socket.once('close', () => {
        this.total--;
        const left = (this.perAddress.get(addr) ?? 1) - 1;
        if (left === 0) this.perAddress.delete(addr);
        else this.perAddress.set(addr, left);
      });
    });
  }

  get open(): number {
    return this.total;
  }
}

export class BodyBudget {
  private used = 0;

  constructor(private readonly max: number) {}

  /** Reserves `bytes`; false (nothing reserved) when the budget cannot hold them. */
  reserve(bytes: number): boolean {
    if (bytes <= 0) return true;
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    if (bytes > 0) this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}

/** Requests in progress per agent: one agent cannot take every slot of the gateway. */
export class AgentSlots {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly max: number) {}

  take(agent: string): boolean {
    const n = this.inUse.get(agent) ?? 0;
    if (n >= this.max) return false;
    this.inUse.set(agent, n + 1);
    return true;
  }

  release(agent: string): void {
    const n = (this.inUse.get(agent) ?? 1) - 1;
    if (n <= 0) this.inUse.delete(agent);
    else this.inUse.set(agent, n);
  }
}
