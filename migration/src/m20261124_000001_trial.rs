//! The trial's initial schema: partners, sites, patients, profiles, variants, board
//! reviews, drugs, cohorts, enrolments, assessments, adverse events, follow-up and the
//! data version.

use crate::columns::{boolean, code, date, fk, id, int, optional_code, text};
use consortium_entity::*;
use sea_orm_migration::prelude::*;

/// Creates every table of the trial.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        let insert = Query::insert()
            .into_table(data_version::Entity)
            .columns([data_version::Column::Id, data_version::Column::Version, data_version::Column::ChangedAt])
            .values_panic([1.into(), 0i64.into(), Expr::current_timestamp().into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().into_iter().rev() {
            let name = table.get_table_name().cloned();
            if let Some(name) = name {
                manager.drop_table(Table::drop().table(name).to_owned()).await?;
            }
        }
        Ok(())
    }
}

fn tables() -> Vec<TableCreateStatement> {
    use adverse_event as ae;
    use molecular_profile as mp;
    use response_assessment as ra;
    vec![
        Table::create()
            .table(partner::Entity)
            .col(id(partner::Column::Id))
            .col(text(partner::Column::Code, 32).unique_key())
            .col(text(partner::Column::Name, 200))
            .col(code::<PartnerKind>(partner::Column::Kind))
            .col(text(partner::Column::OrgNumber, 9).unique_key())
            .to_owned(),
        Table::create()
            .table(site::Entity)
            .col(id(site::Column::Id))
            .col(text(site::Column::Code, 32).unique_key())
            .col(text(site::Column::Name, 200))
            .col(code::<HealthRegion>(site::Column::Region))
            .col(int(site::Column::PartnerId))
            .col(boolean(site::Column::InpredNode))
            .foreign_key(&mut fk(site::Entity, site::Column::PartnerId, partner::Entity, partner::Column::Id))
            .to_owned(),
        Table::create()
            .table(patient::Entity)
            .col(id(patient::Column::Id))
            .col(text(patient::Column::Pseudonym, 32).unique_key())
            .col(code::<Sex>(patient::Column::Sex))
            .col(int(patient::Column::BirthYear).check(Expr::col(patient::Column::BirthYear).between(1900, 2100)))
            .col(code::<HealthRegion>(patient::Column::Region))
            .col(int(patient::Column::ReferringSiteId))
            .col(date(patient::Column::ReferralDate))
            .foreign_key(&mut fk(patient::Entity, patient::Column::ReferringSiteId, site::Entity, site::Column::Id))
            .to_owned(),
        Table::create()
            .table(mp::Entity)
            .col(id(mp::Column::Id))
            .col(int(mp::Column::PatientId).unique_key())
            .col(text(mp::Column::SampleId, 32).unique_key())
            .col(text(mp::Column::Panel, 32))
            .col(int(mp::Column::SequencingSiteId))
            .col(date(mp::Column::SampleDate))
            .col(text(mp::Column::OncotreeCode, 16))
            .col(text(mp::Column::Icd10, 8))
            .col(ColumnDef::new(mp::Column::Tmb).double().not_null().check(Expr::col(mp::Column::Tmb).gte(0)))
            .col(code::<MsiStatus>(mp::Column::MsiStatus))
            .foreign_key(&mut fk(mp::Entity, mp::Column::PatientId, patient::Entity, patient::Column::Id))
            .foreign_key(&mut fk(mp::Entity, mp::Column::SequencingSiteId, site::Entity, site::Column::Id))
            .to_owned(),
        Table::create()
            .table(variant::Entity)
            .col(id(variant::Column::Id))
            .col(int(variant::Column::ProfileId))
            .col(text(variant::Column::Gene, 16))
            .col(code::<AlterationClass>(variant::Column::AlterationClass))
            .col(ColumnDef::new(variant::Column::ProteinChange).string_len(64).null())
            .col(code::<EscatTier>(variant::Column::EscatTier))
            .foreign_key(&mut fk(variant::Entity, variant::Column::ProfileId, mp::Entity, mp::Column::Id))
            .to_owned(),
        Table::create()
            .table(drug::Entity)
            .col(id(drug::Column::Id))
            .col(text(drug::Column::Code, 32).unique_key())
            .col(text(drug::Column::Name, 200))
            .col(text(drug::Column::Mechanism, 200))
            .col(int(drug::Column::SupplierId))
            .foreign_key(&mut fk(drug::Entity, drug::Column::SupplierId, partner::Entity, partner::Column::Id))
            .to_owned(),
        Table::create()
            .table(cohort::Entity)
            .col(id(cohort::Column::Id))
            .col(text(cohort::Column::Code, 32).unique_key())
            .col(text(cohort::Column::Name, 200))
            .col(text(cohort::Column::OncotreeCode, 16))
            .col(text(cohort::Column::Gene, 16))
            .col(code::<AlterationClass>(cohort::Column::AlterationClass))
            .col(int(cohort::Column::DrugId))
            .col(int(cohort::Column::DesignR1))
            .col(int(cohort::Column::DesignN1))
            .col(int(cohort::Column::DesignR))
            .col(int(cohort::Column::DesignN))
            .col(code::<CohortStatus>(cohort::Column::Status))
            .col(date(cohort::Column::OpenedOn))
            .col(ColumnDef::new(cohort::Column::ClosedOn).date().null())
            .check(
                Expr::col(cohort::Column::DesignR1)
                    .gte(0)
                    .and(Expr::col(cohort::Column::DesignR1).lt(Expr::col(cohort::Column::DesignN1)))
                    .and(Expr::col(cohort::Column::DesignN1).lt(Expr::col(cohort::Column::DesignN)))
                    .and(Expr::col(cohort::Column::DesignR1).lte(Expr::col(cohort::Column::DesignR)))
                    .and(Expr::col(cohort::Column::DesignR).lt(Expr::col(cohort::Column::DesignN))),
            )
            .foreign_key(&mut fk(cohort::Entity, cohort::Column::DrugId, drug::Entity, drug::Column::Id))
            .to_owned(),
        Table::create()
            .table(mtb_review::Entity)
            .col(id(mtb_review::Column::Id))
            .col(int(mtb_review::Column::PatientId).unique_key())
            .col(date(mtb_review::Column::ReviewDate))
            .col(code::<MtbOutcome>(mtb_review::Column::Outcome))
            .col(ColumnDef::new(mtb_review::Column::RecommendedCohortId).integer().null())
            .col(optional_code::<EscatTier>(mtb_review::Column::EvidenceTier))
            .foreign_key(&mut fk(
                mtb_review::Entity,
                mtb_review::Column::PatientId,
                patient::Entity,
                patient::Column::Id,
            ))
            .foreign_key(&mut fk(
                mtb_review::Entity,
                mtb_review::Column::RecommendedCohortId,
                cohort::Entity,
                cohort::Column::Id,
            ))
            .to_owned(),
        Table::create()
            .table(enrolment::Entity)
            .col(id(enrolment::Column::Id))
            .col(int(enrolment::Column::PatientId).unique_key())
            .col(int(enrolment::Column::CohortId))
            .col(int(enrolment::Column::SiteId))
            .col(date(enrolment::Column::EnrolledOn))
            .col(code::<CohortStage>(enrolment::Column::CohortStage))
            .col(ColumnDef::new(enrolment::Column::TreatmentStart).date().null())
            .col(ColumnDef::new(enrolment::Column::TreatmentEnd).date().null())
            .col(optional_code::<TreatmentEndReason>(enrolment::Column::EndReason))
            .check(
                Expr::col(enrolment::Column::TreatmentEnd)
                    .is_null()
                    .or(Expr::col(enrolment::Column::TreatmentEnd).gte(Expr::col(enrolment::Column::TreatmentStart))),
            )
            .foreign_key(&mut fk(enrolment::Entity, enrolment::Column::PatientId, patient::Entity, patient::Column::Id))
            .foreign_key(&mut fk(enrolment::Entity, enrolment::Column::CohortId, cohort::Entity, cohort::Column::Id))
            .foreign_key(&mut fk(enrolment::Entity, enrolment::Column::SiteId, site::Entity, site::Column::Id))
            .to_owned(),
        Table::create()
            .table(ra::Entity)
            .col(id(ra::Column::Id))
            .col(int(ra::Column::EnrolmentId))
            .col(date(ra::Column::AssessmentDate))
            .col(int(ra::Column::StudyWeek).check(Expr::col(ra::Column::StudyWeek).gte(0)))
            .col(code::<ResponseCriteria>(ra::Column::Criteria))
            .col(code::<OverallResponse>(ra::Column::Response))
            .foreign_key(&mut fk(ra::Entity, ra::Column::EnrolmentId, enrolment::Entity, enrolment::Column::Id))
            .to_owned(),
        Table::create()
            .table(ae::Entity)
            .col(id(ae::Column::Id))
            .col(int(ae::Column::EnrolmentId))
            .col(text(ae::Column::CtcaeTerm, 100))
            .col(text(ae::Column::OrganClass, 100))
            .col(int(ae::Column::Grade).check(Expr::col(ae::Column::Grade).between(1, 5)))
            .col(date(ae::Column::OnsetDate))
            .col(boolean(ae::Column::Related))
            .col(boolean(ae::Column::Serious))
            .foreign_key(&mut fk(ae::Entity, ae::Column::EnrolmentId, enrolment::Entity, enrolment::Column::Id))
            .to_owned(),
        Table::create()
            .table(followup::Entity)
            .col(id(followup::Column::Id))
            .col(int(followup::Column::PatientId).unique_key())
            .col(code::<VitalStatus>(followup::Column::VitalStatus))
            .col(date(followup::Column::StatusDate))
            .col(ColumnDef::new(followup::Column::DeathDate).date().null())
            .col(code::<FollowupSource>(followup::Column::Source))
            .check(
                Expr::col(followup::Column::VitalStatus)
                    .eq("DEAD")
                    .and(Expr::col(followup::Column::DeathDate).is_not_null())
                    .or(Expr::col(followup::Column::VitalStatus)
                        .eq("ALIVE")
                        .and(Expr::col(followup::Column::DeathDate).is_null())),
            )
            .foreign_key(&mut fk(followup::Entity, followup::Column::PatientId, patient::Entity, patient::Column::Id))
            .to_owned(),
        Table::create()
            .table(data_version::Entity)
            .col(
                ColumnDef::new(data_version::Column::Id)
                    .integer()
                    .not_null()
                    .primary_key()
                    .check(Expr::col(data_version::Column::Id).eq(1)),
            )
            .col(ColumnDef::new(data_version::Column::Version).big_integer().not_null())
            .col(ColumnDef::new(data_version::Column::ChangedAt).timestamp_with_time_zone().not_null())
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create().name("ix_variant_profile").table(variant::Entity).col(variant::Column::ProfileId).to_owned(),
        Index::create()
            .name("ux_assessment_enrolment_date")
            .table(response_assessment::Entity)
            .col(response_assessment::Column::EnrolmentId)
            .col(response_assessment::Column::AssessmentDate)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_adverse_event_enrolment")
            .table(adverse_event::Entity)
            .col(adverse_event::Column::EnrolmentId)
            .to_owned(),
        Index::create()
            .name("ix_enrolment_cohort")
            .table(enrolment::Entity)
            .col(enrolment::Column::CohortId)
            .to_owned(),
        Index::create().name("ix_patient_site").table(patient::Entity).col(patient::Column::ReferringSiteId).to_owned(),
    ]
}
