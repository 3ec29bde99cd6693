import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  applyLayout,
  type Child,
  cpuMicros,
  runAirlockChild,
  runBareProxy,
  startChild,
  startHttpHops,
  writeBenchConfig,
} from './support/children.js';
import { median, quantile, targetLine } from './support/targets.js';

const UPSTREAM = { accessKeyId: 'AKIABENCHUPSTREAM001', secretAccessKey: 'bench-upstream-secret' };
const ACCOUNT = '123456789012';

async function child(role: 'upstream' | 'airlock' | 'proxy'): Promise<void> {
  if (role === 'proxy') return runBareProxy(process.env.BENCH_UPSTREAM ?? '');
  if (role === 'upstream') {
    const { startVerifyingDynamo } = await import('../src/demo/verifying-upstream.js');
    const up = await startVerifyingDynamo(UPSTREAM);
    process.send?.({ url: up.url });
    return;
  }
  return runAirlockChild(UPSTREAM);
}

interface Sample {
  /** Latencies, ms. */
  readonly lat: number[];
  readonly secs: number;
  /** The hop's CPU time, µs. */
  readonly cpu: number;
}

async function load(client: DynamoDBClient, requests: number, concurrency: number): Promise<Sample> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const s = performance.now();
        await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: `k-${next % 100}` } } }));
        lat.push(performance.now() - s);
      }
    }),
  );
  return { lat, secs: (performance.now() - t0) / 1000, cpu: 0 };
}

interface Arm {
  readonly name: string;
  readonly client: DynamoDBClient;
  /** The process between client and upstream, if any. */
  readonly hop?: Child;
}

interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** The hop's CPU time per request, µs. */
  readonly cpu: number;
}

async function sample(arm: Arm, requests: number, concurrency: number): Promise<Sample> {
  const before = arm.hop === undefined ? 0 : await cpuMicros(arm.hop);
  const r = await load(arm.client, requests, concurrency);
  const after = arm.hop === undefined ? 0 : await cpuMicros(arm.hop);
  return { ...r, cpu: after - before };
}

/** Folds samples into one run's figures. */
function figures(samples: readonly Sample[]): Run {
  const lat = samples.flatMap((s) => s.lat);
  const secs = samples.reduce((t, s) => t + s.secs, 0);
  const cpu = samples.reduce((t, s) => t + s.cpu, 0);
  return { rps: lat.length / secs, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), cpu: cpu / lat.length };
}

/**
 * Runs every arm `rounds` times in turn (direct, proxy, airlock, direct, ...), so a slow
 * patch of this shared machine lands on all arms alike. Returns each arm's rounds merged,
 * and each round's figures per arm (`rounds[r][arm]`) for the target medians.
 */
async function interleaved(
  arms: Arm[],
  requests: number,
  concurrency: number,
  rounds: number,
): Promise<{ merged: Run[]; rounds: Run[][] }> {
  const samples: Sample[][] = arms.map(() => []);
  const per = Math.ceil(requests / rounds);
  const byRound: Run[][] = [];
  for (let r = 0; r < rounds; r++) {
    const round: Run[] = [];
    for (const [i, arm] of arms.entries()) {
      const s = await sample(arm, per, concurrency);
      (samples[i] as Sample[]).push(s);
      round.push(figures([s]));
    }
    byRound.push(round);
  }
  return { merged: samples.map(figures), rounds: byRound };
}

/** What one layout contributes to the targets: medians of per-round figures. */
interface LayoutTargets {
  /** Airlock CPU per request ÷ bare proxy CPU per request, 32 concurrent. */
  readonly cpuRatio: number;
  /** Airlock added p50 − bare proxy added p50, one at a time, ms. */
  readonly addedP50: number;
}

