/**
 * The durability rule on the Postgres front: a statement is sent to the database only
 * after its intent is durable. With the store failing (its data directory deleted while
 * serving), allowed statements get SQLSTATE 58000 over the simple and the extended
 * protocol, nothing runs upstream (asserted on the upstream itself), and the session
 * stays usable; with a healthy store, each statement is an intent joined to its outcome.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { joinActionOutcomes } from '../../src/ledger/action-outcomes.js';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';

describe('postgres front: nothing runs unrecorded', () => {
  let h: PgHarness;
  before(async () => {
    h = await startPgHarness();
  });
  after(async () => {
    await h.close();
  });

  const count = async (marker: string) =>
    Number(
      (
        await h.direct.query('SELECT count(*)::int AS n FROM scratch.notes WHERE body LIKE $1', [
          `${marker}%`,
        ])
      ).rows[0].n,
    );

  it('records an intent before the statement and its outcome after, for both protocols', async () => {
    const c = await h.client();
    await c.query("INSERT INTO scratch.notes (body) VALUES ('rec-simple')");
    await c.query('INSERT INTO scratch.notes (body) VALUES ($1)', ['rec-extended']);
    assert.equal(await count('rec-'), 2);
    let rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const raw = await h.airlock.store.ledger({ agent: h.agent.name });
      const outcomes = raw.filter((e) => e.kind === 'action.outcome' && e.body.includes('INSERT 0 1'));
      rows = joinActionOutcomes(raw)
        .filter((e) => e.kind === 'action' && e.body.includes('rec-'))
        .map((e) => JSON.parse(e.body) as Record<string, unknown>);
      if (outcomes.length >= 2 && rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.outcome, 'allowed');
      const pg = r.postgres as { commandTags: string[]; rows: number };
      assert.deepEqual(pg.commandTags, ['INSERT 0 1']);
      assert.equal(pg.rows, 1);
      assert.equal(typeof r.outcomeSeq, 'number');
    }
    await c.end();
  });

  it('a failing store: statements get 58000, nothing reaches the database, the session goes on', async () => {
    const c = await h.client();
    await c.query("INSERT INTO scratch.notes (body) VALUES ('ok-before')");
    rmSync(h.config.dataDir, { recursive: true, force: true });
    const simple = await c.query("INSERT INTO scratch.notes (body) VALUES ('lost-simple')").then(
      () => 'ran',
      (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
    );
    assert.match(simple, /^58000: Airlock: Airlock could not record this request durably/);
    const extended = await c.query('INSERT INTO scratch.notes (body) VALUES ($1)', ['lost-extended']).then(
      () => 'ran',
      (e: { code?: string }) => e.code,
    );
    assert.equal(extended, '58000');
    const read = await c.query('SELECT 1 AS one').then(
      () => 'ran',
      (e: { code?: string }) => e.code,
    );
    assert.equal(read, '58000', 'reads are refused too: they could not be recorded');
    assert.equal(await count('lost-'), 0, 'nothing ran upstream');
    assert.equal(await count('ok-before'), 1);
    await c.end();
  });
});
