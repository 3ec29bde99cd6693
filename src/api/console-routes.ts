/**
 * Routes behind the console: its static files (src/console/), sign-in and
 * sign-out (local password or OIDC), the live queue (SSE), record search and
 * the OpenAPI document. Every console action is one of these documented API calls.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleConfig } from '../config/config.js';
import type { Approver } from '../core/types.js';
import { type Store, StoreConflict } from '../ledger/store.js';
import type { ApprovalFeed } from './approval-feed.js';
import { ApiError, json, readJson } from './http-util.js';
import { OIDC_STATE_COOKIE, OidcError, type OidcLogin } from './oidc.js';
import { OPENAPI } from './openapi.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import { fullRecord, type RecordQuery, searchRecords } from './records.js';
import {
  clearedCookie,
  cookieOf,
  isTls,
  SESSION_COOKIE,
  type Session,
  type Sessions,
  sessionCookie,
  sessionCurrent,
} from './sessions.js';
import type { SignInThrottle } from './sign-in-throttle.js';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'console');
const STATIC: Readonly<Record<string, string>> = {
  '/console/': 'index.html',
  '/console/style.css': 'style.css',
  '/console/app.js': 'app.js',
  '/console/lib.js': 'lib.js',
  '/console/login.js': 'login.js',
  '/console/queue.js': 'queue.js',
  '/console/detail.js': 'detail.js',
  '/console/records.js': 'records.js',
};
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
/** No inline script or style, nothing from another origin, never framed (CSP Level 3). */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
/** Agent access key ids (ALAK…, or AWS-style AKIA/ASIA) are never approver names. */
const ACCESS_KEY_RE = /^(ALAK|AKIA|ASIA)[A-Z0-9]{12,}$/i;
/** Failed sign-ins per name before a pause, and the pause. */
export interface ConsoleRouteDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  /** Failed password sign-ins per name, shared through the store (sign-in-throttle.ts). */
  readonly throttle: SignInThrottle;
  readonly feed: ApprovalFeed;
  readonly oidc: OidcLogin | undefined;
  readonly config: ConsoleConfig;
  readonly publicHttps: boolean;
  readonly log: (line: string) => void;
}

export class ConsoleRoutes {
  private readonly files = new Map<string, Buffer>();

  constructor(private readonly deps: ConsoleRouteDeps) {}

