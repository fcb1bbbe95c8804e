//! Access control and accountability: API tokens, OAuth clients, signing keys, issued
//! access tokens, used client assertions, rate-limit windows, the audit chain, the
//! ledger of released patient sets, the noisy tier's values, charges and budgets,
//! tokens' allow-lists, and the secret of the cell-key method's record keys.
//!
//! None of these tables holds trial data, so writing them does not bump the data
//! version. Secrets are never stored: tokens and client secrets as SHA-256 hashes only.
//! Times that are compared (expiry, revocation, windows) are Unix seconds, which compare
//! the same way on every backend.

pub mod access_epoch;
pub mod allowed_operation;
pub mod api_token;
pub mod audit_record;
pub mod issued_token;
pub mod noisy_count;
pub mod oauth_client;
pub mod privacy_budget;
pub mod privacy_charge;
pub mod rate_window;
pub mod record_key_secret;
pub mod released_cell;
pub mod signing_key;
pub mod used_assertion;
