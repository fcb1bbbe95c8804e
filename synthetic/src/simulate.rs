//! The patient journey: referral → InPreD profiling → tumour-board review → enrolment
//! → treatment, response assessments and adverse events → registry follow-up, and the
//! two-stage cohort rule run on the simulated data.
//!
//! Patients are referred on random days; reviews and enrolments are then replayed in
//! calendar order so each cohort's state (open, which stage, closed) at a review or an
//! enrolment is the state earlier patients' results put it in. A treated patient's
//! whole course is drawn at enrolment and cut at [`DATA_CUT`]; whether the patient is
//! evaluable and benefits is then read back from the recorded assessments and death
//! date with the same definitions the analytics layer uses, so every recorded cohort
//! status is exactly the decision its own data supports.
//!
//! All randomness comes from one ChaCha8 stream consumed in a fixed order; the work per
//! patient is constant, so a million patients take seconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{Datelike, NaiveDate, TimeDelta};
use consortium_entity::enums::{
    AlterationClass, CohortStage, CohortStatus, EscatTier, FollowupSource, HealthRegion, MsiStatus, MtbOutcome,
    OverallResponse, PartnerKind, Sex, TreatmentEndReason, VitalStatus,
};
use consortium_entity::protocol::{TwoStage, ASSESSMENT_INTERVAL_WEEKS, EARLY_CUTOFF_WEEK, TWO_STAGE, WEEK_16_WINDOW};
use consortium_entity::{
    adverse_event, cohort, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use super::catalogue::{
    org_number, profile, ymd, CohortTemplate, ProfileEntry, SexMix, Target, Toxicity, ACADEMIC, AE_TERMS, COHORTS,
    DISEASE_RELATED, DRUGS, EARLY_LOOK, EARLY_LOOK_SCOPES, HOSPITALS, INDUSTRY, MSI_TIER, PASSENGERS, REGISTRY, SOLID,
    TUMOURS,
};
use super::{DemoSpec, Trial, DATA_CUT};

/// Day 0 of the simulation calendar: the trial's first referral.
const FIRST_REFERRAL: NaiveDate = ymd(2021, 4, 1);
/// Referrals stop here so that the last patients can still be profiled before the cut.
const LAST_REFERRAL: NaiveDate = ymd(2026, 9, 30);
/// The registry's latest linkage with the population register: alive patients are
/// known to be alive on this date (or later, when a site saw them later).
const REGISTRY_LINKAGE: NaiveDate = ymd(2026, 10, 15);

/// Simon design of every cohort: stop after stage 1 if benefits ≤ r1 among n1
/// evaluable, negative if benefits ≤ r among n (the 1/8 → 5/24 rule).
/// Every cohort's two-stage rule: the protocol's.
const DESIGN: TwoStage = TWO_STAGE;

// Funnel targets and rates (`domain.md`); some are set a little above the published
// ratio because the data cut and closing cohorts take a few patients off each step.
/// Referred patients whose tissue yields a profile.
const PROFILED: f64 = 0.925;
/// Profiled patients with an actionable alteration (ESCAT ≤ III-B).
const ACTIONABLE: f64 = 0.31;
/// Chance that the board finds a second, cohort-addressed target when the first has
/// no open cohort (patients often carry several actionable alterations).
const SECOND_TARGET: f64 = 0.85;
/// Mean age at referral over the whole consortium.
const MEAN_AGE: f64 = 59.0;
/// Matched patients who go on to enrol.
const ENROL: f64 = 0.63;
/// Enrolled patients who start treatment.
const TREAT: f64 = 0.95;
/// Treated patients who stop before week 14 for toxicity or withdrawal, without PD.
const EARLY_STOP: f64 = 0.22;
/// Treated patients without an early stop who get a drug-related grade 3–4 event.
const SEVERE_RELATED: f64 = 0.16;
/// Treated patients with a disease-related (unrelated) grade 3 event.
const SEVERE_UNRELATED: f64 = 0.10;

// Survival calibration, in days (exponential means), so that median PFS of the treated
// is ≈ 3.5 months and median OS ≈ 9 months.
/// Time from the week-16 assessment to progression for stable disease.
const PFS_STABLE_MEAN: f64 = 150.0;
/// Time from the week-16 assessment to progression for responders.
const PFS_RESPONDER_MEAN: f64 = 330.0;
/// Time to a competing event (late toxicity or death without progression).
const COMPETING_MEAN: f64 = 1500.0;
/// Survival after progression (or after stopping treatment).
const POST_PROGRESSION_MEAN: f64 = 210.0;
/// Planned treatment length (two years), after which treatment is completed.
const COMPLETION_DAY: i32 = 728;
/// Median survival, in months, of patients who were not treated, by what happened.
const MEDIAN_OS_NOT_PROFILED: f64 = 5.0;
const MEDIAN_OS_NO_MATCH: f64 = 7.5;
const MEDIAN_OS_OTHER_OPTION: f64 = 8.5;
const MEDIAN_OS_MATCHED_NOT_ENROLLED: f64 = 4.5;
const MEDIAN_OS_ENROLLED_NOT_TREATED: f64 = 2.5;
const DAYS_PER_MONTH: f64 = 30.4375;

/// Runs the whole simulation.
pub(super) fn simulate(spec: &DemoSpec) -> Trial {
    let mut sim = Sim::new(spec.seed);
    sim.refer(spec.patients);
    sim.screen_and_treat();
    sim.close_cohorts();
    sim.into_consortium()
}

/// Days since [`FIRST_REFERRAL`].
fn day_of(date: NaiveDate) -> i32 {
    i32::try_from((date - FIRST_REFERRAL).num_days()).unwrap_or(i32::MAX)
}

/// The calendar date of a simulation day; days never leave the trial's few years, and
/// an impossible one would surface as `NaiveDate::MAX`, which the tests rule out.
fn date_of(day: i32) -> NaiveDate {
    FIRST_REFERRAL.checked_add_signed(TimeDelta::days(i64::from(day))).unwrap_or(NaiveDate::MAX)
}

/// Picks an index with probability proportional to its weight, or `None` when no
/// weight is positive.
fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return Some(i);
        }
        x -= w;
    }
    // Rounding can leave x at the very end: that is the last positive weight.
    weights.iter().rposition(|w| *w > 0.0)
}

/// An exponential draw with the given mean, in whole days (at least 1).
fn exp_days(rng: &mut ChaCha8Rng, mean: f64) -> i32 {
    let e: f64 = rng.sample(Exp1);
    // Capped at ~50 years: the cast saturates anyway, the cap keeps sums from overflowing.
    ((mean * e).round() as i32).clamp(1, 18_000)
}

