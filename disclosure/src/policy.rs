//! Policies: the thresholds each kind of partner gets, and who is asking.
//!
//! Defaults, and what each protects against (the README's disclosure section has the
//! full table):
//!
//! | kind | k | perturbation σ (bound D) | insider rule | dominance | survival times |
//! |---|---|---|---|---|---|
//! | industry | 5 | 2 (±12) | — | no site above 80% of a cell | 1-month bins |
//! | hospital | 5 | 2 (±12) | ≥ k patients from other sites | — | 1-month bins |
//! | registry | 3 | 1.5 (±9) | — | — | 1-month bins |
//! | academic | 3 | 1.5 (±9) | — | — | 1-month bins |
//!
//! Every kind is on the cell-key method by default ([`crate::cellkey`]): counts are
//! published perturbed, consistently for the same patients, and zeros and small cells
//! are withheld alike under one reason. A deployment may take a named partner off it
//! (`perturbation=off`, for example the trial's own statistics group, which works on the
//! pseudonymised data anyway): that partner gets exact counts under the per-answer
//! rules, which do **not** protect against combining many answers.
//!
//! No kind is on the noisy tier by default: a deployment puts a partner or a kind on
//! it (`DISCLOSURE_OVERRIDES`, `noise=` and `budget=`), for example a public or
//! early-look partner that should see trends, never exact small numbers.
//!
//! Industry and hospitals get the consortium's k = 5 (`disclosure.md`). The registry
//! already holds every profiled patient's identity and vital status by law, and the
//! academic partners (trial statisticians, the tumour board) work under the trial's
//! data-processing agreement with pseudonymised data; for both, released aggregates
//! still end up in reports, so they keep the floor Norwegian health statistics use for
//! publication (counts under three are disclosive, helsedata.no).

use crate::cellkey::Perturbation;

/// A disclosure policy. Its `version` is named by every release made under it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The policy's version: bumped whenever a default changes.
    pub version: u32,
    /// A count resting on 1..k−1 patients is withheld.
    pub k: u32,
    /// Whether a zero count is withheld too (it tells that nobody has the property).
    pub zeros_disclosive: bool,
    /// Cells must rest on at least k patients outside the requester's own (hospitals).
    pub insider: bool,
    /// No single site may hold more than this share of a cell's patients (industry).
    pub dominance: Option<f64>,
    /// Survival times are coarsened to the end of bins of this many months, so no
    /// step of a curve is one patient's day.
    pub survival_bin_months: Option<f64>,
    /// The noisy tier: counts are released with differentially private noise under a
    /// privacy budget instead of being checked by the rules above (see [`crate::noise`]).
    pub noise: Option<crate::noise::Noise>,
    /// The cell-key method: counts are released consistently perturbed (see
    /// [`crate::cellkey`]); `None` releases exact counts.
    pub perturbation: Option<crate::cellkey::Perturbation>,
}

impl Policy {
    /// The version of the defaults below.
    pub const VERSION: u32 = 2;

    /// An industry partner's default.
    pub const INDUSTRY: Policy = Policy {
        version: Self::VERSION,
        k: 5,
        zeros_disclosive: false,
        insider: false,
        dominance: Some(0.8),
        survival_bin_months: Some(1.0),
        noise: None,
        perturbation: Some(Perturbation { sd: 2.0 }),
    };
    /// A hospital's default.
    pub const HOSPITAL: Policy = Policy {
        version: Self::VERSION,
        k: 5,
        zeros_disclosive: false,
        insider: true,
        dominance: None,
        survival_bin_months: Some(1.0),
        noise: None,
        perturbation: Some(Perturbation { sd: 2.0 }),
    };
    /// The registry's default.
    pub const REGISTRY: Policy = Policy {
        version: Self::VERSION,
        k: 3,
        zeros_disclosive: false,
        insider: false,
        dominance: None,
        survival_bin_months: Some(1.0),
        noise: None,
        perturbation: Some(Perturbation { sd: 1.5 }),
    };
    /// An academic partner's default.
    pub const ACADEMIC: Policy = Policy {
        version: Self::VERSION,
        k: 3,
        zeros_disclosive: false,
        insider: false,
        dominance: None,
        survival_bin_months: Some(1.0),
        noise: None,
        perturbation: Some(Perturbation { sd: 1.5 }),
    };
}

/// Who is asking, as far as the rules care.
#[derive(Clone, Copy)]
pub struct Requester<'a> {
    /// The patients the requester knows individually (a hospital's own patients).
    pub own: Option<&'a crate::PatientSet>,
    /// Each patient's site, for the dominance rule.
    pub site_of: Option<&'a (dyn Fn(u32) -> Option<i32> + Sync)>,
    /// What was released before on this data version, for the differencing guard.
    pub released: Option<&'a crate::Ledger>,
    /// The patients' record keys, for the cell-key method.
    pub keys: Option<&'a crate::cellkey::RecordKeys>,
}

impl std::fmt::Debug for Requester<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester")
            .field("own", &self.own.map(|o| o.len()))
            .field("released", &self.released.map(|l| l.len()))
            .finish_non_exhaustive()
    }
}

impl Requester<'_> {
    /// A requester the rules know nothing particular about.
    pub const ANYONE: Requester<'static> = Requester { own: None, site_of: None, released: None, keys: None };
}
