//! Hand-written trials for the tests of the measures: [`TrialRows`] from literal rows
//! built into a [`Snapshot`] without a database ([`Trial`], [`dozen`]), and snapshots of
//! hand-made frames ([`frames`]).

use chrono::NaiveDate;
use consortium_entity::{
    cohort, drug, partner, site, AlterationClass, CohortStage, CohortStatus, EscatTier, HealthRegion, MsiStatus,
    MtbOutcome, OverallResponse, PartnerKind, Sex,
};
use polars::prelude::DataFrame;

use crate::catalogue::Catalogue;
use crate::dimension::day_number;
use crate::endpoints::EndpointRules;
use crate::rows::{AssessmentRow, EnrolmentRow, FollowupRow, PatientRow, ProfileRow, ReviewRow, TrialRows, VariantRow};
use crate::snapshot::Snapshot;

/// A snapshot of hand-made frames: `patients`, and the other frames empty (set them
/// with struct update syntax).
pub(crate) fn frames(patients: DataFrame) -> Snapshot {
    let trial_months = crate::snapshot::trial_months(&patients).expect("day columns of i32");
    Snapshot {
        version: 1,
        built_at: chrono::Utc::now(),
        catalogue: Catalogue { trial_months, ..Catalogue::default() },
        patients,
        variants: DataFrame::empty(),
        assessments: DataFrame::empty(),
        adverse_events: DataFrame::empty(),
    }
}

/// The date `day` days after 2023-01-02, the fixtures' day 0; negative days are before.
pub(crate) fn date(day: i32) -> NaiveDate {
    let origin = NaiveDate::from_ymd_opt(2023, 1, 2).expect("valid date");
    origin + chrono::Duration::days(i64::from(day))
}

/// The snapshot day number of a fixture day.
pub(crate) fn day(day: i32) -> i32 {
    day_number(date(day))
}

/// A trial being written row by row. Every enrolment's id is its patient's id, and so
/// is every profile's.
pub(crate) struct Trial {
    rows: TrialRows,
}

impl Trial {
    /// An empty trial with two industry partners (ids 1, 2), each supplying one drug
    /// (drug 1 from partner 1, drug 2 from partner 2).
    pub(crate) fn new() -> Self {
        let mut catalogue = Catalogue::default();
        catalogue.sites.insert(
            1,
            site::Model {
                id: 1,
                code: "S1".into(),
                name: "Site 1".into(),
                region: HealthRegion::SouthEast,
                partner_id: 1,
                inpred_node: true,
            },
        );
        for id in [1, 2] {
            catalogue.partners.insert(
                id,
                partner::Model {
                    id,
                    code: format!("P{id}"),
                    name: format!("Partner {id}"),
                    kind: PartnerKind::Industry,
                    org_number: format!("99999999{id}"),
                    scopes: None,
                },
            );
            catalogue.drugs.insert(
                id,
                drug::Model {
                    id,
                    code: format!("D{id}"),
                    name: format!("Drug {id}"),
                    mechanism: "kinase inhibitor".into(),
                    supplier_id: id,
                },
            );
        }
        Self { rows: TrialRows { version: 1, catalogue, ..TrialRows::default() } }
    }

    /// A cohort on `gene` with alteration `class`, treated with `drug`, monitored with
    /// the design `[r1, n1, r, n]`, with the recorded `status`.
    pub(crate) fn cohort(
        mut self,
        id: i32,
        gene: &str,
        class: AlterationClass,
        drug: i32,
        design: [i32; 4],
        status: CohortStatus,
    ) -> Self {
        let model = cohort::Model {
            id,
            code: format!("C{id}"),
            name: format!("Cohort {id}"),
            oncotree_code: "CHOL".into(),
            gene: gene.into(),
            alteration_class: class,
            drug_id: drug,
            design_r1: design[0],
            design_n1: design[1],
            design_r: design[2],
            design_n: design[3],
            status,
            opened_on: date(0),
            closed_on: None,
        };
        self.rows.catalogue.cohorts.insert(id, model);
        self
    }

