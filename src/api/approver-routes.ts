/**
 * The approvers' routes: held requests, decisions, grants, approver revocation and the
 * linked record. Every route needs an approver (approver-auth.ts); the Decider enforces
 * the guards and the quorum, so the CLI, the console and any other client obey the same rules.
 */
import { z } from '@hono/zod-openapi';
import type { Decider } from '../approvals/decide.js';
import type { GuardConfig } from '../approvals/guards.js';
import { type ApprovalStatus, GRANT_BREADTHS, type GrantBreadth } from '../core/types.js';
import { auditRecord } from '../ledger/audit.js';
import type { Store } from '../ledger/store.js';
import type { Observer } from '../ops/observer.js';
import { detailExtras, type PolicyLookup, queueItem } from './approval-detail.js';
import { ApiError } from './http-util.js';
import { AuditRecord } from './record-schemas.js';
import type { Declare } from './route.js';
import {
  ApprovalDetail,
  DecideResult,
  ErrorBody,
  Grant,
  lenientString,
  QueueItem,
  Revoked,
} from './schemas.js';
import type { Sessions } from './sessions.js';

export interface ApproverRouteDeps {
  readonly store: Store;
  readonly decider: Decider;
  readonly sessions: Sessions;
  readonly log: (line: string) => void;
  readonly guards?: GuardConfig | undefined;
  readonly policy?: PolicyLookup | undefined;
  readonly adminGroups?: readonly string[] | undefined;
  readonly observer?: Observer | undefined;
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired'];
const Id = z.object({ id: z.string() });
const int = (name: string) =>
  z
    .number({ error: `${name} must be an integer` })
    .int({ error: `${name} must be an integer` })
    .nullish();
const DecideBody = z.object({
  // A comment or confirmation that is not a string counts as none (the guards then say what is missing).
  comment: lenientString(),
  confirm: lenientString('the resource name, when the guards ask for it'),
  durationSeconds: int('durationSeconds').openapi({
    description: 'grant lifetime; clamped to the policy max',
  }),
  maxUses: int('maxUses'),
  breadth: z
    .enum(GRANT_BREADTHS as [GrantBreadth, ...GrantBreadth[]], {
      error:
        'breadth must be "exact" (this request once), "items" (these keys) or "scope" (the operation on the resource)',
    })
    .nullish()
    .openapi({
      description:
        "exact: this request only (an MCP call: these arguments), once unless maxUses; items: the operation on these DynamoDB/S3 keys only; scope: the operation on the resource (MCP: any call of the tool) until the grant expires or is used up. Default and widest: the detail's grantChoices (never wider than @grant_widest)",
    }),
});
const decided = (description: string) => ({
  200: { description, json: DecideResult },
  400: { description: 'a guard is not met (comment, confirmation) or a field is wrong', json: ErrorBody },
  403: { description: 'not eligible, self-approval, agent credentials or CSRF', json: ErrorBody },
  404: { description: 'no such approval', json: ErrorBody },
  409: { description: 'not reviewed yet, review too short, or already decided', json: ErrorBody },
});
const notFound = { description: 'not found', json: ErrorBody };

export function approverRoutes(route: Declare, deps: ApproverRouteDeps): void {
  const { store } = deps;

  route(
    {
      method: 'get',
      path: '/v1/approvals',
      summary: 'List approvals with the guards that apply to each',
      auth: 'approver',
      query: z.object({
        status: z
          .enum(STATUSES as [ApprovalStatus, ...ApprovalStatus[]], {
            error: `status must be one of ${STATUSES.join(', ')}`,
          })
          .optional(),
      }),
      fieldCodes: { status: 'bad-status' },
      responses: {
        200: { description: 'approvals', json: z.strictObject({ approvals: z.array(QueueItem) }) },
      },
    },
    async ({ query, json }) => {
      const list = await store.listApprovals(query.status === undefined ? {} : { status: query.status });
      return json(200, { approvals: list.map((a) => queueItem(a, deps.guards)) });
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/approvals/{id}',
      summary: 'Request detail; starts this approver’s review clock',
      auth: 'approver',
      params: Id,
      responses: {
        200: { description: 'the approval and what deciding on it involves', json: ApprovalDetail },
        404: notFound,
      },
    },
    async ({ c, params: { id }, json }) => {
      const { approver } = c.get('caller');
      const approval = await store.getApproval(id);
      if (approval === undefined) throw new ApiError(404, 'not-found', `no approval ${id}`);
      const firstShownAt = await store.markShown(id, approver.name, new Date());
      const decisions = await store.decisions(id);
      const grant = approval.grantId === undefined ? undefined : await store.getGrant(approval.grantId);
      return json(200, {
        approval,
        decisions,
        grant: grant ?? null,
        viewer: { approver: approver.name, firstShownAt },
        ...(await detailExtras(store, approval, firstShownAt, decisions, deps.guards, deps.policy)),
      });
    },
  );

  for (const verb of ['approve', 'deny'] as const) {
    route(
      {
        method: 'post',
        path: `/v1/approvals/{id}/${verb}`,
        summary:
          verb === 'approve'
            ? 'Approve (guards: detail shown, minimum review, comment, typed confirmation)'
            : 'Deny (a comment is required; the grant fields are ignored)',
        auth: 'approver',
        params: Id,
        body: DecideBody,
        fieldCodes: { breadth: 'bad-breadth' },
        responses: decided(
          verb === 'approve' ? 'the decision, and the grant when the quorum is met' : 'the decision',
        ),
      },
      async ({ c, params: { id }, body, json }) => {
        const { approver, channel } = c.get('caller');
        const b = await body();
        const result = await deps.decider.decide({
          approvalId: id,
          approver,
          verdict: verb,
          comment: b.comment ?? '',
          channel,
          durationSeconds: b.durationSeconds ?? undefined,
          maxUses: b.maxUses ?? undefined,
          breadth: b.breadth ?? undefined,
          confirm: b.confirm,
        });
        return json(200, result);
      },
    );
  }

  route(
    {
      method: 'get',
      path: '/v1/grants',
      summary: 'List grants',
      auth: 'approver',
      query: z.object({ agent: z.string().optional().openapi({ description: 'agent name' }) }),
      responses: { 200: { description: 'grants', json: z.strictObject({ grants: z.array(Grant) }) } },
    },
    async ({ query: { agent }, json }) => {
      const grants = await store.listGrants(agent === undefined ? {} : { agent });
      return json(200, { grants });
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/grants/{id}/revoke',
      summary: 'Revoke an active grant',
      auth: 'approver',
      params: Id,
      responses: { 200: { description: 'revoked', json: Revoked }, 404: notFound },
    },
    async ({ c, params: { id }, json }) => {
      const { approver } = c.get('caller');
      const ok = await store.revokeGrant(id, approver.name, new Date());
      if (!ok) throw new ApiError(404, 'not-found', `no active grant ${id}`);
      deps.observer?.grantRevoked(id, approver.name);
      return json(200, { revoked: id, by: approver.name });
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/approvers/{name}/revoke',
      summary:
        'Revoke an approver: its token and sessions stop at once, its votes on pending approvals stop counting',
      description: 'Yourself, or any approver if you are in a group listed in `admins.groups`.',
      auth: 'approver',
      params: z.object({ name: z.string() }),
      responses: {
        200: { description: 'revoked', json: Revoked },
        403: { description: 'not yourself and not an admin', json: ErrorBody },
        404: notFound,
      },
    },
    async ({ c, params: { name: id }, json }) => {
      const { approver } = c.get('caller');
      // Anyone may revoke themselves (a leaked token, a lost laptop); revoking someone else
      // is for admins. Other lifecycle changes (groups, token rotation) are CLI-only, on the host.
      const admin = approver.groups.some((g) => (deps.adminGroups ?? []).includes(g));
      if (id !== approver.name && !admin) {
        throw new ApiError(403, 'not-admin', `only ${id} or a member of admins.groups may revoke ${id}`);
      }
      if (!(await store.revokeApprover(id, new Date()))) {
        throw new ApiError(404, 'not-found', `no active approver ${id}`);
      }
      await deps.sessions.endAllOf(id);
      deps.log(`api: approver ${id} revoked by ${approver.name}`);
      return json(200, { revoked: id, by: approver.name });
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/audit/{id}',
      summary: 'The six-item record of an approval, from the ledger',
      auth: 'approver',
      params: Id,
      responses: { 200: { description: 'record', json: AuditRecord }, 404: notFound },
    },
    async ({ params: { id }, json }) => {
      const record = await auditRecord(store, id);
      if (record === undefined) throw new ApiError(404, 'not-found', `no approval ${id} in the ledger`);
      return json(200, record);
    },
  );
}
