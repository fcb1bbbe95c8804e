//! Our OAuth2 authorization server for machine partners: the token endpoint
//! (client-credentials grant, RFC 6749 §4.4), introspection (RFC 7662), revocation
//! (RFC 7009), the JWKS and the server metadata (RFC 8414).
//!
//! Access tokens are JWTs per RFC 9068, signed with our current Ed25519 key and
//! recorded by `jti` so that introspection and revocation work on every replica.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use consortium_entity::access::{api_token, issued_token, oauth_client};
use jsonwebtoken::{encode, Algorithm, Header};
use poem::http::{header, HeaderMap, StatusCode};
use poem::web::{Data, Json};
use poem::{handler, Body, IntoResponse, Response};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};

use super::clients::{by_assertion, by_secret, ClientAuthError, JWT_BEARER_ASSERTION};
use super::grants::granted;
use super::jwt::{AccessClaims, Unverified};
use super::scope::ScopeSet;
use super::secret::{random, sha256_hex};
use super::{Authenticator, ACCESS_TOKEN_TYPE};

/// Largest form body accepted by the endpoints, in bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// An error response of RFC 6749 §5.2.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    fn request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn server(cause: &dyn std::fmt::Debug) -> Self {
        tracing::error!(cause = ?cause, "authorization server failure");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
    }
}

impl From<ClientAuthError> for OAuthError {
    fn from(error: ClientAuthError) -> Self {
        match error {
            ClientAuthError::Refused(reason) => Self::new(StatusCode::UNAUTHORIZED, "invalid_client", reason),
            ClientAuthError::Db(db) => Self::server(&db),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "error_description": self.description }));
        let mut response = no_store(body.with_status(self.status).into_response());
        if self.error == "invalid_client" {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"consortium-analytics\""),
            );
        }
        response
    }
}

/// Tokens and token metadata must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    response
}

/// The form parameters of a request body; a repeated parameter is an error (§3.2).
async fn form(body: Body) -> Result<HashMap<String, String>, OAuthError> {
    let bytes = body
        .into_bytes_limit(MAX_FORM_BYTES)
        .await
        .map_err(|_| OAuthError::request("the body is too large or unreadable"))?;
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(&bytes) {
        if params.insert(name.to_string(), value.to_string()).is_some() {
            return Err(OAuthError::request(format!("parameter '{name}' is repeated")));
        }
    }
    Ok(params)
}

/// Authenticates the calling client by `client_secret_basic` or `private_key_jwt`.
async fn client(
    auth: &Authenticator,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<oauth_client::Model, OAuthError> {
    let refused = |reason| OAuthError::from(ClientAuthError::Refused(reason));
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| refused("malformed Basic credentials"))?;
        let encoded = value.strip_prefix("Basic ").ok_or_else(|| refused("unsupported client authentication"))?;
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| refused("malformed Basic credentials"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| refused("malformed Basic credentials"))?;
        let (id, secret) = decoded.split_once(':').ok_or_else(|| refused("malformed Basic credentials"))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
        return Ok(by_secret(auth.db(), &form_decode(id), &form_decode(secret)).await?);
    }
    match (params.get("client_assertion_type"), params.get("client_assertion")) {
        (Some(kind), Some(assertion)) if kind == JWT_BEARER_ASSERTION => {
            let audiences = [token_endpoint(auth), auth.issuer.clone()];
            let client = by_assertion(auth.db(), assertion, &audiences).await?;
            match params.get("client_id") {
                Some(id) if *id != client.client_id => Err(refused("client_id does not match the assertion")),
                _ => Ok(client),
            }
        }
        (Some(_), _) => Err(refused("unsupported client assertion type")),
        _ => Err(refused("client authentication required")),
    }
}

fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn token_endpoint(auth: &Authenticator) -> String {
    format!("{}/oauth/token", auth.issuer)
}

/// `POST /oauth/token`: the client-credentials grant.
#[handler]
pub async fn issue_token(auth: Data<&Arc<Authenticator>>, headers: &HeaderMap, body: Body) -> Response {
    match grant(&auth, headers, body).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(error) => error.into_response(),
    }
}

async fn grant(auth: &Authenticator, headers: &HeaderMap, body: Body) -> Result<Value, OAuthError> {
    let params = form(body).await?;
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            ))
        }
        None => return Err(OAuthError::request("grant_type is required")),
    }
    let client = client(auth, headers, &params).await?;
    let partner = consortium_entity::partner::Entity::find_by_id(client.partner_id)
        .one(auth.db())
        .await
        .map_err(|e| OAuthError::server(&e))?
        .ok_or_else(|| OAuthError::server(&"client without partner"))?;
    let allowed = client.scopes.parse::<ScopeSet>().unwrap_or_default().intersection(granted(&partner));
    let scopes = match params.get("scope") {
        Some(asked) => {
            let asked = asked.parse::<ScopeSet>().map_err(|e| {
                OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", format!("unknown scope '{}'", e.0))
            })?;
            if !allowed.covers(asked) {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "the client may not ask for these scopes",
                ));
            }
            asked
        }
        None => allowed,
    };
    if scopes.is_empty() {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", "no scope to grant"));
    }
    // Keys may have been rotated by another process; issuing is rare, so read them.
    auth.keys.reload(auth.db()).await.map_err(|e| OAuthError::server(&e))?;
    let (kid, key) = auth.keys.signing().ok_or_else(|| OAuthError::server(&"no signing key"))?;
    let now = Authenticator::now();
    let jti = random(16).map_err(|e| OAuthError::server(&e))?;
    let claims = AccessClaims {
        iss: auth.issuer.clone(),
        sub: client.client_id.clone(),
        aud: auth.audience.clone(),
        exp: now + auth.token_lifetime_secs,
        iat: now,
        nbf: now,
        jti: jti.clone(),
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(kid);
    let token = encode(&header, &claims, &key).map_err(|e| OAuthError::server(&e))?;
    issued_token::ActiveModel {
        jti: Set(jti),
        client_id: Set(client.client_id.clone()),
        partner_id: Set(client.partner_id),
        scopes: Set(claims.scope.clone()),
        issued_at: Set(now),
        expires_at: Set(claims.exp),
        revoked_at: Set(None),
    }
    .insert(auth.db())
    .await
    .map_err(|e| OAuthError::server(&e))?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": auth.token_lifetime_secs,
        "scope": claims.scope,
    }))
}

