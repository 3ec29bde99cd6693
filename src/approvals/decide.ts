/**
 * Deciding a held request. The rules that make a decision a real one live here,
 * whatever the channel (CLI, API, console): a named, authenticated approver;
 * never the requester; only members of a required group; one vote per approver;
 * quorum of distinct approvers; the grant never outlives the policy's maximum.
 */
import { newId } from '../core/ids.js';
import {
  type Approval,
  type Approver,
  type DecisionRecord,
  GRANT_BREADTHS,
  type Grant,
  type GrantBreadth,
  type SlackDecisionRef,
  type Verdict,
} from '../core/types.js';
import { type Store, StoreConflict } from '../ledger/store.js';
import { breadthTerms, describeGrant, isExactCall, isWiderThan } from './breadth.js';
import type { ApprovalEvents } from './events.js';
import { appliedGuards, checkApprove, DEFAULT_GUARDS, type GuardConfig, reviewSeconds } from './guards.js';
import { eligibleGroups, quorumState, votingGroups } from './quorum.js';
import type { Waiter } from './waiter.js';

export class DecisionRefused extends Error {
  override readonly name = 'DecisionRefused';
  constructor(
    readonly status: 403 | 404 | 409 | 400,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DecideInput {
  readonly approvalId: string;
  readonly approver: Approver;
  readonly verdict: Verdict;
  readonly comment: string;
  readonly channel: string;
  /** Requested grant lifetime; clamped to the policy's max. */
  readonly durationSeconds?: number | undefined;
  readonly maxUses?: number | undefined;
  /**
   * How much the grant covers (approvals/breadth.ts): `exact` this request, `items` these
   * keys, `scope` the operation on the resource; absent: the hold's default. Never wider
   * than the policy's @grant_widest.
   */
  readonly breadth?: GrantBreadth | undefined;
  /** Typed confirmation (the resource name) when the request's guards ask for one. */
  readonly confirm?: string | undefined;
  /** Channel `slack`: the Slack user, workspace and message, recorded with the decision. */
  readonly slack?: SlackDecisionRef | undefined;
}

export interface DecideResult {
  readonly approval: Approval;
  readonly decision: DecisionRecord;
  readonly grant: Grant | undefined;
  readonly state: 'approved' | 'denied' | 'pending';
}

export class Decider {
  constructor(
    private readonly store: Store,
    private readonly waiter: Waiter,
    private readonly now: () => Date = () => new Date(),
    private readonly guards: GuardConfig = DEFAULT_GUARDS,
    /** Told of every recorded decision (its log line and metrics: ops/observer.ts). */
    private readonly onDecided: (r: DecideResult) => void = () => undefined,
    private readonly events?: ApprovalEvents,
  ) {}

  async decide(input: DecideInput): Promise<DecideResult> {
    const now = this.now();
    const approval = await this.store.getApproval(input.approvalId);
    if (approval === undefined)
      throw new DecisionRefused(404, 'not-found', `no approval ${input.approvalId}`);
    if (approval.status !== 'pending') {
      throw new DecisionRefused(409, 'not-pending', `approval ${approval.id} is already ${approval.status}`);
    }
    if (approval.expiresAt <= now)
      throw new DecisionRefused(409, 'expired', `approval ${approval.id} has expired`);
    if (input.approver.revokedAt !== undefined) {
      throw new DecisionRefused(403, 'revoked', `approver ${input.approver.name} is revoked`);
    }
    if (input.approver.name === approval.agent) {
      throw new DecisionRefused(
        403,
        'self-approval',
        `${input.approver.name} requested ${approval.id} and cannot decide it`,
      );
    }
    const groups = eligibleGroups(approval.terms.requirements, input.approver.groups);
    if (groups.length === 0) {
      const needed = approval.terms.requirements.map((r) => r.group).join(', ');
      throw new DecisionRefused(
        403,
        'not-eligible',
        `${input.approver.name} is not in an approver group for ${approval.id} (needs: ${needed})`,
      );
    }
    if (input.verdict === 'deny' && input.comment.trim() === '') {
      throw new DecisionRefused(
        400,
        'comment-required',
        'a denial needs a comment saying why (--comment TEXT)',
      );
    }
    if (
      input.durationSeconds !== undefined &&
      (!Number.isInteger(input.durationSeconds) || input.durationSeconds < 1)
    ) {
      throw new DecisionRefused(400, 'bad-duration', 'duration must be a positive number of seconds');
    }
    if (input.maxUses !== undefined && (!Number.isInteger(input.maxUses) || input.maxUses < 1)) {
      throw new DecisionRefused(400, 'bad-max-uses', 'max uses must be a positive integer');
    }

    if (input.breadth !== undefined && !GRANT_BREADTHS.includes(input.breadth)) {
      throw new DecisionRefused(400, 'bad-breadth', `breadth must be one of: ${GRANT_BREADTHS.join(', ')}`);
    }

    const shownAt = await this.store.shownAt(approval.id, input.approver.name);
    const guards = appliedGuards(approval.terms, approval.scopes, this.guards, approval);
    const bt = breadthTerms(approval.terms, guards.risk, approval);
    const breadth = input.breadth ?? bt.default;
    if (input.verdict === 'approve') refuseBreadth(approval, breadth, bt.widest, bt.offered);
    if (input.verdict === 'approve') {
      const refusal = checkApprove(approval.id, guards, {
        shownAt,
        now,
        comment: input.comment,
        confirm: input.confirm,
      });
      if (refusal !== undefined) throw new DecisionRefused(refusal.status, refusal.code, refusal.message);
    }
    const decision: DecisionRecord = {
      approvalId: approval.id,
      approver: input.approver.name,
      verdict: input.verdict,
      comment: input.comment,
      channel: input.channel,
      shownAt,
      decidedAt: now,
      reviewSeconds: reviewSeconds(shownAt, now),
      viewedDetail: shownAt !== undefined,
      guards,
      ...(input.slack === undefined ? {} : { slack: input.slack }),
      ...(input.verdict === 'approve' ? { breadth } : {}),
    };
    const prior = await this.store.decisions(approval.id);
    if (prior.some((d) => d.approver === input.approver.name)) {
      throw new DecisionRefused(
        409,
        'already-decided',
        `${input.approver.name} already decided ${approval.id}`,
      );
    }
    const groupsOf = votingGroups(await this.store.listApprovers());
    const votes = [...prior, decision];
    const state = quorumState(approval.terms.requirements, votes, groupsOf);
    // The votes an approval rests on: the store refuses the write if one of them (or the
    // decider) was revoked after listApprovers above. A denial rests on the decider alone.
    const counted =
      state === 'approved' ? votes.filter((v) => groupsOf(v.approver).length > 0).map((v) => v.approver) : [];

    let grant: Grant | undefined;
    if (state === 'approved') {
      const seconds = Math.min(
        input.durationSeconds ?? approval.terms.maxGrantSeconds,
        approval.terms.maxGrantSeconds,
      );
      // As wide as the narrowest approving vote the quorum rests on chose.
      const approving = votes.filter((v) => v.verdict === 'approve' && counted.includes(v.approver));
      const chosen = approving
        .map((v) => v.breadth ?? bt.default)
        .reduce((a, b) => (isWiderThan(a, b) ? b : a), breadth);
      // Exact: this request once, unless the approver allows identical repeats with max uses.
      const maxUses = input.maxUses ?? (chosen === 'exact' ? 1 : undefined);
      grant = {
        id: newId('gr'),
        approvalId: approval.id,
        agent: approval.agent,
        // Wider than exact, an MCP grant names the tool, not the call's argument hash.
        scopes: chosen === 'exact' ? approval.scopes : approval.scopes.map(({ call: _call, ...s }) => s),
        issuedAt: now,
        expiresAt: new Date(now.getTime() + seconds * 1000),
        maxUses,
        uses: 0,
        revokedAt: undefined,
        revokedBy: undefined,
        breadth: chosen,
        ...(chosen === 'exact' && approval.requestHash !== undefined
          ? { requestHash: approval.requestHash }
          : {}),
        ...(chosen === 'items' ? { items: approval.items ?? [] } : {}),
        description: describeGrant({ ...approval, seconds, maxUses }, chosen),
      };
    }
    try {
      await this.store.recordDecision(
        decision,
        state === 'pending'
          ? undefined
          : { status: state, ...(grant ? { grant } : {}), countedApprovers: counted },
      );
    } catch (err) {
      if (err instanceof StoreConflict) throw new DecisionRefused(409, 'conflict', err.message);
      throw err;
    }
    if (state !== 'pending') this.waiter.notify(approval.id, state);
    const updated = (await this.store.getApproval(approval.id)) ?? approval;
    const result: DecideResult = { approval: updated, decision, grant, state };
    this.onDecided(result);
    this.events?.decided(result);
    return result;
  }
}

/** Refuses a breadth the hold does not offer, saying which policy and annotation decide it. */
function refuseBreadth(
  approval: Approval,
  breadth: GrantBreadth,
  widest: GrantBreadth,
  offered: readonly GrantBreadth[],
): void {
  if (isWiderThan(breadth, widest)) {
    const ids = approval.terms.requirements.map((r) => r.policyId).join(', ');
    throw new DecisionRefused(
      403,
      'widen-not-allowed',
      `policy ${ids} allows at most a "${widest}" grant for ${approval.id} (a wider one needs @grant_widest("${breadth}") on every holding policy); approve with --breadth ${widest}`,
    );
  }
  if (!offered.includes(breadth)) {
    throw new DecisionRefused(
      400,
      'no-items',
      `${approval.id} names no items by key (DynamoDB Key/Keys, S3 object keys): choose --breadth exact or scope`,
    );
  }
  if (breadth === 'exact' && approval.requestHash === undefined && !isExactCall(approval)) {
    throw new DecisionRefused(
      409,
      'exact-unavailable',
      `${approval.id} was opened without a request hash; only a wider grant can be issued (--breadth ${widest})`,
    );
  }
}
