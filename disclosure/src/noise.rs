//! The noisy tier: counts released with differentially private noise, through OpenDP.
//!
//! A partner whose policy has [`Noise`] gets every count of patients with noise from
//! OpenDP's discrete Laplace mechanism (the two-sided geometric distribution, on
//! integers) instead of the rules that withhold small cells: a count's sensitivity is
//! one patient, so noise of scale 1/ε makes releasing it ε-differentially private, and
//! small counts need no suppression. Values derived from counts (rates, intervals,
//! survival curves, quantiles) are not released in this tier: OpenDP offers no
//! mechanism for them that this service could account for honestly.
//!
//! What the rest of the service adds (see the API's `privacy` module): the noisy value
//! of a patient set is drawn once per data version and kept, so asking again, or
//! asking the same thing another way, returns the same value and costs nothing; every
//! newly released value is charged ε against the partner's budget per window.
//!
//! Noisy counts below zero are published as zero (post-processing, which differential
//! privacy allows). Randomness comes from the operating system through `rand`'s
//! thread generator, not OpenSSL: OpenDP's OpenSSL feature would compile OpenSSL from
//! source in every cold build.

use opendp::core::Measurement;
use opendp::domains::AtomDomain;
use opendp::measurements::make_laplace;
use opendp::measures::MaxDivergence;
use opendp::metrics::AbsoluteDistance;

/// A policy's noisy tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The privacy loss of releasing one count: the noise scale is 1/ε.
    pub epsilon: f64,
    /// The privacy loss a partner may spend per budget window.
    pub budget: f64,
}

/// A noisy tier that cannot be set up, or a draw that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseError(pub String);

impl std::fmt::Display for NoiseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoiseError {}

impl Noise {
    /// ε per count when a policy turns noise on without saying.
    pub const DEFAULT_EPSILON: f64 = 0.5;
    /// ε per window when a policy turns noise on without saying: twenty counts at the
    /// default ε.
    pub const DEFAULT_BUDGET: f64 = 10.0;

    /// The mechanism releasing counts under this tier.
    ///
    /// # Errors
    ///
    /// When ε is not a positive finite number.
    pub fn mechanism(&self) -> Result<Mechanism, NoiseError> {
        Mechanism::new(self.epsilon)
    }
}

/// The discrete Laplace mechanism for counts at one ε. It holds the mechanism's numbers
/// only: OpenDP's measurement is built where values are drawn (it is neither `Send` nor
/// `Sync`), once for every batch of counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mechanism {
    scale: f64,
    epsilon: f64,
    margin95: u64,
}

type Laplace = Measurement<AtomDomain<i64>, AbsoluteDistance<i64>, MaxDivergence, i64>;

fn opendp_error(error: impl std::fmt::Debug) -> NoiseError {
    NoiseError(format!("OpenDP: {error:?}"))
}

fn laplace(scale: f64) -> Result<Laplace, NoiseError> {
    make_laplace::<_, _, MaxDivergence>(AtomDomain::<i64>::default(), AbsoluteDistance::<i64>::default(), scale, None)
        .map_err(opendp_error)
}

impl Mechanism {
    /// The mechanism for counts at `epsilon`.
    ///
    /// # Errors
    ///
    /// When `epsilon` is not a positive finite number, or OpenDP refuses the scale.
    pub fn new(epsilon: f64) -> Result<Mechanism, NoiseError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(NoiseError(format!("ε must be a positive number, not {epsilon}")));
        }
        let scale = 1.0 / epsilon;
        // The loss OpenDP's privacy map proves for one patient more or less (rounded
        // up by OpenDP, so never below the ε asked for).
        let proven = laplace(scale)?.map(&1).map_err(opendp_error)?;
        let accuracy = opendp::accuracy::discrete_laplacian_scale_to_accuracy(scale, 0.05).map_err(opendp_error)?;
        // P(|noise| ≥ accuracy) = 5%; the noise is whole, so |noise| ≤ ⌈accuracy⌉ − 1
        // with probability 95%.
        let margin95 = (accuracy.ceil() - 1.0).max(0.0) as u64;
        Ok(Mechanism { scale, epsilon: proven, margin95 })
    }

    /// The privacy loss of one release, as OpenDP proves it.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The noise is within ± this with probability at least 95%.
    pub fn margin95(&self) -> u64 {
        self.margin95
    }

    /// `counts` with fresh noise each, published as zero when a noisy value is negative.
    ///
    /// # Errors
    ///
    /// When a count is beyond `i64` or OpenDP cannot draw (no system entropy).
    pub fn release(&self, counts: &[u64]) -> Result<Vec<u64>, NoiseError> {
        let measurement = laplace(self.scale)?;
        counts
            .iter()
            .map(|&count| {
                let count = i64::try_from(count).map_err(|_| NoiseError(format!("{count} is too large a count")))?;
                let noisy = measurement.invoke(&count).map_err(opendp_error)?;
                Ok(u64::try_from(noisy).unwrap_or(0))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_must_be_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Mechanism::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_proven_loss_is_the_epsilon_asked_for() {
        let mechanism = Mechanism::new(0.5).expect("mechanism");
        assert!((mechanism.epsilon() - 0.5).abs() < 1e-9, "{}", mechanism.epsilon());
    }

    #[test]
    fn the_margin_holds_the_noise_ninety_five_times_in_a_hundred() {
        // P(|X| > m) for the two-sided geometric with α = e^−ε is 2α^(m+1)/(1+α).
        for epsilon in [0.1, 0.5, 1.0] {
            let mechanism = Mechanism::new(epsilon).expect("mechanism");
            let m = mechanism.margin95() as f64;
            let alpha = (-epsilon).exp();
            let outside = |m: f64| 2.0 * alpha.powf(m + 1.0) / (1.0 + alpha);
            assert!(outside(m) <= 0.05, "ε {epsilon}: P(|X| > {m}) = {}", outside(m));
            assert!(outside(m - 1.0) > 0.05, "ε {epsilon}: {m} is not the smallest margin");
        }
        // And the draws agree: 20,000 draws at ε = 0.5 around 1,000 (tolerance far
        // beyond sampling error: the standard error of the share is 0.0015).
        let mechanism = Mechanism::new(0.5).expect("mechanism");
        let margin = mechanism.margin95();
        let draws = 20_000;
        let within = mechanism
            .release(&vec![1_000; draws])
            .expect("draws")
            .iter()
            .filter(|d| d.abs_diff(1_000) <= margin)
            .count();
        let share = within as f64 / draws as f64;
        assert!((0.94..0.97).contains(&share), "{share} of draws within ±{margin}");
    }

    #[test]
    fn noisy_counts_vary_and_are_never_negative() {
        let mechanism = Mechanism::new(0.5).expect("mechanism");
        let draws = mechanism.release(&[0; 200]).expect("draws");
        assert!(draws.iter().any(|d| *d > 0), "noise was added");
        assert!(draws.contains(&0), "negative draws are published as zero");
    }
}
