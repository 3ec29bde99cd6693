/** Config tests: the smallest valid config, and the error text a broken one produces. */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/load.js';

export const BASE_CONFIG = 'aws:\n  account_id: "123456789012"\npolicies:\n  - p.cedar\n';

/** Parses `text` as /etc/airlock.yaml and returns the ConfigError message it must raise. */
export function configProblem(text: string): string {
  try {
    parseConfig(text, '/etc/airlock.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}
