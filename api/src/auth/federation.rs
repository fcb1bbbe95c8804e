//! Federated identity: access tokens from identity providers we trust by
//! configuration (a hospital's own, or the health sector's HelseID).
//!
//! Each trusted issuer is configured with its issuer URL, where its public keys are
//! (a JWKS file, or a URL read at start-up), the audience its tokens must name, the
//! claim carrying the organisation number (HelseID:
//! `helseid://claims/client/claims/orgnr_parent`), the algorithms allowed (asymmetric
//! only) and the token types accepted. The organisation number maps to the partner
//! registered with it; the token's `scope` claim, if present, narrows the partner's
//! grants, never widens them.

use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use super::error::{AccessError, AuthError};
use super::jwt::{refusal, validation, Unverified};

/// One trusted issuer, as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerConfig {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry to be meant for us.
    pub audience: String,
    /// A JWKS file with its public keys.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Or a URL serving its JWKS, read at start-up.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The claim holding the caller's organisation number.
    pub organisation_claim: String,
    /// Algorithms accepted.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// `typ` header values accepted.
    #[serde(default = "default_types")]
    pub token_types: Vec<String>,
}

fn default_algorithms() -> Vec<Algorithm> {
    vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA]
}

fn default_types() -> Vec<String> {
    vec!["at+jwt".into()]
}

/// A trusted issuer with its keys.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    config: TrustedIssuerConfig,
    keys: JwkSet,
}

/// What a verified federated token says about its caller.
#[derive(Debug)]
pub struct FederatedIdentity {
    /// The organisation number.
    pub organisation: String,
    /// The token's scopes, if it names any.
    pub scope: Option<String>,
    /// A stable id for audit and rate limits: issuer and `jti` (or subject).
    pub token_id: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

impl TrustedIssuer {
    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Loads every issuer of the configuration file at `path` (a JSON array).
    pub async fn load_all(path: &Path) -> Result<Vec<TrustedIssuer>, AccessError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AccessError::InvalidKey(format!("cannot read {}: {e}", path.display())))?;
        let configs: Vec<TrustedIssuerConfig> = serde_json::from_str(&text)
            .map_err(|e| AccessError::InvalidKey(format!("{} is not a trusted-issuer list: {e}", path.display())))?;
        let mut issuers = Vec::with_capacity(configs.len());
        for config in configs {
            issuers.push(Self::load(config).await?);
        }
        Ok(issuers)
    }

    async fn load(config: TrustedIssuerConfig) -> Result<TrustedIssuer, AccessError> {
        if let Some(symmetric) =
            config.algorithms.iter().find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(AccessError::InvalidKey(format!(
                "{}: {symmetric:?} is symmetric; trusted issuers must sign with public-key algorithms",
                config.issuer
            )));
        }
        let text = match (&config.jwks_file, &config.jwks_uri) {
            (Some(file), _) => std::fs::read_to_string(file)
                .map_err(|e| AccessError::InvalidKey(format!("cannot read {}: {e}", file.display())))?,
            (None, Some(uri)) => fetch(uri).await?,
            (None, None) => {
                return Err(AccessError::InvalidKey(format!("{}: give jwks_file or jwks_uri", config.issuer)));
            }
        };
        let keys: JwkSet = serde_json::from_str(&text)
            .map_err(|e| AccessError::InvalidKey(format!("{}: not a JWK Set: {e}", config.issuer)))?;
        Ok(TrustedIssuer { config, keys })
    }

    /// Verifies `token` (already peeked) as one of this issuer's.
    pub fn verify(&self, token: &str, peeked: &Unverified) -> Result<FederatedIdentity, AuthError> {
        let alg = peeked.check_header(&self.config.algorithms, &self.config.token_types)?;
        let jwk = match peeked.header_str("kid") {
            Some(kid) => self.keys.find(kid),
            None if self.keys.keys.len() == 1 => self.keys.keys.first(),
            None => None,
        }
        .ok_or(AuthError::Invalid("unknown signing key"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| AuthError::Invalid("unknown signing key"))?;
        let validation = validation(alg, &self.config.issuer, &self.config.audience);
        let claims = decode::<Value>(token, &key, &validation).map_err(|e| refusal(&e))?.claims;
        let organisation = claims
            .get(&self.config.organisation_claim)
            .and_then(Value::as_str)
            .ok_or(AuthError::Invalid("the token names no organisation"))?
            .to_owned();
        let id = claims.get("jti").or_else(|| claims.get("sub")).and_then(Value::as_str).unwrap_or("-");
        // The audit column holds 80 characters; the end (the token's own id) matters most.
        let token_id = format!("{}#{id}", self.config.issuer);
        let start = token_id.char_indices().rev().nth(79).map_or(0, |(i, _)| i);
        let token_id = token_id[start..].to_owned();
        Ok(FederatedIdentity {
            organisation,
            scope: claims.get("scope").and_then(Value::as_str).map(str::to_owned),
            token_id,
            expires_at: claims.get("exp").and_then(Value::as_i64).unwrap_or_default(),
        })
    }
}

async fn fetch(uri: &str) -> Result<String, AccessError> {
    let failed = |e: reqwest::Error| AccessError::InvalidKey(format!("cannot fetch {uri}: {e}"));
    let response = reqwest::get(uri).await.map_err(failed)?.error_for_status().map_err(failed)?;
    response.text().await.map_err(failed)
}
