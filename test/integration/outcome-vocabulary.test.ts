/**
 * One outcome vocabulary (src/access/outcome.ts, applied by src/access/path.ts): an approval
 * that expires while its request waits is recorded as `lapsed` by the AWS, Postgres and MCP
 * fronts alike (they had drifted: AWS recorded `denied`, Postgres `lapsed`, and MCP mapped
 * an expiry to `denied`). Nothing is forwarded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { joinActionOutcomes } from '../../src/ledger/action-outcomes.js';
import type { Store } from '../../src/ledger/store.js';
import { type Harness, startHarness } from '../support/harness.js';
import { type McpHarness, startMcpHarness } from '../support/mcp-harness.js';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';

async function outcomesOf(store: Store, agent: string): Promise<Record<string, unknown>[]> {
  return joinActionOutcomes(await store.ledger({ agent }))
    .filter((e) => e.kind === 'action')
    .map((e) => JSON.parse(e.body) as Record<string, unknown>);
}

describe('an expired approval is recorded the same way by every front', () => {
  let aws: Harness;
  let pg: PgHarness;
  let mcp: McpHarness;
  before(async () => {
    // The approval expires after 1 s, well inside the 20 s hold window.
    [aws, pg, mcp] = await Promise.all([
      startHarness({ approvalTtlSeconds: 1 }),
      startPgHarness({ approvalTtlSeconds: 1 }),
      startMcpHarness({ approvalTtlSeconds: 1, holdWindowSeconds: 20 }),
    ]);
  });
  after(async () => {
    await Promise.all([aws.close(), pg.close(), mcp.close()]);
  });

  it('AWS front: lapsed, not forwarded', async () => {
    const err = await aws
      .client({ reason: 'expires unanswered' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'exp-1' } } }))
      .then(
        () => undefined,
        (e: Error) => e,
      );
    assert.ok(err !== undefined, 'refused');
    const rows = (await outcomesOf(aws.airlock.store, aws.agent.name)).filter(
      (r) => r.operation === 'PutItem',
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'lapsed');
    assert.equal(aws.upstream.received.filter((r) => r.body.includes('exp-1')).length, 0);
  });

  it('Postgres front: lapsed, not forwarded', async () => {
    const c = await pg.client();
    const err = await c
      .query("/* airlock:reason=expires unanswered */ UPDATE public.orders SET status = 'x' WHERE id = 1")
      .then(
        () => undefined,
        (e: { code?: string }) => e.code,
      );
    assert.equal(err, '57014');
    const rows = (await outcomesOf(pg.airlock.store, pg.agent.name)).filter((r) => r.operation === 'update');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'lapsed');
    const up = await pg.direct.query('SELECT status FROM public.orders WHERE id = 1');
    assert.equal(up.rows[0]?.status, 'new');
    await c.end();
  });

  it('MCP front: lapsed, not forwarded', async () => {
    const counter = await mcp.client('counter');
    const r = await counter.callTool(
      { name: 'wipe', arguments: { target: 'expires-1' }, _meta: { 'airlock/reason': 'expires unanswered' } },
      CallToolResultSchema,
      { timeout: 3000, resetTimeoutOnProgress: true, maxTotalTimeout: 30_000, onprogress: () => undefined },
    );
    assert.equal(r.isError, true, 'refused as a tool error');
    const rows = (await outcomesOf(mcp.airlock.store, mcp.agent.name)).filter(
      (row) => (row.mcp as { target?: string } | undefined)?.target === 'wipe',
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'lapsed');
    assert.equal(mcp.counter.calls.get('wipe'), undefined);
    await counter.close();
  });
});
