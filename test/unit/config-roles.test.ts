/** The scoped-session keys of a resources entry (role_arn and friends). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { configProblem } from '../support/config-problem.js';

const base =
  'aws:\n  account_id: "123456789012"\npolicies:\n  - p.cedar\nresources:\n  - arn: "arn:aws:s3:::*"\n    endpoint: https://s3.us-east-1.amazonaws.com\n';

const problem = configProblem;

describe('config: role_arn on a resource', () => {
  it('reads the role, with defaults for STS', () => {
    const c = parseConfig(
      `${base}    role_arn: arn:aws:iam::210987654321:role/airlock/s3-data\n    external_id: ext-7f3a\n    max_session_seconds: 7200\n`,
      '/etc/airlock.yaml',
    );
    assert.deepEqual(c.resources[0]?.role, {
      roleArn: 'arn:aws:iam::210987654321:role/airlock/s3-data',
      externalId: 'ext-7f3a',
      stsEndpoint: undefined,
      stsRegion: 'us-east-1',
      maxSessionSeconds: 7200,
    });
    assert.equal(parseConfig(base, '/etc/airlock.yaml').resources[0]?.role, undefined);
  });

  it('reports bad role keys with their line', () => {
    assert.match(
      problem(`${base}    role_arn: arn:aws:iam::1:user/x\n`),
      /:8:15: role_arn must be an IAM role ARN/,
    );
    assert.match(problem(`${base}    external_id: abc\n`), /:8:18: external_id needs role_arn/);
    assert.match(
      problem(
        `${base}    role_arn: arn:aws:iam::123456789012:role/r\n    sts_endpoint: nope\n    max_session_seconds: 60\n`,
      ),
      /sts_endpoint must be an http\(s\) URL[\s\S]*max_session_seconds must be an integer from 900 to 43200/,
    );
  });
});
