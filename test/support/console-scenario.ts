/**
 * A whole console setup shared by the browser test and scripts/screenshots.ts:
 * a real OpenID provider, Airlock with SSO and short guards, real Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { startGuardedHarness } from './console.js';
import type { Harness } from './harness.js';
import { startIdp, type TestIdp } from './oidc-idp.js';

const SECRET_ENV = 'AIRLOCK_TEST_OIDC_SECRET';

export interface ConsoleScenario {
  readonly h: Harness;
  readonly idp: TestIdp;
  readonly browser: Browser;
  readonly page: Page;
  /** Signs in through the IdP's own login and consent pages; ends on the console queue. */
  signInWithSso(login: string): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleScenario(): Promise<ConsoleScenario> {
  const idp = await startIdp();
  process.env[SECRET_ENV] = idp.clientSecret;
  const h = await startGuardedHarness({
    minReviewSeconds: 3,
    extraYaml: `oidc:
  issuer: ${idp.issuer}
  client_id: ${idp.clientId}
  client_secret_env: ${SECRET_ENV}
  redirect_uri: /v1/auth/oidc/callback
  groups_claim: groups
  scopes: openid email groups
`,
  });
  idp.register({
    redirectUris: [`${h.airlock.apiUrl}/v1/auth/oidc/callback`],
    groupsOf: (login) => (login === 'dana' ? ['dba', 'sre'] : login === 'billing-bot' ? ['dba'] : []),
  });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  return {
    h,
    idp,
    browser,
    page,
    async signInWithSso(login) {
      await page.goto(`${h.airlock.apiUrl}/console/`);
      await page.getByRole('link', { name: 'Sign in with SSO' }).click();
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill('any password');
      await page.locator('button[type="submit"]').click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/console\/$/);
      await page.getByRole('heading', { name: 'Pending approvals' }).waitFor();
    },
    async close() {
      await browser.close();
      await h.close();
      await idp.close();
    },
  };
}
