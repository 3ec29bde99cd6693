/**
 * CancelRequest support. Each session gets Airlock's own BackendKeyData (pid, secret);
 * a CancelRequest arrives on a connection of its own and is matched here. The
 * upstream's key is never shown to the agent.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

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
