/**
 * Policy evaluation: pure and synchronous. One Cedar authorization per
 * (action, resource) scope of a request, combined into allow / deny / hold with
 * the ids of the policies that decided it (the "named reasons" every record keeps).
 *
 * Cedar answers allow/deny; Airlock's third outcome comes from annotations
 * (annotations.ts): a request is held when any permit that matched it carries
 * @hold. The precedence, strictest first:
 *   1. any scope denied (a forbid matched, or no permit did: default deny) → deny
 *   2. any matching permit of any scope holds                              → hold
 *   3. otherwise                                                           → allow
 * A broad permit therefore never bypasses a narrower hold.
 * Cedar skips a policy whose evaluation errors; for a forbid or a hold that
 * would mean failing open, so such an error denies the request instead.
 * https://docs.cedarpolicy.com/auth/authorization.html
 */
import { isIP } from 'node:net';
import { basename } from 'node:path';
import {
  type DetailedError,
  type EntityJson,
  preparsePolicySet,
  statefulIsAuthorized,
  validate,
} from '@cedar-policy/cedar-wasm/nodejs';
import {
  type ApprovalRequirement,
  GRANT_BREADTHS,
  type GrantBreadth,
  type HoldTerms,
  type PolicyDecision,
  type PolicyInput,
  type Scope,
} from '../core/types.js';
import { RISK_TIERS } from './annotations.js';
import {
  describeError,
  type LoadedPolicy,
  PolicyLoadError,
  readPolicyFiles,
  type SourceMap,
} from './policy-files.js';
import { NAMESPACE, schemaText } from './schema.js';

export { PolicyLoadError };

export interface PolicyOptions {
  /** Grant lifetime when a hold policy sets no @max_grant. */
  readonly defaultMaxGrantSeconds: number;
  /** Every action Airlock produces; policies naming others (of these services) do not load. */
  readonly knownActions: readonly string[];
  /** Groups of an action (`dynamodb:write`), usable as `action in Airlock::Action::"dynamodb:write"`. */
  readonly actionGroups: (action: string) => readonly string[];
}

/** Each engine preparses its own policy set inside the WASM module under a unique id. */
let nextSetId = 0;

export class PolicyEngine {
  private readonly byId: Map<string, LoadedPolicy>;
  private readonly setId: string;
  private readonly actionEntities = new Map<string, EntityJson[]>();
  private readonly known: ReadonlySet<string>;

  private constructor(
    policies: readonly LoadedPolicy[],
    /** Validator warnings (e.g. a policy that can never match), for `airlock policy check`. */
    readonly warnings: readonly string[],
    private readonly opts: PolicyOptions,
  ) {
    this.byId = new Map(policies.map((p) => [p.id, p]));
    this.known = new Set(opts.knownActions);
    this.setId = `airlock-${process.pid}-${nextSetId++}`;
    const staticPolicies: Record<string, string> = {};
    for (const p of policies) staticPolicies[p.id] = p.text;
    const r = preparsePolicySet(this.setId, { staticPolicies });
    if (r.type === 'failure') throw new PolicyLoadError(r.errors.map((e) => e.message).join('\n'));
  }

  static async load(files: readonly string[], opts: PolicyOptions): Promise<PolicyEngine> {
    const { policies, maps } = readPolicyFiles(files);
    const warnings = validatePolicies(policies, maps, opts);
    return new PolicyEngine(policies, warnings, opts);
  }

  get policyIds(): string[] {
    return [...this.byId.keys()];
  }

  /** One policy's source and annotations, for approvers to see why a request was held. */
  describe(id: string): { id: string; effect: string; text: string; file: string } | undefined {
    const p = this.byId.get(id);
    return p === undefined ? undefined : { id: p.id, effect: p.effect, text: p.text, file: basename(p.file) };
  }

  evaluate(input: PolicyInput): PolicyDecision {
    const context = contextOf(input);
    const args = input.context.args ?? {};
    const allowIds = new Set<string>();
    const holds: LoadedPolicy[] = [];
    let requireReason = false;
    for (const scope of input.scopes) {
      const r = this.authorizeScope(input.agent, scope, context, args);
      if (r.effect === 'deny') return r.decision;
      for (const p of r.matched) {
        allowIds.add(p.id);
        if (p.terms.hold !== undefined) holds.push(p);
        if (p.terms.requireReason) requireReason = true;
      }
    }
    const reasons = [...allowIds];
    if (input.scopes.length === 0) {
      return {
        effect: 'deny',
        reasons: ['default-deny'],
        message: 'the request names no resource Airlock can check',
      };
    }
    if (holds.length > 0) {
      return {
        effect: 'hold',
        reasons,
        terms: {
          requirements: requirementsOf(holds),
          maxGrantSeconds: Math.min(
            ...holds.map((p) => p.terms.maxGrantSeconds ?? this.opts.defaultMaxGrantSeconds),
          ),
          requireReason,
          ...guardsOf(
            holds,
            input.scopes.some((s) => s.call !== undefined),
          ),
        },
      };
    }
    if (requireReason && !hasReason(input.context.reason)) {
      return {
        effect: 'deny',
        reasons: [...reasons, 'missing-reason'],
        message: `policy ${reasons.join(', ')} requires a reason: set the x-airlock-reason header (see docs/AWS.md) and retry.`,
      };
    }
    return { effect: 'allow', reasons };
  }

