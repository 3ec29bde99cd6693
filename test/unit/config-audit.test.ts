import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

describe('config: audit.checkpoints and admins', () => {
  it('resolves the checkpoint directory against the file and defaults the interval', () => {
    const c = parseConfig(
      `${BASE_CONFIG}audit:\n  checkpoints:\n    dir: ../audit/cps\n`,
      '/etc/airlock/airlock.yaml',
    );
    assert.deepEqual(c.audit?.checkpoints, { dir: '/etc/audit/cps', intervalSeconds: 60 });
    assert.equal(parseConfig(BASE_CONFIG, '/etc/airlock.yaml').audit, undefined);
  });

  it('refuses a directory inside data_dir, a bad interval and unknown keys, with file:line', () => {
    const inside = configProblem(
      `data_dir: /var/lib/airlock\n${BASE_CONFIG}audit:\n  checkpoints:\n    dir: /var/lib/airlock/cps\n`,
    );
    assert.match(inside, /^\/etc\/airlock\.yaml:8:10: audit\.checkpoints\.dir must be outside data_dir/);
    const sibling = parseConfig(
      `data_dir: /var/lib/airlock\n${BASE_CONFIG}audit:\n  checkpoints:\n    dir: /var/lib/airlock-cps\n`,
      '/etc/airlock.yaml',
    );
    assert.equal(sibling.audit?.checkpoints?.dir, '/var/lib/airlock-cps');
    assert.match(
      configProblem(`${BASE_CONFIG}audit:\n  checkpoints:\n    dir: /x\n    interval_seconds: 0\n`),
      /:8:23: interval_seconds must be an integer from 1 to 86400/,
    );
    assert.match(
      configProblem(`${BASE_CONFIG}audit:\n  checkpoint: {}\n`),
      /:6:3: unknown key audit\.checkpoint /,
    );
    assert.match(
      configProblem(`${BASE_CONFIG}audit:\n  checkpoints: {}\n`),
      /audit\.checkpoints\.dir must name a directory/,
    );
  });

  it('reads admins.groups as approver group names', () => {
    assert.deepEqual(parseConfig(`${BASE_CONFIG}admins:\n  groups: [security, dba]\n`, '/a.yaml').admins, {
      groups: ['security', 'dba'],
    });
    assert.deepEqual(parseConfig(BASE_CONFIG, '/a.yaml').admins, { groups: [] });
    assert.match(configProblem(`${BASE_CONFIG}admins:\n  groups: [Security]\n`), /each admins\.groups entry/);
  });
});
