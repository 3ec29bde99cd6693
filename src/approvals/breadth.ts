/**
 * What an approval will cover, in plain words for the approver before deciding
 * (docs/MCP.md, "What an approval covers"). An approval of one exact call (its scopes
 * carry Scope.call, the argument hash) covers that call once by default; when its hold
 * policies say `@widen("tool")` the approver may widen it to any call of the tool for
 * the grant's time.
 */
import type { Approval, GrantBreadth } from '../core/types.js';

/** True when the approval is of one exact call (an MCP tool call, prompt or resource read). */
export function isExactCall(a: Pick<Approval, 'scopes'>): boolean {
  return a.scopes.some((s) => s.call !== undefined);
}

/** The breadths an approver may choose, each with what it covers; undefined when the approval has no call binding. */
export function coverage(
  a: Pick<Approval, 'scopes' | 'terms'>,
): { readonly [B in GrantBreadth]?: string } | undefined {
  if (!isExactCall(a)) return undefined;
  const what = a.scopes.map((s) => `${s.action} on ${s.resource}`).join(' and ');
  const hashes = a.scopes
    .map((s) => s.call)
    .filter((c): c is string => c !== undefined)
    .map((c) => `${c.slice(0, 16)}…`)
    .join(', ');
  const upTo = duration(a.terms.maxGrantSeconds);
  return {
    call: `exactly this call: ${what} with these arguments (sha256 ${hashes}), once (more identical calls only with max uses), within ${upTo}`,
    ...(a.terms.widen === 'tool'
      ? {
          tool: `any call of ${what} with any arguments, as many times as the agent makes them, until the grant expires (the duration you choose, at most ${upTo})`,
        }
      : {}),
  };
}

function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