  /** Routes that need no signed-in approver. Returns false when the request is not one of them. */
  async public(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && (path === '/' || path === '/console')) {
      res.writeHead(302, { location: '/console/' }).end();
      return true;
    }
    if (method === 'GET' && STATIC[path] !== undefined) {
      this.serveStatic(res, STATIC[path]);
      return true;
    }
    if (method === 'GET' && path === '/v1/openapi.json') {
      json(res, 200, OPENAPI);
      return true;
    }
    if (method === 'GET' && path === '/v1/auth/methods') {
      json(res, 200, { password: this.deps.config.localAccounts, oidc: this.deps.oidc !== undefined });
      return true;
    }
    if (method === 'POST' && path === '/v1/session') {
      await this.signIn(req, res);
      return true;
    }
    if (method === 'GET' && path === '/v1/auth/oidc/login') {
      await this.oidcStart(req, res);
      return true;
    }
    if (method === 'GET' && path === '/v1/auth/oidc/callback') {
      await this.oidcCallback(req, res, url);
      return true;
    }
    return false;
  }

  /** Routes for a signed-in approver (cookie or bearer). */
  async authed(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    approver: Approver,
    session: Session | undefined,
  ): Promise<boolean> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (url.pathname === '/v1/session' && method === 'GET') {
      if (session === undefined)
        throw new ApiError(400, 'no-session', 'bearer tokens have no console session');
      json(res, 200, {
        approver: approver.name,
        groups: approver.groups,
        via: session.via,
        csrfToken: session.csrf,
        expiresAt: session.expiresAt,
      });
      return true;
    }
    if (url.pathname === '/v1/session' && method === 'DELETE') {
      const id = cookieOf(req, SESSION_COOKIE);
      if (id !== undefined) await this.deps.sessions.end(id);
      json(
        res,
        200,
        { signedOut: approver.name },
        { 'set-cookie': clearedCookie(SESSION_COOKIE, this.secure(req)) },
      );
      return true;
    }
    if (url.pathname === '/v1/events' && method === 'GET') {
      // The stream outlives the request that opened it: it ends as soon as its caller could no
      // longer open it (signed out, session expired, approver revoked, password changed).
      const sid = session === undefined ? undefined : cookieOf(req, SESSION_COOKIE);
      await this.deps.feed.subscribe(res, async () => {
        const now = await this.deps.store.approverByName(approver.name);
        if (now === undefined || now.revokedAt !== undefined) return false;
        if (sid === undefined) return true;
        const s = await this.deps.sessions.get(sid);
        return s !== undefined && sessionCurrent(s, now);
      });
      return true;
    }
    if (parts[0] === 'v1' && parts[1] === 'records' && method === 'GET') {
      if (parts.length === 2) {
        json(res, 200, { records: await searchRecords(this.deps.store, recordQuery(url)) });
        return true;
      }
      if (parts.length === 3 && parts[2] !== undefined) {
        const rec = await fullRecord(this.deps.store, parts[2]);
        if (rec === undefined) throw new ApiError(404, 'not-found', `no approval ${parts[2]} in the ledger`);
        json(res, 200, rec);
        return true;
      }
    }
    return false;
  }

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    refuseAgentCredential(req);
    if (!this.deps.config.localAccounts) {
      throw new ApiError(403, 'password-disabled', 'local accounts are off; sign in with SSO');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      // A cross-site form cannot send JSON without a CORS preflight we never answer.
      throw new ApiError(415, 'json-required', 'send the credentials as application/json');
    }
    const body = await readJson(req);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (ACCESS_KEY_RE.test(name) || (await this.deps.store.agentByName(name)) !== undefined) {
      throw new ApiError(403, 'agent-credential', 'agent credentials cannot sign in to the console');
    }
    if (await this.deps.throttle.blocked(name)) {
      throw new ApiError(429, 'too-many-attempts', 'too many failed sign-ins for this name; wait 5 minutes');
    }
    const approver = name === '' ? undefined : await this.deps.store.approverByName(name);
    const ok = await verifyPassword(password, approver?.passwordHash ?? DUMMY_HASH);
    if (
      !ok ||
      approver === undefined ||
      approver.passwordHash === undefined ||
      approver.revokedAt !== undefined
    ) {
      await this.deps.throttle.failed(name);
      throw new ApiError(401, 'bad-credentials', 'unknown approver or wrong password');
    }
    await this.deps.throttle.succeeded(name);
    await this.startSession(req, res, approver.name, 'password', approver.passwordHash, (cookie, session) =>
      json(
        res,
        200,
        {
          approver: approver.name,
          groups: approver.groups,
          csrfToken: session.csrf,
          expiresAt: session.expiresAt,
        },
        { 'set-cookie': cookie },
      ),
    );
  }

  private async oidcStart(req: IncomingMessage, res: ServerResponse): Promise<void> {
    refuseAgentCredential(req);
    if (this.deps.oidc === undefined)
      throw new ApiError(404, 'oidc-disabled', 'SSO is not configured (oidc: in airlock.yaml)');
    let started: { url: string; state: string };
    try {
      started = await this.deps.oidc.start(originOf(req, this.secure(req)));
    } catch (err) {
      if (err instanceof OidcError) throw new ApiError(503, 'oidc-unavailable', err.message);
      throw err;
    }
    const { url, state } = started;
    res.writeHead(302, {
      location: url,
      'cache-control': 'no-store',
      // Lax, not Strict: it must come back on the IdP's cross-site redirect to the callback.
      'set-cookie': `${OIDC_STATE_COOKIE}=${state}; Path=/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600${this.secure(req) ? '; Secure' : ''}`,
    });
    res.end();
  }

  private async oidcCallback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (this.deps.oidc === undefined) throw new ApiError(404, 'oidc-disabled', 'SSO is not configured');
    const clearState = `${OIDC_STATE_COOKIE}=; Path=/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0`;
    try {
      const who = await this.deps.oidc.finish(
        url,
        cookieOf(req, OIDC_STATE_COOKIE),
        originOf(req, this.secure(req)),
      );
      if ((await this.deps.store.agentByName(who.name)) !== undefined) {
        throw new OidcError(`${who.name} is an agent identity; agents cannot sign in to the console`);
      }
      if (who.groups.length === 0) {
        throw new OidcError(
          `${who.name} is in no approver group (check the groups claim and oidc.group_map)`,
        );
      }
      let approver: Approver;
      try {
        approver = await this.deps.store.upsertSsoApprover(who.name, who.groups, new Date(), who.subject);
      } catch (err) {
        if (err instanceof StoreConflict)
          throw new OidcError(
            /local approver/.test(err.message)
              ? `${who.name} is a local approver; sign in with the password`
              : `${err.message}; ask an admin to map this identity to its own name`,
          );
        throw err;
      }
      if (approver.revokedAt !== undefined) throw new OidcError(`approver ${who.name} is revoked`);
      this.deps.log(`console: ${who.name} signed in via SSO (groups ${who.groups.join(',')})`);
      await this.startSession(req, res, approver.name, 'oidc', undefined, (cookie) =>
        page(
          res,
          200,
          'Signed in',
          `<p>Signed in as ${esc(approver.name)}. <a href="/console/">Continue to the console</a></p>`,
          [cookie, clearState],
          '/console/',
        ),
      );
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      page(res, 403, 'Sign-in refused', `<p>${esc(err.message)}</p><p><a href="/console/">Back</a></p>`, [
        clearState,
      ]);
    }
  }

  private async startSession(
    req: IncomingMessage,
    _res: ServerResponse,
    name: string,
    via: Session['via'],
    passwordHash: string | undefined,
    send: (cookie: string, session: Session) => void,
  ): Promise<void> {
    const { id, session } = await this.deps.sessions.create(name, via, passwordHash);
    send(sessionCookie(id, this.deps.sessions.ttl, this.secure(req)), session);
  }

  private secure(req: IncomingMessage): boolean {
    return isTls(req, this.deps.publicHttps);
  }

  private serveStatic(res: ServerResponse, file: string): void {
    let body = this.files.get(file);
    if (body === undefined) {
      body = readFileSync(join(STATIC_DIR, file));
      this.files.set(file, body);
    }
    const ext = file.split('.').at(-1) ?? '';
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
      ...PAGE_HEADERS,
    });
    res.end(body);
  }
}

