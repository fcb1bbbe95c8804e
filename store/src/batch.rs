//! Writing a whole [`Trial`] to an empty database: every table in one transaction,
//! in foreign-key order, with the generator's explicit ids, as multi-row inserts sized
//! to the backend's bound-parameter limit; then the id sequences (PostgreSQL) and the
//! data version, so readers see the whole consortium and its new version or neither.

use std::time::Instant;

use consortium_entity::{
    adverse_event, cohort, data_version, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityName,
    EntityTrait, Insert, IntoActiveModel, Iterable, TransactionTrait,
};

use consortium_entity::Trial;

/// What [`write_trial`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreReport {
    /// Rows inserted, over all tables.
    pub rows: u64,
    /// The data version after the write.
    pub data_version: i64,
}

/// Whether the database holds no consortium yet (no partner rows).
pub async fn is_empty(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(partner::Entity::find().one(db).await?.is_none())
}

/// Writes the whole consortium in one transaction (all or nothing) and bumps the data
/// version inside it. The database must not hold a consortium already (see [`is_empty`]):
/// the generator's ids are written as they are.
pub async fn write_trial(db: &DatabaseConnection, trial: &Trial) -> Result<StoreReport, DbErr> {
    let started = Instant::now();
    let limit = parameter_limit(db.get_database_backend());
    let txn = db.begin().await?;
    let c = trial;
    let mut rows = 0;
    rows += insert_all::<partner::Entity, _>(&txn, &c.partners, limit).await?;
    rows += insert_all::<site::Entity, _>(&txn, &c.sites, limit).await?;
    rows += insert_all::<patient::Entity, _>(&txn, &c.patients, limit).await?;
    rows += insert_all::<molecular_profile::Entity, _>(&txn, &c.profiles, limit).await?;
    rows += insert_all::<variant::Entity, _>(&txn, &c.variants, limit).await?;
    rows += insert_all::<drug::Entity, _>(&txn, &c.drugs, limit).await?;
    rows += insert_all::<cohort::Entity, _>(&txn, &c.cohorts, limit).await?;
    rows += insert_all::<mtb_review::Entity, _>(&txn, &c.reviews, limit).await?;
    rows += insert_all::<enrolment::Entity, _>(&txn, &c.enrolments, limit).await?;
    rows += insert_all::<response_assessment::Entity, _>(&txn, &c.assessments, limit).await?;
    rows += insert_all::<adverse_event::Entity, _>(&txn, &c.adverse_events, limit).await?;
    rows += insert_all::<followup::Entity, _>(&txn, &c.followups, limit).await?;
    sync_sequences(&txn).await?;
    let data_version = data_version::bump(&txn).await?;
    txn.commit().await?;
    tracing::info!(
        rows,
        data_version,
        patients = c.patients.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "wrote a whole trial"
    );
    Ok(StoreReport { rows, data_version })
}

/// Bound parameters per statement: SQLite's compile-time default is 32766, PostgreSQL's
/// wire protocol counts them in 16 bits.
pub(crate) fn parameter_limit(backend: DatabaseBackend) -> usize {
    match backend {
        DatabaseBackend::Sqlite => 32_766,
        _ => 65_535,
    }
}

/// Moves PostgreSQL's id sequences past the largest id of every trial table: rows are
/// written with explicit ids, which leave the sequences behind, and later inserts that
/// let the database choose an id must not collide with them. Nothing to do on SQLite.
pub(crate) async fn sync_sequences<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in [
        partner::Entity.table_name(),
        site::Entity.table_name(),
        patient::Entity.table_name(),
        molecular_profile::Entity.table_name(),
        variant::Entity.table_name(),
        drug::Entity.table_name(),
        cohort::Entity.table_name(),
        mtb_review::Entity.table_name(),
        enrolment::Entity.table_name(),
        response_assessment::Entity.table_name(),
        adverse_event::Entity.table_name(),
        followup::Entity.table_name(),
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
        .await?;
    }
    Ok(())
}

/// Inserts `models` in chunks that stay under `limit` bound parameters each.
pub(crate) async fn insert_all<E, C>(db: &C, models: &[E::Model], limit: usize) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    let columns = E::Column::iter().count().max(1);
    let chunk = (limit / columns).max(1);
    let mut rows = 0;
    for part in models.chunks(chunk) {
        rows += Insert::<E::ActiveModel>::many(part.iter().cloned()).exec_without_returning(db).await?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use consortium_migration::Migrator;
    use consortium_synthetic::{generate, DemoSpec};
    use sea_orm::{Database, PaginatorTrait};
    use sea_orm_migration::MigratorTrait;

    #[tokio::test]
    async fn a_stored_consortium_has_every_row_and_bumps_the_data_version() {
        let db = Database::connect("sqlite::memory:").await.expect("in-memory SQLite");
        Migrator::up(&db, None).await.expect("migrations");
        assert!(is_empty(&db).await.expect("query"));
        let c = generate(&DemoSpec { seed: 5, patients: 500 }).expect("in range");

        let report = write_trial(&db, &c).await.expect("store");

        assert_eq!(report.data_version, 1);
        assert_eq!(data_version::current(&db).await.expect("version"), 1);
        assert!(!is_empty(&db).await.expect("query"));
        let expected = [
            c.partners.len(),
            c.sites.len(),
            c.patients.len(),
            c.profiles.len(),
            c.variants.len(),
            c.reviews.len(),
            c.drugs.len(),
            c.cohorts.len(),
            c.enrolments.len(),
            c.assessments.len(),
            c.adverse_events.len(),
            c.followups.len(),
        ];
        assert_eq!(report.rows, expected.iter().sum::<usize>() as u64);
        let counted = [
            partner::Entity::find().count(&db).await,
            site::Entity::find().count(&db).await,
            patient::Entity::find().count(&db).await,
            molecular_profile::Entity::find().count(&db).await,
            variant::Entity::find().count(&db).await,
            mtb_review::Entity::find().count(&db).await,
            drug::Entity::find().count(&db).await,
            cohort::Entity::find().count(&db).await,
            enrolment::Entity::find().count(&db).await,
            response_assessment::Entity::find().count(&db).await,
            adverse_event::Entity::find().count(&db).await,
            followup::Entity::find().count(&db).await,
        ];
        for (n, count) in expected.iter().zip(counted) {
            assert_eq!(count.expect("count") as usize, *n);
        }
        assert_eq!(c.patients.len(), 500);
        assert!(!c.enrolments.is_empty() && !c.assessments.is_empty());
        // What was read back is what was written.
        let cohorts = cohort::Entity::find().all(&db).await.expect("cohorts");
        assert_eq!(cohorts, c.cohorts);
        let patient_one = patient::Entity::find_by_id(1).one(&db).await.expect("patient");
        assert_eq!(patient_one.as_ref(), c.patients.first());
    }

    #[tokio::test]
    async fn a_failed_store_leaves_nothing_behind() {
        let db = Database::connect("sqlite::memory:").await.expect("in-memory SQLite");
        Migrator::up(&db, None).await.expect("migrations");
        let mut c = generate(&DemoSpec { seed: 5, patients: 200 }).expect("in range");
        // A follow-up of a patient who does not exist breaks a foreign key at the very end.
        if let Some(last) = c.followups.last_mut() {
            last.patient_id = 999_999;
        }
        write_trial(&db, &c).await.expect_err("the foreign key must fail");
        assert!(is_empty(&db).await.expect("query"));
        assert_eq!(data_version::current(&db).await.expect("version"), 0);
    }
}
