/**
 * Grant breadth: how much one approval lets through, chosen by the approver at decision time
 * within what the hold's policies allow, and said in one plain sentence before the click.
 * Pure; the Decider enforces the choice for every channel, the detail shows the sentences.
 */
import { GRANT_BREADTHS, type GrantBreadth, type HoldTerms, type Scope } from '../core/types.js';
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
}

/** What a grant would be: the parts of an approval the sentence reads. */
export interface GrantShape {
  readonly agent: string;
  readonly service: string;
  readonly operation: string;
  readonly scopes: readonly Scope[];
  readonly seconds: number;
  readonly maxUses: number | undefined;
}

const wider = (a: GrantBreadth, b: GrantBreadth): boolean =>
  GRANT_BREADTHS.indexOf(a) > GRANT_BREADTHS.indexOf(b);

/** The hold's default and widest breadth: policy's annotations, else `exact` by default from `high` risk up. */
export function breadthTerms(terms: HoldTerms, risk: RiskTier): BreadthTerms {
  const widest = terms.breadth?.widest ?? 'scope';
  const tierDefault: GrantBreadth = risk === 'high' || risk === 'critical' ? 'exact' : 'scope';
  const wanted = terms.breadth?.default ?? tierDefault;
  return { default: wider(wanted, widest) ? widest : wanted, widest };
}

/** Every breadth the approver may choose, narrowest first, each with its sentence. */
export function breadthChoices(shape: GrantShape, bt: BreadthTerms): BreadthChoice[] {
  return GRANT_BREADTHS.filter((b) => !wider(b, bt.widest)).map((b) => ({
    breadth: b,
    sentence: describeGrant(shape, b),
    isDefault: b === bt.default,
  }));
}

export function isWiderThan(a: GrantBreadth, b: GrantBreadth): boolean {
  return wider(a, b);
}

/** The plain sentence for one breadth; `exact` is always once, whatever maxUses says. */
export function describeGrant(shape: GrantShape, breadth: GrantBreadth): string {
  const on = confirmationText(shape.scopes) || shape.service;
  const who = `This approval lets ${shape.agent} run`;
  if (breadth === 'exact') return `${who} ${shape.operation} on ${on} once, for this exact ${noun(shape)}`;
  const uses =
    shape.maxUses === undefined
      ? 'with no limit on uses'
      : `at most ${shape.maxUses} ${shape.maxUses === 1 ? 'time' : 'times'}`;
  return `${who} any ${shape.operation} on ${on} for ${duration(shape.seconds)}, ${uses}`;
}

function noun(shape: GrantShape): string {
  if (shape.service === 'dynamodb' && shape.operation.endsWith('Item')) return 'item';
  if (shape.service === 's3' && shape.operation.endsWith('Object')) return 'object';
  if (shape.service === 'postgres') return 'statement';
  if (shape.scopes.some((s) => s.call !== undefined)) return 'call';
  return 'request';
}

function duration(seconds: number): string {
  const unit = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (seconds % 86400 === 0) return unit(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}
