/** Reads a password for `approvers set-password`: AIRLOCK_PASSWORD, else the first line of stdin. */
import { createInterface } from 'node:readline';
import { CliError } from './cli-error.js';

export async function readPassword(): Promise<string> {
  const env = process.env.AIRLOCK_PASSWORD;
  if (env !== undefined && env !== '') return env;
  if (process.stdin.isTTY) process.stderr.write('password (typed input is echoed; piping it is safer): ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    if (line.length > 0) return line;
  }
  throw new CliError('no password given: pipe it on stdin or set AIRLOCK_PASSWORD', 2);
}
