//! The noisy tier's memory across requests: kept noisy values, per-partner charges and
//! privacy budgets (the mechanism is [`consortium_disclosure::noise`]).
//!
//! **Sticky values.** The noisy count of a patient set is drawn once per data version
//! and ε, and kept in `noisy_count`, keyed by a hash of the set (the set itself is not
//! stored). Whoever asks again, in the same words or in others that select the same
//! patients, gets the same value: averaging repeated or rephrased answers removes no
//! noise. The first request to draw a value keeps it; a request that loses that race
//! reads the winner's.
//!
//! **Charges and budgets.** A partner on the noisy tier is charged ε for every value
//! it receives for the first time on a data version (`privacy_charge`); receiving it
//! again costs nothing, because it reveals nothing new. The charges of a window (by
//! default 30 days, `PRIVACY_WINDOW_SECS`) may add up to the partner's budget. A
//! request's charge is made in the transaction of its audit record (see
//! [`crate::pipeline::record::recorder`]), which PostgreSQL replicas write one after the other: two
//! concurrent requests, on any replicas, cannot together spend more than the budget,
//! and a request whose charge cannot be made is not answered (outcome
//! `BUDGET_EXHAUSTED`, nothing released). Before publishing, the same reckoning is made
//! read-only, so a request plainly over budget is refused before anything is built or
//! drawn; a dry run (the request extension `dryRun: true`) stops there and tells the
//! cost. Neither draws or keeps a value: values are drawn only for an answer that is
//! published.
//!
//! A request is refused, and a dry run prices it, at its most, from the question's
//! shape alone: every value it could hold at full price, each list at the size of its
//! grouping's domain (the reference tables, the fixed vocabularies, the trial's months;
//! see [`crate::pipeline::release::Release::list`]), not at the groups the data has. So
//! whether a request is answered, and what a dry run says, tell nothing about which
//! groups have anyone or which values rest on the same patients: they depend on the
//! question and on what the partner spent before. What the noisy tier does not hide:
//! a published list shows the groups that have anyone; two cells with the same
//! patients get the same value and are charged once, so a partner can tell, from its
//! spending, that two of its questions select the same patients (each such probe costs
//! at least one value's ε).

use std::collections::{HashMap, HashSet};

use consortium_disclosure::noise::Mechanism;
use consortium_disclosure::PatientSet;
use consortium_entity::access::{noisy_count, privacy_budget, privacy_charge};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::auth::secret::sha256_hex;
use crate::error::ApiError;

/// Cells per statement (every backend limits the parameters of one).
const CELLS_PER_STATEMENT: usize = 500;

/// Spending past the budget by less than this is rounding, not spending.
const TOLERANCE: f64 = 1e-9;

/// The outcome on record of a request whose charge would pass its partner's budget.
pub const BUDGET_EXHAUSTED: &str = "BUDGET_EXHAUSTED";

/// The key of a noisy value: the hash of the set and the ε of its noise.
pub fn cell(set: &PatientSet, epsilon: f64) -> String {
    let mut bytes = Vec::with_capacity(8 + 4 * set.len());
    bytes.extend_from_slice(&epsilon.to_bits().to_le_bytes());
    for id in set.ids() {
        bytes.extend_from_slice(&id.to_le_bytes());
    }
    sha256_hex(&bytes)
}

/// What one request is to be charged: written with its audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// The partner charged.
    pub partner: String,
    /// The data version the values are of.
    pub data_version: i64,
    /// ε per value.
    pub epsilon: f64,
    /// The partner's budget per window.
    pub budget: f64,
    /// The window's length, in seconds.
    pub window_secs: i64,
    /// When (Unix seconds): decides the window; set again when the charge is made.
    pub at: i64,
    /// The values' cells, distinct.
    pub cells: Vec<String>,
    /// How many values the request may hold, from its shape (see
    /// [`crate::pipeline::release::Release::list`]).
    pub asked: usize,
}

/// A charge reckoned against what the partner has spent: what it costs, and at most
/// what it may cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Reckoning {
    /// The cells the partner receives for the first time.
    pub new_cells: Vec<String>,
    /// ε they cost.
    pub cost: f64,
    /// ε the request is refused on when it is not left: every value asked for at full
    /// price, whether or not two of them rest on the same patients or were received
    /// before, so that whether a request is answered tells nothing about patients.
    pub most: f64,
    /// ε spent in the current window before this charge.
    pub spent: f64,
    /// Start of the current window.
    pub window_start: i64,
}

