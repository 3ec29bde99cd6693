/**
 * The MCP front: a Streamable HTTP endpoint per upstream server, `POST /mcp/SERVER`
 * (docs/MCP.md). Per HTTP request: route to a configured server → authenticate the
 * agent's bearer token → read and check one JSON-RPC message (size, shape; no batches)
 * → a stateless SDK Server for that upstream answers it (session.ts), calls going
 * through CallPath (gate → intent → upstream → outcome). Nothing refused at this edge
 * reaches an upstream, or even connects to one.
 * https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Directory } from '../../access/directory.js';
import type { Recorder } from '../../access/recorder.js';
import type { Gate } from '../../approvals/gate.js';
import type { McpConfig } from '../../config/load-mcp.js';
import type { Evaluator } from '../../core/types.js';
import { verifyBearer } from './bearer.js';
import { CallPath } from './call-path.js';
import { Definitions } from './definitions.js';
import { EdgeError, INTERNAL_ERROR, INVALID_REQUEST, parseMessage, readBody } from './http-edge.js';
import { argsResourceMatcher } from './list-filter.js';
import type { ToolPins } from './pins.js';
import { mcpServerFor, type SessionDeps } from './session.js';
import type { Upstreams } from './upstreams.js';

export interface McpFrontDeps {
  /** Agents by access key, for the bearer token (access/directory.ts). */
  readonly directory: Directory;
  readonly recorder: Recorder;
  readonly gate: Gate;
  readonly policy: () => Evaluator;
  /** Texts of the loaded policies (for list filtering: list-filter.ts). */
  readonly policyTexts: readonly string[];
  readonly upstreams: Upstreams;
  readonly config: McpConfig;
  readonly upstreamTimeoutMs: number;
  readonly headerTimeoutMs: number;
  /** Tool definition pins (pins.ts), `data_dir/mcp-pins.json`. */
  readonly pins: ToolPins;
  readonly log: (line: string) => void;
}

const PATH_RE = /^\/mcp\/([a-z][a-z0-9_-]{0,62})\/?$/;

export class McpFront {
  private readonly server: http.Server;
  private readonly session: SessionDeps;
  /** Open client requests (held calls among them), ended on shutdown. */
  private readonly open = new Set<AbortController>();
  private stopping = false;

  constructor(private readonly deps: McpFrontDeps) {
    this.session = {
      calls: new CallPath(deps.gate, deps.recorder),
      policy: deps.policy,
      argsMayAllow: argsResourceMatcher(deps.policyTexts),
      progressMs: deps.config.progressSeconds * 1000,
      upstreamTimeoutMs: deps.upstreamTimeoutMs,
      pins: deps.pins,
      definitions: new Definitions(),
    };
    // Held calls stay open for the hold window: no overall request timeout, headers in time.
    this.server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => {
      this.handle(req, res).catch((err) => {
        deps.log(`mcp front: unexpected error: ${(err as Error).stack ?? String(err)}`);
        new EdgeError(500, INTERNAL_ERROR, 'Airlock internal error').render(res);
      });
    });
    this.server.headersTimeout = deps.headerTimeoutMs;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const c of this.open) c.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.deps.upstreams.close();
  }

  /** Stop accepting; held calls end with their retry error (approvals stay pending). */
  async stopAccepting(): Promise<void> {
    this.stopping = true;
    this.server.close();
    this.server.closeIdleConnections();
    for (const c of this.open) c.abort();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.serve(req, res);
    } catch (err) {
      if (!(err instanceof EdgeError)) throw err;
      err.render(res);
      if (err.status === 413) req.destroy();
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://airlock').pathname;
    const name = PATH_RE.exec(path)?.[1];
    if (name === undefined || !this.deps.upstreams.has(name))
      throw new EdgeError(
        404,
        INVALID_REQUEST,
        `no MCP server at ${path.slice(0, 200)}; servers are served at /mcp/NAME (docs/MCP.md)`,
      );
    if (req.method !== 'POST')
      // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
      throw new EdgeError(405, INVALID_REQUEST, 'Airlock serves MCP statelessly: POST one JSON-RPC message', {
        allow: 'POST',
      });
    const auth = await verifyBearer(req.headers.authorization, this.deps.directory);
    if (!auth.ok)
      throw new EdgeError(401, INVALID_REQUEST, `Unauthorized: ${auth.why}`, {
        'www-authenticate': 'Bearer realm="airlock"',
      });
    if (this.stopping) throw new EdgeError(503, INTERNAL_ERROR, 'Airlock is shutting down; retry');
    const message = parseMessage(
      await readBody(req, this.deps.config.maxMessageBytes, this.deps.headerTimeoutMs),
    );
    const upstream = await this.deps.upstreams.client(name).catch((err: unknown) => {
      this.deps.log(`mcp: upstream ${name} unavailable: ${(err as Error).message}`);
      throw new EdgeError(502, INTERNAL_ERROR, `upstream MCP server ${name} is unavailable; retry later`);
    });
    const abort = new AbortController();
    this.open.add(abort);
    const server = mcpServerFor(
      upstream,
      {
        agent: auth.agent,
        server: name,
        sourceIp: req.socket.remoteAddress ?? '',
        headerReason: headerReason(req),
        signal: abort.signal,
      },
      this.session,
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      this.open.delete(abort);
      if (!res.writableFinished) abort.abort();
      transport.close().catch(() => undefined);
      server.close().catch(() => undefined);
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  }
}

function headerReason(req: IncomingMessage): string | undefined {
  const v = req.headers['x-airlock-reason'];
  return typeof v === 'string' ? v : undefined;
}
