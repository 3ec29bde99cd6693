/**
 * The `guards:`, `console:` and `oidc:` sections of airlock.yaml (docs/CONSOLE.md).
 */
import { z } from 'zod';
import { DEFAULT_GUARDS, type GuardConfig, type TierGuards } from '../approvals/guards.js';
import { RISK_TIERS, type RiskTier } from '../policy/annotations.js';
import type { ConsoleConfig, OidcConfig } from './config.js';
import { bool, int, isHttpUrl, obj, text } from './schema-fields.js';

const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

const tierSchema = (tier: RiskTier) => {
  const base = DEFAULT_GUARDS.tiers[tier];
  return obj({
    min_review_seconds: int(0, 3600)
      .default(base.minReviewSeconds)
      .describe('seconds between opening a request and deciding it'),
    require_comment: bool().default(base.requireComment).describe('a decision needs a comment'),
    typed_confirmation: bool()
      .default(base.typedConfirmation)
      .describe('the approver types the resource name to approve'),
  }).optional();
};

export const GUARDS_SCHEMA = obj({
  default_risk: z
    .enum(RISK_TIERS, { error: `guards.default_risk must be one of ${RISK_TIERS.join(', ')}` })
    .default(DEFAULT_GUARDS.defaultRisk)
    .describe('tier of a hold whose policy has no @risk'),
  tiers: obj({
    low: tierSchema('low'),
    medium: tierSchema('medium'),
    high: tierSchema('high'),
    critical: tierSchema('critical'),
  })
    .optional()
    .describe('guards per risk tier; a tier left out keeps its built-in guards'),
}).describe('decision-quality guards per risk tier (docs/CONSOLE.md)');

export const CONSOLE_SCHEMA = obj({
  session_ttl_seconds: int(60, 7 * 86400)
    .default(8 * 3600)
    .describe('console session lifetime'),
  local_accounts: bool().default(true).describe('password sign-in (airlock approvers set-password)'),
}).describe('the approver console at http://API/console/ (docs/CONSOLE.md)');

/** Absolute (recommended), or the bare path, resolved against the address the browser used. */
const callbackPath = (uri: string) =>
  uri.startsWith('/') ? uri : isHttpUrl(uri) ? new URL(uri).pathname : '';

export const OIDC_SCHEMA = obj({
  issuer: text('oidc.issuer must be the https URL of your identity provider', isHttpUrl).describe(
    'the https URL of your identity provider',
  ),
  client_id: text('oidc.client_id is required', (s) => s !== ''),
  client_secret_env: text(
    'oidc.client_secret_env names an environment variable (e.g. AIRLOCK_OIDC_SECRET)',
    /^([A-Z_][A-Z0-9_]*)?$/,
  )
    .optional()
    .describe('environment variable holding the client secret (never the secret itself)'),
  redirect_uri: text(
    'oidc.redirect_uri must be <console URL>/v1/auth/oidc/callback',
    (s) => callbackPath(s) === '/v1/auth/oidc/callback',
  ).describe('<console URL>/v1/auth/oidc/callback, or just that path'),
  groups_claim: text().prefault('groups').describe("claim that lists the user's groups"),
  username_claim: text().prefault('email').describe('claim whose value becomes the approver name'),
  group_map: z
    .record(
      z.string(),
      text(
        (p) =>
          `oidc.group_map.${String(p.at(-1))} must name an Airlock approver group (lower-case, e.g. dba)`,
        NAME_RE,
      ),
      { error: 'group_map must be a mapping' },
    )
    .optional()
    .describe('IdP group → Airlock approver group (absent: claim values as they are)'),
  scopes: text().prefault('openid email profile'),
}).describe('SSO for the console (docs/CONSOLE.md: Okta, Entra ID, Google, IAM Identity Center)');

export function buildGuards(g: z.output<typeof GUARDS_SCHEMA> | null | undefined): GuardConfig {
  if (g === undefined || g === null) return DEFAULT_GUARDS;
  const tiers = { ...DEFAULT_GUARDS.tiers } as Record<RiskTier, TierGuards>;
  for (const tier of RISK_TIERS) {
    const t = g.tiers?.[tier];
    if (t !== undefined && t !== null)
      tiers[tier] = {
        minReviewSeconds: t.min_review_seconds,
        requireComment: t.require_comment,
        typedConfirmation: t.typed_confirmation,
      };
  }
  return { defaultRisk: g.default_risk, tiers };
}

export function buildConsole(
  c: z.output<typeof CONSOLE_SCHEMA> | null | undefined,
  o: z.output<typeof OIDC_SCHEMA> | null | undefined,
): ConsoleConfig {
  return {
    sessionTtlSeconds: c?.session_ttl_seconds ?? 8 * 3600,
    localAccounts: c?.local_accounts ?? true,
    oidc: o === undefined || o === null ? undefined : buildOidc(o),
  };
}

function buildOidc(o: z.output<typeof OIDC_SCHEMA>): OidcConfig {
  return {
    issuer: o.issuer,
    clientId: o.client_id,
    clientSecretEnv: o.client_secret_env === '' ? undefined : o.client_secret_env,
    redirectUri: o.redirect_uri,
    groupsClaim: o.groups_claim,
    usernameClaim: o.username_claim,
    groupMap: o.group_map ?? {},
    scopes: o.scopes,
  };
}
