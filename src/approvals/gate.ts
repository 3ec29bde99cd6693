/**
 * The decision point every front calls: policy → existing grant → hold.
 * Fronts hand in a typed AccessRequest and get back a GateResult; they never see
 * policy internals, and this file never sees wire bytes.
 */
import { createHash } from 'node:crypto';
import { newId } from '../core/ids.js';
import type { AccessRequest, Approval, Evaluator, Grant, PolicyDecision, Scope } from '../core/types.js';
import type { Store } from '../ledger/store.js';
import type { ApprovalEvents } from './events.js';
import type { Waiter } from './waiter.js';

export type DenyKind = 'policy' | 'missing-reason' | 'denied' | 'lapsed' | 'expired' | 'aborted';

export type GateResult =
  | {
      readonly kind: 'allow';
      readonly reasons: readonly string[];
      readonly grantId: string | undefined;
      readonly approvalId: string | undefined;
      /** True when this request waited for a person. */
      readonly held: boolean;
    }
  | {
      readonly kind: 'deny';
      readonly deny: DenyKind;
      readonly reasons: readonly string[];
      readonly message: string;
      readonly approvalId: string | undefined;
    };

export interface GateOptions {
  readonly holdWindowMs: number;
  readonly approvalTtlMs: number;
  readonly now?: () => Date;
  /** Told of new approvals and lapsed holds (Slack, ...); absent: nobody. */
  readonly events?: ApprovalEvents | undefined;
}

/** Identical requests from one agent share one pending approval (SDK retries, agent re-tries). */
export class Gate {
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly policy: () => Evaluator,
    private readonly waiter: Waiter,
    private readonly opts: GateOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * @param fingerprintMaterial bytes that identify "the same request" (e.g. the body),
   *        so a retry attaches to the pending approval instead of opening a new one.
   */
  async authorize(
    req: AccessRequest,
    fingerprintMaterial: Buffer,
    signal?: AbortSignal,
  ): Promise<GateResult> {
    const now = this.now();
    const grants = await this.store.activeGrants(req.agent, now);
    const covering = grants.find((g) => covers(g, req.scopes));
    const decision = this.policy().evaluate({
      agent: req.agent,
      scopes: req.scopes,
      context: {
        reason: req.reason,
        time: now,
        sourceIp: req.sourceIp,
        front: req.front,
        service: req.service,
        operation: req.operation,
        region: req.region,
        grantId: covering?.id,
        ...(req.args === undefined ? {} : { args: req.args }),
      },
    });

    if (decision.effect === 'deny') {
      const missing = decision.reasons.includes('missing-reason');
      return {
        kind: 'deny',
        deny: missing ? 'missing-reason' : 'policy',
        reasons: decision.reasons,
        message: decision.message,
        approvalId: undefined,
      };
    }
    if (decision.effect === 'allow') {
      return {
        kind: 'allow',
        reasons: decision.reasons,
        grantId: undefined,
        approvalId: undefined,
        held: false,
      };
    }

    // Hold: an unexpired grant from an earlier approval covers it? A widened grant only
    // while the policies holding this request allow widening too (other arguments may be
    // held by a policy that does not).
    const reusable = grants.find(
      (g) => covers(g, req.scopes) && (g.breadth !== 'tool' || decision.terms.widen === 'tool'),
    );
    if (reusable !== undefined && (await this.store.useGrant(reusable.id, now))) {
      return {
        kind: 'allow',
        reasons: decision.reasons,
        grantId: reusable.id,
        approvalId: reusable.approvalId,
        held: false,
      };
    }
    if (decision.terms.requireReason && (req.reason === undefined || req.reason.trim() === '')) {
      return {
        kind: 'deny',
        deny: 'missing-reason',
        reasons: [...decision.reasons, 'missing-reason'],
        message:
          'This request needs approval and approvers need a reason: set the x-airlock-reason header (see docs/AWS.md) and retry.',
        approvalId: undefined,
      };
    }

    const approval = await this.pendingOrNew(req, decision, fingerprintMaterial, now);
    const outcome = await this.waiter.wait(approval.id, this.opts.holdWindowMs, signal);
    switch (outcome) {
      case 'approved': {
        const fresh = await this.store.getApproval(approval.id);
        const grantId = fresh?.grantId;
        const grant = grantId === undefined ? undefined : await this.store.getGrant(grantId);
        // The approval this request waited on must name exactly this request's scopes and agent:
        // a grant is never spent on anything the approvers did not see (fail closed).
        if (
          grantId !== undefined &&
          grant !== undefined &&
          grant.agent === req.agent &&
          covers(grant, req.scopes) &&
          (await this.store.useGrant(grantId, this.now()))
        ) {
          return { kind: 'allow', reasons: decision.reasons, grantId, approvalId: approval.id, held: true };
        }
        return this.denied(
          'denied',
          decision.reasons,
          approval.id,
          `Approval ${approval.id} was approved but its grant is no longer usable (revoked, expired or used up).`,
        );
      }
      case 'denied': {
        const decisions = await this.store.decisions(approval.id);
        const why = decisions
          .filter((d) => d.verdict === 'deny')
          .map((d) => `${d.approver}: ${d.comment === '' ? '(no comment)' : d.comment}`)
          .join('; ');
        return this.denied(
          'denied',
          decision.reasons,
          approval.id,
          `Approval ${approval.id} was denied by ${why}`,
        );
      }
      case 'expired':
        return this.denied(
          'expired',
          decision.reasons,
          approval.id,
          `Approval ${approval.id} expired undecided; send the request again to open a new approval.`,
        );
      case 'aborted':
        return this.denied(
          'aborted',
          decision.reasons,
          approval.id,
          `Client went away while approval ${approval.id} was pending.`,
        );
      case 'lapsed':
      case 'pending':
        this.opts.events?.lapsed(approval);
        return this.denied(
          'lapsed',
          decision.reasons,
          approval.id,
          `Request held for approval ${approval.id}; no decision within ${Math.round(this.opts.holdWindowMs / 1000)}s. ` +
            `Retry the identical call to keep waiting on the same approval (an approver runs: airlock approvals show ${approval.id}).`,
        );
    }
  }

