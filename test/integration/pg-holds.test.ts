/**
 * Holds through the Postgres front with real `pg` clients and a real PostgreSQL:
 * a protected write waits before reaching the upstream, runs once approved, fails
 * with 42501 naming the approval when denied, and inside a transaction leaves the
 * client in the failed-transaction state. Grants are reused, and revoking one
 * affects sessions that are already open. The upstream is checked directly.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startAirlock } from '../../src/app.js';
import { auditRecord } from '../../src/ledger/audit.js';
import { decide, type PgHarness, pendingFor, startPgHarness } from '../support/pg-harness.js';

async function statusOf(h: PgHarness, id: number): Promise<string | undefined> {
  const r = await h.direct.query('SELECT status FROM public.orders WHERE id = $1', [id]);
  return r.rows[0]?.status as string | undefined;
}

async function revokeAllGrants(h: PgHarness): Promise<void> {
  const g = await h.api('GET', '/v1/grants?agent=billing-bot', h.approvers.alice ?? '');
  for (const grant of g.body.grants as Array<Record<string, unknown>>)
    if (grant.revokedAt === undefined || grant.revokedAt === null)
      await h.api('POST', `/v1/grants/${String(grant.id)}/revoke`, h.approvers.alice ?? '');
}

describe('postgres holds', () => {
  let h: PgHarness;
  let c: pg.Client;
  before(async () => {
    h = await startPgHarness({ holdWindowSeconds: 5 });
    c = await h.client();
  });
  after(async () => {
    await h?.close();
  });

  it('passes reads and allowed writes without a hold', async () => {
    const r = await c.query('SELECT id, status FROM orders ORDER BY id');
    assert.deepEqual(
      r.rows.map((x) => x.id),
      [1, 2, 3],
    );
    await c.query("INSERT INTO scratch.notes (body) VALUES ('allowed')");
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body = 'allowed'");
    assert.equal(n.rows[0].n, 1);
  });

  it('holds an UPDATE until approved, then runs it; the record links approval, grant and statement', async () => {
    const update = c.query(
      "/* airlock:reason=INC-7 fix order 1 */ UPDATE orders SET status = 'fixed' WHERE id = 1",
    );
    const pending = await pendingFor(h, "SET status = 'fixed'");
    assert.equal(await statusOf(h, 1), 'new', 'nothing reached the upstream while held');
    assert.equal(pending.reason, 'INC-7 fix order 1');
    assert.equal(pending.operation, 'update');
    await decide(h, String(pending.id), 'approve', 'ok for INC-7');
    const r = await update;
    assert.equal(r.rowCount, 1);
    assert.equal(await statusOf(h, 1), 'fixed');

    await new Promise((res) => setTimeout(res, 50));
    const rec = await auditRecord(h.airlock.store, String(pending.id));
    assert.ok(rec);
    assert.equal(rec.requester.agent, 'billing-bot');
    assert.equal(rec.reason, 'INC-7 fix order 1');
    assert.equal(rec.decisions[0]?.approver, 'alice');
    assert.ok(rec.grant);
    const action = rec.actions[0] as Record<string, unknown>;
    assert.equal(action.outcome, 'approved');
    const detail = action.postgres as Record<string, unknown>;
    assert.match(String(detail.sql), /UPDATE orders SET status = 'fixed'/);
    assert.deepEqual(detail.commandTags, ['UPDATE 1']);
    assert.equal(detail.rows, 1);
    assert.match(String(detail.session), /^ses_/);

    // The same record through the real CLI (it reads the store while the gateway runs).
    const cli = await new Promise<{ code: number; out: string }>((res) =>
      execFile(
        process.execPath,
        [resolve('bin/airlock.js'), '--config', h.config.source, 'audit', 'show', String(pending.id)],
        (err, stdout) => res({ code: err ? 1 : 0, out: stdout }),
      ),
    );
    assert.equal(cli.code, 0);
    assert.match(
      cli.out,
      /sql {5}\/\* airlock:reason=INC-7 fix order 1 \*\/ UPDATE orders SET status = 'fixed' WHERE id = 1/,
    );
    assert.match(cli.out, /result {2}UPDATE 1 \(1 rows/);
    assert.match(cli.out, /postgres:update {2}arn:airlock:postgres:app:table\/public\/orders/);
  });

  it('reuses the grant for the same statement class and relation, until it is revoked', async () => {
    const r = await c.query("UPDATE orders SET status = 'fixed-again' WHERE id = 1");
    assert.equal(r.rowCount, 1, 'covered by the grant: no hold');
    await revokeAllGrants(h);
    const again = c.query("UPDATE orders SET status = 'after-revoke' WHERE id = 1");
    const pending = await pendingFor(h, "'after-revoke'");
    await decide(h, String(pending.id), 'deny', 'grant was revoked');
    await assert.rejects(again, (e: Error & { code?: string }) => {
      assert.equal(e.code, '42501');
      assert.match(e.message, new RegExp(String(pending.id)));
      assert.match(e.message, /grant was revoked/);
      return true;
    });
    assert.equal(await statusOf(h, 1), 'fixed-again');
  });

  it('a grant that expires mid-session: the next statement of its class is held again', async () => {
    await revokeAllGrants(h);
    const first = c.query("UPDATE orders SET status = 'short' WHERE id = 1");
    const p1 = await pendingFor(h, "'short'");
    await h.api('GET', `/v1/approvals/${String(p1.id)}`, h.approvers.alice ?? '');
    const ok = await h.api('POST', `/v1/approvals/${String(p1.id)}/approve`, h.approvers.alice ?? '', {
      comment: 'one second only',
      durationSeconds: 1,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await first;
    await new Promise((r) => setTimeout(r, 1100));
    const later = c.query("UPDATE orders SET status = 'after-expiry' WHERE id = 1");
    const p2 = await pendingFor(h, "'after-expiry'");
    assert.notEqual(p2.id, p1.id);
    await decide(h, String(p2.id), 'deny', 'expired grant');
    await assert.rejects(later, /expired grant/);
    assert.equal(await statusOf(h, 1), 'short');
  });

  it('an exact grant covers the statement approved, once: another UPDATE of the same table is held again', async () => {
    await revokeAllGrants(h);
    const first = c.query("UPDATE orders SET status = 'exact-one' WHERE id = 1");
    const p1 = await pendingFor(h, "'exact-one'");
    const shown = await h.api('GET', `/v1/approvals/${String(p1.id)}`, h.approvers.alice ?? '');
    const choices = (shown.body.grantChoices as { choices: { breadth: string; sentence: string }[] }).choices;
    assert.match(
      choices[0]?.sentence ?? '',
      /^This approval lets billing-bot run update on .+ once, for this exact statement$/,
    );
    const ok = await h.api('POST', `/v1/approvals/${String(p1.id)}/approve`, h.approvers.alice ?? '', {
      comment: 'this one statement',
      breadth: 'exact',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.grant as Record<string, unknown>).breadth, 'exact');
    await first;
    assert.equal(await statusOf(h, 1), 'exact-one');
    const other = c.query("UPDATE orders SET status = 'exact-two' WHERE id = 1");
    const p2 = await pendingFor(h, "'exact-two'");
    assert.notEqual(p2.id, p1.id);
    await decide(h, String(p2.id), 'deny', 'not the statement approved');
    await assert.rejects(other, /not the statement approved/);
    assert.equal(await statusOf(h, 1), 'exact-one');
  });

  it('denied: SQLSTATE 42501 with the approval id and comment; nothing reaches the upstream', async () => {
    const del = c.query('DELETE FROM orders WHERE id = 2');
    const pending = await pendingFor(h, 'DELETE FROM orders WHERE id = 2');
    await decide(h, String(pending.id), 'deny', 'not during business hours');
    await assert.rejects(del, (e: Error & { code?: string }) => {
      assert.equal(e.code, '42501');
      assert.match(e.message, new RegExp(`${String(pending.id)}.*not during business hours`));
      return true;
    });
    assert.equal(await statusOf(h, 2), 'new');
    // The session is usable afterwards.
    assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
  });

  it('lapsed: an error naming the approval id; the statement never ran', async () => {
    const t0 = Date.now();
    await assert.rejects(
      c.query("UPDATE orders SET status = 'lapsed' WHERE id = 3"),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, '57014');
        assert.match(e.message, /held for approval apr_/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 >= 4000);
    assert.equal(await statusOf(h, 3), 'paid');
    const p = await pendingFor(h, "'lapsed'");
    await decide(h, String(p.id), 'deny', 'cleanup');
  });

  it('in a transaction: a denied statement fails the transaction like PostgreSQL; COMMIT rolls back', async () => {
    await c.query('BEGIN');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('in-tx')");
    const upd = c.query("UPDATE orders SET status = 'tx' WHERE id = 2");
    const pending = await pendingFor(h, "SET status = 'tx'");
    await decide(h, String(pending.id), 'deny', 'no');
    await assert.rejects(upd, /denied/);
    await assert.rejects(c.query('SELECT 1'), (e: Error & { code?: string }) => e.code === '25P02');
    await assert.rejects(c.query('SELECT 2'), (e: Error & { code?: string }) => e.code === '25P02');
    const commit = await c.query('COMMIT');
    assert.equal(commit.command, 'ROLLBACK');
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body = 'in-tx'");
    assert.equal(n.rows[0].n, 0, 'the allowed insert of the failed transaction was rolled back');
    assert.equal(await statusOf(h, 2), 'new');
    assert.equal((await c.query('SELECT 3 AS x')).rows[0].x, 3);
  });

  it('in a transaction, extended protocol: failed state, COMMIT rolls back, a prepared COMMIT cannot commit', async () => {
    await c.query({ name: 'cm', text: 'COMMIT' }); // prepared while nothing failed
    await c.query('BEGIN');
    await c.query({ text: 'INSERT INTO scratch.notes (body) VALUES ($1)', values: ['ext-tx'] });
    const upd = c.query({ text: 'UPDATE orders SET status = $1 WHERE id = 2', values: ['ext'] });
    await decide(h, String((await pendingFor(h, 'SET status = $1 WHERE id = 2')).id), 'deny', 'no');
    await assert.rejects(upd, /denied/);
    await assert.rejects(
      c.query({ text: 'SELECT $1::int', values: [1] }),
      (e: Error & { code?: string }) => e.code === '25P02',
    );
    await assert.rejects(
      c.query({ name: 'cm', text: 'COMMIT' }),
      (e: Error & { code?: string }) => e.code === '25P02',
    );
    const commit = await c.query({ text: 'COMMIT', queryMode: 'extended' } as never);
    assert.equal((commit as unknown as { command: string }).command, 'ROLLBACK');
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body = 'ext-tx'");
    assert.equal(n.rows[0].n, 0);
    assert.equal((await c.query({ text: 'SELECT $1::int AS x', values: [5] })).rows[0].x, 5);
  });

  it('in a transaction, extended protocol: ROLLBACK TO SAVEPOINT recovers', async () => {
    await c.query('BEGIN');
    await c.query('SAVEPOINT sp2');
    const upd = c.query({ text: 'UPDATE orders SET status = $1 WHERE id = 3', values: ['sp2'] });
    await decide(h, String((await pendingFor(h, 'SET status = $1 WHERE id = 3')).id), 'deny', 'no');
    await assert.rejects(upd);
    await c.query({ text: 'ROLLBACK TO SAVEPOINT sp2', queryMode: 'extended' } as never);
    await c.query({ text: 'INSERT INTO scratch.notes (body) VALUES ($1)', values: ['after-sp2'] });
    await c.query('COMMIT');
    const n = await h.direct.query("SELECT count(*)::int AS n FROM scratch.notes WHERE body = 'after-sp2'");
    assert.equal(n.rows[0].n, 1);
  });

  it('in a transaction: ROLLBACK TO SAVEPOINT recovers, as in PostgreSQL', async () => {
    await c.query('BEGIN');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('before-sp')");
    await c.query('SAVEPOINT sp');
    const upd = c.query("UPDATE orders SET status = 'sp' WHERE id = 2");
    await decide(h, String((await pendingFor(h, "'sp'")).id), 'deny', 'no');
    await assert.rejects(upd);
    await c.query('ROLLBACK TO SAVEPOINT sp');
    await c.query("INSERT INTO scratch.notes (body) VALUES ('after-sp')");
    await c.query('COMMIT');
    const n = await h.direct.query(
      "SELECT body FROM scratch.notes WHERE body IN ('before-sp','after-sp') ORDER BY body",
    );
    assert.deepEqual(
      n.rows.map((r) => r.body),
      ['after-sp', 'before-sp'],
    );
  });

  it('in a transaction: an approved statement holds the transaction, then commits with it', async () => {
    await revokeAllGrants(h);
    await c.query('BEGIN');
    const upd = c.query("UPDATE orders SET status = 'approved-in-tx' WHERE id = 2");
    const pending = await pendingFor(h, "'approved-in-tx'");
    await decide(h, String(pending.id), 'approve', 'fine');
    await upd;
    assert.equal(await statusOf(h, 2), 'new', 'not visible before COMMIT');
    await c.query('COMMIT');
    assert.equal(await statusOf(h, 2), 'approved-in-tx');
  });

  it('extended protocol: a named prepared statement is held again after its grant is revoked', async () => {
    await revokeAllGrants(h);
    const q = { name: 'set-status', text: 'UPDATE orders SET status = $1 WHERE id = $2', values: ['p1', 3] };
    const first = c.query(q);
    const pending = await pendingFor(h, 'SET status = $1');
    await decide(h, String(pending.id), 'approve', 'prepared ok');
    await first;
    assert.equal(await statusOf(h, 3), 'p1');
    await c.query({ ...q, values: ['p2', 3] }); // grant covers it
    assert.equal(await statusOf(h, 3), 'p2');
    await revokeAllGrants(h);
    const third = c.query({ ...q, values: ['p3', 3] });
    const again = await pendingFor(h, 'SET status = $1');
    assert.notEqual(again.id, pending.id);
    await decide(h, String(again.id), 'deny', 'revoked means revoked');
    await assert.rejects(third, /revoked means revoked/);
    assert.equal(await statusOf(h, 3), 'p2');
    // Recorded with parameters.
    await new Promise((res) => setTimeout(res, 50));
    const rec = await auditRecord(h.airlock.store, String(pending.id));
    const detail = (rec?.actions[0] as Record<string, unknown> | undefined)?.postgres as Record<
      string,
      unknown
    >;
    assert.deepEqual(detail.params, ['p1', '3']);
  });

  it('takes the reason from options=-c airlock.reason=...', async () => {
    const c2 = await h.client({ options: '-c airlock.reason=JIRA-9\\ weekly\\ cleanup' });
    const upd = c2.query("UPDATE orders SET status = 'opt' WHERE id = 3");
    const pending = await pendingFor(h, "'opt'");
    assert.equal(pending.reason, 'JIRA-9 weekly cleanup');
    await decide(h, String(pending.id), 'deny', 'no');
    await assert.rejects(upd);
    await c2.end();
  });

  it('takes the reason from application_name "reason: ..."', async () => {
    const c2 = await h.client({ application_name: 'reason: nightly cleanup' });
    const upd = c2.query("UPDATE orders SET status = 'app' WHERE id = 3");
    const pending = await pendingFor(h, "'app'");
    assert.equal(pending.reason, 'nightly cleanup');
    await decide(h, String(pending.id), 'deny', 'no');
    await assert.rejects(upd);
    await c2.end();
  });

  it('psql: a held UPDATE waits, is approved, and psql prints the command tag', async () => {
    await revokeAllGrants(h);
    const child = spawn(
      '/usr/bin/psql',
      [
        `host=127.0.0.1 port=${h.port} user=${h.agent.name} dbname=app sslmode=require`,
        '-X',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        "/* airlock:reason=psql check */ UPDATE orders SET status = 'via-psql' WHERE id = 3",
      ],
      { env: { ...process.env, PGPASSWORD: h.agent.secretAccessKey } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const pending = await pendingFor(h, "'via-psql'");
    assert.equal(pending.reason, 'psql check');
    assert.notEqual(await statusOf(h, 3), 'via-psql');
    await decide(h, String(pending.id), 'approve', 'ok');
    assert.equal(await exited, 0);
    assert.equal(out.trim(), 'UPDATE 1');
    assert.equal(await statusOf(h, 3), 'via-psql');
  });

  it('a forbidden statement is refused at once without an approval', async () => {
    await assert.rejects(c.query('TRUNCATE orders'), (e: Error & { code?: string }) => {
      assert.equal(e.code, '42501');
      assert.match(e.message, /pg-no-truncate/);
      return true;
    });
    assert.equal((await h.direct.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n, 3);
  });

  it('a CancelRequest ends a held statement', async () => {
    await revokeAllGrants(h);
    const c3 = await h.client();
    const held = c3.query("UPDATE orders SET status = 'cancel-me' WHERE id = 3");
    await pendingFor(h, "'cancel-me'");
    const { processID, secretKey } = c3 as unknown as { processID: number; secretKey: number };
    const net = await import('node:net');
    const s = net.connect(h.port, '127.0.0.1');
    const msg = Buffer.alloc(16);
    msg.writeInt32BE(16, 0);
    msg.writeInt32BE(80877102, 4);
    msg.writeInt32BE(processID, 8);
    msg.writeInt32BE(secretKey, 12);
    s.end(msg);
    await assert.rejects(held, (e: Error & { code?: string }) => e.code === '57014');
    assert.equal(await statusOf(h, 3), 'via-psql');
    await c3.end();
  });

  it('a CancelRequest that reaches another Airlock on the same store ends the held statement', async () => {
    await revokeAllGrants(h);
    // A second gateway process on the same data_dir (as behind a load balancer, or a worker):
    // it does not hold the key, so it marks it in the store and the owner cancels.
    const other = await startAirlock(h.config, { log: () => undefined });
    try {
      const c4 = await h.client();
      const before = await statusOf(h, 3);
      const held = c4.query("UPDATE orders SET status = 'cancel-elsewhere' WHERE id = 3");
      let settled = false;
      held.then(
        () => (settled = true),
        () => (settled = true),
      );
      await pendingFor(h, "'cancel-elsewhere'");
      const { processID, secretKey } = c4 as unknown as { processID: number; secretKey: number };
      const net = await import('node:net');
      const wrong = Buffer.alloc(16);
      wrong.writeInt32BE(16, 0);
      wrong.writeInt32BE(80877102, 4);
      wrong.writeInt32BE(processID, 8);
      wrong.writeInt32BE(secretKey ^ 1, 12);
      net.connect(other.databases.app?.port ?? 0, '127.0.0.1').end(wrong);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(settled, false, 'a wrong secret cancels nothing');
      const msg = Buffer.from(wrong);
      msg.writeInt32BE(secretKey, 12);
      net.connect(other.databases.app?.port ?? 0, '127.0.0.1').end(msg);
      await assert.rejects(held, (e: Error & { code?: string }) => e.code === '57014');
      assert.equal(await statusOf(h, 3), before, 'the statement never ran');
      await c4.end();
    } finally {
      await other.close();
    }
  });
});
