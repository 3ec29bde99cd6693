/**
 * The approvers' HTTP API (CLI today, console later). Bearer tokens identify
 * approvers; agent credentials (SigV4) are never accepted here, so an agent cannot decide.
 * Routes:
 *   GET  /v1/approvals?status=pending      list
 *   GET  /v1/approvals/{id}                detail; records when this approver first saw it
 *   POST /v1/approvals/{id}/approve        {comment, breadth?: exact|items|scope, durationSeconds?, maxUses?}
 *   POST /v1/approvals/{id}/deny           {comment}
 *   GET  /v1/grants?agent=NAME             list
 *   POST /v1/grants/{id}/revoke
 *   POST /v1/approvers/{name}/revoke       yourself, or anyone if you are in an `admins.groups` group
 *   GET  /v1/audit/{approvalId}            the linked record
 *   GET  /healthz                           the process answers
 *   GET  /readyz                            the store can write, policies are loaded (503 with the problem when not)
 *   GET  /metrics                           Prometheus text (ops/metrics.ts); unauthenticated like /healthz
 *   POST /v1/slack/interactions             Slack interactivity, signed by Slack (channels/slack/)
 * and the console's routes (console-routes.ts); all of them are in openapi.ts.
 * Console sessions (cookie) are accepted too, with a CSRF token on every call.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Decider, DecisionRefused } from '../approvals/decide.js';
import type { GuardConfig } from '../approvals/guards.js';
import type { ConsoleConfig } from '../config/config.js';
import { hashToken } from '../core/secrets.js';
import { type ApprovalStatus, type Approver, GRANT_BREADTHS, type GrantBreadth } from '../core/types.js';
import { auditRecord } from '../ledger/audit.js';
import type { Store } from '../ledger/store.js';
import type { Observer } from '../ops/observer.js';
import { detailExtras, type PolicyLookup, queueItem } from './approval-detail.js';
import { ApprovalFeed } from './approval-feed.js';
import { ConsoleRoutes, refuseAgentCredential } from './console-routes.js';
import { ApiError, json, readJson, readRaw } from './http-util.js';
import { OidcLogin } from './oidc.js';
import {
  CSRF_HEADER,
  cookieOf,
  csrfMatches,
  SESSION_COOKIE,
  type Session,
  Sessions,
  sessionCurrent,
} from './sessions.js';
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
  readonly ready?: (() => { policies: number; credentials: 'ok' | 'missing' | 'unchecked' }) | undefined;
  /** Slack interactivity (POST /v1/slack/interactions, channels/slack/); absent: 404. */
  readonly slack?:
    | {
        interaction(
          raw: Buffer,
          headers: IncomingMessage['headers'],
        ): Promise<{ status: number; body?: unknown }>;
      }
    | undefined;
}

interface Caller {
  readonly approver: Approver;
  readonly channel: string;
  readonly session: Session | undefined;
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired'];

export class ApiServer {
  private readonly server: http.Server | https.Server;
  private readonly sessions: Sessions;
  private readonly feed: ApprovalFeed;
  private readonly web: ConsoleRoutes;

