//! A hand-written trial of twelve patients whose answers are worked out on paper.
//!
//! Cohort `K-BRAF` (default design 1/8 → 5/24, recorded `STAGE_1`); cohort `K-EMPTY`
//! with nobody. Everyone referred 2024-01-01, profiled (BRAF V600E, ESCAT I-A), reviewed
//! 2024-01-15. P1–P10 enrolled 2024-02-01; P1–P9 treated from 2024-02-01 (day 0);
//! P10 enrolled but never treated; P11 matched, not enrolled; P12 no match.
//!
//! | patient | assessments (week: response) | evaluable | benefit | PFS (days) |
//! |---|---|---|---|---|
//! | P1 | 8 SD, 16 SD, 24 PD | yes | yes | 168 event |
//! | P2 | 8 PD (died later) | yes | no | 56 event |
//! | P3 | 8 PR, 16 PR, 24 PR | yes | yes (PR) | 168 censored |
//! | P4 | 8 SD, 16 PD | yes | no | 112 event |
//! | P5 | 6 SD, stopped | no | no | 42 censored |
//! | P6 | none; died day 50 | yes (death before week 14) | no | 50 event |
//! | P7 | 8 SD, 16 CR | yes | yes (CR) | 112 censored |
//! | P8 | 8 SD, 15 SD | yes | yes | 105 censored |
//! | P9 | 8 NE, 16 SD | yes | yes | 112 censored |
//!
//! So: 9 treated, 8 evaluable, 5 benefits (DCR 5/8), objective responses 2/8; best
//! response among evaluable CR 1 (P7), PR 1 (P3), SD 4 (P1, P4, P8, P9), PD 1 (P2),
//! NE 1 (P6, never assessed). The 8 evaluable complete stage 1 with 5 benefits, already
//! more than r = 4 of 24: the data say "positive", while the recorded status says
//! stage 1 — a mismatch. PFS Kaplan–Meier (months =
//! days / 30.4375): S = 7/8 at 50 d, 3/4 at 56 d, 3/5 at 112 d (one event and two
//! censorings tied there), 3/10 at 168 d; median 168 d. Deaths: P6 (day 50), P2
//! (2024-06-01), P11 (2024-04-15). Adverse events: P1 diarrhoea grade 3 related and
//! again grade 1 (one patient), P2 fatigue grade 2 unrelated.

use chrono::NaiveDate;

use crate::helpers::{Backend, TestApp};
use consortium_entity::*;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set, TransactionTrait};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn plus(date: NaiveDate, days: i64) -> NaiveDate {
    date + chrono::Duration::days(days)
}

