/**
 * Console password sign-in throttle: after MAX_FAILURES failed attempts for one approver
 * name within FAILURE_WINDOW_MS, that name is refused until the window passes. Per
 * process and bounded (at most MAX_TRACKED names; only names that could be approvers are
 * tracked, so junk names cannot evict real ones). Behind an interface so a shared store
 * can back it for several replicas.
 */
export interface SignInThrottle {
  /** True when this name may not try now. */
  blocked(name: string): boolean;
  failed(name: string): void;
  succeeded(name: string): void;
}

const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 5 * 60 * 1000;
const MAX_TRACKED = 10_000;
const APPROVER_NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export class MemorySignInThrottle implements SignInThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  blocked(name: string): boolean {
    const f = this.failures.get(name);
    return f !== undefined && f.count >= MAX_FAILURES && this.now() - f.since < FAILURE_WINDOW_MS;
  }

  failed(name: string): void {
    if (!APPROVER_NAME_RE.test(name)) return;
    const now = this.now();
    if (this.failures.size >= MAX_TRACKED) {
      for (const [k, v] of this.failures) if (now - v.since >= FAILURE_WINDOW_MS) this.failures.delete(k);
      // Still full of live entries: drop the oldest (Map keeps insertion order).
      const oldest = this.failures.keys().next().value;
      if (this.failures.size >= MAX_TRACKED && oldest !== undefined) this.failures.delete(oldest);
    }
    const f = this.failures.get(name);
    const prev = f !== undefined && now - f.since < FAILURE_WINDOW_MS ? f : { count: 0, since: now };
    this.failures.set(name, { count: prev.count + 1, since: prev.since });
  }

  succeeded(name: string): void {
    this.failures.delete(name);
  }
}