  constructor(private readonly deps: ApiDeps) {
    const consoleConfig = deps.console ?? {
      sessionTtlSeconds: 8 * 3600,
      localAccounts: true,
      oidc: undefined,
    };
    this.sessions = new Sessions(deps.store.coordination, consoleConfig.sessionTtlSeconds);
    this.feed = new ApprovalFeed(deps.store, deps.guards);
    this.web = new ConsoleRoutes({
      store: deps.store,
      sessions: this.sessions,
      throttle: new StoreSignInThrottle(deps.store.coordination),
      feed: this.feed,
      oidc:
        consoleConfig.oidc === undefined
          ? undefined
          : new OidcLogin(consoleConfig.oidc, deps.store.coordination),
      config: consoleConfig,
      publicHttps: consoleConfig.oidc?.redirectUri.startsWith('https:') ?? false,
      log: deps.log,
    });
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((err: unknown) => {
        const e =
          err instanceof ApiError
            ? err
            : err instanceof DecisionRefused
              ? new ApiError(err.status, err.code, err.message)
              : undefined;
        if (e === undefined) deps.log(`api: unexpected error: ${(err as Error).stack ?? String(err)}`);
        json(res, e?.status ?? 500, {
          error: e?.code ?? 'internal',
          message: e?.message ?? 'internal error',
        });
      });
    };
    this.server =
      deps.tls === undefined
        ? http.createServer(onRequest)
        : https.createServer({ ...deps.tls, minVersion: 'TLSv1.2' }, onRequest);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.feed.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://airlock');
    if (url.pathname.startsWith('//')) throw new ApiError(404, 'no-route', 'no route');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz') return json(res, 200, { ok: true });
    if (method === 'GET' && url.pathname === '/readyz') {
      // Unauthenticated like /healthz (load balancers probe it): it names the fault, no data.
      const h = this.deps.store.health();
      const extra = this.deps.ready?.();
      const policiesMissing = extra !== undefined && extra.policies === 0;
      const detail = extra === undefined ? {} : { policies: extra.policies, credentials: extra.credentials };
      if (!h.ok) {
        return json(res, 503, { ok: false, store: h.problem, since: h.since.toISOString(), ...detail });
      }
      if (policiesMissing) return json(res, 503, { ok: false, ...detail, problem: 'no policies loaded' });
      return json(res, 200, { ok: true, ...detail });
    }
    const metrics = this.deps.observer?.metrics;
    if (method === 'GET' && url.pathname === '/metrics' && metrics !== undefined) {
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    if (method === 'POST' && url.pathname === '/v1/slack/interactions') {
      if (this.deps.slack === undefined)
        throw new ApiError(
          404,
          'slack-not-configured',
          'Slack is not configured (slack: in airlock.yaml, docs/SLACK.md)',
        );
      // Authenticated by Slack's request signature over the raw body, not by an approver token.
      const out = await this.deps.slack.interaction(await readRaw(req), req.headers);
      if (out.body === undefined) {
        res.writeHead(out.status).end();
        return;
      }
      return json(res, out.status, out.body);
    }
    if (await this.web.public(req, res, url)) return;
    const { approver, channel, session } = await this.caller(req, url);
    if (await this.web.authed(req, res, url, approver, session)) return;
    const { store } = this.deps;

    if (parts[0] !== 'v1') throw new ApiError(404, 'not-found', `no route ${method} ${url.pathname}`);
    const [, collection, id, verb] = parts;
    if (collection === 'approvals' && id === undefined && method === 'GET') {
      const status = url.searchParams.get('status') ?? undefined;
      if (status !== undefined && !STATUSES.includes(status as ApprovalStatus)) {
        throw new ApiError(400, 'bad-status', `status must be one of ${STATUSES.join(', ')}`);
      }
      const list = await store.listApprovals(
        status === undefined ? {} : { status: status as ApprovalStatus },
      );
      return json(res, 200, { approvals: list.map((a) => queueItem(a, this.deps.guards)) });
    }
    if (collection === 'approvals' && id !== undefined && verb === undefined && method === 'GET') {
      const approval = await store.getApproval(id);
      if (approval === undefined) throw new ApiError(404, 'not-found', `no approval ${id}`);
      const firstShownAt = await store.markShown(id, approver.name, new Date());
      const decisions = await store.decisions(id);
      const grant = approval.grantId === undefined ? undefined : await store.getGrant(approval.grantId);
      return json(res, 200, {
        approval,
        decisions,
        grant: grant ?? null,
        viewer: { approver: approver.name, firstShownAt },
        ...(await detailExtras(store, approval, firstShownAt, decisions, this.deps.guards, this.deps.policy)),
      });
    }
    if (
      collection === 'approvals' &&
      id !== undefined &&
      (verb === 'approve' || verb === 'deny') &&
      method === 'POST'
    ) {
      const body = await readJson(req);
      const result = await this.deps.decider.decide({
        approvalId: id,
        approver,
        verdict: verb,
        comment: typeof body.comment === 'string' ? body.comment : '',
        channel,
        durationSeconds: optionalInt(body.durationSeconds, 'durationSeconds'),
        maxUses: optionalInt(body.maxUses, 'maxUses'),
        breadth: breadthOf(body.breadth),
        confirm: typeof body.confirm === 'string' ? body.confirm : undefined,
      });
      return json(res, 200, result);
    }
    if (collection === 'grants' && id === undefined && method === 'GET') {
      const agent = url.searchParams.get('agent') ?? undefined;
      const grants = await store.listGrants(agent === undefined ? {} : { agent });
      return json(res, 200, { grants });
    }
    if (collection === 'grants' && id !== undefined && verb === 'revoke' && method === 'POST') {
      const ok = await store.revokeGrant(id, approver.name, new Date());
      if (!ok) throw new ApiError(404, 'not-found', `no active grant ${id}`);
      this.deps.observer?.grantRevoked(id, approver.name);
      return json(res, 200, { revoked: id, by: approver.name });
    }
    if (collection === 'approvers' && id !== undefined && verb === 'revoke' && method === 'POST') {
      // Anyone may revoke themselves (a leaked token, a lost laptop); revoking someone else
      // is for admins. Other lifecycle changes (groups, token rotation) are CLI-only, on the host.
      const admin = approver.groups.some((g) => (this.deps.adminGroups ?? []).includes(g));
      if (id !== approver.name && !admin) {
        throw new ApiError(403, 'not-admin', `only ${id} or a member of admins.groups may revoke ${id}`);
      }
      if (!(await store.revokeApprover(id, new Date()))) {
        throw new ApiError(404, 'not-found', `no active approver ${id}`);
      }
      await this.sessions.endAllOf(id);
      this.deps.log(`api: approver ${id} revoked by ${approver.name}`);
      return json(res, 200, { revoked: id, by: approver.name });
    }
    if (collection === 'audit' && id !== undefined && method === 'GET') {
      const record = await auditRecord(store, id);
      if (record === undefined) throw new ApiError(404, 'not-found', `no approval ${id} in the ledger`);
      return json(res, 200, record);
    }
    throw new ApiError(404, 'no-route', `no route ${method} ${url.pathname}`);
  }

