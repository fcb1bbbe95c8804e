//! The trial's initial schema: partners, sites, patients, profiles, variants, board
//! reviews, drugs, cohorts, enrolments, assessments, adverse events, follow-up and the
//! data version.

use crate::columns::{boolean, code, date, fk, id, int, optional_code, text};
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
            .into_table(DataVersion::Table)
            .columns([DataVersion::Id, DataVersion::Version, DataVersion::ChangedAt])
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
    vec![
        partner(),
        site(),
        patient(),
        molecular_profile(),
        variant(),
        drug(),
        cohort(),
        mtb_review(),
        enrolment(),
        response_assessment(),
        adverse_event(),
        followup(),
        data_version(),
    ]
}

fn partner() -> TableCreateStatement {
    Table::create()
        .table(Partner::Table)
        .col(id(Partner::Id))
        .col(text(Partner::Code, 32).unique_key())
        .col(text(Partner::Name, 200))
        .col(code(Partner::Kind, PARTNER_KINDS))
        .col(text(Partner::OrgNumber, 9).unique_key())
        .to_owned()
}

fn site() -> TableCreateStatement {
    Table::create()
        .table(Site::Table)
        .col(id(Site::Id))
        .col(text(Site::Code, 32).unique_key())
        .col(text(Site::Name, 200))
        .col(code(Site::Region, HEALTH_REGIONS))
        .col(int(Site::PartnerId))
        .col(boolean(Site::InpredNode))
        .foreign_key(&mut fk(Site::Table, Site::PartnerId, Partner::Table, Partner::Id))
        .to_owned()
}

fn patient() -> TableCreateStatement {
    Table::create()
        .table(Patient::Table)
        .col(id(Patient::Id))
        .col(text(Patient::Pseudonym, 32).unique_key())
        .col(code(Patient::Sex, SEXES))
        .col(int(Patient::BirthYear).check(Expr::col(Patient::BirthYear).between(1900, 2100)))
        .col(code(Patient::Region, HEALTH_REGIONS))
        .col(int(Patient::ReferringSiteId))
        .col(date(Patient::ReferralDate))
        .foreign_key(&mut fk(Patient::Table, Patient::ReferringSiteId, Site::Table, Site::Id))
        .to_owned()
}

fn molecular_profile() -> TableCreateStatement {
    Table::create()
        .table(MolecularProfile::Table)
        .col(id(MolecularProfile::Id))
        .col(int(MolecularProfile::PatientId).unique_key())
        .col(text(MolecularProfile::SampleId, 32).unique_key())
        .col(text(MolecularProfile::Panel, 32))
        .col(int(MolecularProfile::SequencingSiteId))
        .col(date(MolecularProfile::SampleDate))
        .col(text(MolecularProfile::OncotreeCode, 16))
        .col(text(MolecularProfile::Icd10, 8))
        .col(ColumnDef::new(MolecularProfile::Tmb).double().not_null().check(Expr::col(MolecularProfile::Tmb).gte(0)))
        .col(code(MolecularProfile::MsiStatus, MSI_STATUSES))
        .foreign_key(&mut fk(MolecularProfile::Table, MolecularProfile::PatientId, Patient::Table, Patient::Id))
        .foreign_key(&mut fk(MolecularProfile::Table, MolecularProfile::SequencingSiteId, Site::Table, Site::Id))
        .to_owned()
}

fn variant() -> TableCreateStatement {
    Table::create()
        .table(Variant::Table)
        .col(id(Variant::Id))
        .col(int(Variant::ProfileId))
        .col(text(Variant::Gene, 16))
        .col(code(Variant::AlterationClass, ALTERATION_CLASSES))
        .col(ColumnDef::new(Variant::ProteinChange).string_len(64).null())
        .col(code(Variant::EscatTier, ESCAT_TIERS))
        .foreign_key(&mut fk(Variant::Table, Variant::ProfileId, MolecularProfile::Table, MolecularProfile::Id))
        .to_owned()
}

fn drug() -> TableCreateStatement {
    Table::create()
        .table(Drug::Table)
        .col(id(Drug::Id))
        .col(text(Drug::Code, 32).unique_key())
        .col(text(Drug::Name, 200))
        .col(text(Drug::Mechanism, 200))
        .col(int(Drug::SupplierId))
        .foreign_key(&mut fk(Drug::Table, Drug::SupplierId, Partner::Table, Partner::Id))
        .to_owned()
}

