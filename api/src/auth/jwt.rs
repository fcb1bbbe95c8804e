//! JSON Web Tokens: reading a token's header and claims before trusting them (to route
//! it to the right issuer and to name precisely why it is refused), the access-token
//! claims of RFC 9068, and mapping validation failures to reasons a caller may see.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::AuthError;

/// Leeway for `exp` and `nbf`, in seconds: small, for clock skew between machines.
pub const LEEWAY_SECS: u64 = 30;

/// The claims of our access tokens (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Our issuer URL.
    pub iss: String,
    /// The client the token was issued to.
    pub sub: String,
    /// The API.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issue time (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Unique id, the key of revocation and introspection.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
}

/// A token's header and claims, decoded but not yet verified.
#[derive(Debug)]
pub struct Unverified {
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
}

impl Unverified {
    /// Splits and decodes `token`; anything that is not three base64url JSON parts is
    /// malformed.
    pub fn peek(token: &str) -> Result<Self, AuthError> {
        const MALFORMED: AuthError = AuthError::Invalid("malformed token");
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MALFORMED);
        };
        let decode = |part: &str| -> Result<Value, AuthError> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| MALFORMED)?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| MALFORMED)?;
            if value.is_object() {
                Ok(value)
            } else {
                Err(MALFORMED)
            }
        };
        Ok(Self { header: decode(header)?, claims: decode(claims)? })
    }

    /// A string header field.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Refuses an algorithm outside `allowed` (so never `none`, and never a symmetric
    /// algorithm where a public key is expected) and a `typ` outside `types`
    /// (compared without case and without an `application/` prefix, RFC 8725 §3.11).
    /// Returns the algorithm.
    pub fn check_header(&self, allowed: &[Algorithm], types: &[String]) -> Result<Algorithm, AuthError> {
        let alg = self.header_str("alg").ok_or(AuthError::Invalid("malformed token"))?;
        let Some(alg) = alg.parse::<Algorithm>().ok().filter(|a| allowed.contains(a)) else {
            return Err(AuthError::Invalid("unsupported signing algorithm"));
        };
        let typ = self.header_str("typ").unwrap_or_default().to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        if !types.iter().any(|t| t.eq_ignore_ascii_case(typ)) {
            return Err(AuthError::Invalid("wrong token type"));
        }
        Ok(alg)
    }
}

/// Validation of `alg`-signed tokens from `issuer` for `audience`, requiring `exp`,
/// `iat`, `iss` and `aud`, checking `nbf` when present, with [`LEEWAY_SECS`]. One
/// algorithm only: the header's, once [`Unverified::check_header`] allowed it (every
/// algorithm a validation lists must belong to the key's family).
pub fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    validation
}

/// The reason a caller is told for a failed validation.
pub fn refusal(error: &jsonwebtoken::errors::Error) -> AuthError {
    AuthError::Invalid(match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidSignature => "invalid signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "unsupported signing algorithm",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "malformed token",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn alg_none_is_refused_before_any_key_is_looked_at() {
        let token =
            format!("{}.{}.", part(&serde_json::json!({"alg": "none", "typ": "at+jwt"})), part(&serde_json::json!({})));
        let peeked = Unverified::peek(&token).expect("well formed");
        let refused = peeked.check_header(&[Algorithm::EdDSA], &["at+jwt".into()]);
        assert!(matches!(refused, Err(AuthError::Invalid("unsupported signing algorithm"))));
    }

    #[test]
    fn the_media_type_form_of_typ_is_accepted() {
        let token = format!(
            "{}.{}.sig",
            part(&serde_json::json!({"alg": "EdDSA", "typ": "application/AT+JWT"})),
            part(&serde_json::json!({}))
        );
        let peeked = Unverified::peek(&token).expect("well formed");
        assert!(peeked.check_header(&[Algorithm::EdDSA], &["at+jwt".into()]).is_ok());
        assert!(peeked.check_header(&[Algorithm::EdDSA], &["jwt".into()]).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "a.b", "a.b.c.d", "!!!.???.x", "e30.W10.x"] {
            assert!(matches!(Unverified::peek(token), Err(AuthError::Invalid("malformed token"))), "{token}");
        }
    }
}
