//! A partner's grants: the scopes its tokens may hold at most, its kind's defaults or
//! an override the administration sets.

use consortium_entity::partner;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::error::AccessError;
use super::scope::ScopeSet;

/// The scopes a partner is granted: its own override, or its kind's defaults.
pub fn granted(partner: &partner::Model) -> ScopeSet {
    // The override is written by the CLI, which validates it; an unparsable one grants
    // nothing rather than the defaults.
    partner.scopes.as_deref().map_or_else(|| ScopeSet::default_for(partner.kind), |s| s.parse().unwrap_or_default())
}

/// A change to a partner's grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    /// Add these scopes to what the partner holds.
    Add(ScopeSet),
    /// Hold exactly these scopes.
    Exactly(ScopeSet),
    /// Back to the defaults of the partner's kind.
    Defaults,
}

/// Changes partner `code`'s grants (announced to every replica, see
/// [`super::cache`]); returns what it held before and holds now.
pub async fn set_grants<C: ConnectionTrait>(
    db: &C,
    code: &str,
    change: GrantChange,
) -> Result<(ScopeSet, ScopeSet), AccessError> {
    let partner = find_partner(db, code).await?;
    let before = granted(&partner);
    let mut row = partner.into_active_model();
    row.scopes = Set(match change {
        GrantChange::Add(scopes) => Some(before.union(scopes).to_string()),
        GrantChange::Exactly(scopes) => Some(scopes.to_string()),
        GrantChange::Defaults => None,
    });
    let partner = row.update(db).await?;
    super::epoch::announce_access_change(db).await?;
    Ok((before, granted(&partner)))
}

/// The partner with `code`.
pub async fn find_partner<C: ConnectionTrait>(db: &C, code: &str) -> Result<partner::Model, AccessError> {
    partner::Entity::find()
        .filter(partner::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| AccessError::UnknownPartner(code.to_owned()))
}
