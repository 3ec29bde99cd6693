/**
 * Console sessions. A session is a random id in an HttpOnly, SameSite=Strict cookie
 * (Secure when the console is served over TLS); only its SHA-256 is kept, in memory,
 * so a restart signs everyone out and sign-out really ends the session.
 *
 * CSRF: every cookie-authenticated API call must carry the session's own token in
 * `x-airlock-csrf` (the synchronizer-token pattern, OWASP CSRF cheat sheet). The
 * token is handed out by GET /v1/session, which another origin cannot read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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

export class Sessions {
  private readonly byHash = new Map<string, Session>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Returns the cookie value (shown to the browser once) and the session. */
  create(approver: string, via: Session['via'], passwordHash?: string): { id: string; session: Session } {
    this.sweep();
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
    this.byHash.set(sha(id), session);
    return { id, session };
  }

  get(id: string): Session | undefined {
    const key = sha(id);
    const s = this.byHash.get(key);
    if (s === undefined) return undefined;
    if (s.expiresAt <= this.now()) {
      this.byHash.delete(key);
      return undefined;
    }
    return s;
  }

  end(id: string): void {
    this.byHash.delete(sha(id));
  }

  /** Ends every session of an approver (e.g. after a password change). */
  endAllOf(approver: string): void {
    for (const [k, s] of this.byHash) if (s.approver === approver) this.byHash.delete(k);
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, s] of this.byHash) if (s.expiresAt <= now) this.byHash.delete(k);
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

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
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
export function isTls(req: IncomingMessage, publicHttps: boolean): boolean {
  return publicHttps || (req.socket as { encrypted?: boolean }).encrypted === true;
}
