import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_GUARDS } from '../../src/approvals/guards.js';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

const base = BASE_CONFIG;

const problem = configProblem;

describe('config', () => {
  it('applies defaults and resolves paths against the file', () => {
    const c = parseConfig(base, '/etc/airlock/airlock.yaml');
    assert.equal(c.dataDir, '/etc/airlock/.airlock');
    assert.deepEqual(c.policies, ['/etc/airlock/p.cedar']);
    assert.equal(c.holds.windowSeconds, 50);
    assert.deepEqual(c.listen.aws, { host: '127.0.0.1', port: 4566 });
  });
  it('reports unknown keys with file:line:col', () => {
    assert.match(
      problem(`${base}holds:\n  window_secs: 3\n`),
      /^\/etc\/airlock\.yaml:6:3: unknown key holds\.window_secs/,
    );
  });
  it('reports bad values with their line', () => {
    assert.match(
      problem(`${base}holds:\n  window_seconds: -1\n`),
      /:6:19: window_seconds must be an integer/,
    );
    assert.match(problem(base.replace('123456789012', '12')), /:2:15: aws\.account_id must be the 12-digit/);
    assert.match(
      problem(`${base}resources:\n  - arn: nope\n    endpoint: ftp://x\n`),
      /arn must be an ARN glob[\s\S]*endpoint must be an http/,
    );
    assert.match(problem(`${base}listen:\n  aws: localhost\n`), /aws must be host:port/);
  });
  it('reports YAML syntax errors with their line', () => {
    assert.match(problem('aws: [\n'), /^\/etc\/airlock\.yaml:\d+:\d+: /);
  });
  it('requires policies', () => {
    assert.match(problem('aws:\n  account_id: "123456789012"\n'), /policies must be a non-empty list/);
  });
});

describe('config: guards, console, oidc', () => {
  it('defaults: built-in tiers, local accounts, 8 h sessions, no SSO', () => {
    const c = parseConfig(base, '/etc/airlock.yaml');
    assert.deepEqual(c.guards, DEFAULT_GUARDS);
    assert.deepEqual(c.console, { sessionTtlSeconds: 28800, localAccounts: true, oidc: undefined });
  });
  it('overrides one tier and keeps the others', () => {
    const c = parseConfig(
      `${base}guards:\n  default_risk: high\n  tiers:\n    high: {min_review_seconds: 5, typed_confirmation: true}\n`,
      '/etc/airlock.yaml',
    );
    assert.equal(c.guards?.defaultRisk, 'high');
    assert.deepEqual(c.guards?.tiers.high, {
      minReviewSeconds: 5,
      requireComment: true,
      typedConfirmation: true,
    });
    assert.deepEqual(c.guards?.tiers.critical, DEFAULT_GUARDS.tiers.critical);
  });
  it('reports bad guard values with file:line', () => {
    assert.match(
      problem(`${base}guards:\n  default_risk: extreme\n`),
      /:6:\d+: guards.default_risk must be one of/,
    );
    assert.match(
      problem(`${base}guards:\n  tiers:\n    severe: {}\n`),
      /:7:5: unknown key guards.tiers.severe/,
    );
    assert.match(
      problem(`${base}guards:\n  tiers:\n    low: {require_comment: "yes"}\n`),
      /require_comment must be true or false/,
    );
  });
  it('reads oidc and refuses a wrong redirect_uri or secret variable name', () => {
    const oidc =
      'oidc:\n  issuer: https://login.example.com\n  client_id: abc\n  client_secret_env: AIRLOCK_OIDC_SECRET\n' +
      '  redirect_uri: https://airlock.example.com/v1/auth/oidc/callback\n  group_map: {"AWS-DBA": dba}\n';
    const c = parseConfig(base + oidc, '/etc/airlock.yaml');
    assert.equal(c.console?.oidc?.clientSecretEnv, 'AIRLOCK_OIDC_SECRET');
    assert.deepEqual(c.console?.oidc?.groupMap, { 'AWS-DBA': 'dba' });
    assert.equal(c.console?.oidc?.groupsClaim, 'groups');
    assert.match(
      problem(base + oidc.replace('/v1/auth/oidc/callback', '/callback')),
      /oidc.redirect_uri must be <console URL>\/v1\/auth\/oidc\/callback/,
    );
    assert.match(
      problem(base + oidc.replace('AIRLOCK_OIDC_SECRET', 'my secret')),
      /names an environment variable/,
    );
  });
});
