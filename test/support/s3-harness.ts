/**
 * Airlock in front of the strict S3 stand-in (SigV4-verifying front + s3rver),
 * with an agent, a dba approver and real S3 SDK clients. Everything binds to 127.0.0.1.
 */
import http from 'node:http';
import type net from 'node:net';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RunningAirlock } from '../../src/app.js';
import type { StsStandIn } from '../../src/demo/sts-stand-in.js';
import { startVerifyingS3, type VerifyingS3 } from '../../src/demo/verifying-s3.js';
import { type Gateway, startGateway } from './gateway.js';
import { REGION, UPSTREAM_CREDS } from './harness.js';

export interface S3Harness {
  readonly airlock: RunningAirlock;
  readonly upstream: VerifyingS3;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly dbaToken: string;
  /** The agent's S3 client pointed at Airlock (path-style unless `virtualHosted`). */
  client(opts?: { reason?: string; virtualHosted?: boolean; extra?: Partial<S3ClientConfig> }): S3Client;
  /** Straight at the verifying upstream with Airlock's credentials (to inspect the buckets). */
  readonly direct: S3Client;
  api: Gateway['api'];
  pending: Gateway['pending'];
  approve: Gateway['approve'];
  close(): Promise<void>;
}

/** Resolves every `*.localhost` name to 127.0.0.1, so virtual-hosted bucket names reach Airlock. */
function localhostAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true });
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (opts, cb) =>
    create({ ...opts, host: '127.0.0.1', lookup: undefined } as net.NetConnectOpts, cb);
  return agent;
}

export async function startS3Harness(
  opts: { buckets?: string[]; policy?: string; role?: { arn: string; sts: StsStandIn } } = {},
): Promise<S3Harness> {
  const upstream = await startVerifyingS3(UPSTREAM_CREDS, {
    buckets: opts.buckets ?? ['scratch', 'reports', 'private'],
    ...(opts.role === undefined ? {} : { sts: opts.role.sts }),
  });
  const gw = await startGateway({
    policy: opts.policy ?? 'test/fixtures/policies/s3.cedar',
    agentName: 'report-bot',
    resources: `  - arn: "arn:aws:s3:::*"
    endpoint: ${upstream.url}
${opts.role === undefined ? '' : `    role_arn: ${opts.role.arn}\n    sts_endpoint: ${opts.role.sts.url}\n`}`,
  });
  const { airlock, agent } = gw;
  const clients: S3Client[] = [];
  const direct = new S3Client({
    endpoint: upstream.url,
    region: REGION,
    forcePathStyle: true,
    credentials: UPSTREAM_CREDS,
  });
  clients.push(direct);
  return {
    airlock,
    upstream,
    agent,
    dbaToken: gw.dbaToken,
    direct,
    client(o = {}) {
      const port = new URL(airlock.awsUrl).port;
      const c = new S3Client({
        endpoint: o.virtualHosted === true ? `http://localhost:${port}` : airlock.awsUrl,
        forcePathStyle: o.virtualHosted !== true,
        region: REGION,
        credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
        maxAttempts: 1,
        ...(o.virtualHosted === true
          ? { requestHandler: new NodeHttpHandler({ httpAgent: localhostAgent() }) }
          : {}),
        ...o.extra,
      });
      if (o.reason !== undefined) addReason(c, o.reason);
      clients.push(c);
      return c;
    },
    api: gw.api,
    pending: gw.pending,
    approve: gw.approve,
    async close() {
      for (const c of clients) c.destroy();
      await gw.close();
      await upstream.close();
    },
  };
}

/** How an agent sends its reason with the SDK: a build-step middleware adding the header. */
export function addReason(c: { middlewareStack: S3Client['middlewareStack'] }, reason: string): void {
  c.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-airlock-reason'] = reason;
      return next(args);
    },
    { step: 'build', name: 'airlockReason' },
  );
}
