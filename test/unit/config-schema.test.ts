/**
 * The one config schema and its published copies: the JSON Schema in the package and the
 * reference table in docs/CONFIG.md are what the loader validates with, and the README's
 * example config is valid both for the loader and for an editor using the JSON Schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { CONFIG_DOC, SCHEMA_FILE, withReference } from '../../src/config/reference.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { airlockCli } from '../support/cli.js';
import { BASE_CONFIG } from '../support/config-problem.js';

const readmeExample = (): string => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf('### Config (`airlock.yaml`)');
  const m = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m?.[1], 'README "Config" has a yaml example');
  return m[1];
};

const validator = () => new Ajv2020({ strict: false, allErrors: true }).compile(configJsonSchema());

describe('config schema', () => {
  it('the committed schema/airlock.schema.json and docs/CONFIG.md table are current (npm run config:docs)', () => {
    assert.deepEqual(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), configJsonSchema());
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    assert.equal(doc, withReference(doc));
  });

  it('airlock config schema prints it', async () => {
    const r = await airlockCli(['config', 'schema']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), configJsonSchema());
  });

  it("the README's example config loads, and is valid JSON Schema-wise too", () => {
    const text = readmeExample();
    const c = parseConfig(text, '/etc/airlock/airlock.yaml');
    assert.equal(c.aws.accountId, '123456789012');
    assert.equal(c.databases[0]?.name, 'orders');
    const validate = validator();
    assert.equal(validate(parse(text)), true, JSON.stringify(validate.errors));
  });

  it('an editor sees the same unknown keys, types and ranges the loader refuses', () => {
    const validate = validator();
    const bad = [
      `${BASE_CONFIG}holds:\n  window_secs: 3\n`,
      `${BASE_CONFIG}holds:\n  window_seconds: 0\n`,
      `${BASE_CONFIG}guards:\n  default_risk: extreme\n`,
      `${BASE_CONFIG}databases:\n  - name: Prod\n    upstream: {host: h, database: d, user: u}\n    auth: {password_env: X}\n`,
      'policies: [p.cedar]\n',
    ];
    for (const text of bad) {
      assert.equal(validate(parse(text)), false, text);
      assert.throws(() => parseConfig(text, '/a.yaml'), ConfigError, text);
    }
    assert.equal(validate(parse(BASE_CONFIG)), true);
  });
});
