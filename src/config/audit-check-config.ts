/**
 * The optional `audit_check:` config section: thresholds for `airlock audit check`.
 * Every key is optional; CLI flags override these, and these override the defaults
 * in src/audit-check/record.ts. Lists extend the built-in lists rather than replace them.
 */
import { z } from 'zod';
import { obj, scalars } from './schema-fields.js';

export interface AuditCheckSettings {
  readonly minReviewSeconds?: number;
  readonly maxFailShare?: number;
  readonly rubberStampShare?: number;
  readonly rubberStampMinDecisions?: number;
  readonly boilerplateMinRepeats?: number;
  readonly unusedGrantSeconds?: number;
  readonly extraTrivialReasons?: readonly string[];
  readonly extraSharedIdentities?: readonly string[];
}

const number = (min: number, max: number, integer: boolean) => {
  const msg = (p: readonly PropertyKey[]) =>
    `audit_check.${String(p.at(-1))} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  const n = z
    .number({ error: (iss) => msg(iss.path ?? []) })
    .min(min)
    .max(max);
  return (integer ? n.int() : n).optional();
};
const list = (key: string) => {
  const msg = `audit_check.${key} must be a list of strings`;
  return scalars(z.string({ error: msg }), msg).optional();
};

export const AUDIT_CHECK_SCHEMA = obj({
  min_review_seconds: number(0, 86400, false).describe('a decision faster than this fails "reviewed"'),
  max_fail_share: number(0, 1, false).describe('exit 4 when more than this share of approvals fails'),
  rubber_stamp_share: number(0, 1, false),
  rubber_stamp_min_decisions: number(1, 100000, true),
  boilerplate_min_repeats: number(2, 100000, true),
  unused_grant_seconds: number(1, 365 * 86400, true),
  trivial_reasons: list('trivial_reasons').describe('reasons that say nothing, added to the built-in list'),
  shared_identities: list('shared_identities').describe('shared identities, added to the built-in list'),
}).describe('thresholds for `airlock audit check` (docs/AUDIT-CHECK.md)');

export function buildAuditCheck(
  a: z.output<typeof AUDIT_CHECK_SCHEMA> | null | undefined,
): AuditCheckSettings | undefined {
  if (a === undefined || a === null) return undefined;
  const s: Record<string, unknown> = {
    minReviewSeconds: a.min_review_seconds,
    maxFailShare: a.max_fail_share,
    rubberStampShare: a.rubber_stamp_share,
    rubberStampMinDecisions: a.rubber_stamp_min_decisions,
    boilerplateMinRepeats: a.boilerplate_min_repeats,
    unusedGrantSeconds: a.unused_grant_seconds,
    extraTrivialReasons: a.trivial_reasons,
    extraSharedIdentities: a.shared_identities,
  };
  for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
  return s as AuditCheckSettings;
}