    /// A patient referred on day 0, born 1960, female unless `male`.
    pub(crate) fn patient(mut self, id: i32, male: bool) -> Self {
        let sex = if male { Sex::Male } else { Sex::Female };
        self.rows.patients.push(PatientRow {
            id,
            sex,
            birth_year: 1960,
            region: HealthRegion::SouthEast,
            referring_site: 1,
            referral_date: date(0),
        });
        self
    }

    /// A colorectal profile of `patient` with its variants (gene, class, tier).
    pub(crate) fn profile(mut self, patient: i32, variants: &[(&str, AlterationClass, EscatTier)]) -> Self {
        let profile = ProfileRow {
            id: patient,
            patient_id: patient,
            oncotree_code: "COADREAD".into(),
            tmb: 4.0,
            msi: MsiStatus::Stable,
        };
        self.rows.profiles.push(profile);
        for (gene, class, tier) in variants {
            let variant =
                VariantRow { profile_id: patient, gene: (*gene).into(), alteration_class: *class, escat_tier: *tier };
            self.rows.variants.push(variant);
        }
        self
    }

    /// The tumour board's review of `patient` on `day`.
    pub(crate) fn review(mut self, patient: i32, day: i32, outcome: MtbOutcome) -> Self {
        self.rows.reviews.push(ReviewRow { patient_id: patient, date: date(day), outcome });
        self
    }

    /// Enrols `patient` in `cohort` on `day`, starting treatment on `start` if given.
    pub(crate) fn enrol(mut self, patient: i32, cohort: i32, day: i32, start: Option<i32>) -> Self {
        let start = start.map(date);
        self.rows.enrolments.push(EnrolmentRow {
            id: patient,
            patient_id: patient,
            cohort_id: cohort,
            site_id: 1,
            enrolled_on: date(day),
            stage: CohortStage::Stage1,
            treatment_start: start,
        });
        self
    }

    /// A patient matched, enrolled a week before and treated from `start`: the common
    /// case, in one call.
    pub(crate) fn treated(self, patient: i32, cohort: i32, start: i32) -> Self {
        self.patient(patient, false).review(patient, start - 14, MtbOutcome::MatchedCohort).enrol(
            patient,
            cohort,
            start - 7,
            Some(start),
        )
    }

    /// A response assessment of `patient` at study `week`, dated `week` weeks after
    /// the treatment start of the patient's enrolment.
    pub(crate) fn assess(mut self, patient: i32, week: i32, response: OverallResponse) -> Self {
        let enrolment = self.rows.enrolments.iter().find(|e| e.patient_id == patient);
        let start = enrolment.and_then(|e| e.treatment_start).unwrap_or(date(0));
        let when = start + chrono::Duration::weeks(i64::from(week));
        self.rows.assessments.push(AssessmentRow { enrolment_id: patient, study_week: week, response, date: when });
        self
    }

    /// Follow-up of `patient`: alive on `status_day`, or dead on `death_day`.
    pub(crate) fn follow(mut self, patient: i32, status_day: i32, death_day: Option<i32>) -> Self {
        let followup =
            FollowupRow { patient_id: patient, status_date: date(status_day), death_date: death_day.map(date) };
        self.rows.followups.push(followup);
        self
    }

    /// The snapshot, with the default endpoint rules.
    pub(crate) fn build(self) -> Snapshot {
        Snapshot::build(self.rows, EndpointRules::default()).expect("the fixture builds")
    }
}

