/**
 * The optional `audit_check:` config section: thresholds for `airlock audit check`.
 * Every key is optional; CLI flags override these, and these override the defaults
 * in src/audit-check/record.ts. Lists extend the built-in lists rather than replace them.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';

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

export const AUDIT_CHECK_KEYS = [
  'min_review_seconds',
  'max_fail_share',
  'rubber_stamp_share',
  'rubber_stamp_min_decisions',
  'boilerplate_min_repeats',
  'unused_grant_seconds',
  'trivial_reasons',
  'shared_identities',
] as const;

export function parseAuditCheck(
  node: Node | undefined,
  at: (node: Node | null | undefined, msg: string) => void,
): AuditCheckSettings | undefined {
  if (node === undefined || node === null) return undefined;
  if (!isMap(node)) {
    at(node, 'audit_check must be a mapping');
    return undefined;
  }
  const map = node as YAMLMap;
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!(AUDIT_CHECK_KEYS as readonly string[]).includes(k))
      at(pair.key as Node, `unknown key audit_check.${k} (expected one of: ${AUDIT_CHECK_KEYS.join(', ')})`);
  }
  const number = (key: string, min: number, max: number, integer: boolean): number | undefined => {
    const v = map.get(key, true) as Node | undefined;
    if (v === undefined) return undefined;
    if (isScalar(v) && typeof v.value === 'number' && v.value >= min && v.value <= max) {
      if (!integer || Number.isInteger(v.value)) return v.value;
    }
    at(v, `audit_check.${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    return undefined;
  };
  const list = (key: string): string[] | undefined => {
    const v = map.get(key, true) as Node | undefined;
    if (v === undefined) return undefined;
    if (isSeq(v) && v.items.every((i) => isScalar(i) && typeof i.value === 'string'))
      return v.items.map((i) => String((i as { value: unknown }).value));
    at(v, `audit_check.${key} must be a list of strings`);
    return undefined;
  };
  const s: Record<string, unknown> = {
    minReviewSeconds: number('min_review_seconds', 0, 86400, false),
    maxFailShare: number('max_fail_share', 0, 1, false),
    rubberStampShare: number('rubber_stamp_share', 0, 1, false),
    rubberStampMinDecisions: number('rubber_stamp_min_decisions', 1, 100000, true),
    boilerplateMinRepeats: number('boilerplate_min_repeats', 2, 100000, true),
    unusedGrantSeconds: number('unused_grant_seconds', 1, 365 * 86400, true),
    extraTrivialReasons: list('trivial_reasons'),
    extraSharedIdentities: list('shared_identities'),
  };
  for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
  return s as AuditCheckSettings;
}
