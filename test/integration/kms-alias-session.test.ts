/**
 * A KMS key named by alias, reached through a scoped STS session. IAM authorizes
 * cryptographic operations on the key, not on the alias ARN, so the session policy
 * must allow the action on the account's keys only when the request names that alias
 * (kms:RequestAlias). The verifying upstream evaluates the session policy that way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { type StsStandIn, sessionPolicyAllows, startStsStandIn } from '../../src/demo/sts-stand-in.js';
import { startVerifyingRpc, type VerifyingRpc } from '../../src/demo/verifying-rpc.js';
import { type Gateway, startGateway } from '../support/gateway.js';
import { REGION, UPSTREAM_CREDS } from '../support/harness.js';

const ROLE = 'arn:aws:iam::123456789012:role/airlock-kms';
const ALIAS_ARN = 'arn:aws:kms:us-east-1:123456789012:alias/app';

describe('KMS aliases through scoped STS sessions', () => {
  let sts: StsStandIn;
  let up: VerifyingRpc;
  let gw: Gateway;
  let kms: KMSClient;

  before(async () => {
    sts = await startStsStandIn({ caller: UPSTREAM_CREDS, roles: { [ROLE]: { maxSessionSeconds: 3600 } } });
    up = await startVerifyingRpc(UPSTREAM_CREDS, { sts });
    gw = await startGateway({
      policy: 'test/fixtures/policies/services.cedar',
      resources: `  - arn: "arn:aws:kms:*"\n    endpoint: ${up.url}\n    role_arn: ${ROLE}\n    sts_endpoint: ${sts.url}\n`,
      agentName: 'ops-bot',
    });
    kms = new KMSClient({
      endpoint: gw.airlock.awsUrl,
      region: REGION,
      credentials: { accessKeyId: gw.agent.accessKeyId, secretAccessKey: gw.agent.secretAccessKey },
      maxAttempts: 1,
    });
  });
  after(async () => {
    kms.destroy();
    await gw.close();
    await up.close();
    await sts.close();
  });

  it('Encrypt by alias runs in a session that allows the action on keys named by that alias only', async () => {
    const r = await kms.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('hi') }));
    assert.ok(r.CiphertextBlob);
    assert.deepEqual(up.refused, []);
    assert.equal(sts.calls.length, 1, sts.refusals.join('\n'));
    const call = sts.calls[0];
    assert.deepEqual(call?.policy, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'kms:Encrypt',
          Resource: 'arn:aws:kms:us-east-1:123456789012:key/*',
          Condition: { StringEquals: { 'kms:RequestAlias': ['alias/app', ALIAS_ARN] } },
        },
      ],
    });
    const got = up.received.at(-1);
    assert.equal(got?.operation, 'Encrypt');
    assert.equal(got?.accessKeyId, call?.accessKeyId);
  });

  it('that session reaches no other alias, no other action, and no key by its id', () => {
    const policy = sts.calls[0]?.policy as Parameters<typeof sessionPolicyAllows>[0];
    assert.equal(sessionPolicyAllows(policy, 'kms:Encrypt', ALIAS_ARN), true);
    assert.equal(
      sessionPolicyAllows(policy, 'kms:Encrypt', 'arn:aws:kms:us-east-1:123456789012:alias/other'),
      false,
    );
    assert.equal(sessionPolicyAllows(policy, 'kms:Decrypt', ALIAS_ARN), false);
    assert.equal(
      sessionPolicyAllows(
        policy,
        'kms:Encrypt',
        'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ),
      false,
    );
    // What Airlock asked for before: the alias ARN as Resource. AWS (and the stand-in)
    // never authorize Encrypt on it, so the session could not have used the key.
    const old = {
      Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: ALIAS_ARN }],
    };
    assert.equal(sessionPolicyAllows(old, 'kms:Encrypt', ALIAS_ARN), false);
  });
});
