//! Turning a question's population and filter into the patients a measure is about: a
//! polars predicate over the patient frame for the measures that go on in polars, and
//! the same rule read straight from the columns ([`kept_rows`]) for those that need
//! only the rows (a grouped count), with no query plan built, optimised and run on the
//! thread pool for every question.

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

/// Which rows of `patients` (the patient frame) are in `population` and pass `filter`:
/// exactly the rows [`predicate`] keeps, one flag per row.
pub fn kept_rows(patients: &DataFrame, population: Population, filter: &Filter) -> PolarsResult<Vec<bool>> {
    let mut kept = match population.column() {
        None => vec![true; patients.height()],
        Some(name) => patients.column(name)?.bool()?.iter().map(|member| member == Some(true)).collect(),
    };
    for (dimension, keys) in &filter.keys {
        let column = patients.column(dimension.column())?.i32()?;
        narrow(&mut kept, column, |key| keys.contains(&key));
    }
    for (name, range) in [("referral_day", &filter.referred), ("enrolled_day", &filter.enrolled)] {
        if let Some(range) = range {
            let (from, to) = range.as_days();
            let within = |day: i32| from.is_none_or(|from| day >= from) && to.is_none_or(|to| day <= to);
            narrow(&mut kept, patients.column(name)?.i32()?, within);
        }
    }
    Ok(kept)
}

/// Clears the flag of every row whose value in `column` is null or fails `passes`.
fn narrow(kept: &mut [bool], column: &Int32Chunked, passes: impl Fn(i32) -> bool) {
    for (flag, value) in kept.iter_mut().zip(column.iter()) {
        *flag = *flag && value.is_some_and(&passes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dimension::Dimension;
    use crate::fixture::{date, dozen};

    /// The rows polars keeps with [`predicate`].
    fn by_polars(patients: &DataFrame, population: Population, filter: &Filter) -> Vec<bool> {
        let flags = patients.clone().lazy().with_column(predicate(population, filter).alias("kept")).collect();
        let flags = flags.expect("predicate runs");
        flags.column("kept").expect("kept").bool().expect("bool").iter().map(|f| f == Some(true)).collect()
    }

    #[test]
    fn the_rows_kept_are_those_of_the_polars_predicate() {
        let snapshot = dozen();
        let range = |from: Option<i32>, to: Option<i32>| DateRange { from: from.map(date), to: to.map(date) };
        let filters = [
            Filter::default(),
            Filter { keys: vec![(Dimension::Cohort, vec![1, 3])], ..Filter::default() },
            Filter { keys: vec![(Dimension::Cohort, vec![])], ..Filter::default() },
            Filter { keys: vec![(Dimension::Region, vec![0]), (Dimension::Sex, vec![0, 1])], ..Filter::default() },
            Filter { enrolled: Some(range(Some(0), Some(60))), ..Filter::default() },
            Filter {
                enrolled: Some(range(None, Some(30))),
                referred: Some(range(Some(-90), None)),
                ..Filter::default()
            },
            Filter { referred: Some(range(Some(10), Some(5))), ..Filter::default() },
        ];
        let mut some_kept = false;
        for filter in &filters {
            for population in Population::FUNNEL {
                let kept = kept_rows(&snapshot.patients, population, filter).expect("columns");
                assert_eq!(kept, by_polars(&snapshot.patients, population, filter), "{population:?} {filter:?}");
                some_kept |= kept.iter().any(|k| *k);
            }
        }
        assert!(some_kept, "the comparison covers rows that are kept");
    }
}
