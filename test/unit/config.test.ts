import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const base = 'aws:\n  account_id: "123456789012"\npolicies:\n  - p.cedar\n';

function problem(text: string): string {
  try {
    parseConfig(text, '/etc/airlock.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

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
