/**
 * The Store contract: one set of tests every backend must pass (SQLite, PostgreSQL).
 * A backend is given as a factory of fixtures; each fixture is one empty database that
 * `open()` may open several times (a second process sharing the store) and `raw()`
 * edits behind the store's back (tampering tests use the same table names everywhere).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ActionRecord, ActionResult, Approval, Grant } from '../../src/core/types.js';
import { GENESIS_HASH } from '../../src/ledger/hash-chain.js';
import {
  type Store,
  StoreConflict,
  type StoredAgent,
  type StoredApprover,
  StoreFault,
} from '../../src/ledger/store.js';

export interface StoreFixture {
  /** Opens a store on this fixture's database (every call: a new connection/process view). */
  open(opts?: { groupCommitMs?: number }): Promise<Store>;
  /** Runs SQL on the database directly (no store involved). */
  raw(sql: string): Promise<void>;
  /** Drops the database; every store opened on it is closed first by the test. */
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

const t0 = Date.parse('2030-01-01T00:00:00Z');
export const at = (s: number): Date => new Date(t0 + s * 1000);
const scopes = [
  { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' },
];
const SECRET = 'sealed-SECRET-value';

export function approval(id: string, extra: Partial<Approval> = {}): Approval {
  return {
    id,
    requestId: `req-${id}`,
    agent: 'bot',
    service: 'dynamodb',
    operation: 'PutItem',
    scopes,
    reason: 'restock',
    summary: { table: 'orders' },
    policyReasons: ['writes-need-approval'],
    terms: {
      requirements: [{ group: 'ops', quorum: 2, policyId: 'p1' }],
      maxGrantSeconds: 600,
      requireReason: true,
    },
    status: 'pending',
    createdAt: at(0),
    expiresAt: at(300),
    decidedAt: undefined,
    grantId: undefined,
    ...extra,
  };
}

export function grant(id: string, approvalId: string, maxUses?: number): Grant {
  return {
    id,
    approvalId,
    agent: 'bot',
    scopes,
    issuedAt: at(10),
    expiresAt: at(600),
    maxUses,
    uses: 0,
    revokedAt: undefined,
    revokedBy: undefined,
  };
}

export function action(n: number, extra: Partial<ActionRecord> = {}): ActionRecord {
  return {
    requestId: `act-${n}`,
    at: at(20),
    agent: 'bot',
    front: 'aws',
    service: 'dynamodb',
    operation: 'PutItem',
    scopes,
    outcome: 'allowed',
    policyReasons: [],
    upstreamStatus: 200,
    latencyMs: 3,
    grantId: undefined,
    approvalId: undefined,
    error: undefined,
    ...extra,
  };
}

function outcome(n: number): ActionResult {
  return {
    requestId: `act-${n}`,
    at: at(21),
    agent: 'bot',
    grantId: undefined,
    approvalId: undefined,
    outcome: undefined,
    upstreamStatus: 200,
    latencyMs: 4,
    error: undefined,
  };
}

const decision = (approvalId: string, approver: string, verdict: 'approve' | 'deny' = 'approve') => ({
  approvalId,
  approver,
  verdict,
  comment: 'checked the item',
  channel: 'cli',
  shownAt: at(5),
  decidedAt: at(10),
});

const agent = (name: string, accessKeyId = `AKID${name.toUpperCase()}`): StoredAgent => ({
  name,
  accessKeyId,
  sealedSecret: SECRET,
  createdAt: at(0),
  revokedAt: undefined,
});

const approver = (name: string, groups = ['ops']): StoredApprover => ({
  name,
  groups,
  tokenHash: `${name}-token-hash`,
  createdAt: at(0),
  revokedAt: undefined,
});

/** The same populated ledger on every backend: 13 entries. */
async function populate(s: Store): Promise<void> {
  await s.createAgent(agent('bot'));
  await s.createApprover(approver('alice'));
  await s.createApproval(approval('ap1'));
  await s.markShown('ap1', 'alice', at(5));
  await s.recordDecision(decision('ap1', 'alice'), { status: 'approved', grant: grant('g1', 'ap1') });
  await Promise.all(
    Array.from({ length: 6 }, (_, i) => s.recordAction(action(i, { grantId: 'g1', approvalId: 'ap1' }))),
  );
}

function problemOf(r: Awaited<ReturnType<Store['verify']>>) {
  return r.ok ? [true] : [false, r.problem, r.firstBadSeq];
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const fixtures: StoreFixture[] = [];
    const opened: Store[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      for (const f of fixtures) await f.dispose();
    });
    /** A fresh, empty store (and its fixture, to open it again or tamper with it). */
    async function fresh(): Promise<{
      s: Store;
      f: StoreFixture;
      again: (opts?: { groupCommitMs?: number }) => Promise<Store>;
    }> {
      const f = await factory();
      fixtures.push(f);
      const again = async (opts?: { groupCommitMs?: number }) => {
        const s = await f.open(opts);
        opened.push(s);
        return s;
      };
      return { s: await again(), f, again };
    }
    /** Populates, closes, edits with `sql`, reopens, and verifies. */
    async function tampered(sql: string) {
      const { s, f, again } = await fresh();
      await populate(s);
      await s.close();
      if (sql !== '') await f.raw(sql);
      return (await again()).verify();
    }

    describe('agents', () => {
      it('creates, finds by key and name, lists, and revokes once', async () => {
        const { s } = await fresh();
        await s.createAgent(agent('bot'));
        await s.createAgent(agent('analyst'));
        assert.deepEqual(await s.agentByAccessKey('AKIDBOT'), agent('bot'));
        assert.deepEqual(await s.agentByName('bot'), agent('bot'));
        assert.equal(await s.agentByAccessKey('AKIDNOPE'), undefined);
        assert.equal(await s.agentByName('nope'), undefined);
        assert.deepEqual(
          (await s.listAgents()).map((a) => a.name),
          ['analyst', 'bot'],
        );
        assert.equal(await s.revokeAgent('bot', at(30)), true);
        assert.equal(await s.revokeAgent('bot', at(31)), false);
        assert.equal(await s.revokeAgent('nope', at(31)), false);
        assert.deepEqual((await s.agentByAccessKey('AKIDBOT'))?.revokedAt, at(30));
        assert.deepEqual(
          (await s.ledger({ agent: 'bot' })).map((e) => e.kind),
          ['agent.created', 'agent.revoked'],
        );
      });

      it('refuses a duplicate name, a duplicate key and an approver name with StoreConflict', async () => {
        const { s } = await fresh();
        await s.createAgent(agent('bot'));
        await s.createApprover(approver('alice'));
        await assert.rejects(s.createAgent(agent('bot', 'AKIDOTHER')), StoreConflict);
        await assert.rejects(s.createAgent(agent('bot2', 'AKIDBOT')), StoreConflict);
        await assert.rejects(s.createAgent(agent('alice')), StoreConflict);
        await assert.rejects(s.createApprover(approver('bot')), StoreConflict);
        assert.equal((await s.ledger({})).length, 2, 'refused writes leave no entry');
      });

      it('sees an agent revoked through another store on the same database', async () => {
        const { s, again } = await fresh();
        await s.createAgent(agent('bot'));
        assert.equal((await s.agentByAccessKey('AKIDBOT'))?.revokedAt, undefined);
        const other = await again();
        assert.equal(await other.revokeAgent('bot', at(30)), true);
        await new Promise((r) => setImmediate(r)); // the next request is on a later turn
        assert.deepEqual((await s.agentByAccessKey('AKIDBOT'))?.revokedAt, at(30));
        assert.deepEqual((await s.agentByName('bot'))?.revokedAt, at(30));
      });
    });

    describe('approvers', () => {
      it('creates and finds by token hash and name; sets a password', async () => {
        const { s } = await fresh();
        await s.createApprover(approver('alice', ['ops', 'dba']));
        await s.createApprover(approver('bob'));
        assert.deepEqual(await s.approverByTokenHash('alice-token-hash'), approver('alice', ['ops', 'dba']));
        assert.deepEqual(await s.approverByName('bob'), approver('bob'));
        assert.equal(await s.approverByTokenHash('nope'), undefined);
        assert.deepEqual(
          (await s.listApprovers()).map((a) => a.name),
          ['alice', 'bob'],
        );
        await assert.rejects(
          s.createApprover({ ...approver('carol'), tokenHash: 'bob-token-hash' }),
          StoreConflict,
        );
        assert.equal(await s.setApproverPassword('alice', 'scrypt$x', at(1)), true);
        assert.equal(await s.setApproverPassword('nope', 'scrypt$x', at(1)), false);
        assert.equal((await s.approverByName('alice'))?.passwordHash, 'scrypt$x');
      });

      it('revokes, regroups and rotates tokens, each once and recorded', async () => {
        const { s } = await fresh();
        await s.createApprover(approver('alice'));
        assert.equal(await s.setApproverGroups('alice', ['dba'], at(1)), true);
        assert.deepEqual((await s.approverByName('alice'))?.groups, ['dba']);
        assert.equal(await s.rotateApproverToken('alice', 'new-hash', at(2)), true);
        assert.equal(
          await s.approverByTokenHash('alice-token-hash'),
          undefined,
          'the old token stops at once',
        );
        assert.equal((await s.approverByTokenHash('new-hash'))?.name, 'alice');
        assert.equal(await s.revokeApprover('alice', at(3)), true);
        assert.equal(await s.revokeApprover('alice', at(4)), false);
        assert.deepEqual((await s.approverByName('alice'))?.revokedAt, at(3));
        assert.equal(await s.setApproverGroups('alice', ['ops'], at(5)), false, 'revoked');
        assert.equal(await s.rotateApproverToken('alice', 'again', at(5)), false, 'revoked');
        assert.equal(await s.setApproverPassword('alice', 'scrypt$y', at(5)), false, 'revoked');
        assert.equal(await s.revokeApprover('nope', at(5)), false);
        const entries = await s.approverEntries();
        assert.deepEqual(
          entries.map((e) => e.kind),
          ['approver.created', 'approver.updated', 'approver.updated', 'approver.revoked'],
        );
        assert.ok(entries.every((e, i) => i === 0 || e.seq > (entries[i - 1]?.seq ?? 0)));
        assert.ok(!entries.some((e) => e.body.includes('new-hash')), 'no credential in the ledger');
      });

      it('links a Slack user to one approver, recorded; refuses a second approver for it', async () => {
        const { s } = await fresh();
        await s.createApprover(approver('alice'));
        await s.createApprover(approver('bob'));
        assert.equal(await s.linkApproverSlack('alice', 'U0ALICE', at(1)), true);
        assert.equal((await s.approverBySlackUser('U0ALICE'))?.name, 'alice');
        await assert.rejects(s.linkApproverSlack('bob', 'U0ALICE', at(2)), StoreConflict);
        assert.equal(await s.linkApproverSlack('nobody', 'U0NONE', at(2)), false);
        assert.equal(await s.approverBySlackUser('U0NONE'), undefined);
        const linked = (await s.approverEntries()).filter((e) => e.body.includes('slack-linked'));
        assert.equal(linked.length, 1);
      });

      it('binds an SSO approver name to its first subject; refuses local names', async () => {
        const { s } = await fresh();
        const first = await s.upsertSsoApprover('sso@x', ['ops'], at(1), 'sub-1');
        assert.deepEqual([first.name, first.groups, first.source], ['sso@x', ['ops'], 'oidc']);
        const regrouped = await s.upsertSsoApprover('sso@x', ['dba'], at(2), 'sub-1');
        assert.deepEqual(regrouped.groups, ['dba']);
        await assert.rejects(s.upsertSsoApprover('sso@x', ['ops'], at(3), 'sub-2'), StoreConflict);
        await s.createApprover(approver('alice'));
        await assert.rejects(s.upsertSsoApprover('alice', ['ops'], at(3), 'sub-3'), StoreConflict);
        await s.createAgent(agent('bot'));
        await assert.rejects(s.upsertSsoApprover('bot', ['ops'], at(3), 'sub-4'), StoreConflict);
        assert.equal(await s.setApproverGroups('sso@x', ['x'], at(4)), false, 'SSO groups come from the IdP');
        assert.deepEqual(
          (await s.approverEntries()).map((e) => e.kind),
          ['approver.created', 'approver.updated', 'approver.created'],
        );
      });
    });

    describe('webhook outbox', () => {
      it('enqueues once per id, moves the cursor forward only, lists due deliveries and records attempts', async () => {
        const { s } = await fresh();
        assert.equal(await s.webhookCursor(), undefined);
        const d = (id: string, due: number) => ({
          id,
          url: 'https://hooks.example/a',
          event: 'approval.requested',
          payload: `{"id":"${id}"}`,
          createdAt: at(0),
          status: 'pending' as const,
          attempts: 0,
          nextAttemptAt: at(due),
          lastStatus: undefined,
          lastError: undefined,
          deliveredAt: undefined,
        });
        await s.enqueueWebhookDeliveries([d('w1', 1), d('w2', 5)], 7);
        await s.enqueueWebhookDeliveries([d('w1', 1)], 3);
        assert.equal(await s.webhookCursor(), 7, 'never backwards');
        assert.deepEqual(
          (await s.webhookDeliveries({ due: at(2), limit: 10 })).map((x) => x.id),
          ['w1'],
        );
        await s.recordWebhookAttempt('w1', {
          at: at(2),
          status: 'delivered',
          httpStatus: 200,
          error: undefined,
        });
        await s.recordWebhookAttempt('w2', {
          at: at(6),
          status: 'pending',
          httpStatus: 500,
          error: 'HTTP 500',
          nextAttemptAt: at(60),
        });
        assert.deepEqual(await s.webhookDeliveries({ due: at(10), limit: 10 }), []);
        const all = await s.webhookDeliveries({ limit: 10 });
        const w1 = all.find((x) => x.id === 'w1');
        const w2 = all.find((x) => x.id === 'w2');
        assert.equal(all.length, 2);
        assert.deepEqual([w1?.status, w1?.attempts, w1?.deliveredAt], ['delivered', 1, at(2)]);
        assert.deepEqual([w2?.status, w2?.lastStatus, w2?.nextAttemptAt], ['pending', 500, at(60)]);
      });
    });

    describe('approvals', () => {
      it('creates, gets and lists approvals by status', async () => {
        const { s } = await fresh();
        await s.createApproval(approval('ap1'));
        await s.createApproval(approval('ap2', { reason: undefined, createdAt: at(1) }));
        assert.deepEqual(await s.getApproval('ap1'), approval('ap1'));
        assert.deepEqual(
          await s.getApproval('ap2'),
          approval('ap2', { reason: undefined, createdAt: at(1) }),
        );
        assert.equal(await s.getApproval('nope'), undefined);
        await s.recordDecision(decision('ap1', 'alice', 'deny'), { status: 'denied' });
        assert.deepEqual(
          (await s.listApprovals({})).map((a) => a.id),
          ['ap1', 'ap2'],
        );
        assert.deepEqual(
          (await s.listApprovals({ status: 'pending' })).map((a) => a.id),
          ['ap2'],
        );
        assert.deepEqual(
          (await s.listApprovals({ status: 'denied' })).map((a) => a.id),
          ['ap1'],
        );
        await assert.rejects(s.createApproval(approval('ap1')), StoreConflict);
      });

      it('openApproval returns the pending approval of the same fingerprint, even from another store', async () => {
        const { s, again } = await fresh();
        const first = await s.openApproval(approval('ap1'), 'fp-1');
        assert.equal(first.id, 'ap1');
        const other = await again();
        assert.equal((await other.openApproval(approval('ap2', { createdAt: at(1) }), 'fp-1')).id, 'ap1');
        assert.equal((await s.openApproval(approval('ap3'), 'fp-2')).id, 'ap3', 'another request');
        assert.equal(await s.getApproval('ap2'), undefined, 'the retry opened nothing');
        // Once that approval is no longer pending (or has expired), a retry opens a new one.
        await s.recordDecision(decision('ap1', 'alice', 'deny'), { status: 'denied' });
        assert.equal((await other.openApproval(approval('ap4', { createdAt: at(2) }), 'fp-1')).id, 'ap4');
        const late = approval('ap5', { createdAt: at(400), expiresAt: at(700) });
        assert.equal((await s.openApproval(late, 'fp-2')).id, 'ap5', 'ap3 expired at 300');
        assert.deepEqual(
          (await s.ledger({})).filter((e) => e.kind === 'approval.requested').map((e) => e.approvalId),
          ['ap1', 'ap3', 'ap4', 'ap5'],
        );
      });

      it('openApproval: concurrent retries from two stores share one approval', async () => {
        const { s, again } = await fresh();
        const other = await again();
        const opened = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? s : other).openApproval(approval(`ap${i}`), 'fp-same'),
          ),
        );
        assert.equal(new Set(opened.map((a) => a.id)).size, 1);
        assert.equal((await s.listApprovals({ status: 'pending' })).length, 1);
      });

      it('markShown keeps the first time and records it once', async () => {
        const { s } = await fresh();
        await s.createApproval(approval('ap1'));
        assert.equal(await s.shownAt('ap1', 'alice'), undefined);
        assert.deepEqual(await s.markShown('ap1', 'alice', at(5)), at(5));
        assert.deepEqual(await s.markShown('ap1', 'alice', at(9)), at(5));
        assert.deepEqual(await s.shownAt('ap1', 'alice'), at(5));
        assert.equal(
          (await s.ledger({ approvalId: 'ap1' })).filter((e) => e.kind === 'approval.shown').length,
          1,
        );
        await assert.rejects(s.markShown('nope', 'alice', at(5)));
      });

      it('recordDecision votes, resolves with a grant, and refuses late or repeated votes', async () => {
        const { s } = await fresh();
        await s.createApproval(approval('ap1'));
        const guarded = {
          ...decision('ap1', 'alice'),
          reviewSeconds: 5,
          viewedDetail: true,
          guards: {
            risk: 'high' as const,
            minReviewSeconds: 3,
            requireComment: true,
            confirmText: undefined,
          },
        };
        await s.recordDecision(guarded);
        assert.equal((await s.getApproval('ap1'))?.status, 'pending');
        await assert.rejects(s.recordDecision(decision('ap1', 'alice')), StoreConflict);
        await s.recordDecision(decision('ap1', 'bob'), {
          status: 'approved',
          grant: grant('g1', 'ap1'),
          countedApprovers: ['alice', 'bob'],
        });
        const ap = await s.getApproval('ap1');
        assert.deepEqual([ap?.status, ap?.grantId, ap?.decidedAt], ['approved', 'g1', at(10)]);
        assert.deepEqual(await s.getGrant('g1'), grant('g1', 'ap1'));
        assert.deepEqual(await s.decisions('ap1'), [guarded, decision('ap1', 'bob')]);
        await assert.rejects(s.recordDecision(decision('ap1', 'carol')), StoreConflict);
        await assert.rejects(s.recordDecision(decision('nope', 'carol')), StoreConflict);
        assert.deepEqual(
          (await s.ledger({ approvalId: 'ap1' })).map((e) => e.kind),
          ['approval.requested', 'approval.decided', 'approval.decided', 'approval.resolved', 'grant.issued'],
        );
      });

      it('recordDecision refuses a revoked decider or a revoked counted vote, leaving the approval pending', async () => {
        const { s, again } = await fresh();
        for (const n of ['alice', 'bob', 'carol']) await s.createApprover(approver(n));
        await s.createApproval(approval('ap1'));
        await s.recordDecision(decision('ap1', 'alice'));
        const other = await again();
        await other.revokeApprover('alice', at(11));
        await assert.rejects(
          s.recordDecision(decision('ap1', 'bob'), {
            status: 'approved',
            grant: grant('g1', 'ap1'),
            countedApprovers: ['alice', 'bob'],
          }),
          StoreConflict,
        );
        await other.revokeApprover('carol', at(11));
        await assert.rejects(s.recordDecision(decision('ap1', 'carol')), StoreConflict);
        assert.equal((await s.getApproval('ap1'))?.status, 'pending');
        assert.equal(await s.getGrant('g1'), undefined);
        assert.deepEqual(
          (await s.decisions('ap1')).map((d) => d.approver),
          ['alice'],
        );
      });

      it('watchApprovals (where offered) hears decisions and expiries made through another store', async (t) => {
        const { s, again } = await fresh();
        if (s.watchApprovals === undefined) {
          t.skip('this backend has no change notifications: waiters poll');
          return;
        }
        const heard: string[] = [];
        const stop = s.watchApprovals((id) => heard.push(id));
        await new Promise((r) => setTimeout(r, 200)); // the listening connection is up
        const other = await again();
        await other.createApproval(approval('ap1'));
        await other.createApproval(approval('ap2', { expiresAt: at(60) }));
        await other.recordDecision(decision('ap1', 'alice', 'deny'), { status: 'denied' });
        await other.expireApprovals(at(60));
        const end = performance.now() + 2000;
        while (heard.length < 2 && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(heard, ['ap1', 'ap2']);
        stop();
      });

      it('expires pending approvals that are due, once', async () => {
        const { s } = await fresh();
        await s.createApproval(approval('soon', { expiresAt: at(60) }));
        await s.createApproval(approval('later', { expiresAt: at(600) }));
        assert.deepEqual(await s.expireApprovals(at(60)), ['soon']);
        assert.deepEqual(await s.expireApprovals(at(61)), []);
        const soon = await s.getApproval('soon');
        assert.deepEqual([soon?.status, soon?.decidedAt], ['expired', at(60)]);
        await assert.rejects(s.recordDecision(decision('soon', 'alice')), StoreConflict);
      });
    });

    describe('grants', () => {
      it('counts uses against maxUses, expiry and revocation', async () => {
        const { s } = await fresh();
        for (const id of ['a', 'b']) await s.createApproval(approval(id));
        await s.recordDecision(decision('a', 'alice'), { status: 'approved', grant: grant('ga', 'a', 2) });
        await s.recordDecision(decision('b', 'alice'), { status: 'approved', grant: grant('gb', 'b') });
        assert.deepEqual(
          (await s.activeGrants('bot', at(20))).map((g) => g.id),
          ['ga', 'gb'],
        );
        assert.equal(await s.useGrant('ga', at(20)), true);
        assert.equal(await s.useGrant('ga', at(20)), true);
        assert.equal(await s.useGrant('ga', at(20)), false, 'exhausted');
        assert.equal((await s.getGrant('ga'))?.uses, 2);
        assert.deepEqual(
          (await s.activeGrants('bot', at(20))).map((g) => g.id),
          ['gb'],
        );
        assert.equal(await s.useGrant('gb', at(600)), false, 'expired');
        assert.deepEqual(await s.activeGrants('bot', at(600)), []);
        assert.equal(await s.revokeGrant('gb', 'alice', at(30)), true);
        assert.equal(await s.revokeGrant('gb', 'alice', at(31)), false);
        assert.equal(await s.revokeGrant('nope', 'alice', at(31)), false);
        assert.equal(await s.useGrant('gb', at(40)), false, 'revoked');
        const gb = await s.getGrant('gb');
        assert.deepEqual([gb?.revokedAt, gb?.revokedBy], [at(30), 'alice']);
        assert.deepEqual(await s.activeGrants('bot', at(40)), []);
        assert.equal((await s.listGrants({ agent: 'bot' })).length, 2);
        assert.equal((await s.listGrants({ agent: 'other' })).length, 0);
        assert.equal((await s.listGrants({ activeAt: at(20) })).length, 0);
        assert.deepEqual(
          (await s.ledger({ grantId: 'gb' })).map((e) => e.kind),
          ['approval.resolved', 'grant.issued', 'grant.revoked'],
        );
      });

      it('lets exactly maxUses of many concurrent uses from two stores win', async () => {
        const { s, again } = await fresh();
        await s.createApproval(approval('a'));
        await s.recordDecision(decision('a', 'alice'), { status: 'approved', grant: grant('ga', 'a', 3) });
        const other = await again();
        const wins = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? s : other).useGrant('ga', at(20))),
        );
        assert.equal(wins.filter(Boolean).length, 3);
        assert.equal((await s.getGrant('ga'))?.uses, 3);
      });

      it('stops a grant revoked through another store at once', async () => {
        const { s, again } = await fresh();
        await s.createApproval(approval('a'));
        await s.recordDecision(decision('a', 'alice'), { status: 'approved', grant: grant('ga', 'a') });
        assert.equal((await s.activeGrants('bot', at(20))).length, 1);
        const other = await again();
        assert.equal(await other.revokeGrant('ga', 'alice', at(21)), true);
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(await s.activeGrants('bot', at(22)), []);
      });
    });

    describe('ledger', () => {
      it('keeps call order across actions, intents, outcomes and other writes', async () => {
        const { s } = await fresh();
        const writes: Promise<unknown>[] = [];
        writes.push(s.recordAction(action(1, { outcome: 'denied', upstreamStatus: undefined })));
        writes.push(s.recordIntent(action(2)));
        writes.push(s.recordOutcome(outcome(2)));
        writes.push(s.createAgent(agent('bot')));
        writes.push(s.recordIntent(action(3)));
        writes.push(s.recordAction(action(4)));
        await Promise.all(writes);
        const entries = await s.ledger({});
        assert.deepEqual(
          entries.map((e) => [e.kind, (JSON.parse(e.body) as { requestId?: string }).requestId]),
          [
            ['action', 'act-1'],
            ['action', 'act-2'],
            ['action.outcome', 'act-2'],
            ['agent.created', undefined],
            ['action', 'act-3'],
            ['action', 'act-4'],
          ],
        );
        assert.equal((JSON.parse(entries[1]?.body ?? '{}') as { phase?: string }).phase, 'intent');
        assert.deepEqual(
          entries.map((e) => e.seq),
          [1, 2, 3, 4, 5, 6],
        );
      });

      it('resolves an intent without waiting for the group-commit timer', async () => {
        const { again } = await fresh();
        const s = await again({ groupCommitMs: 5000 });
        const refusal = s.recordAction(action(0)); // waits for the timer...
        const t = performance.now();
        await s.recordIntent(action(1)); // ...until an intent seals the batch on the next turn
        await refusal;
        assert.ok(performance.now() - t < 2500, `intent took ${(performance.now() - t).toFixed(1)} ms`);
        assert.deepEqual(
          (await s.ledger({})).map((e) => e.seq),
          [1, 2],
        );
      });

      it('group-commits 500 concurrent actions in call order with a valid chain', async () => {
        const { s } = await fresh();
        await Promise.all(Array.from({ length: 500 }, (_, i) => s.recordAction(action(i))));
        const entries = await s.ledger({});
        assert.deepEqual(
          entries.map((e) => (JSON.parse(e.body) as { requestId: string }).requestId),
          Array.from({ length: 500 }, (_, i) => `act-${i}`),
        );
        assert.deepEqual(await s.verify(), { ok: true, entries: 500, head: entries.at(-1)?.hash });
      });

      it('filters by approval (with its grant’s actions), grant and agent', async () => {
        const { s } = await fresh();
        await populate(s);
        await s.recordAction(action(99, { agent: 'other' }));
        const byApproval = (await s.ledger({ approvalId: 'ap1' })).map((e) => e.kind);
        assert.deepEqual(byApproval.slice(0, 5), [
          'approval.requested',
          'approval.shown',
          'approval.decided',
          'approval.resolved',
          'grant.issued',
        ]);
        assert.equal(byApproval.filter((k) => k === 'action').length, 6);
        assert.equal((await s.ledger({ grantId: 'g1' })).filter((e) => e.kind === 'action').length, 6);
        assert.deepEqual(
          (await s.ledger({ agent: 'other' })).map((e) => e.kind),
          ['action'],
        );
        assert.equal((await s.ledger({ agent: 'bot', grantId: 'g1' })).length, 8);
      });

      it('never writes the sealed secret or a token hash into the ledger', async () => {
        const { s } = await fresh();
        await populate(s);
        const text = (await s.ledger({})).map((e) => e.body).join('\n');
        assert.ok(!text.includes(SECRET));
        assert.ok(!text.includes('alice-token-hash'));
      });

      it('head() and entryAt() show the last entry actually written', async () => {
        const { s } = await fresh();
        assert.deepEqual(await s.head(), { seq: 0, hash: GENESIS_HASH });
        assert.equal(await s.entryAt(1), undefined);
        await populate(s);
        const head = await s.head();
        assert.equal(head.seq, 13);
        const last = await s.entryAt(13);
        assert.equal(last?.hash, head.hash);
        assert.equal(last?.kind, 'action');
        assert.equal((await s.entryAt(1))?.prevHash, GENESIS_HASH);
        assert.equal((await s.entryAt(2))?.prevHash, (await s.entryAt(1))?.hash);
        assert.equal(await s.entryAt(14), undefined);
      });

      it('keeps one chain when two stores append to the same database', async () => {
        const { s, again } = await fresh();
        const other = await again();
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 100; i++) {
          writes.push((i % 2 === 0 ? s : other).recordAction(action(i)));
          if (i % 10 === 0) writes.push((i % 20 === 0 ? s : other).createApproval(approval(`ap${i}`)));
        }
        await Promise.all(writes);
        const r = await other.verify();
        assert.deepEqual([r.ok, r.entries], [true, 110]);
        assert.deepEqual(await s.head(), await other.head());
      });

      it('persists state and the chain across a reopen', async () => {
        const { s, again } = await fresh();
        await populate(s);
        await s.close();
        const s2 = await again();
        assert.equal((await s2.agentByName('bot'))?.name, 'bot');
        assert.equal((await s2.getGrant('g1'))?.id, 'g1');
        await s2.recordAction(action(100));
        const r = await s2.verify();
        assert.deepEqual([r.ok, r.entries], [true, 14]);
      });
    });

    describe('verify', () => {
      it('passes an intact ledger', async () => {
        const r = await tampered('');
        assert.deepEqual([r.ok, r.entries], [true, 13]);
      });

      it('names an edited entry', async () => {
        const r = await tampered(
          "UPDATE ledger SET body = replace(body, 'checked the item', 'LGTM') WHERE seq = 5",
        );
        assert.deepEqual(problemOf(r), [false, 'edited', 5]);
      });

      it('names a forged entry re-hashed without the key as edited', async () => {
        const r = await tampered(`UPDATE ledger SET body = '{}', hash = '${'a'.repeat(64)}' WHERE seq = 4`);
        assert.deepEqual(problemOf(r), [false, 'edited', 4]);
      });

      it('names a deleted middle entry', async () => {
        assert.deepEqual(problemOf(await tampered('DELETE FROM ledger WHERE seq = 7')), [
          false,
          'deleted',
          7,
        ]);
      });

      it('names a truncated tail (the head row remembers it)', async () => {
        const r = await tampered('DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger)');
        assert.deepEqual(problemOf(r), [false, 'truncated', 13]);
      });

      it('names swapped entries as reordered', async () => {
        const r = await tampered(
          'UPDATE ledger SET seq = -1 WHERE seq = 3; UPDATE ledger SET seq = 3 WHERE seq = 8; UPDATE ledger SET seq = 8 WHERE seq = -1',
        );
        assert.deepEqual(problemOf(r), [false, 'reordered', 3]);
      });
    });

    describe('mcp: accepted tool definitions, grant breadth', () => {
      it('keeps the breadth an approver chose, in the decision and in the grant', async () => {
        const { s } = await fresh();
        await s.createApprover(approver('alice'));
        const tool = { action: 'mcp:call', resource: 'arn:airlock:mcp:github:tool/create_issue' };
        await s.createApproval(approval('ap1', { scopes: [{ ...tool, call: 'c'.repeat(64) }] }));
        const d = {
          ...decision('ap1', 'alice'),
          reviewSeconds: 5,
          viewedDetail: true,
          breadth: 'scope' as const,
        };
        const g = { ...grant('g1', 'ap1'), scopes: [tool], breadth: 'scope' as const };
        await s.recordDecision(d, { status: 'approved', grant: g });
        assert.equal((await s.decisions('ap1'))[0]?.breadth, 'scope');
        assert.deepEqual(await s.getGrant('g1'), g);
        assert.equal((await s.activeGrants('bot', at(20)))[0]?.breadth, 'scope');
        const issued = (await s.ledger({ grantId: 'g1' })).find((e) => e.kind === 'grant.issued');
        assert.equal((JSON.parse(issued?.body ?? '{}') as { breadth?: string }).breadth, 'scope');
      });

      it('records an accepted definition in the chain, between other writes, and verify catches an edit', async () => {
        const { s, f, again } = await fresh();
        await s.createAgent(agent('bot'));
        const accepted = {
          server: 'github',
          tool: 'create_issue',
          oldHash: 'a'.repeat(64),
          newHash: 'b'.repeat(64),
          by: 'os:ops',
          at: at(5),
        };
        await s.recordAction(action(1));
        await s.recordMcpToolAccepted(accepted);
        const entries = await s.ledger({});
        assert.deepEqual(
          entries.map((e) => e.kind),
          ['agent.created', 'action', 'mcp.tool.accepted'],
        );
        const e = entries[2];
        assert.equal(e?.at.getTime(), at(5).getTime());
        assert.equal(e?.agent, undefined);
        assert.deepEqual(JSON.parse(e?.body ?? ''), { ...accepted, at: at(5).toISOString() });
        assert.deepEqual(await s.verify(), { ok: true, entries: 3, head: e?.hash });
        await s.close();
        await f.raw(
          `UPDATE ledger SET body = replace(body, '${'b'.repeat(64)}', '${'c'.repeat(64)}') WHERE seq = 3`,
        );
        const r = await (await again()).verify();
        assert.deepEqual(problemOf(r), [false, 'edited', 3]);
      });
    });

    describe('coordination: state shared by processes on one store', () => {
      const session = (approver: string, expiresAt: Date) => ({
        approver,
        csrf: `csrf-${approver}`,
        via: 'password' as const,
        credential: 'digest',
        createdAt: at(0),
        expiresAt,
      });

      it('a console session made through one store is read, ended and swept through another', async () => {
        const { s, again } = await fresh();
        const other = await again();
        await s.coordination.putSession('h1', session('alice', at(100)));
        await s.coordination.putSession('h2', session('alice', at(100)));
        await s.coordination.putSession('h3', session('bob', at(10)));
        assert.deepEqual(await other.coordination.getSession('h1', at(1)), session('alice', at(100)));
        assert.equal(await other.coordination.getSession('h3', at(10)), undefined, 'expired at expiresAt');
        assert.equal(await other.coordination.getSession('nope', at(1)), undefined);
        await other.coordination.endSession('h1');
        assert.equal(await s.coordination.getSession('h1', at(1)), undefined, 'sign-out ends it everywhere');
        await other.coordination.endSessionsOf('alice');
        assert.equal(await s.coordination.getSession('h2', at(1)), undefined);
        await assert.rejects(
          s.coordination.putSession('h3', session('eve', at(100))),
          'an id hash is never reused',
        );
        await s.coordination.sweep(at(11));
        await s.coordination.putSession('h3', session('eve', at(100)));
        assert.equal((await other.coordination.getSession('h3', at(12)))?.approver, 'eve');
      });

      it('keeps an OIDC flow for another store to take once, until it expires, within a cap', async () => {
        const { s, again } = await fresh();
        const other = await again();
        assert.equal(await s.coordination.putOidcFlow('st1', '{"v":1}', at(600), at(0), 2), true);
        assert.equal(await s.coordination.putOidcFlow('st2', '{"v":2}', at(5), at(0), 2), true);
        assert.equal(
          await other.coordination.putOidcFlow('st3', '{"v":3}', at(600), at(1), 2),
          false,
          'capped',
        );
        assert.equal(await other.coordination.takeOidcFlow('st1', at(1)), '{"v":1}');
        assert.equal(await s.coordination.takeOidcFlow('st1', at(1)), undefined, 'taken once');
        assert.equal(await other.coordination.takeOidcFlow('st2', at(5)), undefined, 'expired');
        assert.equal(await other.coordination.putOidcFlow('st3', '{"v":3}', at(600), at(6), 2), true);
      });

      it('counts sign-in failures across stores within a window, and starts over after it', async () => {
        const { s, again } = await fresh();
        const other = await again();
        const w = 300_000;
        assert.equal(await s.coordination.signInFailed('alice', at(0), w), 1);
        assert.equal(await other.coordination.signInFailed('alice', at(10), w), 2);
        const both = await Promise.all([
          s.coordination.signInFailed('alice', at(20), w),
          other.coordination.signInFailed('alice', at(20), w),
        ]);
        assert.deepEqual(both.sort(), [3, 4], 'concurrent failures are both counted');
        assert.equal(await other.coordination.signInFailures('alice', at(299), w), 4);
        assert.equal(await other.coordination.signInFailures('alice', at(300), w), 0, 'the window passed');
        assert.equal(await s.coordination.signInFailed('alice', at(301), w), 1, 'a new window');
        await other.coordination.signInSucceeded('alice');
        assert.equal(await s.coordination.signInFailures('alice', at(302), w), 0);
        assert.equal(await s.coordination.signInFailures('bob', at(302), w), 0);
      });

      it('routes a cancel marked through any store to the owner, once; sweeps keys of a process that is gone', async () => {
        const { s, again } = await fresh();
        const other = await again();
        assert.equal(await s.coordination.putCancelKey({ pid: 7, secretHash: 'k7', owner: 'A' }), true);
        assert.equal(await other.coordination.putCancelKey({ pid: 7, secretHash: 'zz', owner: 'B' }), false);
        assert.equal(await s.coordination.putCancelKey({ pid: 8, secretHash: 'k8', owner: 'A' }), true);
        assert.equal(await other.coordination.requestCancel(7, 'wrong'), undefined, 'the secret must match');
        assert.deepEqual(await s.coordination.takeCancels('A'), []);
        assert.equal(await other.coordination.requestCancel(7, 'k7'), 'A');
        assert.deepEqual(await s.coordination.takeCancels('B'), []);
        assert.deepEqual(await s.coordination.takeCancels('A'), [7]);
        assert.deepEqual(await s.coordination.takeCancels('A'), [], 'taken once');
        await s.coordination.dropCancelKey(7);
        assert.equal(await other.coordination.requestCancel(7, 'k7'), undefined);
        // A holds its process lease: its key survives a sweep; once the lease lapses it does not.
        assert.equal(await s.coordination.tryLease('process:A', 'A', at(0), 30_000), true);
        await other.coordination.sweep(at(10));
        assert.equal(await other.coordination.requestCancel(8, 'k8'), 'A');
        await other.coordination.sweep(at(31));
        assert.equal(await other.coordination.requestCancel(8, 'k8'), undefined);
      });

      it('gives a lease to one holder at a time, renews it, and hands it over once it lapses', async () => {
        const { s, again } = await fresh();
        const other = await again();
        const race = await Promise.all([
          s.coordination.tryLease('expiry-sweep', 'A', at(0), 5000),
          other.coordination.tryLease('expiry-sweep', 'B', at(0), 5000),
        ]);
        assert.equal(race.filter(Boolean).length, 1, 'exactly one wins');
        const [winner, loser] = race[0] ? (['A', 'B'] as const) : (['B', 'A'] as const);
        assert.equal(await s.coordination.tryLease('expiry-sweep', winner, at(4), 5000), true, 'renewed');
        assert.equal(
          await other.coordination.tryLease('expiry-sweep', loser, at(8), 5000),
          false,
          'renewal counts',
        );
        assert.equal(
          await other.coordination.tryLease('expiry-sweep', loser, at(9), 5000),
          true,
          'lapsed: taken over',
        );
        assert.equal(await s.coordination.tryLease('expiry-sweep', winner, at(10), 5000), false);
        assert.equal(
          await s.coordination.tryLease('other-job', winner, at(10), 5000),
          true,
          'leases are per name',
        );
      });
    });

    describe('health', () => {
      it('is healthy and writable when open; fails closed with StoreFault once closed', async () => {
        const { s } = await fresh();
        assert.deepEqual(s.health(), { ok: true });
        await s.checkWritable();
        await s.recordAction(action(1));
        await s.close();
        assert.equal(s.health().ok, false);
        await assert.rejects(s.recordIntent(action(2)), StoreFault);
        await assert.rejects(s.recordAction(action(3)), StoreFault);
        await assert.rejects(s.recordOutcome(outcome(2)), StoreFault);
        await assert.rejects(s.createAgent(agent('late')), StoreFault);
        await assert.rejects(s.checkWritable(), StoreFault);
        await s.close(); // twice is fine
      });

      it('close() makes queued actions durable', async () => {
        const { s, again } = await fresh();
        const queued = Array.from({ length: 5 }, (_, i) => s.recordAction(action(i)));
        await s.close();
        await Promise.all(queued);
        const s2 = await again();
        assert.equal((await s2.head()).seq, 5);
      });
    });
  });
}
