/**
 * A whole Airlock for the service tests (S3, SQS, SNS, Lambda, …): a config with
 * the given policy and resource routes, Airlock's own upstream credentials, an
 * agent and a dba approver. Everything binds to 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, type RunningAirlock, startAirlock } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { staticCredentials } from '../../src/upstream/aws-credentials.js';
import { UPSTREAM_CREDS } from './harness.js';

export interface Gateway {
  readonly airlock: RunningAirlock;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly dbaToken: string;
  api(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Polls until a pending approval for `operation` shows up. */
  pending(operation: string): Promise<Record<string, unknown>>;
  /** The dba approver opens the approval (its review starts) and approves it. */
  approve(id: string, comment: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startGateway(opts: {
  policy: string;
  /** YAML list items under `resources:` (each starting with `  - arn:`). */
  resources: string;
  agentName: string;
}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-gw-'));
  const yaml = `data_dir: ${dir}/data
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "123456789012"
policies:
  - ${resolve(opts.policy)}
holds:
  window_seconds: 20
resources:
${opts.resources}`;
  writeFileSync(join(dir, 'airlock.yaml'), yaml);
  const config = parseConfig(yaml, join(dir, 'airlock.yaml'));
  const airlock = await startAirlock(config, {
    credentials: staticCredentials(UPSTREAM_CREDS),
    log: () => undefined,
  });
  const agent = await createAgent(airlock.store, openMasterKey(config), opts.agentName);
  const dbaToken = (await createApprover(airlock.store, 'alice', ['dba'])).token;
  const api: Gateway['api'] = async (method, path, body) => {
    const res = await fetch(`${airlock.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${dbaToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    airlock,
    agent,
    dbaToken,
    api,
    async pending(operation) {
      for (let i = 0; i < 200; i++) {
        const r = await api('GET', '/v1/approvals?status=pending');
        const found = (r.body.approvals as Record<string, unknown>[]).find((a) => a.operation === operation);
        if (found) return found;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`no pending approval for ${operation}`);
    },
    async approve(id, comment) {
      const shown = await api('GET', `/v1/approvals/${id}`);
      if (shown.status !== 200) return shown;
      return api('POST', `/v1/approvals/${id}/approve`, { comment });
    },
    async close() {
      await airlock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
