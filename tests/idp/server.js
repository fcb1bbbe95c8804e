// A real OpenID Connect provider for the end-to-end tests, standing in for a
// hospital's or the health sector's identity provider: it signs users in (its
// development login form accepts any name), and issues RFC 9068 JWT access tokens for
// the consortium's API carrying the organisation-number claim HelseID uses.
//
// node server.js <port> <redirect_uri> <organisation_number> <audience>
import Provider from 'oidc-provider';

const [port, redirectUri, organisation, audience] = process.argv.slice(2);
const scope = 'enrolment:read genomics:read';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'graphiql',
    token_endpoint_auth_method: 'none',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope, audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
    },
  },
  // Every signed-in user has consented already: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid');
    grant.addResourceScope(audience, scope);
    await grant.save();
    return grant;
  },
  async extraTokenClaims() {
    return { 'helseid://claims/client/claims/orgnr_parent': organisation };
  },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
});

provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
