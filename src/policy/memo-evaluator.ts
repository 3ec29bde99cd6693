/**
 * Memoizes policy decisions for identical inputs within the same second. Cedar
 * evaluation is deterministic for fixed policies and inputs, and the finest input
 * that varies on its own is `context.time` in whole seconds (hour and weekday derive
 * from it), so a hit returns exactly what evaluation would: this is not a staleness
 * window. Used by every front: a busy agent repeats the same call shape (a GetItem
 * on one table, a statement on one relation) many times a second.
 */

import type { Evaluator, PolicyDecision, PolicyInput } from '../core/types.js';

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
      // JSON keeps the key injective whatever characters the agent-written reason holds.
      const key = JSON.stringify([
        input.agent,
        c.reason ?? null,
        c.sourceIp,
        c.front,
        c.service,
        c.operation,
        c.region,
        c.grantId ?? null,
        input.scopes.map((sc) => [sc.action, sc.resource]),
        // MCP arguments are policy input too (context.args): a call with other arguments is another key.
        c.args === undefined ? null : Object.entries(c.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ]);
      let d = cache.get(key);
      if (d === undefined) {
        d = inner.evaluate(input);
        cache.set(key, d);
      }
      return d;
    },
  };
}
