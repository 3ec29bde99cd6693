/**
 * Figure: a large S3 upload and download through Airlock vs direct to the same
 * upstream (the SigV4-verifying S3 stand-in in front of s3rver). Upstream and
 * Airlock each run in their own child process; this process streams with the real
 * SDK v3 (PutObject with a streamed body = aws-chunked with a trailing CRC32;
 * GetObject streamed to a hash), so the runs differ only by the hop through Airlock.
 * Usage: npm run bench:s3 [-- --mib 256 --rounds 2]
 * Prints MiB/s both ways for both paths, the ratios (target ≥ 0.90) and the peak RSS
 * of the Airlock process after warm-up and over the large runs (flat memory: it must not grow with the object).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { applyLayout, cpuMicros, runAirlockChild, runBareProxy, startHttpHops } from './support/children.js';

const UPSTREAM = { accessKeyId: 'AKIABENCHUPSTREAM001', secretAccessKey: 'bench-upstream-secret' };
const MIB = 1024 * 1024;

async function child(role: 'upstream' | 'airlock' | 'proxy'): Promise<void> {
  if (role === 'proxy') return runBareProxy(process.env.BENCH_UPSTREAM ?? '');
  process.on('message', (m) => {
    if (m === 'rss')
      process.send?.({
        rssMiB: process.memoryUsage().rss / MIB,
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
      });
  });
  if (role === 'upstream') {
    const { startVerifyingS3 } = await import('../src/demo/verifying-s3.js');
    const up = await startVerifyingS3(UPSTREAM, { buckets: ['bench'] });
    process.send?.({ url: up.url });
    return;
  }
  return runAirlockChild(UPSTREAM);
}

function rssOf(proc: ChildProcess): Promise<{ rssMiB: number; maxRssMiB: number }> {
  return new Promise((res) => {
    proc.once('message', (m) => res(m as { rssMiB: number; maxRssMiB: number }));
    proc.send('rss');
  });
}

/** `mib` MiB from one random 1 MiB block, so the generator itself stays small. */
function source(block: Buffer, mib: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      this.push(sent++ < mib ? block : null);
    },
  });
}

async function roundTrip(
  client: S3Client,
  key: string,
  block: Buffer,
  mib: number,
): Promise<{ up: number; down: number }> {
  const t0 = performance.now();
  await client.send(
    new PutObjectCommand({ Bucket: 'bench', Key: key, Body: source(block, mib), ContentLength: mib * MIB }),
  );
  const t1 = performance.now();
  const r = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: key }));
  const h = createHash('sha256');
  let n = 0;
  for await (const c of r.Body as Readable) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  const t2 = performance.now();
  if (n !== mib * MIB) throw new Error(`downloaded ${n} bytes, expected ${mib * MIB}`);
  return { up: mib / ((t1 - t0) / 1000), down: mib / ((t2 - t1) / 1000) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      mib: { type: 'string', default: '256' },
      rounds: { type: 'string', default: '2' },
    },
  });
  if (values.role === 'upstream' || values.role === 'airlock' || values.role === 'proxy')
    return child(values.role);
  const mib = Number(values.mib);
  const rounds = Number(values.rounds);
  const { dir, up, al, px, agent } = await startHttpHops(
    'bench/s3-throughput.ts',
    'airlock-bench-s3-',
    '@id("bench")\npermit (principal, action, resource) when { resource.arn like "arn:aws:s3:::bench/*" };\n',
    (url) => `resources:\n  - arn: "arn:aws:s3:::*"\n    endpoint: ${url}\n`,
  );
  const mk = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }),
    });
  const direct = mk(String(up.msg.url), UPSTREAM);
  const via = mk(String(al.msg.url), agent);
  const plain = mk(String(px.msg.url), UPSTREAM);
  const block = randomBytes(MIB);
  // Warm both paths, then alternate and keep each path's best round.
  await roundTrip(direct, 'warm', block, 8);
  await roundTrip(via, 'warm', block, 8);
  const airlockBefore = await rssOf(al.proc);
  const f = (n: number) => `${n.toFixed(0).padStart(5)} MiB/s`;
  const out = [
    `s3-throughput: ${mib} MiB object, best of ${rounds} rounds (PutObject aws-chunked + CRC32 trailer, GetObject streamed)`,
  ];
  // Two layouts, as in bench:aws: "shared" (every process on both cores) and "own core"
  // (this load generator and the upstream on CPU 0, Airlock alone on CPU 1).
  for (const layout of ['shared', 'own core'] as const) {
    applyLayout(layout, [process.pid, up.proc.pid as number], [al.proc.pid as number, px.proc.pid as number]);
    const best = { d: { up: 0, down: 0 }, a: { up: 0, down: 0 }, p: { up: 0, down: 0 } };
    const cpu = { a: 0, p: 0 };
    const max = (x: { up: number; down: number }, y: { up: number; down: number }) => ({
      up: Math.max(x.up, y.up),
      down: Math.max(x.down, y.down),
    });
    for (let i = 0; i < rounds; i++) {
      best.d = max(best.d, await roundTrip(direct, `direct-${i}`, block, mib));
      let before = await cpuMicros(px);
      best.p = max(best.p, await roundTrip(plain, `proxy-${i}`, block, mib));
      cpu.p += (await cpuMicros(px)) - before;
      before = await cpuMicros(al);
      best.a = max(best.a, await roundTrip(via, `airlock-${i}`, block, mib));
      cpu.a += (await cpuMicros(al)) - before;
    }
    const perMiB = (us: number) => `${(us / 1000 / (rounds * 2 * mib)).toFixed(2)} ms CPU per MiB moved`;
    out.push(
      `  layout: ${layout}`,
      `    direct   upload ${f(best.d.up)}   download ${f(best.d.down)}`,
      `    proxy    upload ${f(best.p.up)}   download ${f(best.p.down)}   ${perMiB(cpu.p)}  (bare Node reverse proxy)`,
      `    airlock  upload ${f(best.a.up)}   download ${f(best.a.down)}   ${perMiB(cpu.a)}`,
      `    ratio airlock/direct: upload ${(best.a.up / best.d.up).toFixed(3)}  download ${(best.a.down / best.d.down).toFixed(3)}  (target >= 0.90)   bare proxy/direct: upload ${(best.p.up / best.d.up).toFixed(3)}  download ${(best.p.down / best.d.down).toFixed(3)}`,
    );
  }
  const airlockRss = await rssOf(al.proc);
  const upstreamRss = await rssOf(up.proc);
  out.push(
    `  airlock RSS: ${airlockBefore.rssMiB.toFixed(0)} MiB after warm-up (8 MiB objects), peak ${airlockRss.maxRssMiB.toFixed(0)} MiB over the ${mib} MiB runs (flat: the peak does not grow with the object)`,
    `  upstream stand-in peak RSS: ${upstreamRss.maxRssMiB.toFixed(0)} MiB`,
    '',
  );
  process.stdout.write(out.join('\n'));
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
