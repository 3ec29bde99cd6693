/**
 * The MCP server Airlock presents for one upstream, built per HTTP request (the front
 * is stateless: docs/MCP.md, "Endpoint"). It declares the upstream's capabilities and
 * answers each method Airlock knows; any other method gets the SDK's -32601
 * (Method not found) and never reaches the upstream.
 *   tools/list, prompts/list, resources/list, resources/templates/list
 *       → the upstream's list, filtered to what policy could allow this agent
 *   tools/call, prompts/get, resources/read
 *       → CallPath (gate → intent → upstream → outcome)
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { hasDeceptiveChars } from '../../core/display-text.js';
import type { Evaluator } from '../../core/types.js';
import { MCP_CALL, MCP_GET_PROMPT, MCP_READ_RESOURCE, type McpTargetKind, mcpResource } from './actions.js';
import type { CallIdentity, CallPath, CallResult, GatedCall } from './call-path.js';
import type { Definitions } from './definitions.js';
import { AIRLOCK_REFUSED } from './http-edge.js';
import type { ArgsResourceMatch } from './list-filter.js';
import type { ToolPins } from './pins.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Where the agent's reason travels: `params._meta["airlock/reason"]` (docs/MCP.md, "Reason"). */
export const REASON_META = 'airlock/reason';
const MAX_REASON = 1024;

export interface SessionDeps {
  readonly calls: CallPath;
  readonly policy: () => Evaluator;
  /** Resources an arguments-testing policy might allow (list-filter.ts). */
  readonly argsMayAllow: ArgsResourceMatch;
  readonly progressMs: number;
  readonly upstreamTimeoutMs: number;
  readonly pins: ToolPins;
  readonly definitions: Definitions;
}

export interface SessionContext extends CallIdentity {
  /** Reason from the x-airlock-reason header, used when the message carries none. */
  readonly headerReason: string | undefined;
  /** Aborted when the client's HTTP request goes away. */
  readonly signal: AbortSignal;
}

export function mcpServerFor(upstream: Client, ctx: SessionContext, deps: SessionDeps): Server {
  const caps = upstream.getServerCapabilities() ?? {};
  const server = new Server(
    { name: `airlock/${ctx.server}`, version: upstream.getServerVersion()?.version ?? '0' },
    {
      capabilities: {
        ...(caps.tools ? { tools: {} } : {}),
        ...(caps.resources ? { resources: {} } : {}),
        ...(caps.prompts ? { prompts: {} } : {}),
      },
      ...(upstream.getInstructions() === undefined ? {} : { instructions: upstream.getInstructions() }),
    },
  );
  const visible = (kind: McpTargetKind, action: string, name: string, method: string) =>
    couldAllow(deps, ctx, action, mcpResource(ctx.server, kind, name), method);
  const opts = (extra: Extra) => ({ signal: extra.signal, timeout: deps.upstreamTimeoutMs });

  if (caps.tools) {
    server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
      const r = await upstream.listTools(req.params, opts(extra));
      if (req.params?.cursor === undefined) deps.definitions.saw(ctx.server, r.tools);
      return {
        ...r,
        tools: r.tools.filter(
          (t) =>
            visible('tool', MCP_CALL, t.name, 'tools/call') &&
            deps.pins.check(ctx.server, t).status !== 'changed',
        ),
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
      const { name, arguments: args = {} } = req.params;
      const call: GatedCall = {
        method: 'tools/call',
        kind: 'tool',
        action: MCP_CALL,
        resource: mcpResource(ctx.server, 'tool', name),
        target: name,
        args,
        reason: reasonOf(req.params._meta, ctx),
      };
      const changed = await pinRefusal(deps, ctx, upstream, call, extra);
      const r =
        changed ??
        (await gated(deps, ctx, call, extra, (signal) =>
          upstream.callTool({ name, arguments: args }, undefined, {
            signal,
            timeout: deps.upstreamTimeoutMs,
          }),
        ));
      if (r.kind === 'result') return r.result as CallToolResult;
      // A refusal is a tool error, so the agent (and the model behind it) reads why and what to do.
      return {
        isError: true,
        content: [{ type: 'text', text: refusalText(r) }],
        _meta: {
          'airlock/refusal': r.refusal,
          'airlock/request_id': r.requestId,
          'airlock/approval_id': r.approvalId,
        },
      };
    });
  }
  if (caps.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, async (req, extra) => {
      const r = await upstream.listPrompts(req.params, opts(extra));
      return {
        ...r,
        prompts: r.prompts.filter((p) => visible('prompt', MCP_GET_PROMPT, p.name, 'prompts/get')),
      };
    });
    server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
      const { name, arguments: args = {} } = req.params;
      const call: GatedCall = {
        method: 'prompts/get',
        kind: 'prompt',
        action: MCP_GET_PROMPT,
        resource: mcpResource(ctx.server, 'prompt', name),
        target: name,
        args,
        reason: reasonOf(req.params._meta, ctx),
      };
      return orThrow(
        await gated(deps, ctx, call, extra, (signal) =>
          upstream.getPrompt({ name, arguments: args }, { signal, timeout: deps.upstreamTimeoutMs }),
        ),
      );
    });
  }
  if (caps.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, async (req, extra) => {
      const r = await upstream.listResources(req.params, opts(extra));
      return {
        ...r,
        resources: r.resources.filter((x) => visible('resource', MCP_READ_RESOURCE, x.uri, 'resources/read')),
      };
    });
    // Templates name no concrete resource; each read of one is gated on its own URI.
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (req, extra) =>
      upstream.listResourceTemplates(req.params, opts(extra)),
    );
    server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
      const { uri } = req.params;
      const call: GatedCall = {
        method: 'resources/read',
        kind: 'resource',
        action: MCP_READ_RESOURCE,
        resource: mcpResource(ctx.server, 'resource', uri),
        target: uri,
        args: {},
        reason: reasonOf(req.params._meta, ctx),
      };
      return orThrow(
        await gated(deps, ctx, call, extra, (signal) =>
          upstream.readResource({ uri }, { signal, timeout: deps.upstreamTimeoutMs }),
        ),
      );
    });
  }
  return server;
}

