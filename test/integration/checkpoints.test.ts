/**
 * Signed checkpoints with real processes: `airlock serve` publishes them (at start,
 * at the interval, on SIGTERM); `airlock audit verify --checkpoints` catches a cut
 * tail (rows deleted by a second SQLite connection, head row moved to match, so the
 * chain alone still verifies), a deleted and recreated data directory, and a chain
 * rebuilt under a new master key; `serve` refuses to start on each, with the fix.
 */
import assert from 'node:assert/strict';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, openStore } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { MasterKey } from '../../src/core/secrets.js';
import type { Store } from '../../src/ledger/store.js';
import { airlockCli, serveCli, writeCliConfig } from '../support/cli.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(intervalSeconds = 3600) {
  const made = writeCliConfig(
    `audit:\n  checkpoints:\n    dir: checkpoints\n    interval_seconds: ${intervalSeconds}\n`,
  );
  dirs.push(made.dir);
  const cfg = ['--config', made.config];
  const cpDir = join(made.dir, 'checkpoints');
  const checkpoints = () =>
    readdirSync(cpDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  return { ...made, cfg, cpDir, checkpoints };
}

/**
 * One ledger write through a connection of its own, as a CLI command makes it (in-process:
 * a child process per write would only add start-up time; verify and serve are real processes).
 */
