/**
 * Postgres CancelRequest keys across processes. A CancelRequest arrives on a connection of
 * its own, and behind a load balancer, or between `serve --workers`, that connection may
 * reach another process than the session it cancels
 * (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS).
 * Each key is published in the store with its owner; a process that receives a key it does
 * not hold marks it there, and the owner, which polls for marks (access/coordinator.ts),
 * cancels. The secret is stored only as a SHA-256, and never leaves the gateway.
 */
import { createHash } from 'node:crypto';
import type { Coordination } from '../ledger/coordination.js';

/** What the Postgres front's registry needs from the shared directory of keys. */
export interface SharedCancelKeys {
  /** Publishes a key for this process; false when another process holds that pid. */
  publish(pid: number, secret: Buffer): Promise<boolean>;
  withdraw(pid: number): Promise<void>;
  /** A key this process does not hold: mark it for whichever process does. */
  forward(pid: number, secret: Buffer): Promise<void>;
}

const digest = (secret: Buffer) => createHash('sha256').update(secret).digest('hex');

export class StoreCancelKeys implements SharedCancelKeys {
  constructor(
    private readonly coordination: Coordination,
    private readonly owner: string,
  ) {}

  publish(pid: number, secret: Buffer): Promise<boolean> {
    return this.coordination.putCancelKey({ pid, secretHash: digest(secret), owner: this.owner });
  }

  withdraw(pid: number): Promise<void> {
    return this.coordination.dropCancelKey(pid);
  }

  async forward(pid: number, secret: Buffer): Promise<void> {
    await this.coordination.requestCancel(pid, digest(secret));
  }
}
