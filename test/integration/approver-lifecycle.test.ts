/**
 * Approvers' lifecycle against a running gateway: revoked from another process (the
 * CLI) or over the API, its token and console session stop on the next request, and
 * its vote on a still-pending approval stops counting toward quorum. Group changes
 * and token rotation are ledger entries; `audit verify` passes, and catches a hand
 * edit of the approvers table.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { createApprover } from '../../src/admin.js';
import { hashPassword } from '../../src/api/passwords.js';
import { airlockCli } from '../support/cli.js';
import { signIn } from '../support/console.js';
import { type Harness, startHarness, waitForPending } from '../support/harness.js';

const PASSWORD = 'correct horse battery staple';

describe('approver lifecycle (running gateway)', () => {
  let h: Harness;
  let cfg: string[];
  before(async () => {
    h = await startHarness({ extraYaml: 'admins:\n  groups: [dba]\n' });
    cfg = ['--config', join(h.dir, 'airlock.yaml')];
  });
  after(async () => {
    await h.close();
  });
  const token = (name: string) => h.approvers[name] ?? '';
  const quorumOf = async (id: string, viewer: string) =>
    ((await h.api('GET', `/v1/approvals/${id}`, viewer)).body.quorum as { approvedBy: string[] }[])[0]
      ?.approvedBy;

  it('revoked from the CLI: token 401 and session ended at once; its pending vote stops counting', async () => {
    const carol = token('carol');
    assert.ok(await h.airlock.store.setApproverPassword('carol', await hashPassword(PASSWORD), new Date()));
    const session = await signIn(h, 'carol', PASSWORD);
    assert.equal((await session.call('GET', '/v1/approvals')).status, 200);

    const put = h.client().send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'rv-1' } } }));
    const pending = await waitForPending(h, carol, 'PutItem');
    const id = String(pending.id);
    await h.api('GET', `/v1/approvals/${id}`, carol);
    const first = await h.api('POST', `/v1/approvals/${id}/approve`, carol, { comment: 'ok' });
    assert.equal(first.body.state, 'pending', JSON.stringify(first.body));
    assert.deepEqual(await quorumOf(id, token('bob')), ['carol']);

    const revoked = await airlockCli([...cfg, 'approvers', 'revoke', 'carol']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const api = await h.api('GET', '/v1/approvals', carol);
    assert.equal(api.status, 401);
    assert.equal((await session.call('GET', '/v1/approvals')).status, 401);

    // carol's vote no longer counts: bob's approval alone leaves it pending.
    assert.deepEqual(await quorumOf(id, token('bob')), []);
    await h.api('GET', `/v1/approvals/${id}`, token('bob'));
    const second = await h.api('POST', `/v1/approvals/${id}/approve`, token('bob'), { comment: 'ok' });
    assert.equal(second.body.state, 'pending', JSON.stringify(second.body));
    const dave = (await createApprover(h.airlock.store, 'dave', ['finance'])).token;
    await h.api('GET', `/v1/approvals/${id}`, dave);
    const third = await h.api('POST', `/v1/approvals/${id}/approve`, dave, { comment: 'ok' });
    assert.equal(third.body.state, 'approved', JSON.stringify(third.body));
    await put;
    const item = await h.direct.send(new GetItemCommand({ TableName: 'ledger', Key: { id: { S: 'rv-1' } } }));
    assert.ok(item.Item);
  });

  it('over the API: anyone may revoke themselves, only admins.groups members others', async () => {
    const erin = (await createApprover(h.airlock.store, 'erin', ['marketing'])).token;
    const refused = await h.api('POST', '/v1/approvers/mallory/revoke', erin);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'not-admin');
    const self = await h.api('POST', '/v1/approvers/erin/revoke', erin);
    assert.equal(self.status, 200);
    assert.equal((await h.api('GET', '/v1/approvals', erin)).status, 401);
    const byAdmin = await h.api('POST', '/v1/approvers/mallory/revoke', token('alice'));
    assert.deepEqual(byAdmin.body, { revoked: 'mallory', by: 'alice' });
    assert.equal((await h.api('GET', '/v1/approvals', token('mallory'))).status, 401);
    assert.equal((await h.api('POST', '/v1/approvers/mallory/revoke', token('alice'))).status, 404);
  });

  it('rotates a token and changes groups as ledger entries; verify passes, then catches a hand edit', async () => {
    const rotated = await airlockCli([...cfg, 'approvers', 'rotate-token', 'alice', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = (JSON.parse(rotated.stdout) as { token: string }).token;
    assert.equal((await h.api('GET', '/v1/approvals', token('alice'))).status, 401);
    assert.equal((await h.api('GET', '/v1/approvals', fresh)).status, 200);
    const regroup = await airlockCli([...cfg, 'approvers', 'set-groups', 'bob', '--groups', 'dba']);
    assert.equal(regroup.code, 0, regroup.stderr);
    assert.deepEqual((await h.airlock.store.approverByName('bob'))?.groups, ['dba']);

    const kinds = (await h.airlock.store.approverEntries()).map(
      (e) => `${e.kind} ${String((JSON.parse(e.body) as { name: string }).name)}`,
    );
    for (const k of ['approver.revoked carol', 'approver.revoked erin', 'approver.revoked mallory'])
      assert.ok(kinds.includes(k), k);
    assert.ok(kinds.filter((k) => k === 'approver.updated alice').length >= 1);
    assert.ok(kinds.includes('approver.updated bob'));
    const verified = await airlockCli([...cfg, 'audit', 'verify']);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /approvers match the ledger: 6 recorded/);

    const db = new Database(join(h.config.dataDir, 'airlock.sqlite'));
    db.prepare(
      'UPDATE approvers SET revoked_at = NULL, groups = \'["finance","dba"]\' WHERE name = \'carol\'',
    ).run();
    db.close();
    const caught = await airlockCli([...cfg, 'audit', 'verify']);
    assert.equal(caught.code, 3);
    assert.match(
      caught.stdout,
      /approver carol was revoked \(ledger entry \d+\) but its row is active again/,
    );
    assert.match(caught.stdout, /approver carol has groups \[finance, dba\] but the ledger says \[finance\]/);
  });
});
