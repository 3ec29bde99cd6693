/**
 * Pure quorum arithmetic. A requirement {group, quorum} is met when `quorum`
 * distinct members of `group` approved. One eligible denial vetoes the request.
 */
import type { ApprovalRequirement, Approver, DecisionRecord } from '../core/types.js';

export type QuorumState = 'approved' | 'denied' | 'pending';

export function quorumState(
  requirements: readonly ApprovalRequirement[],
  decisions: readonly DecisionRecord[],
  groupsOf: (approver: string) => readonly string[],
): QuorumState {
  if (decisions.some((d) => d.verdict === 'deny')) return 'denied';
  if (requirements.length === 0) return 'pending';
  const approvers = new Set(decisions.filter((d) => d.verdict === 'approve').map((d) => d.approver));
  for (const req of requirements) {
    let count = 0;
    for (const a of approvers) if (groupsOf(a).includes(req.group)) count++;
    if (count < req.quorum) return 'pending';
  }
  return 'approved';
}

/** Groups of the requirements this approver may satisfy; empty means not eligible. */
export function eligibleGroups(
  requirements: readonly ApprovalRequirement[],
  groups: readonly string[],
): string[] {
  return [...new Set(requirements.filter((r) => groups.includes(r.group)).map((r) => r.group))];
}

/**
 * The groups each approver's vote counts for now: its current groups, or none once
 * revoked. A vote cast on a still-pending approval by an approver revoked since no
 * longer counts toward quorum (issue 11); a removed group no longer counts either.
 */
export function votingGroups(approvers: readonly Approver[]): (approver: string) => readonly string[] {
  const byName = new Map(approvers.map((a) => [a.name, a.revokedAt === undefined ? a.groups : []] as const));
  return (name) => byName.get(name) ?? [];
}