/// A log-normal draw with the given median and log-scale spread.
fn log_normal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    median * (sigma * z).exp()
}

fn region_index(region: HealthRegion) -> usize {
    match region {
        HealthRegion::SouthEast => 0,
        HealthRegion::West => 1,
        HealthRegion::Central => 2,
        HealthRegion::North => 3,
    }
}

/// One variant as the panel reports it; strings stay static until the models are built.
#[derive(Debug, Clone, Copy)]
struct Alteration {
    gene: &'static str,
    class: AlterationClass,
    change: Option<&'static str>,
    tier: EscatTier,
}

impl Alteration {
    fn of(rng: &mut ChaCha8Rng, target: &'static Target) -> Self {
        let change = match target.changes.len() {
            0 => None,
            n => target.changes.get(rng.gen_range(0..n)).copied(),
        };
        Self { gene: target.gene, class: target.class, change, tier: target.tier }
    }
}

/// A profile's facts.
struct Profile {
    sample: i32,
    lab: usize,
    tmb: f64,
    msi: MsiStatus,
    actionable: bool,
    variants: Vec<Alteration>,
}

/// The board's decision.
struct Review {
    day: i32,
    outcome: MtbOutcome,
    cohort: Option<usize>,
    tier: Option<EscatTier>,
}

/// Where a patient's journey ended, which decides the survival anchor and median.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    NotProfiled,
    NoMatch,
    OtherOption,
    MatchedNotEnrolled,
    EnrolledNotTreated,
    Treated,
}

/// Per-patient facts, compact until the models are built.
struct Journey {
    referral: i32,
    hospital: usize,
    tumour: usize,
    sex: Sex,
    birth_year: i32,
    profile: Option<Profile>,
    review: Option<Review>,
    fate: Fate,
    /// Latest day on record (referral, sample, review, enrolment, treatment events).
    last_day: i32,
    /// Death day drawn with the treatment course (treated patients only; may be after the cut).
    death: Option<i32>,
}

/// What a tumour type's patients can carry, precomputed from the catalogue.
struct TumourPlan {
    female: f64,
    /// Mean age at referral: the type's shift around a consortium mean of 59.
    mean_age: f64,
    msi_high: f64,
    /// Chance of an actionable alteration for a microsatellite-stable tumour.
    actionable_mss: f64,
    /// The cohort addressing MSI-high tumours of this type, if any.
    msi_cohort: Option<usize>,
    /// Whether a cohort targets TMB-high tumours of this type (TMB then decides membership).
    tmb_cohort: bool,
    /// Actionable alterations: (target, cohort addressing it), with prevalence weights.
    candidates: Vec<(&'static Target, Option<usize>)>,
    candidate_weights: Vec<f64>,
    /// Cohorts specific to this tumour type (not tumour-agnostic), for a second target.
    own_cohorts: Vec<usize>,
}

/// A cohort as the trial runs it.
struct CohortRun {
    template: &'static CohortTemplate,
    drug: usize,
    rate: f64,
    opened: i32,
    other_close: Option<i32>,
    status: CohortStatus,
    accepting: bool,
    closed: Option<i32>,
    evaluable: i32,
    benefits: i32,
    /// Day the latest counted evaluable patient's result became known.
    last_known: i32,
}

impl CohortRun {
    /// Applies a planned closure for another reason once its date has come, if the
    /// cohort is still in stage 1 or 2 (a decided cohort keeps its decision).
    fn close_for_other_reason(&mut self, day: i32) {
        if let Some(close) = self.other_close {
            if self.accepting && day >= close && matches!(self.status, CohortStatus::Stage1 | CohortStatus::Stage2) {
                self.status = CohortStatus::ClosedOther;
                self.closed = Some(close);
                self.accepting = false;
            }
        }
    }

    /// Whether the cohort takes patients on `day`.
    fn open_at(&mut self, day: i32) -> bool {
        self.close_for_other_reason(day);
        self.accepting && day >= self.opened
    }

    fn stage(&self) -> CohortStage {
        match self.status {
            CohortStatus::Stage2 => CohortStage::Stage2,
            CohortStatus::Expansion => CohortStage::Expansion,
            _ => CohortStage::Stage1,
        }
    }

    /// Counts one treated patient's result, in enrolment order, and applies the
    /// two-stage rule when the 8th and the 24th evaluable patient arrive. A negative
    /// decision stops enrolment at once; the cohort closes on the day the deciding
    /// results were all known.
    fn record(&mut self, result: Judgement) {
        if !result.evaluable {
            return;
        }
        self.evaluable += 1;
        self.benefits += i32::from(result.benefit);
        self.last_known = self.last_known.max(result.known_on);
        let (stop, next) = match (self.status, self.evaluable) {
            (CohortStatus::Stage1, n1) if n1 == DESIGN.n1 => (self.benefits <= DESIGN.r1, CohortStatus::Stage2),
            (CohortStatus::Stage2, n) if n == DESIGN.n => (self.benefits <= DESIGN.r, CohortStatus::Expansion),
            _ => return,
        };
        if stop {
            self.status = match self.status {
                CohortStatus::Stage1 => CohortStatus::ClosedFutility,
                _ => CohortStatus::ClosedNegative,
            };
            self.closed = Some(self.last_known);
            self.accepting = false;
        } else {
            self.status = next;
        }
    }
}

/// Whether a treated patient is evaluable and benefits, read from the recorded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Judgement {
    evaluable: bool,
    benefit: bool,
    /// Day the result became known (week-16 assessment, early PD or early death).
    known_on: i32,
}

/// The `k`-th assessment after treatment start: every 8 weeks, scattered up to 4 days
/// either side as real visits are; the study week is the nearest whole week (as an
/// import computes it). Returns (study week, day).
fn visit(rng: &mut ChaCha8Rng, k: i32) -> (i32, i32) {
    let day = ASSESSMENT_INTERVAL_WEEKS * 7 * k + rng.gen_range(-4..=4);
    ((day + 3).div_euclid(7), day)
}

/// A course stopped early, before any endpoint, for toxicity, withdrawal or else.
fn early_stop(rng: &mut ChaCha8Rng) -> Course {
    let mut visits = Vec::with_capacity(1);
    let stop = rng.gen_range(10..=95);
    let (w1, d1) = visit(rng, 1);
    if d1 < stop {
        visits.push((w1, d1, if rng.gen_bool(0.85) { OverallResponse::Sd } else { OverallResponse::Ne }));
    }
    let u: f64 = rng.gen();
    let reason = if u < 0.55 {
        TreatmentEndReason::Toxicity
    } else if u < 0.9 {
        TreatmentEndReason::Withdrawal
    } else {
        TreatmentEndReason::Other
    };
    let death = stop + exp_days(rng, POST_PROGRESSION_MEAN * 1.2);
    Course { visits, end: stop, reason, death }
}

