/**
 * A whole Airlock with its MCP front for the MCP tests: in front of
 * `@modelcontextprotocol/server-everything` (spawned over stdio) and a counting server
 * written here with the SDK (Streamable HTTP) that counts every HTTP request and tool
 * call it receives. Real SDK clients talk to Airlock over Streamable HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, type RunningAirlock, startAirlock } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { staticCredentials } from '../../src/upstream/aws-credentials.js';
import { callApi, UPSTREAM_CREDS } from './harness.js';

export interface CountingServer {
  readonly url: string;
  /** HTTP requests received, of any kind. */
  requests: number;
  /** tools/call received, by tool name. */
  readonly calls: Map<string, number>;
  /** Changes a tool's description from now on (a "rug pull"). */
  redescribe(tool: string, description: string): void;
  close(): Promise<void>;
}

const toolList = () =>
  ['count', 'wipe', 'deploy', 'secret-tool', 'shifty', 'rotate'].map((name) => ({
    name,
    description: `the ${name} tool`,
    inputSchema: {
      type: 'object' as const,
      properties: { target: { type: 'string' }, env: { type: 'string' } },
    },
  }));

export async function startCountingServer(): Promise<CountingServer> {
  const calls = new Map<string, number>();
  const state = { requests: 0 };
  const tools = toolList();
  const srv = http.createServer(async (req, res) => {
    state.requests += 1;
    const server = new Server({ name: 'counter', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, (r) => {
      const n = (calls.get(r.params.name) ?? 0) + 1;
      calls.set(r.params.name, n);
      return {
        content: [
          { type: 'text', text: `${r.params.name} #${n} ${JSON.stringify(r.params.arguments ?? {})}` },
        ],
      };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  const out: CountingServer = {
    url: `http://127.0.0.1:${port}/mcp`,
    get requests() {
      return state.requests;
    },
    calls,
    redescribe(tool, description) {
      const t = tools.find((x) => x.name === tool);
      if (t) t.description = description;
    },
    async close() {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  return out;
}

export interface McpHarness {
  readonly airlock: RunningAirlock;
  readonly mcpUrl: string;
  readonly counter: CountingServer;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly token: string;
  readonly dbaToken: string;
  readonly configPath: string;
  /** A connected SDK client for `server` (default: the agent's bearer token). */
  client(server: string, bearer?: string): Promise<Client>;
  api(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Polls until a pending approval whose detail mentions `needle` shows up. */
  pending(needle: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startMcpHarness(
  opts: { holdWindowSeconds?: number; approvalTtlSeconds?: number } = {},
): Promise<McpHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-mcp-'));
  const counter = await startCountingServer();
  const everything = resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
  const yaml = `data_dir: ${dir}/data
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "123456789012"
policies:
  - ${resolve('test/fixtures/policies/mcp.cedar')}
holds:
  window_seconds: ${opts.holdWindowSeconds ?? 4}
  approval_ttl_seconds: ${opts.approvalTtlSeconds ?? 900}
mcp:
  listen: 127.0.0.1:0
  max_message_bytes: 65536
  progress_seconds: 1
  servers:
    - name: counter
      url: ${counter.url}
    - name: everything
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(everything)}, stdio]
`;
  writeFileSync(join(dir, 'airlock.yaml'), yaml);
  const config = parseConfig(yaml, join(dir, 'airlock.yaml'));
  const airlock = await startAirlock(config, {
    credentials: staticCredentials(UPSTREAM_CREDS),
    log: () => undefined,
  });
  const agent = await createAgent(airlock.store, openMasterKey(config), 'mcp-bot');
  const dbaToken = (await createApprover(airlock.store, 'alice', ['dba'])).token;
  const mcpUrl = airlock.mcpUrl as string;
  const token = `${agent.accessKeyId}:${agent.secretAccessKey}`;
  const clients: Client[] = [];
  const api: McpHarness['api'] = (method, path, body) =>
    callApi(airlock.apiUrl, method, path, dbaToken, body);
  return {
    airlock,
    mcpUrl,
    counter,
    agent,
    token,
    dbaToken,
    configPath: join(dir, 'airlock.yaml'),
    api,
    async client(server, bearer = token) {
      const c = new Client({ name: 'test-agent', version: '1.0.0' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`${mcpUrl}/mcp/${server}`), {
          requestInit: { headers: { authorization: `Bearer ${bearer}` } },
        }),
      );
      clients.push(c);
      return c;
    },
    async pending(needle) {
      for (let i = 0; i < 400; i++) {
        const r = await api('GET', '/v1/approvals?status=pending');
        const found = (r.body.approvals as Record<string, unknown>[]).find((a) =>
          JSON.stringify(a).includes(needle),
        );
        if (found) return found;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`no pending approval mentioning ${needle}`);
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await airlock.close();
      await counter.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
