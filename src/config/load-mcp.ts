/**
 * `mcp:` in airlock.yaml: the MCP front's listener and its upstream MCP servers
 * (docs/MCP.md). Each server is either spawned over stdio (`command`) or reached over
 * Streamable HTTP (`url`).
 */
import { z } from 'zod';
import type { HostPort } from './config.js';
import { hostPort, int, isHttpUrl, obj, scalars, text } from './schema-fields.js';

export type McpServerConfig =
  | {
      readonly name: string;
      readonly kind: 'stdio';
      /** argv of the server process; [0] is looked up on PATH. */
      readonly command: readonly string[];
      /** Added to the minimal environment the SDK passes to a spawned server (HOME, PATH, …). */
      readonly env: Readonly<Record<string, string>>;
    }
  | {
      readonly name: string;
      readonly kind: 'http';
      readonly url: string;
      /** Header name → name of the environment variable holding its value (never the value). */
      readonly headersEnv: Readonly<Record<string, string>>;
    };

export interface McpConfig {
  readonly listen: HostPort;
  /** Largest JSON-RPC message body accepted from a client. */
  readonly maxMessageBytes: number;
  /** Seconds between progress notifications to a client whose call is held. */
  readonly progressSeconds: number;
  readonly servers: readonly McpServerConfig[];
}

/** Names appear in URLs (/mcp/NAME) and resource ids (arn:airlock:mcp:NAME:...). */
const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** RFC 9110 token characters. */
const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const COMMAND = 'command must be a non-empty list of strings, e.g. [npx, -y, some-mcp-server]';

const stringMap = (keyRe: RegExp) =>
  z.record(
    z.string().regex(keyRe),
    text((p) => `${String(p.at(-2))}.${String(p.at(-1))} must be a string`),
    {
      error: (iss) => `${String(iss.path?.at(-1))} must be a mapping`,
    },
  );

const SERVER_SCHEMA = obj(
  {
    name: text('mcp.servers[].name must be a lower-case name such as github', NAME_RE).describe(
      'resource ids: arn:airlock:mcp:NAME:tool/TOOL; the endpoint is /mcp/NAME',
    ),
    command: scalars(text(COMMAND), COMMAND, { min: 1 })
      .refine((argv) => argv[0] !== '', { error: COMMAND })
      .optional()
      .describe('argv of a server spawned over stdio ([0] is looked up on PATH)'),
    env: stringMap(ENV_NAME_RE).optional().describe('added to the environment of a command server'),
    url: text('url must be the http(s) URL of a Streamable HTTP MCP endpoint', isHttpUrl)
      .optional()
      .describe('a Streamable HTTP upstream'),
    headers_env: stringMap(HEADER_RE)
      .superRefine((h, ctx) => {
        for (const [header, env] of Object.entries(h))
          if (!ENV_NAME_RE.test(env))
            ctx.addIssue({
              code: 'custom',
              message: `headers_env.${header} must name an environment variable`,
            });
      })
      .optional()
      .describe('header name → environment variable holding its value (url servers)'),
  },
  'each mcp.servers entry must be a mapping',
).superRefine((s, ctx) => {
  if ((s.command === undefined) === (s.url === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: `mcp server ${s.name} needs exactly one of command (stdio) or url (Streamable HTTP)`,
    });
  } else if (s.command !== undefined && s.headers_env !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['headers_env'],
      message: 'headers_env applies only to url servers',
    });
  } else if (s.url !== undefined && s.env !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['env'], message: 'env applies only to command servers' });
  }
});

const SERVERS = 'mcp.servers must be a non-empty list of {name, command} or {name, url}';

export const MCP_SCHEMA = obj(
  {
    listen: hostPort('127.0.0.1:4568').describe("agents' MCP clients: POST /mcp/SERVER with a bearer token"),
    max_message_bytes: int(1024, 64 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('largest JSON-RPC message body accepted from a client'),
    progress_seconds: int(1, 60).default(10).describe('seconds between progress notifications during a hold'),
    servers: z
      .array(SERVER_SCHEMA, { error: SERVERS })
      .min(1, { error: SERVERS })
      .superRefine(
        (servers, ctx) => {
          // Run even when an entry has problems: a second server of one name is its own mistake.
          const names = new Set<string>();
          if (!Array.isArray(servers)) return;
          servers.forEach((s: unknown, i) => {
            const name = (s as { name?: unknown } | null)?.name;
            if (typeof name !== 'string' || !NAME_RE.test(name)) return;
            if (names.has(name))
              ctx.addIssue({
                code: 'custom',
                path: [i, 'name'],
                message: `mcp server ${name} is configured twice`,
              });
            names.add(name);
          });
        },
        { when: () => true },
      ),
  },
  'mcp must be a mapping {listen, servers} (see docs/MCP.md)',
).describe('MCP servers behind the MCP front (docs/MCP.md)');

export function buildMcp(m: z.output<typeof MCP_SCHEMA> | null | undefined): McpConfig | undefined {
  if (m === undefined || m === null) return undefined;
  return {
    listen: m.listen,
    maxMessageBytes: m.max_message_bytes,
    progressSeconds: m.progress_seconds,
    servers: m.servers.map(
      (s): McpServerConfig =>
        s.command !== undefined
          ? { name: s.name, kind: 'stdio', command: s.command, env: s.env ?? {} }
          : { name: s.name, kind: 'http', url: s.url ?? '', headersEnv: s.headers_env ?? {} },
    ),
  };
}
