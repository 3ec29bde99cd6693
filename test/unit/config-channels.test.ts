import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webhookTargets } from '../../src/channels/webhooks/from-config.js';
import { parseConfig } from '../../src/config/load.js';
import { BASE_CONFIG, configProblem } from '../support/config-problem.js';

const SLACK = `slack:
  bot_token_env: AIRLOCK_SLACK_BOT_TOKEN
  signing_secret_env: AIRLOCK_SLACK_SIGNING_SECRET
  channels:
    dba: C0123ABCD
`;

describe('config: slack and webhooks', () => {
  it('reads slack with the default Web API URL', () => {
    const c = parseConfig(`${BASE_CONFIG}${SLACK}`, '/etc/airlock.yaml');
    assert.deepEqual(c.slack, {
      botTokenEnv: 'AIRLOCK_SLACK_BOT_TOKEN',
      signingSecretEnv: 'AIRLOCK_SLACK_SIGNING_SECRET',
      channels: { dba: 'C0123ABCD' },
      apiUrl: 'https://slack.com/api/',
    });
    assert.equal(parseConfig(BASE_CONFIG, '/etc/airlock.yaml').slack, undefined);
  });

  it('refuses a secret in place of an env name, a #channel name and unknown keys, with file:line', () => {
    assert.match(
      configProblem(
        SLACK.replace('AIRLOCK_SLACK_BOT_TOKEN', 'xoxb-123-456').replace('slack:', `${BASE_CONFIG}slack:`),
      ),
      /^\/etc\/airlock\.yaml:6:18: slack\.bot_token_env must name an environment variable/,
    );
    assert.match(
      configProblem(`${BASE_CONFIG}${SLACK.replace('C0123ABCD', '"#dba"')}`),
      /:9:10: slack\.channels\.dba must be a Slack channel id/,
    );
    assert.match(configProblem(`${BASE_CONFIG}${SLACK}  token: x\n`), /:10:3: unknown key slack\.token /);
    assert.match(
      configProblem(`${BASE_CONFIG}slack:\n  bot_token_env: A\n  signing_secret_env: B\n`),
      /slack\.channels must map approver groups/,
    );
  });

  it('reads webhooks and refuses unknown events and bad URLs with file:line', () => {
    const yaml = `${BASE_CONFIG}webhooks:\n  - url: https://hooks.example.com/airlock\n    events: [approval.requested, grant.revoked]\n    secret_env: AIRLOCK_WEBHOOK_SECRET\n`;
    const c = parseConfig(yaml, '/etc/airlock.yaml');
    assert.deepEqual(c.webhooks, [
      {
        url: 'https://hooks.example.com/airlock',
        events: ['approval.requested', 'grant.revoked'],
        secretEnv: 'AIRLOCK_WEBHOOK_SECRET',
        retrySeconds: undefined,
      },
    ]);
    assert.match(
      configProblem(yaml.replace('grant.revoked', 'grant.exploded')),
      /:7:13: unknown webhook event "grant.exploded"/,
    );
    assert.match(
      configProblem(yaml.replace('https://hooks.example.com/airlock', 'ftp://x')),
      /:6:10: webhooks\[\]\.url must be/,
    );
    assert.match(
      configProblem(`${yaml}    retry_seconds: [0]\n`),
      /:9:20: webhooks\[\]\.retry_seconds must be/,
    );
  });

  it('needs the webhook secret in the environment, in Standard Webhooks form', () => {
    const hooks = [
      {
        url: 'https://h.example/x',
        events: ['grant.issued' as const],
        secretEnv: 'S',
        retrySeconds: undefined,
      },
    ];
    assert.throws(() => webhookTargets(hooks, {}), /names S, which is not set/);
    assert.throws(() => webhookTargets(hooks, { S: 'not base64 !!' }), /whsec_ followed by base64/);
    assert.equal(
      webhookTargets(hooks, { S: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })[0]?.retrySeconds.length,
      7,
    );
  });
});
