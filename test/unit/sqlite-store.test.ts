import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ActionRecord, Approval, Grant } from '../../src/core/types.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { StoreConflict } from '../../src/ledger/store.js';

const key = randomBytes(32);
const t0 = Date.parse('2030-01-01T00:00:00Z');
const at = (s: number): Date => new Date(t0 + s * 1000);
const scopes = [
  { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' },
];

function approval(id: string, expiresIn = 300): Approval {
  return {
    id,
    requestId: `req-${id}`,
    agent: 'bot',
    service: 'dynamodb',
    operation: 'PutItem',
    scopes,
    reason: id === 'ap-noreason' ? undefined : 'restock',
    summary: { table: 'orders' },
    policyReasons: ['writes-need-approval'],
    terms: {
      requirements: [{ group: 'ops', quorum: 1, policyId: 'p1' }],
      maxGrantSeconds: 600,
      requireReason: true,
    },
    status: 'pending',
    createdAt: at(0),
    expiresAt: at(expiresIn),
    decidedAt: undefined,
    grantId: undefined,
  };
}

function grant(id: string, approvalId: string, maxUses?: number): Grant {
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

function action(n: number, extra: Partial<ActionRecord> = {}): ActionRecord {
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

const decision = (approvalId: string, approver: string) => ({
  approvalId,
  approver,
  verdict: 'approve' as const,
  comment: 'checked the item',
  channel: 'cli',
  shownAt: at(5),
  decidedAt: at(10),
});

const SECRET = 'sealed-SECRET-value';
const TOKEN_HASH = 'f'.repeat(64);

let dir: string;
let n = 0;
const nextPath = (): string => join(dir, `s${n++}.sqlite`);
const open = (path: string): SqliteStore => SqliteStore.open({ path, ledgerKey: key });

before(() => {
  dir = mkdtempSync(`${tmpdir()}/airlock-`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A store with an agent, an approver, an approved approval with a grant, and some actions. */
async function populated(path: string, actions = 6): Promise<SqliteStore> {
  const s = open(path);
  await s.createAgent({
    name: 'bot',
    accessKeyId: 'AKIDBOT',
    sealedSecret: SECRET,
    createdAt: at(0),
    revokedAt: undefined,
  });
  await s.createApprover({
    name: 'alice',
    groups: ['ops'],
    tokenHash: TOKEN_HASH,
    createdAt: at(0),
    revokedAt: undefined,
  });
  await s.createApproval(approval('ap1'));
  await s.markShown('ap1', 'alice', at(5));
  await s.recordDecision(decision('ap1', 'alice'), { status: 'approved', grant: grant('g1', 'ap1') });
  await Promise.all(
    Array.from({ length: actions }, (_, i) =>
      s.recordAction(action(i, { grantId: 'g1', approvalId: 'ap1' })),
    ),
  );
  return s;
}

/** Builds a ledger, closes it, runs `sql` on it through a raw connection, and verifies. */
async function tamper(edit: (db: Database.Database) => void) {
  const path = nextPath();
  const s = await populated(path);
  await s.close();
  const db = new Database(path);
  edit(db);
  db.close();
  const again = open(path);
  const r = await again.verify();
  await again.close();
  return r;
}

function swapRows(db: Database.Database, a: number, b: number): void {
  db.transaction(() => {
    db.prepare('UPDATE ledger SET seq = -1 WHERE seq = ?').run(a);
    db.prepare('UPDATE ledger SET seq = ? WHERE seq = ?').run(a, b);
    db.prepare('UPDATE ledger SET seq = ? WHERE seq = -1').run(b);
  })();
}

describe('SqliteStore state', () => {
  it('creates, finds and revokes agents', async () => {
    const s = await populated(nextPath(), 0);
    assert.equal((await s.agentByAccessKey('AKIDBOT'))?.name, 'bot');
    assert.equal((await s.agentByName('bot'))?.sealedSecret, SECRET);
    assert.equal(await s.agentByAccessKey('nope'), undefined);
    await assert.rejects(
      s.createAgent({
        name: 'bot',
        accessKeyId: 'X',
        sealedSecret: 'x',
        createdAt: at(1),
        revokedAt: undefined,
      }),
      StoreConflict,
    );
    assert.equal(await s.revokeAgent('bot', at(30)), true);
    assert.equal(await s.revokeAgent('bot', at(31)), false);
    assert.deepEqual(
      (await s.listAgents()).map((a) => a.revokedAt),
      [at(30)],
    );
    assert.deepEqual(
      (await s.ledger({ agent: 'bot' })).filter((e) => e.kind.startsWith('agent.')).map((e) => e.kind),
      ['agent.created', 'agent.revoked'],
    );
    await s.close();
  });

  it('finds approvers by token hash', async () => {
    const s = await populated(nextPath(), 0);
    const a = await s.approverByTokenHash(TOKEN_HASH);
    assert.deepEqual(a, {
      name: 'alice',
      groups: ['ops'],
      tokenHash: TOKEN_HASH,
      createdAt: at(0),
      revokedAt: undefined,
    });
    assert.equal(await s.approverByTokenHash('0'.repeat(64)), undefined);
    assert.equal((await s.listApprovers()).length, 1);
    await s.close();
  });

  it('binds an SSO approver name to the first identity (subject) that signs in with it', async () => {
    const s = await populated(nextPath(), 0);
    const first = await s.upsertSsoApprover('j-doe', ['dba'], at(1), 'sub-1');
    assert.equal(first.source, 'oidc');
    // The same person again, with new groups: allowed, groups follow the provider.
    assert.deepEqual((await s.upsertSsoApprover('j-doe', ['dba', 'sre'], at(2), 'sub-1')).groups, [
      'dba',
      'sre',
    ]);
    // Another identity whose name folds to the same approver name (j.doe@ vs j-doe@): refused.
    await assert.rejects(s.upsertSsoApprover('j-doe', ['dba'], at(3), 'sub-2'), /another SSO identity/);
    // A local approver's name cannot be taken over by SSO.
    await assert.rejects(s.upsertSsoApprover('alice', ['ops'], at(4), 'sub-3'), /local approver/);
    await s.close();
  });

  it('creates, gets and lists approvals; markShown keeps the first time', async () => {
    const s = open(':memory:');
    await s.createApproval(approval('ap-noreason'));
    await s.createApproval(approval('ap2'));
    assert.deepEqual(await s.getApproval('ap-noreason'), approval('ap-noreason'));
    assert.deepEqual(await s.getApproval('ap2'), approval('ap2'));
    assert.equal((await s.listApprovals({ status: 'pending' })).length, 2);
    assert.equal((await s.listApprovals({ status: 'approved' })).length, 0);
    assert.equal(await s.shownAt('ap2', 'alice'), undefined);
    assert.deepEqual(await s.markShown('ap2', 'alice', at(5)), at(5));
    assert.deepEqual(await s.markShown('ap2', 'alice', at(9)), at(5));
    assert.deepEqual(await s.shownAt('ap2', 'alice'), at(5));
    assert.equal(
      (await s.ledger({ approvalId: 'ap2' })).filter((e) => e.kind === 'approval.shown').length,
      1,
    );
    await s.close();
  });

  it('records decisions with and without resolving, and refuses conflicts', async () => {
    const s = open(':memory:');
    await s.createApproval(approval('ap1'));
    await s.recordDecision(decision('ap1', 'alice'));
    assert.equal((await s.getApproval('ap1'))?.status, 'pending');
    await assert.rejects(s.recordDecision(decision('ap1', 'alice')), StoreConflict);
    await s.recordDecision(decision('ap1', 'bob'), { status: 'approved', grant: grant('g1', 'ap1') });
    const ap = await s.getApproval('ap1');
    assert.equal(ap?.status, 'approved');
    assert.equal(ap?.grantId, 'g1');
    assert.deepEqual(ap?.decidedAt, at(10));
    assert.deepEqual(await s.getGrant('g1'), grant('g1', 'ap1'));
    assert.deepEqual(
      (await s.decisions('ap1')).map((d) => d.approver),
      ['alice', 'bob'],
    );
    await assert.rejects(s.recordDecision(decision('ap1', 'carol')), /approval ap1 is approved/);

    await s.createApproval(approval('ap2'));
    await s.recordDecision({ ...decision('ap2', 'alice'), verdict: 'deny' }, { status: 'denied' });
    assert.equal((await s.getApproval('ap2'))?.status, 'denied');
    await assert.rejects(s.recordDecision(decision('ap2', 'bob')), StoreConflict);
    const kinds = (await s.ledger({ approvalId: 'ap1' })).map((e) => e.kind);
    assert.deepEqual(kinds, [
      'approval.requested',
      'approval.decided',
      'approval.decided',
      'approval.resolved',
      'grant.issued',
    ]);
    await s.close();
  });

  it('counts grant uses against maxUses, expiry and revocation', async () => {
    const s = open(':memory:');
    for (const id of ['a', 'b']) await s.createApproval(approval(id));
    await s.recordDecision(decision('a', 'alice'), { status: 'approved', grant: grant('ga', 'a', 2) });
    await s.recordDecision(decision('b', 'alice'), { status: 'approved', grant: grant('gb', 'b') });
    assert.deepEqual(
      (await s.activeGrants('bot', at(20))).map((g) => g.id),
      ['ga', 'gb'],
    );
    assert.equal(await s.useGrant('ga', at(20)), true);
    assert.equal(await s.useGrant('ga', at(20)), true);
    assert.equal(await s.useGrant('ga', at(20)), false);
    assert.equal((await s.getGrant('ga'))?.uses, 2);
    assert.deepEqual(
      (await s.activeGrants('bot', at(20))).map((g) => g.id),
      ['gb'],
    );
    assert.equal(await s.useGrant('gb', at(600)), false, 'expired');
    assert.equal(await s.revokeGrant('gb', 'alice', at(30)), true);
    assert.equal(await s.revokeGrant('gb', 'alice', at(31)), false);
    assert.equal(await s.useGrant('gb', at(40)), false, 'revoked');
    const gb = await s.getGrant('gb');
    assert.deepEqual([gb?.revokedAt, gb?.revokedBy], [at(30), 'alice']);
    assert.equal((await s.listGrants({ agent: 'bot' })).length, 2);
    assert.equal((await s.listGrants({ activeAt: at(20) })).length, 0);
    assert.deepEqual(
      (await s.ledger({ grantId: 'gb' })).map((e) => e.kind),
      ['approval.resolved', 'grant.issued', 'grant.revoked'],
    );
    await s.close();
  });

  it('expires pending approvals that are due', async () => {
    const s = open(':memory:');
    await s.createApproval(approval('soon', 60));
    await s.createApproval(approval('later', 600));
    assert.deepEqual(await s.expireApprovals(at(60)), ['soon']);
    assert.deepEqual(await s.expireApprovals(at(60)), []);
    assert.equal((await s.getApproval('soon'))?.status, 'expired');
    assert.equal((await s.getApproval('later'))?.status, 'pending');
    const resolved = (await s.ledger({ approvalId: 'soon' })).at(-1);
    assert.equal(resolved?.kind, 'approval.resolved');
    assert.equal(JSON.parse(resolved?.body ?? '{}').status, 'expired');
    await s.close();
  });
});

describe('SqliteStore read cache', () => {
  /** The cache trusts one data_version read per event-loop turn: start a new turn. */
  const nextTurn = () => new Promise<void>((r) => setImmediate(r));

  it('sees an agent revoked by another connection (another process) on the next turn', async () => {
    const path = nextPath();
    const s = await populated(path, 0);
    assert.equal((await s.agentByAccessKey('AKIDBOT'))?.revokedAt, undefined);
    assert.equal((await s.agentByName('bot'))?.revokedAt, undefined);
    const other = open(path);
    assert.equal(await other.revokeAgent('bot', at(30)), true);
    await other.close();
    await nextTurn();
    assert.deepEqual((await s.agentByAccessKey('AKIDBOT'))?.revokedAt, at(30));
    assert.deepEqual((await s.agentByName('bot'))?.revokedAt, at(30));
    await s.close();
  });

  it('sees a grant revoked by another connection on the next turn', async () => {
    const path = nextPath();
    const s = await populated(path, 0);
    assert.deepEqual(
      (await s.activeGrants('bot', at(20))).map((g) => g.id),
      ['g1'],
    );
    const other = open(path);
    assert.equal(await other.revokeGrant('g1', 'alice', at(21)), true);
    await other.close();
    await nextTurn();
    assert.deepEqual(await s.activeGrants('bot', at(22)), []);
    await s.close();
  });

  it('reflects its own writes at once: uses spent, revocation, expiry, an earlier clock', async () => {
    const s = open(nextPath());
    await s.createApproval(approval('ap2'));
    await s.recordDecision(decision('ap2', 'alice'), { status: 'approved', grant: grant('g2', 'ap2', 2) });
    assert.equal((await s.activeGrants('bot', at(20)))[0]?.uses, 0);
    assert.equal(await s.useGrant('g2', at(20)), true);
    assert.equal((await s.activeGrants('bot', at(20)))[0]?.uses, 1);
    assert.equal(await s.useGrant('g2', at(20)), true);
    // max_uses reached: no longer active, though cached a moment ago.
    assert.deepEqual(await s.activeGrants('bot', at(20)), []);

    await s.createApproval(approval('ap3'));
    await s.recordDecision(decision('ap3', 'alice'), { status: 'approved', grant: grant('g3', 'ap3') });
    assert.deepEqual(
      (await s.activeGrants('bot', at(30))).map((g) => g.id),
      ['g3'],
    );
    // Time alone ends a cached grant (expires at 600 s)...
    assert.deepEqual(await s.activeGrants('bot', at(600)), []);
    // ...and a clock earlier than the cached moment is answered from the database.
    assert.deepEqual(
      (await s.activeGrants('bot', at(15))).map((g) => g.id),
      ['g3'],
    );
    assert.equal(await s.revokeGrant('g3', 'alice', at(31)), true);
    assert.deepEqual(await s.activeGrants('bot', at(32)), []);
    await s.close();
  });

  it('hands out rows no caller can change', async () => {
    const s = await populated(nextPath(), 0);
    const a = await s.agentByAccessKey('AKIDBOT');
    assert.throws(() => {
      (a as { revokedAt: Date | undefined }).revokedAt = at(1);
    }, TypeError);
    const [g] = await s.activeGrants('bot', at(20));
    assert.throws(() => {
      (g as { uses: number }).uses = 99;
    }, TypeError);
    await s.close();
  });
});

describe('SqliteStore ledger', () => {
  it('finds the actions under an approval’s grant by approvalId', async () => {
    const s = await populated(nextPath(), 3);
    await s.recordAction(action(99));
    const entries = await s.ledger({ approvalId: 'ap1' });
    assert.deepEqual(
      entries.map((e) => e.kind),
      [
        'approval.requested',
        'approval.shown',
        'approval.decided',
        'approval.resolved',
        'grant.issued',
        'action',
        'action',
        'action',
      ],
    );
    assert.deepEqual(
      entries.map((e) => e.seq),
      [...entries.map((e) => e.seq)].sort((a, b) => a - b),
    );
    const requested = JSON.parse(entries[0]?.body ?? '{}');
    assert.equal(requested.createdAt, at(0).toISOString());
    await s.close();
  });

  it('group-commits 1000 concurrent actions in call order with a valid chain', async () => {
    const s = open(nextPath());
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.recordAction(action(i))));
    const actions = await s.ledger({ agent: 'bot' });
    assert.equal(actions.length, 1000);
    assert.deepEqual(
      actions.map((e) => JSON.parse(e.body).requestId),
      Array.from({ length: 1000 }, (_, i) => `act-${i}`),
    );
    assert.deepEqual(await s.verify(), { ok: true, entries: 1000, head: actions.at(-1)?.hash });
    await s.close();
  });

  it('close() flushes queued actions', async () => {
    const path = nextPath();
    const s = open(path);
    const pending = s.recordAction(action(1));
    await s.close();
    await pending;
    const again = open(path);
    assert.equal((await again.ledger({})).length, 1);
    await again.close();
  });

  it('never writes the sealed secret or the token hash into the ledger', async () => {
    const s = await populated(nextPath());
    const bodies = (await s.ledger({})).map((e) => e.body).join('\n');
    assert.ok(!bodies.includes(SECRET));
    assert.ok(!bodies.includes(TOKEN_HASH));
    await s.close();
  });

  it('keeps one chain when a second process appends to the same file', async () => {
    const path = nextPath();
    const s = await populated(path, 0);
    // A worker thread has its own connection and runs truly in parallel, like the CLI.
    const storeUrl = new URL('../../src/ledger/sqlite/sqlite-store.ts', import.meta.url).href;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      // Worker threads do not inherit the tsx loader: register it here.
      import(workerData.tsxUrl).then(({ register }) => { register(); return import(workerData.storeUrl); })
      .then(async ({ SqliteStore }) => {
        const s = SqliteStore.open({ path: workerData.path, ledgerKey: Buffer.from(workerData.key) });
        for (let i = 0; i < 200; i++) {
          await s.createApproval({ ...workerData.approval, id: 'cli-' + i,
            createdAt: new Date(workerData.t0), expiresAt: new Date(workerData.t0 + 60000) });
        }
        await s.close();
        parentPort.postMessage('done');
      });`;
    const worker = new Worker(code, {
      eval: true,
      workerData: {
        tsxUrl: import.meta.resolve('tsx/esm/api'),
        storeUrl,
        path,
        key: [...key],
        approval: { ...approval('x'), createdAt: 0, expiresAt: 0 },
        t0,
      },
    });
    const done = new Promise((resolve, reject) => {
      worker.on('message', resolve);
      worker.on('error', reject);
    });
    let finished = false;
    void done.finally(() => {
      finished = true;
    });
    let i = 0;
    // Keep appending until the worker is done, so the two writers really overlap.
    while (!finished && i < 100_000) {
      await Promise.all(Array.from({ length: 10 }, () => s.recordAction(action(i++))));
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(await done, 'done');
    const r = await s.verify();
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await s.listApprovals({})).length, 201);
    const all = await s.ledger({});
    const actionSeqs = all.filter((e) => e.kind === 'action').map((e) => e.seq);
    const cliSeqs = all.filter((e) => e.approvalId?.startsWith('cli-')).map((e) => e.seq);
    assert.equal(actionSeqs.length, i);
    assert.equal(cliSeqs.length, 200);
    const interleaved = cliSeqs.some((q) => q > Math.min(...actionSeqs) && q < Math.max(...actionSeqs));
    assert.ok(interleaved, 'both writers appended while the other did');
    await s.close();
  });
});

describe('SqliteStore verify', () => {
  it('passes an intact ledger', async () => {
    const r = await tamper(() => {});
    assert.equal(r.ok, true);
    assert.equal(r.entries, 13);
  });

  it('names an edited entry', async () => {
    const r = await tamper((db) => {
      db.prepare("UPDATE ledger SET body = replace(body, 'checked the item', 'LGTM') WHERE seq = 5").run();
    });
    assert.deepEqual([r.ok, !r.ok && r.problem, !r.ok && r.firstBadSeq], [false, 'edited', 5]);
  });

  it('names a deleted middle entry', async () => {
    const r = await tamper((db) => db.prepare('DELETE FROM ledger WHERE seq = 7').run());
    assert.deepEqual([r.ok, !r.ok && r.problem, !r.ok && r.firstBadSeq], [false, 'deleted', 7]);
  });

  it('names a deletion hidden by renumbering as deleted or edited, never ok', async () => {
    const r = await tamper((db) => {
      db.prepare('DELETE FROM ledger WHERE seq = 7').run();
      db.prepare('UPDATE ledger SET seq = seq - 1 WHERE seq > 7').run();
      db.prepare('UPDATE ledger_head SET seq = seq - 1').run();
    });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.firstBadSeq, 7);
  });

  it('names swapped entries as reordered (far apart and adjacent)', async () => {
    for (const [a, b] of [
      [3, 8],
      [6, 7],
    ] as const) {
      const r = await tamper((db) => swapRows(db, a, b));
      assert.deepEqual(
        [r.ok, !r.ok && r.problem, !r.ok && r.firstBadSeq],
        [false, 'reordered', a],
        `${a}<->${b}`,
      );
    }
  });

  it('names a truncated tail', async () => {
    const r = await tamper((db) =>
      db.prepare('DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger)').run(),
    );
    assert.deepEqual([r.ok, !r.ok && r.problem, !r.ok && r.firstBadSeq], [false, 'truncated', 13]);
  });

  it('names a forged entry re-hashed without the key as edited', async () => {
    const r = await tamper((db) => {
      db.prepare("UPDATE ledger SET body = '{}', hash = ? WHERE seq = 4").run('a'.repeat(64));
    });
    assert.deepEqual([r.ok, !r.ok && r.problem, !r.ok && r.firstBadSeq], [false, 'edited', 4]);
  });
});
