/**
 * The CLI obeys the same guards as the console: `approvals approve` needs a prior
 * `show` (which starts the clock), the tier's minimum review, a comment and
 * `--confirm RESOURCE`. Also `approvers set-password` and sign-in with it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { signIn, startGuardedHarness } from '../support/console.js';
import { type Harness, waitForPending } from '../support/harness.js';

const BIN = resolve('bin/airlock.js');
const REVIEW = 6;

function airlock(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

describe('CLI under decision-quality guards', () => {
  let h: Harness;
  before(async () => {
    // A child process takes a second or more to start under load: a 6 s review keeps
    // the "too early" step early however slow the machine is.
    h = await startGuardedHarness({ minReviewSeconds: REVIEW });
  });
  after(async () => {
    await h.close();
  });

  it('approve needs show first, then the minimum review, a comment and --confirm', async () => {
    const env = { AIRLOCK_URL: h.airlock.apiUrl, AIRLOCK_TOKEN: h.approvers.alice ?? '' };
    const held = h
      .client({ reason: 'INC-5 CLI path' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'cli-g-1' } } }));
    const id = String((await waitForPending(h, h.approvers.alice ?? '', 'PutItem')).id);
    const args = ['approvals', 'approve', id, '--comment', 'checked INC-5', '--confirm', 'orders'];
    const blind = await airlock(args, env);
    assert.equal(blind.code, 1);
    assert.match(blind.stderr, /airlock approvals show/);
    const shownBy = Date.now();
    const show = await airlock(['approvals', 'show', id], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /risk +critical: approving needs 6s review .*--comment, --confirm orders/);
    const early = await airlock(args, env);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /need 6s of review.*HTTP 409/);
    await new Promise((r) => setTimeout(r, Math.max(0, shownBy + REVIEW * 1000 + 200 - Date.now())));
    const noConfirm = await airlock(['approvals', 'approve', id, '--comment', 'checked INC-5'], env);
    assert.match(noConfirm.stderr, /--confirm orders/);
    const ok = await airlock(args, env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /approved/);
    await held;
  });

  it('sets a console password from stdin; the approver can then sign in', async () => {
    const cfg = ['--config', join(h.dir, 'airlock.yaml')];
    const short = await airlock([...cfg, 'approvers', 'set-password', 'bob'], {}, 'short\n');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 12/);
    const missing = await airlock(
      [...cfg, 'approvers', 'set-password', 'nobody'],
      {},
      'long enough passphrase\n',
    );
    assert.match(missing.stderr, /no active local approver named nobody/);
    const set = await airlock([...cfg, 'approvers', 'set-password', 'bob'], {}, 'long enough passphrase\n');
    assert.equal(set.code, 0, set.stderr);
    const s = await signIn(h, 'bob', 'long enough passphrase');
    assert.equal((await s.call('GET', '/v1/session')).body.approver, 'bob');
  });
});
