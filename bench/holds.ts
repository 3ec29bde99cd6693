/**
 * Figure (issue 18, `bench:holds`): 10,000 requests held at once through the real AWS front.
 *
 * The real SDK sends N GetItem calls at once (each with its own `x-airlock-reason`, so each
 * opens its own approval) to Airlock, whose policy holds every read for group `dba`. Once
 * all N are pending, the bench reads Airlock's RSS (/proc), opens every approval's detail
 * (the "detail shown" guard), then approves them through the HTTP API, a few at a time,
 * and times each from sending its approve to the held call's response at the client.
 * Airlock, the SigV4-verifying upstream (dynalite) and this load generator are separate
 * processes, as in bench:aws.
 * Usage: npm run bench:holds [-- --holds 10000 --approvers 8]
 * Targets (printed last): RSS <= 300 MB while all are held; approve -> response p99 <= 10 ms.
 */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { runAirlockChild, runBareProxy, startHttpHops } from './support/children.js';
import { quantile, targetLine } from './support/targets.js';

const UPSTREAM = { accessKeyId: 'AKIABENCHUPSTREAM001', secretAccessKey: 'bench-upstream-secret' };
const ACCOUNT = '123456789012';

/** A process's resident set now and at its peak, MB (VmRSS, VmHWM). */
function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function api(base: string, token: string, method: string, path: string): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      holds: { type: 'string', default: '10000' },
      approvers: { type: 'string', default: '8' },
    },
  });
  if (values.role === 'upstream') {
    const { startVerifyingDynamo } = await import('../src/demo/verifying-upstream.js');
    const up = await startVerifyingDynamo(UPSTREAM);
    process.send?.({ url: up.url });
    return;
  }
  if (values.role === 'airlock') return runAirlockChild(UPSTREAM, { name: 'ann', groups: ['dba'] });
  if (values.role === 'proxy') {
    // startHttpHops starts a bare proxy too; this bench does not load it.
    return runBareProxy(process.env.BENCH_UPSTREAM ?? '');
  }
  const n = Number(values.holds);
  const width = Number(values.approvers);
  const { dir, up, al, px, agent } = await startHttpHops(
    'bench/holds.ts',
    'airlock-bench-holds-',
    '@id("reads-need-dba")\n@hold("dba")\npermit (principal, action in Airlock::Action::"dynamodb:read", resource);\n',
    (url) =>
      `resources:\n  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"\n    endpoint: ${url}\n` +
      'holds:\n  window_seconds: 280\n  approval_ttl_seconds: 3600\n' +
      `limits:\n  connections_per_address: ${n + 100}\n  connections: ${n + 100}\n  requests_per_agent: ${n + 100}\n`,
  );
  px.proc.kill();
  const apiUrl = String(al.msg.apiUrl);
  const token = String(al.msg.approver);
  const airlockPid = al.proc.pid as number;
  const direct = new DynamoDBClient({
    endpoint: String(up.msg.url),
    region: 'us-east-1',
    credentials: UPSTREAM,
  });
  await direct.send(
    new CreateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const client = new DynamoDBClient({
    endpoint: String(al.msg.url),
    region: 'us-east-1',
    credentials: agent,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: n + 100 }),
      connectionTimeout: 60_000,
    }),
  });
  // Each call's reason names it, so each opens its own approval and the bench can tell
  // which approval a call waits on.
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers: Record<string, string> };
      const key = (args.input as { Key: { id: { S: string } } }).Key.id.S;
      req.headers['x-airlock-reason'] = `hold ${key}`;
      return next(args);
    },
    { step: 'build', name: 'airlockReason' },
  );
  const rss0 = rssMb(airlockPid);
  const approvedAt = new Map<string, number>();
  const lat: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  const calls = Array.from({ length: n }, (_, i) =>
    client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: `k-${i}` } } })).then(
      () => {
        const at = approvedAt.get(`hold k-${i}`);
        if (at !== undefined) lat.push(performance.now() - at);
      },
      (err: unknown) => {
        failed++;
        if (failed <= 3) process.stderr.write(`held call k-${i} failed: ${(err as Error).message}\n`);
      },
    ),
  );
  type Pending = { id: string; reason: string };
  let pending: Pending[] = [];
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const body = (await api(apiUrl, token, 'GET', '/v1/approvals?status=pending')) as {
      approvals: Pending[];
    };
    pending = body.approvals;
    if (pending.length >= n || failed > 0) break;
  }
  const heldSecs = (performance.now() - t0) / 1000;
  const rssHeld = rssMb(airlockPid);
  // The detail-shown guard: each approval's detail is opened before it is approved (untimed).
  await pool(pending, width, async (p) => {
    await api(apiUrl, token, 'GET', `/v1/approvals/${p.id}`);
  });
  const tApprove = performance.now();
  await pool(pending, width, async (p) => {
    approvedAt.set(p.reason, performance.now());
    await api(apiUrl, token, 'POST', `/v1/approvals/${p.id}/approve`);
  });
  await Promise.all(calls);
  const approveSecs = (performance.now() - tApprove) / 1000;
  const rssEnd = rssMb(airlockPid);
  const p50 = quantile(lat, 0.5);
  const p99 = quantile(lat, 0.99);
  const f = (x: number) => x.toFixed(1);
  const lines = [
    `holds: ${n} GetItem calls held at once through the AWS front, approved ${width} at a time through the API`,
    `  held: ${pending.length} pending after ${heldSecs.toFixed(1)} s; ${failed} calls failed`,
    `  Airlock RSS: idle ${f(rss0.now)} MB, all held ${f(rssHeld.now)} MB, peak ${f(rssEnd.peak)} MB`,
    `  approve -> client response: p50 ${lat.length === 0 ? 'n/a' : p50.toFixed(2)} ms  p99 ${lat.length === 0 ? 'n/a' : p99.toFixed(2)} ms  (${lat.length} answered; ${(lat.length / approveSecs).toFixed(0)} approvals/s)`,
    targetLine('holds-rss-mb', rssEnd.peak, '<=', 300, 1),
    targetLine('holds-approve-p99-ms', lat.length === n ? p99 : Number.POSITIVE_INFINITY, '<=', 10, 2),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  client.destroy();
  direct.destroy();
  up.proc.kill();
  al.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
