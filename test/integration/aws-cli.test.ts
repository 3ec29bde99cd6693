/**
 * The unmodified AWS CLI (Debian's awscli v2, installed by .ci/run when missing)
 * against Airlock: `--endpoint-url` plus the Airlock-issued key; the reason is
 * added by the documented plugin (examples/aws-cli-plugin).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Harness, REGION, startHarness, waitForPending } from '../support/harness.js';

const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

describe('AWS CLI through Airlock', () => {
  let h: Harness;
  let env: Record<string, string>;
  before(async () => {
    h = await startHarness();
    const awsConfig = join(h.dir, 'aws-config');
    writeFileSync(
      awsConfig,
      `[default]\nregion = ${REGION}\n[plugins]\ncli_legacy_plugin_path = ${resolve('examples/aws-cli-plugin')}\nairlock_reason = airlock_reason\n`,
    );
    env = {
      PATH: process.env.PATH ?? '',
      HOME: h.dir,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: join(h.dir, 'none'),
      AWS_ACCESS_KEY_ID: h.agent.accessKeyId,
      AWS_SECRET_ACCESS_KEY: h.agent.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      // AWS CLI v1 (pip) finds plugins on the Python path; v2 reads cli_legacy_plugin_path.
      PYTHONPATH: resolve('examples/aws-cli-plugin'),
      PYTHONDONTWRITEBYTECODE: '1',
    };
  });
  after(async () => {
    await h.close();
  });

  const aws = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(
        AWS,
        [...args, '--endpoint-url', h.airlock.awsUrl, '--output', 'json'],
        { env: { ...env, ...extra } },
        (err, stdout, stderr) =>
          res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('lists tables and reads an item', async () => {
    const r = await aws(['dynamodb', 'list-tables']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { TableNames: string[] }).TableNames.includes('orders'));
    const g = await aws(['dynamodb', 'get-item', '--table-name', 'orders', '--key', '{"id":{"S":"nope"}}']);
    assert.equal(g.code, 0, g.stderr);
  });

  it('is denied DeleteTable with the AWS error shape', async () => {
    const r = await aws(['dynamodb', 'delete-table', '--table-name', 'orders']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /AccessDeniedException/);
    assert.match(r.stderr, /no-table-deletes/);
  });

  it('holds put-item until approved; the reason arrives through the plugin', async () => {
    const put = aws(
      ['dynamodb', 'put-item', '--table-name', 'orders', '--item', '{"id":{"S":"cli-aws-1"}}'],
      {
        AIRLOCK_REASON: 'INC-7 restore order from backup',
      },
    );
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    assert.equal(pending.reason, 'INC-7 restore order from backup');
    await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers.alice ?? '');
    const ok = await h.api('POST', `/v1/approvals/${String(pending.id)}/approve`, h.approvers.alice ?? '', {
      comment: 'INC-7',
    });
    assert.equal(ok.status, 200);
    const r = await put;
    assert.equal(r.code, 0, r.stderr);
    const g = await aws([
      'dynamodb',
      'get-item',
      '--table-name',
      'orders',
      '--key',
      '{"id":{"S":"cli-aws-1"}}',
    ]);
    assert.match(g.stdout, /cli-aws-1/);
  });
});
