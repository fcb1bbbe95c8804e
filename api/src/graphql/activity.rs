//! Time series: referrals, enrolments and treatment starts per month, quarter or year,
//! with running totals.
//!
//! **Coarsening before gaps.** A month of a small cohort often holds fewer patients than
//! the policy publishes, and a series of withheld months is a chart of gaps. Unless an
//! interval is asked for, the series is cut into the finest of months, quarters and
//! years at which at most one count in ten per period is withheld: all three are
//! registered with the release step and decided together, and the finest that passes is
//! shown. The choice rests only on which of the counts are withheld, which the finer
//! series would have shown itself; on the noisy tier, which publishes every count it is
//! asked for (and charges for each), months are shown without trying the others.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use consortium_analytics::dimension::month_code;
use consortium_analytics::{activity, Dimension as Dim, Filter, Interval as Cut, PeriodActivity};

use super::access::Ask;
use super::enums::Dimension;
use super::inputs::PatientFilter;
use super::types::GroupKey;
use crate::auth::Scope;
use crate::pipeline::release::{Count, Release};

/// How a series is cut in time.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::Interval")]
pub enum Interval {
    /// Calendar months (`2024-03`).
    Month,
    /// Calendar quarters (`2024-Q1`).
    Quarter,
    /// Calendar years (`2024`).
    Year,
}

/// The share of a series' counts per period that may be withheld at an interval
/// chosen automatically: beyond it the next coarser interval is tried.
const TOLERATED_GAPS: f64 = 0.1;

/// Activity in one period (and split).
#[derive(SimpleObject, Debug, Clone)]
pub struct MonthlyActivity {
    /// The period: `2024-03`, `2024-Q1` or `2024`.
    pub period: String,
    /// How the series is cut.
    pub interval: Interval,
    /// The period's first month, `YYYY-MM`.
    pub month: String,
    /// The split's key, when split.
    pub split: Option<GroupKey>,
    /// Patients referred (screened) in the period.
    pub referrals: Count,
    /// Patients enrolled in the period.
    pub enrolments: Count,
    /// Treatment starts in the period.
    pub treatment_starts: Count,
    /// Referrals up to and including the period.
    pub cumulative_referrals: Count,
    /// Enrolments up to and including the period.
    pub cumulative_enrolments: Count,
    /// Treatment starts up to and including the period.
    pub cumulative_treatment_starts: Count,
}

impl MonthlyActivity {
    /// The counts of a period: three events, and their running totals.
    const COUNTS: usize = 6;

    fn of(row: &PeriodActivity, cut: Cut, split: Option<Dim>, ask: &Ask<'_>) -> Self {
        let release = ask.release();
        MonthlyActivity {
            period: cut.code(row.start),
            interval: cut.into(),
            month: month_code(row.start),
            split: split.map(|d| GroupKey::new(d, row.split, ask.catalogue())),
            referrals: release.count(&row.count.referrals),
            enrolments: release.count(&row.count.enrolments),
            treatment_starts: release.count(&row.count.treatment_starts),
            cumulative_referrals: release.count(&row.cumulative.referrals),
            cumulative_enrolments: release.count(&row.cumulative.enrolments),
            cumulative_treatment_starts: release.count(&row.cumulative.treatment_starts),
        }
    }

    fn per_period(&self) -> [&Count; 3] {
        [&self.referrals, &self.enrolments, &self.treatment_starts]
    }

    /// Listed as a group is (see [`Release::lists`]): under the cell-key method, only
    /// with a count published.
    fn listed(&self, release: &Release) -> bool {
        self.per_period()
            .into_iter()
            .chain([&self.cumulative_referrals, &self.cumulative_enrolments, &self.cumulative_treatment_starts])
            .any(|count| release.lists(count))
    }
}

/// Whether a series shows its periods with few enough gaps. The line of patients
/// without a value of the split (those not enrolled, when split by cohort) has no
/// enrolments by definition and is not judged.
fn few_gaps(rows: &[MonthlyActivity], split: Option<Dim>) -> bool {
    let judged = rows.iter().filter(|row| split.is_none() || row.split.as_ref().is_some_and(|key| key.code.is_some()));
    let (withheld, all) = judged
        .flat_map(MonthlyActivity::per_period)
        .fold((0usize, 0usize), |(withheld, all), count| (withheld + usize::from(!count.is_released()), all + 1));
    withheld as f64 <= TOLERATED_GAPS * all as f64
}

/// Time-series questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// Referrals, enrolments and treatment starts with running totals, every period the
    /// trial has run (whoever is counted), optionally split (by region, cohort …). Cut
    /// by `interval`; without one, into the finest of months, quarters and years at
    /// which at most one count in ten per period is withheld (months on the noisy tier).
    async fn monthly_activity(
        &self,
        ctx: &Context<'_>,
        split: Option<Dimension>,
        filter: Option<PatientFilter>,
        interval: Option<Interval>,
    ) -> Result<Vec<MonthlyActivity>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let release = ask.release();
        let split: Option<Dim> = split.map(Into::into);
        let cuts: Vec<Cut> = match interval {
            Some(interval) => vec![interval.into()],
            None if release.is_noisy() => vec![Cut::Month],
            None => Cut::ALL.to_vec(),
        };
        let question = (split, ask.filter(filter)?, cuts.clone());
        let series =
            ask.answer(question, |s, (d, f, cuts): &(Option<Dim>, Filter, Vec<Cut>)| activity(s, *d, f, cuts)).await?;
        // Every candidate's counts are registered (built), so that all are decided
        // together; the finest with few enough gaps is shown, or else the coarsest.
        let (months, splits) = (ask.catalogue().trial_months, split.map_or(1, |d| ask.catalogue().domain(d)));
        let candidates: Vec<Vec<MonthlyActivity>> = cuts
            .iter()
            .zip(series.iter())
            .map(|(cut, rows)| {
                release.list(cut.periods(months).saturating_mul(splits), MonthlyActivity::COUNTS, || {
                    rows.iter().map(|row| MonthlyActivity::of(row, *cut, split, &ask)).collect()
                })
            })
            .collect();
        let mut shown = Vec::new();
        for rows in candidates {
            let enough = few_gaps(&rows, split);
            shown = rows;
            if enough {
                break;
            }
        }
        Ok(shown.into_iter().filter(|row| row.listed(release)).collect())
    }
}
