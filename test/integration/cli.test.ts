/**
 * The `airlock` command as a user runs it (the installed bin, a child process):
 * identities, the approve flow over the API, audit show/verify, and the errors a
 * broken config or policy produces.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { type Harness, startHarness, waitForPending } from '../support/harness.js';

const BIN = resolve('bin/airlock.js');

function airlock(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('airlock CLI', () => {
  let h: Harness;
  let cfg: string[];
  before(async () => {
    // Three CLI processes run while a write is held: on a loaded machine each can take
    // seconds to start, so the hold outlasts them (the default window is 20 s).
    h = await startHarness({ holdWindowSeconds: 55 });
    cfg = ['--config', join(h.dir, 'airlock.yaml')];
  });
  after(async () => {
    await h.close();
  });

  it('creates an agent with a unique key pair and never lists the secret', async () => {
    const a = await airlock([...cfg, 'agents', 'create', 'report-bot', '--json']);
    assert.equal(a.code, 0, a.stderr);
    const created = JSON.parse(a.stdout) as { name: string; accessKeyId: string; secretAccessKey: string };
    assert.equal(created.name, 'report-bot');
    assert.match(created.accessKeyId, /^ALAK[A-Z2-7]{16}$/);
    assert.equal(created.secretAccessKey.length, 40);
    assert.notEqual(created.accessKeyId, h.agent.accessKeyId);
    const list = await airlock([...cfg, 'agents', 'list', '--json']);
    assert.ok(!list.stdout.includes(created.secretAccessKey));
    assert.ok(list.stdout.includes('report-bot'));
    const dup = await airlock([...cfg, 'agents', 'create', 'report-bot']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
  });

  it('approves over the API from the CLI and shows the six-item record', async () => {
    const env = { AIRLOCK_URL: h.airlock.apiUrl, AIRLOCK_TOKEN: h.approvers.alice ?? '' };
    const held = h
      .client({ reason: 'CLI test write' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'cli-1' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const id = String(pending.id);
    const list = await airlock(['approvals', 'list'], env);
    assert.match(list.stdout, new RegExp(id));
    const show = await airlock(['approvals', 'show', id], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /CLI test write/);
    assert.match(show.stdout, /dynamodb:PutItem/);
    const ok = await airlock(['approvals', 'approve', id, '--comment', 'checked the item'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /approved/);
    await held;
    await new Promise((r) => setTimeout(r, 50));
    const audit = await airlock([...cfg, 'audit', 'show', id, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const rec = JSON.parse(audit.stdout) as Record<string, unknown>;
    for (const k of ['requester', 'request', 'reason', 'decisions', 'grant', 'actions'])
      assert.ok(k in rec, k);
    assert.equal((rec.decisions as { channel: string }[])[0]?.channel, 'cli');
    assert.equal((rec.actions as unknown[]).length, 1);
  });

  it('fails with a one-line fix when the API env is missing', async () => {
    const r = await airlock(['approvals', 'list'], { AIRLOCK_URL: '', AIRLOCK_TOKEN: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /AIRLOCK_URL is not set/);
  });

  it('audit verify passes, then names the first edited entry', async () => {
    const ok = await airlock([...cfg, 'audit', 'verify']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /intact/);
    const db = new Database(join(h.config.dataDir, 'airlock.sqlite'));
    const row = db.prepare("SELECT seq, body FROM ledger WHERE kind = 'approval.decided' LIMIT 1").get() as {
      seq: number;
      body: string;
    };
    db.prepare('UPDATE ledger SET body = ? WHERE seq = ?').run(
      row.body.replace('checked the item', 'LGTM'),
      row.seq,
    );
    db.close();
    const bad = await airlock([...cfg, 'audit', 'verify']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, new RegExp(`entry ${row.seq}: edited`));
  });
});

describe('refusing to start on a broken config or policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cfg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names file:line of a bad config key', async () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(
      p,
      `data_dir: ${dir}/d\naws:\n  account_id: "123456789012"\npolicies:\n  - x.cedar\nholds:\n  window_secs: 5\n`,
    );
    const r = await airlock(['--config', p, 'policy', 'check']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${p.replace(/[.]/g, '\\.')}:7:3: unknown key holds.window_secs`));
  });

  it('names file:line of a broken policy', async () => {
    const pol = join(dir, 'broken.cedar');
    writeFileSync(
      pol,
      '@id("ok")\npermit (principal, action, resource);\n\npermit (principal, action resource);\n',
    );
    const p = join(dir, 'ok.yaml');
    writeFileSync(p, `data_dir: ${dir}/d\naws:\n  account_id: "123456789012"\npolicies:\n  - broken.cedar\n`);
    const r = await airlock(['--config', p, 'policy', 'check']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${pol.replace(/[.]/g, '\\.')}:4:`));
    const serve = await airlock(['--config', p, 'serve']);
    assert.equal(serve.code, 1);
  });
});
