/**
 * Figure: what a second replica costs and brings, with two real `airlock serve` processes
 * (the installed bin) on one embedded PostgreSQL store, each with its own data_dir and the
 * shared master key, the strict SigV4-verifying DynamoDB stand-in as upstream (in this
 * process, which also generates the load).
 *
 * - Release latency of a held write (`orders` needs a dba), timed from sending the approval
 *   until the held request answers: held on A and approved through A's API (the baseline:
 *   the decision wakes the hold in-process) against held on A and approved through B's API
 *   (the decision reaches A by NOTIFY). Rounds alternate, so both arms see the same load;
 *   the grant each approval creates is revoked after it, so the next write is held again.
 * - Throughput of allowed writes (`events`: intent recorded in the store before forwarding)
 *   from C concurrent clients for D seconds: all on A (the baseline) against split between
 *   A and B, alternating, best of the rounds.
 *
 * Everything (both replicas, PostgreSQL) runs on this one host: two replicas here compete
 * for the same CPUs as PostgreSQL and the load generator, so the throughput ratio says what
 * the shared store's serialization costs, not what a second host would add.
 * Bounded: a watchdog ends the run (and every process it started) after --timeout seconds.
 * Usage: npx tsx bench/replicas.ts [--holds 20] [--concurrency 16] [--seconds 3] [--rounds 2] [--timeout 240]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type EmbeddedPg, startEmbeddedPg } from '../test/support/embedded-pg.js';
import { callApi, REGION } from '../test/support/harness.js';
import { type Served, type ServeSetup, serve, setUpServe } from '../test/support/serve-process.js';

const { values } = parseArgs({
  options: {
    holds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '240' },
  },
});
const HOLDS = Number(values.holds);
const C = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const PASSWORD = 'bench-replicas-pw';

let pgDir: string | undefined;
let pgServer: EmbeddedPg | undefined;
let setup: ServeSetup | undefined;
const replicas: Served[] = [];

async function cleanUp(): Promise<void> {
  for (const r of replicas) {
    r.kill('SIGKILL');
    await r.exited;
  }
  await setup?.upstream.close();
  await pgServer?.stop().catch(() => undefined);
  if (pgDir !== undefined) rmSync(pgDir, { recursive: true, force: true });
  if (setup !== undefined) rmSync(setup.dir, { recursive: true, force: true });
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench/replicas: over ${values.timeout} s, stopping\n`);
  void cleanUp().finally(() => process.exit(2));
}, Number(values.timeout) * 1000);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => void cleanUp().finally(() => process.exit(130)));

function agentClient(s: ServeSetup, url: string): DynamoDBClient {
  const c = new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
  });
  c.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-airlock-reason'] = 'bench replicas';
      return next(args);
    },
    { step: 'build', name: 'airlockReason' },
  );
  return c;
}

const put = (c: DynamoDBClient, table: string, id: string) =>
  c.send(new PutItemCommand({ TableName: table, Item: { id: { S: id } } }));

async function ok(s: ServeSetup, r: Served, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await callApi(r.apiUrl, method, path, s.dbaToken, body);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function pendingId(s: ServeSetup, r: Served): Promise<string> {
  const end = performance.now() + 10_000;
  for (;;) {
    const body = await ok(s, r, 'GET', '/v1/approvals?status=pending');
    const ids = ((body.approvals ?? []) as { id: string }[]).map((x) => x.id);
    if (ids.length === 1 && ids[0] !== undefined) return ids[0];
    if (ids.length > 1) throw new Error(`expected one pending approval, got ${ids.length}`);
    if (performance.now() > end) throw new Error('no pending approval within 10 s');
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Holds one write on `held`, approves it through `via`, returns ms from the approval to the answer. */
async function release(s: ServeSetup, held: Served, via: Served, n: number): Promise<number> {
  const answer = put(agentClient(s, held.awsUrl), 'orders', `r-${n}`);
  const id = await pendingId(s, via);
  await ok(s, via, 'GET', `/v1/approvals/${id}`);
  const t = performance.now();
  await ok(s, via, 'POST', `/v1/approvals/${id}/approve`, { comment: 'bench' });
  await answer;
  const ms = performance.now() - t;
  const grants = (await ok(s, via, 'GET', '/v1/grants?agent=fault-bot')).grants as {
    id: string;
    revokedAt?: string | null;
  }[];
  for (const g of grants.filter((x) => x.revokedAt == null))
    await ok(s, via, 'POST', `/v1/grants/${g.id}/revoke`);
  return ms;
}