  private denied(
    deny: DenyKind,
    reasons: readonly string[],
    approvalId: string,
    message: string,
  ): GateResult {
    return { kind: 'deny', deny, reasons, message, approvalId };
  }

  private async pendingOrNew(
    req: AccessRequest,
    decision: Extract<PolicyDecision, { effect: 'hold' }>,
    material: Buffer,
    now: Date,
  ): Promise<Approval> {
    // Agent, region and the exact scopes are part of "the same request": the front's material
    // (a body, a path) does not always name the resource alone (DynamoDB's region is in the
    // credential scope, an S3 bucket may be in the Host), and a retry must never attach to an
    // approval that shows approvers a different resource.
    const fp = createHash('sha256')
      .update(
        JSON.stringify([req.agent, req.front, req.service, req.region, req.operation, req.reason ?? '']),
      )
      .update('\n')
      .update(JSON.stringify(req.scopes.map((s) => [s.action, s.resource])))
      .update('\n')
      .update(material)
      .digest('hex');
    const approval: Approval = {
      id: newId('apr'),
      requestId: req.id,
      agent: req.agent,
      service: req.service,
      operation: req.operation,
      scopes: req.scopes,
      reason: req.reason,
      summary: req.summary,
      policyReasons: decision.reasons,
      terms: decision.terms,
      status: 'pending',
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.opts.approvalTtlMs),
      decidedAt: undefined,
      grantId: undefined,
    };
    // The store keeps the fingerprints, so a retry after a restart (or one that reaches
    // another process on the same store) waits on the approval already open.
    const opened = await this.store.openApproval(approval, fp);
    if (opened.id === approval.id) this.opts.events?.requested(opened);
    return opened;
  }
}

/**
 * A grant covers a request when every scope of the request is one the grant names exactly
 * (call binding included); a grant widened to the tool (breadth 'tool') names no call and
 * covers any call of the same action and resource.
 */
export function covers(grant: Grant, scopes: readonly Scope[]): boolean {
  const wide = grant.breadth === 'tool';
  return scopes.every((s) =>
    grant.scopes.some(
      (g) =>
        g.action === s.action &&
        g.resource === s.resource &&
        (g.call === s.call || (wide && g.call === undefined)),
    ),
  );
}
