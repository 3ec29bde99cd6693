/**
 * Where held requests wait. Decisions made in this process wake waiters at once;
 * decisions made by another process sharing the store arrive when the store announces
 * them (Store.watchApprovals: PostgreSQL's NOTIFY names the approval; SQLite says that
 * another connection committed, and every waited approval is read again), and by polling
 * as the fallback. One poll per waited approval per interval, however many requests wait
 * on it: 10,000 held requests on one approval cost one read each 500 ms, not 10,000.
 */
import type { ApprovalStatus } from '../core/types.js';

export type WaitOutcome = ApprovalStatus | 'lapsed' | 'aborted';

export class Waiter {
  private readonly waiting = new Map<string, Set<(s: ApprovalStatus) => void>>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly poll: (approvalId: string) => Promise<ApprovalStatus | undefined>,
    private readonly pollMs = 500,
  ) {}

  notify(approvalId: string, status: ApprovalStatus): void {
    const set = this.waiting.get(approvalId);
    if (set === undefined) return;
    for (const wake of [...set]) wake(status);
  }

  /** Another process changed this approval: read it now instead of at the next poll. */
  recheck(approvalId: string): void {
    if (!this.waiting.has(approvalId)) return;
    this.poll(approvalId).then(
      (s) => s !== undefined && this.notify(approvalId, s),
      () => undefined,
    );
  }

  /** Another process changed the store (which approvals, it cannot say): read every waited one. */
  recheckAll(): void {
    for (const id of this.waiting.keys()) this.recheck(id);
  }

  /** Approvals that requests wait on now. */
  get waited(): number {
    return this.waiting.size;
  }

  wait(approvalId: string, windowMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: WaitOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiting.get(approvalId);
        set?.delete(wake);
        if (set?.size === 0) this.waiting.delete(approvalId);
        if (this.waiting.size === 0) this.stopPolling();
        resolve(outcome);
      };
      const wake = (s: ApprovalStatus) => {
        if (s !== 'pending') finish(s);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('lapsed'), windowMs);
      let set = this.waiting.get(approvalId);
      if (set === undefined) {
        set = new Set();
        this.waiting.set(approvalId, set);
      }
      set.add(wake);
      this.startPolling();
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private startPolling(): void {
    if (this.poller !== undefined) return;
    this.poller = setInterval(() => this.recheckAll(), this.pollMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }
}
