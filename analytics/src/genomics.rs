//! What molecular profiling found, over the profiled patients:
//!
//! * [`alteration_frequencies`]: how often each gene × alteration class occurs, overall or
//!   per tumour type;
//! * [`tmb_distribution`]: the distribution of tumour mutational burden and the share of
//!   MSI-high tumours, per group;
//! * [`actionability`]: the share of profiles with an actionable alteration (ESCAT I–III),
//!   per group.
//!
//! Every denominator is the profiled patients passing the filter (in the group), and
//! every share comes with its exact (Clopper–Pearson) 95% interval.

use std::collections::HashMap;

use consortium_entity::AlterationClass;
use polars::prelude::*;

use crate::cells::{patients, patients_where, sets, PatientSet, Rate};
use crate::counts::{aggregate_by, distinct_dimensions};
use crate::dimension::{Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

/// How often one gene × alteration class occurs among profiled patients.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterationFrequency {
    /// Tumour type key; `None` when frequencies are not split by tumour type (or for
    /// profiles whose tumour type is unknown).
    pub tumour_type: Option<i32>,
    /// Gene key (see [`crate::Catalogue::genes`]); `None` for a gene missing from the catalogue.
    pub gene: Option<i32>,
    /// The kind of alteration.
    pub alteration_class: AlterationClass,
    /// Profiled patients with at least one such alteration (each patient once), among
    /// the profiled patients (of the tumour type, when split), with its exact interval.
    pub carriers: Rate,
}

/// Tumour mutational burden (mutations per megabase) of one group.
///
/// Quantiles interpolate linearly between the two nearest order statistics: with the `n`
/// values sorted, the `q` quantile sits at position `(n − 1)·q`, as polars' `Linear`
/// method, numpy's default and R's type 7 define it.
#[derive(Debug, Clone, PartialEq)]
pub struct TmbSummary {
    /// Profiles with a TMB value: the values the statistics are over.
    pub measured: PatientSet,
    /// Smallest value.
    pub min: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 25th percentile (first quartile).
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile (third quartile).
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// TMB and MSI of the profiled patients of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct TmbGroup {
    /// The group's key per grouping dimension, in the order asked for; `None` where the
    /// dimension does not apply.
    pub keys: Vec<Option<i32>>,
    /// Profiled patients in the group.
    pub profiled: PatientSet,
    /// The TMB distribution; `None` when no profile of the group has a TMB value.
    pub tmb: Option<TmbSummary>,
    /// Profiled patients with an MSI-high tumour, as a share of [`TmbGroup::profiled`].
    pub msi_high: Rate,
}

/// Actionability of the profiles of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionabilityGroup {
    /// The group's key per grouping dimension, in the order asked for; `None` where the
    /// dimension does not apply.
    pub keys: Vec<Option<i32>>,
    /// Profiled patients in the group.
    pub profiled: PatientSet,
    /// Profiled patients with an actionable alteration (ESCAT I–III), as a share of
    /// [`ActionabilityGroup::profiled`].
    pub actionable: Rate,
}

