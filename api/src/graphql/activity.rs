//! Time series: monthly screening, enrolment and treatment starts, with running totals.

use async_graphql::{Context, Object, Result, SimpleObject};
use consortium_analytics::dimension::month_code;
use consortium_analytics::{monthly_activity, Dimension as Dim, Filter};

use super::access::Ask;
use super::enums::Dimension;
use super::inputs::PatientFilter;
use super::types::GroupKey;
use crate::auth::Scope;
use crate::pipeline::release::Count;

/// Activity in one month (and split).
#[derive(SimpleObject, Debug, Clone)]
pub struct MonthlyActivity {
    /// Month, `YYYY-MM`.
    pub month: String,
    /// The split's key, when split.
    pub split: Option<GroupKey>,
    /// Patients referred (screened) in the month.
    pub referrals: Count,
    /// Patients enrolled in the month.
    pub enrolments: Count,
    /// Treatment starts in the month.
    pub treatment_starts: Count,
    /// Referrals up to and including the month.
    pub cumulative_referrals: Count,
    /// Enrolments up to and including the month.
    pub cumulative_enrolments: Count,
    /// Treatment starts up to and including the month.
    pub cumulative_treatment_starts: Count,
}

/// Time-series questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// Monthly referrals, enrolments and treatment starts with running totals, every
    /// month from the first to the last active one, optionally split (by region, cohort …).
    async fn monthly_activity(
        &self,
        ctx: &Context<'_>,
        split: Option<Dimension>,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<MonthlyActivity>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let split: Option<Dim> = split.map(Into::into);
        let question = (split, ask.filter(filter)?);
        let rows = ask.answer(question, |s, (d, f): &(Option<Dim>, Filter)| monthly_activity(s, *d, f)).await?;
        let release = ask.release();
        Ok(rows
            .iter()
            .map(|r| MonthlyActivity {
                month: month_code(r.month),
                split: split.map(|d| GroupKey::new(d, r.split, ask.catalogue())),
                referrals: release.count(&r.count.referrals),
                enrolments: release.count(&r.count.enrolments),
                treatment_starts: release.count(&r.count.treatment_starts),
                cumulative_referrals: release.count(&r.cumulative.referrals),
                cumulative_enrolments: release.count(&r.cumulative.enrolments),
                cumulative_treatment_starts: release.count(&r.cumulative.treatment_starts),
            })
            // A month is listed as a group is (see `Release::lists`): under the cell-key
            // method, only with a count published.
            .filter(|m| {
                [&m.referrals, &m.enrolments, &m.treatment_starts, &m.cumulative_referrals]
                    .into_iter()
                    .chain([&m.cumulative_enrolments, &m.cumulative_treatment_starts])
                    .any(|count| release.lists(count))
            })
            .collect())
    }
}
