//! The secret of the cell-key method's record keys: read from the database, or created
//! there by the first service to start (every replica then reads the same row).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use consortium_disclosure::RecordKeys;
use consortium_entity::access::record_key_secret;
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::error::ApiError;

/// The id of the secret's one row.
const SINGLE: i32 = 1;

/// The record keys under the deployment's secret, creating the secret if there is none
/// (two services starting at once both try; the first insert wins and both read it).
pub async fn load<C: ConnectionTrait>(db: &C) -> Result<RecordKeys, ApiError> {
    let mut fresh = [0u8; 32];
    SystemRandom::new()
        .fill(&mut fresh)
        .map_err(|_| ApiError::Internal("no randomness for the record keys' secret".into()))?;
    let row = record_key_secret::ActiveModel {
        id: Set(SINGLE),
        secret: Set(STANDARD.encode(fresh)),
        created_at: Set(Utc::now().timestamp()),
    };
    record_key_secret::Entity::insert(row)
        .on_conflict(OnConflict::column(record_key_secret::Column::Id).do_nothing().to_owned())
        .do_nothing()
        .exec(db)
        .await?;
    let stored = record_key_secret::Entity::find_by_id(SINGLE)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal("the record keys' secret was not stored".into()))?;
    let secret = STANDARD
        .decode(stored.secret)
        .map_err(|_| ApiError::Internal("the record keys' secret is not base64".into()))?;
    Ok(RecordKeys::new(&secret))
}
