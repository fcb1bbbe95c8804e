//! What an answer adds to what the service remembers across requests: decided here,
//! written with the answer's audit record (see [`crate::pipeline::record::recorder`]).

use super::ledger::NewSets;
use super::privacy::Charge;

/// What an answer adds to what the service remembers across requests, written with
/// its record.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The patient sets it releases exact for the first time (the differencing
    /// guard's ledger).
    pub sets: Option<NewSets>,
    /// The charge of its noisy values against the partner's privacy budget.
    pub charge: Option<Charge>,
}
