/**
 * SSO sign-in: OpenID Connect authorization code flow with PKCE (RFC 7636) via
 * openid-client. The flow is bound to the browser that started it by a short-lived
 * state cookie; the PKCE verifier and nonce never leave the server. Flows in progress are
 * kept in the store (ledger/coordination.ts), keyed by the SHA-256 of the state, so the
 * callback may reach any process sharing it; each is taken once.
 * The identity provider's group claim decides the approver groups (docs/CONSOLE.md).
 */
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../config/config.js';
import type { Coordination } from '../ledger/coordination.js';

export const OIDC_STATE_COOKIE = 'airlock_oidc';
/** How long a sign-in may take between leaving for the IdP and coming back. */
const FLOW_TTL_MS = 10 * 60 * 1000;
const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;
const MAX_PENDING = 10_000;

export class OidcError extends Error {
  override readonly name = 'OidcError';
}

interface PendingFlow {
  readonly redirectUri: string;
  readonly verifier: string;
  readonly nonce: string;
  readonly expiresAt: number;
}

export interface SsoIdentity {
  readonly name: string;
  readonly groups: readonly string[];
  readonly subject: string;
}

const stateKey = (state: string) => createHash('sha256').update(state).digest('hex');

export class OidcLogin {
  private configuration: Promise<client.Configuration> | undefined;
  constructor(
    private readonly cfg: OidcConfig,
    private readonly flows: Coordination,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * Starts a sign-in: the IdP URL to send the browser to and the state for its cookie.
   * @param origin the console origin the browser used, for a path-only redirect_uri.
   */
  async start(origin: string): Promise<{ url: string; state: string }> {
    const config = await this.discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const now = Date.now();
    const redirectUri = new URL(this.cfg.redirectUri, origin).href;
    const flow: PendingFlow = { redirectUri, verifier, nonce, expiresAt: now + FLOW_TTL_MS };
    // Unauthenticated callers can start flows: cap how many may be in flight at once.
    const kept = await this.flows.putOidcFlow(
      stateKey(state),
      JSON.stringify(flow),
      new Date(flow.expiresAt),
      new Date(now),
      MAX_PENDING,
    );
    if (!kept) throw new OidcError('too many sign-ins in progress; try again shortly');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.cfg.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * Completes a sign-in from the callback URL; `cookieState` is the state cookie the browser
   * sent back, `origin` the console origin the callback arrived on.
   */
  async finish(callbackUrl: URL, cookieState: string | undefined, origin?: string): Promise<SsoIdentity> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    if (cookieState === undefined || cookieState !== state) {
      throw new OidcError('this sign-in was not started from this browser; start again from the console');
    }
    const kept = await this.flows.takeOidcFlow(stateKey(state), new Date());
    const flow = kept === undefined ? undefined : (JSON.parse(kept) as PendingFlow);
    if (flow === undefined || flow.expiresAt <= Date.now()) {
      throw new OidcError('the sign-in took too long or was already used; start again');
    }
    // A path-only redirect_uri took its host from the Host header at start: a flow started
    // under another Host (`Host: evil.example`) must come back there, or a code an identity
    // provider sent to that host could be replayed here with the attacker's state cookie
    // (authorization code injection, RFC 9700 §4.5).
    if (
      this.cfg.redirectUri.startsWith('/') &&
      (origin === undefined || new URL(flow.redirectUri).host !== new URL(origin).host)
    ) {
      throw new OidcError('this sign-in came back to another host than the one it started from; start again');
    }
    const config = await this.discover();
    // openid-client sends the callback URL without its query as redirect_uri: it must be
    // exactly the one the flow started with.
    const current = new URL(flow.redirectUri);
    current.search = callbackUrl.search;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new OidcError(`the identity provider refused the sign-in: ${(err as Error).message}`);
    }
    const claims = tokens.claims();
    if (claims === undefined) throw new OidcError('the identity provider sent no ID token');
    let all: Record<string, unknown> = { ...claims };
    if (all[this.cfg.groupsClaim] === undefined || all[this.cfg.usernameClaim] === undefined) {
      // Some IdPs (Okta's org server, Google) put profile claims only in userinfo.
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      all = { ...info, ...all };
    }
    return {
      name: approverName(all[this.cfg.usernameClaim]),
      groups: this.groupsOf(all[this.cfg.groupsClaim]),
      subject: claims.sub,
    };
  }

  private groupsOf(claim: unknown): string[] {
    // A list (Okta, Entra) or one string of comma/space-separated names (custom attributes).
    const values = Array.isArray(claim)
      ? claim.map(String)
      : typeof claim === 'string'
        ? claim.split(/[\s,]+/).filter((v) => v !== '')
        : [];
    const mapped =
      Object.keys(this.cfg.groupMap).length > 0
        ? values.map((v) => this.cfg.groupMap[v]).filter((g): g is string => g !== undefined)
        : values.map((v) => v.toLowerCase()).filter((g) => NAME_RE.test(g));
    return [...new Set(mapped)].sort();
  }

  private discover(): Promise<client.Configuration> {
    if (this.configuration === undefined) {
      const secret = this.cfg.clientSecretEnv === undefined ? undefined : this.env[this.cfg.clientSecretEnv];
      if (this.cfg.clientSecretEnv !== undefined && !secret) {
        return Promise.reject(new OidcError(`set ${this.cfg.clientSecretEnv} to the OIDC client secret`));
      }
      const issuer = new URL(this.cfg.issuer);
      // Plain http only for an IdP on this machine (tests, local dev); never across a network.
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
      this.configuration = client
        .discovery(
          issuer,
          this.cfg.clientId,
          secret === undefined ? undefined : { client_secret: secret },
          secret === undefined ? client.None() : client.ClientSecretBasic(secret),
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch((err: unknown) => {
          this.configuration = undefined;
          throw new OidcError(
            `cannot reach the identity provider ${this.cfg.issuer}: ${(err as Error).message}`,
          );
        });
    }
    return this.configuration;
  }
}

/** `Jane.Doe@example.com` → `jane-doe`: the approver name recorded with decisions. */
export function approverName(claim: unknown): string {
  if (typeof claim !== 'string') throw new OidcError('the identity provider sent no user name claim');
  const local = claim.split('@')[0] ?? '';
  const name = local
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63);
  if (!NAME_RE.test(name)) throw new OidcError(`cannot make an approver name from "${claim}"`);
  return name;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}
