/**
 * A real OpenID provider (oidc-provider) in-process on 127.0.0.1:0, for SSO tests.
 * Its development sign-in form accepts any login; `groupsOf` decides the groups
 * claim, served (as real IdPs do for code flow) from userinfo.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * Registers the client once its redirect URI is known (Airlock listens on port 0,
   * so it starts after the IdP's address is fixed); requests before that get 503.
   */
  register(opts: { redirectUris: string[]; groupsOf: (login: string) => string[] }): void;
  close(): Promise<void>;
}

export async function startIdp(): Promise<TestIdp> {
  const server = http.createServer((_req, res) => {
    res.writeHead(503).end('identity provider not configured yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'airlock-console';
  const clientSecret = 'test-client-secret-not-for-production';
  const register: TestIdp['register'] = (opts) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: opts.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      pkce: { required: () => true },
      scopes: ['openid', 'email', 'groups'],
      claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
      features: { devInteractions: { enabled: true } },
      cookies: { keys: ['airlock-test-idp-cookie-key'] },
      async findAccount(_ctx, id) {
        return {
          accountId: id,
          async claims() {
            return { sub: id, email: `${id}@example.com`, groups: opts.groupsOf(id) };
          },
        };
      },
    });
    server.removeAllListeners('request');
    server.on('request', provider.callback());
  };
  return {
    issuer,
    clientId,
    clientSecret,
    register,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
