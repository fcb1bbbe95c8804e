//! Binomial quantities: the exact (Clopper–Pearson) interval for a proportion, and the
//! binomial probabilities that the two-stage rule's operating characteristics are sums of.
//!
//! The interval's bounds are beta quantiles, computed with `statrs`' inverse regularized
//! incomplete beta (algorithm AS 64 with Newton steps), which is accurate to about 1e-12
//! for n up to several thousand, far inside the 1e-9 the reports need; the tests hold it
//! to the reference file, to the defining binomial tail sums, to the beta quantile
//! equations and to a few values computed in 40-digit arithmetic.

use statrs::function::beta::inv_beta_reg;
use statrs::function::factorial::ln_binomial;

use super::StatsError;

/// A proportion `events / n` with its exact two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    /// Patients with the event (e.g. clinical benefit at week 16).
    pub events: u64,
    /// Patients counted (e.g. evaluable).
    pub n: u64,
    /// `events / n`.
    pub estimate: f64,
    /// Lower bound of the interval; exactly 0 when `events` is 0.
    pub lower: f64,
    /// Upper bound of the interval; exactly 1 when `events` equals `n`.
    pub upper: f64,
}

/// The Clopper–Pearson ("exact") interval for `events` out of `n` at the given
/// two-sided `confidence` (0.95 for the trial's 95% intervals).
///
/// With `α = 1 − confidence`, the lower bound is the `α/2` quantile of
/// Beta(events, n − events + 1) and the upper bound the `1 − α/2` quantile of
/// Beta(events + 1, n − events); the lower bound is 0 when there are no events and the
/// upper bound 1 when every trial is an event.
///
/// # Errors
///
/// [`StatsError::NoTrials`] when `n` is 0, [`StatsError::EventsExceedTrials`] when
/// `events > n`, [`StatsError::InvalidConfidence`] unless `0 < confidence < 1`.
pub fn clopper_pearson(events: u64, n: u64, confidence: f64) -> Result<Proportion, StatsError> {
    // Written as a negated conjunction so that NaN is rejected too.
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(StatsError::InvalidConfidence(confidence));
    }
    if n == 0 {
        return Err(StatsError::NoTrials);
    }
    if events > n {
        return Err(StatsError::EventsExceedTrials { events, n });
    }
    let tail = (1.0 - confidence) / 2.0;
    let (x, m) = (events as f64, n as f64);

    // At the boundaries the beta distribution in question is Beta(1, n) or Beta(n, 1),
    // whose quantiles have closed forms; using them keeps 0 of n (a common result of a
    // cohort's stage 1) exact to rounding even for large n, where the iterative inverse
    // loses a few digits in the far tail.
    let lower = if events == 0 {
        0.0
    } else if events == n {
        (tail.ln() / m).exp()
    } else {
        inv_beta_reg(x, m - x + 1.0, tail)
    };
    let upper = if events == n {
        1.0
    } else if events == 0 {
        -(tail.ln() / m).exp_m1()
    } else {
        inv_beta_reg(x + 1.0, m - x, 1.0 - tail)
    };

    Ok(Proportion { events, n, estimate: x / m, lower, upper })
}

/// P(X = k) for X ~ Binomial(n, p).
///
/// # Errors
///
/// [`StatsError::InvalidProbability`] unless `0 ≤ p ≤ 1`.
pub fn binomial_pmf(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    check_probability(p)?;
    Ok(pmf(k, n, p))
}

/// P(X ≤ k) for X ~ Binomial(n, p).
///
/// # Errors
///
/// [`StatsError::InvalidProbability`] unless `0 ≤ p ≤ 1`.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    check_probability(p)?;
    Ok(cdf(k, n, p))
}

/// Rejects a probability outside [0, 1] (and NaN).
pub(crate) fn check_probability(p: f64) -> Result<(), StatsError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(StatsError::InvalidProbability(p))
    }
}

/// P(X = k) for a `p` already known to lie in [0, 1].
pub(crate) fn pmf(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    // The degenerate rates are exact point masses; the logarithmic form below would
    // evaluate 0 · ln 0 as NaN.
    if p == 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p == 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    let (k_f, rest) = (k as f64, (n - k) as f64);
    // ln(1 − p) through ln_1p keeps small rates (a 3% benefit rate) accurate.
    (ln_binomial(n, k) + k_f * p.ln() + rest * (-p).ln_1p()).exp()
}

