/**
 * What the MCP front checks before a message reaches the SDK: the body's size, that it
 * is one JSON-RPC 2.0 message (MCP 2025-06-18 removed batches), and the HTTP answer for
 * anything refused at this edge — a JSON-RPC error object with `id: null`.
 * https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 * https://www.jsonrpc.org/specification#error_object
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** JSON-RPC error codes (the spec's reserved range). */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INTERNAL_ERROR = -32603;
/** Implementation-defined server error: refused by Airlock at the HTTP edge. */
export const AIRLOCK_REFUSED = -32010;

export class EdgeError extends Error {
  override readonly name = 'EdgeError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  render(res: ServerResponse): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: this.code, message: this.message },
    });
    res.writeHead(this.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...this.headers,
    });
    res.end(body);
  }
}

/** Reads the whole body, refusing (413) past `max` bytes without buffering the rest. */
export async function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(), timeoutMs);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge(max);
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(max: number): EdgeError {
  return new EdgeError(
    413,
    INVALID_REQUEST,
    `JSON-RPC message exceeds ${max} bytes (mcp.max_message_bytes)`,
    {
      connection: 'close',
    },
  );
}

/** One JSON-RPC request or notification from the client, or an EdgeError saying why not. */
export function parseMessage(body: Buffer): Record<string, unknown> {
  let msg: unknown;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new EdgeError(400, PARSE_ERROR, `Parse error: the body is not JSON (${(err as Error).message})`);
  }
  if (Array.isArray(msg))
    throw new EdgeError(
      400,
      INVALID_REQUEST,
      'JSON-RPC batches are not accepted (MCP 2025-06-18 removed them): send one message per request',
    );
  if (msg === null || typeof msg !== 'object')
    throw new EdgeError(400, INVALID_REQUEST, 'Invalid Request: the body must be a JSON-RPC 2.0 object');
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== '2.0')
    throw new EdgeError(400, INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"');
  if (typeof m.method !== 'string' || m.method === '')
    // Airlock never sends the client requests (sampling, elicitation), so no responses are expected.
    throw new EdgeError(400, INVALID_REQUEST, 'Invalid Request: a request or notification needs a method');
  if ('id' in m && !(typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id))))
    throw new EdgeError(400, INVALID_REQUEST, 'Invalid Request: id must be a string or a number');
  if ('params' in m && (m.params === null || typeof m.params !== 'object'))
    throw new EdgeError(400, INVALID_REQUEST, 'Invalid Request: params must be an object or an array');
  return m;
}