async function write(config: string, fn: (store: Store, key: MasterKey) => Promise<unknown>): Promise<void> {
  const cfg = loadConfig(config);
  const key = openMasterKey(cfg);
  const store = openStore(cfg, key);
  try {
    await fn(store, key);
  } finally {
    await store.close();
  }
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** Cuts the ledger back to `keep` entries the way an intruder would: rows and head row together. */
function cutTail(dataDir: string, keep: number): void {
  const db = new Database(join(dataDir, 'airlock.sqlite'));
  try {
    db.prepare('DELETE FROM ledger WHERE seq > ?').run(keep);
    const last = db.prepare('SELECT seq, hash FROM ledger WHERE seq = ?').get(keep) as {
      seq: number;
      hash: string;
    };
    db.prepare('UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1').run(last.seq, last.hash);
  } finally {
    db.close();
  }
}

describe('signed ledger checkpoints (real serve and CLI)', () => {
  it('serve publishes at start, on the interval and on SIGTERM; verify checks each', async () => {
    const s = setup(1);
    await write(s.config, (st) => createApprover(st, 'alice', ['dba']));
    const served = await serveCli(s.config);
    assert.deepEqual(
      s.checkpoints().map((f) => f.slice(0, 23)),
      ['checkpoint-000000000001'],
    );
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    // The interval (1 s) picks up the entry another connection wrote.
    for (let i = 0; i < 50 && s.checkpoints().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.checkpoints()[1]?.slice(0, 23), 'checkpoint-000000000002');
    await write(s.config, (st, key) => createAgent(st, key, 'bot-two'));
    assert.equal(await served.stop(), 0);
    assert.equal(s.checkpoints().at(-1)?.slice(0, 23), 'checkpoint-000000000003', 'published on shutdown');
    assert.ok(readdirSync(s.cpDir).some((f) => /^checkpoint-key-[0-9a-f]{32}\.pem$/.test(f)));
    const out = await ok(airlockCli([...s.cfg, 'audit', 'verify']));
    assert.match(out, /ledger intact: 3 entries/);
    assert.match(out, /checkpoints match: 3 in /);
    // A verifier holding only the directory and the public key pins that key.
    const pem = join(s.cpDir, readdirSync(s.cpDir).find((f) => f.endsWith('.pem')) ?? '');
    await ok(airlockCli([...s.cfg, 'audit', 'verify', '--checkpoints', s.cpDir, '--public-key', pem]));
  });

  it('catches a cut tail that the chain alone does not show, and serve refuses to start on it', async () => {
    const s = setup();
    await write(s.config, (st) => createApprover(st, 'alice', ['dba']));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-two'));
    const served = await serveCli(s.config);
    assert.equal(await served.stop(), 0);
    cutTail(s.dataDir, 1);
    const r = await airlockCli([...s.cfg, 'audit', 'verify', '--checkpoints', s.cpDir]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /ledger intact: 1 entries/, 'the chain alone cannot see the cut');
    assert.match(
      r.stdout,
      /checkpoint-000000000003-\d+\.json: records entry 3 .* the ledger ends at entry 1: its tail was cut/,
    );
    const refused = await airlockCli([...s.cfg, 'serve']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not match the last checkpoint/);
    assert.match(refused.stderr, /restore .* from a backup .* move the checkpoint directory aside \(mv /);
    // Accepting the shorter chain knowingly: move the directory aside, and serve starts.
    renameSync(s.cpDir, `${s.cpDir}.old`);
    const again = await serveCli(s.config);
    assert.equal(await again.stop(), 0);
    await ok(airlockCli([...s.cfg, 'audit', 'verify']));
  });

  it('catches a deleted and recreated data directory (new master key, new checkpoint key)', async () => {
    const s = setup();
    await write(s.config, (st) => createApprover(st, 'alice', ['dba']));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    const served = await serveCli(s.config);
    assert.equal(await served.stop(), 0);
    rmSync(s.dataDir, { recursive: true, force: true });
    await write(s.config, (st, key) => createAgent(st, key, 'bot-new'));
    const r = await airlockCli([...s.cfg, 'audit', 'verify']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /ledger intact: 1 entries/);
    assert.match(r.stdout, /records entry 2 .* the ledger ends at entry 1/);
    assert.match(
      r.stdout,
      /the data directory has no checkpoint.key, but checkpoint-000000000002-\d+\.json was signed by key/,
    );
    const refused = await airlockCli([...s.cfg, 'serve']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not match the last checkpoint/);
  });

  it('catches a chain rebuilt under a new master key (same checkpoint key), and a swapped master key', async () => {
    const s = setup();
    await write(s.config, (st) => createApprover(st, 'alice', ['dba']));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    const served = await serveCli(s.config);
    assert.equal(await served.stop(), 0);
    // Same master key swapped: the ledger no longer verifies under it.
    const key = join(s.dataDir, 'master.key');
    renameSync(key, `${key}.orig`);
    const swapped = await airlockCli([...s.cfg, 'serve']);
    assert.equal(swapped.code, 1);
    assert.match(swapped.stderr, /not written under this master key .*Fix: start with the master key/);
    // Rebuilt: a fresh store and master key, the same history replayed, longer than before.
    for (const f of readdirSync(s.dataDir)) if (f.startsWith('airlock.sqlite')) rmSync(join(s.dataDir, f));
    rmSync(key, { force: true });
    await write(s.config, (st) => createApprover(st, 'alice', ['dba']));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    await write(s.config, (st, key) => createAgent(st, key, 'bot-two'));
    const r = await airlockCli([...s.cfg, 'audit', 'verify']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /ledger intact: 3 entries/);
    assert.match(
      r.stdout,
      /entry 2 has hash [0-9a-f]{16}…, the checkpoint says [0-9a-f]{16}…: the ledger was rewritten or restarted under another master key/,
    );
    const refused = await airlockCli([...s.cfg, 'serve']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /entry 2 has hash/);
  });

  it('reports a missing checkpoint directory, and config errors with file:line', async () => {
    const s = setup();
    await write(s.config, (st, key) => createAgent(st, key, 'bot-one'));
    const r = await airlockCli([...s.cfg, 'audit', 'verify', '--checkpoints', join(s.dir, 'nowhere')]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /nowhere: no such checkpoint directory/);
    const bad = writeCliConfig('audit:\n  checkpoints:\n    dir: data/cps\n    interval_seconds: 0\n');
    dirs.push(bad.dir);
    const p = await airlockCli(['--config', bad.config, 'policy', 'check']);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /airlock\.yaml:11:10: audit\.checkpoints\.dir must be outside data_dir/);
    assert.match(p.stderr, /airlock\.yaml:12:23: interval_seconds must be an integer from 1 to 86400/);
  });
});
