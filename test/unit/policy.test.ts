import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actionGroups } from '../../src/app.js';
import type { PolicyInput, Scope } from '../../src/core/types.js';
import { dynamoDbIamActions } from '../../src/fronts/aws/services/dynamodb-operations.js';
import { PolicyEngine, PolicyLoadError } from '../../src/policy/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function engine(...texts: string[]): Promise<PolicyEngine> {
  const files = texts.map((t) => {
    const f = join(dir, `p${n++}.cedar`);
    writeFileSync(f, t);
    return f;
  });
  return PolicyEngine.load(files, {
    defaultMaxGrantSeconds: 3600,
    knownActions: dynamoDbIamActions(),
    actionGroups,
  });
}

async function loadError(text: string): Promise<{ message: string; file: string }> {
  const file = join(dir, `p${n}.cedar`);
  try {
    await engine(text);
  } catch (err) {
    assert.ok(err instanceof PolicyLoadError, String(err));
    return { message: err.message, file };
  }
  assert.fail('expected the policy to be refused');
}

const ARN = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}`;
function input(scopes: Scope[], extra: Partial<PolicyInput['context']> = {}, agent = 'bot'): PolicyInput {
  return {
    agent,
    scopes,
    context: {
      reason: undefined,
      time: new Date('2026-11-26T10:00:00Z'),
      sourceIp: '::ffff:10.1.2.3',
      front: 'aws',
      service: 'dynamodb',
      operation: 'X',
      region: 'us-east-1',
      grantId: undefined,
      ...extra,
    },
  };
}

const BASE = `
@id("reads")
permit (principal, action in Airlock::Action::"dynamodb:read", resource);

@id("orders-writes")
@hold("dba")
@max_grant("15m")
permit (principal, action in Airlock::Action::"dynamodb:write",
        resource == Airlock::Resource::"${ARN('orders')}");

@id("orders-writes-finance")
@hold("finance")
@quorum("2")
@max_grant("1h")
permit (principal, action == Airlock::Action::"dynamodb:DeleteItem",
        resource == Airlock::Resource::"${ARN('orders')}");

@id("no-deletes")
forbid (principal, action == Airlock::Action::"dynamodb:DeleteTable", resource);
`;

describe('policy evaluation', () => {
  it('allows a read with the permit id as the reason', async () => {
    const e = await engine(BASE);
    assert.deepEqual(e.evaluate(input([{ action: 'dynamodb:GetItem', resource: ARN('orders') }])), {
      effect: 'allow',
      reasons: ['reads'],
    });
  });

  it('denies by default, naming the scope', async () => {
    const d = (await engine(BASE)).evaluate(
      input([{ action: 'dynamodb:PutItem', resource: ARN('customers') }]),
    );
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons, ['default-deny']);
    assert.match(d.effect === 'deny' ? d.message : '', /no policy permits dynamodb:PutItem on .*customers/);
  });

  it('a forbid wins over every permit, and names itself', async () => {
    const e = await engine(BASE, '@id("all")\npermit (principal, action, resource);\n');
    const d = e.evaluate(input([{ action: 'dynamodb:DeleteTable', resource: ARN('orders') }]));
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons, ['no-deletes']);
  });

  it('a hold is not bypassed by a broader plain permit', async () => {
    const e = await engine(BASE, '@id("all")\npermit (principal, action, resource);\n');
    const d = e.evaluate(input([{ action: 'dynamodb:PutItem', resource: ARN('orders') }]));
    assert.equal(d.effect, 'hold');
    assert.deepEqual([...d.reasons].sort(), ['all', 'orders-writes']);
  });

  it('combines hold terms across policies and scopes: every group, largest quorum, shortest grant', async () => {
    const d = (await engine(BASE)).evaluate(
      input([
        { action: 'dynamodb:DeleteItem', resource: ARN('orders') },
        { action: 'dynamodb:GetItem', resource: ARN('customers') },
      ]),
    );
    assert.equal(d.effect, 'hold');
    if (d.effect !== 'hold') return;
    assert.deepEqual(
      [...d.terms.requirements].sort((a, b) => a.group.localeCompare(b.group)),
      [
        { group: 'dba', quorum: 1, policyId: 'orders-writes' },
        { group: 'finance', quorum: 2, policyId: 'orders-writes-finance' },
      ],
    );
    assert.equal(d.terms.maxGrantSeconds, 900);
  });

  it('one denied scope denies the whole request', async () => {
    const d = (await engine(BASE)).evaluate(
      input([
        { action: 'dynamodb:GetItem', resource: ARN('orders') },
        { action: 'dynamodb:PutItem', resource: ARN('customers') },
      ]),
    );
    assert.equal(d.effect, 'deny');
  });

  it('uses the default grant lifetime when a hold sets none', async () => {
    const e = await engine('@id("h")\n@hold("dba")\npermit (principal, action, resource);\n');
    const d = e.evaluate(input([{ action: 'dynamodb:PutItem', resource: ARN('x') }]));
    assert.equal(d.effect === 'hold' ? d.terms.maxGrantSeconds : 0, 3600);
  });

  it('sees the context: reason, source address (IPv4-mapped), agent and time', async () => {
    const e = await engine(`