/// A course without benefit: PD at week 8, an early death, or PD at week 16.
fn no_benefit(rng: &mut ChaCha8Rng) -> Course {
    use OverallResponse::{Ne, Pd, Sd};
    let mut visits = Vec::with_capacity(2);
    let u: f64 = rng.gen();
    let (w1, d1) = visit(rng, 1);
    if u < 0.78 {
        visits.push((w1, d1, Pd));
        let death = d1 + exp_days(rng, POST_PROGRESSION_MEAN);
        return Course { visits, end: d1, reason: TreatmentEndReason::Progression, death };
    }
    if u < 0.88 {
        // Clinical deterioration and death before the week-14 window opens.
        let death = rng.gen_range(14..=90);
        if d1 < death {
            visits.push((w1, d1, Sd));
        }
        return Course { visits, end: death, reason: TreatmentEndReason::Death, death };
    }
    visits.push((w1, d1, if rng.gen_bool(0.9) { Sd } else { Ne }));
    let (w2, d2) = visit(rng, 2);
    visits.push((w2, d2, Pd));
    let death = d2 + exp_days(rng, POST_PROGRESSION_MEAN);
    Course { visits, end: d2, reason: TreatmentEndReason::Progression, death }
}

/// A course with benefit at week 16, assessed until progression, a competing event
/// (toxicity or death) or completion.
fn benefit(rng: &mut ChaCha8Rng, response_share: f64) -> Course {
    use OverallResponse::{Cr, Pd, Pr, Sd};
    let mut visits = Vec::with_capacity(6);
    let responder = rng.gen_bool(response_share);
    let (w1, d1) = visit(rng, 1);
    visits.push((w1, d1, if responder && rng.gen_bool(0.6) { Pr } else { Sd }));
    let (w2, d2) = visit(rng, 2);
    let mut current = match (responder, rng.gen_bool(0.12)) {
        (true, true) => Cr,
        (true, false) => Pr,
        (false, _) => Sd,
    };
    visits.push((w2, d2, current));
    let progression = d2 + exp_days(rng, if responder { PFS_RESPONDER_MEAN } else { PFS_STABLE_MEAN });
    let competing = d2 + exp_days(rng, COMPETING_MEAN);
    let competing_is_toxicity = rng.gen_bool(0.7);
    let mut k = 3;
    loop {
        let (week, day) = visit(rng, k);
        if competing.min(COMPLETION_DAY) <= day {
            let (end, reason) = match (competing <= COMPLETION_DAY, competing_is_toxicity) {
                (true, true) => (competing, TreatmentEndReason::Toxicity),
                (true, false) => (competing, TreatmentEndReason::Death),
                (false, _) => (COMPLETION_DAY, TreatmentEndReason::Completed),
            };
            let death = match reason {
                TreatmentEndReason::Death => end,
                _ => end.max(progression) + exp_days(rng, POST_PROGRESSION_MEAN),
            };
            return Course { visits, end, reason, death };
        }
        if day >= progression {
            visits.push((week, day, Pd));
            let death = day + exp_days(rng, POST_PROGRESSION_MEAN);
            return Course { visits, end: day, reason: TreatmentEndReason::Progression, death };
        }
        if current == Pr && rng.gen_bool(0.1) {
            current = Cr;
        }
        visits.push((week, day, current));
        k += 1;
    }
}

/// The rows of every patient as they are recorded.
#[derive(Default)]
struct People {
    patients: Vec<patient::Model>,
    profiles: Vec<molecular_profile::Model>,
    variants: Vec<variant::Model>,
    reviews: Vec<mtb_review::Model>,
    followups: Vec<followup::Model>,
}

/// One site per hospital, run by the hospital's partner (same index).
fn sites() -> Vec<site::Model> {
    HOSPITALS
        .iter()
        .enumerate()
        .map(|(i, h)| site::Model {
            id: i as i32 + 1,
            code: h.code.to_owned(),
            name: h.name.to_owned(),
            region: h.region,
            partner_id: i as i32 + 1,
            inpred_node: h.inpred_node,
        })
        .collect()
}

/// The study drugs, each supplied by its company's partner.
fn drugs() -> Vec<drug::Model> {
    let supplier =
        |code: &str| INDUSTRY.iter().position(|o| o.code == code).map_or(0, |i| (HOSPITALS.len() + 2 + i) as i32);
    DRUGS
        .iter()
        .enumerate()
        .map(|(i, d)| drug::Model {
            id: i as i32 + 1,
            code: d.code.to_owned(),
            name: d.name.to_owned(),
            mechanism: d.mechanism.to_owned(),
            supplier_id: supplier(d.supplier),
        })
        .collect()
}

/// The tumour board's outcome for an actionable profile no open cohort matches.
fn unmatched(rng: &mut ChaCha8Rng) -> (MtbOutcome, Fate) {
    let u: f64 = rng.gen();
    if u < 0.45 {
        (MtbOutcome::OtherTrial, Fate::OtherOption)
    } else if u < 0.65 {
        (MtbOutcome::EarlyAccess, Fate::OtherOption)
    } else {
        (MtbOutcome::NoMatch, Fate::NoMatch)
    }
}

/// Passenger variants: fewer beside an actionable one, at most four variants in all, a
/// gene once per profile.
fn add_passengers(rng: &mut ChaCha8Rng, variants: &mut Vec<Alteration>) {
    let passengers = if variants.is_empty() {
        pick(rng, &[14.0, 30.0, 30.0, 17.0, 9.0])
    } else {
        pick(rng, &[30.0, 35.0, 25.0, 10.0])
    }
    .unwrap_or(0);
    let weights: Vec<f64> = PASSENGERS.iter().map(|p| p.weight).collect();
    for _ in 0..passengers {
        if variants.len() >= 4 {
            break;
        }
        if let Some(target) = pick(rng, &weights).and_then(|i| PASSENGERS.get(i)) {
            if variants.iter().all(|v| v.gene != target.gene) {
                variants.push(Alteration::of(rng, target));
            }
        }
    }
}

/// One assessment: study week, day since treatment start, response.
type Visit = (i32, i32, OverallResponse);

