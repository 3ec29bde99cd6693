import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PgHarness, startPgHarness } from '../support/pg-harness.js';

describe('smoke', () => {
  let h: PgHarness;
  before(async () => {
    h = await startPgHarness();
  });
  after(async () => {
    await h?.close();
  });
  it('select', async () => {
    const c = await h.client();
    const r = await c.query('select * from orders order by id');
    assert.equal(r.rows.length, 3);
    const r2 = await c.query('select * from orders where id = $1', [2]);
    assert.equal(r2.rows[0].status, 'new');
  });
});
