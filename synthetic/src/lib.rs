//! The synthetic consortium: a deterministic generator of a whole national
//! precision-cancer-medicine trial (partners, sites, drugs, cohorts and every patient's
//! journey from referral to registry follow-up), as a [`Trial`] for the store to write.
//!
//! No real patient data exists in this project, so demos, benchmarks and end-to-end
//! tests run on this consortium. It is built to look like IMPRESS-Norway / DRUP as
//! `domain.md` describes them (funnel ratios, two-stage cohort decisions, survival,
//! toxicity), and to be *internally consistent*: every recorded cohort status is the
//! decision its own patients' data supports under the trial's endpoint definitions.
//!
//! * `catalogue` holds the fixed reference data (seed-independent);
//! * `simulate` walks every patient through the funnel in calendar order.
//!
//! [`generate`] is pure: the same [`DemoSpec`] always yields the identical consortium.

use chrono::NaiveDate;

mod catalogue;
mod simulate;

pub use consortium_entity::Trial;

/// The disclosure policy changes the demo serves with, before any configured ones:
/// its early-look partner is on the noisy tier, ε = 0.5 per count and 10 per window;
/// the trial's coordinating statisticians get every count exact (off the cell-key
/// method, k = 1: they hold the pseudonymised data under the trial's agreement, and the
/// two-stage decisions rest on stage counts of one or two benefits).
pub const DISCLOSURE_OVERRIDES: &str = "EARLYLOOK:noise=0.5,budget=10;TRIALSTAT:perturbation=off,k=1";

/// The data cut: no date in a generated consortium lies after it.
pub const DATA_CUT: NaiveDate = catalogue::ymd(2026, 11, 1);

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    /// Seed of the random stream; the consortium is a pure function of the spec.
    pub seed: u64,
    /// Patients referred to profiling, from [`DemoSpec::MIN_PATIENTS`] to [`DemoSpec::MAX_PATIENTS`].
    pub patients: u32,
}

impl DemoSpec {
    /// The consortium `consortium demo` serves unless told otherwise.
    pub const DEMO: DemoSpec = DemoSpec { seed: 2021, patients: 3000 };

    /// Fewest patients: enough for every partner, drug and cohort to make sense.
    pub const MIN_PATIENTS: u32 = 100;
    /// Most patients: the benchmark scale.
    pub const MAX_PATIENTS: u32 = 1_000_000;
}

impl Default for DemoSpec {
    /// Seed 2021 (the trial's first year) and 3,000 patients: a few years of a real
    /// national programme.
    fn default() -> Self {
        Self { seed: 2021, patients: 3000 }
    }
}

/// Why a consortium cannot be generated.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DemoError {
    /// The requested number of patients is outside the supported range.
    #[error("a demo consortium has between {min} and {max} patients, not {requested}")]
    PatientsOutOfRange {
        /// What was asked for.
        requested: u32,
        /// [`DemoSpec::MIN_PATIENTS`].
        min: u32,
        /// [`DemoSpec::MAX_PATIENTS`].
        max: u32,
    },
}

