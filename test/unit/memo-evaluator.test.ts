import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evaluator, PolicyInput } from '../../src/core/types.js';
import { memoizeEvaluator } from '../../src/policy/memo-evaluator.js';

const input = (over: Partial<PolicyInput['context']> = {}, resource = 'r1'): PolicyInput => ({
  agent: 'bot',
  scopes: [{ action: 'postgres:select', resource }],
  context: {
    reason: undefined,
    time: new Date('2026-01-01T00:00:00.100Z'),
    sourceIp: '127.0.0.1',
    front: 'postgres',
    service: 'postgres',
    operation: 'select',
    region: '',
    grantId: undefined,
    ...over,
  },
});

describe('memoizeEvaluator', () => {
  it('evaluates once per distinct input per second, and again in the next second', () => {
    let calls = 0;
    const inner: Evaluator = {
      evaluate: (i) => {
        calls++;
        return { effect: 'allow', reasons: [i.context.reason ?? 'none'] };
      },
    };
    const m = memoizeEvaluator(inner);
    m.evaluate(input());
    m.evaluate(input({ time: new Date('2026-01-01T00:00:00.900Z') }));
    assert.equal(calls, 1);
    m.evaluate(input({}, 'r2'));
    m.evaluate(input({ reason: 'why' }));
    m.evaluate(input({ grantId: 'gr_1' }));
    m.evaluate(input({ sourceIp: '10.0.0.1' }));
    assert.equal(calls, 5);
    assert.deepEqual(m.evaluate(input({ reason: 'why' })).reasons, ['why']);
    m.evaluate(input({ time: new Date('2026-01-01T00:00:01.000Z') }));
    assert.equal(calls, 6);
  });
});
