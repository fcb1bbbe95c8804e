//! Simon's two-stage rule, as each cohort of the trial is monitored: its operating
//! characteristics for a true benefit rate, and the decision a cohort's counts support.
//!
//! In Simon's notation a design is `r1/n1, r/n`: after `n1` evaluable patients the cohort
//! closes for futility if `r1` or fewer have benefit; otherwise it continues to `n`
//! evaluable patients and is positive if more than `r` have benefit in total. The trial's
//! rule is `0/8, 4/24` ([`SimonDesign::TRIAL`]): at least 1 of 8 to continue, at least 5 of
//! 24 to be positive and move on to expansion.
//!
//! # How patients are counted
//!
//! Patients enter the rule in **order of evaluation** (the date their week-16 endpoint is
//! settled, ties broken by the caller in a stable way). **Stage 1 is the first `n1`
//! evaluable patients**; stage 2 is the evaluable patients `n1 + 1 ..= n`. Patients
//! evaluated after the `n`-th are not part of the rule. So while fewer than `n1` patients
//! are evaluable, all of them are stage-1 patients, and `stage1_evaluable` always equals
//! `min(total_evaluable, n1)`; [`SimonDesign::decide`] checks that the caller's counts
//! obey this. [`SimonDesign::decide_in_order`] does the counting from the outcomes in
//! evaluation order.
//!
//! # Early decisions
//!
//! A decision is reported as soon as the remaining patients can no longer change it:
//! stage 1 is passed as soon as `r1 + 1` of its patients have benefit, and closed for
//! futility as soon as even benefit in all its remaining patients would leave it at `r1`
//! or fewer; the cohort is positive as soon as `r + 1` patients in total have benefit and
//! negative as soon as benefit in every remaining patient up to `n` could not reach
//! `r + 1`.

use super::binomial::{at_least, cdf, check_probability, pmf};
use super::StatsError;

/// A two-stage design `r1/n1, r/n`, valid by construction (`r1 < n1 < n`, `r1 ≤ r < n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimonDesign {
    r1: u64,
    n1: u64,
    r: u64,
    n: u64,
}

/// What a design does at a true benefit rate `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingCharacteristics {
    /// The true benefit rate assumed.
    pub p: f64,
    /// Probability of early termination: at most `r1` benefits among the `n1` stage-1
    /// patients.
    pub pet: f64,
    /// Probability that the cohort is positive: it passes stage 1 *and* more than `r` of
    /// all `n` patients have benefit. Unconditional, i.e. not divided by `1 − pet`.
    pub p_positive: f64,
    /// Expected number of evaluable patients, `n1 + (1 − pet)(n − n1)`.
    pub expected_n: f64,
}

/// The decision a cohort's counts support under a [`SimonDesign`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Stage 1 is still open and undecided.
    RecruitingStage1 {
        /// Evaluable patients still to come before stage 1 is complete.
        evaluable_needed: u64,
        /// Further patients with benefit needed to pass stage 1.
        benefits_needed_to_continue: u64,
    },
    /// Stage 1 is passed (possibly before all its patients are evaluable) and no patient
    /// beyond the first `n1` is evaluable yet: open stage 2.
    ContinueToStage2,
    /// At most `r1` of the first `n1` patients can have benefit: close for futility.
    ClosedForFutility,
    /// Stage 2 is under way and undecided.
    RecruitingStage2 {
        /// Evaluable patients still to come before the cohort reaches `n`.
        evaluable_needed: u64,
        /// Further patients with benefit needed for a positive result.
        benefits_needed_for_positive: u64,
    },
    /// More than `r` patients have benefit: the cohort is positive and moves to expansion.
    Positive,
    /// Stage 1 was passed, but more than `r` patients with benefit is out of reach.
    Negative,
}

impl Decision {
    /// Whether the rule has reached its end (futility, positive or negative), so that
    /// no further patient can change the decision.
    pub fn is_final(&self) -> bool {
        matches!(self, Decision::ClosedForFutility | Decision::Positive | Decision::Negative)
    }
}

impl Default for SimonDesign {
    /// The trial's rule, [`SimonDesign::TRIAL`].
    fn default() -> Self {
        Self::TRIAL
    }
}

