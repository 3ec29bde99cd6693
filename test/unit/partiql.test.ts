import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartiqlParseError, parsePartiql, redactPartiql } from '../../src/fronts/aws/services/partiql.js';

describe('parsePartiql', () => {
  it('reads the four verbs', () => {
    assert.deepEqual(parsePartiql(`SELECT * FROM "orders" WHERE pk = 'a'`), {
      verb: 'select',
      table: 'orders',
    });
    assert.deepEqual(parsePartiql(`INSERT INTO "orders" VALUE {'pk': 'a'}`), {
      verb: 'insert',
      table: 'orders',
    });
    assert.deepEqual(parsePartiql(`UPDATE "orders" SET qty = 3 WHERE pk = 'a'`), {
      verb: 'update',
      table: 'orders',
    });
    assert.deepEqual(parsePartiql(`UPDATE orders REMOVE qty WHERE pk = 'a'`), {
      verb: 'update',
      table: 'orders',
    });
    assert.deepEqual(parsePartiql(`DELETE FROM "orders" WHERE pk = 'a'`), {
      verb: 'delete',
      table: 'orders',
    });
  });

  it('ignores case, whitespace and comments', () => {
    const s = `  -- leading comment\n /* block FROM "x" */ sElEcT a /* c */ fRoM\n Orders -- trailing\n  `;
    assert.deepEqual(parsePartiql(s), { verb: 'select', table: 'Orders' });
    assert.deepEqual(parsePartiql('delete from t_1 where pk = 1;'), { verb: 'delete', table: 't_1' });
  });

  it('undoes "" escapes in quoted identifiers', () => {
    assert.deepEqual(parsePartiql('SELECT * FROM "my""table"'), { verb: 'select', table: 'my"table' });
    assert.deepEqual(parsePartiql('SELECT "FROM" FROM "a-b.c"'), { verb: 'select', table: 'a-b.c' });
  });

  it('reads an index after the table', () => {
    assert.deepEqual(parsePartiql('SELECT * FROM "orders"."byCustomer" WHERE c = 1'), {
      verb: 'select',
      table: 'orders',
      index: 'byCustomer',
    });
    assert.deepEqual(parsePartiql('select * from orders.gsi1'), {
      verb: 'select',
      table: 'orders',
      index: 'gsi1',
    });
  });

  it('is not fooled by string literals containing keywords or quotes', () => {
    assert.deepEqual(parsePartiql(`SELECT * FROM t1 WHERE note = 'it''s FROM x; DELETE FROM y'`), {
      verb: 'select',
      table: 't1',
    });
    assert.deepEqual(parsePartiql(`SELECT a['FROM'], b."x" FROM t2`), { verb: 'select', table: 't2' });
  });

  it('skips nested subexpressions in the projection', () => {
    assert.deepEqual(
      parsePartiql(`SELECT size(a), b[0].c, (x + 1) FROM t3 WHERE a IN [1, 2] AND b = {'k': (1)}`),
      {
        verb: 'select',
        table: 't3',
      },
    );
  });

  it('reads EXISTS(SELECT ...) as a select', () => {
    assert.deepEqual(parsePartiql(`EXISTS(SELECT * FROM "t4" WHERE pk = 'a')`), {
      verb: 'select',
      table: 't4',
    });
  });

  it('rejects more than one statement and what it cannot read', () => {
    for (const bad of [
      'SELECT * FROM a; SELECT * FROM b',
      'SELECT * FROM a; -- x\n DELETE FROM b',
      '',
      '  -- only a comment',
      'SELECT * FROM',
      'SELECT * FROM a, b',
      'SELECT * FROM a x',
      'INSERT INTO t VALUES (1)',
      'UPDATE t WHERE a = 1',
      'DELETE t WHERE a = 1',
      'DELETE FROM t.idx WHERE a = 1',
      'SELECT * FROM "unterminated',
      "SELECT * FROM t WHERE a = 'open",
      'SELECT * FROM t /* open',
      'SELECT * FROM t WHERE a = @',
      'DROP TABLE t',
      'SELECT FROM t',
    ]) {
      assert.throws(() => parsePartiql(bad), PartiqlParseError, bad);
    }
  });
});

describe('redactPartiql', () => {
  it('cuts long literals and hides secret-named ones', () => {
    const long = 'x'.repeat(100);
    const out = redactPartiql(`UPDATE t SET note = '${long}', password = 'hunter2' WHERE pk = 'a'`);
    assert.ok(out.includes(`'${'x'.repeat(64)}…'`));
    assert.ok(out.includes(`password = '[redacted]'`));
    assert.ok(!out.includes('hunter2'));
    assert.ok(out.includes(`pk = 'a'`));
    const ins = redactPartiql(`INSERT INTO t VALUE {'pk': 'a', 'apiKey': 'sk-123'}`);
    assert.equal(ins, `INSERT INTO t VALUE {'pk': 'a', 'apiKey': '[redacted]'}`);
  });
});
