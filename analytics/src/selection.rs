//! Turning a question's population and filter into a polars predicate over the
//! patient frame: the one place that decides which patients a measure is about.

use polars::prelude::*;

use crate::dimension::{DateRange, Filter, Population};

/// The predicate keeping the patients of `population` that pass `filter`.
pub fn predicate(population: Population, filter: &Filter) -> Expr {
    let mut expr = population.column().map_or(lit(true), col);
    for (dimension, keys) in &filter.keys {
        let column = || col(dimension.column());
        let any_of = keys.iter().fold(lit(false), |acc, key| acc.or(column().eq(lit(*key))));
        expr = expr.and(any_of.fill_null(lit(false)));
    }
    if let Some(range) = &filter.referred {
        expr = expr.and(within("referral_day", range));
    }
    if let Some(range) = &filter.enrolled {
        expr = expr.and(within("enrolled_day", range));
    }
    expr
}

/// `column` (a day number) within the inclusive range; nulls are outside.
fn within(column: &str, range: &DateRange) -> Expr {
    let (from, to) = range.as_days();
    let mut expr = col(column).is_not_null();
    if let Some(from) = from {
        expr = expr.and(col(column).gt_eq(lit(from)));
    }
    if let Some(to) = to {
        expr = expr.and(col(column).lt_eq(lit(to)));
    }
    expr.fill_null(lit(false))
}
