/**
 * The inline session policy and the names of a scoped STS session: pure functions,
 * so what Airlock asks STS for is exactly what a grant says.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import type { Scope } from '../core/types.js';

/** AssumeRole limits: plaintext session policy ≤ 2048 characters; DurationSeconds 900..43200. */
export const MAX_SESSION_POLICY_CHARS = 2048;
export const MIN_SESSION_SECONDS = 900;
export const MAX_SESSION_SECONDS = 43200;

/** RoleSessionName and SourceIdentity: `[\w+=,.@-]{2,64}`. */
const STS_NAME = /^[\w+=,.@-]{2,64}$/;

export interface SessionPolicyStatement {
  readonly Effect: 'Allow';
  readonly Action: string;
  readonly Resource: string | readonly string[];
  readonly Condition?: { readonly StringEquals: Readonly<Record<string, readonly string[]>> };
}

export interface SessionPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: readonly SessionPolicyStatement[];
}

/** A KMS alias ARN: account/region head and `alias/NAME`. */
const KMS_ALIAS = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}):(alias\/.+)$/;
/** KMS actions whose resource is the alias itself; every other KMS action is authorized on a key. */
const KMS_ALIAS_ACTIONS = new Set(['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias']);

/**
 * One Allow statement per action listing exactly that action's resources. A single
 * statement with all actions × all resources would allow pairs the grant never named.
 *
 * A KMS key named by alias (Encrypt with KeyId alias/orders) is authorized by IAM on
 * the key, never on the alias ARN: an alias in Resource applies to the alias resource
 * only. So such a scope becomes "this action on any key of that account and region,
 * only when the request names it by this alias" (condition key kms:RequestAlias).
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html
 */
export function sessionPolicy(scopes: readonly Scope[]): SessionPolicy {
  const byAction = new Map<string, string[]>();
  const byAliasedKey = new Map<string, { action: string; keys: string; aliases: string[] }>();
  for (const s of scopes) {
    const alias = KMS_ALIAS.exec(s.resource);
    if (alias !== null && s.action.startsWith('kms:') && !KMS_ALIAS_ACTIONS.has(s.action)) {
      const keys = `${alias[1]}:key/*`;
      const entry = byAliasedKey.get(`${s.action} ${keys}`) ?? { action: s.action, keys, aliases: [] };
      // The request may name the alias by name or by ARN: both are listed.
      for (const a of [alias[2] as string, s.resource]) if (!entry.aliases.includes(a)) entry.aliases.push(a);
      byAliasedKey.set(`${s.action} ${keys}`, entry);
      continue;
    }
    const list = byAction.get(s.action) ?? [];
    const resource = literalResource(s.resource);
    if (!list.includes(resource)) list.push(resource);
    byAction.set(s.action, list);
  }
  const actions = [...byAction.keys()].sort();
  const plain: SessionPolicyStatement[] = actions.map((action) => {
    const resources = (byAction.get(action) ?? []).sort();
    return {
      Effect: 'Allow' as const,
      Action: action,
      Resource: resources.length === 1 ? (resources[0] as string) : resources,
    };
  });
  const aliased: SessionPolicyStatement[] = [...byAliasedKey.keys()].sort().map((k) => {
    const e = byAliasedKey.get(k) as { action: string; keys: string; aliases: string[] };
    return {
      Effect: 'Allow' as const,
      Action: e.action,
      Resource: e.keys,
      Condition: { StringEquals: { 'kms:RequestAlias': e.aliases.sort() } },
    };
  });
  return { Version: '2012-10-17', Statement: [...plain, ...aliased] };
}

/**
 * An ARN as a literal in a policy: `*` and `?` in an S3 key are IAM wildcards, so
 * they are written as the policy variables `${*}` / `${?}` (and `$` as `${$}`);
 * a key `a*` must never allow every key starting with `a`. A bare `*` (actions
 * without resource-level permissions) stays the wildcard.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
 */
export function literalResource(arn: string): string {
  if (arn === '*') return arn;
  // A Secrets Manager secret named without its ARN is scoped as NAME-?????? (services/rpc-table.ts):
  // that suffix is meant as IAM's wildcard for the ARN's 6 random characters, so it stays one.
  const secret = /^(arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:.+)-\?{6}$/.exec(arn);
  if (secret?.[1] !== undefined) return `${escapeIam(secret[1])}-??????`;
  return escapeIam(arn);
}

function escapeIam(s: string): string {
  return s.replace(/[$*?]/g, (c) => `\${${c}}`);
}

/** DurationSeconds for a session that should live `remainingMs`, within STS's and the role's limits. */
export function sessionSeconds(remainingMs: number, roleMaxSeconds: number): number {
  const wanted = Math.ceil(remainingMs / 1000);
  const max = Math.min(MAX_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, roleMaxSeconds));
  return Math.min(max, Math.max(MIN_SESSION_SECONDS, wanted));
}

/** Whether a string is usable as RoleSessionName / SourceIdentity as is. */
export function isStsName(s: string): boolean {
  return STS_NAME.test(s);
}

/** Session name for policy-allowed traffic of an agent (no grant to name it after). */
export function agentSessionName(agent: string): string {
  return `agent-${agent}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
