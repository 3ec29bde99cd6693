/**
 * The `limits:` section of airlock.yaml: what one peer, and all of them together, may
 * cost the gateway, and how long an upstream may take (docs/AWS.md, "Limits and
 * timeouts"). Every key is optional; the defaults are safe for one gateway process.
 */
import type { YAMLMap } from 'yaml';
import type { Reader } from './load.js';

export interface LimitsConfig {
  /** Open connections from one source address on the AWS front (over it: refused at accept). */
  readonly connectionsPerAddress: number;
  /** Open connections on the AWS front in all. */
  readonly connections: number;
  /** Requests of one agent in progress at once on the AWS front (held ones included). */
  readonly requestsPerAgent: number;
  /** Request bytes buffered at once across all requests (over it: 503 SlowDown, nothing read). */
  readonly bufferedBytes: number;
  /** A request's headers must arrive within this (slow headers are closed). */
  readonly headerTimeoutMs: number;
  /** A buffered request body must arrive within this from its first byte. */
  readonly bodyTimeoutMs: number;
  /** Connecting to an upstream endpoint. */
  readonly upstreamConnectTimeoutMs: number;
  /** From the request sent to the upstream's response headers, and then between response bytes. */
  readonly upstreamResponseTimeoutMs: number;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  connectionsPerAddress: 256,
  connections: 4096,
  requestsPerAgent: 512,
  bufferedBytes: 256 * 1024 * 1024,
  headerTimeoutMs: 20_000,
  bodyTimeoutMs: 30_000,
  upstreamConnectTimeoutMs: 5_000,
  // Below the AWS SDKs' own socket timeouts, so the agent gets Airlock's 503, not its own.
  upstreamResponseTimeoutMs: 30_000,
};

const KEYS = [
  'connections_per_address',
  'connections',
  'requests_per_agent',
  'buffered_mib',
  'header_timeout_seconds',
  'body_timeout_seconds',
  'upstream_connect_timeout_seconds',
  'upstream_response_timeout_seconds',
];

export function readLimits(r: Reader, root: YAMLMap): LimitsConfig {
  const l = r.map(root, 'limits');
  if (l === undefined) return DEFAULT_LIMITS;
  r.onlyKeys(l, KEYS, 'limits.');
  const d = DEFAULT_LIMITS;
  return {
    connectionsPerAddress: r.int(l, 'connections_per_address', d.connectionsPerAddress, 1, 100_000),
    connections: r.int(l, 'connections', d.connections, 1, 1_000_000),
    requestsPerAgent: r.int(l, 'requests_per_agent', d.requestsPerAgent, 1, 1_000_000),
    bufferedBytes: r.int(l, 'buffered_mib', d.bufferedBytes / 1048576, 16, 65_536) * 1048576,
    headerTimeoutMs: r.int(l, 'header_timeout_seconds', d.headerTimeoutMs / 1000, 1, 600) * 1000,
    bodyTimeoutMs: r.int(l, 'body_timeout_seconds', d.bodyTimeoutMs / 1000, 1, 3600) * 1000,
    upstreamConnectTimeoutMs:
      r.int(l, 'upstream_connect_timeout_seconds', d.upstreamConnectTimeoutMs / 1000, 1, 120) * 1000,
    upstreamResponseTimeoutMs:
      r.int(l, 'upstream_response_timeout_seconds', d.upstreamResponseTimeoutMs / 1000, 1, 3600) * 1000,
  };
}
