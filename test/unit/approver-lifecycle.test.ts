import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  AdminError,
  createAgent,
  createApprover,
  rotateApproverToken,
  setApproverGroups,
} from '../../src/admin.js';
import { votingGroups } from '../../src/approvals/quorum.js';
import { hashToken, MasterKey } from '../../src/core/secrets.js';
import { approverStateProblems, approversFromLedger } from '../../src/ledger/approver-state.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-approvers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('approver lifecycle in the ledger', () => {
  const path = join(dir, 'a.sqlite');
  let store: SqliteStore;
  let aliceToken: string;
  before(async () => {
    store = SqliteStore.open({ path, ledgerKey: randomBytes(32) });
    aliceToken = (await createApprover(store, 'alice', ['dba'])).token;
    await createApprover(store, 'bob', ['dba', 'finance']);
  });
  after(async () => {
    await store.close();
  });
  const problems = async () =>
    approverStateProblems(approversFromLedger(await store.approverEntries()), await store.listApprovers());

  it('records revocation, group changes and token rotation, and the table matches the replay', async () => {
    const newToken = await rotateApproverToken(store, 'alice');
    assert.equal(await store.approverByTokenHash(hashToken(aliceToken)), undefined);
    assert.equal((await store.approverByTokenHash(hashToken(newToken)))?.name, 'alice');
    await setApproverGroups(store, 'alice', ['dba', 'ops']);
    assert.deepEqual((await store.approverByName('alice'))?.groups, ['dba', 'ops']);
    assert.ok(await store.revokeApprover('bob', new Date()));
    assert.equal(await store.revokeApprover('bob', new Date()), false);
    await assert.rejects(setApproverGroups(store, 'bob', ['dba']), AdminError);
    await assert.rejects(rotateApproverToken(store, 'bob'), AdminError);
    const kinds = (await store.approverEntries()).map((e) => `${e.kind}:${JSON.parse(e.body).change ?? ''}`);
    assert.deepEqual(kinds, [
      'approver.created:',
      'approver.created:',
      'approver.updated:token-rotated',
      'approver.updated:groups',
      'approver.revoked:',
    ]);
    // No credential reaches the ledger, only its digest.
    const all = (await store.ledger({})).map((e) => e.body).join('\n');
    assert.ok(!all.includes(hashToken(newToken)));
    assert.ok(!all.includes(newToken));
    assert.deepEqual(await problems(), []);
    assert.equal((await store.verify()).ok, true);
  });

  it('catches every hand edit of the approvers table', async () => {
    const db = new Database(path);
    // Each edit is committed (the store must see it), then the table is put back.
    const saved = db.prepare('SELECT * FROM approvers').all() as Record<string, unknown>[];
    const restore = () => {
      db.exec('DELETE FROM approvers');
      for (const row of saved) {
        const cols = Object.keys(row);
        db.prepare(
          `INSERT INTO approvers (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ).run(...Object.values(row));
      }
    };
    const edit = async (sql: string, ...args: unknown[]): Promise<string[]> => {
      db.prepare(sql).run(...args);
      try {
        return await problems();
      } finally {
        restore();
      }
    };
    try {
      const one = async (sql: string, re: RegExp, ...args: unknown[]) => {
        const found = await edit(sql, ...args);
        assert.equal(found.length, 1, found.join('\n'));
        assert.match(found[0] ?? '', re);
      };
      await one(
        "UPDATE approvers SET revoked_at = NULL WHERE name = 'bob'",
        /bob was revoked .* active again/,
      );
      await one(
        'UPDATE approvers SET groups = \'["dba","ops","finance"]\' WHERE name = \'alice\'',
        /alice has groups/,
      );
      await one(
        "UPDATE approvers SET token_hash = ? WHERE name = 'alice'",
        /alice's token hash/,
        hashToken('alt_x'),
      );
      await one(
        "UPDATE approvers SET password_hash = 'scrypt$x' WHERE name = 'alice'",
        /alice has a console password/,
      );
      await one("DELETE FROM approvers WHERE name = 'bob'", /bob is in the ledger but missing/);
      await one(
        "INSERT INTO approvers (name, groups, token_hash, created_at) VALUES ('eve', '[\"dba\"]', 'h', 0)",
        /eve is in the approvers table but the ledger never recorded it/,
      );
    } finally {
      db.close();
    }
    assert.deepEqual(await problems(), []);
  });

  it('checks agent/approver names inside the write transaction', async () => {
    const key = MasterKey.fromBytes(randomBytes(32));
    // Bypass admin.ts's early checks: the store itself must refuse.
    await assert.rejects(
      store.createAgent({
        name: 'alice',
        accessKeyId: 'ALAKX',
        sealedSecret: 's',
        createdAt: new Date(),
        revokedAt: undefined,
      }),
      /alice is an approver/,
    );
    await createAgent(store, key, 'report-bot');
    await assert.rejects(
      store.createApprover({
        name: 'report-bot',
        groups: ['dba'],
        tokenHash: 'h2',
        createdAt: new Date(),
        revokedAt: undefined,
      }),
      /report-bot is an agent/,
    );
    await assert.rejects(
      store.upsertSsoApprover('report-bot', ['dba'], new Date(), 'sub-1'),
      /is an agent identity/,
    );
  });

  it('refuses, inside the write, a decision by or counting an approver revoked meanwhile', async () => {
    const approval = {
      id: 'ap-rv',
      requestId: 'req-rv',
      agent: 'report-bot',
      service: 'dynamodb',
      operation: 'PutItem',
      scopes: [],
      reason: 'r',
      summary: {},
      policyReasons: [],
      terms: {
        requirements: [{ group: 'dba', quorum: 2, policyId: 'p' }],
        maxGrantSeconds: 60,
        requireReason: false,
      },
      status: 'pending' as const,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
      decidedAt: undefined,
      grantId: undefined,
    };
    await store.createApproval(approval);
    const vote = (approver: string) => ({
      approvalId: 'ap-rv',
      approver,
      verdict: 'approve' as const,
      comment: '',
      channel: 'api',
      shownAt: undefined,
      decidedAt: new Date(),
    });
    await assert.rejects(store.recordDecision(vote('bob')), /approver bob was revoked/);
    await assert.rejects(
      store.recordDecision(vote('alice'), { status: 'approved', countedApprovers: ['alice', 'bob'] }),
      /approver bob was revoked/,
    );
    assert.equal((await store.getApproval('ap-rv'))?.status, 'pending');
    assert.deepEqual(await store.decisions('ap-rv'), []);
  });

  it("a revoked approver's vote counts for no group", async () => {
    const groupsOf = votingGroups(await store.listApprovers());
    assert.deepEqual(groupsOf('alice'), ['dba', 'ops']);
    assert.deepEqual(groupsOf('bob'), []);
    assert.deepEqual(groupsOf('nobody'), []);
  });
});
