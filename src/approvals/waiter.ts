/**
 * Where held requests wait. Decisions made in this process wake waiters at once;
 * decisions made by another process sharing the store are picked up by polling, or at
 * once when the store announces them (`recheck`, from Store.watchApprovals).
 */
import type { ApprovalStatus } from '../core/types.js';

export type WaitOutcome = ApprovalStatus | 'lapsed' | 'aborted';

export class Waiter {
  private readonly waiting = new Map<string, Set<(s: ApprovalStatus) => void>>();

  constructor(
    private readonly poll: (approvalId: string) => Promise<ApprovalStatus | undefined>,
    private readonly pollMs = 500,
  ) {}

  notify(approvalId: string, status: ApprovalStatus): void {
    const set = this.waiting.get(approvalId);
    if (set === undefined) return;
    for (const wake of set) wake(status);
  }

  /** Another process changed this approval: read it now instead of at the next poll. */
  recheck(approvalId: string): void {
    if (!this.waiting.has(approvalId)) return;
    this.poll(approvalId).then(
      (s) => s !== undefined && this.notify(approvalId, s),
      () => undefined,
    );
  }

  wait(approvalId: string, windowMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: WaitOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poller);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiting.get(approvalId);
        set?.delete(wake);
        if (set?.size === 0) this.waiting.delete(approvalId);
        resolve(outcome);
      };
      const wake = (s: ApprovalStatus) => {
        if (s !== 'pending') finish(s);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('lapsed'), windowMs);
      const poller = setInterval(() => {
        this.poll(approvalId).then(
          (s) => s !== undefined && wake(s),
          () => undefined,
        );
      }, this.pollMs);
      let set = this.waiting.get(approvalId);
      if (set === undefined) {
        set = new Set();
        this.waiting.set(approvalId, set);
      }
      set.add(wake);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
