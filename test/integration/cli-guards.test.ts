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
const REVIEW = 2;

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
    h = await startGuardedHarness({ minReviewSeconds: REVIEW });
  });
  after(async () => {
    await h.close();
  });

  it('approve needs show first (which starts the clock), the minimum review, a comment and --confirm', async () => {
    const env = { AIRLOCK_URL: h.airlock.apiUrl, AIRLOCK_TOKEN: h.approvers.alice ?? '' };
    const held = h
      .client({ reason: 'INC-5 CLI path' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'cli-g-1' } } }));
    const id = String((await waitForPending(h, h.approvers.alice ?? '', 'PutItem')).id);
    const args = ['approvals', 'approve', id, '--comment', 'checked INC-5', '--confirm', 'orders'];
    const blind = await airlock(args, env);
    assert.equal(blind.code, 1);
    assert.match(blind.stderr, /airlock approvals show/);
    const beforeShow = Date.now();
    const show = await airlock(['approvals', 'show', id], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /risk +critical: approving needs 2s review .*--comment, --confirm orders/);
    // The clock started when the server first showed it to alice: at the CLI's `show`.
    // (A "too early" CLI approve is not asserted here: starting a child process can
    // itself take longer than a short review under load; console-api.test.ts covers it.)
    const viewer = (await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? '')).body.viewer as {
      firstShownAt: string;
    };
    assert.ok(Date.parse(viewer.firstShownAt) >= beforeShow, 'the CLI show started the clock');
    const readyAt = Date.parse(viewer.firstShownAt) + REVIEW * 1000 + 200;
    await new Promise((r) => setTimeout(r, Math.max(0, readyAt - Date.now())));
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
