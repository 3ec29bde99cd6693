import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { runAirlockChild, startChild, writeBenchConfig } from './support/children.js';

const UPSTREAM = { accessKeyId: 'AKIABENCHUPSTREAM001', secretAccessKey: 'bench-upstream-secret' };
const ACCOUNT = '123456789012';

async function child(role: 'upstream' | 'airlock' | 'proxy'): Promise<void> {
  if (role === 'proxy') {
    // A bare Node reverse proxy: no auth, no policy, no ledger. It shows what one extra
    // Node HTTP hop costs on this machine, so Airlock's own share can be told apart.
    const target = new URL(process.env.BENCH_UPSTREAM ?? '');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const server = http.createServer((req, res) => {
      const out = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(out);
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      process.send?.({ url: `http://127.0.0.1:${port}` });
    });
    return;
  }
  if (role === 'upstream') {
    const { startVerifyingDynamo } = await import('../src/demo/verifying-upstream.js');
    const up = await startVerifyingDynamo(UPSTREAM);
    process.send?.({ url: up.url });
    return;
  }
  return runAirlockChild(UPSTREAM);
}

const start = (role: string, env: Record<string, string> = {}) =>
  startChild('bench/aws-passthrough.ts', role, env);

async function load(
  client: DynamoDBClient,
  requests: number,
  concurrency: number,
): Promise<{ rps: number; p50: number; p99: number }> {
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
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return { rps: requests / secs, p50: q(0.5), p99: q(0.99) };
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
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const up = await start('upstream');
  const cfg = writeBenchConfig(
    dir,
    '@id("reads")\npermit (principal, action in Airlock::Action::"dynamodb:read", resource);\n',
    `resources:\n  - arn: "arn:aws:dynamodb:*:${ACCOUNT}:*"\n    endpoint: ${String(up.msg.url)}\n`,
  );
  const al = await start('airlock', { BENCH_CONFIG: cfg });
  const px = await start('proxy', { BENCH_UPSTREAM: String(up.msg.url) });
  const agent = al.msg.agent as { accessKeyId: string; secretAccessKey: string };
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
  // Warm both paths (JIT, keep-alive sockets, signing-key caches), then measure alternately.
  await load(direct, 500, concurrency);
  await load(via, 500, concurrency);
  await load(plain, 500, concurrency);
  const d = await load(direct, requests, concurrency);
  const p = await load(plain, requests, concurrency);
  const a = await load(via, requests, concurrency);
  // Unloaded: one request at a time, so the added p50 is Airlock's own cost per request,
  // not queueing on this machine's two cores (client, Airlock and upstream share them).
  const serial = Math.min(1000, requests);
  const d1 = await load(direct, serial, 1);
  const p1 = await load(plain, serial, 1);
  const a1 = await load(via, serial, 1);
  const fmt = (r: { rps: number; p50: number; p99: number }) =>
    `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`;
  process.stdout.write(
    [
      `aws-passthrough: GetItem, ${requests} requests, concurrency ${concurrency}`,
      `  direct   ${fmt(d)}`,
      `  proxy    ${fmt(p)}   (bare Node reverse proxy: the cost of one extra hop)`,
      `  airlock  ${fmt(a)}`,
      `  throughput ratio airlock/direct: ${(a.rps / d.rps).toFixed(3)}  (target >= 0.85)   bare proxy/direct: ${(p.rps / d.rps).toFixed(3)}`,
      `  added p50: ${(a.p50 - d.p50).toFixed(3)} ms  (target <= 0.3 ms)   added p99: ${(a.p99 - d.p99).toFixed(3)} ms`,
      `GetItem, ${serial} requests one at a time`,
      `  direct   ${fmt(d1)}`,
      `  proxy    ${fmt(p1)}`,
      `  airlock  ${fmt(a1)}`,
      `  added p50: ${(a1.p50 - d1.p50).toFixed(3)} ms  (target <= 0.3 ms)   added p99: ${(a1.p99 - d1.p99).toFixed(3)} ms   bare proxy adds p50 ${(p1.p50 - d1.p50).toFixed(3)} ms`,
      '',
    ].join('\n'),
  );
  direct.destroy();
  via.destroy();
  plain.destroy();
  px.proc.kill();
  up.proc.kill();
  al.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
