/**
 * The approver API as an OpenAPI 3.1 document, served at GET /v1/openapi.json.
 * test/integration/openapi.test.ts checks that every operation listed here is
 * served and that API_ROUTES (what the server answers) and this document agree.
 */

/** Every route the API server answers, as `METHOD /path/{param}`. */
export const API_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /v1/openapi.json',
  'GET /v1/auth/methods',
  'GET /v1/auth/oidc/login',
  'GET /v1/auth/oidc/callback',
  'POST /v1/session',
  'GET /v1/session',
  'DELETE /v1/session',
  'GET /v1/events',
  'GET /v1/approvals',
  'GET /v1/approvals/{id}',
  'POST /v1/approvals/{id}/approve',
  'POST /v1/approvals/{id}/deny',
  'GET /v1/grants',
  'POST /v1/grants/{id}/revoke',
  'POST /v1/approvers/{name}/revoke',
  'GET /v1/audit/{id}',
  'GET /v1/records',
  'GET /v1/records/{id}',
  'POST /v1/slack/interactions',
] as const;

const error = { $ref: '#/components/responses/Error' };
const ok = (description: string, schema: unknown = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const q = (name: string, description: string, format?: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: format === undefined ? { type: 'string' } : { type: 'string', format },
});
const jsonBody = (properties: Record<string, unknown>, required: string[] = []) => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', properties, required } } },
});
const secured = { security: [{ bearer: [] }, { session: [] }] };

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Airlock approver API',
    version: '1',
    description:
      'Held requests, decisions, grants and the linked record. Authenticate with an approver bearer token ' +
      '(`airlock approvers create`) or a console session cookie; cookie-authenticated calls must send the ' +
      'session CSRF token in `x-airlock-csrf`. Agent credentials (SigV4) are always refused.',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      session: { type: 'apiKey', in: 'cookie', name: 'airlock_session' },
    },
    responses: {
      Error: ok('An error with a stable code', {
        type: 'object',
        properties: { error: { type: 'string' }, message: { type: 'string' } },
        required: ['error', 'message'],
      }),
    },
  },
  paths: {
    '/healthz': { get: { summary: 'Liveness', responses: { 200: ok('ok') } } },
    '/readyz': {
      get: {
        summary: 'Readiness: the store can make records durable and policies are loaded',
        responses: {
          200: ok('ready; also {policies, credentials}'),
          503: ok('the store is failing (requests are refused) or no policy is loaded'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text format 0.0.4); unauthenticated',
        responses: { 200: ok('metrics') },
      },
    },
    '/v1/slack/interactions': {
      post: {
        summary:
          "Slack interactivity (Review clicks, review modal submissions); authenticated by Slack's v0 request signature, not a token (docs/SLACK.md)",
        security: [],
        responses: {
          200: ok('handled (a modal error list when a submission is refused)'),
          401: ok('signature missing, forged, stale or replayed'),
          404: ok('Slack is not configured (error slack-not-configured)'),
        },
      },
    },
    '/v1/openapi.json': { get: { summary: 'This document', responses: { 200: ok('OpenAPI 3.1') } } },
    '/v1/auth/methods': {
      get: { summary: 'Sign-in methods the console offers', responses: { 200: ok('{password, oidc}') } },
    },
    '/v1/auth/oidc/login': {
      get: {
        summary: 'Start SSO sign-in (redirects to the identity provider)',
        responses: { 302: { description: 'to the IdP' }, 404: error },
      },
    },
    '/v1/auth/oidc/callback': {
      get: {
        summary: 'SSO redirect target; creates a console session',
        responses: { 200: { description: 'signed in' }, 403: { description: 'refused' } },
      },
    },
    '/v1/session': {
      post: {
        summary: 'Sign in with a local approver password; sets the session cookie',
        requestBody: jsonBody({ name: { type: 'string' }, password: { type: 'string' } }, [
          'name',
          'password',
        ]),
        responses: { 200: ok('session with csrfToken'), 401: error, 403: error, 429: error },
      },
      get: {
        summary: 'The current console session and its CSRF token',
        ...secured,
        responses: { 200: ok('session'), 401: error },
      },
      delete: {
        summary: 'Sign out',
        ...secured,
        responses: { 200: ok('signed out'), 401: error, 403: error },
      },
    },
    '/v1/events': {
      get: {
        summary:
          'Live feed (text/event-stream): event `queue` (the pending approvals) and `records` (approval ids, grant ids and agents named by new ledger entries)',
        ...secured,
        responses: { 200: { description: 'SSE stream', content: { 'text/event-stream': {} } }, 401: error },
      },
    },
    '/v1/approvals': {
      get: {
        summary: 'List approvals with the guards that apply to each',
        ...secured,
        parameters: [q('status', 'pending | approved | denied | expired')],
        responses: { 200: ok('{approvals}'), 400: error, 401: error },
      },
    },
    '/v1/approvals/{id}': {
      get: {
        summary: 'Request detail; starts this approver’s review clock',
        ...secured,
        parameters: [idParam],
        responses: {
          200: ok('{approval, decisions, grant, viewer, review, quorum, policies, history, coverage}'),
          404: error,
        },
      },
    },
    '/v1/approvals/{id}/approve': {
      post: {
        summary: 'Approve (guards: detail shown, minimum review, comment, typed confirmation)',
        ...secured,
        parameters: [idParam],
        requestBody: jsonBody({
          comment: { type: 'string' },
          confirm: { type: 'string', description: 'the resource name, when the guards ask for it' },
          breadth: {
            type: 'string',
            enum: ['exact', 'items', 'scope'],
            description:
              "exact: this request only (an MCP call: these arguments), once unless maxUses; items: the operation on these DynamoDB/S3 keys only; scope: the operation on the resource (MCP: any call of the tool) until the grant expires or is used up. Default and widest: the detail's grantChoices (never wider than @grant_widest)",
          },
          durationSeconds: { type: 'integer', minimum: 1 },
          maxUses: { type: 'integer', minimum: 1 },
        }),
        responses: {
          200: ok('{approval, decision, grant, state}'),
          400: error,
          403: error,
          404: error,
          409: error,
        },
      },
    },
    '/v1/approvals/{id}/deny': {
      post: {
        summary: 'Deny (a comment is required)',
        ...secured,
        parameters: [idParam],
        requestBody: jsonBody({ comment: { type: 'string' } }, ['comment']),
        responses: { 200: ok('{approval, decision, state}'), 400: error, 403: error, 404: error, 409: error },
      },
    },
    '/v1/grants': {
      get: {
        summary: 'List grants',
        ...secured,
        parameters: [q('agent', 'agent name')],
        responses: { 200: ok('{grants}') },
      },
    },
    '/v1/grants/{id}/revoke': {
      post: {
        summary: 'Revoke an active grant',
        ...secured,
        parameters: [idParam],
        responses: { 200: ok('{revoked, by}'), 404: error },
      },
    },
    '/v1/approvers/{name}/revoke': {
      post: {
        summary:
          'Revoke an approver: its token and sessions stop at once, its votes on pending approvals stop counting',
        description: 'Yourself, or any approver if you are in a group listed in `admins.groups`.',
        ...secured,
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: ok('{revoked, by}'), 403: error, 404: error },
      },
    },
    '/v1/audit/{id}': {
      get: {
        summary: 'The six-item record of an approval, from the ledger',
        ...secured,
        parameters: [idParam],
        responses: { 200: ok('record'), 404: error },
      },
    },
    '/v1/records': {
      get: {
        summary: 'Search records',
        ...secured,
        parameters: [
          q('agent', 'agent name'),
          q('resource', 'substring of a resource ARN'),
          q('approval', 'approval id'),
          q('grant', 'grant id'),
          q('from', 'created at or after', 'date-time'),
          q('to', 'created at or before', 'date-time'),
        ],
        responses: { 200: ok('{records}'), 400: error },
      },
    },
    '/v1/records/{id}': {
      get: {
        summary: 'Approval → grant → every action, with out-of-grant attempts',
        ...secured,
        parameters: [idParam],
        responses: { 200: ok('{audit, grant, outOfGrant}'), 404: error },
      },
    },
  },
} as const;