/// `POST /oauth/introspect`: whether a token is active, for an authenticated client.
/// A client learns about tokens of its own partner only; any other token is
/// reported inactive, exactly like an unknown one.
#[handler]
pub async fn introspect(auth: Data<&Arc<Authenticator>>, headers: &HeaderMap, body: Body) -> Response {
    let answer = async {
        let params = form(body).await?;
        let caller = client(&auth, headers, &params).await?;
        let token = params.get("token").ok_or_else(|| OAuthError::request("token is required"))?;
        let inactive = json!({ "active": false });
        let now = Authenticator::now();
        if token.starts_with(super::api_token::PREFIX) {
            let row = api_token::Entity::find()
                .filter(api_token::Column::SecretHash.eq(sha256_hex(token.as_bytes())))
                .one(auth.db())
                .await
                .map_err(|e| OAuthError::server(&e))?;
            return Ok::<Value, OAuthError>(match row {
                Some(t) if t.partner_id == caller.partner_id && t.revoked_at.is_none() && t.expires_at > now => json!({
                    "active": true, "scope": t.scopes, "token_type": "Bearer", "exp": t.expires_at,
                    "iat": t.created_at, "iss": auth.issuer, "sub": t.prefix,
                }),
                _ => inactive,
            });
        }
        let Ok(peeked) = Unverified::peek(token) else { return Ok(inactive) };
        Ok(match auth.verify_ours(token, &peeked).await {
            Ok((claims, issued, _)) if issued.partner_id == caller.partner_id => json!({
                "active": true, "scope": claims.scope, "client_id": claims.client_id, "token_type": "Bearer",
                "exp": claims.exp, "iat": claims.iat, "nbf": claims.nbf, "sub": claims.sub, "aud": claims.aud,
                "iss": claims.iss, "jti": claims.jti,
            }),
            _ => inactive,
        })
    };
    match answer.await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(error) => error.into_response(),
    }
}

/// `POST /oauth/revoke`: revokes one of the calling client's access tokens, or an API
/// token of its partner. Unknown tokens are not an error (RFC 7009 §2.2).
#[handler]
pub async fn revoke(auth: Data<&Arc<Authenticator>>, headers: &HeaderMap, body: Body) -> Response {
    let answer = async {
        let params = form(body).await?;
        let caller = client(&auth, headers, &params).await?;
        let token = params.get("token").ok_or_else(|| OAuthError::request("token is required"))?;
        let now = Authenticator::now();
        let revoked = if token.starts_with(super::api_token::PREFIX) {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
                .filter(api_token::Column::SecretHash.eq(sha256_hex(token.as_bytes())))
                .filter(api_token::Column::PartnerId.eq(caller.partner_id))
                .filter(api_token::Column::RevokedAt.is_null())
                .exec(auth.db())
                .await
                .map_err(|e| OAuthError::server(&e))?
                .rows_affected
        } else if let Some(jti) = Unverified::peek(token).ok().and_then(|p| p.claim_str("jti").map(str::to_owned)) {
            // The jti alone identifies the row; only the client it was issued to may
            // revoke it, so a forged token naming someone's jti revokes nothing.
            issued_token::Entity::update_many()
                .col_expr(issued_token::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
                .filter(issued_token::Column::Jti.eq(jti))
                .filter(issued_token::Column::ClientId.eq(caller.client_id.as_str()))
                .filter(issued_token::Column::RevokedAt.is_null())
                .exec(auth.db())
                .await
                .map_err(|e| OAuthError::server(&e))?
                .rows_affected
        } else {
            0
        };
        if revoked > 0 {
            auth.access_changed().await.map_err(|e| OAuthError::server(&e))?;
        }
        Ok::<_, OAuthError>(())
    };
    match answer.await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => error.into_response(),
    }
}

/// `GET /.well-known/jwks.json`: our published public keys.
#[handler]
pub async fn jwks(auth: Data<&Arc<Authenticator>>) -> Json<Value> {
    if let Err(error) = auth.keys.reload(auth.db()).await {
        tracing::warn!(cause = %error, "cannot reload the signing keys; publishing the known ones");
    }
    Json(auth.keys.jwks())
}

/// `GET /.well-known/oauth-authorization-server`: server metadata (RFC 8414).
#[handler]
pub async fn metadata(auth: Data<&Arc<Authenticator>>) -> Json<Value> {
    let issuer = &auth.issuer;
    let methods = ["client_secret_basic", "private_key_jwt"];
    let algorithms = ["RS256", "PS256", "ES256", "EdDSA"];
    Json(json!({
        "issuer": issuer,
        "token_endpoint": token_endpoint(&auth),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": super::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    }))
}
