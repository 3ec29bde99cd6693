/**
 * The process layout every bench shares: this process only generates load; the
 * upstream and Airlock each run in a child process forked from the same script
 * (`--role NAME`), so the compared runs differ only by the hop through Airlock.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Child {
  readonly proc: ChildProcess;
  /** The first message the child sent (its URL, port, agent, ...). */
  readonly msg: Record<string, unknown>;
}

/**
 * Forks `script --role role` under tsx and waits for its first message.
 * With BENCH_PROF=DIR, the `airlock` child writes a CPU profile there.
 */
export function startChild(script: string, role: string, env: Record<string, string> = {}): Promise<Child> {
  const profile =
    role === 'airlock' && process.env.BENCH_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`]
      : [];
  // BENCH_AIRLOCK_FLAGS="--trace-gc ...": extra Node flags for the Airlock child only.
  if (role === 'airlock' && process.env.BENCH_AIRLOCK_FLAGS)
    profile.push(...process.env.BENCH_AIRLOCK_FLAGS.split(' ').filter((f) => f !== ''));
  const proc = fork(resolve(script), ['--role', role], {
    execArgv: ['--import', 'tsx', ...profile],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((res, rej) => {
    proc.once('message', (msg) => res({ proc, msg: msg as Record<string, unknown> }));
    proc.once('exit', (code) => rej(new Error(`${role} exited ${code}`)));
  });
}

/** In a child: answer the parent's CPU-time queries (see `cpuMicros`). */
export function answerCpuQueries(): void {
  process.on('message', (m: unknown) => {
    if ((m as { cpu?: number }).cpu !== undefined) {
      const u = process.cpuUsage();
      process.send?.({ cpuReply: (m as { cpu: number }).cpu, micros: u.user + u.system });
    }
  });
}

let cpuQuery = 0;

/** CPU time (user + system, µs) a child has used so far; the child runs `answerCpuQueries`. */
export function cpuMicros(child: Child): Promise<number> {
  const id = ++cpuQuery;
  return new Promise((res) => {
    const on = (m: unknown) => {
      const r = m as { cpuReply?: number; micros?: number };
      if (r.cpuReply !== id) return;
      child.proc.off('message', on);
      res(r.micros ?? Number.NaN);
    };
    child.proc.on('message', on);
    child.proc.send({ cpu: id });
  });
}

export type Layout = 'shared' | 'own core';

/**
 * Puts the processes in a layout (Linux `taskset`, every thread). "shared": all may run
 * on both CPUs. "own core": the load generator and the upstream (`base`) on CPU 0, the
 * hops under test on CPU 1, as a gateway runs on a host of its own in a deployment.
 */
export function applyLayout(layout: Layout, base: readonly number[], hops: readonly number[]): void {
  const own = layout === 'own core';
  for (const pid of base) pin(pid, own ? '0' : '0,1');
  for (const pid of hops) pin(pid, own ? '1' : '0,1');
}

function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * The AWS-shaped benches' processes: the upstream (`--role upstream`), Airlock routed to
 * it with `policyText` and the `resources` YAML for its URL, and the bare proxy in front of it.
 */
export async function startHttpHops(
  script: string,
  dirPrefix: string,
  policyText: string,
  resources: (upstreamUrl: string) => string,
): Promise<{
  dir: string;
  up: Child;
  al: Child;
  px: Child;
  agent: { accessKeyId: string; secretAccessKey: string };
}> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const up = await startChild(script, 'upstream');
  const cfg = writeBenchConfig(dir, policyText, resources(String(up.msg.url)));
  const al = await startChild(script, 'airlock', { BENCH_CONFIG: cfg });
  const px = await startChild(script, 'proxy', { BENCH_UPSTREAM: String(up.msg.url) });
  const agent = al.msg.agent as { accessKeyId: string; secretAccessKey: string };
  return { dir, up, al, px, agent };
}

/**
 * The `airlock` role: starts Airlock from the config in BENCH_CONFIG (with static
 * upstream credentials when given), creates the bench agent and reports
 * `{url, apiUrl, databases, agent, approver?}` to the parent.
 */
export async function runAirlockChild(
  upstream?: {
    accessKeyId: string;
    secretAccessKey: string;
  },
  /** Also create this approver (name and groups) and report its API token as `approver`. */
  approver?: { name: string; groups: string[] },
): Promise<void> {
  const { startAirlock, openMasterKey } = await import('../../src/app.js');
  const { loadConfig } = await import('../../src/config/load.js');
  const { createAgent, createApprover } = await import('../../src/admin.js');
  const { staticCredentials } = await import('../../src/upstream/aws-credentials.js');
  const config = loadConfig(process.env.BENCH_CONFIG ?? '');
  const airlock = await startAirlock(config, {
    ...(upstream === undefined ? {} : { credentials: staticCredentials(upstream) }),
    log: () => undefined,
  });
  const agent = await createAgent(airlock.store, openMasterKey(config), 'bench-agent');
  const token =
    approver === undefined
      ? undefined
      : (await createApprover(airlock.store, approver.name, approver.groups)).token;
  answerCpuQueries();
  // Exit normally on kill, so a --cpu-prof (BENCH_PROF=DIR) profile gets written.
  process.once('SIGTERM', () => {
    airlock.close().finally(() => process.exit(0));
  });
  process.send?.({
    url: airlock.awsUrl,
    apiUrl: airlock.apiUrl,
    databases: airlock.databases,
    agent,
    approver: token,
  });
}

/** Writes a one-policy Airlock config for a bench into `dir`; `rest` is appended YAML. */
export function writeBenchConfig(dir: string, policyText: string, rest: string): string {
  const policy = join(dir, 'bench.cedar');
  writeFileSync(policy, policyText);
  const cfg = join(dir, 'airlock.yaml');
  writeFileSync(
    cfg,
    `data_dir: ${dir}/airlock-data\nlisten:\n  aws: 127.0.0.1:0\n  api: 127.0.0.1:0\naws:\n  account_id: "123456789012"\npolicies:\n  - ${policy}\n${rest}`,
  );
  return cfg;
}

/**
 * The `proxy` role: a bare Node reverse proxy (no auth, no policy, no ledger). It shows
 * what one extra Node HTTP hop costs on this machine, so Airlock's own share can be told apart.
 */
export function runBareProxy(upstreamUrl: string): void {
  const target = new URL(upstreamUrl);
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
    answerCpuQueries();
    const { port } = server.address() as { port: number };
    process.send?.({ url: `http://127.0.0.1:${port}` });
  });
}