/// The trial's endpoint definitions (`docs/domain.md`, the protocol's numbers): the
/// week-16 assessment is the first with study week in the window (14–20); evaluable =
/// has one, or PD or death before the window opens (week 14); benefit = it is CR, PR or
/// SD with no PD before it. `death` is days after treatment start.
fn judge(visits: &[Visit], death: Option<i32>) -> Judgement {
    let week16 = visits.iter().find(|v| WEEK_16_WINDOW.contains(&v.0));
    let first_pd = visits.iter().find(|v| v.2 == OverallResponse::Pd);
    let early_pd = first_pd.filter(|v| v.0 < EARLY_CUTOFF_WEEK).map(|v| v.1);
    let early_death = death.filter(|d| *d < EARLY_CUTOFF_WEEK * 7);
    let benefit = week16.is_some_and(|w| {
        matches!(w.2, OverallResponse::Cr | OverallResponse::Pr | OverallResponse::Sd)
            && first_pd.is_none_or(|pd| pd.0 >= w.0)
    });
    let known = [week16.map(|v| v.1), early_pd, early_death].into_iter().flatten().min();
    Judgement { evaluable: known.is_some(), benefit, known_on: known.unwrap_or(0) }
}

/// A treated patient's full course, in days since treatment start, before the data cut.
struct Course {
    visits: Vec<Visit>,
    end: i32,
    reason: TreatmentEndReason,
    death: i32,
}

/// Identifiers nobody can guess from another: a prefix and ten random characters of
/// Crockford's base 32 (50 bits), distinct, drawn from a stream of their own.
struct Identifiers {
    rng: ChaCha8Rng,
    taken: std::collections::HashSet<String>,
}

impl Identifiers {
    /// Crockford's base-32 alphabet: no I, L, O or U to misread.
    const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    fn new(seed: u64) -> Self {
        // A stream apart from the simulation's, still fixed by the seed.
        Identifiers { rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7073_6575_646f_6e79), taken: Default::default() }
    }

    /// A new identifier `PREFIX-XXXXXXXXXX`.
    fn next(&mut self, prefix: &str) -> String {
        loop {
            let bits: u64 = self.rng.gen();
            let body: String = (0..10).map(|i| char::from(Self::ALPHABET[((bits >> (5 * i)) & 31) as usize])).collect();
            let id = format!("{prefix}-{body}");
            if self.taken.insert(id.clone()) {
                return id;
            }
        }
    }
}

struct Sim {
    rng: ChaCha8Rng,
    /// Draws the pseudonyms and sample ids, apart from `rng` so that they change nothing
    /// else.
    names: Identifiers,
    cut: i32,
    hospital_weights: Vec<f64>,
    /// InPreD nodes of each region (hospital indexes) and their weights.
    nodes: [(Vec<usize>, Vec<f64>); 4],
    tumour_weights: Vec<f64>,
    tumours: Vec<TumourPlan>,
    cohorts: Vec<CohortRun>,
    journeys: Vec<Journey>,
    enrolments: Vec<enrolment::Model>,
    assessments: Vec<response_assessment::Model>,
    adverse_events: Vec<adverse_event::Model>,
}

