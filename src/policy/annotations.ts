/**
 * Airlock's hold terms, written as Cedar annotations on a `permit` (docs/POLICY.md):
 *
 *   @id("orders-writes")        the policy's name in every decision and record
 *   @hold("dba")                matching requests wait for a member of group `dba`
 *   @quorum("2")                ... for two distinct members (default 1)
 *   @max_grant("15m")           the grant an approval becomes lasts at most this long
 *   @require_reason("true")     the request must carry x-airlock-reason
 *   @risk("high")               risk tier (low|medium|high|critical): picks the review guards
 *   @min_review("30s")          an approver must have had the detail open this long
 *   @min_review("reading")      ... at least as long as reading it takes (core/reading-time.ts)
 *   @confirm("resource")        approving needs the resource name typed back
 *   @require_comment("true")    approvals (not only denials) need a comment
 *   @grant_default("exact")     the grant breadth an approver is offered first (exact|items|scope)
 *   @grant_widest("scope")      the widest grant an approver may choose (exact|items|scope)
 *   @widen("tool")              deprecated spelling of @grant_widest("scope") (MCP, before breadth)
 *
 * Cedar itself ignores annotations; this file gives them meaning and rejects the
 * ones it does not know, so a typo (`@quorom`) stops the start instead of
 * silently dropping a control.
 */

export const KNOWN_ANNOTATIONS = [
  'id',
  'hold',
  'quorum',
  'max_grant',
  'require_reason',
  'risk',
  'min_review',
  'confirm',
  'require_comment',
  'grant_default',
  'grant_widest',
  'widen',
] as const;

/** Grant breadths, narrowest first (core/types.ts GrantBreadth). */
const BREADTHS = ['exact', 'items', 'scope'] as const;
type Breadth = (typeof BREADTHS)[number];

/** Risk tiers, lowest first; guards (approvals/guards.ts) get stricter up the list. */
export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];
/** The longest minimum review a policy may ask for: 1 hour. */
const MAX_MIN_REVIEW = 3600;

const GROUP_RE = /^[a-z][a-z0-9_-]{1,62}$/;
const DURATION_RE = /^(\d{1,7})(s|m|h|d)?$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
/** The longest grant any policy may allow: 30 days. */
const MAX_GRANT_CEILING = 30 * 86400;

export interface PolicyTerms {
  /** Approver group when the policy holds; undefined for a plain permit/forbid. */
  readonly hold: { readonly group: string; readonly quorum: number } | undefined;
  readonly maxGrantSeconds: number | undefined;
  readonly requireReason: boolean;
  /** Review guards; only on a holding permit. Undefined: the config's default for the tier. */
  readonly guards?: PolicyGuards;
}

export interface PolicyGuards {
  readonly risk?: RiskTier;
  readonly minReviewSeconds?: number;
  /** @min_review("reading"): the review lasts at least the time to read what is shown. */
  readonly readingTime?: boolean;
  readonly confirmResource?: boolean;
  readonly requireComment?: boolean;
  readonly breadthDefault?: Breadth;
  readonly breadthWidest?: Breadth;
}