impl SimonDesign {
    /// The trial's rule, `0/8, 4/24`: at least 1 of 8 to continue, at least 5 of 24 to be
    /// positive (the protocol's [`TWO_STAGE`](consortium_entity::protocol::TWO_STAGE)).
    pub const TRIAL: SimonDesign = {
        let rule = consortium_entity::protocol::TWO_STAGE;
        SimonDesign { r1: rule.r1 as u64, n1: rule.n1 as u64, r: rule.r as u64, n: rule.n as u64 }
    };

    /// The largest total sample size a design may have. Phase II two-stage designs
    /// enrol a few dozen patients (Simon's optimal and minimax designs stay under 150
    /// even for small differences in rate); the bound keeps the cost of the operating
    /// characteristics, quadratic in the sample size, to milliseconds.
    pub const MAX_N: u64 = 250;

    /// A design `r1/n1, r/n`.
    ///
    /// # Errors
    ///
    /// [`StatsError::InvalidDesign`] unless `r1 < n1 < n ≤ MAX_N` and `r1 ≤ r < n`.
    pub fn new(r1: u64, n1: u64, r: u64, n: u64) -> Result<Self, StatsError> {
        if r1 < n1 && n1 < n && n <= Self::MAX_N && r1 <= r && r < n {
            Ok(Self { r1, n1, r, n })
        } else {
            Err(StatsError::InvalidDesign { r1, n1, r, n })
        }
    }

    /// Stage-1 boundary: close for futility with this many benefits or fewer.
    pub fn r1(&self) -> u64 {
        self.r1
    }

    /// Number of evaluable patients in stage 1.
    pub fn n1(&self) -> u64 {
        self.n1
    }

    /// Final boundary: negative with this many benefits or fewer in total.
    pub fn r(&self) -> u64 {
        self.r
    }

    /// Total number of evaluable patients.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Probability of early termination, of a positive result and the expected number of
    /// evaluable patients when each patient has benefit with probability `p`.
    ///
    /// # Errors
    ///
    /// [`StatsError::InvalidProbability`] unless `0 ≤ p ≤ 1`.
    pub fn operating_characteristics(&self, p: f64) -> Result<OperatingCharacteristics, StatsError> {
        check_probability(p)?;
        let n2 = self.n - self.n1;
        let pet = cdf(self.r1, self.n1, p);
        // Sum over the stage-1 results that pass: with x1 benefits in stage 1, stage 2
        // must add at least r + 1 − x1 (nothing once x1 already exceeds r).
        let p_positive: f64 = (self.r1 + 1..=self.n1)
            .map(|x1| pmf(x1, self.n1, p) * at_least((self.r + 1).saturating_sub(x1), n2, p))
            .sum();
        Ok(OperatingCharacteristics {
            p,
            pet,
            p_positive: p_positive.min(1.0),
            expected_n: self.n1 as f64 + (1.0 - pet) * n2 as f64,
        })
    }

    /// The decision supported by a cohort's counts, counted as the module documentation
    /// describes: `stage1_*` among the first `n1` evaluable patients in order of
    /// evaluation, `total_*` among the first `n` (stage 1 included).
    ///
    /// # Errors
    ///
    /// [`StatsError::InconsistentCounts`] for counts that cannot arise from that way of
    /// counting: more benefits than evaluable patients (in stage 1, in total, or in
    /// stage 2 alone), more than `n1` patients in stage 1 or `n` in total, stage-2
    /// patients before stage 1 is full, or stage-1 counts above the totals.
    pub fn decide(
        &self,
        stage1_evaluable: u64,
        stage1_benefits: u64,
        total_evaluable: u64,
        total_benefits: u64,
    ) -> Result<Decision, StatsError> {
        let reject = |reason| StatsError::InconsistentCounts {
            stage1_evaluable,
            stage1_benefits,
            total_evaluable,
            total_benefits,
            reason,
        };
        if stage1_benefits > stage1_evaluable {
            return Err(reject("more stage-1 benefits than stage-1 evaluable patients"));
        }
        if total_benefits > total_evaluable {
            return Err(reject("more benefits than evaluable patients"));
        }
        if stage1_evaluable > self.n1 {
            return Err(reject("stage 1 holds only the first n1 evaluable patients"));
        }
        if total_evaluable > self.n {
            return Err(reject("the rule counts only the first n evaluable patients; pass counts among them"));
        }
        if stage1_evaluable > total_evaluable || stage1_benefits > total_benefits {
            return Err(reject("stage-1 counts exceed the totals"));
        }
        if stage1_evaluable < self.n1 && total_evaluable > stage1_evaluable {
            return Err(reject(
                "stage 1 is the first n1 evaluable patients, so no patient is in stage 2 \
                 before it is full",
            ));
        }
        if total_benefits - stage1_benefits > total_evaluable - stage1_evaluable {
            return Err(reject("more stage-2 benefits than stage-2 evaluable patients"));
        }
        Ok(self.decide_counted(stage1_evaluable, stage1_benefits, total_evaluable, total_benefits))
    }