fn cohort() -> TableCreateStatement {
    Table::create()
        .table(Cohort::Table)
        .col(id(Cohort::Id))
        .col(text(Cohort::Code, 32).unique_key())
        .col(text(Cohort::Name, 200))
        .col(text(Cohort::OncotreeCode, 16))
        .col(text(Cohort::Gene, 16))
        .col(code(Cohort::AlterationClass, ALTERATION_CLASSES))
        .col(int(Cohort::DrugId))
        .col(int(Cohort::DesignR1))
        .col(int(Cohort::DesignN1))
        .col(int(Cohort::DesignR))
        .col(int(Cohort::DesignN))
        .col(code(Cohort::Status, COHORT_STATUSES))
        .col(date(Cohort::OpenedOn))
        .col(ColumnDef::new(Cohort::ClosedOn).date().null())
        .check(
            Expr::col(Cohort::DesignR1)
                .gte(0)
                .and(Expr::col(Cohort::DesignR1).lt(Expr::col(Cohort::DesignN1)))
                .and(Expr::col(Cohort::DesignN1).lt(Expr::col(Cohort::DesignN)))
                .and(Expr::col(Cohort::DesignR1).lte(Expr::col(Cohort::DesignR)))
                .and(Expr::col(Cohort::DesignR).lt(Expr::col(Cohort::DesignN))),
        )
        .foreign_key(&mut fk(Cohort::Table, Cohort::DrugId, Drug::Table, Drug::Id))
        .to_owned()
}

fn mtb_review() -> TableCreateStatement {
    Table::create()
        .table(MtbReview::Table)
        .col(id(MtbReview::Id))
        .col(int(MtbReview::PatientId).unique_key())
        .col(date(MtbReview::ReviewDate))
        .col(code(MtbReview::Outcome, MTB_OUTCOMES))
        .col(ColumnDef::new(MtbReview::RecommendedCohortId).integer().null())
        .col(optional_code(MtbReview::EvidenceTier, ESCAT_TIERS))
        .foreign_key(&mut fk(MtbReview::Table, MtbReview::PatientId, Patient::Table, Patient::Id))
        .foreign_key(&mut fk(MtbReview::Table, MtbReview::RecommendedCohortId, Cohort::Table, Cohort::Id))
        .to_owned()
}

fn enrolment() -> TableCreateStatement {
    Table::create()
        .table(Enrolment::Table)
        .col(id(Enrolment::Id))
        .col(int(Enrolment::PatientId).unique_key())
        .col(int(Enrolment::CohortId))
        .col(int(Enrolment::SiteId))
        .col(date(Enrolment::EnrolledOn))
        .col(code(Enrolment::CohortStage, COHORT_STAGES))
        .col(ColumnDef::new(Enrolment::TreatmentStart).date().null())
        .col(ColumnDef::new(Enrolment::TreatmentEnd).date().null())
        .col(optional_code(Enrolment::EndReason, TREATMENT_END_REASONS))
        .check(
            Expr::col(Enrolment::TreatmentEnd)
                .is_null()
                .or(Expr::col(Enrolment::TreatmentEnd).gte(Expr::col(Enrolment::TreatmentStart))),
        )
        .foreign_key(&mut fk(Enrolment::Table, Enrolment::PatientId, Patient::Table, Patient::Id))
        .foreign_key(&mut fk(Enrolment::Table, Enrolment::CohortId, Cohort::Table, Cohort::Id))
        .foreign_key(&mut fk(Enrolment::Table, Enrolment::SiteId, Site::Table, Site::Id))
        .to_owned()
}

fn response_assessment() -> TableCreateStatement {
    Table::create()
        .table(ResponseAssessment::Table)
        .col(id(ResponseAssessment::Id))
        .col(int(ResponseAssessment::EnrolmentId))
        .col(date(ResponseAssessment::AssessmentDate))
        .col(int(ResponseAssessment::StudyWeek).check(Expr::col(ResponseAssessment::StudyWeek).gte(0)))
        .col(code(ResponseAssessment::Criteria, RESPONSE_CRITERIA))
        .col(code(ResponseAssessment::Response, OVERALL_RESPONSES))
        .foreign_key(&mut fk(
            ResponseAssessment::Table,
            ResponseAssessment::EnrolmentId,
            Enrolment::Table,
            Enrolment::Id,
        ))
        .to_owned()
}

