//! Monitoring of every cohort under its two-stage rule: the decision the data support,
//! next to the status on record, so that a mismatch is visible.
//!
//! A cohort's evaluable patients enter its rule in order of evaluation (the day their
//! week-16 endpoint was settled; patients evaluated on the same day in the order they
//! were registered, their patient id, which the first import of their demographics
//! gives, so the order never depends on how rows happen to be stored or read): stage 1
//! is the first `n1`, stage 2 the next `n − n1`,
//! and everyone after is the expansion cohort. In an expansion cohort the health
//! authorities pay for the drug only for patients with benefit, so the benefit count of
//! the expansion stage is reported with the supplier it concerns.

use std::collections::BTreeMap;

use consortium_entity::CohortStatus;
use polars::prelude::*;

use crate::cells::{PatientSet, Rate};
use crate::error::AnalyticsError;
use crate::snapshot::Snapshot;
pub use crate::stats::{Decision, OperatingCharacteristics, Proportion, SimonDesign};

/// Evaluable patients of one stage and how many of them have clinical benefit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StageCounts {
    /// Evaluable patients in the stage.
    pub evaluable: PatientSet,
    /// Of those, with clinical benefit at week 16.
    pub benefits: PatientSet,
}

/// One cohort's progress through its two-stage rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortMonitoring {
    /// The cohort.
    pub cohort_id: i32,
    /// Its study drug.
    pub drug_id: i32,
    /// The industry partner supplying the drug (`None` if the drug is not in the
    /// catalogue).
    pub supplier_id: Option<i32>,
    /// The design on the cohort's record.
    pub design: SimonDesign,
    /// The status on record.
    pub status: CohortStatus,
    /// The decision the evaluable patients support under the design.
    pub decision: Decision,
    /// Whether the recorded status is the one the decision calls for (see
    /// [`status_agrees`]).
    pub status_agrees: bool,
    /// Patients enrolled in the cohort.
    pub enrolled: PatientSet,
    /// Of those, treated.
    pub treated: PatientSet,
    /// The first `n1` evaluable patients.
    pub stage1: StageCounts,
    /// The evaluable patients `n1 + 1 ..= n`.
    pub stage2: StageCounts,
    /// The evaluable patients after the `n`-th.
    pub expansion: StageCounts,
    /// Clinical benefit over every evaluable patient (all stages) with its exact 95%
    /// interval; `None` while no patient is evaluable.
    pub benefit_rate: Option<Rate>,
    /// For a cohort recorded as in expansion, the patients with benefit in the expansion
    /// stage: those the health authorities pay for (pay-for-performance); `None` otherwise.
    pub expansion_benefits: Option<PatientSet>,
}

/// Whether a recorded status is the one a decision calls for, given `evaluable`
/// patients so far: stage 1 while stage 1 is recruiting; stage 2 once it is passed and
/// while stage 2 recruits; expansion when positive; the matching closure when futile or
/// negative. A cohort closed for another reason (supply, accrual, safety) agrees with
/// any decision.
///
/// A stage is run to its planned size: a cohort may stay in stage 1 after the rule is
/// already met early (one benefit among the first few) until its `n1` patients are
/// evaluable, and in stage 2 after an early positive until `n` are. Those are not
/// mismatches; staying on once the stage is complete is.
pub fn status_agrees(status: CohortStatus, decision: Decision, evaluable: u64, design: &SimonDesign) -> bool {
    match status {
        // Stage 1 runs to its n1 patients whatever the first of them show.
        CohortStatus::Stage1 => matches!(decision, Decision::RecruitingStage1 { .. }) || evaluable < design.n1(),
        // Stage 2 runs to its n patients once stage 1 is passed, even when the final
        // rule is already met (or out of reach) early.
        CohortStatus::Stage2 => match decision {
            Decision::ContinueToStage2 | Decision::RecruitingStage2 { .. } => true,
            Decision::Positive | Decision::Negative => evaluable < design.n(),
            Decision::RecruitingStage1 { .. } | Decision::ClosedForFutility => false,
        },
        CohortStatus::Expansion => decision == Decision::Positive,
        CohortStatus::ClosedFutility => decision == Decision::ClosedForFutility,
        CohortStatus::ClosedNegative => decision == Decision::Negative,
        CohortStatus::ClosedOther => true,
    }
}

