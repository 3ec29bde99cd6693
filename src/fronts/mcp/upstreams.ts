/**
 * Airlock's connections to the upstream MCP servers: one SDK Client per configured
 * server, spawned over stdio or connected over Streamable HTTP on first use, and
 * reconnected on the next use after it closes. Only the MCP front calls these.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerConfig } from '../../config/load-mcp.js';

const CLIENT_INFO = { name: 'airlock', version: '0.1.0' };

export class Upstreams {
  private readonly clients = new Map<string, Promise<Client>>();
  private readonly open = new Set<Client>();
  private closed = false;

  constructor(
    private readonly servers: readonly McpServerConfig[],
    private readonly log: (line: string) => void,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  has(name: string): boolean {
    return this.servers.some((s) => s.name === name);
  }

  /** The connected client of `name`; throws when it cannot be reached. */
  client(name: string): Promise<Client> {
    if (this.closed) return Promise.reject(new Error('Airlock is shutting down'));
    let c = this.clients.get(name);
    if (c === undefined) {
      const server = this.servers.find((s) => s.name === name);
      if (server === undefined) return Promise.reject(new Error(`no MCP server ${name}`));
      c = this.connect(server);
      this.clients.set(name, c);
      // A failed connect is retried by the next request, not cached.
      c.catch(() => this.clients.delete(name));
    }
    return c;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.open].map((c) => c.close()));
    this.open.clear();
    this.clients.clear();
  }

  private async connect(server: McpServerConfig): Promise<Client> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const transport = this.transportFor(server);
    client.onclose = () => {
      this.open.delete(client);
      if (this.clients.get(server.name) !== undefined) this.clients.delete(server.name);
      if (!this.closed) this.log(`mcp: upstream ${server.name} closed; reconnecting on next use`);
    };
    client.onerror = (err) => this.log(`mcp: upstream ${server.name}: ${err.message}`);
    await client.connect(transport);
    this.open.add(client);
    return client;
  }

  private transportFor(server: McpServerConfig): Transport {
    if (server.kind === 'stdio') {
      const [command, ...args] = server.command;
      const t = new StdioClientTransport({
        command: command as string,
        args,
        env: { ...getDefaultEnvironment(), ...server.env },
        stderr: 'pipe',
      });
      t.stderr?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line.trim() !== '') this.log(`mcp: ${server.name} stderr: ${line.slice(0, 500)}`);
      });
      return t;
    }
    const headers: Record<string, string> = {};
    for (const [header, envName] of Object.entries(server.headersEnv)) {
      const v = this.env[envName];
      if (v === undefined)
        throw new Error(`environment variable ${envName} (headers_env.${header}) is not set`);
      headers[header] = v;
    }
    return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
  }
}
