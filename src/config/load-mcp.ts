/**
 * `mcp:` in airlock.yaml: the MCP front's listener and its upstream MCP servers
 * (docs/MCP.md). Each server is either spawned over stdio (`command`) or reached over
 * Streamable HTTP (`url`). Problems are reported with file:line:col like the rest.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { HostPort } from './config.js';
import { isHttpUrl, type Reader } from './load.js';

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

type At = (node: Node | null | undefined, msg: string) => void;

const KEYS = ['listen', 'max_message_bytes', 'progress_seconds', 'servers'];
const SERVER_KEYS = ['name', 'command', 'env', 'url', 'headers_env'];
/** Names appear in URLs (/mcp/NAME) and resource ids (arn:airlock:mcp:NAME:...). */
const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** RFC 9110 token characters. */
const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function readMcp(r: Reader, node: Node | undefined, at: At): McpConfig | undefined {
  if (node === undefined || node === null) return undefined;
  if (!isMap(node)) {
    at(node, 'mcp must be a mapping {listen, servers} (see docs/MCP.md)');
    return undefined;
  }
  r.onlyKeys(node, KEYS, 'mcp.');
  const serversNode = node.get('servers', true) as Node | undefined;
  const servers: McpServerConfig[] = [];
  if (!isSeq(serversNode) || serversNode.items.length === 0) {
    at(serversNode ?? node, 'mcp.servers must be a non-empty list of {name, command} or {name, url}');
  } else {
    const names = new Set<string>();
    for (const item of serversNode.items) {
      if (!isMap(item)) {
        at(item as Node, 'each mcp.servers entry must be a mapping');
        continue;
      }
      const server = readServer(r, item, at);
      if (server === undefined) continue;
      if (names.has(server.name)) r.problem(item, 'name', `mcp server ${server.name} is configured twice`);
      names.add(server.name);
      servers.push(server);
    }
  }
  return {
    listen: r.hostPort(node, 'listen', '127.0.0.1:4568'),
    maxMessageBytes: r.int(node, 'max_message_bytes', 1024 * 1024, 1024, 64 * 1024 * 1024),
    progressSeconds: r.int(node, 'progress_seconds', 10, 1, 60),
    servers,
  };
}

function readServer(r: Reader, item: YAMLMap, at: At): McpServerConfig | undefined {
  r.onlyKeys(item, SERVER_KEYS, 'mcp.servers[].');
  const name = r.str(item, 'name', '');
  if (!NAME_RE.test(name)) {
    r.problem(item, 'name', 'mcp.servers[].name must be a lower-case name such as github');
    return undefined;
  }
  const hasCommand = item.has('command');
  const hasUrl = item.has('url');
  if (hasCommand === hasUrl) {
    at(item, `mcp server ${name} needs exactly one of command (stdio) or url (Streamable HTTP)`);
    return undefined;
  }
  if (hasCommand) {
    if (item.has('headers_env')) r.problem(item, 'headers_env', 'headers_env applies only to url servers');
    const cmd = item.get('command', true) as Node;
    const argv =
      isSeq(cmd) && cmd.items.length > 0 && cmd.items.every((i) => isScalar(i) && typeof i.value === 'string')
        ? cmd.items.map((i) => String((i as { value: unknown }).value))
        : undefined;
    if (argv === undefined || argv[0] === '') {
      at(cmd, 'command must be a non-empty list of strings, e.g. [npx, -y, some-mcp-server]');
      return undefined;
    }
    return { name, kind: 'stdio', command: argv, env: stringMap(r, item, 'env', ENV_NAME_RE, at) };
  }
  if (item.has('env')) r.problem(item, 'env', 'env applies only to command servers');
  const url = r.str(item, 'url', '');
  if (!isHttpUrl(url)) {
    r.problem(item, 'url', 'url must be the http(s) URL of a Streamable HTTP MCP endpoint');
    return undefined;
  }
  const headersEnv = stringMap(r, item, 'headers_env', HEADER_RE, at);
  for (const [header, env] of Object.entries(headersEnv))
    if (!ENV_NAME_RE.test(env))
      r.problem(item, 'headers_env', `headers_env.${header} must name an environment variable`);
  return { name, kind: 'http', url, headersEnv };
}

function stringMap(r: Reader, item: YAMLMap, key: string, keyRe: RegExp, at: At): Record<string, string> {
  const m = r.map(item, key);
  const out: Record<string, string> = {};
  if (m === undefined) return out;
  for (const pair of m.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value as Node | null;
    if (!keyRe.test(k)) at(pair.key as Node, `${key}: ${JSON.stringify(k)} is not a valid name`);
    else if (!(isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number')))
      at(v ?? (pair.key as Node), `${key}.${k} must be a string`);
    else out[k] = String(v.value);
  }
  return out;
}
