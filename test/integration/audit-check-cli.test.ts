/**
 * `airlock audit check` as CI runs it: the installed bin in a child process over a
 * generated ledger; the exit-code gate, formats, config thresholds, a broken ledger,
 * and both example imports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { writeScenarioConfig } from '../support/audit-ledger.js';

const BIN = resolve('bin/airlock.js');

function airlock(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const env = { ...process.env };
    delete env.AIRLOCK_CONFIG;
    execFile(process.execPath, [BIN, ...args], { env, cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('airlock audit check (CLI)', () => {
  let dir: string;
  let cfg: string[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-check-cli-'));
    cfg = ['--config', await writeScenarioConfig(dir)];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the table and exits 4 when more than the allowed share fails', async () => {
    const r = await airlock([...cfg, 'audit', 'check']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /ap-good\s+approved\s+billing-bot(\s+ok){6}/);
    assert.match(r.stdout, /ap-shared\s+approved\s+shared-ops\s+FAIL/);
    assert.match(r.stdout, /carol .*YES/);
    assert.match(r.stdout, /gate FAILED/);
  });

  it('exits 0 when the threshold allows the share, by flag or by config', async () => {
    const flag = await airlock([...cfg, 'audit', 'check', '--max-fail-share', '0.9']);
    assert.equal(flag.code, 0, flag.stderr);
    assert.match(flag.stdout, /gate PASSED/);
    const cfgPath = cfg[1] as string;
    const lenient = join(dir, 'lenient.yaml');
    writeFileSync(lenient, `${readFileSync(cfgPath, 'utf8')}audit_check:\n  max_fail_share: 0.95\n`);
    const viaConfig = await airlock(['--config', lenient, 'audit', 'check']);
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    const overridden = await airlock(['--config', lenient, 'audit', 'check', '--max-fail-share', '0.1']);
    assert.equal(overridden.code, 4);
  });

  it('filters: one good agent over a day passes the gate', async () => {
    const r = await airlock([
      ...cfg,
      'audit',
      'check',
      '--agent',
      'billing-bot',
      '--since',
      '2026-03-02T00:00:00Z',
      '--resource',
      'table/orders',
      '--format',
      'json',
    ]);
    const report = JSON.parse(r.stdout) as {
      records: { record: { id: string } }[];
      filter: { agent: string };
    };
    assert.equal(report.filter.agent, 'billing-bot');
    assert.ok(report.records.every((s) => s.record.id !== 'ap-shared'));
    const day = await airlock([
      ...cfg,
      'audit',
      'check',
      '--since',
      '2026-03-02T00:00:00Z',
      '--agent',
      'nobody',
    ]);
    assert.equal(day.code, 0, 'nothing selected, nothing failing');
  });

  it('--format json carries every record, named reasons and per-approver metrics', async () => {
    const r = await airlock([...cfg, 'audit', 'check', '--format', 'json', '--min-review-seconds', '5']);
    assert.equal(r.code, 4);
    const report = JSON.parse(r.stdout) as {
      thresholds: { minReviewSeconds: number };
      totals: { scored: number; orphanActions: number };
      approvers: { approver: string; rubberStamp: boolean }[];
      records: { record: { id: string }; items: { item: string; findings: { code: string }[] }[] }[];
    };
    assert.equal(report.thresholds.minReviewSeconds, 5);
    assert.equal(report.totals.scored, 23);
    assert.equal(report.totals.orphanActions, 3);
    const fast = report.records.find((s) => s.record.id === 'ap-fast');
    assert.deepEqual(
      fast?.items.flatMap((i) => i.findings.map((f) => f.code)),
      ['decisions.rubber-stamp-fast'],
      '4 s is still under 5 s',
    );
    assert.equal(report.approvers.find((a) => a.approver === 'carol')?.rubberStamp, true);
  });

  it('--format html --out writes one file and says where', async () => {
    const out = join(dir, 'report.html');
    const r = await airlock([...cfg, 'audit', 'check', '--format', 'html', '--out', out]);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /wrote .*report\.html — 20\/23 failing, gate FAILED/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('usage errors exit 2 with the fix', async () => {
    const fmt = await airlock([...cfg, 'audit', 'check', '--format', 'pdf']);
    assert.equal(fmt.code, 2);
    assert.match(fmt.stderr, /--format must be text, json or html/);
    const share = await airlock([...cfg, 'audit', 'check', '--max-fail-share', 'lots']);
    assert.equal(share.code, 2);
    assert.match(share.stderr, /--max-fail-share must be a number from 0 to 1/);
    const half = await airlock([...cfg, 'audit', 'check', '--import', 'x.csv']);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--import FILE and --mapping MAP\.yaml go together/);
    const since = await airlock([...cfg, 'audit', 'check', '--since', 'someday']);
    assert.equal(since.code, 2);
  });

  it('refuses to score a ledger whose hash chain is broken (exit 3)', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'airlock-check-broken-'));
    try {
      const path = await writeScenarioConfig(copy);
      const db = new Database(join(copy, 'data', 'airlock.sqlite'));
      // Rewrite history: make the rubber stamp look like a long review.
      db.prepare(
        'UPDATE ledger SET body = replace(body, \'"approver":"carol"\', \'"approver":"alice"\') WHERE kind = \'approval.decided\'',
      ).run();
      db.close();
      const r = await airlock(['--config', path, 'audit', 'check']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /ledger BROKEN at entry \d+ \(edited\)/);
      assert.equal(r.stdout, '');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('scores both example exports without an Airlock config', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'airlock-check-noconfig-'));
    try {
      const ex = (f: string) => resolve('examples/workflows', f);
      const jira = await airlock(
        [
          'audit',
          'check',
          '--import',
          ex('jira-slack.csv'),
          '--mapping',
          ex('jira-slack.mapping.yaml'),
          '--format',
          'json',
        ],
        empty,
      );
      assert.equal(jira.code, 4, jira.stderr);
      const j = JSON.parse(jira.stdout) as { totals: { scored: number; failing: number } };
      assert.deepEqual([j.totals.scored, j.totals.failing], [9, 9]);
      const snow = await airlock(
        [
          'audit',
          'check',
          '--import',
          ex('servicenow.jsonl'),
          '--mapping',
          ex('servicenow.mapping.yaml'),
          '--max-fail-share',
          '0.8',
        ],
        empty,
      );
      assert.equal(snow.code, 0, snow.stderr);
      assert.match(snow.stdout, /CHG0031001\s+approved\s+etl-bot(\s+ok){6}/);
      assert.match(snow.stdout, /ev-0007\s+actions\.unapproved-action/);
      const missing = await airlock(
        ['audit', 'check', '--import', ex('nope.csv'), '--mapping', ex('jira-slack.mapping.yaml')],
        empty,
      );
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /nope\.csv: cannot read/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
