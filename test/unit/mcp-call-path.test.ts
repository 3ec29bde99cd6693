/** The MCP call path and its pure helpers, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Recorder, RecordUnavailable } from '../../src/access/recorder.js';
import type { Gate, GateResult } from '../../src/approvals/gate.js';
import type { AccessRequest, ActionRecord } from '../../src/core/types.js';
import { canonicalJson, policyArgs, redactArgs } from '../../src/fronts/mcp/args.js';
import { CallPath, type GatedCall } from '../../src/fronts/mcp/call-path.js';
import { argsResourceMatcher } from '../../src/fronts/mcp/list-filter.js';

const allow: GateResult = {
  kind: 'allow',
  reasons: ['p'],
  grantId: undefined,
  approvalId: undefined,
  held: false,
};
const who = { agent: 'bot', server: 'gh', sourceIp: '127.0.0.1' };
const call: GatedCall = {
  method: 'tools/call',
  kind: 'tool',
  action: 'mcp:call',
  resource: 'arn:airlock:mcp:gh:tool/t',
  target: 't',
  args: { b: 1, a: { token: 'hunter2', n: [1, 2] } },
  reason: undefined,
};

function fakes(gate: GateResult, intentFails = false) {
  const seen: {
    access?: AccessRequest;
    material?: string;
    refused: ActionRecord[];
    intents: ActionRecord[];
  } = {
    refused: [],
    intents: [],
  };
  const g = {
    authorize: async (a: AccessRequest, m: Buffer) => {
      seen.access = a;
      seen.material = m.toString();
      return gate;
    },
  } as unknown as Gate;
  const r = {
    intent: async (a: ActionRecord) => {
      if (intentFails) throw new RecordUnavailable('disk full');
      seen.intents.push(a);
    },
    outcome: () => undefined,
    refused: (a: ActionRecord) => seen.refused.push(a),
  } as unknown as Recorder;
  return { path: new CallPath(g, r), seen };
}

describe('mcp call path', () => {
  it('an intent that cannot be recorded refuses the call and forwards nothing', async () => {
    const { path, seen } = fakes(allow, true);
    let forwarded = 0;
    const r = await path.run(
      who,
      call,
      async () => forwarded++,
      () => ({ resultBytes: 0, isError: false }),
      new AbortController().signal,
    );
    assert.equal(r.kind, 'refused');
    assert.equal(r.kind === 'refused' && r.refusal, 'unrecorded');
    assert.equal(forwarded, 0);
    assert.equal(seen.refused.length, 1);
  });

  it('policy sees the arguments as text tags; the record keeps them redacted; the scope binds their hash', async () => {
    const { path, seen } = fakes(allow);
    const r = await path.run(
      who,
      call,
      async () => 'ok',
      () => ({ resultBytes: 2, isError: false }),
      new AbortController().signal,
    );
    assert.equal(r.kind, 'result');
    assert.deepEqual(seen.access?.args, { b: '1', a: '{"n":[1,2],"token":"hunter2"}' });
    assert.equal(seen.material, '["gh","tools/call","t",{"a":{"n":[1,2],"token":"hunter2"},"b":1}]');
    const intent = seen.intents[0];
    assert.equal(intent?.front, 'mcp');
    assert.deepEqual(intent?.front === 'mcp' ? intent.mcp?.args : undefined, {
      b: 1,
      a: { token: '[redacted]', n: [1, 2] },
    });
    assert.ok(!JSON.stringify(intent).includes('hunter2'));
    assert.match(intent?.scopes[0]?.call ?? '', /^[0-9a-f]{64}$/);
  });
});

describe('mcp args and lists', () => {
  it('canonical JSON sorts keys at every depth', () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: null }), '{"a":null,"b":[{"c":2,"d":1}]}');
    assert.deepEqual(policyArgs({ s: 'x', n: 10, t: true, o: { z: 1 } }), {
      s: 'x',
      n: '10',
      t: 'true',
      o: '{"z":1}',
    });
    assert.equal(redactArgs('x'.repeat(600)), `${'x'.repeat(512)}… [600 chars]`);
    assert.deepEqual(redactArgs({ headers: { Authorization: 'Bearer x' }, api_key: 'k' }), {
      headers: { Authorization: '[redacted]' },
      api_key: '[redacted]',
    });
  });

  it('list filter: resources named by argument-testing permits, by == or like', () => {
    const m = argsResourceMatcher([
      '@id("a")\npermit (principal, action, resource == Airlock::Resource::"arn:airlock:mcp:s:tool/deploy") when { context.args.hasTag("env") };',
      'permit (principal, action, resource) when { resource.arn like "arn:airlock:mcp:s:tool/get_*" && context.args.hasTag("x") };',
      '@id("f")\nforbid (principal, action, resource) when { context.args.hasTag("y") };',
      'permit (principal, action, resource == Airlock::Resource::"arn:airlock:mcp:s:tool/other");',
    ]);
    assert.equal(m('arn:airlock:mcp:s:tool/deploy'), true);
    assert.equal(m('arn:airlock:mcp:s:tool/get_repo'), true);
    assert.equal(m('arn:airlock:mcp:s:tool/other'), false);
    assert.equal(m('arn:airlock:mcp:s:tool/wipe'), false);
    assert.equal(
      argsResourceMatcher(['permit (principal, action, resource) when { context.args.hasTag("x") };'])(
        'anything',
      ),
      true,
    );
  });
});
