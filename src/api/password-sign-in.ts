/**
 * Console sign-in with a local approver password (POST /v1/session): scrypt-verified
 * (passwords.ts), paused per name after repeated failures (sign-in-throttle.ts, shared
 * through the store), never for an agent's name or access key id.
 */
import { z } from '@hono/zod-openapi';
import type { ConsoleConfig } from '../config/config.js';
import type { Store } from '../ledger/store.js';
import { refuseAgentCredential } from './approver-auth.js';
import { ApiError } from './http-util.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import type { ApiContext, Declare } from './route.js';
import { ErrorBody, lenientString, time } from './schemas.js';
import { isTls, type Sessions, sessionCookie } from './sessions.js';
import type { SignInThrottle } from './sign-in-throttle.js';

export interface SignInDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  /** Failed password sign-ins per name, shared through the store (sign-in-throttle.ts). */
  readonly throttle: SignInThrottle;
  readonly config: ConsoleConfig;
  readonly publicHttps: boolean;
}

/** Agent access key ids (ALAK…, or AWS-style AKIA/ASIA) are never approver names. */
const ACCESS_KEY_RE = /^(ALAK|AKIA|ASIA)[A-Z0-9]{12,}$/i;

const Credentials = z.object({
  // Anything but a string counts as empty: refused like a wrong password.
  name: lenientString(),
  password: lenientString(),
});
export const SignedIn = z.strictObject({
  approver: z.string(),
  groups: z.array(z.string()),
  csrfToken: z
    .string()
    .openapi({ description: `send it in x-airlock-csrf on every cookie-authenticated call` }),
  expiresAt: time,
});

/** Whether the session cookie gets the Secure flag: TLS here, or a public https:// origin. */
export const secure = (c: ApiContext, publicHttps: boolean) => isTls(c.env?.incoming, publicHttps);

export function passwordSignIn(route: Declare, deps: SignInDeps): void {
  route(
    {
      method: 'post',
      path: '/v1/session',
      summary: 'Sign in with a local approver password; sets the session cookie',
      auth: 'none',
      body: Credentials,
      responses: {
        200: { description: 'signed in: the session cookie and its CSRF token', json: SignedIn },
        401: { description: 'unknown approver or wrong password', json: ErrorBody },
        403: { description: 'agent credentials, or local accounts are off', json: ErrorBody },
        415: { description: 'not application/json', json: ErrorBody },
        429: { description: 'too many failed sign-ins for this name; wait 5 minutes', json: ErrorBody },
      },
    },
    async ({ c, body, json }) => {
      refuseAgentCredential(c);
      if (!deps.config.localAccounts) {
        throw new ApiError(403, 'password-disabled', 'local accounts are off; sign in with SSO');
      }
      if (!String(c.req.header('content-type') ?? '').startsWith('application/json')) {
        // A cross-site form cannot send JSON without a CORS preflight we never answer.
        throw new ApiError(415, 'json-required', 'send the credentials as application/json');
      }
      const b = await body();
      const name = b.name?.trim() ?? '';
      const password = b.password ?? '';
      if (ACCESS_KEY_RE.test(name) || (await deps.store.agentByName(name)) !== undefined) {
        throw new ApiError(403, 'agent-credential', 'agent credentials cannot sign in to the console');
      }
      if (await deps.throttle.blocked(name)) {
        throw new ApiError(
          429,
          'too-many-attempts',
          'too many failed sign-ins for this name; wait 5 minutes',
        );
      }
      const approver = name === '' ? undefined : await deps.store.approverByName(name);
      const ok = await verifyPassword(password, approver?.passwordHash ?? DUMMY_HASH);
      if (
        !ok ||
        approver === undefined ||
        approver.passwordHash === undefined ||
        approver.revokedAt !== undefined
      ) {
        await deps.throttle.failed(name);
        throw new ApiError(401, 'bad-credentials', 'unknown approver or wrong password');
      }
      await deps.throttle.succeeded(name);
      const { id, session } = await deps.sessions.create(approver.name, 'password', approver.passwordHash);
      return json(
        200,
        {
          approver: approver.name,
          groups: approver.groups,
          csrfToken: session.csrf,
          expiresAt: session.expiresAt,
        },
        { 'set-cookie': sessionCookie(id, deps.sessions.ttl, secure(c, deps.publicHttps)) },
      );
    },
  );
}
