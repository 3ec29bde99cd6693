/**
 * Console sessions. A session is a random id in an HttpOnly, SameSite=Strict cookie
 * (Secure when the console is served over TLS); only its SHA-256 is kept, in the store,
 * so sign-out really ends the session, on every process sharing the store.
 *
 * CSRF: every cookie-authenticated API call must carry the session's own token in
 * `x-airlock-csrf` (the synchronizer-token pattern, OWASP CSRF cheat sheet). The
 * token is handed out by GET /v1/session, which another origin cannot read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Coordination } from '../ledger/coordination.js';

export const SESSION_COOKIE = 'airlock_session';
export const CSRF_HEADER = 'x-airlock-csrf';

export interface Session {
  readonly approver: string;
  readonly csrf: string;
  readonly via: 'password' | 'oidc';
  /**
   * Password sessions: a digest of the password hash they signed in with. A new password
   * (`airlock approvers set-password`, possibly from another process) ends every older session.
   */
  readonly credential?: string | undefined;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Console sessions in the store (ledger/coordination.ts), keyed by the SHA-256 of the
 * cookie value: every process sharing the store (workers, replicas) honours a session made
 * on any of them, and sign-out or revocation on one ends it on all. A store that cannot be
 * read rejects, and the caller answers 503: no session is assumed.
 */
export class Sessions {
  constructor(
    private readonly records: Coordination,
    private readonly ttlSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Returns the cookie value (shown to the browser once) and the session. */
  async create(
    approver: string,
    via: Session['via'],
    passwordHash?: string,
  ): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = {
      approver,
      csrf: randomBytes(24).toString('base64url'),
      via,
      credential: passwordHash === undefined ? undefined : sha(passwordHash),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.ttlSeconds * 1000),
    };
    await this.records.putSession(sha(id), session);
    return { id, session };
  }

  get(id: string): Promise<Session | undefined> {
    return this.records.getSession(sha(id), this.now());
  }

  end(id: string): Promise<void> {
    return this.records.endSession(sha(id));
  }

  /** Ends every session of an approver (e.g. after a password change). */
  endAllOf(approver: string): Promise<void> {
    return this.records.endSessionsOf(approver);
  }

  get ttl(): number {
    return this.ttlSeconds;
  }
}

/** Whether a session still speaks for the approver as stored now (not revoked, same password). */
export function sessionCurrent(
  session: Session,
  approver: { readonly revokedAt?: Date | undefined; readonly passwordHash?: string | undefined },
): boolean {
  if (approver.revokedAt !== undefined) return false;
  if (session.via !== 'password') return true;
  return approver.passwordHash !== undefined && session.credential === sha(approver.passwordHash);
}

/** A cookie of the request (Node's header shape; api/approver-auth.ts headersOf for hono). */
export function cookieOf(
  req: { readonly headers: { readonly cookie?: string | undefined } },
  name: string,
): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(name: string, secure: boolean, sameSite: 'Strict' | 'Lax' = 'Strict'): string {
  return `${name}=; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function csrfMatches(session: Session, sent: string | string[] | undefined): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** TLS directly, or behind a proxy that says so; decides the cookie's Secure flag. */
export function isTls(req: Pick<IncomingMessage, 'socket'> | undefined, publicHttps: boolean): boolean {
  return publicHttps || (req?.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
}
