/**
 * Which resources a policy that tests `context.args` might allow: lists (tools/list …)
 * are filtered by asking policy without arguments, and a tool permitted only for some
 * arguments would vanish from them. A denied-by-default item is kept listed when an
 * arguments-testing policy names its resource (exactly, or by a `like` pattern), or
 * names none (it may apply to any). Pure: read from the policy texts at load.
 */

export type ArgsResourceMatch = (resource: string) => boolean;

const RESOURCE_EQ = /resource\s*==\s*Airlock::Resource::"((?:[^"\\]|\\.)*)"/g;
const RESOURCE_LIKE = /resource\.arn\s+like\s+"((?:[^"\\]|\\.)*)"/g;

export function argsResourceMatcher(policyTexts: readonly string[]): ArgsResourceMatch {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  let any = false;
  for (const text of policyTexts) {
    if (!text.includes('context.args')) continue;
    if (/^\s*(@[^\n]*\n\s*)*forbid\b/.test(text)) continue;
    const eq = [...text.matchAll(RESOURCE_EQ)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    const like = [...text.matchAll(RESOURCE_LIKE)].map((m) =>
      likeToRegExp(JSON.parse(`"${m[1]}"`) as string),
    );
    if (eq.length === 0 && like.length === 0) any = true;
    for (const e of eq) exact.add(e);
    patterns.push(...like);
  }
  return (resource) => any || exact.has(resource) || patterns.some((p) => p.test(resource));
}

/** Cedar `like`: `*` matches any run of characters, `\*` a literal star. */
function likeToRegExp(pattern: string): RegExp {
  const parts = pattern
    .split(/(?<!\\)\*/)
    .map((p) => p.replace(/\\\*/g, '*').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}