/**
 * Runs a call on the path, sending progress notifications while it waits (held calls:
 * MCP clients drop a request after 60-120 s without any, and the SDK's
 * `resetTimeoutOnProgress` keeps waiting on each one). Only when the client asked for
 * progress (a progressToken in `_meta`).
 */
async function gated<T>(
  deps: SessionDeps,
  ctx: SessionContext,
  call: GatedCall,
  extra: Extra,
  forward: (signal: AbortSignal) => Promise<T>,
): Promise<CallResult<T>> {
  if (call.reason !== undefined && (call.reason.length > MAX_REASON || hasDeceptiveChars(call.reason)))
    throw new McpError(
      ErrorCode.InvalidParams,
      `${REASON_META} must be at most ${MAX_REASON} characters without invisible or direction-changing characters`,
    );
  const token = extra._meta?.progressToken;
  let n = 0;
  const started = Date.now();
  const timer =
    token === undefined
      ? undefined
      : setInterval(() => {
          n += 1;
          const s = Math.round((Date.now() - started) / 1000);
          extra
            .sendNotification({
              method: 'notifications/progress',
              params: {
                progressToken: token,
                progress: n,
                message: `Airlock: waiting ${s}s (approval or upstream)`,
              },
            })
            .catch(() => undefined);
        }, deps.progressMs);
  try {
    return await deps.calls.run(ctx, call, forward, describe, AbortSignal.any([extra.signal, ctx.signal]));
  } finally {
    clearInterval(timer);
  }
}

/** A call of a tool whose definition no longer matches its pin is refused before the gate. */
async function pinRefusal(
  deps: SessionDeps,
  ctx: SessionContext,
  upstream: Client,
  call: GatedCall,
  extra: Extra,
): Promise<CallResult<never> | undefined> {
  const tool = await deps.definitions.tool(ctx.server, call.target, () =>
    listAllTools(upstream, { signal: extra.signal, timeout: deps.upstreamTimeoutMs }),
  );
  // A tool the upstream does not list is left to the upstream to refuse (after the gate).
  if (tool === undefined) return undefined;
  const pin = deps.pins.check(ctx.server, tool);
  if (pin.status !== 'changed') return undefined;
  return deps.calls.refuse(
    ctx,
    call,
    'definition-changed',
    `the definition of ${ctx.server} tool ${call.target} changed since Airlock pinned it ` +
      `(pinned sha256 ${pin.pinned.hash.slice(0, 16)}…, now ${pin.now.hash.slice(0, 16)}…` +
      `${pin.pinned.descriptionHash === pin.now.descriptionHash ? '' : '; description changed'}` +
      `${pin.pinned.inputSchemaHash === pin.now.inputSchemaHash ? '' : '; input schema changed'}); ` +
      `its calls are refused until an operator reviews it and runs: airlock mcp accept ${ctx.server}`,
    ['tool-definition-changed'],
  );
}

async function listAllTools(upstream: Client, o: { signal: AbortSignal; timeout: number }) {
  const tools = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await upstream.listTools(cursor === undefined ? {} : { cursor }, o);
    tools.push(...r.tools);
    cursor = r.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

function describe(result: unknown): { resultBytes: number; isError: boolean } {
  return {
    resultBytes: Buffer.byteLength(JSON.stringify(result) ?? ''),
    isError: (result as { isError?: unknown }).isError === true,
  };
}

function orThrow<T>(r: CallResult<T>): T {
  if (r.kind === 'result') return r.result;
  throw new McpError(AIRLOCK_REFUSED, refusalText(r), {
    refusal: r.refusal,
    requestId: r.requestId,
    approvalId: r.approvalId,
  });
}

function refusalText(r: Extract<CallResult<unknown>, { kind: 'refused' }>): string {
  const base = `Airlock refused this call (${r.requestId}): ${r.message}`;
  if (r.refusal === 'missing-reason')
    return `${base} With MCP, send the reason as params._meta["${REASON_META}"] (docs/MCP.md).`;
  return base;
}

function reasonOf(meta: Record<string, unknown> | undefined, ctx: SessionContext): string | undefined {
  const r = meta?.[REASON_META];
  return typeof r === 'string' ? r : ctx.headerReason;
}

/**
 * Whether policy could allow this agent `action` on `resource`: not denied when asked
 * with a reason and no arguments, or denied only by default while a policy testing
 * `context.args` names it (arguments might make it allowed: list-filter.ts). Used to filter lists only; every
 * call is evaluated in full.
 */
function couldAllow(
  deps: SessionDeps,
  ctx: SessionContext,
  action: string,
  resource: string,
  op: string,
): boolean {
  const d = deps.policy().evaluate({
    agent: ctx.agent,
    scopes: [{ action, resource }],
    context: {
      reason: 'listing',
      time: new Date(),
      sourceIp: ctx.sourceIp,
      front: 'mcp',
      service: 'mcp',
      operation: op,
      region: '',
      grantId: undefined,
    },
  });
  if (d.effect !== 'deny') return true;
  return d.reasons.length === 1 && d.reasons[0] === 'default-deny' && deps.argsMayAllow(resource);
}
