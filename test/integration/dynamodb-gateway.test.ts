/**
 * The core promise, end to end with the real AWS SDK v3: reads pass, writes are
 * held until a named approver decides, denials and lapses never touch the table,
 * and the record links request, decision, grant and actions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchExecuteStatementCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { hashToken } from '../../src/core/secrets.js';
import { auditRecord } from '../../src/ledger/audit.js';
import { arn, type Harness, startHarness, UPSTREAM_CREDS, waitForPending } from '../support/harness.js';
import { insertApproverRow } from '../support/raw-rows.js';

async function itemIn(h: Harness, table: string, id: string): Promise<Record<string, unknown> | undefined> {
  const r = await h.direct.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }));
  return r.Item;
}

async function rejects(p: Promise<unknown>, name: string, message?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    const e = err as Error;
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${name}, but the call succeeded`);
}

describe('DynamoDB through Airlock', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('passes an allowed read, re-signed with Airlock credentials (not the agent key)', async () => {
    const before = h.upstream.received.length;
    const r = await h.client().send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'none' } } }));
    assert.equal(r.Item, undefined);
    const last = h.upstream.received.at(-1);
    assert.equal(h.upstream.received.length, before + 1);
    assert.equal(last?.target, 'DynamoDB_20120810.GetItem');
    assert.equal(last?.accessKeyId, UPSTREAM_CREDS.accessKeyId);
    assert.notEqual(last?.accessKeyId, h.agent.accessKeyId);
    assert.deepEqual(h.upstream.refused, []);
  });

  it('denies DeleteTable by a forbid policy and the table survives', async () => {
    const e = await rejects(
      h.client().send(new DeleteTableCommand({ TableName: 'orders' })),
      'AccessDeniedException',
    );
    assert.match(e.message, /no-table-deletes/);
    const d = await h.direct.send(new DescribeTableCommand({ TableName: 'orders' }));
    assert.equal(d.Table?.TableStatus, 'ACTIVE');
  });

  it('refuses a held write without a reason, saying how to send one', async () => {
    await rejects(
      h.client().send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'no-reason' } } })),
      'ValidationException',
      /x-airlock-reason/,
    );
    assert.equal(await itemIn(h, 'orders', 'no-reason'), undefined);
  });

  it('holds a write until a dba approves, then writes it; the record has all six items', async () => {
    const put = h
      .client({ reason: 'JIRA-42 backfill order 1' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-1' }, total: { N: '42' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    // Held at the gateway: nothing reached the table yet.
    assert.equal(await itemIn(h, 'orders', 'o-1'), undefined);
    const id = String(pending.id);
    const shown = await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? '');
    assert.equal(shown.status, 200);
    const decided = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.alice ?? '', {
      comment: 'matches JIRA-42',
    });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.state, 'approved');
    await put;
    assert.deepEqual(await itemIn(h, 'orders', 'o-1'), { id: { S: 'o-1' }, total: { N: '42' } });

    await new Promise((r) => setTimeout(r, 50)); // let the group commit land
    const rec = await auditRecord(h.airlock.store, id);
    assert.ok(rec);
    assert.equal(rec.requester.agent, 'billing-bot');
    assert.equal(rec.requester.accessKeyId, h.agent.accessKeyId);
    assert.equal(rec.request.operation, 'PutItem');
    assert.deepEqual(rec.request.scopes, [{ action: 'dynamodb:PutItem', resource: arn('orders') }]);
    assert.equal(rec.reason, 'JIRA-42 backfill order 1');
    assert.equal(rec.decisions.length, 1);
    assert.equal(rec.decisions[0]?.approver, 'alice');
    assert.equal(rec.decisions[0]?.verdict, 'approve');
    assert.equal(rec.decisions[0]?.comment, 'matches JIRA-42');
    assert.ok(rec.decisions[0]?.firstShownAt, 'the view was recorded');
    assert.ok(rec.grant);
    assert.equal(rec.status, 'approved');
    assert.equal(rec.actions.length, 1);
    assert.equal(rec.actions[0]?.outcome, 'approved');
    assert.equal(rec.actions[0]?.upstreamStatus, 200);
    assert.equal(rec.actions[0]?.grantId, rec.grant.id);
  });

  it('reuses the grant for the same scope, then holds again after revocation', async () => {
    const client = h.client({ reason: 'JIRA-42 backfill order 2' });
    await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-2' } } }));
    assert.ok(await itemIn(h, 'orders', 'o-2'));
    const grants = await h.api('GET', '/v1/grants?agent=billing-bot', h.approvers.alice ?? '');
    const grant = (grants.body.grants as Record<string, unknown>[])[0];
    assert.ok(grant);
    assert.equal(grant.uses, 2);
    const rev = await h.api('POST', `/v1/grants/${String(grant.id)}/revoke`, h.approvers.bob ?? '');
    assert.equal(rev.status, 200);
    const held = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-3' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const deny = await h.api('POST', `/v1/approvals/${String(pending.id)}/deny`, h.approvers.alice ?? '', {
      comment: 'not part of JIRA-42',
    });
    assert.equal(deny.status, 200);
    const e = await rejects(held, 'AccessDeniedException');
    assert.match(e.message, new RegExp(String(pending.id)));
    assert.match(e.message, /not part of JIRA-42/);
    assert.equal(await itemIn(h, 'orders', 'o-3'), undefined);
  });

  it('stops waiting as soon as a held client goes away, and records the request as lapsed', async () => {
    const abort = new AbortController();
    const put = h
      .client({ reason: 'gives up early' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'gone-1' } } }), {
        abortSignal: abort.signal,
      });
    put.catch(() => undefined);
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const started = Date.now();
    abort.abort();
    await assert.rejects(put);
    // The hold window is 20 s: the record must appear long before it would lapse on its own.
    let action: Record<string, unknown> | undefined;
    while (action === undefined && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      const entries = await h.airlock.store.ledger({ approvalId: String(pending.id) });
      const body = entries.find((e) => e.kind === 'action')?.body;
      action = body === undefined ? undefined : (JSON.parse(body) as Record<string, unknown>);
    }
    assert.ok(action, 'no action recorded within 5 s of the client leaving');
    assert.equal(action.outcome, 'lapsed');
    assert.match(String(action.error), /went away/);
    assert.equal(await itemIn(h, 'orders', 'gone-1'), undefined);
    // The approval itself stays open for the approvers (a retry would wait on it): close it.
    await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers.alice ?? '');
    const denied = await h.api('POST', `/v1/approvals/${String(pending.id)}/deny`, h.approvers.alice ?? '', {
      comment: 'agent gave up',
    });
    assert.equal(denied.status, 200, JSON.stringify(denied.body));
  });

  it('refuses approvals from outside the group, from the requester, and from agent credentials', async () => {
    const held = h
      .client({ reason: 'rotate order 9' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-9' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    const id = String(pending.id);
    const outsider = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.mallory ?? '', {
      comment: 'lgtm',
    });
    assert.equal(outsider.status, 403);
    assert.equal(outsider.body.error, 'not-eligible');
    // An approver identity carrying the agent's own name (the store refuses to create one:
    // written into the file by hand).
    insertApproverRow(
      h.config.dataDir,
      'billing-bot',
      ['dba'],
      hashToken('alt_selfselfselfselfselfselfself'),
    );
    const self = await h.api('POST', `/v1/approvals/${id}/approve`, 'alt_selfselfselfselfselfselfself', {
      comment: 'me',
    });
    assert.equal(self.status, 403);
    assert.equal(self.body.error, 'self-approval');
    const asAgent = await h.api('POST', `/v1/approvals/${id}/approve`, h.agent.secretAccessKey, {});
    assert.equal(asAgent.status, 401);
    const sigv4 = await fetch(`${h.airlock.apiUrl}/v1/approvals/${id}/approve`, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${h.agent.accessKeyId}/20260101/us-east-1/dynamodb/aws4_request`,
      },
    });
    assert.equal(sigv4.status, 403);
    await h.api('POST', `/v1/approvals/${id}/deny`, h.approvers.alice ?? '', { comment: 'cleanup' });
    await rejects(held, 'AccessDeniedException');
    assert.equal(await itemIn(h, 'orders', 'o-9'), undefined);
  });

  it('needs two distinct finance approvers for the ledger table', async () => {
    const held = h
      .client({ reason: 'month-end close' })
      .send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'l-1' } } }));
    const pending = await waitForPending(h, h.approvers.bob ?? '', 'PutItem');
    const id = String(pending.id);
    // Approving needs the detail shown to each approver first (decision-quality guards).
    await h.api('GET', `/v1/approvals/${id}`, h.approvers.bob ?? '');
    await h.api('GET', `/v1/approvals/${id}`, h.approvers.carol ?? '');
    const first = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.bob ?? '', {
      comment: 'ok',
    });
    assert.equal(first.body.state, 'pending');
    const again = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.bob ?? '', {
      comment: 'ok again',
    });
    assert.equal(again.status, 409);
    assert.equal(await itemIn(h, 'ledger', 'l-1'), undefined);
    const second = await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.carol ?? '', {
      comment: 'ok',
    });
    assert.equal(second.body.state, 'approved');
    await held;
    assert.ok(await itemIn(h, 'ledger', 'l-1'));
  });

  it('extracts every table of a transaction: one unpermitted table denies the whole call', async () => {
    await rejects(
      h.client({ reason: 'sync' }).send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'orders', Item: { id: { S: 't-1' } } } },
            { Put: { TableName: 'customers', Item: { id: { S: 'c-1' } } } },
          ],
        }),
      ),
      'AccessDeniedException',
      /customers/,
    );
    assert.equal(await itemIn(h, 'orders', 't-1'), undefined);
    assert.equal(await itemIn(h, 'customers', 'c-1'), undefined);
  });

  it('reads PartiQL table names: a SELECT passes, an UPDATE hidden in a batch is held', async () => {
    // dynalite implements no PartiQL, so the allowed SELECT comes back as dynalite's own
    // UnknownOperationException: proof that the gate let it through to the upstream.
    const before = h.upstream.received.length;
    await rejects(
      h
        .client()
        .send(new ExecuteStatementCommand({ Statement: 'SELECT * FROM "orders" WHERE id = \'o-1\'' })),
      'UnknownOperationException',
    );
    assert.equal(h.upstream.received.length, before + 1);
    assert.equal(h.upstream.received.at(-1)?.target, 'DynamoDB_20120810.ExecuteStatement');
    const held = h.client({ reason: 'fix totals' }).send(
      new BatchExecuteStatementCommand({
        Statements: [
          { Statement: 'SELECT * FROM "customers" WHERE id = \'x\'' },
          { Statement: 'update "orders" set total = 7 where id = \'o-1\'' },
        ],
      }),
    );
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'BatchExecuteStatement');
    const detail = await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers.alice ?? '');
    const scopes = (detail.body.approval as { scopes: { action: string; resource: string }[] }).scopes;
    assert.ok(scopes.some((s) => s.action === 'dynamodb:PartiQLUpdate' && s.resource === arn('orders')));
    assert.ok(scopes.some((s) => s.action === 'dynamodb:PartiQLSelect' && s.resource === arn('customers')));
    await h.api('POST', `/v1/approvals/${String(pending.id)}/deny`, h.approvers.alice ?? '', {
      comment: 'no',
    });
    await rejects(held, 'AccessDeniedException');
    const row = await itemIn(h, 'orders', 'o-1');
    assert.deepEqual(row?.total, { N: '42' });
  });
});

describe('grant lifetime and uses', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ holdWindowSeconds: 1 });
  });
  after(async () => {
    await h.close();
  });

  async function approveNext(opts: { durationSeconds?: number; maxUses?: number }, id: string) {
    const client = h.client({ reason: 'grant test' });
    const first = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: id } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers.alice ?? '');
    const r = await h.api('POST', `/v1/approvals/${String(pending.id)}/approve`, h.approvers.alice ?? '', {
      comment: 'ok',
      ...opts,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await first;
    return client;
  }

  it('holds again once the grant expires', async () => {
    const client = await approveNext({ durationSeconds: 1 }, 'exp-1');
    await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'exp-2' } } }));
    await new Promise((r) => setTimeout(r, 1100));
    await rejects(
      client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'exp-3' } } })),
      'ApprovalPendingException',
    );
    assert.equal(await itemIn(h, 'orders', 'exp-3'), undefined);
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    await h.api('POST', `/v1/approvals/${String(pending.id)}/deny`, h.approvers.alice ?? '', {
      comment: 'done',
    });
  });

  it('holds again once max uses are spent', async () => {
    const client = await approveNext({ maxUses: 2 }, 'use-1');
    await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'use-2' } } }));
    await rejects(
      client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'use-3' } } })),
      'ApprovalPendingException',
    );
    assert.equal(await itemIn(h, 'orders', 'use-3'), undefined);
  });

  it('clamps a requested duration to the policy maximum (1h)', async () => {
    const client = h.client({ reason: 'long grant' });
    const held = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'long-1' } } }));
    const pending = await waitForPending(h, h.approvers.alice ?? '', 'PutItem');
    await h.api('GET', `/v1/approvals/${String(pending.id)}`, h.approvers.alice ?? '');
    const r = await h.api('POST', `/v1/approvals/${String(pending.id)}/approve`, h.approvers.alice ?? '', {
      comment: 'ok',
      durationSeconds: 7 * 86400,
    });
    const grant = r.body.grant as { issuedAt: string; expiresAt: string };
    assert.equal(Date.parse(grant.expiresAt) - Date.parse(grant.issuedAt), 3600 * 1000);
    await held.catch(() => undefined);
  });
});

describe('pending approvals expire', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ holdWindowSeconds: 10, approvalTtlSeconds: 1 });
  });
  after(async () => {
    await h.close();
  });

  it('answers AccessDenied naming the expired approval, and nothing is written', async () => {
    const e = await rejects(
      h
        .client({ reason: 'expiring' })
        .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'ttl-1' } } })),
      'AccessDeniedException',
      /expired/,
    );
    assert.match(e.message, /apr_/);
    assert.equal(await itemIn(h, 'orders', 'ttl-1'), undefined);
  });
});

describe('holds that lapse', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ holdWindowSeconds: 1 });
  });
  after(async () => {
    await h.close();
  });

  it('answers an AWS-shaped error naming the approval; a retry waits on the same approval', async () => {
    const client = h.client({ reason: 'nightly job' });
    const cmd = () => new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'lapse-1' } } });
    const e1 = await rejects(client.send(cmd()), 'ApprovalPendingException', /apr_/);
    const id = /(apr_[A-Za-z0-9_-]+)/.exec(e1.message)?.[1];
    assert.ok(id);
    assert.equal(await itemIn(h, 'orders', 'lapse-1'), undefined);
    const e2 = await rejects(client.send(cmd()), 'ApprovalPendingException');
    assert.match(e2.message, new RegExp(id));
    const pending = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    assert.equal((pending.body.approvals as unknown[]).length, 1);
    // Approved later: the next identical call runs under the grant.
    await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? '');
    await h.api('POST', `/v1/approvals/${id}/approve`, h.approvers.alice ?? '', { comment: 'ok' });
    await client.send(cmd());
    assert.ok(await itemIn(h, 'orders', 'lapse-1'));
  });
});
