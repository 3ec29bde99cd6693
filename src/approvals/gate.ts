/**
 * The decision point every front calls: policy → existing grant → hold.
 * Fronts hand in a typed AccessRequest and get back a GateResult; they never see
 * policy internals, and this file never sees wire bytes.
 */
import { createHash } from 'node:crypto';
import { newId } from '../core/ids.js';
import type {
  AccessRequest,
  Approval,
  Evaluator,
  Grant,
  ItemRef,
  PolicyDecision,
  Scope,
} from '../core/types.js';
import type { Store } from '../ledger/store.js';
import { isWiderThan, widestBreadth } from './breadth.js';
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
    const hash = requestHash(req, fingerprintMaterial);
    const grants = await this.store.activeGrants(req.agent, now);
    const seen: Covered = { hash, items: req.items };
    const covering = grants.find((g) => covers(g, req.scopes, seen));
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

    // Before any grant: a request under a grant carries its own reason too.
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
    // Hold: an unexpired grant from an earlier approval covers it? One wider than exact only
    // while the policies holding this request allow that breadth too (other arguments or keys
    // may be held by a policy that does not).
    const widest = widestBreadth(decision.terms, req);
    const reusable = grants.find(
      (g) => covers(g, req.scopes, seen) && !isWiderThan(g.breadth ?? 'scope', widest),
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

    const approval = await this.pendingOrNew(req, decision, fingerprintMaterial, hash, now);
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
          covers(grant, req.scopes, seen) &&
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
    hash: string,
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
      requestHash: hash,
      ...(req.items === undefined || req.items.length === 0 ? {} : { items: req.items }),
    };
    // The store keeps the fingerprints, so a retry after a restart (or one that reaches
    // another process on the same store) waits on the approval already open.
    const opened = await this.store.openApproval(approval, fp);
    if (opened.id === approval.id) this.opts.events?.requested(opened);
    return opened;
  }
}

/**
/**
 * What an `exact` grant binds: agent, front, service, region, operation, every scope (with its
 * call binding) and the front's material (AWS: the request's fingerprint; Postgres: database and
 * statement; MCP: the call). Not the reason: a retry with a reworded reason is the same request.
 */
export function requestHash(req: AccessRequest, material: Buffer): string {
  return createHash('sha256')
    .update(JSON.stringify([req.agent, req.front, req.service, req.region, req.operation]))
    .update('\n')
    .update(JSON.stringify(req.scopes.map((s) => [s.action, s.resource, s.call ?? null])))
    .update('\n')
    .update(material)
    .digest('hex');
}

/** What of a request a grant's breadth reads besides its scopes. */
export interface Covered {
  /** gate.ts requestHash: an `exact` grant covers only this. */
  readonly hash?: string | undefined;
  /** AccessRequest.items: an `items` grant covers a request only when it names these keys alone. */
  readonly items?: readonly ItemRef[] | undefined;
}

/**
 * A grant covers a request when every scope of the request is one the grant names (approvals/
 * breadth.ts): `exact` — the same scopes, call binding included, and the approved request hash;
 * `items` — the same action and resource, and only keys the grant names; `scope` (or an MCP
 * grant wider than exact, whose scopes name no call) — the same action and resource.
 */
export function covers(grant: Grant, scopes: readonly Scope[], req: Covered = {}): boolean {
  if (grant.requestHash !== undefined && grant.requestHash !== req.hash) return false;
  if (grant.breadth === 'items') {
    const mine = grant.items ?? [];
    const asked = req.items ?? [];
    if (asked.length === 0) return false;
    if (!asked.every((i) => mine.some((m) => m.resource === i.resource && m.key === i.key))) return false;
  }
  const wide = grant.breadth === 'items' || grant.breadth === 'scope';
  return scopes.every((s) =>
    grant.scopes.some(
      (g) =>
        g.action === s.action &&
        g.resource === s.resource &&
        (g.call === s.call || (wide && g.call === undefined)),
    ),
  );
}
