//! Schema migrations, backend-neutral: the same statements run on SQLite and PostgreSQL.
//!
//! Migrations are explicit DDL (not derived from the entities) so that an entity edit
//! can never silently rewrite history; `tests/` checks that every entity can be read
//! from a freshly migrated database of each backend. Each migration names its tables,
//! columns and allowed codes itself, frozen, so a later rename in the entity crate never
//! changes an applied migration. Migrations run only when asked (`consortium migrate`,
//! or `consortium demo`), never as a side effect of serving.
#![warn(missing_docs)]

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261124_000001_trial;
mod m20261124_000002_access;
mod m20261130_000003_audit_policy;
mod m20261130_000004_released_cells;
mod m20261130_000005_access_epoch;
mod m20261130_000006_privacy;
mod m20261130_000007_allowed_operations;
mod m20261130_000008_audit_detail;
mod m20261202_000009_record_key_secret;

/// The ordered list of migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_trial::Migration),
            Box::new(m20261124_000002_access::Migration),
            Box::new(m20261130_000003_audit_policy::Migration),
            Box::new(m20261130_000004_released_cells::Migration),
            Box::new(m20261130_000005_access_epoch::Migration),
            Box::new(m20261130_000006_privacy::Migration),
            Box::new(m20261130_000007_allowed_operations::Migration),
            Box::new(m20261130_000008_audit_detail::Migration),
            Box::new(m20261202_000009_record_key_secret::Migration),
        ]
    }
}
