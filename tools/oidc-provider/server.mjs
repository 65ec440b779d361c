// A real OpenID provider (panva's oidc-provider) for the web app's sign-in tests. Never deployed.
//
//   node server.mjs --port 4010 --client-id weft-web \
//     --redirect-uri http://127.0.0.1:8090/sign-in/callback --post-logout-uri http://127.0.0.1:8090/ \
//     [--access-token-ttl 600] [--accounts '[{"sub":"ana","name":"Ana","email":"ana@example.org"}]']
//
// One public client (no secret: PKCE S256 is required), the provider's own development login
// and consent pages (any password), and access tokens that are JWTs for the audience `weft`
// (the API's WEFT_AUTH_AUDIENCE) through a default resource indicator. Prints
// "oidc-provider listening on <issuer>" when ready. Binds 127.0.0.1 only.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'redirect-uri': { type: 'string' },
    'post-logout-uri': { type: 'string' },
    'access-token-ttl': { type: 'string', default: '600' },
    accounts: { type: 'string' },
    audience: { type: 'string', default: 'weft' },
  },
});
for (const required of ['port', 'client-id', 'redirect-uri', 'post-logout-uri']) {
  if (!args[required]) {
    console.error(`missing --${required}`);
    process.exit(2);
  }
}

const issuer = `http://127.0.0.1:${args.port}`;
const accessTokenTTL = Number(args['access-token-ttl']);
// The API is one resource server; its indicator is a URI, its tokens' audience the API's.
const API_RESOURCE = 'urn:weft:api';

// The login typed on the provider's page is the account's sub (any password).
const DEFAULT_ACCOUNTS = [
  { sub: 'oidc-ana', name: 'Ana Oidc', email: 'ana.oidc@example.org' },
  { sub: 'oidc-ben', name: 'Ben Oidc', email: 'ben.oidc@example.org' },
];
const bySub = new Map((args.accounts ? JSON.parse(args.accounts) : DEFAULT_ACCOUNTS).map((a) => [a.sub, a]));

// Fresh signing keys each run: nothing secret is committed, and tests never see a stale key.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

function claimsOf(account) {
  return { sub: account.sub, name: account.name, email: account.email, email_verified: true };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [args['redirect-uri']],
      post_logout_redirect_uris: [args['post-logout-uri']],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  // Name and email in the ID token itself (as most providers do), not only at userinfo: the
  // access token is for the API, so the web app cannot call userinfo with it.
  conformIdTokenClaims: false,
  // Only the accounts given here exist.
  async findAccount(_ctx, id) {
    const account = bySub.get(id);
    if (!account) return undefined;
    return { accountId: account.sub, claims: async () => claimsOf(account) };
  },
  // A web session's refresh tokens: issued to a client allowed the grant, rotated on every
  // use (a public client), and ended with the provider session (offline_access is dropped by
  // the spec unless prompt=consent).
  async issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  pkce: { required: () => true },
  ttl: { AccessToken: accessTokenTTL, IdToken: 3600, RefreshToken: 24 * 3600, Session: 24 * 3600, Grant: 24 * 3600 },
  // Name and email also in the access token, as the API reads them (Keycloak does the same).
  async extraTokenClaims(_ctx, token) {
    const account = bySub.get(token.accountId);
    return account ? { name: account.name, email: account.email } : undefined;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => API_RESOURCE,
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, indicator) {
        if (indicator !== API_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'openid profile email',
          audience: args.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

// The provider's stock pages import a web font from the internet; these machines are offline and
// tests must reach loopback only, so its pages may load nothing from anywhere else.
provider.use(async (ctx, next) => {
  await next();
  ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'");
});

// A test that fails on the provider's side says why in its output.
provider.on('server_error', (_ctx, error) => console.error('server_error', error));
provider.on('grant.error', (_ctx, error) => console.error('grant.error', error));

const server = provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
