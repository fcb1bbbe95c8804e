//! The authorization server's signing keys: Ed25519 pairs kept in the database so every
//! replica signs and verifies with the same ones.
//!
//! The newest unretired key signs. `consortium keys rotate` adds a key and retires the
//! others; a retired key stays in the JWKS (and keeps verifying) for the overlap, the
//! longest lifetime of a token it could have signed, then drops out. Replicas reload
//! the ring before signing, before publishing the JWKS, and when they meet a key id
//! they do not know.

use std::sync::RwLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use consortium_entity::access::signing_key;
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use super::error::AccessError;
use super::secret::random;

/// The signing keys one replica knows.
#[derive(Debug)]
pub struct KeyRing {
    keys: RwLock<Vec<signing_key::Model>>,
    overlap_secs: i64,
}

impl KeyRing {
    /// Loads the keys, creating the first one if there is none yet.
    pub async fn load<C: ConnectionTrait>(db: &C, overlap_secs: i64) -> Result<Self, AccessError> {
        let ring = Self { keys: RwLock::new(Vec::new()), overlap_secs };
        ring.reload(db).await?;
        if ring.signing().is_none() {
            create(db).await?;
            ring.reload(db).await?;
        }
        Ok(ring)
    }

    /// Reads the keys again (after a rotation elsewhere).
    pub async fn reload<C: ConnectionTrait>(&self, db: &C) -> Result<(), AccessError> {
        let keys = signing_key::Entity::find().order_by_desc(signing_key::Column::Id).all(db).await?;
        match self.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok(())
    }

    fn with_keys<T>(&self, f: impl FnOnce(&[signing_key::Model]) -> T) -> T {
        match self.keys.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// The key that signs now: its id and private key.
    pub fn signing(&self) -> Option<(String, EncodingKey)> {
        self.with_keys(|keys| {
            let key = keys.iter().find(|k| k.retired_at.is_none())?;
            let der = STANDARD.decode(&key.private_pkcs8).ok()?;
            Some((key.kid.clone(), EncodingKey::from_ed_der(&der)))
        })
    }

    /// The public key with id `kid`, if it is still published.
    pub fn verifying(&self, kid: &str) -> Option<DecodingKey> {
        let now = Utc::now().timestamp();
        self.with_keys(|keys| {
            let key = keys.iter().find(|k| k.kid == kid && self.published(k, now))?;
            DecodingKey::from_ed_components(&key.public_x).ok()
        })
    }

    /// The published keys as a JWK Set (RFC 7517).
    pub fn jwks(&self) -> Value {
        let now = Utc::now().timestamp();
        self.with_keys(|keys| {
            let keys: Vec<Value> = keys
                .iter()
                .filter(|k| self.published(k, now))
                .map(|k| json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": k.public_x }))
                .collect();
            json!({ "keys": keys })
        })
    }

    fn published(&self, key: &signing_key::Model, now: i64) -> bool {
        key.retired_at.is_none_or(|retired| now < retired + self.overlap_secs)
    }
}

/// Creates a new signing key.
pub async fn create<C: ConnectionTrait>(db: &C) -> Result<signing_key::Model, AccessError> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| AccessError::InvalidKey(e.to_string()))?;
    let model = signing_key::ActiveModel {
        kid: Set(random(12)?),
        private_pkcs8: Set(STANDARD.encode(pkcs8.as_ref())),
        public_x: Set(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())),
        created_at: Set(Utc::now().timestamp()),
        retired_at: Set(None),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Adds a key and retires every other one; returns the new key.
pub async fn rotate<C: ConnectionTrait>(db: &C) -> Result<signing_key::Model, AccessError> {
    let fresh = create(db).await?;
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, sea_orm::sea_query::Expr::value(Utc::now().timestamp()))
        .filter(signing_key::Column::Id.ne(fresh.id))
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(db)
        .await?;
    Ok(fresh)
}