impl Sim {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut nodes: [(Vec<usize>, Vec<f64>); 4] = Default::default();
        for (i, h) in HOSPITALS.iter().enumerate().filter(|(_, h)| h.inpred_node) {
            let (ids, weights) = &mut nodes[region_index(h.region)];
            ids.push(i);
            weights.push(h.referrals);
        }
        let cohorts = COHORTS
            .iter()
            .map(|template| {
                let z: f64 = rng.sample(StandardNormal);
                CohortRun {
                    template,
                    drug: DRUGS.iter().position(|d| d.code == template.drug).unwrap_or(0),
                    // Small per-cohort variation around the family's published rate.
                    rate: (template.benefit * (1.0 + 0.15 * z)).clamp(0.005, 0.95),
                    opened: template.opens_after_days + rng.gen_range(0..28),
                    other_close: template.closes_other.map(day_of),
                    status: CohortStatus::Stage1,
                    accepting: true,
                    closed: None,
                    evaluable: 0,
                    benefits: 0,
                    last_known: 0,
                }
            })
            .collect();
        Self {
            rng,
            names: Identifiers::new(seed),
            cut: day_of(DATA_CUT),
            hospital_weights: HOSPITALS.iter().map(|h| h.referrals).collect(),
            nodes,
            tumour_weights: TUMOURS.iter().map(|t| t.weight).collect(),
            tumours: plan_tumours(),
            cohorts,
            journeys: Vec::new(),
            enrolments: Vec::new(),
            assessments: Vec::new(),
            adverse_events: Vec::new(),
        }
    }

    /// An InPreD node of the hospital's region, weighted by size.
    fn node_of(&mut self, hospital: usize) -> usize {
        let region = HOSPITALS.get(hospital).map_or(0, |h| region_index(h.region));
        let (ids, weights) = &self.nodes[region];
        pick(&mut self.rng, weights).and_then(|i| ids.get(i).copied()).unwrap_or(hospital)
    }

    /// Draws every patient's referral, demography and profile.
    fn refer(&mut self, patients: u32) {
        let last = day_of(LAST_REFERRAL);
        let mut days: Vec<i32> = (0..patients)
            .map(|_| loop {
                // Accrual ramps up over the first year as hospitals join, then stays flat.
                let day = self.rng.gen_range(0..=last);
                let ramp = 0.35 + 0.65 * (f64::from(day) / 365.0).min(1.0);
                if self.rng.gen::<f64>() < ramp {
                    break day;
                }
            })
            .collect();
        // Patient ids follow referral order, as a registration system would assign them.
        days.sort_unstable();
        self.journeys.reserve(days.len());
        for day in days {
            let journey = self.new_patient(day);
            self.journeys.push(journey);
        }
    }

    fn new_patient(&mut self, referral: i32) -> Journey {
        let rng = &mut self.rng;
        let hospital = pick(rng, &self.hospital_weights).unwrap_or(0);
        let tumour = pick(rng, &self.tumour_weights).unwrap_or(0);
        let (spec, plan) = (&TUMOURS[tumour], &self.tumours[tumour]);
        let female = match spec.sex {
            SexMix::Female => true,
            SexMix::Male => false,
            SexMix::MostlyFemale => rng.gen_bool(0.99),
            SexMix::Any => rng.gen_bool(plan.female),
        };
        let z: f64 = rng.sample(StandardNormal);
        let age = (plan.mean_age + 12.0 * z).round().clamp(18.0, 90.0) as i32;
        let birth_year = date_of(referral).year() - age;
        let mut journey = Journey {
            referral,
            hospital,
            tumour,
            sex: if female { Sex::Female } else { Sex::Male },
            birth_year,
            profile: None,
            review: None,
            fate: Fate::NotProfiled,
            last_day: referral,
            death: None,
        };
        let sample = referral + rng.gen_range(7..=28);
        // A sample taken in the last week before the cut has no profile yet.
        if !rng.gen_bool(PROFILED) || sample + 7 > self.cut {
            return journey;
        }
        let review = (sample + rng.gen_range(7..=21)).min(self.cut);
        let msi = if rng.gen_bool(plan.msi_high) {
            MsiStatus::High
        } else if rng.gen_bool(0.015) {
            MsiStatus::Indeterminate
        } else {
            MsiStatus::Stable
        };
        let actionable = msi == MsiStatus::High || rng.gen_bool(plan.actionable_mss);
        let tmb = if msi == MsiStatus::High {
            log_normal(rng, 35.0, 0.45)
        } else if plan.tmb_cohort {
            // Where a cohort is defined by TMB, a TMB ≥ 10 tumour is always reported as
            // that alteration; the others stay below the threshold.
            (0..20).map(|_| log_normal(rng, spec.tmb_median, 0.8)).find(|t| *t < 10.0).unwrap_or(spec.tmb_median)
        } else {
            log_normal(rng, spec.tmb_median, 0.8)
        };
        journey.profile = Some(Profile { sample, lab: 0, tmb, msi, actionable, variants: Vec::new() });
        journey.review = Some(Review { day: review, outcome: MtbOutcome::NoMatch, cohort: None, tier: None });
        journey.fate = Fate::NoMatch;
        journey.last_day = review;
        let lab = self.node_of(hospital);
        if let Some(p) = journey.profile.as_mut() {
            p.lab = lab;
        }
        journey
    }

    /// Replays reviews and enrolments in calendar order.
    fn screen_and_treat(&mut self) {
        let mut order: Vec<(i32, usize)> =
            self.journeys.iter().enumerate().filter_map(|(i, j)| j.review.as_ref().map(|r| (r.day, i))).collect();
        order.sort_unstable();
        let mut pending: BinaryHeap<Reverse<(i32, usize)>> = BinaryHeap::new();
        for (day, patient) in order {
            // Enrolments on or before the board's day change what it can offer.
            while let Some(Reverse((enrol_day, who))) = pending.peek().copied() {
                if enrol_day > day {
                    break;
                }
                pending.pop();
                self.enrol(who, enrol_day);
            }
            if let Some(enrol_day) = self.review(patient, day) {
                pending.push(Reverse((enrol_day, patient)));
            }
        }
        while let Some(Reverse((enrol_day, who))) = pending.pop() {
            self.enrol(who, enrol_day);
        }
    }

    /// The tumour board's review of one profiled patient; returns the planned
    /// enrolment day when the patient is matched and goes on to enrol.
    fn review(&mut self, patient: usize, day: i32) -> Option<i32> {
        let journey = self.journeys.get_mut(patient)?;
        let plan = self.tumours.get(journey.tumour)?;
        let profile = journey.profile.as_mut()?;
        let review = journey.review.as_mut()?;
        let rng = &mut self.rng;
        let mut variants: Vec<Alteration> = Vec::with_capacity(4);
        if profile.actionable {
            let (first, first_cohort) = if profile.msi == MsiStatus::High {
                let tier = plan.msi_cohort.and_then(|c| COHORTS.get(c)).map_or(MSI_TIER, |c| c.target.tier);
                (Alteration { gene: "MSI", class: AlterationClass::MsiHigh, change: None, tier }, plan.msi_cohort)
            } else {
                let i = pick(rng, &plan.candidate_weights).unwrap_or(0);
                let (target, cohort) = plan.candidates.get(i).copied()?;
                (Alteration::of(rng, target), cohort)
            };
            variants.push(first);
            let mut matched = first_cohort.filter(|c| self.cohorts.get_mut(*c).is_some_and(|run| run.open_at(day)));
            if matched.is_none() && rng.gen_bool(SECOND_TARGET) {
                let open: Vec<usize> = plan
                    .own_cohorts
                    .iter()
                    .copied()
                    .filter(|c| {
                        let run = &mut self.cohorts[*c];
                        let t = &run.template.target;
                        let fits = t.gene != first.gene
                            && !(profile.msi == MsiStatus::High && t.class == AlterationClass::TmbHigh);
                        fits && run.open_at(day)
                    })
                    .collect();
                let weights: Vec<f64> = open.iter().map(|c| self.cohorts[*c].template.target.weight).collect();
                if let Some(c) = pick(rng, &weights).and_then(|i| open.get(i).copied()) {
                    variants.push(Alteration::of(rng, &self.cohorts[c].template.target));
                    matched = Some(c);
                }
            }
            if variants.iter().any(|v| v.class == AlterationClass::TmbHigh) {
                // TMB-intermediate: above the cohort threshold, well below MSI-high levels.
                profile.tmb = 10.0 * 2f64.powf(rng.gen::<f64>());
            }
            match matched {
                Some(c) => {
                    review.outcome = MtbOutcome::MatchedCohort;
                    review.cohort = Some(c);
                    review.tier = variants.last().map(|v| v.tier);
                    journey.fate = Fate::MatchedNotEnrolled;
                }
                None => {
                    let (outcome, fate) = unmatched(rng);
                    review.outcome = outcome;
                    review.tier = (outcome != MtbOutcome::NoMatch).then_some(first.tier);
                    journey.fate = fate;
                }
            }
        }
        add_passengers(rng, &mut variants);
        profile.tmb = (profile.tmb * 100.0).round() / 100.0;
        profile.variants = variants;
        if review.outcome == MtbOutcome::MatchedCohort && rng.gen_bool(ENROL) {
            let enrol_day = day + rng.gen_range(7..=28);
            return (enrol_day <= self.cut).then_some(enrol_day);
        }
        None
    }

    /// Enrols a matched patient if the cohort still takes patients, and simulates the
    /// treatment.
    fn enrol(&mut self, patient: usize, day: i32) {
        let Some(cohort) = self.journeys.get(patient).and_then(|j| j.review.as_ref()).and_then(|r| r.cohort) else {
            return;
        };
        let Some(run) = self.cohorts.get_mut(cohort) else {
            return;
        };
        if !run.open_at(day) {
            return;
        }
        let stage = run.stage();
        let (rate, response_share, toxicity) = (run.rate, run.template.response_share, DRUGS[run.drug].toxicity);
        let Some(journey) = self.journeys.get(patient) else {
            return;
        };
        let (hospital, criteria) = (journey.hospital, TUMOURS[journey.tumour].criteria);
        // Half are treated at the referring hospital, the rest at the region's phase-1
        // units in the university hospitals.
        let site = if self.rng.gen_bool(0.5) { hospital } else { self.node_of(hospital) };
        let id = self.enrolments.len() as i32 + 1;
        let mut row = enrolment::Model {
            id,
            patient_id: patient as i32 + 1,
            cohort_id: cohort as i32 + 1,
            site_id: site as i32 + 1,
            enrolled_on: date_of(day),
            cohort_stage: stage,
            treatment_start: None,
            treatment_end: None,
            end_reason: None,
        };
        let start = day + self.rng.gen_range(0..=14);
        let treated = self.rng.gen_bool(TREAT) && start <= self.cut;
        let mut fate = Fate::EnrolledNotTreated;
        let mut last_day = day;
        let mut death = None;
        if treated {
            let course = self.course(rate, response_share);
            let cut = self.cut - start;
            let visits: Vec<Visit> = course.visits.into_iter().filter(|v| v.1 <= cut).collect();
            let ended = course.end <= cut;
            let died = (course.death <= cut).then_some(course.death);
            let result = judge(&visits, died);
            self.cohorts[cohort].record(Judgement { known_on: start + result.known_on, ..result });
            row.treatment_start = Some(date_of(start));
            if ended {
                row.treatment_end = Some(date_of(start + course.end));
                row.end_reason = Some(course.reason);
            }
            for (week, offset, response) in &visits {
                self.assessments.push(response_assessment::Model {
                    id: self.assessments.len() as i32 + 1,
                    enrolment_id: id,
                    assessment_date: date_of(start + offset),
                    study_week: *week,
                    criteria,
                    response: *response,
                });
            }
            let window = if ended { course.end } else { cut };
            let ae_last = self.adverse_events(id, start, window, ended.then_some(course.reason), toxicity);
            let last_visit = visits.last().map_or(0, |v| v.1);
            last_day = start + last_visit.max(ae_last).max(if ended { course.end } else { 0 });
            death = Some(start + course.death);
            fate = Fate::Treated;
        }
        self.enrolments.push(row);
        if let Some(journey) = self.journeys.get_mut(patient) {
            journey.fate = fate;
            journey.last_day = journey.last_day.max(last_day);
            journey.death = death;
        }
    }

    /// Draws a treated patient's course without regard to the cut: early stop, or no
    /// benefit (PD at week 8 or 16, or early death), or benefit (SD/PR/CR at week 16)
    /// until progression, a competing event or completion.
    fn course(&mut self, rate: f64, response_share: f64) -> Course {
        let rng = &mut self.rng;
        if rng.gen_bool(EARLY_STOP) {
            return early_stop(rng);
        }
        if !rng.gen_bool(rate) {
            return no_benefit(rng);
        }
        benefit(rng, response_share)
    }

    /// Adverse events of one treated patient with onset in `[start, start + window]`;
    /// `end` is why treatment ended, when it ended before the cut. Returns the latest
    /// onset, in days since start.
    fn adverse_events(
        &mut self,
        enrolment_id: i32,
        start: i32,
        window: i32,
        end: Option<TreatmentEndReason>,
        toxicity: Toxicity,
    ) -> i32 {
        let related = profile(toxicity);
        let rng = &mut self.rng;
        let mut events: Vec<(i32, usize, i32, bool, bool)> = Vec::with_capacity(6);
        // Most events start in the first months of treatment.
        let early = |rng: &mut ChaCha8Rng| {
            let u: f64 = rng.gen();
            (f64::from(window.min(180)) * u * u) as i32
        };
        let severe = |rng: &mut ChaCha8Rng, table: &[ProfileEntry]| {
            let weights: Vec<f64> = table.iter().map(|e| e.2).collect();
            pick(rng, &weights).and_then(|i| table.get(i)).map_or(0, |e| e.0)
        };
        let mild = |rng: &mut ChaCha8Rng, table: &[ProfileEntry]| {
            let weights: Vec<f64> = table.iter().map(|e| e.1).collect();
            pick(rng, &weights).and_then(|i| table.get(i)).map_or(0, |e| e.0)
        };
        match end {
            Some(TreatmentEndReason::Toxicity) => {
                // The event that stopped treatment.
                let onset = (window - rng.gen_range(0..=10)).max(0);
                let grade = if rng.gen_bool(0.8) { 3 } else { 4 };
                events.push((onset, severe(rng, related), grade, true, rng.gen_bool(0.6)));
            }
            Some(TreatmentEndReason::Death) if rng.gen_bool(0.08) => {
                // A treatment-related death: the fatal event starts on the day of death.
                events.push((window, severe(rng, related), 5, true, true));
            }
            _ => {
                if rng.gen_bool(SEVERE_RELATED) {
                    let grade = if rng.gen_bool(0.88) { 3 } else { 4 };
                    events.push((early(rng), severe(rng, related), grade, true, rng.gen_bool(0.45)));
                }
            }
        }
        if rng.gen_bool(SEVERE_UNRELATED) {
            events.push((early(rng), severe(rng, &DISEASE_RELATED), 3, false, rng.gen_bool(0.5)));
        }
        let mild_count = pick(rng, &[20.0, 28.0, 25.0, 17.0, 10.0]).unwrap_or(0);
        for _ in 0..mild_count {
            let is_related = rng.gen_bool(0.8);
            let term = mild(rng, if is_related { related } else { &DISEASE_RELATED });
            let grade = if rng.gen_bool(0.6) { 1 } else { 2 };
            events.push((early(rng), term, grade, is_related, rng.gen_bool(0.02)));
        }
        // One record per term, onset and grade: the same event drawn twice is recorded once
        // (an import refuses such twins as duplicates of one natural key).
        events.sort_by_key(|e| (e.0, e.1, e.2));
        events.dedup_by_key(|e| (e.0, e.1, e.2));
        let mut latest = 0;
        for (onset, term, grade, is_related, serious) in events {
            let Some(term) = AE_TERMS.get(term) else {
                continue;
            };
            latest = latest.max(onset);
            self.adverse_events.push(adverse_event::Model {
                id: self.adverse_events.len() as i32 + 1,
                enrolment_id,
                ctcae_term: term.term.to_owned(),
                organ_class: term.organ_class.to_owned(),
                grade,
                onset_date: date_of(start + onset),
                related: is_related,
                serious,
            });
        }
        latest
    }

    /// Applies planned closures for other reasons that fall before the cut.
    fn close_cohorts(&mut self) {
        let cut = self.cut;
        for run in &mut self.cohorts {
            run.close_for_other_reason(cut);
        }
    }

    /// Draws the follow-up of every patient and builds the models.
    fn into_consortium(mut self) -> Trial {
        let mut people = People::default();
        let journeys = std::mem::take(&mut self.journeys);
        for (i, journey) in journeys.into_iter().enumerate() {
            let patient_id = i as i32 + 1;
            self.record(&mut people, patient_id, &journey);
        }
        Trial {
            partners: partners(),
            sites: sites(),
            patients: people.patients,
            profiles: people.profiles,
            variants: people.variants,
            reviews: people.reviews,
            drugs: drugs(),
            cohorts: self.cohort_models(),
            enrolments: self.enrolments,
            assessments: self.assessments,
            adverse_events: self.adverse_events,
            followups: people.followups,
        }
    }

    /// The cohorts as run, with their recorded status.
    fn cohort_models(&self) -> Vec<cohort::Model> {
        self.cohorts
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let t = run.template;
                cohort::Model {
                    id: i as i32 + 1,
                    code: t.code.to_owned(),
                    name: cohort_name(t),
                    oncotree_code: t.tumour.to_owned(),
                    gene: t.target.gene.to_owned(),
                    alteration_class: t.target.class,
                    drug_id: run.drug as i32 + 1,
                    design_r1: DESIGN.r1,
                    design_n1: DESIGN.n1,
                    design_r: DESIGN.r,
                    design_n: DESIGN.n,
                    status: run.status,
                    opened_on: date_of(run.opened),
                    closed_on: run.closed.map(date_of),
                }
            })
            .collect()
    }

    /// One patient's rows: the patient, the profile and its variants, the review and
    /// the follow-up (enrolments, assessments and adverse events were written as they
    /// were simulated).
    fn record(&mut self, people: &mut People, patient_id: i32, journey: &Journey) {
        let hospital = &HOSPITALS[journey.hospital];
        let tumour = &TUMOURS[journey.tumour];
        people.patients.push(patient::Model {
            id: patient_id,
            pseudonym: self.names.next("IMP"),
            sex: journey.sex,
            birth_year: journey.birth_year,
            region: hospital.region,
            referring_site_id: journey.hospital as i32 + 1,
            referral_date: date_of(journey.referral),
        });
        if let Some(profile) = &journey.profile {
            let profile_id = people.profiles.len() as i32 + 1;
            people.profiles.push(molecular_profile::Model {
                id: profile_id,
                patient_id,
                sample_id: self.names.next("SMP"),
                panel: "TSO500".to_owned(),
                sequencing_site_id: profile.lab as i32 + 1,
                sample_date: date_of(profile.sample),
                oncotree_code: tumour.code.to_owned(),
                icd10: tumour.icd10.to_owned(),
                tmb: profile.tmb,
                msi_status: profile.msi,
            });
            for v in &profile.variants {
                people.variants.push(variant::Model {
                    id: people.variants.len() as i32 + 1,
                    profile_id,
                    gene: v.gene.to_owned(),
                    alteration_class: v.class,
                    protein_change: v.change.map(str::to_owned),
                    escat_tier: v.tier,
                });
            }
        }
        if let Some(review) = &journey.review {
            people.reviews.push(mtb_review::Model {
                id: people.reviews.len() as i32 + 1,
                patient_id,
                review_date: date_of(review.day),
                outcome: review.outcome,
                recommended_cohort_id: review.cohort.map(|c| c as i32 + 1),
                evidence_tier: review.tier,
            });
        }
        people.followups.push(self.follow_up(patient_id, journey));
    }

    /// The registry's (or, for a few, the site's) latest status of one patient. Survival
    /// runs from treatment start for the treated and from the last step reached for the
    /// others, so a death never precedes anything else on record.
    fn follow_up(&mut self, patient_id: i32, journey: &Journey) -> followup::Model {
        let rng = &mut self.rng;
        let median = match journey.fate {
            Fate::NotProfiled => MEDIAN_OS_NOT_PROFILED,
            Fate::NoMatch => MEDIAN_OS_NO_MATCH,
            Fate::OtherOption => MEDIAN_OS_OTHER_OPTION,
            Fate::MatchedNotEnrolled => MEDIAN_OS_MATCHED_NOT_ENROLLED,
            Fate::EnrolledNotTreated | Fate::Treated => MEDIAN_OS_ENROLLED_NOT_TREATED,
        };
        let death = match journey.death {
            Some(day) => day,
            None => journey.last_day + exp_days(rng, median * DAYS_PER_MONTH / std::f64::consts::LN_2),
        };
        let source = if rng.gen_bool(0.04) { FollowupSource::Site } else { FollowupSource::Registry };
        if death <= self.cut {
            return followup::Model {
                id: patient_id,
                patient_id,
                vital_status: VitalStatus::Dead,
                status_date: date_of(death),
                death_date: Some(date_of(death)),
                source,
            };
        }
        let status_day = match source {
            FollowupSource::Registry => journey.last_day.max(day_of(REGISTRY_LINKAGE)),
            FollowupSource::Site => (journey.last_day + rng.gen_range(0..=120)).min(self.cut),
        };
        followup::Model {
            id: patient_id,
            patient_id,
            vital_status: VitalStatus::Alive,
            status_date: date_of(status_day),
            death_date: None,
            source,
        }
    }
}