async function suite(
  layout: string,
  arms: Arm[],
  requests: number,
  concurrency: number,
): Promise<{ lines: string[]; targets: LayoutTargets }> {
  // Warm every path (JIT, keep-alive sockets, signing-key caches) before measuring.
  for (const arm of arms) await load(arm.client, 500, concurrency);
  const loadedRuns = await interleaved(arms, requests, concurrency, 5);
  // One request at a time: the added p50 is the hop's own cost per request, not queueing.
  const singleRuns = await interleaved(arms, Math.min(1500, requests), 1, 5);
  const loaded = loadedRuns.merged;
  const single = singleRuns.merged;
  const fmt = (arm: Arm, r: Run) =>
    `    ${arm.name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
    (arm.hop === undefined ? '' : `  hop CPU ${r.cpu.toFixed(0)} us/req`);
  const [d, p, a, b] = loaded as [Run, Run, Run, Run | undefined];
  const [d1, p1, a1, b1] = single as [Run, Run, Run, Run | undefined];
  const cpuRatio = median(loadedRuns.rounds.map(([, px, al]) => (al as Run).cpu / (px as Run).cpu));
  const addedP50 = median(singleRuns.rounds.map(([, px, al]) => (al as Run).p50 - (px as Run).p50));
  return {
    lines: [
      `  layout: ${layout}`,
      `   concurrency ${concurrency}`,
      ...arms.map((arm, i) => fmt(arm, loaded[i] as Run)),
      `    throughput ratio airlock/direct: ${(a.rps / d.rps).toFixed(3)}  (target >= 0.85)   bare proxy/direct: ${(p.rps / d.rps).toFixed(3)}`,
      `    CPU per request airlock/bare proxy (median of rounds): ${cpuRatio.toFixed(2)}`,
      ...(b === undefined
        ? []
        : [
            `    airlock vs airlock@B (median of rounds): CPU ${median(loadedRuns.rounds.map((r) => (r[2] as Run).cpu / (r[3] as Run).cpu)).toFixed(3)}x  throughput ${median(loadedRuns.rounds.map((r) => (r[2] as Run).rps / (r[3] as Run).rps)).toFixed(3)}x`,
          ]),
      '   one at a time',
      ...arms.map((arm, i) => fmt(arm, single[i] as Run)),
      `    added p50: ${(a1.p50 - d1.p50).toFixed(3)} ms  added p99: ${(a1.p99 - d1.p99).toFixed(3)} ms   bare proxy adds p50 ${(p1.p50 - d1.p50).toFixed(3)} ms   airlock − bare proxy p50 (median of rounds) ${addedP50.toFixed(3)} ms`,
      ...(b1 === undefined
        ? []
        : [
            `    airlock − airlock@B p50 (median of rounds) ${median(singleRuns.rounds.map((r) => (r[2] as Run).p50 - (r[3] as Run).p50)).toFixed(3)} ms  CPU ${median(singleRuns.rounds.map((r) => (r[2] as Run).cpu / (r[3] as Run).cpu)).toFixed(3)}x`,
          ]),
    ],
    targets: { cpuRatio, addedP50 },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      requests: { type: 'string', default: '4000' },
      concurrency: { type: 'string', default: '32' },
    },
  });
  if (values.role === 'upstream' || values.role === 'airlock' || values.role === 'proxy')
    return child(values.role);
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const { dir, up, al, px, agent } = await startHttpHops(
    'bench/aws-passthrough.ts',
    'airlock-bench-',
    '@id("reads")\npermit (principal, action in Airlock::Action::"dynamodb:read", resource);\n',
    (url) => `resources:\n  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"\n    endpoint: ${url}\n`,
  );
  const handler = () =>
    new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: concurrency }) });
  const direct = new DynamoDBClient({
    endpoint: String(up.msg.url),
    region: 'us-east-1',
    credentials: UPSTREAM,
    requestHandler: handler(),
  });
  const plain = new DynamoDBClient({
    endpoint: String(px.msg.url),
    region: 'us-east-1',
    credentials: UPSTREAM,
    requestHandler: handler(),
  });
  const via = new DynamoDBClient({
    endpoint: String(al.msg.url),
    region: 'us-east-1',
    credentials: agent,
    requestHandler: handler(),
  });
  await direct.send(
    new CreateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let i = 0; i < 100; i++)
    await direct.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: `k-${i}` } } }));
  const arms: Arm[] = [
    { name: 'direct', client: direct },
    { name: 'proxy', client: plain, hop: px },
    { name: 'airlock', client: via, hop: al },
  ];
  // BENCH_AB=DIR: one more arm, Airlock from another checkout (e.g. a worktree of the
  // commit before a change) with its own data directory, interleaved with the others: a
  // before/after figure from one run, whatever the rest of the machine is doing.
  const other = process.env.BENCH_AB;
  const hops = [al, px];
  if (other !== undefined) {
    const abDir = join(dir, 'ab');
    mkdirSync(abDir);
    const cfg = writeBenchConfig(
      abDir,
      '@id("reads")\npermit (principal, action in Airlock::Action::"dynamodb:read", resource);\n',
      `resources:\n  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"\n    endpoint: ${String(up.msg.url)}\n`,
    );
    const ab = await startChild(join(other, 'bench/aws-passthrough.ts'), 'airlock', { BENCH_CONFIG: cfg });
    hops.push(ab);
    arms.push({
      name: 'airlock@B',
      hop: ab,
      client: new DynamoDBClient({
        endpoint: String(ab.msg.url),
        region: 'us-east-1',
        credentials: ab.msg.agent as { accessKeyId: string; secretAccessKey: string },
        requestHandler: handler(),
      }),
    });
  }
  const out = [
    `aws-passthrough: GetItem, ${requests} requests at concurrency ${concurrency}, then one at a time`,
  ];
  // Two layouts of the same processes. "shared": every process on both cores, so each CPU
  // cycle the hop uses is taken from the load generator and the upstream. "own core": load
  // generator and upstream on CPU 0 in every arm, the hop alone on CPU 1, as a gateway on
  // its own host. The hop's CPU time per request is printed for both.
  const targets: LayoutTargets[] = [];
  for (const layout of ['shared', 'own core'] as const) {
    applyLayout(
      layout,
      [process.pid, up.proc.pid as number],
      hops.map((h) => h.proc.pid as number),
    );
    const r = await suite(layout, arms, requests, concurrency);
    out.push(...r.lines);
    targets.push(r.targets);
  }
  // Issue 18's targets, worst layout.
  out.push(
    targetLine('aws-cpu-vs-proxy', Math.max(...targets.map((t) => t.cpuRatio)), '<=', 1.5),
    targetLine('aws-added-p50-ms', Math.max(...targets.map((t) => t.addedP50)), '<=', 0.15, 3),
  );
  process.stdout.write(`${out.join('\n')}\n`);
  direct.destroy();
  for (const arm of arms) if (arm.client !== direct) arm.client.destroy();
  for (const h of hops) h.proc.kill();
  up.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
