/**
 * Grant breadth: how much one approval lets through, chosen by the approver at decision time
 * within what the hold's policies allow (@grant_default, @grant_widest: docs/POLICY.md "Grant
 * breadth"), and said in one plain sentence before the click. One design for every front:
 * `exact` this request once (bound to its request hash; an MCP call's default, docs/MCP.md),
 * `items` these DynamoDB / S3 keys, `scope` the operation on the resource. Pure; the Decider
 * enforces the choice for every channel, the detail shows the sentences.
 */
import {
  type Approval,
  GRANT_BREADTHS,
  type GrantBreadth,
  type HoldTerms,
  type ItemRef,
  type Scope,
} from '../core/types.js';
import type { RiskTier } from '../policy/annotations.js';
import { confirmationText } from './guards.js';

export interface BreadthChoice {
  readonly breadth: GrantBreadth;
  /** What the grant would let through, e.g. "This approval lets billing-bot run PutItem on orders once, for this exact item". */
  readonly sentence: string;
  /** The choice the approver gets unless they pick another. */
  readonly isDefault: boolean;
}

export interface BreadthTerms {
  readonly default: GrantBreadth;
  readonly widest: GrantBreadth;
  /** What the approver may choose, narrowest first (`items` only when the request names items). */
  readonly offered: readonly GrantBreadth[];
}

/** What a grant would be: the parts of an approval the sentence reads. */
export interface GrantShape {
  readonly agent: string;
  readonly service: string;
  readonly operation: string;
  readonly scopes: readonly Scope[];
  readonly items?: readonly ItemRef[] | undefined;
  readonly seconds: number;
  readonly maxUses: number | undefined;
  /** True before the decision: the duration is the approver's to choose, at most `seconds`. */
  readonly choosing?: boolean;
}

const rank = (b: GrantBreadth): number => GRANT_BREADTHS.indexOf(b);

export function isWiderThan(a: GrantBreadth, b: GrantBreadth): boolean {
  return rank(a) > rank(b);
}

/** True when the approval is of one exact MCP call (its scopes carry Scope.call, the argument hash). */
export function isExactCall(a: Pick<Approval, 'scopes'>): boolean {
  return a.scopes.some((s) => s.call !== undefined);
}

/** The widest breadth the hold's policies allow (policy/engine.ts guardsOf); see breadthTerms. */
export function widestBreadth(terms: HoldTerms, a: Pick<Approval, 'scopes'>): GrantBreadth {
  return terms.breadth?.widest ?? (isExactCall(a) ? 'exact' : 'scope');
}

/**
 * The hold's default, widest and offered breadths: the policy's annotations, else `exact`
 * by default for an MCP call and from `high` risk up, `scope` otherwise; widest `scope`
 * (an MCP call: `exact`, unless every holding policy says @grant_widest: policy/engine.ts).
 */
export function breadthTerms(
  terms: HoldTerms,
  risk: RiskTier,
  a: Pick<Approval, 'scopes' | 'items'>,
): BreadthTerms {
  const exactCall = isExactCall(a);
  const widest = widestBreadth(terms, a);
  const hasItems = (a.items?.length ?? 0) > 0;
  const offered = GRANT_BREADTHS.filter((b) => !isWiderThan(b, widest) && (b !== 'items' || hasItems));
  const tierDefault: GrantBreadth = exactCall || risk === 'high' || risk === 'critical' ? 'exact' : 'scope';
  let wanted = terms.breadth?.default ?? tierDefault;
  if (isWiderThan(wanted, widest)) wanted = widest;
  // The default must be one the approver can pick: `items` without items falls back to `exact`.
  if (!offered.includes(wanted)) wanted = offered.filter((b) => !isWiderThan(b, wanted)).at(-1) ?? 'exact';
  return { default: wanted, widest, offered };
}

/** Every breadth the approver may choose, narrowest first, each with its sentence. */
export function breadthChoices(shape: GrantShape, bt: BreadthTerms): BreadthChoice[] {
  return bt.offered.map((b) => ({
    breadth: b,
    sentence: describeGrant(shape, b),
    isDefault: b === bt.default,
  }));
}

/** The plain sentence for one breadth, as the approver reads it and the record keeps it. */
export function describeGrant(shape: GrantShape, breadth: GrantBreadth): string {
  if (isExactCall(shape)) return describeCall(shape, breadth);
  const on = confirmationText(shape.scopes) || shape.service;
  const who = `This approval lets ${shape.agent} run`;
  const repeats =
    shape.maxUses === undefined || shape.maxUses === 1 ? 'once' : `at most ${times(shape.maxUses)}`;
  if (breadth === 'exact')
    return `${who} ${shape.operation} on ${on} ${repeats}, for this exact ${noun(shape)}`;
  const uses = shape.maxUses === undefined ? 'with no limit on uses' : `at most ${times(shape.maxUses)}`;
  if (breadth === 'items') {
    const keys = (shape.items ?? []).map((i) => i.shown).join(', ');
    return `${who} ${shape.operation} on ${on} for these items only (${keys}) for ${duration(shape.seconds)}, ${uses}`;
  }
  return `${who} any ${shape.operation} on ${on} for ${duration(shape.seconds)}, ${uses}`;
}

/** One exact MCP call (docs/MCP.md, "What an approval covers"): the tool, the argument hash. */
function describeCall(shape: GrantShape, breadth: GrantBreadth): string {
  const what = shape.scopes.map((s) => `${s.action} on ${s.resource}`).join(' and ');
  const upTo = short(shape.seconds);
  if (breadth !== 'scope') {
    const hashes = shape.scopes
      .map((s) => s.call)
      .filter((c): c is string => c !== undefined)
      .map((c) => `${c.slice(0, 16)}…`)
      .join(', ');
    const repeats =
      shape.maxUses === undefined || shape.maxUses === 1
        ? 'once (more identical calls only with max uses)'
        : `at most ${times(shape.maxUses)}`;
    return `exactly this call: ${what} with these arguments (sha256 ${hashes}), ${repeats}, within ${upTo}`;
  }
  const uses =
    shape.maxUses === undefined ? 'as many times as the agent makes them' : `at most ${times(shape.maxUses)}`;
  const until = shape.choosing ? `the duration you choose, at most ${upTo}` : `in ${upTo}`;
  return `any call of ${what} with any arguments, ${uses}, until the grant expires (${until})`;
}

function noun(shape: GrantShape): string {
  if (shape.service === 'dynamodb' && shape.operation.endsWith('Item')) return 'item';
  if (shape.service === 's3' && shape.operation.endsWith('Object')) return 'object';
  if (shape.service === 'postgres') return 'statement';
  return 'request';
}

const times = (n: number): string => `${n} ${n === 1 ? 'time' : 'times'}`;

function duration(seconds: number): string {
  const unit = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (seconds % 86400 === 0) return unit(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

function short(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