/// Derives what each tumour type's patients can carry, and rescales actionability so
/// the consortium as a whole lands on [`ACTIONABLE`].
fn plan_tumours() -> Vec<TumourPlan> {
    let total: f64 = TUMOURS.iter().map(|t| t.weight).sum();
    let relative: f64 = TUMOURS.iter().map(|t| t.weight * t.actionable).sum::<f64>() / total;
    let scale = ACTIONABLE / relative;
    // Sex-specific tumours tilt the mix; the others get the female share that brings
    // the whole consortium to about 50/50.
    let fixed_female: f64 = TUMOURS
        .iter()
        .map(|t| match t.sex {
            SexMix::Female => t.weight,
            SexMix::MostlyFemale => 0.99 * t.weight,
            _ => 0.0,
        })
        .sum::<f64>()
        / total;
    let any: f64 = TUMOURS.iter().filter(|t| t.sex == SexMix::Any).map(|t| t.weight).sum::<f64>() / total;
    let female = ((0.5 - fixed_female) / any).clamp(0.3, 0.7);
    let mean_shift: f64 = TUMOURS.iter().map(|t| t.weight * t.age_shift).sum::<f64>() / total;
    let cohort_for = |tumour: &str, target: &Target| {
        COHORTS.iter().position(|c| {
            (c.tumour == tumour || c.tumour == SOLID) && c.target.gene == target.gene && c.target.class == target.class
        })
    };
    TUMOURS
        .iter()
        .map(|t| {
            let actionable = (t.actionable * scale).min(0.95);
            let mut candidates: Vec<(&'static Target, Option<usize>)> = Vec::new();
            for (i, c) in COHORTS.iter().enumerate() {
                if (c.tumour == t.code || c.tumour == SOLID) && c.target.weight > 0.0 {
                    candidates.push((&c.target, Some(i)));
                }
            }
            for target in t.other_targets {
                candidates.push((target, cohort_for(t.code, target)));
            }
            TumourPlan {
                female,
                mean_age: MEAN_AGE + t.age_shift - mean_shift,
                msi_high: t.msi_high,
                actionable_mss: ((actionable - t.msi_high) / (1.0 - t.msi_high)).clamp(0.0, 0.95),
                msi_cohort: COHORTS
                    .iter()
                    .position(|c| c.tumour == t.code && c.target.class == AlterationClass::MsiHigh),
                tmb_cohort: COHORTS.iter().any(|c| c.tumour == t.code && c.target.class == AlterationClass::TmbHigh),
                candidate_weights: candidates.iter().map(|(target, _)| target.weight).collect(),
                candidates,
                own_cohorts: COHORTS
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.tumour == t.code && c.target.weight > 0.0)
                    .map(|(i, _)| i)
                    .collect(),
            }
        })
        .collect()
}