/// Enrolment of one cohort while the patient rows are read.
#[derive(Default)]
struct Tally {
    enrolled: Vec<u32>,
    treated: Vec<u32>,
    /// Each evaluable patient and whether they had benefit, in order of evaluation.
    outcomes: Vec<(u32, bool)>,
}

/// Every cohort of the catalogue, in id order, with its monitoring (cohorts without
/// patients included).
///
/// # Errors
///
/// [`AnalyticsError::Compute`] when a cohort's recorded design is not a two-stage design,
/// which the database's constraints rule out.
pub fn cohort_monitoring(snapshot: &Snapshot) -> Result<Vec<CohortMonitoring>, AnalyticsError> {
    let order = SortMultipleOptions::default().with_nulls_last(true);
    let rows = snapshot
        .patients
        .clone()
        .lazy()
        .filter(col("enrolled").and(col("cohort").is_not_null()))
        .select([
            col("cohort"),
            col("treated"),
            col("evaluable"),
            col("benefit"),
            col("evaluated_day"),
            col("patient_id"),
        ])
        .sort(["cohort", "evaluated_day", "patient_id"], order)
        .collect()?;
    let cohort = rows.column("cohort")?.i32()?;
    let treated = rows.column("treated")?.bool()?;
    let evaluable = rows.column("evaluable")?.bool()?;
    let benefit = rows.column("benefit")?.bool()?;
    let patient = rows.column("patient_id")?.i32()?;

    let mut tallies: BTreeMap<i32, Tally> = BTreeMap::new();
    for row in 0..rows.height() {
        let (Some(id), Some(patient)) = (cohort.get(row), patient.get(row).and_then(|p| u32::try_from(p).ok())) else {
            continue;
        };
        let tally = tallies.entry(id).or_default();
        tally.enrolled.push(patient);
        if treated.get(row).unwrap_or(false) {
            tally.treated.push(patient);
        }
        if evaluable.get(row).unwrap_or(false) {
            tally.outcomes.push((patient, benefit.get(row).unwrap_or(false)));
        }
    }

    let catalogue = &snapshot.catalogue;
    catalogue
        .cohorts
        .values()
        .map(|c| {
            let design = design_of(c.design_r1, c.design_n1, c.design_r, c.design_n)
                .map_err(|e| compute_error(format!("cohort {}: {e}", c.code)))?;
            let tally = tallies.remove(&c.id).unwrap_or_default();
            let in_order: Vec<bool> = tally.outcomes.iter().map(|(_, benefit)| *benefit).collect();
            let decision = design.decide_in_order(&in_order);
            let (n1, n) = (to_usize(design.n1()), to_usize(design.n()));
            let stage = |from: usize, to: usize| {
                let outcomes = tally.outcomes.get(from.min(tally.outcomes.len())..to.min(tally.outcomes.len()));
                let outcomes = outcomes.unwrap_or_default();
                StageCounts {
                    evaluable: outcomes.iter().map(|(p, _)| *p).collect(),
                    benefits: outcomes.iter().filter(|(_, b)| *b).map(|(p, _)| *p).collect(),
                }
            };
            let (stage1, stage2, expansion) = (stage(0, n1), stage(n1, n), stage(n, usize::MAX));
            let all = stage(0, usize::MAX);
            Ok(CohortMonitoring {
                cohort_id: c.id,
                drug_id: c.drug_id,
                supplier_id: catalogue.drugs.get(&c.drug_id).map(|d| d.supplier_id),
                design,
                status: c.status,
                decision,
                status_agrees: status_agrees(c.status, decision, tally.outcomes.len() as u64, &design),
                enrolled: PatientSet::new(tally.enrolled),
                treated: PatientSet::new(tally.treated),
                expansion_benefits: (c.status == CohortStatus::Expansion).then(|| expansion.benefits.clone()),
                stage1,
                stage2,
                expansion,
                benefit_rate: Rate::of(all.benefits, all.evaluable)?,
            })
        })
        .collect()
}

/// The design of a cohort row's four integers.
fn design_of(r1: i32, n1: i32, r: i32, n: i32) -> Result<SimonDesign, String> {
    let count = |v: i32| u64::try_from(v).map_err(|_| format!("negative design parameter {v}"));
    SimonDesign::new(count(r1)?, count(n1)?, count(r)?, count(n)?).map_err(|e| e.to_string())
}

