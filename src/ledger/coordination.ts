/**
 * State that several Airlock processes sharing one store (workers of `serve --workers`, two
 * `serve` on one data_dir, replicas on PostgreSQL) must see alike, and that is not a ledger
 * fact: console sessions, OIDC sign-ins in flight, the sign-in throttle, Postgres
 * CancelRequest keys and leases (which process runs a periodic job). Each backend keeps it in plain tables next to the ledger
 * (sqlite/coordination-tables.ts, postgres/coordination-tables.ts); the store contract suite
 * checks both. Every call may reject with StoreFault: callers fail closed (no session, no
 * sign-in) rather than fall back to per-process memory.
 */

/** A console session as kept in the store: keyed by the SHA-256 of its cookie value, never the value. */
export interface ConsoleSessionRecord {
  readonly approver: string;
  /** The session's synchronizer token (api/sessions.ts): useless without the cookie. */
  readonly csrf: string;
  readonly via: 'password' | 'oidc';
  /** Password sessions: a digest of the password hash they signed in with. */
  readonly credential?: string | undefined;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/**
 * A Postgres front session's CancelRequest key (Airlock's own BackendKeyData). `owner` is
 * the process serving the session: a CancelRequest that arrives at another process is marked
 * here, and the owner, which polls for its marks, cancels. The secret is kept as a SHA-256.
 */
export interface CancelKeyRecord {
  readonly pid: number;
  readonly secretHash: string;
  readonly owner: string;
}

export interface Coordination {
  putSession(idHash: string, session: ConsoleSessionRecord): Promise<void>;
  /** The session, unless it ended or expired by `now`. */
  getSession(idHash: string, now: Date): Promise<ConsoleSessionRecord | undefined>;
  endSession(idHash: string): Promise<void>;
  /** Ends every session of an approver (revoked, or a new password). */
  endSessionsOf(approver: string): Promise<void>;

  /**
   * An OIDC sign-in in flight (api/oidc.ts), keyed by the SHA-256 of its state: the callback
   * may reach another process than the one that sent the browser to the identity provider.
   * False when `max` flows are already in flight (unauthenticated callers start them).
   */
  putOidcFlow(stateHash: string, flow: string, expiresAt: Date, now: Date, max: number): Promise<boolean>;
  /** Takes a flow once: a second take of the same state, or one past expiresAt, finds nothing. */
  takeOidcFlow(stateHash: string, now: Date): Promise<string | undefined>;

  /**
   * Counts a failed sign-in for `name` and returns the failures in the current window (a
   * window starts at the first failure and lasts `windowMs`).
   */
  signInFailed(name: string, now: Date, windowMs: number): Promise<number>;
  /** Failures of `name` in its current window; 0 when none or the window has passed. */
  signInFailures(name: string, now: Date, windowMs: number): Promise<number>;
  signInSucceeded(name: string): Promise<void>;

  /** Registers a key; false when that pid is taken (the caller draws another). */
  putCancelKey(key: CancelKeyRecord): Promise<boolean>;
  dropCancelKey(pid: number): Promise<void>;
  /**
   * Marks a cancel for the session with that key if the secret matches (any process may
   * call it); returns the owner to notify, or undefined when no such key.
   */
  requestCancel(pid: number, secretHash: string): Promise<string | undefined>;
  /** Takes (and clears) the cancels marked for `owner`'s sessions. */
  takeCancels(owner: string): Promise<number[]>;

  /**
   * Holds or renews lease `name` for `holder` until now + ttlMs; false when another holder
   * has it and it has not lapsed. One holder at a time runs the job the lease names.
   */
  tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;

  /** Deletes expired sessions, stale throttle rows and lapsed leases. */
  sweep(now: Date): Promise<void>;
}
