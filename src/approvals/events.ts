/**
 * What happens to held requests, for listeners outside the request path (the Slack
 * channel posts and updates its messages from these). Listeners are told after the
 * fact and must not throw or block: the store, not a listener, is the record.
 */
import type { Approval } from '../core/types.js';
import type { DecideResult } from './decide.js';

export interface ApprovalEvents {
  /** A new approval was opened (a retry joining a pending one is not new). */
  requested(approval: Approval): void;
  /** A decision was recorded (it may or may not have resolved the approval). */
  decided(result: DecideResult): void;
  /** A held request stopped waiting (hold window over); its approval stays pending. */
  lapsed(approval: Approval): void;
  /** Pending approvals passed their TTL undecided. */
  expired(approvalIds: readonly string[]): void;
}

/** Fans one event out to several listeners; a throwing listener is logged, the rest still run. */
export function fanOut(listeners: readonly ApprovalEvents[], log: (line: string) => void): ApprovalEvents {
  const each = (fn: (l: ApprovalEvents) => void) => {
    for (const l of listeners) {
      try {
        fn(l);
      } catch (err) {
        log(`approval events: listener failed: ${(err as Error).message}`);
      }
    }
  };
  return {
    requested: (a) => each((l) => l.requested(a)),
    decided: (r) => each((l) => l.decided(r)),
    lapsed: (a) => each((l) => l.lapsed(a)),
    expired: (ids) => each((l) => l.expired(ids)),
  };
}
