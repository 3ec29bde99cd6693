/**
 * What an approver is shown: the approval plus the guards that will apply to
 * their decision, quorum progress, the policies behind the hold and the agent's
 * recent history. Shared by the API detail route, the queue and the console.
 */
import { breadthChoices, breadthTerms } from '../approvals/breadth.js';
import { appliedGuards, type GuardConfig } from '../approvals/guards.js';
import { votingGroups } from '../approvals/quorum.js';
import type { AppliedGuards, Approval, DecisionRecord } from '../core/types.js';
import type { Store } from '../ledger/store.js';

/** Looks a policy up by id (PolicyEngine.describe). */
export type PolicyLookup = (
  id: string,
) => { id: string; effect: string; text: string; file: string } | undefined;

export interface QueueItem extends Approval {
  readonly guards: AppliedGuards;
}

export function queueItem(a: Approval, guards: GuardConfig | undefined): QueueItem {
  return { ...a, guards: appliedGuards(a.terms, a.scopes, guards, a) };
}

export interface ReviewState extends AppliedGuards {
  /** When this viewer may approve at the earliest (first shown + minimum review). */
  readonly earliestApproveAt: Date;
}

export async function detailExtras(
  store: Store,
  approval: Approval,
  firstShownAt: Date,
  decisions: readonly DecisionRecord[],
  guards: GuardConfig | undefined,
  policy: PolicyLookup | undefined,
): Promise<Record<string, unknown>> {
  const applied = appliedGuards(approval.terms, approval.scopes, guards, approval);
  const review: ReviewState = {
    ...applied,
    earliestApproveAt: new Date(firstShownAt.getTime() + applied.minReviewSeconds * 1000),
  };
  // While pending, show only the votes that still count (a revoked approver's do not).
  const all = await store.listApprovers();
  const groupsOf =
    approval.status === 'pending'
      ? votingGroups(all)
      : (n: string) => all.find((a) => a.name === n)?.groups ?? [];
  const quorum = approval.terms.requirements.map((r) => ({
    group: r.group,
    quorum: r.quorum,
    policyId: r.policyId,
    approvedBy: decisions
      .filter((d) => d.verdict === 'approve' && groupsOf(d.approver).includes(r.group))
      .map((d) => d.approver),
  }));
  const ids = [
    ...new Set([...approval.terms.requirements.map((r) => r.policyId), ...approval.policyReasons]),
  ];
  const policies = ids.map((id) => policy?.(id) ?? { id, effect: 'unknown', text: '', file: '' });
  const history = (await store.listApprovals({}))
    .filter((a) => a.agent === approval.agent && a.id !== approval.id)
    .slice(-10)
    .reverse()
    .map((a) => ({
      id: a.id,
      operation: a.operation,
      resources: a.scopes.map((s) => s.resource),
      status: a.status,
      createdAt: a.createdAt,
      decidedAt: a.decidedAt ?? null,
    }));
  // What each grant breadth would let through, in the words the approver sees before deciding:
  // the list (console, CLI) and the same sentences by breadth (`coverage`, as the MCP docs show it).
  const bt = breadthTerms(approval.terms, applied.risk, approval);
  const choices = breadthChoices(
    { ...approval, seconds: approval.terms.maxGrantSeconds, maxUses: undefined, choosing: true },
    bt,
  );
  const grantChoices = { default: bt.default, widest: bt.widest, choices };
  const coverage = Object.fromEntries(choices.map((c) => [c.breadth, c.sentence]));
  return { review, quorum, policies, history, grantChoices, coverage };
}
