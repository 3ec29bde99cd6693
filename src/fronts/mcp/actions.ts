/**
 * The MCP front's action catalog and resource ids (docs/MCP.md, "Policy"). One action
 * per kind of use, the tool / prompt / resource named by the resource id:
 *   tools/call      → mcp:call           on arn:airlock:mcp:SERVER:tool/TOOL
 *   prompts/get     → mcp:get_prompt     on arn:airlock:mcp:SERVER:prompt/NAME
 *   resources/read  → mcp:read_resource  on arn:airlock:mcp:SERVER:resource/URI
 * Groups: `mcp:read` (prompts and resources), `mcp:any` (all three).
 */

export const MCP_CALL = 'mcp:call';
export const MCP_GET_PROMPT = 'mcp:get_prompt';
export const MCP_READ_RESOURCE = 'mcp:read_resource';

export function mcpActions(): string[] {
  return [MCP_CALL, MCP_GET_PROMPT, MCP_READ_RESOURCE];
}

export function mcpActionGroups(action: string): string[] {
  if (action === MCP_CALL) return ['mcp:any'];
  if (action === MCP_GET_PROMPT || action === MCP_READ_RESOURCE) return ['mcp:read', 'mcp:any'];
  return [];
}

export type McpTargetKind = 'tool' | 'prompt' | 'resource';

export function mcpResource(server: string, kind: McpTargetKind, name: string): string {
  return `arn:airlock:mcp:${server}:${kind}/${name}`;
}
