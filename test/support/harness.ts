/**
 * Starts a whole Airlock for an integration test: a strict SigV4-verifying
 * upstream in front of dynalite, Airlock with its own upstream credentials,
 * an agent and approvers, and real AWS SDK v3 clients. Everything binds to 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, type RunningAirlock, startAirlock } from '../../src/app.js';
import type { AirlockConfig } from '../../src/config/config.js';
import { parseConfig } from '../../src/config/load.js';
import type { StsStandIn } from '../../src/demo/sts-stand-in.js';
import { startVerifyingDynamo, type VerifyingUpstream } from '../../src/demo/verifying-upstream.js';
import type { Logger } from '../../src/ops/log.js';
import { staticCredentials } from '../../src/upstream/aws-credentials.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const UPSTREAM_CREDS = {
  accessKeyId: 'AKIAAIRLOCKUPSTREAM1',
  secretAccessKey: 'airlock-upstream-secret-for-tests-only',
};
export const arn = (table: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;

export interface Harness {
  readonly airlock: RunningAirlock;
  readonly upstream: VerifyingUpstream;
  readonly config: AirlockConfig;
  readonly dir: string;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly approvers: Record<string, string>;
  /** SDK client of the test agent, pointed at Airlock. */
  client(opts?: {
    reason?: string;
    creds?: { accessKeyId: string; secretAccessKey: string };
    extra?: Partial<DynamoDBClientConfig>;
  }): DynamoDBClient;
  /** SDK client straight at the verifying upstream with Airlock's credentials (to inspect the table). */
  direct: DynamoDBClient;
  api(
    method: 'GET' | 'POST',
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    holdWindowSeconds?: number;
    approvalTtlSeconds?: number;
    policy?: string;
    tables?: string[];
    /** Route the tables through scoped sessions of this role, issued by this STS stand-in. */
    role?: { arn: string; externalId?: string; sts: StsStandIn };
    /** Appended to airlock.yaml (e.g. a `guards:` or `oidc:` section). */
    extraYaml?: string;
    /** The structured log (ops/log.ts); default silent. */
    logger?: Logger;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-it-'));
  const upstream = await startVerifyingDynamo(UPSTREAM_CREDS, {
    ...(opts.role === undefined ? {} : { sts: opts.role.sts }),
    accountId: ACCOUNT,
  });
  const roleYaml =
    opts.role === undefined
      ? ''
      : `    role_arn: ${opts.role.arn}
    sts_endpoint: ${opts.role.sts.url}
${opts.role.externalId === undefined ? '' : `    external_id: ${opts.role.externalId}\n`}`;
  const policyPath = opts.policy ?? resolve('test/fixtures/policies/gateway.cedar');
  const yaml = `data_dir: ${dir}/data
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "${ACCOUNT}"
policies:
  - ${policyPath}
holds:
  window_seconds: ${opts.holdWindowSeconds ?? 20}
  approval_ttl_seconds: ${opts.approvalTtlSeconds ?? 600}
resources:
  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"
    endpoint: ${upstream.url}
${roleYaml}${opts.extraYaml ?? ''}`;
  writeFileSync(join(dir, 'airlock.yaml'), yaml);
  const config = parseConfig(yaml, join(dir, 'airlock.yaml'));
  const airlock = await startAirlock(config, {
    credentials: staticCredentials(UPSTREAM_CREDS),
    log: () => undefined,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  const key = openMasterKey(config);
  const agent = await createAgent(airlock.store, key, 'billing-bot');
  const approvers: Record<string, string> = {};
  for (const [name, groups] of [
    ['alice', ['dba']],
    ['bob', ['dba', 'finance']],
    ['carol', ['finance']],
    ['mallory', ['marketing']],
  ] as const) {
    approvers[name] = (await createApprover(airlock.store, name, groups)).token;
  }
  const direct = new DynamoDBClient({ endpoint: upstream.url, region: REGION, credentials: UPSTREAM_CREDS });
  for (const table of opts.tables ?? ['orders', 'ledger', 'customers']) {
    await direct.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  const clients: DynamoDBClient[] = [direct];
  return {
    airlock,
    upstream,
    config,
    dir,
    agent,
    approvers,
    direct,
    client(o = {}) {
      const c = new DynamoDBClient({
        endpoint: airlock.awsUrl,
        region: REGION,
        credentials: o.creds ?? { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
        maxAttempts: 1,
        ...o.extra,
      });
      if (o.reason !== undefined) {
        const reason = o.reason;
        // How an agent sends its reason with the SDK: a build-step middleware adding the header.
        c.middlewareStack.add(
          (next) => async (args) => {
            const req = args.request as { headers: Record<string, string> };
            req.headers['x-airlock-reason'] = reason;
            return next(args);
          },
          { step: 'build', name: 'airlockReason' },
        );
      }
      clients.push(c);
      return c;
    },
    api: (method, path, token, body) => callApi(airlock.apiUrl, method, path, token, body),
    async close() {
      for (const c of clients) c.destroy();
      await airlock.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One approver API call with a bearer token, as the CLI makes it. */
export async function callApi(
  apiUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls the API until a pending approval for `operation` shows up. */
export async function waitForPending(
  h: Harness,
  token: string,
  operation: string,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = await h.api('GET', '/v1/approvals?status=pending', token);
    const found = (r.body.approvals as Record<string, unknown>[]).find((a) => a.operation === operation);
    if (found) return found;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no pending approval for ${operation}`);
}
