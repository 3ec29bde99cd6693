/**
 * CancelRequest support. Each session gets Airlock's own BackendKeyData (pid, secret);
 * a CancelRequest arrives on a connection of its own and is matched here. The
 * upstream's key is never shown to the agent. One registry serves every Postgres front of
 * a process; with `shared` (access/cancel-keys.ts), keys are also published in the store
 * so a CancelRequest that reaches another process sharing it is routed back here.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { SharedCancelKeys } from '../../access/cancel-keys.js';

export class CancelRegistry {
  private readonly byPid = new Map<number, { secret: Buffer; cancel: () => void }>();

  constructor(
    private readonly shared?: SharedCancelKeys | undefined,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** How many sessions hold keys here (the owner polls for forwarded cancels only then). */
  get size(): number {
    return this.byPid.size;
  }

  async register(cancel: () => void): Promise<{ pid: number; secret: Buffer }> {
    for (;;) {
      let pid = randomInt(1, 2 ** 31 - 1);
      while (this.byPid.has(pid)) pid = randomInt(1, 2 ** 31 - 1);
      const secret = randomBytes(4);
      this.byPid.set(pid, { secret, cancel });
      try {
        if (this.shared === undefined || (await this.shared.publish(pid, secret))) return { pid, secret };
      } catch (err) {
        // The store is failing (the session's statements will be refused with it): the key
        // still works for CancelRequests that reach this process.
        this.log(`postgres: cancel key not shared: ${(err as Error).message}`);
        return { pid, secret };
      }
      this.byPid.delete(pid); // another process holds that pid: draw again
    }
  }

  unregister(pid: number): void {
    if (!this.byPid.delete(pid)) return;
    this.shared?.withdraw(pid).catch((err: unknown) => {
      this.log(`postgres: cancel key not withdrawn (swept later): ${(err as Error).message}`);
    });
  }

  /** A CancelRequest's key: cancels a session of this process, or forwards to its owner. */
  async cancel(pid: number, secret: Buffer): Promise<void> {
    const e = this.byPid.get(pid);
    if (e !== undefined) {
      if (e.secret.length === secret.length && timingSafeEqual(e.secret, secret)) e.cancel();
      return;
    }
    await this.shared?.forward(pid, secret);
  }

  /** Cancels forwarded by another process (the store matched their secrets). */
  cancelForwarded(pids: readonly number[]): void {
    for (const pid of pids) this.byPid.get(pid)?.cancel();
  }
}
