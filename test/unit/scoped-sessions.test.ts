/**
 * ScopedSessions against the strict STS stand-in: duration clamping, refresh
 * before expiry, dropping revoked grants, and failing closed when STS is away.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AssumedRoleConfig } from '../../src/config/config.js';
import type { Grant } from '../../src/core/types.js';
import { type StsStandIn, sessionPolicyAllows, startStsStandIn } from '../../src/demo/sts-stand-in.js';
import { upstreamAwsError } from '../../src/fronts/aws/aws-error.js';
import { staticCredentials } from '../../src/upstream/aws-credentials.js';
import { grantIsLive, ScopedSessions } from '../../src/upstream/scoped-sessions.js';
import { agentSessionName, sessionPolicy, sessionSeconds } from '../../src/upstream/session-policy.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';

const CALLER = { accessKeyId: 'AKIAAIRLOCKUNITTEST1', secretAccessKey: 'unit-secret' };
const ROLE_ARN = 'arn:aws:iam::111122223333:role/orders';
const TABLE = 'arn:aws:dynamodb:us-east-1:111122223333:table/orders';

function grant(over: Partial<Grant> = {}): Grant {
  const now = Date.now();
  return {
    id: 'gr_AbC-123_xyz',
    approvalId: 'apr_q1',
    agent: 'billing-bot',
    scopes: [{ action: 'dynamodb:PutItem', resource: TABLE }],
    issuedAt: new Date(now),
    expiresAt: new Date(now + 600_000),
    maxUses: undefined,
    uses: 1,
    revokedAt: undefined,
    revokedBy: undefined,
    ...over,
  };
}

describe('session policy', () => {
  it('allows each action only on its own resources', () => {
    const p = sessionPolicy([
      { action: 'dynamodb:PutItem', resource: `${TABLE}-a` },
      { action: 'dynamodb:GetItem', resource: `${TABLE}-b` },
      { action: 'dynamodb:PutItem', resource: `${TABLE}-c` },
      { action: 'dynamodb:PutItem', resource: `${TABLE}-a` },
    ]);
    assert.deepEqual(p.Statement, [
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: `${TABLE}-b` },
      { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: [`${TABLE}-a`, `${TABLE}-c`] },
    ]);
  });

  it('writes wildcard characters of S3 keys as literals, so a key never widens into a pattern', () => {
    const key = 'arn:aws:s3:::bkt/report-*-$x?.csv';
    const p = sessionPolicy([{ action: 's3:GetObject', resource: key }]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM policy variables, not a JS template
    assert.equal(p.Statement[0]?.Resource, 'arn:aws:s3:::bkt/report-${*}-${$}x${?}.csv');
    const doc = p as unknown as Parameters<typeof sessionPolicyAllows>[0];
    assert.equal(sessionPolicyAllows(doc, 's3:GetObject', key), true);
    assert.equal(sessionPolicyAllows(doc, 's3:GetObject', 'arn:aws:s3:::bkt/report-2024-$x1.csv'), false);
    assert.equal(sessionPolicyAllows(doc, 's3:PutObject', key), false);
    // A secret named without its ARN keeps IAM's "-??????" for the ARN's random suffix.
    const secret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-??????';
    const sp = sessionPolicy([{ action: 'secretsmanager:GetSecretValue', resource: secret }]);
    assert.equal(sp.Statement[0]?.Resource, secret);
    const sdoc = sp as unknown as Parameters<typeof sessionPolicyAllows>[0];
    const real = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf';
    assert.equal(sessionPolicyAllows(sdoc, 'secretsmanager:GetSecretValue', real), true);
    assert.equal(sessionPolicyAllows(sdoc, 'secretsmanager:GetSecretValue', `${real}x`), false);
  });

  it('clamps the duration to STS limits and the role maximum', () => {
    assert.equal(sessionSeconds(10_000, 3600), 900);
    assert.equal(sessionSeconds(1_800_500, 3600), 1801);
    assert.equal(sessionSeconds(86_400_000, 3600), 3600);
    assert.equal(sessionSeconds(86_400_000, 43200), 43200);
    assert.equal(agentSessionName('a'.repeat(80)).length, 64);
  });

  it('a grant is live until revoked, expired or used up', () => {
    const now = new Date();
    assert.equal(grantIsLive(grant(), now), true);
    assert.equal(grantIsLive(grant({ revokedAt: now }), now), false);
    assert.equal(grantIsLive(grant({ expiresAt: now }), now), false);
    assert.equal(grantIsLive(grant({ maxUses: 1, uses: 1 }), now), false);
    assert.equal(grantIsLive(undefined, now), false);
  });
});

describe('ScopedSessions', () => {
  let sts: StsStandIn;
  let role: AssumedRoleConfig;
  before(async () => {
    sts = await startStsStandIn({ caller: CALLER, roles: { [ROLE_ARN]: { maxSessionSeconds: 3600 } } });
    role = {
      roleArn: ROLE_ARN,
      externalId: undefined,
      stsEndpoint: sts.url,
      stsRegion: 'us-east-1',
      maxSessionSeconds: 3600,
    };
  });
  after(() => sts.close());

  it('caches per grant, refreshes before expiry, and drops revoked grants', async () => {
    let clock = Date.now();
    const sessions = new ScopedSessions(staticCredentials(CALLER), { now: () => new Date(clock) });
    const g = grant({ expiresAt: new Date(clock + 3 * 3600_000) });
    const a = await sessions.sessionFor(role, { kind: 'grant', grant: g });
    assert.equal(sts.calls.at(-1)?.durationSeconds, 3600, 'capped at the role maximum');
    assert.equal(sts.calls.at(-1)?.externalId, undefined);
    const again = await sessions.sessionFor(role, { kind: 'grant', grant: g });
    assert.equal(again.credentials.accessKeyId, a.credentials.accessKeyId);
    // 4 minutes before the session ends it is renewed, never used to the last second.
    clock = a.ref.expiresAt.getTime() - 4 * 60_000;
    const renewed = await sessions.sessionFor(role, { kind: 'grant', grant: g });
    assert.notEqual(renewed.credentials.accessKeyId, a.credentials.accessKeyId);
    assert.equal(sessions.size, 1);
    await sessions.prune(async () => false);
    assert.equal(sessions.size, 0);
    sessions.close();
  });

  it('fails closed with ServiceUnavailable when STS cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const sessions = new ScopedSessions(staticCredentials(CALLER));
    await assert.rejects(
      sessions.sessionFor(
        { ...role, stsEndpoint: `http://127.0.0.1:${port}` },
        { kind: 'grant', grant: grant() },
      ),
      (e: unknown) =>
        e instanceof UpstreamError &&
        upstreamAwsError(e).code === 'ServiceUnavailable' &&
        /was not sent/.test(e.message),
    );
    sessions.close();
  });

  it('refuses a scope set whose session policy STS could not hold, instead of widening it', async () => {
    const sessions = new ScopedSessions(staticCredentials(CALLER));
    const scopes = Array.from({ length: 40 }, (_, i) => ({
      action: 'dynamodb:GetItem',
      resource: `${TABLE}-${i}`,
    }));
    const calls = sts.calls.length;
    await assert.rejects(
      sessions.sessionFor(role, { kind: 'agent', agent: 'billing-bot', scopes }),
      (e: unknown) =>
        e instanceof UpstreamError &&
        upstreamAwsError(e).code === 'AccessDeniedException' &&
        /STS allows 2048/.test(e.message),
    );
    assert.equal(sts.calls.length, calls);
    sessions.close();
  });

  it('a wrong ExternalId is refused by STS and surfaces as AccessDenied', async () => {
    const strict = await startStsStandIn({
      caller: CALLER,
      roles: { [ROLE_ARN]: { externalId: 'right-id' } },
    });
    const sessions = new ScopedSessions(staticCredentials(CALLER));
    try {
      await assert.rejects(
        sessions.sessionFor(
          { ...role, stsEndpoint: strict.url, externalId: 'wrong-id' },
          { kind: 'grant', grant: grant() },
        ),
        (e: unknown) =>
          e instanceof UpstreamError &&
          upstreamAwsError(e).code === 'AccessDeniedException' &&
          /ExternalId/.test(e.message),
      );
    } finally {
      sessions.close();
      await strict.close();
    }
  });
});
