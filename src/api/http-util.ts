/** Small HTTP helpers shared by the API routes. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { DecisionRefused } from '../approvals/decide.js';

/** An API failure with its HTTP status and a stable machine-readable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The largest request body any API route reads (JSON, or Slack's signed form). */
export const MAX_BODY = 64 * 1024;

/** The error a thrown value answers as, or undefined when it is unexpected (a 500, logged). */
export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof DecisionRefused) return new ApiError(err.status, err.code, err.message);
  return undefined;
}

/**
 * The body as sent (signature checks need the exact bytes), up to MAX_BODY: read here,
 * when the route asks for it, so authentication and the route's own checks answer first.
 */
export async function readRaw(req: Request): Promise<Buffer> {
  if (req.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req.body) {
    size += c.length;
    if (size > MAX_BODY) throw new ApiError(413, 'too-large', 'request body too large');
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

/** A JSON object body; an empty body is `{}`. */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const raw = await readRaw(req);
  if (raw.length === 0) return {};
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'bad-json', 'request body must be a JSON object');
  }
}

/**
 * Answers whose body is already in memory: on a socket they are written at once, in one
 * writeHead + end (writeNow). @hono/node-server would read a Response it did not make as a
 * stream and flush headers and body apart, a timer tick and several promise hops later, and
 * by then the held request a decision released has been answered on its own socket first.
 */
const bodies = new WeakMap<Response, string | Uint8Array>();

export function inMemory(body: string | Uint8Array, init: { status: number; headers: Headers }): Response {
  const res = new Response(typeof body === 'string' ? body : new Uint8Array(body), init);
  bodies.set(res, body);
  return res;
}

/**
 * Writes an in-memory answer to the Node response now and returns node-server's
 * "already sent" marker; anything else (a stream, no body, no socket under app.request())
 * is returned as it is, for hono and node-server to deliver.
 */
export function writeNow(outgoing: ServerResponse | undefined, res: Response): Response {
  const body = bodies.get(res);
  if (outgoing === undefined || body === undefined || outgoing.headersSent) return res;
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of res.headers) if (k !== 'set-cookie') headers[k] = v;
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  outgoing.writeHead(res.status, headers);
  outgoing.end(body);
  return RESPONSE_ALREADY_SENT;
}

/** Every JSON answer of the API: never cached, never sniffed as another type. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string | readonly string[]> = {},
): Response {
  const body = JSON.stringify(value);
  const h = new Headers({
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v === 'string') h.set(k, v);
    else for (const one of v) h.append(k, one);
  }
  return inMemory(body, { status, headers: h });
}

export function errorResponse(e: ApiError): Response {
  return jsonResponse(e.status, { error: e.code, message: e.message });
}
