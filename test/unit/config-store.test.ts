import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

const parse = (yaml: string) => parseConfig(`${BASE_CONFIG}${yaml}`, '/etc/airlock/airlock.yaml');

describe('config: store', () => {
  it('defaults to SQLite, absent or named', () => {
    assert.deepEqual(parse('').store, { kind: 'sqlite' });
    assert.deepEqual(parse('store:\n  sqlite: {}\n').store, { kind: 'sqlite' });
  });

  it('reads a PostgreSQL store from host/port/database/user, a password source and TLS', () => {
    const c = parse(
      'store:\n  postgres:\n    host: db.internal\n    port: 6432\n    database: airlock\n    user: airlock\n' +
        '    password_env: AIRLOCK_PG_PASSWORD\n    tls:\n      mode: verify-full\n      ca_file: certs/rds-ca.pem\n',
    );
    assert.deepEqual(c.store, {
      kind: 'postgres',
      postgres: {
        urlEnv: undefined,
        host: 'db.internal',
        port: 6432,
        database: 'airlock',
        user: 'airlock',
        password: { kind: 'env', name: 'AIRLOCK_PG_PASSWORD' },
        tls: { mode: 'verify-full', caFile: '/etc/airlock/certs/rds-ca.pem' },
        poolSize: 10,
      },
    });
    const byUrl = parse(
      'store:\n  postgres:\n    url_env: AIRLOCK_PG_URL\n    rds_iam: {region: eu-west-1}\n',
    );
    assert.equal(byUrl.store?.kind === 'postgres' && byUrl.store.postgres.urlEnv, 'AIRLOCK_PG_URL');
    assert.deepEqual(byUrl.store?.kind === 'postgres' && byUrl.store.postgres.password, {
      kind: 'rds_iam',
      region: 'eu-west-1',
    });
  });

  it('refuses incomplete or unsafe settings with file:line', () => {
    assert.match(
      configProblem(`${BASE_CONFIG}store:\n  postgres:\n    host: db\n`),
      /^\/etc\/airlock\.yaml:7:11: store\.postgres needs url_env, or host, database and user/,
    );
    assert.match(
      configProblem(
        `${BASE_CONFIG}store:\n  postgres:\n    url_env: U\n    tls:\n      mode: require\n      ca_file: x\n`,
      ),
      /:9:13: store\.postgres\.tls\.mode must be verify-full/,
    );
    assert.match(
      configProblem(`${BASE_CONFIG}store:\n  postgres:\n    url_env: U\n    tls: {mode: verify-full}\n`),
      /store\.postgres\.tls\.ca_file must name the CA bundle/,
    );
    assert.match(
      configProblem(`${BASE_CONFIG}store:\n  postgres:\n    url_env: U\n    password: hunter2\n`),
      /:8:5: unknown key store\.postgres\.password /,
    );
    assert.match(
      configProblem(
        `${BASE_CONFIG}store:\n  postgres:\n    url_env: U\n    password_env: A\n    password_file: /p\n`,
      ),
      /:9:20: store\.postgres takes one of password_env, password_file, rds_iam/,
    );
    assert.match(configProblem(`${BASE_CONFIG}store:\n  mysql: {}\n`), /:6:3: unknown key store\.mysql /);
    assert.match(configProblem(`${BASE_CONFIG}store: {}\n`), /store must name a backend/);
  });
});