fn adverse_event() -> TableCreateStatement {
    Table::create()
        .table(AdverseEvent::Table)
        .col(id(AdverseEvent::Id))
        .col(int(AdverseEvent::EnrolmentId))
        .col(text(AdverseEvent::CtcaeTerm, 100))
        .col(text(AdverseEvent::OrganClass, 100))
        .col(int(AdverseEvent::Grade).check(Expr::col(AdverseEvent::Grade).between(1, 5)))
        .col(date(AdverseEvent::OnsetDate))
        .col(boolean(AdverseEvent::Related))
        .col(boolean(AdverseEvent::Serious))
        .foreign_key(&mut fk(AdverseEvent::Table, AdverseEvent::EnrolmentId, Enrolment::Table, Enrolment::Id))
        .to_owned()
}

fn followup() -> TableCreateStatement {
    Table::create()
        .table(Followup::Table)
        .col(id(Followup::Id))
        .col(int(Followup::PatientId).unique_key())
        .col(code(Followup::VitalStatus, VITAL_STATUSES))
        .col(date(Followup::StatusDate))
        .col(ColumnDef::new(Followup::DeathDate).date().null())
        .col(code(Followup::Source, FOLLOWUP_SOURCES))
        .check(
            Expr::col(Followup::VitalStatus)
                .eq("DEAD")
                .and(Expr::col(Followup::DeathDate).is_not_null())
                .or(Expr::col(Followup::VitalStatus).eq("ALIVE").and(Expr::col(Followup::DeathDate).is_null())),
        )
        .foreign_key(&mut fk(Followup::Table, Followup::PatientId, Patient::Table, Patient::Id))
        .to_owned()
}

fn data_version() -> TableCreateStatement {
    Table::create()
        .table(DataVersion::Table)
        .col(ColumnDef::new(DataVersion::Id).integer().not_null().primary_key().check(Expr::col(DataVersion::Id).eq(1)))
        .col(ColumnDef::new(DataVersion::Version).big_integer().not_null())
        .col(ColumnDef::new(DataVersion::ChangedAt).timestamp_with_time_zone().not_null())
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create().name("ix_variant_profile").table(Variant::Table).col(Variant::ProfileId).to_owned(),
        Index::create()
            .name("ux_assessment_enrolment_date")
            .table(ResponseAssessment::Table)
            .col(ResponseAssessment::EnrolmentId)
            .col(ResponseAssessment::AssessmentDate)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_adverse_event_enrolment")
            .table(AdverseEvent::Table)
            .col(AdverseEvent::EnrolmentId)
            .to_owned(),
        Index::create().name("ix_enrolment_cohort").table(Enrolment::Table).col(Enrolment::CohortId).to_owned(),
        Index::create().name("ix_patient_site").table(Patient::Table).col(Patient::ReferringSiteId).to_owned(),
    ]
}

/// Kinds of consortium member (`partner.kind`).
const PARTNER_KINDS: &[&str] = &["HOSPITAL", "REGISTRY", "INDUSTRY", "ACADEMIC"];

/// Regional health authorities (`site.region`, `patient.region`).
const HEALTH_REGIONS: &[&str] = &["SOUTH_EAST", "WEST", "CENTRAL", "NORTH"];

/// Recorded sexes (`patient.sex`).
const SEXES: &[&str] = &["FEMALE", "MALE"];

/// Microsatellite instability statuses (`molecular_profile.msi_status`).
const MSI_STATUSES: &[&str] = &["MSS", "MSI_HIGH", "INDETERMINATE"];

/// Alteration classes (`variant.alteration_class`, `cohort.alteration_class`).
const ALTERATION_CLASSES: &[&str] =
    &["MUTATION", "AMPLIFICATION", "FUSION", "DELETION", "BIALLELIC_LOSS", "MSI_HIGH", "TMB_HIGH"];

/// ESCAT tiers (`variant.escat_tier`, `mtb_review.evidence_tier`).
const ESCAT_TIERS: &[&str] = &["I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV-A", "X"];

/// Tumour board outcomes (`mtb_review.outcome`).
const MTB_OUTCOMES: &[&str] = &["MATCHED_COHORT", "OTHER_TRIAL", "EARLY_ACCESS", "NO_MATCH"];

