//! OAuth2 clients of our authorization server: registration (by the CLI) and client
//! authentication at the token, introspection and revocation endpoints, by
//! `client_secret_basic` or by `private_key_jwt` (RFC 7523 §2.2, as HelseID requires:
//! assertions live at most 60 s and each `jti` is accepted once).

use chrono::Utc;
use consortium_entity::access::{oauth_client, used_assertion};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr};
use serde_json::Value;

use super::error::AccessError;
use super::grants::find_partner;
use super::grants::granted;
use super::jwt::{Unverified, LEEWAY_SECS};
use super::scope::ScopeSet;
use super::secret::{random, sha256_hex};

/// The `client_assertion_type` of RFC 7523.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest accepted assertion lifetime, in seconds.
pub const MAX_ASSERTION_LIFETIME_SECS: i64 = 60;

/// Algorithms a client may sign assertions with.
const ASSERTION_ALGORITHMS: [Algorithm; 4] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];

/// A registered client and, when a secret was generated, the secret (shown once).
#[derive(Debug)]
pub struct Registered {
    /// The stored client.
    pub client: oauth_client::Model,
    /// The generated secret.
    pub secret: Option<String>,
}

/// Registers a client of partner `partner_code` with `scopes` (within the partner's
/// grants); with a generated secret if `with_secret`, with the public keys `jwks` (a
/// JWK Set) if given.
pub async fn register<C: ConnectionTrait>(
    db: &C,
    partner_code: &str,
    client_id: Option<String>,
    scopes: ScopeSet,
    with_secret: bool,
    jwks: Option<String>,
) -> Result<Registered, AccessError> {
    let partner = find_partner(db, partner_code).await?;
    let grants = granted(&partner);
    if !grants.covers(scopes) || scopes.is_empty() {
        return Err(AccessError::ScopesNotGranted { requested: scopes.to_string(), granted: grants.to_string() });
    }
    if let Some(jwks) = &jwks {
        let set: JwkSet =
            serde_json::from_str(jwks).map_err(|e| AccessError::InvalidKey(format!("not a JWK Set: {e}")))?;
        if set.keys.is_empty() || set.keys.iter().any(|k| DecodingKey::from_jwk(k).is_err()) {
            return Err(AccessError::InvalidKey("the JWK Set must hold usable public keys".into()));
        }
    }
    if !with_secret && jwks.is_none() {
        return Err(AccessError::InvalidKey("a client needs a secret, public keys, or both".into()));
    }
    let secret = if with_secret { Some(random(32)?) } else { None };
    let client = oauth_client::ActiveModel {
        client_id: Set(match client_id {
            Some(id) => id,
            None => format!("{}-{}", partner.code.to_ascii_lowercase(), random(6)?),
        }),
        partner_id: Set(partner.id),
        secret_hash: Set(secret.as_deref().map(|s| sha256_hex(s.as_bytes()))),
        jwks: Set(jwks),
        scopes: Set(scopes.to_string()),
        created_at: Set(Utc::now().timestamp()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Registered { client, secret })
}

/// Why client authentication failed; always reported as `invalid_client`.
#[derive(Debug)]
pub enum ClientAuthError {
    /// The credentials are wrong; the reason is safe to tell.
    Refused(&'static str),
    /// The database failed.
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for ClientAuthError {
    fn from(error: sea_orm::DbErr) -> Self {
        ClientAuthError::Db(error)
    }
}

async fn active_client<C: ConnectionTrait>(db: &C, client_id: &str) -> Result<oauth_client::Model, ClientAuthError> {
    oauth_client::Entity::find()
        .filter(oauth_client::Column::ClientId.eq(client_id))
        .filter(oauth_client::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(ClientAuthError::Refused("unknown client or wrong credentials"))
}

/// `client_secret_basic`: the client id and secret from the Basic header.
pub async fn by_secret<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
    secret: &str,
) -> Result<oauth_client::Model, ClientAuthError> {
    let client = active_client(db, client_id).await?;
    // Both sides are hashes of fixed length, so the comparison's timing says nothing
    // about the secret.
    match &client.secret_hash {
        Some(hash) if *hash == sha256_hex(secret.as_bytes()) => Ok(client),
        _ => Err(ClientAuthError::Refused("unknown client or wrong credentials")),
    }
}

/// `private_key_jwt`: a signed assertion whose `iss` and `sub` are the client id, whose
/// `aud` names `audiences` (our token endpoint or issuer), that lives at most
/// [`MAX_ASSERTION_LIFETIME_SECS`] and whose `jti` was never seen before.
pub async fn by_assertion<C: ConnectionTrait>(
    db: &C,
    assertion: &str,
    audiences: &[String],
) -> Result<oauth_client::Model, ClientAuthError> {
    const BAD: ClientAuthError = ClientAuthError::Refused("invalid client assertion");
    let peeked = Unverified::peek(assertion).map_err(|_| BAD)?;
    let alg = peeked.header_str("alg").and_then(|a| a.parse::<Algorithm>().ok());
    let Some(alg) = alg.filter(|a| ASSERTION_ALGORITHMS.contains(a)) else {
        return Err(ClientAuthError::Refused("unsupported assertion signing algorithm"));
    };
    let client_id = peeked.claim_str("iss").ok_or(BAD)?;
    let client = active_client(db, client_id).await?;
    let keys: JwkSet = client.jwks.as_deref().and_then(|j| serde_json::from_str(j).ok()).ok_or(BAD)?;
    let jwk = match peeked.header_str("kid") {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or(ClientAuthError::Refused("unknown assertion signing key"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| BAD)?;
    // The allow-list was checked above; validation names the one algorithm of the
    // header, as every algorithm listed must match the key's family.
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.set_issuer(&[client_id]);
    validation.set_audience(audiences);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = decode::<Value>(assertion, &key, &validation).map_err(|_| BAD)?.claims;
    let now = Utc::now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(BAD)?;
    let issued = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
    if claims.get("sub").and_then(Value::as_str) != Some(client_id) {
        return Err(BAD);
    }
    if exp - issued > MAX_ASSERTION_LIFETIME_SECS || exp - now > MAX_ASSERTION_LIFETIME_SECS {
        return Err(ClientAuthError::Refused("the assertion lives longer than 60 seconds"));
    }
    let jti = claims.get("jti").and_then(Value::as_str).ok_or(ClientAuthError::Refused("the assertion has no jti"))?;
    spend(db, client_id, jti, exp, now).await?;
    Ok(client)
}

/// Records `jti` as spent; refuses one spent before. Spent assertions are forgotten
/// once they could no longer be accepted anyway.
async fn spend<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
    jti: &str,
    exp: i64,
    now: i64,
) -> Result<(), ClientAuthError> {
    used_assertion::Entity::delete_many()
        .filter(used_assertion::Column::ExpiresAt.lt(now - LEEWAY_SECS as i64))
        .exec(db)
        .await?;
    let row = used_assertion::ActiveModel {
        client_id: Set(client_id.to_owned()),
        jti: Set(jti.to_owned()),
        expires_at: Set(exp),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(_) => Ok(()),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(ClientAuthError::Refused("the assertion was already used"))
        }
        Err(error) => Err(error.into()),
    }
}