/** Reads the annotations of one policy; returns the problem text instead of throwing. */
export function readTerms(
  effect: 'permit' | 'forbid',
  annotations: Readonly<Record<string, string>>,
): { terms: PolicyTerms } | { problem: string } {
  for (const name of Object.keys(annotations)) {
    if (!(KNOWN_ANNOTATIONS as readonly string[]).includes(name)) {
      return {
        problem: `unknown annotation @${name} (Airlock knows: ${KNOWN_ANNOTATIONS.map((a) => `@${a}`).join(', ')})`,
      };
    }
  }
  const group = annotations.hold;
  if (group !== undefined && effect === 'forbid') {
    return { problem: '@hold belongs on a permit: a forbid always denies' };
  }
  if (group !== undefined && !GROUP_RE.test(group)) {
    return { problem: `@hold("${group}") must name one approver group (lower-case, e.g. "dba")` };
  }
  let quorum = 1;
  if (annotations.quorum !== undefined) {
    if (group === undefined) return { problem: '@quorum needs @hold("GROUP") on the same policy' };
    if (!/^[1-9]\d?$/.test(annotations.quorum)) {
      return { problem: `@quorum("${annotations.quorum}") must be a whole number from 1 to 99` };
    }
    quorum = Number(annotations.quorum);
  }
  let maxGrantSeconds: number | undefined;
  if (annotations.max_grant !== undefined) {
    if (group === undefined) return { problem: '@max_grant needs @hold("GROUP") on the same policy' };
    const seconds = parseDuration(annotations.max_grant);
    if (seconds === undefined || seconds < 1 || seconds > MAX_GRANT_CEILING) {
      return {
        problem: `@max_grant("${annotations.max_grant}") must be a duration like "900s", "15m", "1h" or "1d" (at most 30d)`,
      };
    }
    maxGrantSeconds = seconds;
  }
  let requireReason = false;
  if (annotations.require_reason !== undefined) {
    if (annotations.require_reason !== 'true' && annotations.require_reason !== 'false') {
      return { problem: `@require_reason("${annotations.require_reason}") must be "true" or "false"` };
    }
    if (effect === 'forbid') return { problem: '@require_reason belongs on a permit' };
    requireReason = annotations.require_reason === 'true';
  }
  const widen = annotations.widen;
  if (widen !== undefined) {
    if (group === undefined) return { problem: '@widen needs @hold("GROUP") on the same policy' };
    if (widen !== 'tool') {
      return { problem: `@widen("${widen}") must be "tool" (approvers may widen one call to the tool)` };
    }
  }
  if (widen !== undefined && annotations.grant_widest !== undefined) {
    return {
      problem: '@widen("tool") is the old spelling of @grant_widest("scope"): keep only @grant_widest',
    };
  }
  const guards = readGuards(
    widen === undefined ? annotations : { ...annotations, grant_widest: 'scope' },
    group !== undefined,
  );
  if ('problem' in guards) return guards;
  return {
    terms: {
      hold: group === undefined ? undefined : { group, quorum },
      maxGrantSeconds,
      requireReason,
      ...(guards.guards === undefined ? {} : { guards: guards.guards }),
    },
  };
}

function readGuards(
  annotations: Readonly<Record<string, string>>,
  holds: boolean,
): { guards: PolicyGuards | undefined } | { problem: string } {
  const {
    risk,
    min_review: minReview,
    confirm,
    require_comment: requireComment,
    grant_default: grantDefault,
    grant_widest: grantWidest,
  } = annotations;
  for (const [name, v] of [
    ['risk', risk],
    ['min_review', minReview],
    ['confirm', confirm],
    ['require_comment', requireComment],
    ['grant_default', grantDefault],
    ['grant_widest', grantWidest],
  ] as const) {
    if (v !== undefined && !holds) return { problem: `@${name} needs @hold("GROUP") on the same policy` };
  }
  const out: { -readonly [K in keyof PolicyGuards]: PolicyGuards[K] } = {};
  if (risk !== undefined) {
    if (!(RISK_TIERS as readonly string[]).includes(risk)) {
      return { problem: `@risk("${risk}") must be one of ${RISK_TIERS.map((t) => `"${t}"`).join(', ')}` };
    }
    out.risk = risk as RiskTier;
  }
  if (minReview === 'reading') {
    out.readingTime = true;
  } else if (minReview !== undefined) {
    const seconds = parseDuration(minReview);
    if (seconds === undefined || seconds > MAX_MIN_REVIEW) {
      return {
        problem: `@min_review("${minReview}") must be a duration like "30s" or "2m" (at most 1h), or "reading" (as long as reading the request takes)`,
      };
    }
    out.minReviewSeconds = seconds;
  }
  if (confirm !== undefined) {
    if (confirm !== 'resource' && confirm !== 'none') {
      return { problem: `@confirm("${confirm}") must be "resource" (type the resource name) or "none"` };
    }
    out.confirmResource = confirm === 'resource';
  }
  if (requireComment !== undefined) {
    if (requireComment !== 'true' && requireComment !== 'false') {
      return { problem: `@require_comment("${requireComment}") must be "true" or "false"` };
    }
    out.requireComment = requireComment === 'true';
  }
  for (const [name, v, key] of [
    ['grant_default', grantDefault, 'breadthDefault'],
    ['grant_widest', grantWidest, 'breadthWidest'],
  ] as const) {
    if (v === undefined) continue;
    if (!(BREADTHS as readonly string[]).includes(v)) {
      return {
        problem: `@${name}("${v}") must be "exact" (this one request, once), "items" (these keys) or "scope" (the operation on the resource for the grant's time)`,
      };
    }
    out[key] = v as Breadth;
  }
  if (
    out.breadthDefault !== undefined &&
    out.breadthWidest !== undefined &&
    BREADTHS.indexOf(out.breadthDefault) > BREADTHS.indexOf(out.breadthWidest)
  ) {
    return {
      problem: `@grant_default("${out.breadthDefault}") is wider than @grant_widest("${out.breadthWidest}")`,
    };
  }
  return { guards: Object.keys(out).length === 0 ? undefined : out };
}

export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
}