/// Cohort statuses (`cohort.status`).
const COHORT_STATUSES: &[&str] =
    &["STAGE_1", "STAGE_2", "EXPANSION", "CLOSED_FUTILITY", "CLOSED_NEGATIVE", "CLOSED_OTHER"];

/// Cohort stages (`enrolment.cohort_stage`).
const COHORT_STAGES: &[&str] = &["STAGE_1", "STAGE_2", "EXPANSION"];

/// Reasons treatment ended (`enrolment.end_reason`).
const TREATMENT_END_REASONS: &[&str] = &["PROGRESSION", "TOXICITY", "DEATH", "WITHDRAWAL", "COMPLETED", "OTHER"];

/// Response criteria (`response_assessment.criteria`).
const RESPONSE_CRITERIA: &[&str] = &["RECIST_1_1", "RANO", "LUGANO", "IWCLL", "IMWG"];

/// Overall responses (`response_assessment.response`).
const OVERALL_RESPONSES: &[&str] = &["CR", "PR", "SD", "PD", "NE"];

/// Vital statuses (`followup.vital_status`).
const VITAL_STATUSES: &[&str] = &["ALIVE", "DEAD"];

/// Reporters of a follow-up status (`followup.source`).
const FOLLOWUP_SOURCES: &[&str] = &["REGISTRY", "SITE"];

/// The `partner` table.
#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
    Code,
    Name,
    Kind,
    OrgNumber,
}

/// The `site` table.
#[derive(DeriveIden)]
enum Site {
    Table,
    Id,
    Code,
    Name,
    Region,
    PartnerId,
    InpredNode,
}

/// The `patient` table.
#[derive(DeriveIden)]
enum Patient {
    Table,
    Id,
    Pseudonym,
    Sex,
    BirthYear,
    Region,
    ReferringSiteId,
    ReferralDate,
}

/// The `molecular_profile` table.
#[derive(DeriveIden)]
enum MolecularProfile {
    Table,
    Id,
    PatientId,
    SampleId,
    Panel,
    SequencingSiteId,
    SampleDate,
    OncotreeCode,
    Icd10,
    Tmb,
    MsiStatus,
}

/// The `variant` table.
#[derive(DeriveIden)]
enum Variant {
    Table,
    Id,
    ProfileId,
    Gene,
    AlterationClass,
    ProteinChange,
    EscatTier,
}

/// The `drug` table.
#[derive(DeriveIden)]
enum Drug {
    Table,
    Id,
    Code,
    Name,
    Mechanism,
    SupplierId,
}

/// The `cohort` table.
#[derive(DeriveIden)]
enum Cohort {
    Table,
    Id,
    Code,
    Name,
    OncotreeCode,
    Gene,
    AlterationClass,
    DrugId,
    DesignR1,
    DesignN1,
    DesignR,
    DesignN,
    Status,
    OpenedOn,
    ClosedOn,
}

/// The `mtb_review` table.
#[derive(DeriveIden)]
enum MtbReview {
    Table,
    Id,
    PatientId,
    ReviewDate,
    Outcome,
    RecommendedCohortId,
    EvidenceTier,
}

/// The `enrolment` table.
#[derive(DeriveIden)]
enum Enrolment {
    Table,
    Id,
    PatientId,
    CohortId,
    SiteId,
    EnrolledOn,
    CohortStage,
    TreatmentStart,
    TreatmentEnd,
    EndReason,
}

/// The `response_assessment` table.
#[derive(DeriveIden)]
enum ResponseAssessment {
    Table,
    Id,
    EnrolmentId,
    AssessmentDate,
    StudyWeek,
    Criteria,
    Response,
}

/// The `adverse_event` table.
#[derive(DeriveIden)]
enum AdverseEvent {
    Table,
    Id,
    EnrolmentId,
    CtcaeTerm,
    OrganClass,
    Grade,
    OnsetDate,
    Related,
    Serious,
}

/// The `followup` table.
#[derive(DeriveIden)]
enum Followup {
    Table,
    Id,
    PatientId,
    VitalStatus,
    StatusDate,
    DeathDate,
    Source,
}

/// The `data_version` table.
#[derive(DeriveIden)]
enum DataVersion {
    Table,
    Id,
    Version,
    ChangedAt,
}
