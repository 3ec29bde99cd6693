/**
 * The routes behind the console's pages: the sign-in methods, the session (read, sign
 * out), the live queue (SSE) and record search. Sign-in itself is password-sign-in.ts and
 * oidc-routes.ts; the files are console-static.ts. Every console action is one of the
 * documented API calls, so any tool can do the same.
 */
import { z } from '@hono/zod-openapi';
import type { ConsoleConfig } from '../config/config.js';
import type { Store } from '../ledger/store.js';
import type { ApprovalFeed } from './approval-feed.js';
import { headersOf } from './approver-auth.js';
import { ApiError } from './http-util.js';
import type { OidcLogin } from './oidc.js';
import { secure } from './password-sign-in.js';
import { FullRecord, RecordSummary } from './record-schemas.js';
import { fullRecord, type RecordQuery, searchRecords } from './records.js';
import type { Declare } from './route.js';
import { ErrorBody, time } from './schemas.js';
import { clearedCookie, cookieOf, SESSION_COOKIE, type Sessions, sessionCurrent } from './sessions.js';

export interface ConsoleRouteDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  readonly feed: ApprovalFeed;
  readonly oidc: OidcLogin | undefined;
  readonly config: ConsoleConfig;
  readonly publicHttps: boolean;
}

const Session = z.strictObject({
  approver: z.string(),
  groups: z.array(z.string()),
  via: z.enum(['password', 'oidc']),
  csrfToken: z.string(),
  expiresAt: time,
});
const q = (description: string) => z.string().optional().openapi({ description });
const RecordSearch = z.object({
  agent: q('agent name'),
  resource: q('substring of a resource ARN'),
  approval: q('approval id'),
  grant: q('grant id'),
  from: q('created at or after (ISO 8601)').openapi({ format: 'date-time' }),
  to: q('created at or before (ISO 8601)').openapi({ format: 'date-time' }),
});

export function consoleRoutes(route: Declare, deps: ConsoleRouteDeps): void {
  route(
    {
      method: 'get',
      path: '/v1/auth/methods',
      summary: 'Sign-in methods the console offers',
      auth: 'none',
      responses: {
        200: { description: 'methods', json: z.strictObject({ password: z.boolean(), oidc: z.boolean() }) },
      },
    },
    ({ json }) => json(200, { password: deps.config.localAccounts, oidc: deps.oidc !== undefined }),
  );

  route(
    {
      method: 'get',
      path: '/v1/session',
      summary: 'The current console session and its CSRF token',
      auth: 'session-read',
      responses: {
        200: { description: 'session', json: Session },
        400: { description: 'a bearer token has no console session', json: ErrorBody },
      },
    },
    ({ c, json }) => {
      const { approver, session } = c.get('caller');
      if (session === undefined)
        throw new ApiError(400, 'no-session', 'bearer tokens have no console session');
      return json(200, {
        approver: approver.name,
        groups: approver.groups,
        via: session.via,
        csrfToken: session.csrf,
        expiresAt: session.expiresAt,
      });
    },
  );

  route(
    {
      method: 'delete',
      path: '/v1/session',
      summary: 'Sign out',
      auth: 'approver',
      responses: { 200: { description: 'signed out', json: z.strictObject({ signedOut: z.string() }) } },
    },
    async ({ c, json }) => {
      const { approver } = c.get('caller');
      const id = cookieOf(headersOf(c), SESSION_COOKIE);
      if (id !== undefined) await deps.sessions.end(id);
      return json(
        200,
        { signedOut: approver.name },
        { 'set-cookie': clearedCookie(SESSION_COOKIE, secure(c, deps.publicHttps)) },
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/events',
      summary:
        'Live feed (text/event-stream): event `queue` (the pending approvals) and `records` (approval ids, grant ids and agents named by new ledger entries)',
      auth: 'session-read',
      responses: { 200: { description: 'SSE stream', media: 'text/event-stream' } },
    },
    ({ c }) => {
      const { approver, sessionId } = c.get('caller');
      // The stream outlives the request that opened it: it ends as soon as its caller could no
      // longer open it (signed out, session expired, approver revoked, password changed).
      return deps.feed.subscribe(async () => {
        const now = await deps.store.approverByName(approver.name);
        if (now === undefined || now.revokedAt !== undefined) return false;
        if (sessionId === undefined) return true;
        const s = await deps.sessions.get(sessionId);
        return s !== undefined && sessionCurrent(s, now);
      });
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/records',
      summary: 'Search records',
      auth: 'approver',
      query: RecordSearch,
      responses: {
        200: {
          description: 'records, newest first',
          json: z.strictObject({ records: z.array(RecordSummary) }),
        },
        400: { description: 'from or to is not a time', json: ErrorBody },
      },
    },
    async ({ query, json }) => json(200, { records: await searchRecords(deps.store, recordQuery(query)) }),
  );

  route(
    {
      method: 'get',
      path: '/v1/records/{id}',
      summary: 'Approval → grant → every action, with out-of-grant attempts',
      auth: 'approver',
      params: z.object({ id: z.string() }),
      responses: {
        200: { description: 'the record', json: FullRecord },
        404: { description: 'no such approval in the ledger', json: ErrorBody },
      },
    },
    async ({ params: { id }, json }) => {
      const rec = await fullRecord(deps.store, id);
      if (rec === undefined) throw new ApiError(404, 'not-found', `no approval ${id} in the ledger`);
      return json(200, rec);
    },
  );
}

function recordQuery(p: z.output<typeof RecordSearch>): RecordQuery {
  const date = (k: 'from' | 'to'): Date | undefined => {
    const v = p[k];
    if (v === undefined || v === '') return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad-date', `${k} must be an ISO 8601 time`);
    return d;
  };
  const str = (k: 'agent' | 'resource' | 'approval' | 'grant') => {
    const v = p[k]?.trim();
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