/** Allowed writes from C clients spread over `targets` for SECONDS; requests per second. */
async function throughput(s: ServeSetup, targets: Served[], tag: string): Promise<number> {
  const clients = targets.map((r) => agentClient(s, r.awsUrl));
  let done = 0;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async (_, w) => {
      const c = clients[w % clients.length] as DynamoDBClient;
      while (performance.now() < end) {
        await put(c, 'events', `${tag}-${n++}`);
        done++;
      }
    }),
  );
  for (const c of clients) c.destroy();
  return done / ((performance.now() - t0) / 1000);
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};

async function main(): Promise<void> {
  pgDir = mkdtempSync(join(tmpdir(), 'airlock-bench-replicas-pg-'));
  pgServer = await startEmbeddedPg({ dir: pgDir, password: PASSWORD });
  await pgServer.createDatabase('airlock');
  // What each replica's secret manager would inject; the children inherit it.
  process.env.AIRLOCK_TEST_STORE_URL = `postgres://postgres:${PASSWORD}@127.0.0.1:${pgServer.port}/airlock`;
  process.env.AIRLOCK_MASTER_KEY = randomBytes(32).toString('base64');
  const s = await setUpServe({ extraYaml: 'store:\n  postgres:\n    url_env: AIRLOCK_TEST_STORE_URL\n' });
  setup = s;
  const dataB = join(s.dir, 'data-b');
  mkdirSync(dataB);
  const configB = join(s.dir, 'airlock-b.yaml');
  writeFileSync(
    configB,
    readFileSync(s.configPath, 'utf8').replace(`data_dir: ${s.dataDir}`, `data_dir: ${dataB}`),
  );
  const [a, b] = await Promise.all([serve(s), serve({ ...s, configPath: configB })]);
  replicas.push(a, b);

  // Warm-up: JIT, pools, the first LISTEN round trip.
  await throughput(s, [a, b], 'warm');
  await release(s, a, a, -1);
  await release(s, a, b, -2);

  const same: number[] = [];
  const cross: number[] = [];
  for (let i = 0; i < HOLDS; i++) {
    same.push(await release(s, a, a, 2 * i));
    cross.push(await release(s, a, b, 2 * i + 1));
  }
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    one.push(await throughput(s, [a], `one-${round}`));
    two.push(await throughput(s, [a, b], `two-${round}`));
  }

  const f = (x: number) => x.toFixed(1);
  const [s50, s99, c50, c99] = [q(same, 0.5), q(same, 0.99), q(cross, 0.5), q(cross, 0.99)];
  const [r1, r2] = [Math.max(...one), Math.max(...two)];
  console.log(
    `release of a held write, ${HOLDS} approvals per arm, alternating (approval sent → held request answered):`,
  );
  console.log(`  held on A, approved via A (baseline): p50 ${f(s50)} ms, p99 ${f(s99)} ms`);
  console.log(`  held on A, approved via B (NOTIFY)  : p50 ${f(c50)} ms, p99 ${f(c99)} ms`);
  console.log(
    `  ratio cross/same: p50 ${(c50 / s50).toFixed(2)}x (${c50 >= s50 ? '+' : ''}${f(c50 - s50)} ms), p99 ${(c99 / s99).toFixed(2)}x`,
  );
  console.log(
    `allowed writes (intent in the store before forwarding), concurrency ${C}, ${SECONDS} s, best of ${ROUNDS}:`,
  );
  console.log(`  one replica (baseline): ${Math.round(r1)} req/s`);
  console.log(`  two replicas          : ${Math.round(r2)} req/s`);
  console.log(
    `  ratio two/one: ${(r2 / r1).toFixed(2)}x (one host: replicas, PostgreSQL and load share its CPUs)`,
  );
}

try {
  await main();
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
