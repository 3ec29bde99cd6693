import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Scope } from '../../src/core/types.js';
import type { ClassifyContext } from '../../src/fronts/postgres/classification.js';
import { classify, loadParser } from '../../src/fronts/postgres/classify.js';
import { catalog } from '../support/pg-catalog-fixture.js';

const ctx = (over: Partial<ClassifyContext> = {}): ClassifyContext => ({
  db: 'prod',
  searchPath: ['public'],
  user: 'airlock',
  defaultSearchPath: ['airlock', 'public'],
  functions: catalog(),
  prepared: new Map(),
  ...over,
});

const t = (schema: string, rel: string) => `arn:airlock:postgres:prod:table/${schema}/${rel}`;
const DB = 'arn:airlock:postgres:prod:database';

function scopes(sql: string, c = ctx()): string[] {
  return classify(sql, c)
    .scopes.map((s: Scope) => `${s.action} ${s.resource}`)
    .sort();
}

describe('statement classification', () => {
  before(loadParser);

  const table: Array<[string, string[]]> = [
    ['SELECT * FROM orders WHERE id = $1', [`postgres:select ${t('public', 'orders')}`]],
    ['select 1', [`postgres:select ${DB}`]],
    [
      'INSERT INTO a.b SELECT * FROM c',
      [`postgres:insert ${t('a', 'b')}`, `postgres:select ${t('public', 'c')}`],
    ],
    [
      'UPDATE orders SET x = 1 FROM refs WHERE refs.id = orders.id',
      [`postgres:select ${t('public', 'refs')}`, `postgres:update ${t('public', 'orders')}`],
    ],
    ['DELETE FROM "Order Items"', [`postgres:delete ${t('public', 'Order Items')}`]],
    ['DELETE FROM "a/b"', [`postgres:delete ${t('public', 'a%2Fb')}`]],
    ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', [`postgres:delete ${t('public', 't')}`]],
    ['TRUNCATE a, b.c', [`postgres:truncate ${t('public', 'a')}`, `postgres:truncate ${t('b', 'c')}`]],
    [
      'SELECT * FROM t FOR UPDATE',
      [`postgres:lock ${t('public', 't')}`, `postgres:select ${t('public', 't')}`],
    ],
    ['EXPLAIN UPDATE t SET a = 1', [`postgres:explain ${t('public', 't')}`]],
    ['EXPLAIN (ANALYZE false) UPDATE t SET a = 1', [`postgres:explain ${t('public', 't')}`]],
    ['EXPLAIN ANALYZE UPDATE t SET a = 1', [`postgres:update ${t('public', 't')}`]],
    ['COPY t FROM STDIN', [`postgres:copy_from ${t('public', 't')}`]],
    ['COPY t TO STDOUT', [`postgres:copy_to ${t('public', 't')}`]],
    ["COPY t FROM '/etc/passwd'", [`postgres:copy_from ${t('public', 't')}`, `postgres:copy_program ${DB}`]],
    [
      'COPY (DELETE FROM t RETURNING *) TO STDOUT',
      [`postgres:copy_to ${DB}`, `postgres:delete ${t('public', 't')}`],
    ],
    ['DO $$ BEGIN END $$', [`postgres:do ${DB}`]],
    ['CALL s.p(1)', ['postgres:call arn:airlock:postgres:prod:function/s/p']],
    [
      "SELECT set_config('x', 'y', false)",
      ['postgres:function arn:airlock:postgres:prod:function/pg_catalog/set_config'],
    ],
    ['SELECT audit_purge()', ['postgres:function arn:airlock:postgres:prod:function/public/audit_purge']],
    [
      'SELECT * FROM dblink($$x$$) AS r(a int)',
      ['postgres:function arn:airlock:postgres:prod:function/public/dblink'],
    ],
    [
      'SELECT * INTO newt FROM t',
      [`postgres:ddl ${t('public', 'newt')}`, `postgres:select ${t('public', 't')}`],
    ],
    ['CREATE TABLE x (id int)', [`postgres:ddl ${DB}`, `postgres:ddl ${t('public', 'x')}`]],
    [
      'DROP TABLE a.b, c',
      [`postgres:ddl ${DB}`, `postgres:ddl ${t('a', 'b')}`, `postgres:ddl ${t('public', 'c')}`],
    ],
    ['GRANT SELECT ON t TO bob', [`postgres:grant ${DB}`, `postgres:grant ${t('public', 't')}`]],
    ['SET ROLE admin', [`postgres:set_role ${DB}`]],
    ['SET SESSION AUTHORIZATION admin', [`postgres:set_role ${DB}`]],
    ['SET statement_timeout = 5', [`postgres:session ${DB}`]],
    [
      'SET session_replication_role = replica',
      ['postgres:config arn:airlock:postgres:prod:setting/session_replication_role'],
    ],
    ["SET app.tenant_id = '7'", ['postgres:config arn:airlock:postgres:prod:setting/app.tenant_id']],
    ['RESET session_replication_role', [`postgres:session ${DB}`]],
    ['SET enable_seqscan = off', [`postgres:session ${DB}`]],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', [`postgres:session ${DB}`]],
    ["NOTIFY jobs, 'x'", ['postgres:function arn:airlock:postgres:prod:function/pg_catalog/pg_notify']],
    ["COMMIT PREPARED 'x'", [`postgres:prepared_xact ${DB}`]],
    ["PREPARE TRANSACTION 'x'", [`postgres:prepared_xact ${DB}`]],
    [
      'INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2',
      [`postgres:insert ${t('public', 't')}`, `postgres:update ${t('public', 't')}`],
    ],
    ['INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', [`postgres:insert ${t('public', 't')}`]],
    ['CALL prod.app.purge()', ['postgres:call arn:airlock:postgres:prod:function/app/purge']],
    [
      "SELECT * FROM ts_stat('SELECT 1')",
      ['postgres:function arn:airlock:postgres:prod:function/pg_catalog/ts_stat'],
    ],
    ["SELECT nextval('s')", ['postgres:function arn:airlock:postgres:prod:function/pg_catalog/nextval']],
    ['BEGIN', [`postgres:transaction ${DB}`]],
    ['LOAD $$x$$', [`postgres:unknown ${DB}`]],
    ['UPDATE t SET', [`postgres:unknown ${DB}`]],
    [
      'UPDATE pg_authid SET rolsuper = true',
      [`postgres:update ${t('pg_catalog', 'pg_authid')}`, `postgres:update ${t('public', 'pg_authid')}`],
    ],
  ];
  for (const [sql, want] of table) it(sql, () => assert.deepEqual(scopes(sql), [...want].sort()));

  it('issue 21: attribute notation, SELECT INTO in set operations, the allow-list', () => {
    const fn = (schema: string, name: string) =>
      `postgres:function arn:airlock:postgres:prod:function/${schema}/${name}`;
    assert.deepEqual(scopes("select ('s'::regclass).nextval"), [fn('pg_catalog', 'nextval')]);
    assert.deepEqual(scopes('select x.pg_terminate_backend from pg_backend_pid() x'), [
      fn('pg_catalog', 'pg_terminate_backend'),
    ]);
    assert.deepEqual(scopes('select o.id, o.name, (o.id::text).lower from orders o'), [
      `postgres:select ${t('public', 'orders')}`,
    ]);
    assert.deepEqual(scopes('select * into x from a union select * from b'), [
      `postgres:ddl ${t('public', 'x')}`,
      `postgres:select ${t('public', 'a')}`,
      `postgres:select ${t('public', 'b')}`,
    ]);
    // Unknown or user functions are not reads; stable built-ins are, unless shadowed on the path.
    assert.deepEqual(scopes('select made_up(1)'), [fn('pg_catalog', 'made_up'), fn('public', 'made_up')]);
    assert.deepEqual(scopes('select now(), pg_catalog.lower($1)'), [`postgres:select ${DB}`]);
    assert.deepEqual(scopes("select query_to_xml('delete from t', true, true, '')"), [
      fn('pg_catalog', 'query_to_xml'),
    ]);
    assert.deepEqual(scopes('select audit_purge()', ctx({ functions: catalog(['public.audit_purge']) })), [
      fn('public', 'audit_purge'),
    ]);
    assert.deepEqual(scopes('select crosstab($$x$$)', ctx({ functions: catalog(['public.crosstab']) })), [
      fn('public', 'crosstab'),
    ]);
  });

  it('issue 21: pinned settings and BEGIN READ WRITE', () => {
    const pinned = (sql: string) => classify(sql, ctx()).effects.some((e) => e.kind === 'pinned_setting');
    for (const sql of [
      'SET standard_conforming_strings = off',
      'SET LOCAL backslash_quote = on',
      "SELECT set_config('standard_conforming_strings', 'off', true)",
      'SELECT set_config($1, $2, false)',
      'SET default_transaction_read_only TO false',
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
      'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE',
    ])
      assert.ok(pinned(sql), sql);
    for (const sql of ['SET standard_conforming_strings = on', 'RESET ALL', 'SET TRANSACTION READ ONLY'])
      assert.ok(!pinned(sql), sql);
    assert.deepEqual(scopes('BEGIN READ WRITE'), [`postgres:read_write ${DB}`, `postgres:transaction ${DB}`]);
    assert.deepEqual(scopes('START TRANSACTION READ ONLY'), [`postgres:transaction ${DB}`]);
  });

  it('a statement nested deeper than the walk can go is unknown, never a crash', () => {
    for (const n of [1000, 3000]) {
      const sql = `select * from ${'(select * from '.repeat(n)}t${') x'.repeat(n)}`;
      const c = classify(sql, ctx());
      assert.deepEqual(c.classes, ['unknown'], `depth ${n}`);
    }
  });

  it('resolves unqualified names against every schema of the search_path', () => {
    assert.deepEqual(scopes('UPDATE t SET a = 1', ctx({ searchPath: ['app', 'public'] })), [
      `postgres:update ${t('app', 't')}`,
      `postgres:update ${t('public', 't')}`,
    ]);
  });

  it('a SET search_path earlier in the same query widens resolution of later statements', () => {
    assert.deepEqual(scopes('SET search_path = x, "$user"; DELETE FROM t'), [
      `postgres:delete ${t('airlock', 't')}`,
      `postgres:delete ${t('public', 't')}`,
      `postgres:delete ${t('x', 't')}`,
      `postgres:session ${DB}`,
    ]);
    const c = classify('SET LOCAL search_path TO a', ctx());
    assert.deepEqual(c.effects, [{ kind: 'search_path', value: ['a'], local: true }]);
  });

  it('PREPARE records the inner scopes; EXECUTE uses them; an unknown name is most sensitive', () => {
    const p = classify('PREPARE p AS DELETE FROM t', ctx());
    const eff = p.effects[0];
    assert.equal(eff?.kind, 'prepare');
    const prepared = new Map([
      [
        'p',
        {
          scopes: eff?.kind === 'prepare' ? eff.scopes : [],
          sources: eff?.kind === 'prepare' ? [{ query: eff.query }] : [],
        },
      ],
    ]);
    assert.deepEqual(scopes('EXECUTE p', ctx({ prepared })), [`postgres:delete ${t('public', 't')}`]);
    assert.deepEqual(scopes('EXECUTE q', ctx({ prepared })), [`postgres:unknown ${DB}`]);
    // PostgreSQL re-plans a prepared statement for the current search_path: both count.
    assert.deepEqual(scopes('EXECUTE p', ctx({ prepared, searchPath: ['scratch'] })).sort(), [
      `postgres:delete ${t('public', 't')}`,
      `postgres:delete ${t('scratch', 't')}`,
    ]);
  });

  it('PREPARE after SET search_path in the same string resolves against the new path', () => {
    const p = classify('SET search_path = b; PREPARE p AS DELETE FROM t', ctx({ searchPath: ['a'] }));
    const eff = p.effects.find((e) => e.kind === 'prepare');
    assert.deepEqual(eff?.kind === 'prepare' ? eff.scopes.map((s) => s.resource).sort() : [], [
      t('a', 't'),
      t('b', 't'),
    ]);
  });

  it('a prepared statement that EXECUTEs itself is unknown, not an endless loop', () => {
    const prepared = new Map([['p', { scopes: [], sources: [{ sql: 'EXECUTE p' }] }]]);
    assert.ok(scopes('EXECUTE p', ctx({ prepared })).includes(`postgres:unknown ${DB}`));
  });

  it('counts statements; empty and comment-only queries have none', () => {
    assert.equal(classify('SELECT 1; SELECT 2', ctx()).statements, 2);
    assert.equal(classify('', ctx()).statements, 0);
    assert.equal(classify('-- nothing', ctx()).statements, 0);
    assert.match(classify('SELEC 1', ctx()).parseError ?? '', /syntax error/);
  });
});