  private authorizeScope(
    agent: string,
    scope: Scope,
    context: Record<string, unknown>,
    args: Readonly<Record<string, string>>,
  ):
    | { effect: 'allow'; matched: LoadedPolicy[] }
    | { effect: 'deny'; decision: Extract<PolicyDecision, { effect: 'deny' }> } {
    const answer = statefulIsAuthorized({
      principal: { type: `${NAMESPACE}::Agent`, id: agent },
      action: { type: `${NAMESPACE}::Action`, id: scope.action },
      resource: { type: `${NAMESPACE}::Resource`, id: scope.resource },
      context: context as never,
      preparsedPolicySetId: this.setId,
      entities: [...this.entitiesFor(agent, scope), argsEntity(args)],
    });
    const where = `${scope.action} on ${scope.resource}`;
    if (answer.type === 'failure') {
      const detail = answer.errors.map((e) => e.message).join('; ');
      return deny(['policy-error'], `${where} could not be evaluated (${detail}); denied`);
    }
    const { decision, diagnostics } = answer.response;
    const failedOpen = diagnostics.errors
      .map((e) => this.byId.get(e.policyId))
      .filter(
        (p): p is LoadedPolicy => p !== undefined && (p.effect === 'forbid' || p.terms.hold !== undefined),
      );
    if (failedOpen.length > 0) {
      const ids = failedOpen.map((p) => p.id);
      return deny(
        ids.map((id) => `policy-error:${id}`),
        `${where} is denied: policy ${ids.join(', ')} failed to evaluate (${diagnostics.errors[0]?.error.message ?? 'error'})`,
      );
    }
    if (decision === 'deny') {
      const ids = diagnostics.reason;
      if (ids.length === 0) return deny(['default-deny'], `no policy permits ${where} (default deny)`);
      return deny(ids, `${where} is denied by policy ${ids.join(', ')}`);
    }
    const matched = diagnostics.reason
      .map((id) => this.byId.get(id))
      .filter((p): p is LoadedPolicy => p !== undefined);
    // An action outside Airlock's tables (another service, or an operation it cannot
    // name) passes only by a permit that names it exactly, never by a broad permit.
    if (!this.known.has(scope.action) && !matched.some((p) => p.scopeActions.includes(scope.action))) {
      return deny(
        ['unlisted-action'],
        `${where} is denied: Airlock has no operation table for it, so only a permit naming ${scope.action} exactly allows it`,
      );
    }
    return { effect: 'allow', matched };
  }

  private entitiesFor(agent: string, scope: Scope): EntityJson[] {
    let actions = this.actionEntities.get(scope.action);
    if (actions === undefined) {
      const groups = this.opts.actionGroups(scope.action);
      actions = [
        {
          uid: { type: `${NAMESPACE}::Action`, id: scope.action },
          attrs: {},
          parents: groups.map((g) => ({ type: `${NAMESPACE}::Action`, id: g })),
        },
        ...groups.map((g) => ({ uid: { type: `${NAMESPACE}::Action`, id: g }, attrs: {}, parents: [] })),
      ];
      this.actionEntities.set(scope.action, actions);
    }
    return [
      { uid: { type: `${NAMESPACE}::Agent`, id: agent }, attrs: { name: agent }, parents: [] },
      {
        uid: { type: `${NAMESPACE}::Resource`, id: scope.resource },
        attrs: { arn: scope.resource, service: scope.action.split(':')[0] ?? '' },
        parents: [],
      },
      ...actions,
    ];
  }
}

function deny(
  reasons: string[],
  message: string,
): { effect: 'deny'; decision: Extract<PolicyDecision, { effect: 'deny' }> } {
  return { effect: 'deny', decision: { effect: 'deny', reasons, message } };
}

function hasReason(reason: string | undefined): boolean {
  return reason !== undefined && reason.trim() !== '';
}

/**
 * The strictest review guards of every hold policy that matched (highest tier, longest review),
 * and the narrowest grant breadth. A wider grant is allowed only when every holding policy
 * allows it; a policy without @grant_widest allows `scope`, except on one exact MCP call
 * (`exactCall`), where it allows only `exact` (docs/MCP.md, "What an approval covers").
 */