impl Reckoning {
    /// Whether the budget allows the charge at its most.
    pub fn affordable(&self, budget: f64) -> bool {
        self.spent + self.most.max(self.cost) <= budget + TOLERANCE
    }

    /// Why a charge the budget does not allow is refused: what the answer may cost,
    /// what is left of `budget`, and when the window of `window_secs` resets.
    pub fn refusal(&self, budget: f64, window_secs: i64) -> String {
        let resets = chrono::DateTime::from_timestamp(self.window_start + window_secs, 0)
            .map_or_else(String::new, |t| format!("; the window resets at {}", t.to_rfc3339()));
        let asked = self.most.max(self.cost);
        let left = (budget - self.spent).max(0.0);
        let alone = match asked > budget + TOLERANCE {
            true => " (more than the whole budget: ask for fewer values at once)",
            false => "",
        };
        format!(
            "the privacy budget does not allow this answer: it may cost ε = {asked:.3}{alone}, and {left:.3} of {budget:.3} is left{resets}"
        )
    }
}

/// A partner's budget as it stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetStatus {
    /// ε spent in the current window.
    pub spent: f64,
    /// ε left in it.
    pub remaining: f64,
    /// When the window ends (Unix seconds).
    pub resets_at: i64,
}

/// The start of the window of `window_secs` that `at` falls in.
fn window_of(at: i64, window_secs: i64) -> i64 {
    at - at.rem_euclid(window_secs.max(1))
}

/// The current window of `partner`'s budget and the ε spent in it, at a time whose
/// window starts at `own`. A window never moves back: a row of a later window (written
/// by a replica whose clock is ahead) is the current one.
async fn current_window(db: &impl ConnectionTrait, partner: &str, own: i64) -> Result<(i64, f64), DbErr> {
    Ok(match privacy_budget::Entity::find_by_id(partner.to_owned()).one(db).await? {
        Some(row) if row.window_start >= own => (row.window_start, row.spent),
        _ => (own, 0.0),
    })
}

impl Charge {
    fn window_start(&self) -> i64 {
        window_of(self.at, self.window_secs)
    }