/// P(X ≤ k) for a `p` already known to lie in [0, 1].
pub(crate) fn cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    // A direct sum of non-negative terms: the trial's designs have n of a few dozen, and
    // summing avoids the cancellation of 1 − (upper tail).
    let sum: f64 = (0..=k).map(|j| pmf(j, n, p)).sum();
    sum.min(1.0)
}

/// P(X ≥ k) for a `p` already known to lie in [0, 1].
pub(crate) fn at_least(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let sum: f64 = (k..=n).map(|j| pmf(j, n, p)).sum();
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{assert_close, Table};
    use statrs::distribution::{Beta, Continuous};
    use statrs::function::beta::beta_reg;

    #[test]
    fn every_reference_interval_is_reproduced_to_1e_minus_6() {
        let table = Table::read("clopper_pearson");
        for row in &table.rows {
            let events = table.count(row, "events");
            let n = table.count(row, "n");
            let p = clopper_pearson(events, n, 0.95).expect("valid input");
            let what = format!("{events} of {n}");
            assert_eq!((p.events, p.n), (events, n));
            assert_close(p.estimate, table.float(row, "estimate"), &what);
            assert_close(p.lower, table.float(row, "lower95"), &what);
            assert_close(p.upper, table.float(row, "upper95"), &what);
        }
    }

    #[test]
    fn zero_events_have_a_lower_bound_of_exactly_zero() {
        for n in [1, 8, 24, 1000] {
            let p = clopper_pearson(0, n, 0.95).expect("valid input");
            assert_eq!(p.lower, 0.0);
            assert_eq!(p.estimate, 0.0);
            // The closed-form upper bound must still solve P(X = 0 | upper) = α/2.
            assert!((pmf(0, n, p.upper) - 0.025).abs() < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn all_events_have_an_upper_bound_of_exactly_one() {
        for n in [1, 8, 24, 1000] {
            let p = clopper_pearson(n, n, 0.95).expect("valid input");
            assert_eq!(p.upper, 1.0);
            assert_eq!(p.estimate, 1.0);
            assert!((pmf(n, n, p.lower) - 0.025).abs() < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn interval_bounds_solve_the_defining_binomial_tail_equations() {
        // Lower bound p_L: P(X ≥ x | p_L) = α/2; upper bound p_U: P(X ≤ x | p_U) = α/2.
        // The tails are summed from the pmf, a path independent of the beta inverse.
        for n in 1..=60u64 {
            for x in 0..=n {
                for confidence in [0.8, 0.9, 0.95, 0.99] {
                    let p = clopper_pearson(x, n, confidence).expect("valid input");
                    let tail = (1.0 - confidence) / 2.0;
                    if x > 0 {
                        let t = at_least(x, n, p.lower);
                        assert!((t - tail).abs() < 1e-10, "lower {x}/{n}: tail {t}");
                    }
                    if x < n {
                        let t = cdf(x, n, p.upper);
                        assert!((t - tail).abs() < 1e-10, "upper {x}/{n}: tail {t}");
                    }
                    assert!(p.lower <= p.estimate && p.estimate <= p.upper);
                }
            }
        }
    }

    #[test]
    fn interval_bounds_are_the_beta_quantiles_to_1e_minus_10() {
        // The distance to the exact quantile is, to first order, the CDF's residual at
        // the bound divided by the density there (the size of one more Newton step).
        let quantile_error = |a: f64, b: f64, x: f64, target: f64| {
            let beta = Beta::new(a, b).expect("positive shapes");
            (beta_reg(a, b, x) - target).abs() / beta.pdf(x)
        };
        for n in [2u64, 10, 50, 200, 1000, 3000] {
            for x in 1..n {
                let p = clopper_pearson(x, n, 0.95).expect("valid input");
                let (xf, nf) = (x as f64, n as f64);
                let lo = quantile_error(xf, nf - xf + 1.0, p.lower, 0.025);
                let hi = quantile_error(xf + 1.0, nf - xf, p.upper, 0.975);
                assert!(lo < 1e-10 && hi < 1e-10, "{x}/{n}: errors {lo}, {hi}");
            }
        }
    }

    #[test]
    fn large_samples_agree_with_arbitrary_precision_values_to_1e_minus_9() {
        // (events, n, confidence, lower, upper) from a 40-digit bisection on the
        // regularized incomplete beta function.
        let cases = [
            (1, 100, 0.90, 0.000_512_801_416_262_292_1, 0.046_559_811_453_538_95),
            (99, 100, 0.90, 0.953_440_188_546_461_1, 0.999_487_198_583_737_7),
            (2, 1000, 0.99, 0.000_103_540_972_574_716_2, 0.009_240_130_636_205_58),
            (0, 5000, 0.90, 0.0, 0.000_598_967_002_314_913_6),
            (714, 5000, 0.99, 0.130_300_820_718_710_6, 0.155_985_847_159_038_6),
            (1666, 5000, 0.99, 0.316_095_645_949_340_6, 0.350_624_129_820_495_4),
        ];
        for (x, n, confidence, lower, upper) in cases {
            let p = clopper_pearson(x, n, confidence).expect("valid input");
            assert!((p.lower - lower).abs() < 1e-9, "{x}/{n}: {}", p.lower);
            assert!((p.upper - upper).abs() < 1e-9, "{x}/{n}: {}", p.upper);
        }
    }

    #[test]
    fn a_higher_confidence_gives_a_wider_interval() {
        let narrow = clopper_pearson(11, 24, 0.90).expect("valid input");
        let wide = clopper_pearson(11, 24, 0.99).expect("valid input");
        assert!(wide.lower < narrow.lower && narrow.upper < wide.upper);
    }

    #[test]
    fn zero_trials_are_an_error() {
        assert_eq!(clopper_pearson(0, 0, 0.95), Err(StatsError::NoTrials));
    }

    #[test]
    fn more_events_than_trials_are_an_error() {
        assert_eq!(clopper_pearson(9, 8, 0.95), Err(StatsError::EventsExceedTrials { events: 9, n: 8 }));
    }

    #[test]
    fn a_confidence_outside_the_open_unit_interval_is_an_error() {
        for c in [0.0, 1.0, -0.5, 95.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(clopper_pearson(1, 8, c), Err(StatsError::InvalidConfidence(_))), "confidence {c}");
        }
    }

    /// C(n, k) by exact integer arithmetic, for checking the logarithmic pmf.
    fn exact_choose(n: u64, k: u64) -> u128 {
        (0..k).fold(1u128, |acc, i| acc * u128::from(n - i) / u128::from(i + 1))
    }

    #[test]
    fn the_pmf_matches_exact_binomial_coefficients() {
        for n in [1u64, 8, 16, 24, 40] {
            for k in 0..=n {
                for p in [0.03_f64, 0.1, 0.35, 0.6, 0.97] {
                    let direct = exact_choose(n, k) as f64 * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32);
                    let got = binomial_pmf(k, n, p).expect("valid p");
                    assert!(
                        (got - direct).abs() <= 1e-12 * direct.max(1e-300) + 1e-300,
                        "pmf({k}; {n}, {p}) = {got}, direct {direct}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_pmf_sums_to_one_and_the_cdf_accumulates_it() {
        for p in [0.0, 0.05, 0.5, 0.95, 1.0] {
            let total: f64 = (0..=24).map(|k| pmf(k, 24, p)).sum();
            assert!((total - 1.0).abs() < 1e-12, "p = {p}");
            let mut running = 0.0;
            for k in 0..=24 {
                running += pmf(k, 24, p);
                let c = binomial_cdf(k, 24, p).expect("valid p");
                assert!((c - running).abs() < 1e-12, "cdf({k}) at p = {p}");
                assert!((at_least(k + 1, 24, p) - (1.0 - running)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn degenerate_rates_are_point_masses() {
        assert_eq!(binomial_pmf(0, 8, 0.0), Ok(1.0));
        assert_eq!(binomial_pmf(1, 8, 0.0), Ok(0.0));
        assert_eq!(binomial_pmf(8, 8, 1.0), Ok(1.0));
        assert_eq!(binomial_pmf(7, 8, 1.0), Ok(0.0));
        assert_eq!(binomial_pmf(9, 8, 0.5), Ok(0.0));
        assert_eq!(binomial_cdf(8, 8, 0.3), Ok(1.0));
    }

    #[test]
    fn a_probability_outside_the_unit_interval_is_an_error() {
        for p in [-0.1, 1.1, f64::NAN] {
            assert!(matches!(binomial_pmf(1, 8, p), Err(StatsError::InvalidProbability(_))));
            assert!(matches!(binomial_cdf(1, 8, p), Err(StatsError::InvalidProbability(_))));
        }
    }
}
