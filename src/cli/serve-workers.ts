/**
 * `airlock serve --workers N`: N gateway processes on one host, sharing the listeners
 * (node:cluster; the primary accepts and hands connections to workers round-robin) and the
 * store. What must be alike between workers already lives in the store: holds and retry
 * dedupe, grants, console sessions, the sign-in throttle, cancel keys, and which process
 * runs the expiry sweep (ledger/coordination.ts, access/coordinator.ts). The primary only
 * supervises: it starts one worker first (so first-run files, the master key, a generated
 * certificate and the checkpoint key, are made once), then the rest; prints the addresses
 * once every worker listens; restarts a worker that dies; and on SIGTERM or SIGINT stops
 * every worker with the drain of a single `serve` (docs/DEPLOY.md, "Workers").
 *
 * Each worker binds the same listeners in the same order, so with port 0 the primary hands
 * every worker the same ephemeral ports (cluster shares one handle per address:port:index).
 */
import cluster, { type Worker } from 'node:cluster';

/** What a worker tells the primary once its listeners are up. */
export interface WorkerReady {
  readonly type: 'airlock-ready';
  readonly lines: readonly string[];
}

const RESTART_DELAY_MS = 1000;

/** The primary's side: forks, supervises, stops. Resolves with the exit code. */
export async function superviseWorkers(count: number, write: (line: string) => void): Promise<number> {
  let stopping = false;
  const workers = new Set<Worker>();
  const fork = (first: boolean): Promise<readonly string[]> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork({ AIRLOCK_WORKER_FIRST: first ? '1' : '0' });
      workers.add(w);
      let ready = false;
      w.on('message', (m: Partial<WorkerReady>) => {
        if (m?.type !== 'airlock-ready') return;
        ready = true;
        resolve(m.lines ?? []);
      });
      w.once('exit', (code, signal) => {
        workers.delete(w);
        if (!ready)
          return reject(new Error(`worker ${w.process.pid} exited (${signal ?? code}) before it listened`));
        if (stopping) return;
        write(`airlock: worker ${w.process.pid} exited (${signal ?? code}); starting another`);
        setTimeout(() => {
          if (!stopping) fork(false).catch((e: unknown) => write(`airlock: ${(e as Error).message}`));
        }, RESTART_DELAY_MS).unref();
      });
    });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let lines: readonly string[];
  try {
    lines = await fork(true);
    await Promise.all(Array.from({ length: count - 1 }, () => fork(false)));
  } catch (err) {
    stopping = true;
    for (const w of workers) w.process.kill('SIGTERM');
    write(`airlock: ${(err as Error).message}`);
    return 1;
  }
  for (const l of lines) write(l);
  write(`airlock: ${count} workers (pids ${[...workers].map((w) => w.process.pid).join(', ')})`);
  const signal = await stopped;
  stopping = true;
  write(`airlock: ${signal}: stopping ${workers.size} workers`);
  const exits = [...workers].map(
    (w) => new Promise<number>((resolve) => w.once('exit', (code) => resolve(code ?? 1))),
  );
  // Each worker drains as a single `serve` does (it has the grace period to itself).
  for (const w of workers) w.process.kill('SIGTERM');
  const codes = await Promise.all(exits);
  return codes.every((c) => c === 0) ? 0 : 1;
}

/** A worker's side: tells the primary it listens, with the lines a single `serve` prints. */
export function reportReady(lines: readonly string[]): void {
  const ready: WorkerReady = { type: 'airlock-ready', lines };
  process.send?.(ready);
}

/** A worker's last step: its IPC channel to the primary would keep it alive otherwise. */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
}

export const isWorker = (): boolean => cluster.isWorker;
/** Whether this worker is the first one (it runs the startup checks; the others would repeat them). */
export const isFirstWorker = (): boolean => process.env.AIRLOCK_WORKER_FIRST === '1';
