//! Authentication and the first half of authorization: the first two steps of the
//! release pipeline (see the README's architecture section).
//!
//! A request presents `Authorization: Bearer <token>`; [`Authenticator::authenticate`]
//! turns it into a [`Principal`] (partner, scopes, token id) or refuses it. Three kinds
//! of token are accepted:
//!
//! * scoped API tokens (`cat_…`, [`api_token`]), checked against their stored hash;
//! * access tokens from our own authorization server ([`oauth`]): EdDSA-signed JWTs
//!   (RFC 9068) verified with our [`keys`], then checked against the issued-token table
//!   so revocation is immediate;
//! * access tokens of trusted external issuers ([`federation`]).
//!
//! Researchers can also sign in to GraphiQL through an identity provider
//! ([`sign_in`]: authorization code with PKCE).
//!
//! A token's principal is kept for a short while once checked ([`cache`]); whatever
//! changes access announces it, so revocations still take effect at once.
//!
//! What a principal may then see is decided twice, each in one place: scopes by
//! `graphql::access` before any resolver runs its measure, rows by
//! [`Principal::row_scope`] applied to the whole snapshot.

pub mod api_token;
pub mod cache;
pub mod clients;
pub mod epoch;
pub mod error;
pub mod federation;
pub mod grants;
pub mod jwt;
pub mod keys;
pub mod oauth;
pub mod principal;
pub mod scope;
pub mod secret;
pub mod sign_in;

use std::sync::Arc;

use chrono::Utc;
use consortium_entity::access::issued_token;
use consortium_entity::partner;
use jsonwebtoken::{decode, Algorithm};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

pub use error::{AccessError, AuthError};
pub use principal::Principal;
pub use scope::{Scope, ScopeSet};

use cache::TokenCache;
use federation::TrustedIssuer;
use grants::granted;
use jwt::{refusal, validation, AccessClaims, Unverified};
use keys::KeyRing;

/// Longest `Authorization` header accepted, in bytes.
const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;

/// The token type our access tokens carry (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Turns bearer tokens into principals.
#[derive(Debug)]
pub struct Authenticator {
    db: DatabaseConnection,
    /// Our signing keys.
    pub keys: KeyRing,
    /// Our issuer URL (`iss` of our tokens, base of our endpoints).
    pub issuer: String,
    /// The audience our tokens are for.
    pub audience: String,
    /// Lifetime of the access tokens we issue, in seconds.
    pub token_lifetime_secs: i64,
    trusted: Vec<TrustedIssuer>,
    cache: Arc<TokenCache>,
}

impl Authenticator {
    /// An authenticator for `issuer`, trusting `trusted` besides ourselves.
    pub async fn new(
        db: DatabaseConnection,
        issuer: String,
        audience: String,
        token_lifetime_secs: i64,
        trusted: Vec<TrustedIssuer>,
    ) -> Result<Self, AccessError> {
        let keys = KeyRing::load(&db, token_lifetime_secs + jwt::LEEWAY_SECS as i64).await?;
        let cache = TokenCache::start(&db);
        Ok(Self { db, keys, issuer, audience, token_lifetime_secs, trusted, cache })
    }

