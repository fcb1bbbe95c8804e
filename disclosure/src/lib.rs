//! Disclosure control: the rules that decide, for every number computed about patients,
//! whether and how it may be released. Pure functions of (policy, cells with the patient
//! sets behind them, who asks): no database, no HTTP, no GraphQL, no polars.
//!
//! * [`patients`]: [`PatientSet`], the compact sorted set of patients behind a cell.
//! * [`policy`]: [`Policy`], the thresholds a partner kind gets, with a version every
//!   release names.
//! * [`cellkey`]: the cell-key method (consistent perturbation of counts), the default
//!   of every partner kind: protection across questions with no memory.
//! * [`rules`]: the rules that look at one cell at a time (primary suppression, the
//!   insider rule for hospitals, site dominance for industry).
//! * [`differencing`]: the guard across responses: a [`Ledger`] of the patient sets
//!   released on a data version, and the rule withholding a cell that differs from one
//!   of them by fewer than k patients.
//! * [`complementary`]: secondary suppression across all cells of one response, so no
//!   withheld cell can be recomputed from published ones (a rank test over the cells'
//!   patient sets, in the manner of Statistics Norway's GaussSuppression).
//! * [`noise`]: the noisy tier's mechanism (OpenDP's discrete Laplace), for partners
//!   whose policy releases counts with differentially private noise instead. It is the
//!   one part that is not a pure function: it draws random numbers.
//! * [`release`]: [`protect`] runs them in order and says, per cell, what happened.
#![warn(missing_docs)]

pub mod cellkey;
pub mod complementary;
pub mod differencing;
pub mod noise;
pub mod policy;
pub mod release;
pub mod rules;

pub use cellkey::{Perturbation, RecordKeys};
pub use consortium_patients::PatientSet;
pub use differencing::Ledger;
pub use noise::Noise;
pub use policy::{Policy, Requester};
pub use release::{protect, Outcome, Precision};