/// A readable cohort name, e.g. `Biliary tract, BRAF p.V600E: dabrafenib + trametinib`.
fn cohort_name(t: &CohortTemplate) -> String {
    let tumour = TUMOURS.iter().find(|x| x.code == t.tumour).map_or("Solid tumours", |x| x.name);
    let gene = t.target.gene;
    let alteration = match t.target.class {
        AlterationClass::MsiHigh => "MSI-high".to_owned(),
        AlterationClass::TmbHigh => "TMB-intermediate, MSS".to_owned(),
        AlterationClass::Mutation => match t.target.changes {
            [one] => format!("{gene} {one}"),
            _ => format!("{gene} mutation"),
        },
        AlterationClass::Amplification => format!("{gene} amplification"),
        AlterationClass::Fusion => format!("{gene} fusion"),
        AlterationClass::Deletion => format!("{gene} deletion"),
        AlterationClass::BiallelicLoss => format!("{gene} bi-allelic loss"),
    };
    let drug = DRUGS.iter().find(|d| d.code == t.drug).map_or(t.drug, |d| d.name);
    format!("{tumour}, {alteration}: {drug}")
}

/// The partners: hospitals first (so hospital i is partner i + 1 and runs site i + 1),
/// then the registry, the companies, the academic group and the early-look partner
/// (with fewer scopes than its kind's).
fn partners() -> Vec<partner::Model> {
    let hospitals = HOSPITALS.iter().map(|h| (h.code, h.name, PartnerKind::Hospital, None));
    let registry = std::iter::once((REGISTRY.code, REGISTRY.name, PartnerKind::Registry, None));
    let industry = INDUSTRY.iter().map(|o| (o.code, o.name, PartnerKind::Industry, None));
    let academic = std::iter::once((ACADEMIC.code, ACADEMIC.name, PartnerKind::Academic, None));
    let early_look =
        std::iter::once((EARLY_LOOK.code, EARLY_LOOK.name, PartnerKind::Academic, Some(EARLY_LOOK_SCOPES)));
    hospitals
        .chain(registry)
        .chain(industry)
        .chain(academic)
        .chain(early_look)
        .enumerate()
        .map(|(i, (code, name, kind, scopes))| partner::Model {
            id: i as i32 + 1,
            code: code.to_owned(),
            name: name.to_owned(),
            kind,
            org_number: org_number(i),
            scopes: scopes.map(str::to_owned),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use OverallResponse::{Cr, Ne, Pd, Pr, Sd};

    #[test]
    fn judging_follows_the_written_endpoint_definitions() {
        // Stable at week 16: evaluable with benefit, known at the week-16 visit.
        assert_eq!(
            judge(&[(8, 56, Sd), (16, 112, Sd)], None),
            Judgement { evaluable: true, benefit: true, known_on: 112 }
        );
        // PD at week 8: evaluable without benefit.
        assert_eq!(judge(&[(8, 56, Pd)], None), Judgement { evaluable: true, benefit: false, known_on: 56 });
        // Died on day 60 with no assessment: evaluable without benefit.
        assert_eq!(judge(&[], Some(60)), Judgement { evaluable: true, benefit: false, known_on: 60 });
        // Stopped after one assessment at week 7 without PD: not evaluable.
        assert!(!judge(&[(7, 49, Sd)], Some(200)).evaluable);
        // PD before a response in the window: no benefit.
        assert!(!judge(&[(8, 56, Pd), (16, 112, Pr)], None).benefit);
        // The first assessment in the window counts, even at week 15.
        assert!(judge(&[(8, 56, Ne), (15, 105, Cr), (17, 119, Pd)], None).benefit);
        // Death on day 98 is not before week 14.
        assert!(!judge(&[], Some(98)).evaluable);
    }

    #[test]
    fn calendar_days_round_trip_through_dates() {
        assert_eq!(day_of(FIRST_REFERRAL), 0);
        assert_eq!(date_of(day_of(DATA_CUT)), DATA_CUT);
        assert_eq!(date_of(1), ymd(2021, 4, 2));
        assert!(day_of(LAST_REFERRAL) + 35 > day_of(DATA_CUT), "late referrals must meet the cut");
    }

    #[test]
    fn weighted_picks_follow_the_weights_and_skip_zero_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            if let Some(i) = pick(&mut rng, &[1.0, 0.0, 3.0]) {
                counts[i] += 1;
            }
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 30_000.0;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        assert_eq!(pick(&mut rng, &[0.0, 0.0]), None);
        assert_eq!(pick(&mut rng, &[]), None);
    }

    #[test]
    fn actionability_is_rescaled_to_the_consortium_target() {
        let plans = plan_tumours();
        let total: f64 = TUMOURS.iter().map(|t| t.weight).sum();
        let expected: f64 = TUMOURS
            .iter()
            .zip(&plans)
            .map(|(t, p)| t.weight * (p.msi_high + (1.0 - p.msi_high) * p.actionable_mss))
            .sum::<f64>()
            / total;
        assert!((expected - ACTIONABLE).abs() < 0.01, "{expected}");
        assert!(plans.iter().all(|p| p.candidate_weights.iter().sum::<f64>() > 0.0));
    }
}
