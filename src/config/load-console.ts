/**
 * The `guards:`, `console:` and `oidc:` sections of airlock.yaml (docs/CONSOLE.md).
 * Same rules as load.ts: unknown keys and bad values are reported with file:line.
 */
import { isMap, isScalar, type YAMLMap } from 'yaml';
import { DEFAULT_GUARDS, type GuardConfig, type TierGuards } from '../approvals/guards.js';
import { RISK_TIERS, type RiskTier } from '../policy/annotations.js';
import type { ConsoleConfig, OidcConfig } from './config.js';
import { isHttpUrl, type Reader } from './load.js';

const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export function readGuards(r: Reader, root: YAMLMap): GuardConfig {
  const g = r.map(root, 'guards');
  if (g === undefined) return DEFAULT_GUARDS;
  r.onlyKeys(g, ['default_risk', 'tiers'], 'guards.');
  const defaultRisk = r.str(g, 'default_risk', DEFAULT_GUARDS.defaultRisk);
  if (!(RISK_TIERS as readonly string[]).includes(defaultRisk)) {
    r.problem(g, 'default_risk', `guards.default_risk must be one of ${RISK_TIERS.join(', ')}`);
  }
  const tiersNode = r.map(g, 'tiers');
  const tiers = { ...DEFAULT_GUARDS.tiers } as Record<RiskTier, TierGuards>;
  if (tiersNode !== undefined) {
    r.onlyKeys(tiersNode, RISK_TIERS, 'guards.tiers.');
    for (const tier of RISK_TIERS) {
      const t = r.map(tiersNode, tier);
      if (t === undefined) continue;
      r.onlyKeys(t, ['min_review_seconds', 'require_comment', 'typed_confirmation'], `guards.tiers.${tier}.`);
      const base = DEFAULT_GUARDS.tiers[tier];
      tiers[tier] = {
        minReviewSeconds: r.int(t, 'min_review_seconds', base.minReviewSeconds, 0, 3600),
        requireComment: r.bool(t, 'require_comment', base.requireComment),
        typedConfirmation: r.bool(t, 'typed_confirmation', base.typedConfirmation),
      };
    }
  }
  return {
    defaultRisk: (RISK_TIERS as readonly string[]).includes(defaultRisk)
      ? (defaultRisk as RiskTier)
      : DEFAULT_GUARDS.defaultRisk,
    tiers,
  };
}

export function readConsole(r: Reader, root: YAMLMap): ConsoleConfig {
  const c = r.map(root, 'console');
  if (c !== undefined) r.onlyKeys(c, ['session_ttl_seconds', 'local_accounts'], 'console.');
  return {
    sessionTtlSeconds: r.int(c, 'session_ttl_seconds', 8 * 3600, 60, 7 * 86400),
    localAccounts: r.bool(c, 'local_accounts', true),
    oidc: readOidc(r, root),
  };
}

function readOidc(r: Reader, root: YAMLMap): OidcConfig | undefined {
  const o = r.map(root, 'oidc');
  if (o === undefined) return undefined;
  r.onlyKeys(
    o,
    [
      'issuer',
      'client_id',
      'client_secret_env',
      'redirect_uri',
      'groups_claim',
      'username_claim',
      'group_map',
      'scopes',
    ],
    'oidc.',
  );
  const issuer = r.str(o, 'issuer', '');
  const redirectUri = r.str(o, 'redirect_uri', '');
  const clientId = r.str(o, 'client_id', '');
  if (!isHttpUrl(issuer))
    r.problem(o, 'issuer', 'oidc.issuer must be the https URL of your identity provider');
  // Absolute (recommended), or the bare path, resolved against the address the browser used.
  const path = redirectUri.startsWith('/')
    ? redirectUri
    : isHttpUrl(redirectUri)
      ? new URL(redirectUri).pathname
      : '';
  if (path !== '/v1/auth/oidc/callback') {
    r.problem(o, 'redirect_uri', 'oidc.redirect_uri must be <console URL>/v1/auth/oidc/callback');
  }
  if (clientId === '') r.problem(o, 'client_id', 'oidc.client_id is required');
  const secretEnv = r.str(o, 'client_secret_env', '');
  if (secretEnv !== '' && !/^[A-Z_][A-Z0-9_]*$/.test(secretEnv)) {
    r.problem(
      o,
      'client_secret_env',
      'oidc.client_secret_env names an environment variable (e.g. AIRLOCK_OIDC_SECRET)',
    );
  }
  const groupMap: Record<string, string> = {};
  const gm = r.map(o, 'group_map');
  if (gm !== undefined) {
    for (const pair of gm.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = isScalar(pair.value) ? String(pair.value.value) : '';
      if (!NAME_RE.test(v) || isMap(pair.value)) {
        r.problem(gm, k, `oidc.group_map.${k} must name an Airlock approver group (lower-case, e.g. dba)`);
        continue;
      }
      groupMap[k] = v;
    }
  }
  return {
    issuer,
    clientId,
    clientSecretEnv: secretEnv === '' ? undefined : secretEnv,
    redirectUri,
    groupsClaim: r.str(o, 'groups_claim', 'groups'),
    usernameClaim: r.str(o, 'username_claim', 'email'),
    groupMap,
    scopes: r.str(o, 'scopes', 'openid email profile'),
  };
}
