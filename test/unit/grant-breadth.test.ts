/**
 * The breadth of a grant (docs/MCP.md, "What an approval covers"), through the Decider on
 * a real (in-memory) SQLite store: exact by default, widened to scope only where policy
 * allows it (@grant_widest("scope")), and with a quorum only when every approving vote chose scope.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { breadthTerms } from '../../src/approvals/breadth.js';
import { Decider, DecisionRefused } from '../../src/approvals/decide.js';
import { covers } from '../../src/approvals/gate.js';
import { Waiter } from '../../src/approvals/waiter.js';
import type { Approval, HoldTerms } from '../../src/core/types.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';

const TOOL = { action: 'mcp:call', resource: 'arn:airlock:mcp:vault:tool/rotate_key' };
const call = (c: string) => ({ ...TOOL, call: c.repeat(64) });

async function setup(terms: Partial<HoldTerms>) {
  const store = SqliteStore.open({ path: ':memory:', ledgerKey: randomBytes(32) });
  const decider = new Decider(store, new Waiter(async () => undefined));
  for (const name of ['alice', 'bob'])
    await store.createApprover({
      name,
      groups: ['leads'],
      tokenHash: `${name}-hash`,
      createdAt: new Date(),
      revokedAt: undefined,
    });
  const now = new Date();
  const approval: Approval = {
    id: 'apr_1',
    requestId: 'req_1',
    agent: 'bot',
    service: 'mcp',
    operation: 'tools/call',
    scopes: [call('a')],
    reason: 'rotation',
    summary: {},
    policyReasons: ['p'],
    terms: {
      requirements: [{ group: 'leads', quorum: 1, policyId: 'p' }],
      maxGrantSeconds: 3600,
      requireReason: false,
      ...terms,
    },
    status: 'pending',
    createdAt: now,
    expiresAt: new Date(now.getTime() + 600_000),
    decidedAt: undefined,
    grantId: undefined,
  };
  await store.createApproval(approval);
  const approver = async (name: string) => {
    const a = await store.approverByName(name);
    assert.ok(a);
    await store.markShown(approval.id, name, new Date());
    return a;
  };
  return { store, decider, approval, approver };
}

describe('grant breadth', () => {
  it('exact by default: the grant binds the call, one use', async () => {
    const { decider, approver, approval } = await setup({ breadth: { widest: 'scope' } });
    const r = await decider.decide({
      approvalId: approval.id,
      approver: await approver('alice'),
      verdict: 'approve',
      comment: '',
      channel: 'api',
    });
    assert.equal(r.grant?.breadth, 'exact');
    assert.equal(r.decision.breadth, 'exact');
    assert.equal(r.grant?.maxUses, 1);
    assert.ok(r.grant && covers(r.grant, [call('a')]));
    assert.ok(r.grant && !covers(r.grant, [call('b')]));
  });

  it('widened: no call binding, covers other arguments of the same tool only, for the chosen time', async () => {
    const { decider, approver, approval } = await setup({ breadth: { widest: 'scope' } });
    const r = await decider.decide({
      approvalId: approval.id,
      approver: await approver('alice'),
      verdict: 'approve',
      comment: '',
      channel: 'api',
      breadth: 'scope',
      durationSeconds: 99_999,
    });
    const g = r.grant;
    assert.ok(g);
    assert.equal(g.breadth, 'scope');
    assert.equal(g.maxUses, undefined);
    assert.equal(g.expiresAt.getTime() - g.issuedAt.getTime(), 3600_000, 'clamped to max grant');
    assert.ok(covers(g, [call('b')]));
    assert.ok(
      !covers(g, [{ action: 'mcp:call', resource: 'arn:airlock:mcp:vault:tool/delete_key', call: 'b' }]),
    );
  });

  it('refused when the policy does not allow widening, or without items to bind', async () => {
    const { decider, approver, approval, store } = await setup({});
    const alice = await approver('alice');
    await assert.rejects(
      decider.decide({
        approvalId: approval.id,
        approver: alice,
        verdict: 'approve',
        comment: '',
        channel: 'api',
        breadth: 'scope',
      }),
      (e: unknown) => e instanceof DecisionRefused && e.status === 403 && e.code === 'widen-not-allowed',
    );
    assert.equal((await store.getApproval(approval.id))?.status, 'pending');
    assert.deepEqual(breadthTerms(approval.terms, 'medium', approval).offered, ['exact']);
    // Issue 16: an AWS approval may be scope-wide (its policy's widest), but an items grant needs
    // the keys the request named; this one names none.
    const aws = {
      ...approval,
      id: 'apr_2',
      scopes: [{ action: 'dynamodb:PutItem', resource: 'arn:t' }],
      requestHash: 'h'.repeat(64),
    };
    await store.createApproval(aws);
    await store.markShown(aws.id, 'alice', new Date());
    await assert.rejects(
      decider.decide({
        approvalId: aws.id,
        approver: alice,
        verdict: 'approve',
        comment: '',
        channel: 'api',
        breadth: 'items',
      }),
      (e: unknown) => e instanceof DecisionRefused && e.code === 'no-items',
    );
    assert.deepEqual(breadthTerms(aws.terms, 'medium', aws).offered, ['exact', 'scope']);
  });

  it('with a quorum, widened only when every approving vote chose scope', async () => {
    const quorum2 = {
      breadth: { widest: 'scope' as const },
      requirements: [{ group: 'leads', quorum: 2, policyId: 'p' }],
    };
    for (const [first, second, want] of [
      ['scope', 'exact', 'exact'],
      ['scope', 'scope', 'scope'],
    ] as const) {
      const { decider, approver, approval } = await setup(quorum2);
      const base = { approvalId: approval.id, verdict: 'approve' as const, comment: '', channel: 'api' };
      const one = await decider.decide({ ...base, approver: await approver('alice'), breadth: first });
      assert.equal(one.state, 'pending');
      const two = await decider.decide({ ...base, approver: await approver('bob'), breadth: second });
      assert.equal(two.state, 'approved');
      assert.equal(two.grant?.breadth, want);
    }
  });
});