    /// The principal of a request with this `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        Ok(self.authenticate_at(authorization).await?.0)
    }

    /// The principal of a request with this `Authorization` header value, checked in
    /// full (not from the cache).
    pub async fn authenticate_again(&self, authorization: Option<&str>) -> Result<(Principal, i64), AuthError> {
        if let Some(token) = authorization.and_then(|h| h.split_once(' ')).map(|(_, t)| t.trim()) {
            self.cache.forget(token).await;
        }
        self.authenticate_at(authorization).await
    }

    /// The principal of a request with this `Authorization` header value, and the
    /// access epoch its credentials were checked at (see [`cache`]).
    pub async fn authenticate_at(&self, authorization: Option<&str>) -> Result<(Principal, i64), AuthError> {
        let header = authorization.ok_or(AuthError::Missing)?;
        if header.len() > MAX_CREDENTIAL_BYTES {
            return Err(AuthError::Invalid("the credentials are too large"));
        }
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
            _ => return Err(AuthError::Invalid("malformed authorization header: expected `Bearer <token>`")),
        };
        self.cache.principal(&self.db, token, self.check(token)).await
    }

    /// Checks `token` in full: signature, claims, stored row, the partner's grants.
    async fn check(&self, token: &str) -> Result<Principal, AuthError> {
        if token.starts_with(api_token::PREFIX) {
            return api_token::authenticate(&self.db, token).await;
        }
        let peeked = Unverified::peek(token)?;
        match peeked.claim_str("iss") {
            Some(iss) if iss == self.issuer => self.ours(token, &peeked).await,
            Some(iss) => match self.trusted.iter().find(|t| t.issuer() == iss) {
                Some(trusted) => self.federated(trusted, token, &peeked).await,
                None => Err(AuthError::Invalid("wrong issuer")),
            },
            None => Err(AuthError::Invalid("a required claim is missing")),
        }
    }

    /// Verifies one of our access tokens: signature, claims, and that it was issued here
    /// and not revoked since.
    pub async fn verify_ours(
        &self,
        token: &str,
        peeked: &Unverified,
    ) -> Result<(AccessClaims, issued_token::Model, partner::Model), AuthError> {
        let alg = peeked.check_header(&[Algorithm::EdDSA], &[ACCESS_TOKEN_TYPE.to_owned()])?;
        let kid = peeked.header_str("kid").ok_or(AuthError::Invalid("unknown signing key"))?;
        let key = match self.keys.verifying(kid) {
            Some(key) => key,
            None => {
                // Another replica may have rotated the keys.
                self.keys.reload(&self.db).await.map_err(|_| AuthError::Invalid("unknown signing key"))?;
                self.keys.verifying(kid).ok_or(AuthError::Invalid("unknown signing key"))?
            }
        };
        let validation = validation(alg, &self.issuer, &self.audience);
        let claims = decode::<AccessClaims>(token, &key, &validation).map_err(|e| refusal(&e))?.claims;
        let (issued, partner) = issued_token::Entity::find_by_id(claims.jti.clone())
            .find_also_related(partner::Entity)
            .one(&self.db)
            .await?
            .ok_or(AuthError::Invalid("unknown token"))?;
        if issued.revoked_at.is_some() {
            return Err(AuthError::Invalid("the token was revoked"));
        }
        let partner = partner.ok_or(AuthError::Invalid("unknown token"))?;
        Ok((claims, issued, partner))
    }

    async fn ours(&self, token: &str, peeked: &Unverified) -> Result<Principal, AuthError> {
        let (claims, _, partner) = self.verify_ours(token, peeked).await?;
        let scopes = claims.scope.parse::<ScopeSet>().unwrap_or_default().intersection(granted(&partner));
        Ok(Principal { partner, scopes, token_id: claims.jti, expires_at: claims.exp, allowed: None })
    }

    async fn federated(
        &self,
        trusted: &TrustedIssuer,
        token: &str,
        peeked: &Unverified,
    ) -> Result<Principal, AuthError> {
        let identity = trusted.verify(token, peeked)?;
        let partner = partner::Entity::find()
            .filter(partner::Column::OrgNumber.eq(identity.organisation.as_str()))
            .one(&self.db)
            .await?
            .ok_or(AuthError::Invalid("the organisation is not a consortium partner"))?;
        let grants = granted(&partner);
        let scopes = match identity.scope {
            Some(scope) => scope
                .split(' ')
                .filter_map(|s| s.parse::<ScopeSet>().ok())
                .fold(ScopeSet::EMPTY, ScopeSet::union)
                .intersection(grants),
            None => grants,
        };
        Ok(Principal { partner, scopes, token_id: identity.token_id, expires_at: identity.expires_at, allowed: None })
    }

    /// Tells this and every other replica that access changed (a token was revoked, a
    /// partner's grants changed): principals checked before are checked again.
    pub async fn access_changed(&self) -> Result<(), sea_orm::DbErr> {
        self.cache.forget_all();
        epoch::announce_access_change(&self.db).await
    }

    /// The database (for the OAuth endpoints).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Now, in Unix seconds.
    pub fn now() -> i64 {
        Utc::now().timestamp()
    }
}