export function refuseAgentCredential(req: IncomingMessage): void {
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('AWS4-HMAC-SHA256') || req.headers['x-amz-date'] !== undefined) {
    throw new ApiError(403, 'agent-credential', 'agent credentials cannot sign in or decide');
  }
}

/** The origin the browser used; a malformed Host never becomes part of a redirect. */
function originOf(req: IncomingMessage, tls: boolean): string {
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new ApiError(400, 'bad-host', 'bad Host header');
  }
  return `${tls ? 'https' : 'http'}://${host}`;
}

function recordQuery(url: URL): RecordQuery {
  const p = url.searchParams;
  const date = (k: string): Date | undefined => {
    const v = p.get(k);
    if (v === null || v === '') return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad-date', `${k} must be an ISO 8601 time`);
    return d;
  };
  const str = (k: string) => {
    const v = p.get(k)?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    agent: str('agent'),
    resource: str('resource'),
    approvalId: str('approval'),
    grantId: str('grant'),
    from: date('from'),
    to: date('to'),
  };
}

function page(
  res: ServerResponse,
  status: number,
  title: string,
  body: string,
  cookies: string[],
  refresh?: string,
): void {
  // A same-site navigation (meta refresh) after the IdP's cross-site redirect, so the
  // SameSite=Strict session cookie is sent with the first console request.
  const meta = refresh === undefined ? '' : `<meta http-equiv="refresh" content="0;url=${refresh}">`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">${meta}<title>${esc(title)} · Airlock</title><link rel="stylesheet" href="/console/style.css"></head><body><main class="narrow"><h1>${esc(title)}</h1>${body}</main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'set-cookie': cookies,
    ...PAGE_HEADERS,
  });
  res.end(html);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
