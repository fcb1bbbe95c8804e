//! Signing in to GraphiQL through an identity provider: the authorization-code flow
//! with PKCE (RFC 7636), as a public client, with the `oauth2` crate.
//!
//! `GET /auth/login` sends the researcher to the provider with a fresh PKCE challenge
//! and state; `GET /auth/callback` exchanges the code (with the verifier only this
//! server holds) for an access token, checks that the token is one this service accepts
//! (its issuer must also be a trusted issuer, see [`super::federation`]), and opens
//! the playground with it (in the page's memory only, see [`crate::web`]). Pending sign-ins are kept in memory for ten minutes, so a
//! deployment with several replicas routes `/auth/*` of one browser to one replica.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope as OAuthScope, TokenResponse, TokenUrl,
};
use poem::http::StatusCode;
use poem::web::{Data, Query, Redirect};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;

use super::error::AccessError;
use super::Authenticator;

/// How long a started sign-in may take.
const PENDING_FOR: Duration = Duration::from_secs(600);

type ProviderClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The sign-in flow with one identity provider.
#[derive(Debug)]
pub struct SignIn {
    client: ProviderClient,
    http: reqwest::Client,
    scopes: Vec<String>,
    pending: Cache<String, String>,
}

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
}

impl SignIn {
    /// Reads the provider's endpoints from its discovery document; our callback is
    /// `{public_url}/auth/callback`.
    pub async fn discover(issuer: &str, client_id: &str, scopes: &str, public_url: &str) -> Result<Self, AccessError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            AccessError::InvalidKey(format!("sign-in provider {issuer}: {what}: {e}"))
        };
        // No redirects: the token request must not be sent anywhere else.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| failed("HTTP client", &e))?;
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let discovery: Discovery = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed("discovery", &e))?
            .json()
            .await
            .map_err(|e| failed("discovery document", &e))?;
        let client = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_auth_uri(
                AuthUrl::new(discovery.authorization_endpoint).map_err(|e| failed("authorization endpoint", &e))?,
            )
            .set_token_uri(TokenUrl::new(discovery.token_endpoint).map_err(|e| failed("token endpoint", &e))?)
            .set_redirect_uri(
                RedirectUrl::new(format!("{public_url}/auth/callback")).map_err(|e| failed("redirect URL", &e))?,
            );
        let scopes = scopes.split_whitespace().map(str::to_owned).collect();
        Ok(Self {
            client,
            http,
            scopes,
            pending: Cache::builder().time_to_live(PENDING_FOR).max_capacity(10_000).build(),
        })
    }
}

/// `GET /auth/login`: off to the identity provider.
#[handler]
pub async fn login(sign_in: Data<&Option<Arc<SignIn>>>) -> Response {
    let Some(sign_in) = sign_in.as_ref() else {
        return (StatusCode::NOT_FOUND, "sign-in is not configured on this service").into_response();
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = sign_in.client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for scope in &sign_in.scopes {
        request = request.add_scope(OAuthScope::new(scope.clone()));
    }
    let (url, state) = request.url();
    sign_in.pending.insert(state.secret().clone(), verifier.secret().clone()).await;
    Redirect::see_other(url.as_str()).into_response()
}

/// `GET /auth/callback`: the provider sends the researcher back with a code.
#[handler]
pub async fn callback(
    sign_in: Data<&Option<Arc<SignIn>>>,
    auth: Data<&Arc<Authenticator>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(sign_in) = sign_in.as_ref() else {
        return (StatusCode::NOT_FOUND, "sign-in is not configured on this service").into_response();
    };
    let refused = |status: StatusCode, why: &str| (status, format!("sign-in failed: {why}")).into_response();
    if let Some(error) = params.get("error") {
        tracing::info!(error = %error, "the identity provider refused the sign-in");
        return refused(StatusCode::BAD_REQUEST, "the identity provider refused it");
    }
    let (Some(code), Some(state)) = (params.get("code"), params.get("state")) else {
        return refused(StatusCode::BAD_REQUEST, "the callback lacks a code or state");
    };
    // Single use: a state is removed as it is read.
    let Some(verifier) = sign_in.pending.remove(state).await else {
        return refused(StatusCode::BAD_REQUEST, "unknown or expired sign-in; start again at /auth/login");
    };
    let exchanged = sign_in
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&sign_in.http)
        .await;
    let token = match exchanged {
        Ok(response) => response.access_token().secret().clone(),
        Err(error) => {
            tracing::warn!(error = %error, "the code exchange failed");
            return refused(StatusCode::BAD_GATEWAY, "the identity provider did not issue a token");
        }
    };
    if let Err(error) = auth.authenticate(Some(&format!("Bearer {token}"))).await {
        return refused(StatusCode::FORBIDDEN, error.message());
    }
    crate::web::playground_page(true, Some(&token))
}
