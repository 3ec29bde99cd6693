import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

const base = BASE_CONFIG;

const problem = configProblem;

describe('config: databases', () => {
  it('reads a full entry with defaults', () => {
    const c = parseConfig(
      `${base}databases:
  - name: prod-orders
    listen: 0.0.0.0:6432
    upstream: { host: db.internal, port: 5433, database: orders, user: airlock }
    auth: { rds_iam: { region: eu-west-1 } }
    tls: { ca_file: rds-ca.pem }
    side_effect_functions: [purge_*]
`,
      '/etc/airlock/airlock.yaml',
    );
    const db = c.databases[0];
    assert.ok(db);
    assert.equal(db.name, 'prod-orders');
    assert.deepEqual(db.listen, { host: '0.0.0.0', port: 6432 });
    assert.deepEqual(db.upstream, { host: 'db.internal', port: 5433, database: 'orders', user: 'airlock' });
    assert.deepEqual(db.auth, { kind: 'rds_iam', region: 'eu-west-1' });
    assert.deepEqual(db.tls, { mode: 'verify-full', caFile: '/etc/airlock/rds-ca.pem' });
    assert.equal(db.clientTls, undefined);
    assert.equal(db.clientTlsRequired, false);
    assert.equal(db.clientTlsEnabled, true);
    assert.deepEqual(db.searchPath, ['$user', 'public']);
    assert.deepEqual(db.sideEffectFunctions, ['purge_*']);
    assert.equal(db.recordParams, 'full');
    assert.deepEqual(parseConfig(base, '/x.yaml').databases, []);
  });

  it('reports problems with file:line:col', () => {
    const msg = problem(`${base}databases:
  - name: Prod
    upstream: { host: h, database: d }
    auth: { password_env: X, password_file: y }
    tls: { mode: maybe }
    record_params: some
    colour: blue
`);
    assert.match(msg, /airlock\.yaml:6:11: databases\[\]\.name must be a lower-case name/);
    assert.match(msg, /airlock\.yaml:7:15: databases\[\]\.upstream\.user is required/);
    assert.match(msg, /airlock\.yaml:8:11: auth must be one of/);
    assert.match(msg, /airlock\.yaml:9:\d+: tls\.mode must be disable, require or verify-full/);
    assert.match(msg, /airlock\.yaml:10:20: record_params must be full, redacted or none/);
    assert.match(msg, /airlock\.yaml:11:5: unknown key databases\[\]\.colour/);
    assert.match(problem(`${base}databases: {}\n`), /databases must be a list/);
    assert.match(
      problem(
        `${base}databases:\n  - name: a\n    upstream: {host: h, database: d, user: u}\n    auth: {rds_iam: {region: mars}}\n`,
      ),
      /rds_iam\.region must be an AWS region/,
    );
    assert.match(
      problem(
        `${base}databases:\n  - name: a\n    upstream: {host: h, database: d, user: u}\n    auth: {password_env: X}\n    client_tls: {enabled: false, required: true}\n`,
      ),
      /client_tls\.required cannot be true when client_tls\.enabled is false/,
    );
  });
});
