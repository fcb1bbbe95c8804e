//! The data version: one row, bumped by every write in the same transaction.

use sea_orm::entity::prelude::*;

/// The data version: one row, bumped by every write in the same transaction.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "data_version")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Monotonic version number.
    pub version: i64,
    /// When it last changed.
    pub changed_at: DateTimeUtc,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Reads the current data version.
pub async fn current<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|row| row.version)
        .ok_or_else(|| DbErr::RecordNotFound("data_version row 1 (run `consortium migrate`)".into()))
}

/// Bumps the data version; call it inside the transaction that writes, so readers see
/// the new rows and the new version together or neither.
pub async fn bump<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    use sea_orm::sea_query::Expr;
    Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::ChangedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::Id.eq(1))
        .exec(db)
        .await?;
    current(db).await
}
