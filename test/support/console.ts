/** Console sign-in helpers for API-level tests: a cookie jar of one session. */
import { resolve } from 'node:path';
import { type Harness, startHarness } from './harness.js';

export const guardsYaml = (minReviewSeconds = 2) => `guards:
  default_risk: medium
  tiers:
    critical: {min_review_seconds: ${minReviewSeconds}, require_comment: true, typed_confirmation: true}
`;

/**
 * A harness with the risk-tiered policy (orders: critical; customers: default tier)
 * and short critical reviews (2 s unless given).
 */
export function startGuardedHarness(
  opts: { extraYaml?: string; minReviewSeconds?: number } = {},
): Promise<Harness> {
  return startHarness({
    // The held request waits through several CLI child processes (each a tsx start, slow
    // on a loaded machine): a longer hold window than the default keeps it from lapsing.
    holdWindowSeconds: 60,
    policy: resolve('test/fixtures/policies/guarded.cedar'),
    extraYaml: `${guardsYaml(opts.minReviewSeconds)}${opts.extraYaml ?? ''}`,
  });
}

export interface ConsoleSession {
  readonly cookie: string;
  readonly setCookie: string;
  readonly csrf: string;
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; csrf?: string | null },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function signIn(h: Harness, name: string, password: string): Promise<ConsoleSession> {
  const res = await fetch(`${h.airlock.apiUrl}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const csrf = String(body.csrfToken);
  return {
    cookie,
    setCookie,
    csrf,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { cookie };
      const token = opts.csrf === undefined ? csrf : opts.csrf;
      if (token !== null) headers['x-airlock-csrf'] = token;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${h.airlock.apiUrl}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    },
  };
}
