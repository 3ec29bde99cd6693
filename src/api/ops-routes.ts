/**
 * The unauthenticated routes for operators and integrations: liveness, readiness and
 * metrics (load balancers and Prometheus probe them; they name faults, never data), and
 * Slack interactivity, authenticated by Slack's request signature (channels/slack/).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from '@hono/zod-openapi';
import type { Store } from '../ledger/store.js';
import type { Metrics } from '../ops/metrics.js';
import { ApiError, inMemory, readRaw } from './http-util.js';
import type { Declare } from './route.js';
import { ErrorBody, time } from './schemas.js';

export interface OpsDeps {
  readonly store: Store;
  readonly metrics: Metrics | undefined;
  /** What /readyz reports besides the store. */
  readonly ready?: (() => { policies: number; credentials: 'ok' | 'missing' | 'unchecked' }) | undefined;
  readonly slack?:
    | { interaction(raw: Buffer, headers: IncomingHttpHeaders): Promise<{ status: number; body?: unknown }> }
    | undefined;
}

const readiness = {
  policies: z.number().int().optional().openapi({ description: 'policies loaded' }),
  credentials: z
    .enum(['ok', 'missing', 'unchecked'])
    .optional()
    .openapi({ description: "Airlock's own AWS credentials" }),
};
const Ready = z.strictObject({ ok: z.literal(true), ...readiness });
const NotReady = z.union([
  z.strictObject({ ok: z.literal(false), store: z.string(), since: time, ...readiness }),
  z.strictObject({ ok: z.literal(false), ...readiness, problem: z.string() }),
]);
/** What Slack reads back: nothing, a modal's field errors, or why the request was refused. */
const SlackReply = z.union([
  z.strictObject({ response_action: z.literal('errors'), errors: z.record(z.string(), z.string()) }),
  z.strictObject({ error: z.string() }),
]);

export function opsRoutes(route: Declare, deps: OpsDeps): void {
  route(
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process answers',
      auth: 'none',
      responses: { 200: { description: 'ok', json: z.strictObject({ ok: z.literal(true) }) } },
    },
    ({ json }) => json(200, { ok: true }),
  );

  route(
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: the store can make records durable and policies are loaded',
      auth: 'none',
      responses: {
        200: { description: 'ready', json: Ready },
        503: {
          description: 'the store is failing (requests are refused) or no policy is loaded',
          json: NotReady,
        },
      },
    },
    ({ json }) => {
      const h = deps.store.health();
      const extra = deps.ready?.();
      const policiesMissing = extra !== undefined && extra.policies === 0;
      const detail = extra === undefined ? {} : { policies: extra.policies, credentials: extra.credentials };
      if (!h.ok) return json(503, { ok: false, store: h.problem, since: h.since.toISOString(), ...detail });
      if (policiesMissing) return json(503, { ok: false, ...detail, problem: 'no policies loaded' });
      return json(200, { ok: true, ...detail });
    },
  );

  const metrics = deps.metrics;
  // Without metrics the path is unknown, as any other (answered by the fallback).
  if (metrics !== undefined) {
    route(
      {
        method: 'get',
        path: '/metrics',
        summary: 'Prometheus metrics (text format 0.0.4); unauthenticated',
        auth: 'none',
        responses: { 200: { description: 'metrics', media: 'text/plain' } },
      },
      async () =>
        inMemory(await metrics.text(), {
          status: 200,
          headers: new Headers({ 'content-type': metrics.contentType, 'cache-control': 'no-store' }),
        }),
    );
  }

  route(
    {
      method: 'post',
      path: '/v1/slack/interactions',
      summary:
        "Slack interactivity (Review clicks, review modal submissions); authenticated by Slack's v0 request signature, not a token (docs/SLACK.md)",
      auth: 'none',
      responses: {
        200: { description: 'handled (a modal error list when a submission is refused)', json: SlackReply },
        400: { description: 'a signed request whose payload is not Slack JSON', json: SlackReply },
        401: { description: 'signature missing, forged, stale or replayed', json: SlackReply },
        404: { description: 'Slack is not configured (error slack-not-configured)', json: ErrorBody },
        413: { description: 'the body is over 64 KiB', json: ErrorBody },
        503: { description: 'too many signatures to check at once', json: SlackReply },
      },
    },
    async ({ c, json }) => {
      if (deps.slack === undefined)
        throw new ApiError(
          404,
          'slack-not-configured',
          'Slack is not configured (slack: in airlock.yaml, docs/SLACK.md)',
        );
      // Authenticated by Slack's request signature over the raw body, not by an approver token.
      const out = await deps.slack.interaction(await readRaw(c.req.raw), nodeHeaders(c.req.raw.headers));
      if (out.body === undefined) return new Response(null, { status: out.status });
      return json(out.status, out.body);
    },
  );
}

/** Fetch headers in Node's shape (lower-case names), as the Slack channel reads them. */
function nodeHeaders(h: Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of h) out[k] = v;
  return out;
}