@id("office")
permit (principal == Airlock::Agent::"bot", action, resource)
when { context.source_ip.isInRange(ip("10.0.0.0/8")) && context.has_reason && context.hour_utc >= 9 };
`);
    const scope = [{ action: 'dynamodb:PutItem', resource: ARN('x') }];
    assert.equal(e.evaluate(input(scope, { reason: 'why' })).effect, 'allow');
    assert.equal(e.evaluate(input(scope)).effect, 'deny');
    assert.equal(e.evaluate(input(scope, { reason: 'why', sourceIp: '192.168.1.1' })).effect, 'deny');
    assert.equal(e.evaluate(input(scope, { reason: 'why' }, 'other')).effect, 'deny');
  });

  it('a permit with @require_reason denies without one, naming missing-reason', async () => {
    const e = await engine('@id("r")\n@require_reason("true")\npermit (principal, action, resource);\n');
    const scope = [{ action: 'dynamodb:GetItem', resource: ARN('x') }];
    const d = e.evaluate(input(scope));
    assert.equal(d.effect, 'deny');
    assert.ok(d.reasons.includes('missing-reason'));
    assert.equal(e.evaluate(input(scope, { reason: 'JIRA-1' })).effect, 'allow');
  });

  it('an unknown action (dynamodb:*) matches no permit that names actions', async () => {
    const d = (await engine(BASE)).evaluate(
      input([{ action: 'dynamodb:*', resource: 'arn:aws:dynamodb:us-east-1:1:*' }]),
    );
    assert.equal(d.effect, 'deny');
  });

  it('a forbid that fails to evaluate denies instead of being skipped', async () => {
    // Type-correct, so it loads; but context.time * 10^10 overflows a Cedar Long at run time.
    const e = await engine(
      '@id("all")\npermit (principal, action, resource);\n@id("overflows")\nforbid (principal, action, resource) when { context.time * 10000000000 > 0 };\n',
    );
    const d = e.evaluate(input([{ action: 'dynamodb:GetItem', resource: ARN('x') }]));
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons, ['policy-error:overflows']);
  });
});

describe('policy files refuse to load with file:line', () => {
  it('a Cedar syntax error', async () => {
    const { message, file } = await loadError(
      '@id("ok")\npermit (principal, action, resource);\n\npermit (principal, action resource);\n',
    );
    assert.match(message, new RegExp(`^${file.replace(/[.]/g, '\\.')}:4:`));
  });

  it('a misspelled action, with the suggestion', async () => {
    const { message, file } = await loadError(
      '@id("x")\nforbid (principal, action == Airlock::Action::"dynamodb:Deletetable", resource);\n',
    );
    assert.match(message, new RegExp(`${file.replace(/[.]/g, '\\.')}:2:\\d+: .*unrecognized action`));
    assert.match(message, /DeleteTable/);
  });

  it('a misspelled context attribute', async () => {
    const { message } = await loadError(
      '@id("x")\npermit (principal, action, resource) when { context.reson == "a" };\n',
    );
    assert.match(message, /:2:\d+: .*reson/);
  });

  it('an unknown annotation, a hold on a forbid, a bad duration, a bad quorum, a duplicate id', async () => {
    assert.match(
      (await loadError('@id("a")\n@quorom("2")\npermit (principal, action, resource);\n')).message,
      /:1:1: policy a: unknown annotation @quorom/,
    );
    assert.match(
      (await loadError('@hold("dba")\nforbid (principal, action, resource);\n')).message,
      /@hold belongs on a permit/,
    );
    assert.match(
      (await loadError('@hold("dba")\n@max_grant("soon")\npermit (principal, action, resource);\n')).message,
      /@max_grant\("soon"\) must be a duration/,
    );
    assert.match(
      (await loadError('@hold("dba")\n@quorum("0")\npermit (principal, action, resource);\n')).message,
      /@quorum\("0"\)/,
    );
    assert.match(
      (await loadError('@quorum("2")\npermit (principal, action, resource);\n')).message,
      /@quorum needs @hold/,
    );
    assert.match(
      (
        await loadError(
          '@id("a")\npermit (principal, action, resource);\n@id("a")\npermit (principal, action, resource);\n',
        )
      ).message,
      /:3:1: policy id a is already used at .*:1:1/,
    );
  });

  it('@grant_widest("scope") on an MCP call: needs @hold, a known breadth, and holds allow it only when every holding policy does; @widen("tool") is its old spelling', async () => {
    assert.match(
      (await loadError('@widen("tool")\npermit (principal, action, resource);\n')).message,
      /@widen needs @hold/,
    );
    assert.match(
      (await loadError('@hold("dba")\n@widen("server")\npermit (principal, action, resource);\n')).message,
      /@widen\("server"\) must be "tool"/,
    );
    assert.match(
      (await loadError('@grant_widest("scope")\npermit (principal, action, resource);\n')).message,
      /@grant_widest needs @hold/,
    );
    // One exact call (Scope.call), as the MCP front makes it; the engine's actions here are DynamoDB's.
    const call = input([{ action: 'dynamodb:PutItem', resource: ARN('orders'), call: 'c'.repeat(64) }]);
    for (const annotation of ['@grant_widest("scope")', '@widen("tool")']) {
      const widen = `@id("w")\n@hold("dba")\n${annotation}\npermit (principal, action, resource);\n`;
      const one = (await engine(widen)).evaluate(call);
      assert.equal(one.effect === 'hold' ? one.terms.breadth?.widest : 'no hold', 'scope');
      const both = (
        await engine(widen, '@id("x")\n@hold("ops")\npermit (principal, action, resource);\n')
      ).evaluate(call);
      assert.equal(both.effect, 'hold');
      assert.equal(both.effect === 'hold' ? both.terms.breadth?.widest : 'no hold', 'exact');
    }
  });

  it('policies of services Airlock has no table for may be named exactly', async () => {
    const e = await engine(
      '@id("ec2")\npermit (principal, action == Airlock::Action::"ec2:DescribeInstances", resource);\n',
    );
    assert.equal(e.evaluate(input([{ action: 'ec2:DescribeInstances', resource: '*' }])).effect, 'allow');
  });
});
