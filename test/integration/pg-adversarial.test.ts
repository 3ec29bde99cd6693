/**
 * Adversarial review of the Postgres front (a motivated agent's attacks). Each test
 * tries to get a write to public.* past the gate without approval and checks AT THE
 * UPSTREAM that nothing changed: Airlock's own view of the session (prepared names,
 * search_path, skip-until-Sync) must never drift from PostgreSQL's.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type pg from 'pg';
import { decide, type PgHarness, startPgHarness } from '../support/pg-harness.js';

const SNAPSHOT = "SELECT string_agg(id || ':' || status, ',' ORDER BY id) AS s FROM public.orders";

type PgErr = Error & { code?: string };

/** Settles `run`; a hold (pending approval) is denied, so an unapproved statement always fails. */
async function outcome(h: PgHarness, run: () => Promise<unknown>): Promise<'ran' | 'held' | string> {
  const state: { done?: { ok: boolean; err?: PgErr } } = {};
  const settled = () => state.done;
  const p = run().then(
    () => {
      state.done = { ok: true };
    },
    (err: PgErr) => {
      state.done = { ok: false, err };
    },
  );
  for (let i = 0; i < 300; i++) {
    if (settled() !== undefined) break;
    const r = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    const pending = (r.body.approvals as Array<Record<string, unknown>>)[0];
    if (pending !== undefined) {
      await decide(h, String(pending.id), 'deny', 'adversarial review');
      await p;
      return 'held';
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  await p;
  const d = settled();
  return d?.ok === true ? 'ran' : (d?.err?.code ?? 'error');
}

describe('postgres front: adversarial review', () => {
  let h: PgHarness;
  let before0: string;
  before(async () => {
    h = await startPgHarness();
    before0 = (await h.direct.query(SNAPSHOT)).rows[0].s;
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.direct.query("UPDATE public.orders SET status = CASE id WHEN 3 THEN 'paid' ELSE 'new' END");
  });
  const unchanged = async () => assert.equal((await h.direct.query(SNAPSHOT)).rows[0].s, before0);

  it('an upstream error in extended mode does not let the next statements through unchecked', async () => {
    const c = await h.client();
    await assert.rejects(c.query('SELECT * FROM no_such_table WHERE id = $1', [1]));
    const r1 = await outcome(h, () => c.query("UPDATE orders SET status = 'skip-simple'"));
    assert.notEqual(r1, 'ran');
    await unchanged();
    await assert.rejects(c.query('SELECT * FROM no_such_table WHERE id = $1', [1]));
    const r2 = await outcome(h, () => c.query('UPDATE orders SET status = $1', ['skip-extended']));
    assert.notEqual(r2, 'ran');
    await unchanged();
    await c.end();
  });

  it('a Parse the upstream rejected does not shadow a later SQL PREPARE of the same name', async () => {
    const c = await h.client();
    await assert.rejects(c.query({ name: 'w1', text: 'SELECT * FROM no_such_table' }));
    await c.query("PREPARE w1 AS UPDATE orders SET status = 'shadowed'").catch(() => undefined);
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w1')), 'ran');
    await unchanged();
    await c.end();
  });

  it('a DEALLOCATE that never ran upstream does not free the name in Airlock', async () => {
    const c = await h.client();
    await c.query("PREPARE w2 AS UPDATE orders SET status = 'dealloc'");
    await assert.rejects(c.query('SELECT 1/0; DEALLOCATE w2'));
    await c.query({ name: 'w2', text: 'SELECT 1' }).catch(() => undefined);
    assert.notEqual(await outcome(h, () => c.query({ name: 'w2', text: 'SELECT 1' })), 'ran');
    await unchanged();
    await c.end();
  });

  it('a prepared statement follows the current search_path, as PostgreSQL re-plans it', async () => {
    const c = await h.client();
    await c.query('SET search_path = scratch');
    await c.query("PREPARE w3 AS UPDATE orders SET status = 'path'");
    await c.query('SET search_path = public');
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w3')), 'ran');
    await unchanged();
    await c.query('SET search_path = scratch');
    await c.query({ name: 'w4', text: "UPDATE orders SET status = 'path-protocol'" });
    await c.query('SET search_path = public');
    assert.notEqual(
      await outcome(h, () => c.query({ name: 'w4', text: "UPDATE orders SET status = 'path-protocol'" })),
      'ran',
    );
    await unchanged();
    await c.end();
  });

  it('PREPARE after SET search_path in the same string resolves against the new path', async () => {
    const c = await h.client();
    await c.query('SET search_path = scratch');
    await c.query("SET search_path = public; PREPARE w5 AS UPDATE orders SET status = 'same-string'");
    await c.query('SET search_path = scratch');
    await c.query('SET search_path = public');
    assert.notEqual(await outcome(h, () => c.query('EXECUTE w5')), 'ran');
    await unchanged();
    await c.end();
  });
});
