/**
 * SSO with a path-only redirect_uri: the redirect's host came from the Host header
 * at sign-in start, so the callback must arrive on that same host. Otherwise an
 * attacker starts a flow with `Host: evil.example`, lures a victim through the
 * identity provider to evil.example, and replays the victim's code to Airlock
 * with the attacker's own state cookie (authorization code injection).
 * Uses a real OpenID provider (oidc-provider) for discovery.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { OidcError, OidcLogin } from '../../src/api/oidc.js';
import type { OidcConfig } from '../../src/config/config.js';
import { SqliteStore } from '../../src/ledger/sqlite/sqlite-store.js';
import { startIdp, type TestIdp } from '../support/oidc-idp.js';

describe('OIDC: a flow finishes only on the host it started from', () => {
  let idp: TestIdp;
  let login: OidcLogin;
  const store = SqliteStore.open({ path: ':memory:', ledgerKey: randomBytes(32) });
  const real = 'http://127.0.0.1:4100';
  before(async () => {
    idp = await startIdp();
    idp.register({
      redirectUris: [`${real}/v1/auth/oidc/callback`, 'http://evil.example/v1/auth/oidc/callback'],
      groupsOf: () => ['dba'],
    });
    const cfg: OidcConfig = {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecretEnv: 'AIRLOCK_TEST_OIDC_HOST_SECRET',
      redirectUri: '/v1/auth/oidc/callback',
      groupsClaim: 'groups',
      usernameClaim: 'email',
      groupMap: {},
      scopes: 'openid email groups',
    };
    login = new OidcLogin(cfg, store.coordination, { AIRLOCK_TEST_OIDC_HOST_SECRET: idp.clientSecret });
  });
  after(async () => {
    await idp.close();
    await store.close();
  });

  it('refuses a callback on the real host for a flow started under Host: evil.example', async () => {
    const { url, state } = await login.start('http://evil.example');
    assert.equal(new URL(url).searchParams.get('redirect_uri'), 'http://evil.example/v1/auth/oidc/callback');
    const callback = new URL(`/v1/auth/oidc/callback?code=victims-code&state=${state}`, real);
    await assert.rejects(login.finish(callback, state, real), (err: Error) => {
      assert.ok(err instanceof OidcError);
      assert.match(err.message, /another host/);
      return true;
    });
  });

  it('lets a flow that started on the real host reach the token exchange', async () => {
    const { state } = await login.start(real);
    const callback = new URL(`/v1/auth/oidc/callback?code=not-a-real-code&state=${state}`, real);
    // Past the host check, the identity provider itself refuses the made-up code.
    await assert.rejects(login.finish(callback, state, real), /identity provider refused/);
  });
});
