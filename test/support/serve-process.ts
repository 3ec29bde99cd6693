/**
 * `airlock serve` as a real child process (the installed bin), for the fault tests:
 * kill -9, SIGTERM, a store on a full or read-only disk, a deleted data directory.
 * The upstream is the strict SigV4-verifying DynamoDB stand-in, in the test process.
 * The child runs in its own process group and is killed with it when the test ends.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, openStore } from '../../src/app.js';
import type { AirlockConfig } from '../../src/config/config.js';
import { parseConfig } from '../../src/config/load.js';
import { startVerifyingDynamo, type VerifyingUpstream } from '../../src/demo/verifying-upstream.js';
import type { LedgerEntry } from '../../src/ledger/store.js';
import { ACCOUNT, REGION, UPSTREAM_CREDS } from './harness.js';
import { PROCESS_START_MS } from './timing.js';

const BIN = resolve('bin/airlock.js');

export interface ServeSetup {
  readonly dir: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly config: AirlockConfig;
  readonly upstream: VerifyingUpstream;
  readonly direct: DynamoDBClient;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly dbaToken: string;
}

export interface Served {
  readonly proc: ChildProcess;
  readonly awsUrl: string;
  readonly apiUrl: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/** A config, an agent and a dba approver in `dataDir` (default: a fresh one), and the tables. */
export async function setUpServe(
  opts: {
    dataDir?: string;
    tables?: string[];
    /** Where Airlock sends DynamoDB requests (default: the verifying stand-in). */
    endpoint?: (upstreamUrl: string) => string;
    /** Appended to airlock.yaml (e.g. a `limits:` section). */
    extraYaml?: string;
    /** More keys under `listen:`, each line indented two spaces (e.g. `  aws_tls: …`). */
    listenYaml?: string;
  } = {},
): Promise<ServeSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-serve-'));
  const dataDir = opts.dataDir ?? join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const upstream = await startVerifyingDynamo(UPSTREAM_CREDS, { accountId: ACCOUNT });
  const yaml = `data_dir: ${dataDir}
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
${opts.listenYaml ?? ''}aws:
  account_id: "${ACCOUNT}"
policies:
  - ${resolve('test/fixtures/policies/faults.cedar')}
holds:
  window_seconds: 20
resources:
  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"
    endpoint: ${opts.endpoint?.(upstream.url) ?? upstream.url}
${opts.extraYaml ?? ''}`;
  const configPath = join(dir, 'airlock.yaml');
  writeFileSync(configPath, yaml);
  const config = parseConfig(yaml, configPath);
  const key = openMasterKey(config);
  const store = openStore(config, key);
  const agent = await createAgent(store, key, 'fault-bot');
  const dbaToken = (await createApprover(store, 'alice', ['dba'])).token;
  await store.close();
  const direct = new DynamoDBClient({ endpoint: upstream.url, region: REGION, credentials: UPSTREAM_CREDS });
  for (const table of opts.tables ?? ['events', 'orders'])
    await direct.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  return { dir, dataDir, configPath, config, upstream, direct, agent, dbaToken };
}

/** Starts `airlock serve` on the setup's config; resolves once both listeners are up. */
export async function serve(
  s: ServeSetup,
  timeoutMs = PROCESS_START_MS,
  args: readonly string[] = [],
): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, '--config', s.configPath, 'serve', ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: UPSTREAM_CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: UPSTREAM_CREDS.secretAccessKey,
      AWS_REGION: REGION,
    },
  });
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | string>((res) =>
    proc.once('exit', (code, signal) => res(code ?? signal ?? 'unknown')),
  );
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, signal);
    } catch {
      /* already gone */
    }
  };
  const started = performance.now();
  for (;;) {
    const m = /AWS front (https?:\/\/[\d.:]+), API (https?:\/\/[\d.:]+)/.exec(err);
    if (m?.[1] !== undefined && m[2] !== undefined)
      return { proc, awsUrl: m[1], apiUrl: m[2], stderr: () => err, exited, kill };
    if (proc.exitCode !== null || performance.now() - started > timeoutMs) {
      kill('SIGKILL');
      throw new Error(`airlock serve did not start:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The ledger as the gateway left it, read through the real store. */
export async function readLedger(s: ServeSetup): Promise<{ entries: LedgerEntry[]; verified: boolean }> {
  const store = openStore(s.config, openMasterKey(s.config));
  try {
    const entries = await store.ledger({});
    return { entries, verified: (await store.verify()).ok };
  } finally {
    await store.close();
  }
}

/** Runs the CLI (`airlock --config … ARGS`) and returns its exit code and output. */
export function cli(
  s: ServeSetup,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, '--config', s.configPath, ...args], (e, stdout, stderr) =>
      res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