/// Patients carrying each gene × alteration class among the profiled patients passing
/// `filter`, overall or (with `by_tumour_type`) within each tumour type.
///
/// Only combinations found at least once are listed. Rows are ordered by tumour type,
/// then from the most to the least frequent, then by gene and class.
pub fn alteration_frequencies(
    snapshot: &Snapshot,
    by_tumour_type: bool,
    filter: &Filter,
) -> Result<Vec<AlterationFrequency>, AnalyticsError> {
    let dimensions: &[Dimension] = if by_tumour_type { &[Dimension::TumourType] } else { &[] };
    let profiled = snapshot
        .patients
        .clone()
        .lazy()
        .filter(predicate(Population::Profiled, filter))
        .select([col("patient_id"), col(Dimension::TumourType.column())])
        .collect()?;

    let (out, keys) = aggregate_by(profiled.clone().lazy(), dimensions, vec![patients("profiled")])?;
    let denominators: HashMap<Option<i32>, PatientSet> =
        keys.iter().map(|keys| keys.first().copied().flatten()).zip(sets(&out, "profiled")?).collect();

    let mut by = vec![col("gene"), col("alteration_class")];
    if by_tumour_type {
        by.insert(0, col(Dimension::TumourType.column()));
    }
    // A patient with two variants of the same gene and class (two KRAS mutations) is
    // one carrier, hence distinct patients rather than variant rows.
    let carriers = snapshot
        .variants
        .clone()
        .lazy()
        .inner_join(profiled.lazy(), col("patient_id"), col("patient_id"))
        .group_by(by)
        .agg([patients("patients")])
        .collect()?;
    let genes = carriers.column("gene")?.i32()?;
    let classes = carriers.column("alteration_class")?.i32()?;
    let patients = sets(&carriers, "patients")?;
    let tumour_types =
        if by_tumour_type { Some(carriers.column(Dimension::TumourType.column())?.i32()?) } else { None };

    let all_classes = AlterationClass::all();
    let mut rows: Vec<(i32, AlterationFrequency)> = Vec::with_capacity(carriers.height());
    for (row, carriers) in patients.into_iter().enumerate() {
        let tumour_type = tumour_types.and_then(|t| t.get(row));
        let class_key = classes.get(row).unwrap_or(-1);
        let alteration_class =
            usize::try_from(class_key).ok().and_then(|i| all_classes.get(i)).copied().ok_or_else(|| {
                PolarsError::ComputeError(format!("variant with unknown alteration class key {class_key}").into())
            })?;
        let profiled = denominators.get(&tumour_type).cloned().unwrap_or_default();
        let carriers = Rate::nonempty(carriers, profiled)?;
        rows.push((class_key, AlterationFrequency { tumour_type, gene: genes.get(row), alteration_class, carriers }));
    }
    rows.sort_by(|(class_a, a), (class_b, b)| {
        (a.tumour_type, std::cmp::Reverse(a.carriers.events), a.gene, class_a).cmp(&(
            b.tumour_type,
            std::cmp::Reverse(b.carriers.events),
            b.gene,
            class_b,
        ))
    });
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

/// The TMB distribution and the MSI-high share of the profiled patients passing
/// `filter`, per combination of `group_by` (no dimensions: one group).
///
/// Groups without profiled patients are left out; groups are sorted by their keys
/// (`None` first).
pub fn tmb_distribution(
    snapshot: &Snapshot,
    group_by: &[Dimension],
    filter: &Filter,
) -> Result<Vec<TmbGroup>, AnalyticsError> {
    let dimensions = distinct_dimensions(group_by)?;
    let tmb = || col("tmb");
    let quantile = |q: f64, name: &str| tmb().quantile(lit(q), QuantileMethod::Linear).alias(name);
    let aggregates = vec![
        patients("profiled"),
        patients_where(tmb().is_not_null(), "measured"),
        tmb().min().alias("min"),
        quantile(0.10, "p10"),
        quantile(0.25, "p25"),
        quantile(0.50, "median"),
        quantile(0.75, "p75"),
        quantile(0.90, "p90"),
        tmb().max().alias("max"),
        tmb().mean().alias("mean"),
        patients_where(col("msi_high"), "msi_high"),
    ];
    let selected = snapshot.patients.clone().lazy().filter(predicate(Population::Profiled, filter));
    let (out, keys) = aggregate_by(selected, &dimensions, aggregates)?;

    let value = |name: &str| out.column(name).and_then(|c| c.cast(&DataType::Float64)).and_then(|c| c.f64().cloned());
    let (mut profiled, mut measured, mut msi_high) =
        (sets(&out, "profiled")?, sets(&out, "measured")?, sets(&out, "msi_high")?);
    let stats = ["min", "p10", "p25", "median", "p75", "p90", "max", "mean"]
        .into_iter()
        .map(value)
        .collect::<PolarsResult<Vec<_>>>()?;

    let mut groups = Vec::with_capacity(keys.len());
    for (row, keys) in keys.into_iter().enumerate() {
        let n = std::mem::take(&mut profiled[row]);
        if n.is_empty() {
            continue;
        }
        let measured = std::mem::take(&mut measured[row]);
        let at = |i: usize| stats.get(i).and_then(|c| c.get(row));
        let tmb = match (measured.is_empty(), at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)) {
            (false, Some(min), Some(p10), Some(p25), Some(median), Some(p75), Some(p90), Some(max), Some(mean)) => {
                Some(TmbSummary { measured, min, p10, p25, median, p75, p90, max, mean })
            }
            _ => None,
        };
        let msi_high = Rate::nonempty(std::mem::take(&mut msi_high[row]), n.clone())?;
        groups.push(TmbGroup { keys, profiled: n, tmb, msi_high });
    }
    groups.sort_by(|a, b| a.keys.cmp(&b.keys));
    Ok(groups)
}

