/**
 * `airlock mcp stdio --url URL`: a stdio MCP server that relays every message to
 * Airlock's MCP front over Streamable HTTP, for clients that can only spawn servers
 * (docs/MCP.md, "stdio bridge"). Messages pass through unchanged both ways (progress
 * notifications of held calls included); the bridge holds no policy and no secrets
 * beyond the agent's own token, read from AIRLOCK_MCP_TOKEN (ACCESS_KEY_ID:SECRET).
 * An HTTP refusal (401, 413, …) becomes a JSON-RPC error for the request that caused it.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { CliError } from './cli-error.js';

export async function mcpStdioBridge(url: string, token: string | undefined): Promise<number> {
  if (token === undefined || !/^[A-Z0-9]{16,128}:\S+$/.test(token))
    throw new CliError('set AIRLOCK_MCP_TOKEN to the agent credential ACCESS_KEY_ID:SECRET (docs/MCP.md)', 2);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CliError(
      `--url must be the MCP front URL of a server, e.g. http://127.0.0.1:4568/mcp/github`,
      2,
    );
  }
  const local = new StdioServerTransport();
  const remote = new StreamableHTTPClientTransport(target, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const done = new Promise<void>((resolve) => {
    local.onclose = () => resolve();
    remote.onclose = () => resolve();
  });
  remote.onmessage = (m) => {
    local.send(m).catch(() => undefined);
  };
  remote.onerror = (e) => process.stderr.write(`airlock mcp stdio: ${e.message}\n`);
  local.onerror = (e) => process.stderr.write(`airlock mcp stdio: ${e.message}\n`);
  local.onmessage = (m: JSONRPCMessage) => {
    remote.send(m).catch((err: unknown) => {
      const id = 'id' in m && 'method' in m ? m.id : undefined;
      if (id === undefined) {
        process.stderr.write(`airlock mcp stdio: ${(err as Error).message}\n`);
        return;
      }
      local.send({ jsonrpc: '2.0', id, error: relayedError(err) }).catch(() => undefined);
    });
  };
  await remote.start();
  await local.start();
  await done;
  await Promise.allSettled([remote.close(), local.close()]);
  return 0;
}

/** Airlock's JSON-RPC error from the HTTP body when there is one, else an internal error. */
function relayedError(err: unknown): { code: number; message: string } {
  const text = (err as Error).message;
  const body = /\{.*\}/s.exec(text)?.[0];
  if (body !== undefined) {
    try {
      const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof e?.code === 'number' && typeof e.message === 'string')
        return { code: e.code, message: e.message };
    } catch {
      // not Airlock's JSON: fall through
    }
  }
  return { code: -32603, message: `Airlock MCP front unreachable or refused: ${text}` };
}