/// Seeds the trial above into an empty, migrated database and bumps the data version.
pub async fn seed(db: &DatabaseConnection) {
    let txn = db.begin().await.expect("begin");
    let hospital = partner::ActiveModel {
        code: Set("H".into()),
        name: Set("Hospital".into()),
        kind: Set(PartnerKind::Hospital),
        org_number: Set("900000001".into()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("hospital");
    let company = partner::ActiveModel {
        code: Set("C".into()),
        name: Set("Company".into()),
        kind: Set(PartnerKind::Industry),
        org_number: Set("900000002".into()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("company");
    let site = site::ActiveModel {
        code: Set("S1".into()),
        name: Set("Site one".into()),
        region: Set(HealthRegion::West),
        partner_id: Set(hospital.id),
        inpred_node: Set(true),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("site");
    let drug = drug::ActiveModel {
        code: Set("D".into()),
        name: Set("Drug".into()),
        mechanism: Set("BRAF inhibitor".into()),
        supplier_id: Set(company.id),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("drug");
    let mut cohorts = Vec::new();
    for code in ["K-BRAF", "K-EMPTY"] {
        let cohort = cohort::ActiveModel {
            code: Set(code.into()),
            name: Set(format!("Cohort {code}")),
            oncotree_code: Set("CHOL".into()),
            gene: Set("BRAF".into()),
            alteration_class: Set(AlterationClass::Mutation),
            drug_id: Set(drug.id),
            design_r1: Set(0),
            design_n1: Set(8),
            design_r: Set(4),
            design_n: Set(24),
            status: Set(CohortStatus::Stage1),
            opened_on: Set(day(2023, 12, 1)),
            closed_on: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("cohort");
        cohorts.push(cohort);
    }

    let start = day(2024, 2, 1);
    use OverallResponse::*;
    let courses: [&[(i32, OverallResponse)]; 9] = [
        &[(8, Sd), (16, Sd), (24, Pd)],
        &[(8, Pd)],
        &[(8, Pr), (16, Pr), (24, Pr)],
        &[(8, Sd), (16, Pd)],
        &[(6, Sd)],
        &[],
        &[(8, Sd), (16, Cr)],
        &[(8, Sd), (15, Sd)],
        &[(8, Ne), (16, Sd)],
    ];
    let deaths = [(2, day(2024, 6, 1)), (6, plus(start, 50)), (11, day(2024, 4, 15))];
    for n in 1..=12 {
        let patient = patient::ActiveModel {
            pseudonym: Set(format!("P{n}")),
            sex: Set(if n % 2 == 0 { Sex::Female } else { Sex::Male }),
            birth_year: Set(1960),
            region: Set(HealthRegion::West),
            referring_site_id: Set(site.id),
            referral_date: Set(day(2024, 1, 1)),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("patient");
        let profile = molecular_profile::ActiveModel {
            patient_id: Set(patient.id),
            sample_id: Set(format!("S{n}")),
            panel: Set("TSO500".into()),
            sequencing_site_id: Set(site.id),
            sample_date: Set(day(2024, 1, 5)),
            oncotree_code: Set("CHOL".into()),
            icd10: Set("C22".into()),
            tmb: Set(f64::from(n)),
            msi_status: Set(MsiStatus::Stable),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("profile");
        variant::ActiveModel {
            profile_id: Set(profile.id),
            gene: Set("BRAF".into()),
            alteration_class: Set(AlterationClass::Mutation),
            protein_change: Set(Some("p.V600E".into())),
            escat_tier: Set(EscatTier::IA),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("variant");
        mtb_review::ActiveModel {
            patient_id: Set(patient.id),
            review_date: Set(day(2024, 1, 15)),
            outcome: Set(if n == 12 { MtbOutcome::NoMatch } else { MtbOutcome::MatchedCohort }),
            recommended_cohort_id: Set((n <= 11).then_some(cohorts[0].id)),
            evidence_tier: Set((n <= 11).then_some(EscatTier::IA)),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("review");
        let death = deaths.iter().find(|(who, _)| *who == n).map(|(_, date)| *date);
        followup::ActiveModel {
            patient_id: Set(patient.id),
            vital_status: Set(if death.is_some() { VitalStatus::Dead } else { VitalStatus::Alive }),
            status_date: Set(death.unwrap_or(day(2026, 10, 1))),
            death_date: Set(death),
            source: Set(FollowupSource::Registry),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("follow-up");
        if n > 10 {
            continue;
        }
        let treated = n <= 9;
        let enrolment = enrolment::ActiveModel {
            patient_id: Set(patient.id),
            cohort_id: Set(cohorts[0].id),
            site_id: Set(site.id),
            enrolled_on: Set(start),
            cohort_stage: Set(CohortStage::Stage1),
            treatment_start: Set(treated.then_some(start)),
            treatment_end: Set(None),
            end_reason: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("enrolment");
        if !treated {
            continue;
        }
        for (week, response) in courses[(n - 1) as usize] {
            response_assessment::ActiveModel {
                enrolment_id: Set(enrolment.id),
                assessment_date: Set(plus(start, i64::from(*week) * 7)),
                study_week: Set(*week),
                criteria: Set(ResponseCriteria::Recist11),
                response: Set(*response),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("assessment");
        }
        let events: &[(&str, &str, i32, bool)] = match n {
            1 => &[
                ("Diarrhea", "Gastrointestinal disorders", 3, true),
                ("Diarrhea", "Gastrointestinal disorders", 1, true),
            ],
            2 => &[("Fatigue", "General disorders", 2, false)],
            _ => &[],
        };
        for (term, organ, grade, related) in events {
            adverse_event::ActiveModel {
                enrolment_id: Set(enrolment.id),
                ctcae_term: Set((*term).into()),
                organ_class: Set((*organ).into()),
                grade: Set(*grade),
                onset_date: Set(plus(start, 20)),
                related: Set(*related),
                serious: Set(*grade >= 3),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("adverse event");
        }
    }
    data_version::bump(&txn).await.expect("bump");
    txn.commit().await.expect("commit");
}

/// The service on `backend` serving the trial above.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let app = TestApp::spawn_with(backend, None).await?;
    seed(&app.db).await;
    app.state.refresh().await.expect("refresh the snapshot");
    Some(app)
}
