/**
 * Who is calling the approver API, as hono middleware: a bearer token (CLI, tools) or a
 * console session cookie. Agent credentials (SigV4) are refused outright, so an agent can
 * never decide. A cookie-authenticated call must carry the session's CSRF token
 * (sessions.ts), except on `session-read` routes: the read-only event stream (EventSource
 * cannot set headers) and GET /v1/session, which hands the token out to same-origin
 * script only.
 */
import type { MiddlewareHandler } from 'hono';
import { hashToken } from '../core/secrets.js';
import type { Approver } from '../core/types.js';
import type { Store } from '../ledger/store.js';
import { ApiError } from './http-util.js';
import type { ApiContext, ApiEnv } from './route.js';
import {
  CSRF_HEADER,
  cookieOf,
  csrfMatches,
  SESSION_COOKIE,
  type Session,
  type Sessions,
  sessionCurrent,
} from './sessions.js';

export interface Caller {
  readonly approver: Approver;
  /** Where a decision is made from: `cli`, `api` or `console`. */
  readonly channel: string;
  /** The console session, when the call came with its cookie. */
  readonly session: Session | undefined;
  /** The session cookie's value (to end it at sign-out), when there is one. */
  readonly sessionId: string | undefined;
}

/** What a hono request offers to cookieOf (sessions.ts takes Node's header shape). */
export const headersOf = (c: ApiContext) => ({ headers: { cookie: c.req.header('cookie') } });

export function refuseAgentCredential(c: ApiContext): void {
  const auth = c.req.header('authorization') ?? '';
  if (auth.startsWith('AWS4-HMAC-SHA256') || c.req.header('x-amz-date') !== undefined) {
    throw new ApiError(403, 'agent-credential', 'agent credentials cannot sign in or decide');
  }
}

/** The middleware for routes that need an approver: sets `caller`, or throws the refusal. */
export function approverAuth(
  store: Store,
  sessions: Sessions,
  csrf: 'required' | 'not-required',
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    c.set('caller', await callerOf(c, store, sessions, csrf));
    await next();
  };
}

export async function callerOf(
  c: ApiContext,
  store: Store,
  sessions: Sessions,
  csrf: 'required' | 'not-required',
): Promise<Caller> {
  refuseAgentCredential(c);
  const sid = cookieOf(headersOf(c), SESSION_COOKIE);
  const authorization = c.req.header('authorization');
  if (authorization !== undefined || sid === undefined) {
    const approver = await authenticate(store, authorization ?? '');
    return {
      approver,
      channel: c.req.header('x-airlock-channel') === 'cli' ? 'cli' : 'api',
      session: undefined,
      sessionId: undefined,
    };
  }
  const session = await sessions.get(sid);
  if (session === undefined) throw new ApiError(401, 'unauthenticated', 'session expired; sign in again');
  if (csrf === 'required' && !csrfMatches(session, c.req.header(CSRF_HEADER))) {
    throw new ApiError(403, 'csrf', `missing or wrong ${CSRF_HEADER} header for this session`);
  }
  const approver = await store.approverByName(session.approver);
  if (approver === undefined || !sessionCurrent(session, approver)) {
    await sessions.end(sid);
    throw new ApiError(
      401,
      'unauthenticated',
      'approver revoked or password changed; session ended, sign in again',
    );
  }
  return { approver, channel: 'console', session, sessionId: sid };
}

async function authenticate(store: Store, auth: string): Promise<Approver> {
  if (auth.startsWith('AWS4-HMAC-SHA256')) {
    throw new ApiError(403, 'agent-credential', 'agent credentials cannot use the approver API');
  }
  const m = /^Bearer (alt_[A-Za-z0-9_-]{20,64})$/.exec(auth);
  if (!m?.[1]) throw bearerProblem(auth);
  const approver = await store.approverByTokenHash(hashToken(m[1]));
  if (approver === undefined) {
    throw new ApiError(
      401,
      'unknown-token',
      'this approver token is not known here: it was mistyped, rotated (airlock approvers rotate-token), or belongs to another Airlock; check AIRLOCK_TOKEN and AIRLOCK_URL',
    );
  }
  if (approver.revokedAt !== undefined) {
    throw new ApiError(
      401,
      'revoked-approver',
      `approver ${approver.name} was revoked at ${approver.revokedAt.toISOString()}; its token no longer works (an admin can create a new approver)`,
    );
  }
  return approver;
}

/** Why an Authorization header is not an approver token, said so the caller can fix it. */
function bearerProblem(auth: string): ApiError {
  if (auth === '') {
    return new ApiError(
      401,
      'unauthenticated',
      'no Authorization header: send Authorization: Bearer <approver token> (the CLI reads AIRLOCK_TOKEN)',
    );
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (bearer === undefined) {
    return new ApiError(401, 'unauthenticated', 'Authorization must be "Bearer <approver token>"');
  }
  if (/^ALAK[A-Z2-7]{16}$/.test(bearer) || /^[A-Za-z0-9x]{40}$/.test(bearer)) {
    return new ApiError(
      401,
      'agent-key-as-token',
      'that is an agent access key, not an approver token: agents cannot use the approver API; an approver token starts with alt_ (airlock approvers create NAME --groups G)',
    );
  }
  return new ApiError(
    401,
    'malformed-token',
    'that is not an approver token (they start with alt_ and are shown once by airlock approvers create or rotate-token); check AIRLOCK_TOKEN',
  );
}
