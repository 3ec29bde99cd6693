/**
 * SSO sign-in routes: GET /v1/auth/oidc/login sends the browser to the identity provider
 * with a state cookie bound to it, GET /v1/auth/oidc/callback finishes the flow
 * (oidc.ts: openid-client, PKCE) and starts a console session. Refusals are a page, not
 * JSON: the browser arrives here by navigation.
 */
import type { Approver } from '../core/types.js';
import { type Store, StoreConflict } from '../ledger/store.js';
import { headersOf, refuseAgentCredential } from './approver-auth.js';
import { PAGE_HEADERS } from './console-static.js';
import { ApiError, inMemory } from './http-util.js';
import { OIDC_STATE_COOKIE, OidcError, type OidcLogin } from './oidc.js';
import { secure } from './password-sign-in.js';
import type { ApiContext, Declare } from './route.js';
import { ErrorBody } from './schemas.js';
import { cookieOf, type Sessions, sessionCookie } from './sessions.js';

export interface OidcRouteDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  readonly oidc: OidcLogin | undefined;
  readonly publicHttps: boolean;
  readonly log: (line: string) => void;
}

const STATE_PATH = '/v1/auth/oidc';

export function oidcRoutes(route: Declare, deps: OidcRouteDeps): void {
  const tls = (c: ApiContext) => secure(c, deps.publicHttps);

  route(
    {
      method: 'get',
      path: '/v1/auth/oidc/login',
      summary: 'Start SSO sign-in (redirects to the identity provider)',
      auth: 'none',
      responses: {
        302: { description: 'to the IdP, with the state cookie' },
        400: { description: 'bad Host header', json: ErrorBody },
        403: { description: 'agent credentials', json: ErrorBody },
        404: { description: 'SSO is not configured', json: ErrorBody },
        503: { description: 'the identity provider cannot be reached', json: ErrorBody },
      },
    },
    async ({ c }) => {
      refuseAgentCredential(c);
      if (deps.oidc === undefined)
        throw new ApiError(404, 'oidc-disabled', 'SSO is not configured (oidc: in airlock.yaml)');
      let started: { url: string; state: string };
      try {
        started = await deps.oidc.start(originOf(c, tls(c)));
      } catch (err) {
        if (err instanceof OidcError) throw new ApiError(503, 'oidc-unavailable', err.message);
        throw err;
      }
      const { url, state } = started;
      return new Response(null, {
        status: 302,
        headers: {
          location: url,
          'cache-control': 'no-store',
          // Lax, not Strict: it must come back on the IdP's cross-site redirect to the callback.
          'set-cookie': `${OIDC_STATE_COOKIE}=${state}; Path=${STATE_PATH}; HttpOnly; SameSite=Lax; Max-Age=600${tls(c) ? '; Secure' : ''}`,
        },
      });
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/auth/oidc/callback',
      summary: 'SSO redirect target; creates a console session',
      auth: 'none',
      responses: {
        200: { description: 'signed in (a page that continues to the console)', media: 'text/html' },
        400: { description: 'bad Host header', json: ErrorBody },
        403: { description: 'refused (a page saying why)', media: 'text/html' },
        404: { description: 'SSO is not configured', json: ErrorBody },
      },
    },
    async ({ c }) => {
      const oidc = deps.oidc;
      if (oidc === undefined) throw new ApiError(404, 'oidc-disabled', 'SSO is not configured');
      const clearState = `${OIDC_STATE_COOKIE}=; Path=${STATE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0`;
      try {
        const who = await oidc.finish(
          new URL(c.req.url),
          cookieOf(headersOf(c), OIDC_STATE_COOKIE),
          originOf(c, tls(c)),
        );
        if ((await deps.store.agentByName(who.name)) !== undefined) {
          throw new OidcError(`${who.name} is an agent identity; agents cannot sign in to the console`);
        }
        if (who.groups.length === 0) {
          throw new OidcError(
            `${who.name} is in no approver group (check the groups claim and oidc.group_map)`,
          );
        }
        let approver: Approver;
        try {
          approver = await deps.store.upsertSsoApprover(who.name, who.groups, new Date(), who.subject);
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
        deps.log(`console: ${who.name} signed in via SSO (groups ${who.groups.join(',')})`);
        const { id } = await deps.sessions.create(approver.name, 'oidc', undefined);
        return page(
          200,
          'Signed in',
          `<p>Signed in as ${esc(approver.name)}. <a href="/console/">Continue to the console</a></p>`,
          [sessionCookie(id, deps.sessions.ttl, tls(c)), clearState],
          '/console/',
        );
      } catch (err) {
        if (!(err instanceof OidcError)) throw err;
        return page(403, 'Sign-in refused', `<p>${esc(err.message)}</p><p><a href="/console/">Back</a></p>`, [
          clearState,
        ]);
      }
    },
  );
}

/** The origin the browser used; a malformed Host never becomes part of a redirect. */
function originOf(c: ApiContext, tls: boolean): string {
  const host = c.req.header('host') ?? '';
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new ApiError(400, 'bad-host', 'bad Host header');
  }
  return `${tls ? 'https' : 'http'}://${host}`;
}

function page(status: number, title: string, body: string, cookies: string[], refresh?: string): Response {
  // A same-site navigation (meta refresh) after the IdP's cross-site redirect, so the
  // SameSite=Strict session cookie is sent with the first console request.
  const meta = refresh === undefined ? '' : `<meta http-equiv="refresh" content="0;url=${refresh}">`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">${meta}<title>${esc(title)} · Airlock</title><link rel="stylesheet" href="/console/style.css"></head><body><main class="narrow"><h1>${esc(title)}</h1>${body}</main></body></html>`;
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    ...PAGE_HEADERS,
  });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return inMemory(html, { status, headers });
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