    /// The charge against what the partner has spent, read on `db` (inside the audit
    /// record's transaction when it is made).
    pub async fn reckon(&self, db: &impl ConnectionTrait) -> Result<Reckoning, DbErr> {
        let (window_start, spent) = current_window(db, &self.partner, self.window_start()).await?;
        let mut charged = HashSet::new();
        for chunk in self.cells.chunks(CELLS_PER_STATEMENT) {
            let rows: Vec<String> = privacy_charge::Entity::find()
                .select_only()
                .column(privacy_charge::Column::Cell)
                .filter(privacy_charge::Column::DataVersion.eq(self.data_version))
                .filter(privacy_charge::Column::PartnerCode.eq(self.partner.as_str()))
                .filter(privacy_charge::Column::Cell.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(db)
                .await?;
            charged.extend(rows);
        }
        let new_cells: Vec<String> = self.cells.iter().filter(|c| !charged.contains(*c)).cloned().collect();
        let cost = new_cells.len() as f64 * self.epsilon;
        let most = self.asked as f64 * self.epsilon;
        Ok(Reckoning { new_cells, cost, most, spent, window_start })
    }

    /// Makes the charge reckoned as `reckoning` (in the audit record's transaction).
    pub async fn make(&self, db: &impl ConnectionTrait, reckoning: &Reckoning) -> Result<(), DbErr> {
        if reckoning.new_cells.is_empty() {
            return Ok(());
        }
        let budget = privacy_budget::ActiveModel {
            partner_code: Set(self.partner.clone()),
            window_start: Set(reckoning.window_start),
            spent: Set(reckoning.spent + reckoning.cost),
        };
        privacy_budget::Entity::insert(budget)
            .on_conflict(
                OnConflict::column(privacy_budget::Column::PartnerCode)
                    .update_columns([privacy_budget::Column::WindowStart, privacy_budget::Column::Spent])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        for chunk in reckoning.new_cells.chunks(CELLS_PER_STATEMENT) {
            let rows = chunk.iter().map(|cell| privacy_charge::ActiveModel {
                data_version: Set(self.data_version),
                partner_code: Set(self.partner.clone()),
                cell: Set(cell.clone()),
                epsilon: Set(self.epsilon),
                at: Set(self.at),
            });
            privacy_charge::Entity::insert_many(rows).exec_without_returning(db).await?;
        }
        Ok(())
    }
}

/// The noisy tier's store.
#[derive(Debug, Clone)]
pub struct Privacy {
    db: DatabaseConnection,
    /// The length of a budget window, in seconds.
    pub window_secs: i64,
}

impl Privacy {
    /// The store in `db`, with budget windows of `window_secs`.
    pub fn new(db: DatabaseConnection, window_secs: i64) -> Self {
        Self { db, window_secs: window_secs.max(1) }
    }

    /// The noisy values of `sets` (each with its [`cell`] under `mechanism`'s ε) on data
    /// version `version`: the kept ones, and for the others values drawn now and kept
    /// (or, when another request kept one first, that one).
    pub async fn values(
        &self,
        version: i64,
        mechanism: &Mechanism,
        sets: Vec<(PatientSet, String)>,
    ) -> Result<Vec<(PatientSet, u64)>, ApiError> {
        let (sets, cells): (Vec<PatientSet>, Vec<String>) = sets.into_iter().unzip();
        let mut kept = self.kept(version, &cells).await?;
        let (drawn, counts): (Vec<&String>, Vec<u64>) = sets
            .iter()
            .zip(&cells)
            .filter(|(_, cell)| !kept.contains_key(*cell))
            .map(|(set, cell)| (cell, set.count()))
            .unzip();
        let values = mechanism.release(&counts).map_err(|e| ApiError::Internal(e.to_string()))?;
        let missing: Vec<noisy_count::ActiveModel> = drawn
            .iter()
            .zip(values)
            .map(|(cell, value)| noisy_count::ActiveModel {
                data_version: Set(version),
                cell: Set((*cell).clone()),
                value: Set(i64::try_from(value).unwrap_or(i64::MAX)),
            })
            .collect();
        if !missing.is_empty() {
            let drawn: Vec<String> = drawn.into_iter().cloned().collect();
            for chunk in missing.chunks(CELLS_PER_STATEMENT) {
                noisy_count::Entity::insert_many(chunk.to_vec())
                    .on_conflict(
                        OnConflict::columns([noisy_count::Column::DataVersion, noisy_count::Column::Cell])
                            .do_nothing()
                            .to_owned(),
                    )
                    .exec_without_returning(&self.db)
                    .await?;
            }
            kept.extend(self.kept(version, &drawn).await?);
        }
        sets.into_iter()
            .zip(cells)
            .map(|(set, cell)| match kept.get(&cell) {
                Some(value) => Ok((set, u64::try_from(*value).unwrap_or(0))),
                None => Err(ApiError::Internal(format!("noisy value {cell} was not kept"))),
            })
            .collect()
    }

    async fn kept(&self, version: i64, cells: &[String]) -> Result<HashMap<String, i64>, DbErr> {
        let mut kept = HashMap::with_capacity(cells.len());
        for chunk in cells.chunks(CELLS_PER_STATEMENT) {
            let rows: Vec<(String, i64)> = noisy_count::Entity::find()
                .select_only()
                .column(noisy_count::Column::Cell)
                .column(noisy_count::Column::Value)
                .filter(noisy_count::Column::DataVersion.eq(version))
                .filter(noisy_count::Column::Cell.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(&self.db)
                .await?;
            kept.extend(rows);
        }
        Ok(kept)
    }

    /// `charge` reckoned read-only (a pre-check or a dry run; the charge itself is
    /// reckoned again when it is made).
    pub async fn reckon(&self, charge: &Charge) -> Result<Reckoning, ApiError> {
        Ok(charge.reckon(&self.db).await?)
    }

    /// The budget of `partner`, `budget` per window, at `now`.
    pub async fn status(&self, partner: &str, budget: f64, now: i64) -> Result<BudgetStatus, ApiError> {
        let (window_start, spent) = current_window(&self.db, partner, window_of(now, self.window_secs)).await?;
        Ok(BudgetStatus { spent, remaining: (budget - spent).max(0.0), resets_at: window_start + self.window_secs })
    }
}
