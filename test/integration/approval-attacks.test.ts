/**
 * Approvals under attack: a held request must only ever run on a grant whose
 * scopes approvers saw. The agent here retries "the same" DynamoDB call in
 * another region (same body, so the same table name): it must not attach to
 * the pending approval of the first one, nor ride on its grant.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ACCOUNT, type Harness, startHarness } from '../support/harness.js';

const POLICY = `
@id("writes-anywhere-need-dba")
@hold("dba")
@quorum("1")
@max_grant("1h")
permit (principal, action in Airlock::Action::"dynamodb:write", resource);
`;

describe('approvals: a grant is spent only on the scopes approvers saw', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-apr-'));
    writeFileSync(join(dir, 'p.cedar'), POLICY);
    h = await startHarness({ policy: join(dir, 'p.cedar'), holdWindowSeconds: 3 });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same call in another region opens its own approval and does not run on the first grant', async () => {
    const alice = h.approvers.alice ?? '';
    const put = new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'cross-region' } } });
    const east = h
      .client({ reason: 'JIRA-9' })
      .send(put)
      .then(
        () => 'executed',
        (err: Error) => err.name,
      );
    const pendingEast = await waitFor(h, alice, (a) => a.length === 1);
    const westClient = h.client({ reason: 'JIRA-9', extra: { region: 'eu-west-1' } });
    const west = westClient.send(put).then(
      () => 'executed',
      (err: Error) => err.name,
    );
    // The west call shows up as its own approval, naming its own table ARN.
    const both = await waitFor(h, alice, (a) => a.length === 2);
    const westApproval = both.find((a) => JSON.stringify(a.scopes).includes(':eu-west-1:'));
    assert.ok(westApproval, `no approval names the eu-west-1 table: ${JSON.stringify(both)}`);
    assert.equal(
      (westApproval.scopes as { resource: string }[])[0]?.resource,
      `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/orders`,
    );
    const eastId = String(pendingEast[0]?.id);
    assert.notEqual(String(westApproval.id), eastId);
    await h.api('GET', `/v1/approvals/${eastId}`, alice);
    const decided = await h.api('POST', `/v1/approvals/${eastId}/approve`, alice, { comment: 'east only' });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(await east, 'executed');
    // The west request keeps waiting on its own approval and lapses undecided.
    assert.equal(await west, 'ApprovalPendingException');
    const r = await h.direct.send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'cross-region' } } }),
    );
    assert.deepEqual(r.Item, { id: { S: 'cross-region' } });
    const grants = await h.airlock.store.listGrants({});
    const grant = grants.find((g) => g.approvalId === eastId);
    assert.equal(grant?.uses, 1, 'the east grant was spent once, by the east request only');
  });
});

async function waitFor(
  h: Harness,
  token: string,
  ok: (a: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 200; i++) {
    const r = await h.api('GET', '/v1/approvals?status=pending', token);
    const list = r.body.approvals as Record<string, unknown>[];
    if (ok(list)) return list;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('pending approvals never reached the expected state');
}
