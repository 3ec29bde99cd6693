/**
 * Console password sign-in throttle: after MAX_FAILURES failed attempts for one approver
 * name within FAILURE_WINDOW_MS, that name is refused until the window passes. The counts
 * are in the store (ledger/coordination.ts), so every process sharing it (workers,
 * replicas) counts the same failures: spreading guesses over replicas gains nothing. Only
 * names that could be approvers are counted, and the store sweeps stale rows.
 */
import type { Coordination } from '../ledger/coordination.js';

export interface SignInThrottle {
  /** True when this name may not try now. */
  blocked(name: string): Promise<boolean>;
  failed(name: string): Promise<void>;
  succeeded(name: string): Promise<void>;
}

const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 5 * 60 * 1000;
const APPROVER_NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export class StoreSignInThrottle implements SignInThrottle {
  constructor(
    private readonly records: Coordination,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async blocked(name: string): Promise<boolean> {
    if (!APPROVER_NAME_RE.test(name)) return false;
    return (await this.records.signInFailures(name, this.now(), FAILURE_WINDOW_MS)) >= MAX_FAILURES;
  }

  async failed(name: string): Promise<void> {
    if (!APPROVER_NAME_RE.test(name)) return;
    await this.records.signInFailed(name, this.now(), FAILURE_WINDOW_MS);
  }

  async succeeded(name: string): Promise<void> {
    if (!APPROVER_NAME_RE.test(name)) return;
    await this.records.signInSucceeded(name);
  }
}