  /**
   * Who is calling: a bearer token (CLI, tools) or a console session cookie. A
   * cookie-authenticated call must carry the session's CSRF token, except the
   * read-only event stream (EventSource cannot set headers) and GET /v1/session,
   * which hands the token out to same-origin script only.
   */
  private async caller(req: IncomingMessage, url: URL): Promise<Caller> {
    refuseAgentCredential(req);
    const sid = cookieOf(req, SESSION_COOKIE);
    if (req.headers.authorization !== undefined || sid === undefined) {
      const approver = await this.authenticate(req);
      return { approver, channel: channelOf(req.headers['x-airlock-channel']), session: undefined };
    }
    const session = await this.sessions.get(sid);
    if (session === undefined) throw new ApiError(401, 'unauthenticated', 'session expired; sign in again');
    const method = req.method ?? 'GET';
    const exempt = method === 'GET' && (url.pathname === '/v1/events' || url.pathname === '/v1/session');
    if (!exempt && !csrfMatches(session, req.headers[CSRF_HEADER])) {
      throw new ApiError(403, 'csrf', `missing or wrong ${CSRF_HEADER} header for this session`);
    }
    const approver = await this.deps.store.approverByName(session.approver);
    if (approver === undefined || !sessionCurrent(session, approver)) {
      await this.sessions.end(sid);
      throw new ApiError(
        401,
        'unauthenticated',
        'approver revoked or password changed; session ended, sign in again',
      );
    }
    return { approver, channel: 'console', session };
  }

  private async authenticate(req: IncomingMessage): Promise<Approver> {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('AWS4-HMAC-SHA256')) {
      throw new ApiError(403, 'agent-credential', 'agent credentials cannot use the approver API');
    }
    const m = /^Bearer (alt_[A-Za-z0-9_-]{20,64})$/.exec(auth);
    if (!m?.[1]) throw bearerProblem(auth);
    const approver = await this.deps.store.approverByTokenHash(hashToken(m[1]));
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

function channelOf(h: string | string[] | undefined): string {
  return h === 'cli' ? 'cli' : 'api';
}

/** What an approval of one exact call covers: absent is the exact call (docs/MCP.md). */
function breadthOf(v: unknown): GrantBreadth | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && (GRANT_BREADTHS as readonly string[]).includes(v)) return v as GrantBreadth;
  throw new ApiError(
    400,
    'bad-breadth',
    'breadth must be "exact" (this request once), "items" (these keys) or "scope" (the operation on the resource)',
  );
}

function optionalInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ApiError(400, 'bad-request', `${name} must be an integer`);
  return v;
}
