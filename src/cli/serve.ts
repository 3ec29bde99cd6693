/**
 * `airlock serve`: one gateway process, or with `--workers N` a primary that supervises N
 * of them (serve-workers.ts). SIGTERM or SIGINT starts the drain of issue 8: the fronts stop
 * accepting, forwarded requests get the grace period to finish and be recorded.
 */

import { startAirlock } from '../app.js';
import type { AirlockConfig } from '../config/config.js';
import { createLogger, type LogFormat, type LogLevel } from '../ops/log.js';
import { CliError } from './cli-error.js';
import { isFirstWorker, isWorker, leaveCluster, reportReady, superviseWorkers } from './serve-workers.js';

/** How long a SIGTERM waits for forwarded requests to finish (shorter than the usual 30 s kill timeout). */
const SHUTDOWN_GRACE_MS = 10_000;
const MAX_WORKERS = 64;

export async function serve(
  cfg: AirlockConfig,
  opts: { workers: number; logFormat: LogFormat; logLevel: LogLevel },
): Promise<number> {
  if (opts.workers > MAX_WORKERS) throw new CliError(`--workers must be at most ${MAX_WORKERS}`, 2);
  const say = (l: string) => process.stderr.write(`${l}\n`);
  if (opts.workers > 1 && !isWorker()) return superviseWorkers(opts.workers, say);
  const logger = createLogger({ format: opts.logFormat, level: opts.logLevel });
  const running = await startAirlock(cfg, {
    logger,
    // Workers share one config: the first reports what the checks find, once.
    startupChecks: !isWorker() || isFirstWorker(),
    processMetrics: true,
  });
  // Listen for the signal before saying we are up: a supervisor may send it at once. The
  // first one starts the drain; a second (Ctrl-C reaches the workers and their primary,
  // which then sends SIGTERM) must not end the process mid-drain, so the handlers stay.
  const stopped = new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  const lines = [`airlock: AWS front ${running.awsUrl}, API ${running.apiUrl}`];
  for (const [name, a] of Object.entries(running.databases))
    lines.push(`airlock: Postgres front for ${name} on ${a.host}:${a.port}`);
  if (running.mcpUrl !== undefined) lines.push(`airlock: MCP front ${running.mcpUrl}/mcp/SERVER`);
  if (isWorker()) reportReady(lines);
  else for (const l of lines) say(l);
  const signal = await stopped;
  say(`airlock: ${signal}: finishing in-flight requests (up to ${SHUTDOWN_GRACE_MS / 1000} s)`);
  await running.shutdown(SHUTDOWN_GRACE_MS);
  say('airlock: stopped');
  leaveCluster();
  return 0;
}