function guardsOf(holds: readonly LoadedPolicy[], exactCall: boolean): Pick<HoldTerms, 'guards' | 'breadth'> {
  const breadth: { default?: GrantBreadth; widest?: GrantBreadth } = {};
  const out: {
    -readonly [K in keyof NonNullable<HoldTerms['guards']>]: NonNullable<HoldTerms['guards']>[K];
  } = {};
  for (const p of holds) {
    const g = p.terms.guards;
    const widest = g?.breadthWidest ?? (exactCall ? 'exact' : undefined);
    if (widest !== undefined) breadth.widest = narrower(breadth.widest, widest);
    if (g === undefined) continue;
    if (
      g.risk !== undefined &&
      (out.risk === undefined || RISK_TIERS.indexOf(g.risk) > RISK_TIERS.indexOf(out.risk))
    )
      out.risk = g.risk;
    if (g.minReviewSeconds !== undefined)
      out.minReviewSeconds = Math.max(out.minReviewSeconds ?? 0, g.minReviewSeconds);
    if (g.readingTime === true) out.readingTime = true;
    if (g.confirmResource !== undefined)
      out.confirmResource = (out.confirmResource ?? false) || g.confirmResource;
    if (g.requireComment !== undefined)
      out.requireComment = (out.requireComment ?? false) || g.requireComment;
    if (g.breadthDefault !== undefined) breadth.default = narrower(breadth.default, g.breadthDefault);
  }
  return {
    ...(Object.keys(out).length === 0 ? {} : { guards: out }),
    ...(Object.keys(breadth).length === 0 ? {} : { breadth }),
  };
}

function narrower(a: GrantBreadth | undefined, b: GrantBreadth): GrantBreadth {
  return a === undefined || GRANT_BREADTHS.indexOf(b) < GRANT_BREADTHS.indexOf(a) ? b : a;
}

/** One requirement per group; when several policies name a group, the largest quorum wins. */
function requirementsOf(holds: readonly LoadedPolicy[]): ApprovalRequirement[] {
  const byGroup = new Map<string, ApprovalRequirement>();
  for (const p of holds) {
    const h = p.terms.hold;
    if (h === undefined) continue;
    const prev = byGroup.get(h.group);
    if (prev === undefined || prev.quorum < h.quorum)
      byGroup.set(h.group, { group: h.group, quorum: h.quorum, policyId: p.id });
  }
  return [...byGroup.values()];
}

/** The request's context as Cedar sees it; every attribute is always present (schema.ts). */
function contextOf(input: PolicyInput): Record<string, unknown> {
  const c = input.context;
  const t = c.time;
  return {
    reason: c.reason ?? '',
    has_reason: hasReason(c.reason),
    time: Math.floor(t.getTime() / 1000),
    hour_utc: t.getUTCHours(),
    weekday_utc: t.getUTCDay(),
    source_ip: { __extn: { fn: 'ip', arg: normalizeIp(c.sourceIp) } },
    service: c.service,
    operation: c.operation,
    region: c.region,
    front: c.front,
    has_grant: c.grantId !== undefined,
    grant_id: c.grantId ?? '',
    args: { __entity: { type: `${NAMESPACE}::Args`, id: ARGS_ID } },
  };
}

/** The one Args entity of a request (every request has one; empty outside the MCP front). */
const ARGS_ID = 'request';

function argsEntity(args: Readonly<Record<string, string>>): EntityJson {
  return { uid: { type: `${NAMESPACE}::Args`, id: ARGS_ID }, attrs: {}, parents: [], tags: { ...args } };
}

/** IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d; policies name them as IPv4. */
function normalizeIp(raw: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw)?.[1];
  if (v4 !== undefined) return v4;
  return isIP(raw) === 0 ? '0.0.0.0' : raw;
}

/** Strict validation against the generated schema; errors refuse the load, warnings are returned. */
function validatePolicies(
  policies: readonly LoadedPolicy[],
  maps: ReadonlyMap<string, SourceMap>,
  opts: PolicyOptions,
): string[] {
  const services = new Set(opts.knownActions.map((a) => a.split(':')[0]));
  const actions = new Set(opts.knownActions);
  // Actions of services Airlock has no table for may still be named (they are only
  // ever matched by exactly that name); typos inside a known service are errors.
  for (const p of policies)
    for (const a of p.scopeActions) if (!services.has(a.split(':')[0])) actions.add(a);
  const schema = schemaText({ actions: [...actions], groupsOf: opts.actionGroups });
  const staticPolicies: Record<string, string> = {};
  for (const p of policies) staticPolicies[p.id] = p.text;
  const r = validate({ schema, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (r.type === 'failure')
    throw new PolicyLoadError(`internal schema error: ${r.errors.map((e) => e.message).join('; ')}`);
  const render = (policyId: string, e: DetailedError): string => {
    const p = policies.find((x) => x.id === policyId);
    const map = p === undefined ? undefined : maps.get(p.file);
    return p === undefined || map === undefined
      ? `${policyId}: ${e.message}`
      : describeError(map, p.offset, e);
  };
  const errors = r.validationErrors.map((v) => render(v.policyId, v.error));
  if (errors.length > 0) throw new PolicyLoadError(errors.join('\n'));
  return r.validationWarnings.map((v) => render(v.policyId, v.error));
}
