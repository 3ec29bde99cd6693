/**
 * The `limits:` section of airlock.yaml: what one peer, and all of them together, may
 * cost the gateway, and how long an upstream may take (docs/AWS.md, "Limits and
 * timeouts"). Every key is optional; the defaults are safe for one gateway process.
 */
import type { z } from 'zod';
import { int, obj } from './schema-fields.js';

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

const d = DEFAULT_LIMITS;
export const LIMITS_SCHEMA = obj({
  connections_per_address: int(1, 100_000)
    .default(d.connectionsPerAddress)
    .describe('open connections from one source address on the AWS front'),
  connections: int(1, 1_000_000).default(d.connections).describe('open connections on the AWS front in all'),
  requests_per_agent: int(1, 1_000_000)
    .default(d.requestsPerAgent)
    .describe("one agent's requests in progress at once, held ones included"),
  buffered_mib: int(16, 65_536)
    .default(d.bufferedBytes / 1048576)
    .describe('MiB of request bodies buffered at once, all peers together'),
  header_timeout_seconds: int(1, 600)
    .default(d.headerTimeoutMs / 1000)
    .describe("a request's headers must arrive within this"),
  body_timeout_seconds: int(1, 3600)
    .default(d.bodyTimeoutMs / 1000)
    .describe('a buffered request body must arrive within this from its first byte'),
  upstream_connect_timeout_seconds: int(1, 120)
    .default(d.upstreamConnectTimeoutMs / 1000)
    .describe('connecting to an upstream endpoint'),
  upstream_response_timeout_seconds: int(1, 3600)
    .default(d.upstreamResponseTimeoutMs / 1000)
    .describe("until the upstream's response headers, then between its bytes"),
}).describe('per-peer and global limits, upstream deadlines (docs/AWS.md, "Limits and timeouts")');

export function buildLimits(l: z.output<typeof LIMITS_SCHEMA> | null | undefined): LimitsConfig {
  if (l === undefined || l === null) return DEFAULT_LIMITS;
  return {
    connectionsPerAddress: l.connections_per_address,
    connections: l.connections,
    requestsPerAgent: l.requests_per_agent,
    bufferedBytes: l.buffered_mib * 1048576,
    headerTimeoutMs: l.header_timeout_seconds * 1000,
    bodyTimeoutMs: l.body_timeout_seconds * 1000,
    upstreamConnectTimeoutMs: l.upstream_connect_timeout_seconds * 1000,
    upstreamResponseTimeoutMs: l.upstream_response_timeout_seconds * 1000,
  };
}