/// The share of profiled patients passing `filter` whose profile has an actionable
/// alteration, per combination of `group_by` (tumour type and region are the natural
/// ones; no dimensions: one group).
///
/// Groups without profiled patients are left out; groups are sorted by their keys
/// (`None` first).
pub fn actionability(
    snapshot: &Snapshot,
    group_by: &[Dimension],
    filter: &Filter,
) -> Result<Vec<ActionabilityGroup>, AnalyticsError> {
    let dimensions = distinct_dimensions(group_by)?;
    let aggregates = vec![patients("profiled"), patients_where(col("actionable"), "actionable")];
    let selected = snapshot.patients.clone().lazy().filter(predicate(Population::Profiled, filter));
    let (out, keys) = aggregate_by(selected, &dimensions, aggregates)?;
    let (mut profiled, mut actionable) = (sets(&out, "profiled")?, sets(&out, "actionable")?);

    let mut groups = Vec::with_capacity(keys.len());
    for (row, keys) in keys.into_iter().enumerate() {
        let n = std::mem::take(&mut profiled[row]);
        if n.is_empty() {
            continue;
        }
        let actionable = Rate::nonempty(std::mem::take(&mut actionable[row]), n.clone())?;
        groups.push(ActionabilityGroup { keys, profiled: n, actionable });
    }
    groups.sort_by(|a, b| a.keys.cmp(&b.keys));
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::clopper_pearson;

    const MUTATION: i32 = 0;
    const AMPLIFICATION: i32 = 1;
    const MSI_HIGH: i32 = 5;

    /// Seven profiled patients in two tumour types and two regions (patient 8 without a
    /// TMB value), and patient 6, who was never profiled.
    fn snapshot() -> Snapshot {
        let patients = df!(
            "patient_id" => [1, 2, 3, 4, 5, 6, 7, 8],
            "region" => [0, 0, 1, 1, 1, 0, 1, 0],
            "profiled" => [true, true, true, true, true, false, true, true],
            "tumour_type" => [Some(0), Some(0), Some(0), Some(1), Some(1), None, Some(1), Some(1)],
            "tmb" => [Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(10.0), None, Some(6.0), None],
            "msi_high" => [false, false, true, false, true, false, false, false],
            "actionable" => [true, false, true, false, true, false, false, false],
        )
        .expect("patients");
        let variants = df!(
            "patient_id" => [1, 1, 1, 2, 3, 5, 6],
            "gene" => [Some(0), Some(0), Some(1), Some(0), Some(2), Some(1), Some(0)],
            "alteration_class" => [MUTATION, MUTATION, AMPLIFICATION, MUTATION, MSI_HIGH, AMPLIFICATION, MUTATION],
            "escat_tier" => [0, 0, 1, 0, 0, 1, 0],
        )
        .expect("variants");
        Snapshot { variants, ..crate::fixture::frames(patients) }
    }

    fn everyone() -> Filter {
        Filter::default()
    }

    fn no_one() -> Filter {
        Filter { keys: vec![(Dimension::Region, vec![])], ..Filter::default() }
    }

    fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!((actual - expected).abs() < 1e-9, "{what}: {actual}, expected {expected}");
    }

    /// `(tumour type, gene, class, carriers, profiled)` of one frequency row.
    type Frequency = (Option<i32>, Option<i32>, AlterationClass, u64, u64);

    fn frequencies(by_tumour_type: bool) -> Vec<Frequency> {
        alteration_frequencies(&snapshot(), by_tumour_type, &everyone())
            .expect("frequencies")
            .into_iter()
            .map(|r| {
                (
                    r.tumour_type,
                    r.gene,
                    r.alteration_class,
                    r.carriers.numerator.count(),
                    r.carriers.denominator.count(),
                )
            })
            .collect()
    }

    #[test]
    fn alterations_count_each_profiled_carrier_once() {
        // Patient 1 has two mutations of gene 0; patient 6 (not profiled) one more.
        assert_eq!(
            frequencies(false),
            [
                (None, Some(0), AlterationClass::Mutation, 2, 7),
                (None, Some(1), AlterationClass::Amplification, 2, 7),
                (None, Some(2), AlterationClass::MsiHigh, 1, 7),
            ]
        );
    }

    #[test]
    fn alteration_frequencies_per_tumour_type_use_that_type_as_denominator() {
        assert_eq!(
            frequencies(true),
            [
                (Some(0), Some(0), AlterationClass::Mutation, 2, 3),
                (Some(0), Some(1), AlterationClass::Amplification, 1, 3),
                (Some(0), Some(2), AlterationClass::MsiHigh, 1, 3),
                (Some(1), Some(1), AlterationClass::Amplification, 1, 4),
            ]
        );
        let rows = alteration_frequencies(&snapshot(), true, &everyone()).expect("frequencies");
        assert_eq!(rows[0].carriers.proportion, clopper_pearson(2, 3, 0.95).expect("interval"));
        assert_close(rows[3].carriers.estimate, 0.25, "1 of 4");
    }

    #[test]
    fn alteration_frequencies_of_no_one_are_empty() {
        assert!(alteration_frequencies(&snapshot(), true, &no_one()).expect("frequencies").is_empty());
    }

    #[test]
    fn tmb_quantiles_interpolate_linearly_between_order_statistics() {
        let groups = tmb_distribution(&snapshot(), &[], &everyone()).expect("distribution");
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!((g.keys.clone(), g.profiled.count()), (vec![], 7));
        let tmb = g.tmb.clone().expect("values");
        // Sorted values 1, 2, 3, 4, 6, 10; the q quantile sits at position 5q.
        assert_eq!(tmb.measured.count(), 6, "patient 8 has no TMB value");
        for (actual, expected, what) in [
            (tmb.min, 1.0, "min"),
            (tmb.p10, 1.5, "p10 at 0.5"),
            (tmb.p25, 2.25, "p25 at 1.25"),
            (tmb.median, 3.5, "median at 2.5"),
            (tmb.p75, 5.5, "p75 at 3.75"),
            (tmb.p90, 8.0, "p90 at 4.5"),
            (tmb.max, 10.0, "max"),
            (tmb.mean, 26.0 / 6.0, "mean"),
        ] {
            assert_close(actual, expected, what);
        }
    }

    #[test]
    fn tmb_groups_follow_the_dimensions_and_give_the_msi_high_share() {
        let groups = tmb_distribution(&snapshot(), &[Dimension::TumourType], &everyone()).expect("distribution");
        let keys: Vec<_> = groups.iter().map(|g| (g.keys.clone(), g.profiled.count())).collect();
        assert_eq!(keys, [(vec![Some(0)], 3), (vec![Some(1)], 4)]);
        let (first, second) = (groups[0].tmb.clone().expect("values"), groups[1].tmb.clone().expect("values"));
        // Type 0: 1, 2, 3 (positions 2q); type 1: 4, 6, 10 (patient 8 unmeasured).
        assert_close(first.p10, 1.2, "type 0 p10");
        assert_close(first.median, 2.0, "type 0 median");
        assert_close(second.p25, 5.0, "type 1 p25");
        assert_close(second.p75, 8.0, "type 1 p75");
        assert_close(second.p90, 9.2, "type 1 p90");
        assert_eq!(second.measured.count(), 3);
        assert_eq!(groups[0].msi_high.proportion, clopper_pearson(1, 3, 0.95).expect("interval"));
        assert_eq!(groups[1].msi_high.proportion, clopper_pearson(1, 4, 0.95).expect("interval"));
    }

    #[test]
    fn a_group_without_tmb_values_has_no_distribution_but_still_an_msi_share() {
        let only_8 =
            Filter { keys: vec![(Dimension::Region, vec![0]), (Dimension::TumourType, vec![1])], ..everyone() };
        let groups = tmb_distribution(&snapshot(), &[], &only_8).expect("distribution");
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].profiled.count(), groups[0].tmb.clone(), groups[0].msi_high.events), (1, None, 0));
    }

    #[test]
    fn tmb_of_no_one_has_no_groups() {
        assert!(tmb_distribution(&snapshot(), &[], &no_one()).expect("distribution").is_empty());
        assert!(tmb_distribution(&snapshot(), &[Dimension::Region], &no_one()).expect("distribution").is_empty());
    }

    #[test]
    fn actionability_is_a_share_of_the_profiled_patients_of_each_group() {
        let groups = actionability(&snapshot(), &[Dimension::Region], &everyone()).expect("actionability");
        // Region 0: patients 1, 2 and 8 (6 is not profiled); region 1: 3, 4, 5 and 7.
        let got: Vec<_> = groups.iter().map(|g| (g.keys.clone(), g.profiled.count(), g.actionable.events)).collect();
        assert_eq!(got, [(vec![Some(0)], 3, 1), (vec![Some(1)], 4, 2)]);
        assert_eq!(groups[1].actionable.proportion, clopper_pearson(2, 4, 0.95).expect("interval"));
        let overall = actionability(&snapshot(), &[], &everyone()).expect("actionability");
        assert_eq!((overall[0].profiled.count(), overall[0].actionable.events), (7, 3));
        assert_close(overall[0].actionable.estimate, 3.0 / 7.0, "3 of 7");
    }

    #[test]
    fn actionability_of_no_one_is_empty_and_a_repeated_dimension_is_refused() {
        assert!(actionability(&snapshot(), &[], &no_one()).expect("actionability").is_empty());
        let twice = actionability(&snapshot(), &[Dimension::Region, Dimension::Region], &everyone());
        assert!(matches!(twice, Err(AnalyticsError::InvalidArgument(_))));
        let twice = tmb_distribution(&snapshot(), &[Dimension::TumourType, Dimension::TumourType], &everyone());
        assert!(matches!(twice, Err(AnalyticsError::InvalidArgument(_))));
    }
}
