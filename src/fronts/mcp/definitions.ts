/**
 * The upstreams' tool definitions as last listed, so a tools/call can be checked against
 * its pin (pins.ts) without listing the upstream's tools for every call. Refreshed when a
 * client lists tools, and at most every few seconds on calls.
 */
import type { ToolDefinition } from './pins.js';

const FRESH_MS = 5_000;

export class Definitions {
  private readonly byServer = new Map<string, { at: number; tools: Map<string, ToolDefinition> }>();

  saw(server: string, tools: readonly ToolDefinition[]): void {
    this.byServer.set(server, { at: Date.now(), tools: new Map(tools.map((t) => [t.name, t])) });
  }

  async tool(
    server: string,
    name: string,
    list: () => Promise<readonly ToolDefinition[]>,
  ): Promise<ToolDefinition | undefined> {
    const cached = this.byServer.get(server);
    if (cached !== undefined && Date.now() - cached.at < FRESH_MS && cached.tools.has(name))
      return cached.tools.get(name);
    this.saw(server, await list());
    return this.byServer.get(server)?.tools.get(name);
  }
}