/// A dozen patients whose endpoints the tests of every measure compute by hand
/// (days are fixture days; treated patients start on day 100 unless noted):
///
/// | id | who | course | evaluable / benefit / BOR | PFS days | OS days |
/// |----|-----|--------|---------------------------|----------|---------|
/// | 1  | cohort 1 | SD w8, SD w16, PD w24; alive at 400 | yes / yes / SD | 168 event | 300 cens. |
/// | 2  | cohort 1, male | PR w8, CR w16, CR w24; alive at 500 | yes / yes / CR | 168 cens. | 400 cens. |
/// | 3  | cohort 1 | PD w8; died 190 | yes / no / PD | 56 event | 90 event |
/// | 4  | cohort 1 | no assessment; died 160 | yes / no / none (NE) | 60 event | 60 event |
/// | 5  | cohort 1 | SD w6, stopped; alive at 300 | no | 42 cens. | 200 cens. |
/// | 6  | cohort 2, male | SD w8, PR w15, PD w19; died 400 | yes / yes / PR | 133 event | 300 event |
/// | 7  | cohort 2 | PD w8; alive at 250 | yes / no / PD | 56 event | 150 cens. |
/// | 8  | cohort 2, enrolled, never treated; matched 50; died 300 | | | – | 250 event (from review) |
/// | 9  | matched 60, not enrolled; alive at 460 | | | – | 400 cens. (from review) |
/// | 10 | reviewed 70, no match; died 170 | | | – | 100 event (from review) |
/// | 11 | profiled, never reviewed; alive at 500 | | | – | – |
/// | 12 | cohort 2, enrolled 400 (2024), started 410; nothing since | no | 0 cens. | 0 cens. |
/// | 13 | cohort 3 | PD w8; alive at 300 | yes / no / PD | 56 event | 200 cens. |
///
/// Cohort 1 targets a BRAF mutation (drug 1), cohort 2 a RET fusion (drug 2), cohort 3
/// an ERBB2 amplification (drug 2). Patient 1's own variant is a fusion (the cohort's
/// class wins); patient 9's primary variant is an ERBB2 amplification at tier II-A
/// (beating a KRAS mutation at III-B); patient 10 has only a tier IV-A variant.
pub(crate) fn dozen() -> Snapshot {
    use AlterationClass::*;
    use OverallResponse::*;
    let design = [0, 8, 4, 24];
    Trial::new()
        .cohort(1, "BRAF", Mutation, 1, design, CohortStatus::Stage1)
        .cohort(2, "RET", Fusion, 2, design, CohortStatus::Stage1)
        .cohort(3, "ERBB2", Amplification, 2, design, CohortStatus::Stage1)
        .treated(1, 1, 100)
        .profile(1, &[("BRAF", Fusion, EscatTier::IA)])
        .assess(1, 8, Sd)
        .assess(1, 16, Sd)
        .assess(1, 24, Pd)
        .follow(1, 400, None)
        .patient(2, true)
        .review(2, 86, MtbOutcome::MatchedCohort)
        .enrol(2, 1, 93, Some(100))
        .assess(2, 8, Pr)
        .assess(2, 16, Cr)
        .assess(2, 24, Cr)
        .follow(2, 500, None)
        .treated(3, 1, 100)
        .assess(3, 8, Pd)
        .follow(3, 190, Some(190))
        .treated(4, 1, 100)
        .follow(4, 160, Some(160))
        .treated(5, 1, 100)
        .assess(5, 6, Sd)
        .follow(5, 300, None)
        .patient(6, true)
        .review(6, 86, MtbOutcome::MatchedCohort)
        .enrol(6, 2, 93, Some(100))
        .assess(6, 8, Sd)
        .assess(6, 15, Pr)
        .assess(6, 19, Pd)
        .follow(6, 400, Some(400))
        .treated(7, 2, 100)
        .assess(7, 8, Pd)
        .follow(7, 250, None)
        .patient(8, false)
        .review(8, 50, MtbOutcome::MatchedCohort)
        .enrol(8, 2, 57, None)
        .follow(8, 300, Some(300))
        .patient(9, false)
        .profile(9, &[("KRAS", Mutation, EscatTier::IIIB), ("ERBB2", Amplification, EscatTier::IIA)])
        .review(9, 60, MtbOutcome::MatchedCohort)
        .follow(9, 460, None)
        .patient(10, false)
        .profile(10, &[("TP53", Mutation, EscatTier::IVA)])
        .review(10, 70, MtbOutcome::NoMatch)
        .follow(10, 170, Some(170))
        .patient(11, false)
        .profile(11, &[])
        .follow(11, 500, None)
        .patient(12, false)
        .review(12, 393, MtbOutcome::MatchedCohort)
        .enrol(12, 2, 400, Some(410))
        .treated(13, 3, 100)
        .assess(13, 8, Pd)
        .follow(13, 300, None)
        .build()
}
