/**
 * Decision-quality guards: what makes an approval a decision rather than a reflex.
 * Pure functions; the Decider enforces them for every channel (CLI, API, console),
 * so a browser that hides the button is never the only thing in the way.
 *
 * The guards of a held request come from its risk tier (config `guards.tiers`)
 * raised by whatever its hold policies ask for (@risk, @min_review, @confirm,
 * @require_comment). Policy can make a guard stricter than its tier, never looser.
 */
import { readingSeconds, type ShownRequest, shownWords } from '../core/reading-time.js';
import type { AppliedGuards, HoldTerms, Scope } from '../core/types.js';
import { RISK_TIERS, type RiskTier } from '../policy/annotations.js';

export interface TierGuards {
  readonly minReviewSeconds: number;
  readonly requireComment: boolean;
  readonly typedConfirmation: boolean;
}

export interface GuardConfig {
  /** Tier of a hold whose policies name none. */
  readonly defaultRisk: RiskTier;
  readonly tiers: Readonly<Record<RiskTier, TierGuards>>;
}

/** Built-in tier defaults; `guards.tiers` in airlock.yaml overrides them per tier. */
export const DEFAULT_GUARDS: GuardConfig = {
  defaultRisk: 'medium',
  tiers: {
    low: { minReviewSeconds: 0, requireComment: false, typedConfirmation: false },
    medium: { minReviewSeconds: 0, requireComment: false, typedConfirmation: false },
    high: { minReviewSeconds: 30, requireComment: true, typedConfirmation: false },
    critical: { minReviewSeconds: 60, requireComment: true, typedConfirmation: true },
  },
};

/**
 * The guards of one held request. `shown` is what its detail shows the approver (the
 * approval's summary and reason); a hold with @min_review("reading") needs it, and then the
 * minimum review is at least the time to read it, the same figure `audit check` holds a
 * decision to (core/reading-time.ts), rounded up to whole seconds.
 */
export function appliedGuards(
  terms: HoldTerms,
  scopes: readonly Scope[],
  config: GuardConfig = DEFAULT_GUARDS,
  shown?: Omit<ShownRequest, 'scopes'>,
): AppliedGuards {
  const p = terms.guards ?? {};
  const risk: RiskTier = p.risk ?? config.defaultRisk;
  const tier = config.tiers[risk];
  const confirm = tier.typedConfirmation || p.confirmResource === true;
  const reading =
    p.readingTime === true
      ? readingSeconds(shownWords({ summary: shown?.summary, reason: shown?.reason, scopes }))
      : undefined;
  return {
    risk,
    minReviewSeconds: Math.max(tier.minReviewSeconds, p.minReviewSeconds ?? 0, Math.ceil(reading ?? 0)),
    ...(reading === undefined ? {} : { readingSeconds: Math.round(reading * 10) / 10 }),
    requireComment: tier.requireComment || p.requireComment === true,
    confirmText: confirm ? confirmationText(scopes) : undefined,
  };
}

/**
 * What an approver types to confirm: the resource's own name (the part of the ARN
 * after the last `/` or `:`, e.g. `orders` for a DynamoDB table), comma-joined when
 * a request touches several, in the order they appear.
 */
export function confirmationText(scopes: readonly Scope[]): string {
  const names: string[] = [];
  for (const s of scopes) {
    const name = s.resource.split(/[/:]/).at(-1) ?? s.resource;
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  return names.join(',');
}

export interface GuardCheck {
  readonly shownAt: Date | undefined;
  readonly now: Date;
  readonly comment: string;
  readonly confirm: string | undefined;
}

export interface GuardRefusal {
  readonly status: 400 | 409;
  readonly code: 'not-reviewed' | 'review-too-short' | 'comment-required' | 'confirmation-required';
  readonly message: string;
}

/** Checks an approve against the guards; undefined when it may proceed. */
export function checkApprove(id: string, g: AppliedGuards, c: GuardCheck): GuardRefusal | undefined {
  if (c.shownAt === undefined) {
    return {
      status: 409,
      code: 'not-reviewed',
      message: `open ${id} before approving it (airlock approvals show ${id}, or the console); the review clock starts then`,
    };
  }
  const waitedMs = c.now.getTime() - c.shownAt.getTime();
  const neededMs = g.minReviewSeconds * 1000;
  if (waitedMs < neededMs) {
    const left = Math.ceil((neededMs - waitedMs) / 1000);
    return {
      status: 409,
      code: 'review-too-short',
      message: `${g.risk}-risk requests need ${g.minReviewSeconds}s of review${g.readingSeconds === undefined ? '' : ' (the time to read this one)'}; you opened ${id} ${Math.floor(waitedMs / 1000)}s ago, try again in ${left}s`,
    };
  }
  if (g.requireComment && c.comment.trim() === '') {
    return {
      status: 400,
      code: 'comment-required',
      message: `${g.risk}-risk approvals need a comment saying what you checked (--comment TEXT)`,
    };
  }
  if (g.confirmText !== undefined && (c.confirm ?? '').trim() !== g.confirmText) {
    return {
      status: 400,
      code: 'confirmation-required',
      message: `type the resource name to confirm: "${g.confirmText}" (--confirm ${g.confirmText})`,
    };
  }
  return undefined;
}

export function reviewSeconds(shownAt: Date | undefined, now: Date): number | undefined {
  return shownAt === undefined ? undefined : Math.max(0, (now.getTime() - shownAt.getTime()) / 1000);
}

export { RISK_TIERS };