    /// The decision supported by the outcomes of the evaluable patients in order of
    /// evaluation (`true` = clinical benefit). The first `n1` are stage 1; outcomes after
    /// the `n`-th are not part of the rule and are ignored.
    pub fn decide_in_order(&self, benefit_in_evaluation_order: &[bool]) -> Decision {
        let counted = |limit: u64| {
            let patients = benefit_in_evaluation_order.iter().take(usize::try_from(limit).unwrap_or(usize::MAX));
            let (evaluable, benefits) = patients.fold((0u64, 0u64), |(e, b), &x| (e + 1, b + u64::from(x)));
            (evaluable, benefits)
        };
        let (stage1_evaluable, stage1_benefits) = counted(self.n1);
        let (total_evaluable, total_benefits) = counted(self.n);
        self.decide_counted(stage1_evaluable, stage1_benefits, total_evaluable, total_benefits)
    }

    /// The decision for counts already known to be consistent.
    fn decide_counted(
        &self,
        stage1_evaluable: u64,
        stage1_benefits: u64,
        total_evaluable: u64,
        total_benefits: u64,
    ) -> Decision {
        if stage1_benefits <= self.r1 {
            let remaining = self.n1 - stage1_evaluable;
            if stage1_benefits + remaining <= self.r1 {
                return Decision::ClosedForFutility;
            }
            return Decision::RecruitingStage1 {
                evaluable_needed: remaining,
                benefits_needed_to_continue: self.r1 + 1 - stage1_benefits,
            };
        }
        if total_benefits > self.r {
            return Decision::Positive;
        }
        if total_benefits + (self.n - total_evaluable) <= self.r {
            return Decision::Negative;
        }
        if total_evaluable <= self.n1 {
            return Decision::ContinueToStage2;
        }
        Decision::RecruitingStage2 {
            evaluable_needed: self.n - total_evaluable,
            benefits_needed_for_positive: self.r + 1 - total_benefits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{assert_close, Table};

    #[test]
    fn every_reference_row_of_the_trial_rule_is_reproduced() {
        let table = Table::read("simon_drup_rule");
        for row in &table.rows {
            let design = SimonDesign::new(
                table.count(row, "r1"),
                table.count(row, "n1"),
                table.count(row, "r"),
                table.count(row, "n"),
            )
            .expect("the reference design is valid");
            let p = table.float(row, "p");
            let oc = design.operating_characteristics(p).expect("valid p");
            let what = format!("p = {p}");
            assert_eq!(oc.p, p);
            assert_close(oc.pet, table.float(row, "pet"), &what);
            assert_close(oc.p_positive, table.float(row, "p_positive"), &what);
            assert_close(oc.expected_n, table.float(row, "expected_n"), &what);
        }
    }

    #[test]
    fn the_trial_default_is_the_design_of_the_reference_file() {
        let table = Table::read("simon_drup_rule");
        for row in &table.rows {
            let design = SimonDesign::new(
                table.count(row, "r1"),
                table.count(row, "n1"),
                table.count(row, "r"),
                table.count(row, "n"),
            );
            assert_eq!(design, Ok(SimonDesign::TRIAL));
        }
        assert_eq!(SimonDesign::default(), SimonDesign::TRIAL);
    }

    #[test]
    fn operating_characteristics_agree_with_the_decisions_on_every_outcome() {
        // Enumerate every (stage-1, stage-2) result, weigh it by its binomial probability
        // and ask `decide` what happens: the totals must equal the closed-form sums.
        for design in [
            SimonDesign::TRIAL,
            SimonDesign::new(1, 10, 5, 29).expect("valid"),
            SimonDesign::new(2, 9, 2, 12).expect("valid"),
        ] {
            let n2 = design.n() - design.n1();
            for p in [0.0, 0.03, 0.1, 0.35, 0.6, 1.0] {
                let (mut stop, mut positive) = (0.0, 0.0);
                for x1 in 0..=design.n1() {
                    let p1 = pmf(x1, design.n1(), p);
                    let at_stage1 = design.decide(design.n1(), x1, design.n1(), x1).expect("consistent");
                    if at_stage1 == Decision::ClosedForFutility {
                        stop += p1;
                        continue;
                    }
                    for x2 in 0..=n2 {
                        let end = design.decide(design.n1(), x1, design.n(), x1 + x2).expect("consistent");
                        assert!(end.is_final(), "{end:?} after all n patients");
                        if end == Decision::Positive {
                            positive += p1 * pmf(x2, n2, p);
                        }
                    }
                }
                let oc = design.operating_characteristics(p).expect("valid p");
                assert!((oc.pet - stop).abs() < 1e-12, "{design:?} p = {p}");
                assert!((oc.p_positive - positive).abs() < 1e-12, "{design:?} p = {p}");
            }
        }
    }

    #[test]
    fn certain_failure_and_certain_benefit_are_the_extremes() {
        let none = SimonDesign::TRIAL.operating_characteristics(0.0).expect("valid");
        assert_eq!((none.pet, none.p_positive, none.expected_n), (1.0, 0.0, 8.0));
        let all = SimonDesign::TRIAL.operating_characteristics(1.0).expect("valid");
        assert_eq!((all.pet, all.p_positive, all.expected_n), (0.0, 1.0, 24.0));
    }

    #[test]
    fn a_rate_outside_the_unit_interval_is_an_error() {
        for p in [-0.01, 1.01, f64::NAN] {
            assert!(matches!(SimonDesign::TRIAL.operating_characteristics(p), Err(StatsError::InvalidProbability(_))));
        }
    }

    #[test]
    fn designs_that_break_an_inequality_are_rejected() {
        for (r1, n1, r, n) in [
            (8, 8, 10, 24),        // r1 < n1
            (0, 24, 4, 24),        // n1 < n
            (0, 30, 4, 24),        // n1 < n
            (3, 8, 2, 24),         // r1 <= r
            (0, 8, 24, 24),        // r < n
            (0, 0, 0, 1),          // r1 < n1 needs a stage 1
            (0, 8, 4, 10_000_000), // no trial is that large
        ] {
            assert_eq!(SimonDesign::new(r1, n1, r, n), Err(StatsError::InvalidDesign { r1, n1, r, n }));
        }
        let tight = SimonDesign::new(2, 8, 2, 9).expect("r = r1 and n = n1 + 1 are allowed");
        assert_eq!((tight.r1(), tight.n1(), tight.r(), tight.n()), (2, 8, 2, 9));
    }

    #[test]
    fn a_new_cohort_is_recruiting_stage_one() {
        assert_eq!(
            SimonDesign::TRIAL.decide(0, 0, 0, 0),
            Ok(Decision::RecruitingStage1 { evaluable_needed: 8, benefits_needed_to_continue: 1 })
        );
        assert_eq!(
            SimonDesign::TRIAL.decide(5, 0, 5, 0),
            Ok(Decision::RecruitingStage1 { evaluable_needed: 3, benefits_needed_to_continue: 1 })
        );
    }

    #[test]
    fn stage_one_passes_as_soon_as_its_first_benefit_is_seen() {
        assert_eq!(SimonDesign::TRIAL.decide(3, 1, 3, 1), Ok(Decision::ContinueToStage2));
        assert_eq!(SimonDesign::TRIAL.decide(8, 1, 8, 1), Ok(Decision::ContinueToStage2));
    }

    #[test]
    fn no_benefit_in_the_first_eight_closes_for_futility() {
        assert_eq!(SimonDesign::TRIAL.decide(8, 0, 8, 0), Ok(Decision::ClosedForFutility));
        // Later benefits do not rescue stage 1: it is the first eight that count.
        let mut outcomes = [false; 12];
        outcomes[8] = true;
        outcomes[9] = true;
        assert_eq!(SimonDesign::TRIAL.decide_in_order(&outcomes), Decision::ClosedForFutility);
    }

    #[test]
    fn futility_is_declared_early_once_stage_one_cannot_pass() {
        // 1/5, 3/10: two benefits needed among five; none in the first four leaves at most
        // one.
        let design = SimonDesign::new(1, 5, 3, 10).expect("valid");
        assert_eq!(design.decide(4, 0, 4, 0), Ok(Decision::ClosedForFutility));
        assert_eq!(
            design.decide(3, 0, 3, 0),
            Ok(Decision::RecruitingStage1 { evaluable_needed: 2, benefits_needed_to_continue: 2 })
        );
    }

    #[test]
    fn stage_two_reports_what_is_still_needed() {
        assert_eq!(
            SimonDesign::TRIAL.decide(8, 1, 10, 2),
            Ok(Decision::RecruitingStage2 { evaluable_needed: 14, benefits_needed_for_positive: 3 })
        );
    }

    #[test]
    fn five_benefits_make_the_cohort_positive_even_before_twenty_four() {
        assert_eq!(SimonDesign::TRIAL.decide(8, 2, 15, 5), Ok(Decision::Positive));
        assert_eq!(SimonDesign::TRIAL.decide(8, 1, 24, 5), Ok(Decision::Positive));
        // Five of the first five: both stages are settled at once.
        assert_eq!(SimonDesign::TRIAL.decide(5, 5, 5, 5), Ok(Decision::Positive));
    }

    #[test]
    fn the_cohort_is_negative_once_five_benefits_are_out_of_reach() {
        assert_eq!(SimonDesign::TRIAL.decide(8, 1, 24, 4), Ok(Decision::Negative));
        // Two benefits and two patients to go: at most four.
        assert_eq!(SimonDesign::TRIAL.decide(8, 1, 22, 2), Ok(Decision::Negative));
        // Three patients to go can still make five.
        assert_eq!(
            SimonDesign::TRIAL.decide(8, 1, 21, 2),
            Ok(Decision::RecruitingStage2 { evaluable_needed: 3, benefits_needed_for_positive: 3 })
        );
    }

    #[test]
    fn counts_that_break_the_counting_rule_are_rejected() {
        for (s1e, s1b, te, tb) in [
            (3, 4, 3, 4),   // more stage-1 benefits than patients
            (8, 1, 10, 11), // more benefits than patients
            (9, 1, 9, 1),   // stage 1 holds eight
            (8, 1, 25, 5),  // only the first 24 count
            (8, 1, 7, 1),   // total below stage 1
            (8, 3, 10, 2),  // stage-1 benefits above the total
            (5, 1, 7, 2),   // stage 2 before stage 1 is full
            (8, 0, 9, 2),   // two stage-2 benefits from one stage-2 patient
        ] {
            assert!(
                matches!(SimonDesign::TRIAL.decide(s1e, s1b, te, tb), Err(StatsError::InconsistentCounts { .. })),
                "({s1e}, {s1b}, {te}, {tb}) accepted"
            );
        }
    }

    #[test]
    fn deciding_from_outcomes_in_order_counts_the_first_eight_as_stage_one() {
        let design = SimonDesign::TRIAL;
        assert_eq!(
            design.decide_in_order(&[]),
            Decision::RecruitingStage1 { evaluable_needed: 8, benefits_needed_to_continue: 1 }
        );
        let mut outcomes = vec![false; 8];
        outcomes[7] = true;
        assert_eq!(design.decide_in_order(&outcomes), Decision::ContinueToStage2);
        outcomes.extend([true, false, true]);
        assert_eq!(
            design.decide_in_order(&outcomes),
            Decision::RecruitingStage2 { evaluable_needed: 13, benefits_needed_for_positive: 2 }
        );
        // Benefits after the 24th patient are not part of the rule.
        let mut late = vec![false; 30];
        late[0] = true;
        late[25..].iter_mut().for_each(|b| *b = true);
        assert_eq!(design.decide_in_order(&late), Decision::Negative);
    }

    #[test]
    fn only_futility_positive_and_negative_are_final() {
        assert!(Decision::ClosedForFutility.is_final());
        assert!(Decision::Positive.is_final());
        assert!(Decision::Negative.is_final());
        assert!(!Decision::ContinueToStage2.is_final());
        assert!(!Decision::RecruitingStage1 { evaluable_needed: 1, benefits_needed_to_continue: 1 }.is_final());
        assert!(!Decision::RecruitingStage2 { evaluable_needed: 1, benefits_needed_for_positive: 1 }.is_final());
    }
}
