/**
 * One declaration per API route: method, path, who may call it, request and response
 * schemas (zod). From it the route is added to the hono app and to the OpenAPI registry
 * (@hono/zod-openapi's generator writes the document, openapi.ts), so the document cannot
 * drift from what is served.
 *
 * Why not `app.openapi()` itself: its validators answer in their own words and order
 * (415 before authentication, 400 "Malformed JSON" for an empty body), and the API's
 * answers are a contract ({error, message} with stable codes; authentication first, then
 * the route's own checks, then the body). So the same route config is registered for the
 * document, and here the request is validated with the same schemas, lazily for the body.
 *
 * With `check` on (under `node --test`, or AIRLOCK_CHECK_RESPONSES=1), every answer is
 * checked against its declaration: a status the route does not declare, or a JSON body with
 * a field its (strict) schema does not have, becomes a 500 `response-schema` naming it.
 */

import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { Caller } from './approver-auth.js';
import { ApiError, apiErrorOf, errorResponse, jsonResponse, readJson, writeNow } from './http-util.js';
import { ErrorBody } from './schemas.js';

export interface ApiEnv {
  /** Present when served over a socket (@hono/node-server); absent under app.request(). */
  Bindings: Partial<HttpBindings>;
  Variables: { caller: Caller };
}
export type ApiContext = Context<ApiEnv>;

/** `approver`: bearer token, or console session + CSRF header; `session-read`: CSRF not required. */
export type RouteAuth = 'none' | 'approver' | 'session-read';

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body's schema (strict objects: no undeclared field passes the check). */
  readonly json?: z.ZodType;
  /** Another media type (text, HTML, event stream); the body is not checked. */
  readonly media?: string;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  readonly method: 'get' | 'post' | 'delete';
  /** OpenAPI path template, e.g. `/v1/approvals/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: RouteAuth;
  /** Not part of the API (the console's files): served and checked, left out of the document. */
  readonly hide?: boolean;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** The error code of a request field that fails its schema; other fields: `bad-request`. */
  readonly fieldCodes?: Readonly<Record<string, string>>;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  readonly c: ApiContext;
  readonly params: z.output<P>;
  readonly query: z.output<Q>;
  /** Reads and validates the JSON body (read once, when the route is ready for it). */
  body(): Promise<z.output<B>>;
  /** A JSON answer with the API's headers; checked against the declared schema under `check`. */
  json(status: number, value: unknown, headers?: Record<string, string | readonly string[]>): Response;
}

export interface RouteDeps {
  readonly app: OpenAPIHono<ApiEnv>;
  readonly auth: Readonly<Record<Exclude<RouteAuth, 'none'>, MiddlewareHandler<ApiEnv>>>;
  readonly check: boolean;
}

/** A response that does not match its route's declaration (only raised under `check`). */
export class ResponseSchemaError extends Error {
  override readonly name = 'ResponseSchemaError';
}

const Empty = undefined as unknown as z.ZodType<Record<string, never>>;
const errorJson = (description: string): ResponseSpec => ({ description, json: ErrorBody });

export type Declare = <
  P extends z.ZodType = typeof Empty,
  Q extends z.ZodType = typeof Empty,
  B extends z.ZodType = typeof Empty,
>(
  spec: RouteSpec<P, Q, B>,
  handler: (input: RouteInput<P, Q, B>) => Promise<Response> | Response,
) => void;

export function routeDeclarer(deps: RouteDeps): Declare {
  return (spec, handler) => {
    const responses: Record<number, ResponseSpec> = { ...spec.responses };
    if (spec.auth !== 'none') {
      responses[401] ??= errorJson('no, unknown or revoked credential, or the session ended');
      responses[403] ??= errorJson('agent credentials, or a session call without its CSRF token');
    }
    if (spec.body !== undefined) {
      responses[400] ??= errorJson('the body is not a JSON object, or a field has the wrong type');
      responses[413] ??= errorJson('the body is over 64 KiB');
    }
    if ((spec.query !== undefined || spec.params !== undefined) && responses[400] === undefined) {
      responses[400] = errorJson('a parameter has the wrong type');
    }
    if (spec.hide !== true) register(deps.app, spec, responses);
    const where = `${spec.method.toUpperCase()} ${spec.path}`;
    const checked = (status: number): ResponseSpec => {
      const r = responses[status];
      if (r === undefined)
        throw new ResponseSchemaError(`${where} answered ${status}, which it does not declare`);
      return r;
    };
    const run = async (c: ApiContext): Promise<Response> => {
      const params = parse(spec.params, c.req.param(), spec.fieldCodes);
      const query = parse(spec.query, firstValues(new URL(c.req.url).searchParams), spec.fieldCodes);
      let body: Promise<unknown> | undefined;
      const input = {
        c,
        params,
        query,
        body: () => {
          body ??= readJson(c.req.raw).then((raw) => parse(spec.body, raw, spec.fieldCodes));
          return body;
        },
        json(status: number, value: unknown, headers?: Record<string, string | readonly string[]>) {
          if (deps.check) checkJson(where, status, checked(status), value);
          return writeNow(c.env?.outgoing, jsonResponse(status, value, headers));
        },
      } as RouteInput<never, never, never>;
      try {
        const res = await handler(input);
        if (res === RESPONSE_ALREADY_SENT) return res; // json() wrote it, checked
        if (deps.check) checked(res.status);
        return writeNow(c.env?.outgoing, res);
      } catch (err) {
        const e = apiErrorOf(err);
        if (e === undefined) throw err;
        if (deps.check) checked(e.status);
        return writeNow(c.env?.outgoing, errorResponse(e));
      }
    };
    const path = spec.path.replaceAll(/\{([^}]+)\}/g, ':$1');
    const method = spec.method.toUpperCase();
    if (spec.auth === 'none') deps.app.on(method, path, run);
    else deps.app.on(method, path, deps.auth[spec.auth], run);
  };
}

function register(
  app: OpenAPIHono<ApiEnv>,
  spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>,
  responses: Record<number, ResponseSpec>,
) {
  app.openAPIRegistry.registerPath({
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    security: spec.auth === 'none' ? [] : [{ bearer: [] }, { session: [] }],
    request: {
      ...(spec.params === undefined ? {} : { params: spec.params as z.ZodObject }),
      ...(spec.query === undefined ? {} : { query: spec.query as z.ZodObject }),
      ...(spec.body === undefined
        ? {}
        : { body: { required: false, content: { 'application/json': { schema: spec.body } } } }),
    },
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, r]) => [
        status,
        {
          description: r.description,
          ...(r.json !== undefined
            ? { content: { 'application/json': { schema: r.json } } }
            : r.media !== undefined
              ? { content: { [r.media]: { schema: { type: 'string' as const } } } }
              : {}),
        },
      ]),
    ),
  });
}

/** Validates one part of the request; the first problem answers 400 with its field's code. */
function parse(
  schema: z.ZodType | undefined,
  value: unknown,
  codes: Readonly<Record<string, string>> | undefined,
): unknown {
  if (schema === undefined) return {};
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  throw new ApiError(400, codes?.[field] ?? 'bad-request', issue?.message ?? 'bad request');
}

function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

/** The body as the client will read it (Dates as ISO strings, undefined fields gone). */
function checkJson(where: string, status: number, spec: ResponseSpec, value: unknown): void {
  if (spec.json === undefined) throw new ResponseSchemaError(`${where} ${status} declares no JSON body`);
  const r = spec.json.safeParse(JSON.parse(JSON.stringify(value)));
  if (r.success) return;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new ResponseSchemaError(`${where} ${status} does not match its schema: ${problems.join('; ')}`);
}
