/**
 * Memoizes policy decisions for identical inputs within the same second. Cedar
 * evaluation is deterministic for fixed policies and inputs, and the finest input
 * that varies on its own is `context.time` in whole seconds (hour and weekday derive
 * from it), so a hit returns exactly what evaluation would: this is not a staleness
 * window. Used by the Postgres front, where a busy session repeats the same
 * statement shape thousands of times a second.
 */

import type { Evaluator } from '../approvals/gate.js';
import type { PolicyDecision, PolicyInput } from '../core/types.js';

export function memoizeEvaluator(inner: Evaluator, maxEntries = 10_000): Evaluator {
  let second = -1;
  let cache = new Map<string, PolicyDecision>();
  return {
    evaluate(input: PolicyInput): PolicyDecision {
      const s = Math.floor(input.context.time.getTime() / 1000);
      if (s !== second || cache.size >= maxEntries) {
        second = s;
        cache = new Map();
      }
      const c = input.context;
      let key = `${input.agent}\n${c.reason ?? '\u0000'}\n${c.sourceIp}\n${c.front}\n${c.service}\n${c.operation}\n${c.region}\n${c.grantId ?? '\u0000'}`;
      for (const sc of input.scopes) key += `\n${sc.action}\u0001${sc.resource}`;
      let d = cache.get(key);
      if (d === undefined) {
        d = inner.evaluate(input);
        cache.set(key, d);
      }
      return d;
    },
  };
}