/// Generates the consortium `spec` describes; pure and deterministic.
pub fn generate(spec: &DemoSpec) -> Result<Trial, DemoError> {
    if !(DemoSpec::MIN_PATIENTS..=DemoSpec::MAX_PATIENTS).contains(&spec.patients) {
        return Err(DemoError::PatientsOutOfRange {
            requested: spec.patients,
            min: DemoSpec::MIN_PATIENTS,
            max: DemoSpec::MAX_PATIENTS,
        });
    }
    Ok(simulate::simulate(spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use consortium_entity::enums::*;
    use consortium_entity::protocol::{EARLY_CUTOFF_WEEK, WEEK_16_WINDOW};
    use consortium_entity::{
        cohort, enrolment, followup, molecular_profile, mtb_review, patient, response_assessment, site, variant,
    };
    use std::collections::{HashMap, HashSet};
    use std::sync::OnceLock;
    use std::time::Instant;

    /// One mid-sized consortium shared by the statistical tests (generating it is cheap,
    /// but the checks read better against a single fixture).
    fn large() -> &'static Trial {
        static LARGE: OnceLock<Trial> = OnceLock::new();
        LARGE.get_or_init(|| {
            let started = Instant::now();
            let c = generate(&DemoSpec { seed: 2021, patients: 20_000 }).expect("20,000 patients is in range");
            eprintln!("generate(20,000 patients) took {:?}", started.elapsed());
            c
        })
    }

    fn ratio(part: usize, whole: usize) -> f64 {
        part as f64 / whole.max(1) as f64
    }

    fn assert_near(name: &str, value: f64, target: f64, tolerance: f64) {
        eprintln!("{name}: {value:.3} (target {target})");
        assert!((value - target).abs() <= tolerance, "{name} is {value:.3}, expected {target} ± {tolerance}");
    }

    /// Kaplan–Meier median: the first time the survival estimate drops to 0.5 or below.
    fn km_median(mut data: Vec<(i64, bool)>) -> Option<i64> {
        data.sort_by_key(|(t, event)| (*t, !*event));
        let mut at_risk = data.len() as f64;
        let mut survival = 1.0;
        let mut i = 0;
        while i < data.len() {
            let t = data[i].0;
            let (mut events, mut leaving) = (0.0, 0.0);
            while i < data.len() && data[i].0 == t {
                events += f64::from(u8::from(data[i].1));
                leaving += 1.0;
                i += 1;
            }
            survival *= 1.0 - events / at_risk;
            at_risk -= leaving;
            if survival <= 0.5 {
                return Some(t);
            }
        }
        None
    }

    /// The endpoints of one enrolment, computed from the models exactly as `domain.md`
    /// defines them (independently of the generator's own bookkeeping).
    struct Endpoints {
        evaluable: bool,
        benefit: bool,
    }

    fn endpoints(c: &Trial) -> HashMap<i32, Endpoints> {
        let mut visits: HashMap<i32, Vec<&response_assessment::Model>> = HashMap::new();
        for a in &c.assessments {
            visits.entry(a.enrolment_id).or_default().push(a);
        }
        let deaths: HashMap<i32, NaiveDate> =
            c.followups.iter().filter_map(|f| f.death_date.map(|d| (f.patient_id, d))).collect();
        c.enrolments
            .iter()
            .map(|e| {
                let mut v = visits.remove(&e.id).unwrap_or_default();
                v.sort_by_key(|a| a.study_week);
                let w16 = v.iter().find(|a| WEEK_16_WINDOW.contains(&a.study_week));
                let first_pd = v.iter().find(|a| a.response == OverallResponse::Pd).map(|a| a.study_week);
                let died_early = match (e.treatment_start, deaths.get(&e.patient_id)) {
                    (Some(start), Some(death)) => (*death - start).num_days() < i64::from(EARLY_CUTOFF_WEEK * 7),
                    _ => false,
                };
                let evaluable = e.treatment_start.is_some()
                    && (w16.is_some() || first_pd.is_some_and(|w| w < EARLY_CUTOFF_WEEK) || died_early);
                let benefit = evaluable
                    && w16.is_some_and(|w| {
                        matches!(w.response, OverallResponse::Cr | OverallResponse::Pr | OverallResponse::Sd)
                            && first_pd.is_none_or(|pd| pd >= w.study_week)
                    });
                (e.id, Endpoints { evaluable, benefit })
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_identical_consortium() {
        let spec = DemoSpec { seed: 7, patients: 3000 };
        let (a, b) = (generate(&spec).expect("in range"), generate(&spec).expect("in range"));
        assert!(a.patients == b.patients, "patients differ");
        assert!(a.variants == b.variants, "variants differ");
        assert!(a.cohorts == b.cohorts, "cohorts differ");
        assert!(a.enrolments == b.enrolments, "enrolments differ");
        assert!(a.assessments == b.assessments, "assessments differ");
        assert!(a.followups == b.followups, "follow-ups differ");
        assert!(a == b, "some other table differs");
    }

    #[test]
    fn a_different_seed_gives_a_different_consortium() {
        let a = generate(&DemoSpec { seed: 1, patients: 1000 }).expect("in range");
        let b = generate(&DemoSpec { seed: 2, patients: 1000 }).expect("in range");
        assert_ne!(a.patients, b.patients);
        assert_ne!(a.followups, b.followups);
        // The reference data is the same whatever the seed.
        assert_eq!(a.partners, b.partners);
        assert_eq!(a.drugs, b.drugs);
    }

    #[test]
    fn patient_counts_outside_the_supported_range_are_refused() {
        for patients in [0, 99, 1_000_001, u32::MAX] {
            let err = generate(&DemoSpec { seed: 1, patients }).expect_err("out of range");
            assert_eq!(err, DemoError::PatientsOutOfRange { requested: patients, min: 100, max: 1_000_000 });
        }
        assert_eq!(DemoSpec::default(), DemoSpec { seed: 2021, patients: 3000 });
    }

    #[test]
    fn a_hundred_patients_still_make_a_whole_consortium() {
        let c = generate(&DemoSpec { seed: 3, patients: 100 }).expect("in range");
        assert_eq!(c.patients.len(), 100);
        assert_eq!(c.partners.len(), 30);
        assert_eq!(c.sites.len(), 17);
        assert!(c.cohorts.len() >= 30);
        assert!(c.drugs.len() >= 15);
        let kinds: HashSet<_> = c.partners.iter().map(|p| p.kind).collect();
        assert_eq!(kinds.len(), 4);
        assert_eq!(c.partners.iter().filter(|p| p.kind == PartnerKind::Industry).count(), 10);
        assert_eq!(c.sites.iter().filter(|s| s.inpred_node).count(), 6);
        assert_eq!(c.followups.len(), 100);
    }

    #[test]
    fn the_screening_funnel_lands_near_the_published_ratios() {
        let c = large();
        let referred = c.patients.len();
        let profiled = c.profiles.len();
        let mut actionable_profiles = HashSet::new();
        for v in &c.variants {
            if v.escat_tier.is_actionable() {
                actionable_profiles.insert(v.profile_id);
            }
        }
        let actionable = actionable_profiles.len();
        let matched = c.reviews.iter().filter(|r| r.outcome == MtbOutcome::MatchedCohort).count();
        let enrolled = c.enrolments.len();
        let treated = c.enrolments.iter().filter(|e| e.treatment_start.is_some()).count();
        let ends = endpoints(c);
        let evaluable = ends.values().filter(|e| e.evaluable).count();
        let benefit = ends.values().filter(|e| e.benefit).count();
        assert_near("profiled / referred", ratio(profiled, referred), 0.92, 0.02);
        assert_near("actionable / profiled", ratio(actionable, profiled), 0.31, 0.03);
        assert_near("matched / actionable", ratio(matched, actionable), 0.84, 0.05);
        assert_near("enrolled / matched", ratio(enrolled, matched), 0.62, 0.05);
        assert_near("enrolled / actionable", ratio(enrolled, actionable), 0.52, 0.05);
        assert_near("treated / enrolled", ratio(treated, enrolled), 0.95, 0.03);
        assert_near("evaluable / treated", ratio(evaluable, treated), 0.78, 0.04);
        assert_near("benefit / evaluable", ratio(benefit, evaluable), 0.40, 0.08);
        let msi = c.profiles.iter().filter(|p| p.msi_status == MsiStatus::High).count();
        assert_near("MSI-high / profiled", ratio(msi, profiled), 0.03, 0.01);
        let mut tmb: Vec<f64> = c.profiles.iter().map(|p| p.tmb).collect();
        tmb.sort_by(f64::total_cmp);
        assert_near("median TMB", tmb[tmb.len() / 2], 4.0, 1.0);
        let female = c.patients.iter().filter(|p| p.sex == Sex::Female).count();
        assert_near("female share", ratio(female, referred), 0.5, 0.04);
        let mean_age =
            c.patients.iter().map(|p| f64::from(p.referral_date.year() - p.birth_year)).sum::<f64>() / referred as f64;
        assert_near("mean age", mean_age, 59.0, 1.5);
        let every_review_profiled: HashSet<_> = c.profiles.iter().map(|p| p.patient_id).collect();
        assert!(c.reviews.iter().all(|r| every_review_profiled.contains(&r.patient_id)));
        assert_eq!(c.reviews.len(), profiled, "every profiled patient is reviewed");
    }

    #[test]
    fn tumour_mix_is_led_by_colorectal_biliary_and_lung() {
        let c = large();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for p in &c.profiles {
            *counts.entry(p.oncotree_code.as_str()).or_default() += 1;
        }
        let mut ranked: Vec<_> = counts.into_iter().collect();
        ranked.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let top: Vec<&str> = ranked.iter().take(3).map(|(code, _)| *code).collect();
        assert_eq!(top, ["COADREAD", "CHOL", "LUAD"]);
        for p in &c.profiles {
            let patient = &c.patients[(p.patient_id - 1) as usize];
            match p.oncotree_code.as_str() {
                "PRAD" => assert_eq!(patient.sex, Sex::Male),
                "HGSOC" | "UCEC" | "CESC" => assert_eq!(patient.sex, Sex::Female),
                _ => {}
            }
            assert!(p.icd10.starts_with('C'));
        }
    }

    #[test]
    fn survival_and_toxicity_look_like_the_published_benchmarks() {
        let c = large();
        let followup: HashMap<i32, &followup::Model> = c.followups.iter().map(|f| (f.patient_id, f)).collect();
        let mut visits: HashMap<i32, Vec<&response_assessment::Model>> = HashMap::new();
        for a in &c.assessments {
            visits.entry(a.enrolment_id).or_default().push(a);
        }
        let (mut pfs, mut os) = (Vec::new(), Vec::new());
        for e in &c.enrolments {
            let Some(start) = e.treatment_start else { continue };
            let f = followup[&e.patient_id];
            let v = visits.get(&e.id).cloned().unwrap_or_default();
            let first_pd = v.iter().filter(|a| a.response == OverallResponse::Pd).map(|a| a.assessment_date).min();
            let last = v.iter().map(|a| a.assessment_date).max().unwrap_or(start);
            let event = [first_pd, f.death_date].into_iter().flatten().min();
            pfs.push(match event {
                Some(d) => ((d - start).num_days(), true),
                None => ((last - start).num_days(), false),
            });
            os.push(((f.death_date.unwrap_or(f.status_date) - start).num_days(), f.death_date.is_some()));
        }
        let months = |days: Option<i64>| days.map_or(f64::INFINITY, |d| d as f64 / 30.4375);
        assert_near("median PFS of the treated (months)", months(km_median(pfs)), 3.5, 0.8);
        assert_near("median OS of the treated (months)", months(km_median(os)), 9.0, 1.5);

        // Responses are a third to a half of the benefits.
        let ends = endpoints(c);
        let responders: HashSet<i32> = c
            .assessments
            .iter()
            .filter(|a| matches!(a.response, OverallResponse::Cr | OverallResponse::Pr))
            .map(|a| a.enrolment_id)
            .collect();
        let benefit = ends.values().filter(|e| e.benefit).count();
        let responding = ends.iter().filter(|(id, e)| e.evaluable && responders.contains(id)).count();
        assert_near("responses / benefits", ratio(responding, benefit), 0.42, 0.1);

        // Survival from the board's date: treated > not matched > matched but not treated.
        let review: HashMap<i32, &mtb_review::Model> = c.reviews.iter().map(|r| (r.patient_id, r)).collect();
        let treated_patients: HashSet<i32> =
            c.enrolments.iter().filter(|e| e.treatment_start.is_some()).map(|e| e.patient_id).collect();
        let (mut matched_untreated, mut unmatched) = (Vec::new(), Vec::new());
        for f in &c.followups {
            let Some(r) = review.get(&f.patient_id) else { continue };
            if treated_patients.contains(&f.patient_id) {
                continue;
            }
            let time = ((f.death_date.unwrap_or(f.status_date) - r.review_date).num_days(), f.death_date.is_some());
            match r.outcome {
                MtbOutcome::MatchedCohort => matched_untreated.push(time),
                _ => unmatched.push(time),
            }
        }
        let matched_untreated = months(km_median(matched_untreated));
        let unmatched = months(km_median(unmatched));
        eprintln!("median OS from review: matched, not treated {matched_untreated:.1}; not matched {unmatched:.1}");
        assert!(matched_untreated < unmatched && unmatched < 9.0);

        let treated: HashSet<i32> = c.enrolments.iter().filter(|e| e.treatment_start.is_some()).map(|e| e.id).collect();
        let severe: HashSet<i32> =
            c.adverse_events.iter().filter(|a| a.related && a.grade >= 3).map(|a| a.enrolment_id).collect();
        assert_near("treated with a related grade ≥ 3 event", ratio(severe.len(), treated.len()), 0.28, 0.04);
        let fatal = c.adverse_events.iter().filter(|a| a.grade == 5).count();
        assert!(fatal > 0 && ratio(fatal, treated.len()) < 0.02, "grade 5 events are rare: {fatal}");
    }

    #[test]
    fn every_cohort_status_is_the_decision_its_own_patients_support() {
        for spec in [DemoSpec { seed: 2021, patients: 3000 }, DemoSpec { seed: 11, patients: 500 }] {
            check_cohort_decisions(&generate(&spec).expect("in range"));
        }
        check_cohort_decisions(large());
    }

    fn check_cohort_decisions(c: &Trial) {
        let ends = endpoints(c);
        let mut finished_stage_1 = 0;
        let mut futile = 0;
        for cohort in &c.cohorts {
            let mut enrolled: Vec<&enrolment::Model> =
                c.enrolments.iter().filter(|e| e.cohort_id == cohort.id).collect();
            enrolled.sort_by_key(|e| (e.enrolled_on, e.id));
            let evaluable: Vec<bool> =
                enrolled.iter().filter(|e| ends[&e.id].evaluable).map(|e| ends[&e.id].benefit).collect();
            let n = evaluable.len();
            let benefits = |k: usize| evaluable.iter().take(k).filter(|b| **b).count();
            let (n1, n2) = (cohort.design_n1 as usize, cohort.design_n as usize);
            let (r1, r2) = (cohort.design_r1 as usize, cohort.design_r as usize);
            let ok = match cohort.status {
                CohortStatus::Stage1 => n < n1,
                CohortStatus::Stage2 => n >= n1 && n < n2 && benefits(n1) > r1,
                CohortStatus::ClosedFutility => n == n1 && benefits(n1) <= r1,
                CohortStatus::ClosedNegative => n == n2 && benefits(n1) > r1 && benefits(n2) <= r2,
                CohortStatus::Expansion => n >= n2 && benefits(n1) > r1 && benefits(n2) > r2,
                CohortStatus::ClosedOther => n < n2,
            };
            assert!(ok, "{}: status {:?} with {n} evaluable, {} benefits", cohort.code, cohort.status, benefits(n));
            let closed =
                !matches!(cohort.status, CohortStatus::Stage1 | CohortStatus::Stage2 | CohortStatus::Expansion);
            assert_eq!(cohort.closed_on.is_some(), closed, "{}", cohort.code);
            for e in &enrolled {
                assert!(e.enrolled_on >= cohort.opened_on, "{}", cohort.code);
                if let Some(closed_on) = cohort.closed_on {
                    assert!(e.enrolled_on <= closed_on, "{}", cohort.code);
                }
            }
            // Stages are entered in order: 1, then 2, then expansion.
            let stages: Vec<CohortStage> = enrolled.iter().map(|e| e.cohort_stage).collect();
            assert!(stages.windows(2).all(|w| stage_rank(w[0]) <= stage_rank(w[1])), "{}", cohort.code);
            if n >= n1 {
                finished_stage_1 += 1;
                futile += usize::from(cohort.status == CohortStatus::ClosedFutility);
            }
        }
        eprintln!(
            "{} patients: {futile} of {finished_stage_1} cohorts that finished stage 1 closed for futility",
            c.patients.len()
        );
    }

    fn stage_rank(stage: CohortStage) -> u8 {
        match stage {
            CohortStage::Stage1 => 1,
            CohortStage::Stage2 => 2,
            CohortStage::Expansion => 3,
        }
    }

    #[test]
    fn every_foreign_key_points_at_an_existing_row_and_checks_hold() {
        let c = large();
        let ids = |v: Vec<i32>| -> HashSet<i32> { v.into_iter().collect() };
        let partners = ids(c.partners.iter().map(|x| x.id).collect());
        let sites = ids(c.sites.iter().map(|x| x.id).collect());
        let patients = ids(c.patients.iter().map(|x| x.id).collect());
        let profiles = ids(c.profiles.iter().map(|x| x.id).collect());
        let drugs = ids(c.drugs.iter().map(|x| x.id).collect());
        let cohorts = ids(c.cohorts.iter().map(|x| x.id).collect());
        let enrolments = ids(c.enrolments.iter().map(|x| x.id).collect());
        // Ids are 1..n in every table.
        for (name, len, set) in [
            ("partner", c.partners.len(), &partners),
            ("site", c.sites.len(), &sites),
            ("patient", c.patients.len(), &patients),
            ("profile", c.profiles.len(), &profiles),
            ("drug", c.drugs.len(), &drugs),
            ("cohort", c.cohorts.len(), &cohorts),
            ("enrolment", c.enrolments.len(), &enrolments),
        ] {
            assert_eq!(set.len(), len, "{name}");
            assert!(set.iter().all(|id| *id >= 1 && *id as usize <= len), "{name}");
        }
        for (i, v) in c.variants.iter().enumerate() {
            assert_eq!(v.id as usize, i + 1);
        }
        for (i, a) in c.assessments.iter().enumerate() {
            assert_eq!(a.id as usize, i + 1);
        }
        for (i, a) in c.adverse_events.iter().enumerate() {
            assert_eq!(a.id as usize, i + 1);
        }
        assert!(c.sites.iter().all(|s| partners.contains(&s.partner_id)));
        assert!(c.patients.iter().all(|p| sites.contains(&p.referring_site_id)));
        assert!(c.profiles.iter().all(|p| patients.contains(&p.patient_id) && sites.contains(&p.sequencing_site_id)));
        assert!(c.variants.iter().all(|v| profiles.contains(&v.profile_id)));
        assert!(c.drugs.iter().all(|d| partners.contains(&d.supplier_id)));
        assert!(c.cohorts.iter().all(|x| drugs.contains(&x.drug_id)));
        assert!(c.reviews.iter().all(
            |r| patients.contains(&r.patient_id) && r.recommended_cohort_id.is_none_or(|id| cohorts.contains(&id))
        ));
        assert!(c
            .enrolments
            .iter()
            .all(|e| patients.contains(&e.patient_id) && cohorts.contains(&e.cohort_id) && sites.contains(&e.site_id)));
        assert!(c.assessments.iter().all(|a| enrolments.contains(&a.enrolment_id)));
        assert!(c.adverse_events.iter().all(|a| enrolments.contains(&a.enrolment_id)));
        assert!(c.followups.iter().all(|f| patients.contains(&f.patient_id)));
        // Suppliers are industry partners; sites belong to hospitals.
        let kind: HashMap<i32, PartnerKind> = c.partners.iter().map(|p| (p.id, p.kind)).collect();
        assert!(c.drugs.iter().all(|d| kind[&d.supplier_id] == PartnerKind::Industry));
        assert!(c.sites.iter().all(|s| kind[&s.partner_id] == PartnerKind::Hospital));

        // Unique columns.
        let unique = |name: &str, values: Vec<String>| {
            let n = values.len();
            assert_eq!(values.into_iter().collect::<HashSet<_>>().len(), n, "{name} is not unique");
        };
        unique("partner code", c.partners.iter().map(|p| p.code.clone()).collect());
        unique("org number", c.partners.iter().map(|p| p.org_number.clone()).collect());
        unique("site code", c.sites.iter().map(|s| s.code.clone()).collect());
        unique("pseudonym", c.patients.iter().map(|p| p.pseudonym.clone()).collect());
        unique("sample id", c.profiles.iter().map(|p| p.sample_id.clone()).collect());
        unique("profile patient", c.profiles.iter().map(|p| p.patient_id.to_string()).collect());
        unique("review patient", c.reviews.iter().map(|r| r.patient_id.to_string()).collect());
        unique("enrolment patient", c.enrolments.iter().map(|e| e.patient_id.to_string()).collect());
        unique("follow-up patient", c.followups.iter().map(|f| f.patient_id.to_string()).collect());
        unique("drug code", c.drugs.iter().map(|d| d.code.clone()).collect());
        unique("cohort code", c.cohorts.iter().map(|x| x.code.clone()).collect());
        unique(
            "assessment date",
            c.assessments.iter().map(|a| format!("{} {}", a.enrolment_id, a.assessment_date)).collect(),
        );

        // CHECK constraints and column widths of the migration.
        assert!(c.partners.iter().all(|p| p.org_number.len() == 9 && p.org_number.bytes().all(|b| b.is_ascii_digit())));
        assert!(c.partners.iter().all(|p| p.code.len() <= 32 && p.name.len() <= 200));
        assert!(c.patients.iter().all(|p| (1900..=2100).contains(&p.birth_year) && p.pseudonym.len() <= 32));
        assert!(c.profiles.iter().all(|p| p.tmb >= 0.0 && p.oncotree_code.len() <= 16 && p.icd10.len() <= 8));
        assert!(c
            .variants
            .iter()
            .all(|v| v.gene.len() <= 16 && v.protein_change.as_ref().is_none_or(|p| p.len() <= 64)));
        assert!(c.cohorts.iter().all(|x| 0 <= x.design_r1
            && x.design_r1 < x.design_n1
            && x.design_n1 < x.design_n
            && x.design_r1 <= x.design_r
            && x.design_r < x.design_n
            && x.oncotree_code.len() <= 16
            && x.gene.len() <= 16
            && x.name.len() <= 200));
        assert!(c.enrolments.iter().all(|e| match (e.treatment_start, e.treatment_end) {
            (Some(start), Some(end)) => end >= start && e.end_reason.is_some(),
            (None, end) => end.is_none() && e.end_reason.is_none(),
            (Some(_), None) => e.end_reason.is_none(),
        }));
        assert!(c.assessments.iter().all(|a| a.study_week >= 0));
        assert!(c
            .adverse_events
            .iter()
            .all(|a| (1..=5).contains(&a.grade) && a.ctcae_term.len() <= 100 && a.organ_class.len() <= 100));
        assert!(c.followups.iter().all(|f| match f.vital_status {
            VitalStatus::Dead => f.death_date.is_some(),
            VitalStatus::Alive => f.death_date.is_none(),
        }));
    }

    #[test]
    fn no_date_lies_after_the_data_cut_and_every_journey_runs_forward() {
        let c = large();
        let patient: HashMap<i32, &patient::Model> = c.patients.iter().map(|p| (p.id, p)).collect();
        let profile: HashMap<i32, &molecular_profile::Model> = c.profiles.iter().map(|p| (p.patient_id, p)).collect();
        let review: HashMap<i32, &mtb_review::Model> = c.reviews.iter().map(|r| (r.patient_id, r)).collect();
        let enrolment: HashMap<i32, &enrolment::Model> = c.enrolments.iter().map(|e| (e.id, e)).collect();
        let first = NaiveDate::from_ymd_opt(2021, 4, 1).expect("date");
        let last_referral = NaiveDate::from_ymd_opt(2026, 9, 30).expect("date");
        // Latest date on record per patient, to check deaths against.
        let mut latest: HashMap<i32, NaiveDate> = HashMap::new();
        let mut see = |patient_id: i32, date: NaiveDate| {
            assert!(date <= DATA_CUT, "{date} is after the data cut");
            let entry = latest.entry(patient_id).or_insert(date);
            *entry = (*entry).max(date);
        };
        for p in &c.patients {
            assert!(p.referral_date >= first && p.referral_date <= last_referral);
            see(p.id, p.referral_date);
        }
        for p in &c.profiles {
            let days = (p.sample_date - patient[&p.patient_id].referral_date).num_days();
            assert!((7..=28).contains(&days), "sample {days} days after referral");
            see(p.patient_id, p.sample_date);
        }
        for r in &c.reviews {
            let days = (r.review_date - profile[&r.patient_id].sample_date).num_days();
            assert!((1..=21).contains(&days), "review {days} days after sampling");
            see(r.patient_id, r.review_date);
        }
        for e in &c.enrolments {
            let days = (e.enrolled_on - review[&e.patient_id].review_date).num_days();
            assert!((7..=28).contains(&days), "enrolled {days} days after review");
            see(e.patient_id, e.enrolled_on);
            if let Some(start) = e.treatment_start {
                assert!((0..=14).contains(&(start - e.enrolled_on).num_days()));
                see(e.patient_id, start);
            }
            if let Some(end) = e.treatment_end {
                see(e.patient_id, end);
            }
        }
        for a in &c.assessments {
            let e = enrolment[&a.enrolment_id];
            let start = e.treatment_start.expect("assessed patients are treated");
            let days = (a.assessment_date - start).num_days();
            assert_eq!((days + 3).div_euclid(7), i64::from(a.study_week), "the nearest whole week");
            assert!(e.treatment_end.is_none_or(|end| a.assessment_date <= end));
            see(e.patient_id, a.assessment_date);
        }
        for a in &c.adverse_events {
            let e = enrolment[&a.enrolment_id];
            let start = e.treatment_start.expect("only treated patients have adverse events");
            assert!(a.onset_date >= start && e.treatment_end.is_none_or(|end| a.onset_date <= end));
            see(e.patient_id, a.onset_date);
        }
        for f in &c.followups {
            assert!(f.status_date <= DATA_CUT);
            let last = latest[&f.patient_id];
            match f.death_date {
                Some(death) => {
                    assert_eq!(f.status_date, death);
                    assert!(death >= last, "death {death} before {last}");
                }
                None => assert!(f.status_date >= last, "alive status {} before {last}", f.status_date),
            }
        }
        assert!(c.cohorts.iter().all(|x| x.opened_on <= DATA_CUT && x.closed_on.is_none_or(|d| d <= DATA_CUT)));
        let registry = c.followups.iter().filter(|f| f.source == FollowupSource::Registry).count();
        assert!(ratio(registry, c.followups.len()) > 0.9);
    }

    #[test]
    fn matched_patients_carry_their_cohorts_alteration_and_are_treated_in_their_region() {
        let c = large();
        let profile: HashMap<i32, &molecular_profile::Model> = c.profiles.iter().map(|p| (p.patient_id, p)).collect();
        let mut variants: HashMap<i32, Vec<&variant::Model>> = HashMap::new();
        for v in &c.variants {
            variants.entry(v.profile_id).or_default().push(v);
        }
        let cohort: HashMap<i32, &cohort::Model> = c.cohorts.iter().map(|x| (x.id, x)).collect();
        let site: HashMap<i32, &site::Model> = c.sites.iter().map(|s| (s.id, s)).collect();
        let patient: HashMap<i32, &patient::Model> = c.patients.iter().map(|p| (p.id, p)).collect();
        let review: HashMap<i32, &mtb_review::Model> = c.reviews.iter().map(|r| (r.patient_id, r)).collect();
        for r in &c.reviews {
            let p = profile[&r.patient_id];
            let vs = variants.get(&p.id).cloned().unwrap_or_default();
            let actionable = vs.iter().any(|v| v.escat_tier.is_actionable());
            match r.outcome {
                MtbOutcome::MatchedCohort => {
                    let x = cohort[&r.recommended_cohort_id.expect("matched to a cohort")];
                    assert!(x.oncotree_code == p.oncotree_code || x.oncotree_code == "SOLID", "{}", x.code);
                    assert!(
                        vs.iter().any(|v| v.gene == x.gene
                            && v.alteration_class == x.alteration_class
                            && v.escat_tier.is_actionable()),
                        "{}",
                        x.code
                    );
                    assert!(r.review_date >= x.opened_on);
                }
                _ => assert!(r.recommended_cohort_id.is_none()),
            }
            if !actionable {
                assert_eq!(r.outcome, MtbOutcome::NoMatch);
                assert!(r.evidence_tier.is_none());
            }
        }
        for p in &c.profiles {
            let vs = variants.get(&p.id).cloned().unwrap_or_default();
            assert!(vs.len() <= 4);
            let has_msi = vs.iter().any(|v| v.alteration_class == AlterationClass::MsiHigh);
            assert_eq!(has_msi, p.msi_status == MsiStatus::High, "{}", p.sample_id);
            for v in &vs {
                assert_eq!(v.protein_change.is_some(), v.alteration_class == AlterationClass::Mutation);
                if v.alteration_class == AlterationClass::TmbHigh {
                    assert!(p.tmb >= 10.0 && p.msi_status != MsiStatus::High);
                }
            }
            let lab = site[&p.sequencing_site_id];
            assert!(lab.inpred_node && lab.region == patient[&p.patient_id].region);
            assert_eq!(p.panel, "TSO500");
        }
        for e in &c.enrolments {
            let r = review[&e.patient_id];
            assert_eq!(r.outcome, MtbOutcome::MatchedCohort);
            assert_eq!(r.recommended_cohort_id, Some(e.cohort_id));
            assert_eq!(site[&e.site_id].region, patient[&e.patient_id].region);
        }
        for p in &c.patients {
            assert_eq!(site[&p.referring_site_id].region, p.region);
        }
        let criteria: HashSet<_> = c.assessments.iter().map(|a| a.criteria).collect();
        assert!(criteria.contains(&ResponseCriteria::Recist11) && criteria.contains(&ResponseCriteria::Rano));
    }
}
