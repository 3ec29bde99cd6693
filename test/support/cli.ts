/**
 * The installed `airlock` bin as a child process: one-shot commands, and `serve` as a
 * long-running process (detached, in its own process group, so a test can always end it).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROCESS_START_MS } from './timing.js';

const BIN = resolve('bin/airlock.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function airlockCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((res) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env };
    delete e.AIRLOCK_CONFIG;
    delete e.AIRLOCK_MASTER_KEY;
    execFile(process.execPath, [BIN, ...args], { env: e, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface Served {
  readonly apiUrl: string;
  readonly awsUrl: string;
  /** SIGTERM, then the exit code (SIGKILL of the group after 15 s). */
  stop(): Promise<number | null>;
}

/** Starts `airlock serve`; resolves once it listens, rejects with its stderr if it exits first. */
export function serveCli(config: string): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [BIN, '--config', config, 'serve'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      kill(child);
      rej(new Error(`serve did not start in ${PROCESS_START_MS / 1000} s: ${stderr}`));
    }, PROCESS_START_MS);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /AWS front (\S+), API (\S+)/.exec(stderr);
      if (m?.[1] === undefined || m[2] === undefined) return;
      clearTimeout(timer);
      const [awsUrl, apiUrl] = [m[1], m[2]];
      res({
        awsUrl,
        apiUrl,
        async stop() {
          child.kill('SIGTERM');
          const killer = setTimeout(() => kill(child), 15_000);
          const code = await exited;
          clearTimeout(killer);
          return code;
        },
      });
    });
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`serve exited ${code}: ${stderr}`));
    });
  });
}

function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A directory with airlock.yaml (the gateway test policy, ports 0) and any extra YAML. */
export function writeCliConfig(extraYaml = ''): { dir: string; config: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'airlock.yaml');
  writeFileSync(
    config,
    `data_dir: ${dataDir}
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "123456789012"
policies:
  - ${resolve('test/fixtures/policies/gateway.cedar')}
${extraYaml}`,
  );
  return { dir, config, dataDir };
}