/// A stage boundary as an index; a design larger than memory cannot hold more patients
/// than exist, so saturating is exact.
fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn compute_error(message: String) -> AnalyticsError {
    AnalyticsError::Compute(PolarsError::ComputeError(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Trial;
    use consortium_entity::{AlterationClass, OverallResponse};

    /// Cohort 10: 8 patients with PD at week 8 (0 of 8). Cohort 11, design 0/2, 1/4: six
    /// evaluable patients (see the test). Cohort 12: recorded in stage 2, nobody
    /// evaluable. Cohort 13: closed for another reason, one benefit.
    fn trial() -> Snapshot {
        use OverallResponse::*;
        let mut t = Trial::new()
            .cohort(10, "BRAF", AlterationClass::Mutation, 1, [0, 8, 4, 24], CohortStatus::ClosedFutility)
            .cohort(11, "RET", AlterationClass::Fusion, 2, [0, 2, 1, 4], CohortStatus::Expansion)
            .cohort(12, "ERBB2", AlterationClass::Amplification, 1, [0, 8, 4, 24], CohortStatus::Stage2)
            .cohort(13, "ALK", AlterationClass::Fusion, 1, [0, 8, 4, 24], CohortStatus::ClosedOther);
        for p in 100..108 {
            t = t.treated(p, 10, 100 + p).assess(p, 8, Pd);
        }
        // Cohort 11, evaluated on: 201 day 50 (PD w7, no), 202 and 204 both day 60 (202
        // SD at w16 from day −52: benefit; 204 PD at w8 from day 4: none), 203 day 112
        // (benefit), 206 day 150 (died, none), 205 day 212 (benefit). 204 is written
        // before 202 so only the id can put 202 first.
        t = t
            .treated(201, 11, 1)
            .assess(201, 7, Pd)
            .treated(204, 11, 4)
            .assess(204, 8, Pd)
            .treated(202, 11, -52)
            .assess(202, 16, Sd)
            .treated(203, 11, 0)
            .assess(203, 16, Sd)
            .treated(205, 11, 100)
            .assess(205, 16, Sd)
            .treated(206, 11, 100)
            .follow(206, 150, Some(150))
            .treated(207, 11, 120)
            .patient(208, false)
            .enrol(208, 11, 130, None);
        t.treated(301, 12, 100).treated(401, 13, 100).assess(401, 16, Pr).build()
    }

    fn cohort(rows: &[CohortMonitoring], id: i32) -> &CohortMonitoring {
        rows.iter().find(|m| m.cohort_id == id).expect("cohort listed")
    }

    /// A stage's (evaluable, benefits) counts.
    fn counts(stage: &StageCounts) -> (u64, u64) {
        (stage.evaluable.count(), stage.benefits.count())
    }

    #[test]
    fn no_benefit_in_the_first_eight_closes_the_cohort_for_futility() {
        let rows = cohort_monitoring(&trial()).expect("monitoring");
        let m = cohort(&rows, 10);
        assert_eq!(m.decision, Decision::ClosedForFutility);
        assert!(m.status_agrees);
        assert_eq!((m.enrolled.count(), m.treated.count()), (8, 8));
        assert_eq!(counts(&m.stage1), (8, 0));
        assert_eq!((counts(&m.stage2), counts(&m.expansion)), ((0, 0), (0, 0)));
        let rate = m.benefit_rate.clone().expect("evaluable patients");
        assert_eq!((rate.events, rate.n, rate.lower), (0, 8, 0.0));
        // 0 of n: the upper bound is 1 − 0.025^(1/n).
        assert!((rate.upper - (1.0 - 0.025_f64.powf(1.0 / 8.0))).abs() < 1e-12, "{}", rate.upper);
        assert_eq!((m.supplier_id, m.expansion_benefits.as_ref().map(PatientSet::count)), (Some(1), None));
    }

    #[test]
    fn a_cohort_with_enough_benefit_is_positive_and_counts_its_expansion_benefits() {
        let rows = cohort_monitoring(&trial()).expect("monitoring");
        let m = cohort(&rows, 11);
        // Stage 1: 201 (no), 202 (yes, the tie at day 60 goes to the lower id).
        assert_eq!(counts(&m.stage1), (2, 1));
        // Stage 2: 204 (no), 203 (yes): 2 of 4 in total, more than r = 1.
        assert_eq!(counts(&m.stage2), (2, 1));
        assert_eq!(m.decision, Decision::Positive);
        assert!(m.status_agrees);
        // Expansion: 206 (died, no), 205 (yes).
        assert_eq!(counts(&m.expansion), (2, 1));
        assert_eq!(m.expansion_benefits.as_ref().map(PatientSet::count), Some(1));
        assert_eq!((m.drug_id, m.supplier_id), (2, Some(2)));
        // 207 is treated but not evaluable; 208 was never treated.
        assert_eq!((m.enrolled.count(), m.treated.count()), (8, 7));
        assert_eq!(m.benefit_rate.as_ref().map(|p| (p.events, p.n)), Some((3, 6)));
    }

    #[test]
    fn a_recorded_status_the_data_do_not_support_is_flagged() {
        let rows = cohort_monitoring(&trial()).expect("monitoring");
        let m = cohort(&rows, 12);
        assert_eq!(m.decision, Decision::RecruitingStage1 { evaluable_needed: 8, benefits_needed_to_continue: 1 });
        assert!(!m.status_agrees);
        assert_eq!(m.benefit_rate, None);
        let other = cohort(&rows, 13);
        assert_eq!(other.decision, Decision::ContinueToStage2);
        assert!(other.status_agrees, "closed for another reason agrees with anything");
    }

    #[test]
    fn every_cohort_is_listed_in_id_order() {
        let rows = cohort_monitoring(&trial()).expect("monitoring");
        assert_eq!(rows.iter().map(|m| m.cohort_id).collect::<Vec<_>>(), vec![10, 11, 12, 13]);
    }

    #[test]
    fn each_status_agrees_only_with_its_decisions() {
        let stage1 = Decision::RecruitingStage1 { evaluable_needed: 1, benefits_needed_to_continue: 1 };
        let stage2 = Decision::RecruitingStage2 { evaluable_needed: 1, benefits_needed_for_positive: 1 };
        let decisions = [
            stage1,
            Decision::ContinueToStage2,
            stage2,
            Decision::ClosedForFutility,
            Decision::Positive,
            Decision::Negative,
        ];
        let design = SimonDesign::TRIAL;
        // With every stage complete (24 evaluable), each status has its own decisions.
        let agreeing = |status| decisions.iter().filter(|d| status_agrees(status, **d, 24, &design)).count();
        assert_eq!(agreeing(CohortStatus::Stage1), 1);
        assert_eq!(agreeing(CohortStatus::Stage2), 2);
        assert_eq!(agreeing(CohortStatus::Expansion), 1);
        assert_eq!(agreeing(CohortStatus::ClosedFutility), 1);
        assert_eq!(agreeing(CohortStatus::ClosedNegative), 1);
        assert_eq!(agreeing(CohortStatus::ClosedOther), decisions.len());
        assert!(status_agrees(CohortStatus::Stage2, stage2, 12, &design));
        assert!(!status_agrees(CohortStatus::Stage1, Decision::ContinueToStage2, 8, &design));
    }

    #[test]
    fn a_stage_met_early_agrees_until_its_planned_patients_are_evaluable() {
        let design = SimonDesign::TRIAL;
        assert!(status_agrees(CohortStatus::Stage1, Decision::ContinueToStage2, 3, &design));
        assert!(!status_agrees(CohortStatus::Stage1, Decision::ContinueToStage2, 8, &design));
        assert!(status_agrees(CohortStatus::Stage2, Decision::Positive, 14, &design));
        assert!(!status_agrees(CohortStatus::Stage2, Decision::Positive, 24, &design));
        assert!(status_agrees(CohortStatus::Stage2, Decision::Negative, 20, &design));
        assert!(!status_agrees(CohortStatus::Stage2, Decision::ClosedForFutility, 5, &design));
    }

    #[test]
    fn more_benefits_never_turn_an_agreeing_stage_1_into_a_mismatch() {
        // 7 of the 8 stage-1 patients evaluable: however many had benefit, stage 1 is
        // still completing its planned patients.
        let design = SimonDesign::TRIAL;
        for benefits in 0..=7 {
            let decision = design.decide(7, benefits, 7, benefits).expect("consistent counts");
            assert!(status_agrees(CohortStatus::Stage1, decision, 7, &design), "{benefits} of 7: {decision:?}");
        }
    }
}
