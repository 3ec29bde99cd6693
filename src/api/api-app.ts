/**
 * The approver API and console as one hono app (OpenAPIHono): every route declared once
 * with its schemas (route.ts), the OpenAPI 3.1 document generated from those declarations.
 * server.ts serves it on a socket; tests may call `app.request()` with no socket at all.
 *
 * Order of answers, as clients rely on it: a path starting `//` is no route; the public
 * routes (probes, metrics, Slack, the console's files, the document, sign-in) need no
 * credential; every other route, and any path nobody serves, first needs an approver
 * (approver-auth.ts), and only then answers 404 `no-route` (`not-found` outside /v1).
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Decider } from '../approvals/decide.js';
import type { GuardConfig } from '../approvals/guards.js';
import type { ConsoleConfig } from '../config/config.js';
import type { Store } from '../ledger/store.js';
import type { Observer } from '../ops/observer.js';
import type { PolicyLookup } from './approval-detail.js';
import { ApprovalFeed } from './approval-feed.js';
import { approverAuth, callerOf } from './approver-auth.js';
import { approverRoutes } from './approver-routes.js';
import { consoleRoutes } from './console-routes.js';
import { consoleStatic } from './console-static.js';
import { ApiError, apiErrorOf, jsonResponse } from './http-util.js';
import { OidcLogin } from './oidc.js';
import { oidcRoutes } from './oidc-routes.js';
import { openApiDocument } from './openapi.js';
import { type OpsDeps, opsRoutes } from './ops-routes.js';
import { passwordSignIn } from './password-sign-in.js';
import { type ApiEnv, ResponseSchemaError, routeDeclarer } from './route.js';
import { Sessions } from './sessions.js';
import { StoreSignInThrottle } from './sign-in-throttle.js';

export interface ApiDeps {
  readonly store: Store;
  readonly decider: Decider;
  readonly log: (line: string) => void;
  /** Guard defaults per risk tier (shown with each approval; the Decider enforces them). */
  readonly guards?: GuardConfig | undefined;
  /** Policy source by id, to show the policies behind a hold. */
  readonly policy?: PolicyLookup | undefined;
  /** Console sign-in settings; defaults: local accounts, 8 h sessions, no SSO. */
  readonly console?: ConsoleConfig | undefined;
  /** Serve HTTPS with this certificate (config `listen.api_tls`); absent: plain HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** Approver groups whose members may revoke other approvers (config `admins.groups`). */
  readonly adminGroups?: readonly string[] | undefined;
  /** Log lines and metrics for decisions and grant changes; its registry is served at /metrics. */
  readonly observer?: Observer | undefined;
  /** What /readyz reports besides the store. */
  readonly ready?: OpsDeps['ready'];
  /** Slack interactivity (POST /v1/slack/interactions, channels/slack/); absent: 404. */
  readonly slack?: OpsDeps['slack'];
  /**
   * Check every answer against its declared schema (route.ts). Default: on under the test
   * runner (`node --test` sets NODE_TEST_CONTEXT in each test process and its children) or
   * with AIRLOCK_CHECK_RESPONSES=1; off in service.
   */
  readonly checkResponses?: boolean | undefined;
}

export interface ApiApp {
  readonly app: OpenAPIHono<ApiEnv>;
  /** Ends the open event streams. */
  close(): void;
}

const checkByDefault = () =>
  process.env.NODE_TEST_CONTEXT !== undefined || process.env.AIRLOCK_CHECK_RESPONSES === '1';

export function createApiApp(deps: ApiDeps): ApiApp {
  const { store, log } = deps;
  const consoleConfig = deps.console ?? { sessionTtlSeconds: 8 * 3600, localAccounts: true, oidc: undefined };
  const sessions = new Sessions(store.coordination, consoleConfig.sessionTtlSeconds);
  const feed = new ApprovalFeed(store, deps.guards);
  const oidc =
    consoleConfig.oidc === undefined ? undefined : new OidcLogin(consoleConfig.oidc, store.coordination);
  const publicHttps = consoleConfig.oidc?.redirectUri.startsWith('https:') ?? false;
  const app = new OpenAPIHono<ApiEnv>();

  app.onError((err) => {
    if (err instanceof ResponseSchemaError) {
      log(`api: ${err.message}`);
      return jsonResponse(500, { error: 'response-schema', message: err.message });
    }
    const e = apiErrorOf(err);
    if (e === undefined) log(`api: unexpected error: ${(err as Error).stack ?? String(err)}`);
    return jsonResponse(e?.status ?? 500, {
      error: e?.code ?? 'internal',
      message: e?.message ?? 'internal error',
    });
  });
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('//')) throw new ApiError(404, 'no-route', 'no route');
    await next();
  });

  const route = routeDeclarer({
    app,
    check: deps.checkResponses ?? checkByDefault(),
    auth: {
      approver: approverAuth(store, sessions, 'required'),
      'session-read': approverAuth(store, sessions, 'not-required'),
    },
  });
  opsRoutes(route, { store, metrics: deps.observer?.metrics, ready: deps.ready, slack: deps.slack });
  consoleStatic(route);
  let doc: Record<string, unknown> | undefined;
  route(
    {
      method: 'get',
      path: '/v1/openapi.json',
      summary: 'This document',
      auth: 'none',
      responses: {
        200: { description: 'OpenAPI 3.1', json: z.looseObject({ openapi: z.literal('3.1.0') }) },
      },
    },
    ({ json }) => {
      doc ??= openApiDocument(app);
      return json(200, doc);
    },
  );
  consoleRoutes(route, { store, sessions, feed, oidc, config: consoleConfig, publicHttps });
  passwordSignIn(route, {
    store,
    sessions,
    throttle: new StoreSignInThrottle(store.coordination),
    config: consoleConfig,
    publicHttps,
  });
  oidcRoutes(route, { store, sessions, oidc, publicHttps, log });
  approverRoutes(route, {
    store,
    decider: deps.decider,
    sessions,
    log,
    guards: deps.guards,
    policy: deps.policy,
    adminGroups: deps.adminGroups,
    observer: deps.observer,
  });

  // Any other method and path: an approver first (an unauthenticated caller learns nothing
  // about which paths exist), then no route.
  app.all('*', async (c) => {
    await callerOf(c, store, sessions, 'required');
    const path = c.req.path;
    const v1 = path === '/v1' || path.startsWith('/v1/');
    throw new ApiError(404, v1 ? 'no-route' : 'not-found', `no route ${c.req.method} ${path}`);
  });

  return { app, close: () => feed.close() };
}
