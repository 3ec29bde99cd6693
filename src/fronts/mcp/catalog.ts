/** The MCP front's actions for policy: `mcp:call`, `mcp:get_prompt`, `mcp:read_resource` and their groups. */
import type { FrontCatalog } from '../../access/catalog.js';
import { mcpActionGroups, mcpActions } from './actions.js';

export const mcpCatalog: FrontCatalog = {
  front: 'mcp',
  actions: mcpActions,
  groupsOf: mcpActionGroups,
  owns: (action) => action.startsWith('mcp:'),
};
