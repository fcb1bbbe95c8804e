//! The attack suite: what a partner can work out by combining many answers.
//!
//! Each partner kind (a company, a hospital, the registry, an academic partner), under
//! its default policy, asks for the census an attacker would ask for: the total and
//! every grouping of depth 1 and 2 of enrolled patients, each as a separate request.
//! The attacker then solves for every cell it was not given — a withheld value or a
//! group left out — with every equation and bound the answers give: each grouping adds
//! up to its margins and the margins to the total; a published value is within the
//! perturbation's published bound of its count, and rests on at least k patients; a
//! cell not given may hold anything from 0 to (without an insider or dominance rule)
//! k − 1 + D. Bounds are propagated over all equations until nothing moves.
//!
//! The truth comes from a second server over the same database that gives the same
//! partners exact counts (so the solver is checked too: every interval must hold the
//! true count). The suite asserts that no cell of 1..k−1 patients is determined, and
//! that no cell of 0..k−1 patients is pinned to an interval narrower than the
//! protection interval [0, k−1]; it prints, per kind, the share of cells resting on k or
//! more patients that are published (the utility figure of BENCHMARKS.md).

use std::collections::BTreeMap;

use consortium_entity::{partner, PartnerKind};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{json, Value};

use consortium_synthetic::DemoSpec;

use crate::helpers::{Backend, TestApp, PATIENTS, SEED};
use crate::on_both_backends;
use crate::replica::Replica;

/// The dimensions of the census.
const DIMENSIONS: &[&str] = &[
    "COHORT",
    "DRUG",
    "SUPPLIER",
    "TUMOUR_TYPE",
    "GENE",
    "SITE",
    "REGION",
    "ENROLMENT_MONTH",
    "COHORT_STAGE",
    "SEX",
    "AGE_BAND",
    "ALTERATION_CLASS",
    "ENROLMENT_YEAR",
];

/// The policies the truth server gives every kind: exact counts, nothing withheld.
const EXACT: &str = "industry:perturbation=off,k=1,dominance=off;hospital:perturbation=off,k=1,insider=off;\
                     registry:perturbation=off,k=1;academic:perturbation=off,k=1";

/// The policies of the per-answer comparison: each kind's default, exact.
const PER_ANSWER: &str = "industry:perturbation=off;hospital:perturbation=off;registry:perturbation=off;\
                          academic:perturbation=off";

/// An app serving every partner under its kind's default policy.
pub async fn spawn_with_default_policies(backend: Backend) -> Option<TestApp> {
    spawn_seeded(backend, SEED).await
}

/// The same, over a consortium generated from a second seed.
async fn spawn_second_seed(backend: Backend) -> Option<TestApp> {
    spawn_seeded(backend, SEED + 1000).await
}

async fn spawn_seeded(backend: Backend, seed: u64) -> Option<TestApp> {
    TestApp::spawn_consortium(backend, Some(DemoSpec { seed, patients: PATIENTS }), |args| {
        args.disclosure_overrides = String::new().parse().expect("no overrides");
        args.rate_limit_points = i64::MAX / 4;
    })
    .await
}

/// A cell: its grouping (dimension, code) pairs, sorted by dimension; the total is empty.
type Cell = Vec<(String, String)>;

/// One grouping's answer: each group's published value (`None`: withheld) and the
/// total's; with the perturbation's bound read from the rules.
#[derive(Default)]
struct Answer {
    groups: BTreeMap<Cell, Option<i64>>,
    total: Option<i64>,
}

async fn census_answer(
    app: &TestApp,
    address: &str,
    token: &str,
    group_by: &[&str],
    bound: &mut i64,
) -> Option<Answer> {
    let query = "query ($by: [Dimension!]!) { patientCounts(population: ENROLLED, groupBy: $by) { \
                 total { value rule } groups { keys { dimension code } patients { value rule } } } }";
    let body = json!({ "query": query, "variables": { "by": group_by } });
    let response: Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let counts = response["data"]["patientCounts"].as_object()?;
    let mut read = |count: &Value| {
        if let Some(within) = count["rule"].as_str().and_then(|r| r.split("within ±").nth(1)) {
            *bound = (*bound).max(within.trim().parse().expect("a bound"));
        }
        count["value"].as_i64()
    };
    let mut answer = Answer { total: read(&counts["total"]), ..Answer::default() };
    for group in counts["groups"].as_array().expect("groups") {
        let mut cell: Cell = group["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| (k["dimension"].as_str().unwrap_or_default().to_owned(), k["code"].to_string()))
            .collect();
        cell.sort();
        answer.groups.insert(cell, read(&group["patients"]));
    }
    Some(answer)
}

/// Every grouping of depth ≤ 2, as separate requests: cell → value (`None`: withheld;
/// absent: left out), and the equations "these cells add up to that one".
struct Census {
    values: BTreeMap<Cell, Option<i64>>,
    equations: Vec<(Cell, Vec<Cell>)>,
    bound: i64,
}

async fn census(app: &TestApp, address: &str, token: &str, truth: Option<&Census>) -> Census {
    let mut groupings: Vec<Vec<&str>> = vec![vec![]];
    groupings.extend(DIMENSIONS.iter().map(|d| vec![*d]));
    for (i, a) in DIMENSIONS.iter().enumerate() {
        groupings.extend(DIMENSIONS[i + 1..].iter().map(|b| vec![*a, *b]));
    }
    let mut values = BTreeMap::new();
    let mut bound = 0;
    let mut equations = Vec::new();
    for grouping in &groupings {
        let Some(answer) = census_answer(app, address, token, grouping, &mut bound).await else { continue };
        values.insert(Vec::new(), answer.total);
        values.extend(answer.groups);
    }
    // The equations hold where a grouping partitions its margin: read from the truth
    // (an attacker knows the dimensions' structure from the documentation).
    if let Some(truth) = truth {
        equations = truth.equations.clone();
    } else {
        for grouping in &groupings {
            for (position, _) in grouping.iter().enumerate() {
                let mut margins: BTreeMap<Cell, Vec<Cell>> = BTreeMap::new();
                for cell in values.keys().filter(|c| c.len() == grouping.len() && dims(c) == sorted(grouping)) {
                    let margin: Cell = cell.iter().filter(|(d, _)| *d != grouping[position]).cloned().collect();
                    margins.entry(margin).or_default().push(cell.clone());
                }
                for (margin, parts) in margins {
                    let sum: i64 = parts.iter().map(|c| values[c].unwrap_or(0)).sum();
                    if values.get(&margin).copied().flatten() == Some(sum) {
                        equations.push((margin, parts));
                    }
                }
            }
        }
    }
    Census { values, equations, bound }
}

fn dims(cell: &Cell) -> Vec<String> {
    cell.iter().map(|(d, _)| d.clone()).collect()
}

fn sorted(grouping: &[&str]) -> Vec<String> {
    let mut dims: Vec<String> = grouping.iter().map(|d| (*d).to_owned()).collect();
    dims.sort();
    dims
}

/// What the attacker can say of each cell: an interval of its count. A published value
/// is within the bound of its count and (perturbed) rests on at least k patients.
fn solve(seen: &Census, truth: &Census, k: i64, ceiling: i64) -> BTreeMap<Cell, (i64, i64)> {
    let d = seen.bound;
    let floor = if d > 0 { k } else { 0 };
    let mut intervals: BTreeMap<Cell, (i64, i64)> = truth
        .values
        .keys()
        .map(|cell| {
            let interval = match seen.values.get(cell).copied().flatten() {
                Some(v) => ((v - d).max(floor), v + d),
                None => (0, ceiling),
            };
            (cell.clone(), interval)
        })
        .collect();
    for _ in 0..50 {
        let mut moved = false;
        for (margin, parts) in &truth.equations {
            let (lo_sum, hi_sum) =
                parts.iter().fold((0i64, 0i64), |(lo, hi), c| (lo + intervals[c].0, hi.saturating_add(intervals[c].1)));
            let (m_lo, m_hi) = intervals[margin];
            let tightened = (m_lo.max(lo_sum), m_hi.min(hi_sum));
            moved |= tightened != intervals[margin];
            intervals.insert(margin.clone(), tightened);
            for part in parts {
                let (lo, hi) = intervals[part];
                let others_lo = lo_sum - lo;
                let others_hi = hi_sum.saturating_sub(hi);
                let new = (lo.max(tightened.0.saturating_sub(others_hi)), hi.min(tightened.1 - others_lo));
                moved |= new != (lo, hi);
                intervals.insert(part.clone(), new);
            }
        }
        if !moved {
            break;
        }
    }
    intervals
}

async fn partners(app: &TestApp) -> Vec<(String, PartnerKind)> {
    let all = partner::Entity::find().order_by_asc(partner::Column::Id).all(&app.db).await.expect("partners");
    [PartnerKind::Industry, PartnerKind::Hospital, PartnerKind::Registry, PartnerKind::Academic]
        .into_iter()
        .filter_map(|kind| {
            // The largest partner of each kind by how much it sees is found by asking;
            // here: the first of the kind (a company with cohorts: the generator's first).
            all.iter().find(|p| p.kind == kind && p.code != "EARLYLOOK").map(|p| (p.code.clone(), kind))
        })
        .collect()
}

/// What one partner's census gave away.
struct Attacked {
    determined: usize,
    pinned: usize,
    /// The perturbation's bound D read from the answers.
    bound: i64,
    line: String,
}

/// Attacks `code`'s census from the server at `address`, knowing `truth`.
async fn attack(
    app: &TestApp,
    address: &str,
    (truth, truth_address): (&Census, &str),
    code: &str,
    kind: PartnerKind,
) -> Attacked {
    let token = app.token_for(code, None).await;
    let seen = census(app, address, &token, Some(truth)).await;
    let (k, ceiling) = match kind {
        PartnerKind::Industry | PartnerKind::Hospital => (5, i64::MAX / 4),
        // Perturbed: a cell not given holds fewer than k + D (no insider or dominance
        // rule); exact: the rule names bound nothing this solver uses.
        PartnerKind::Registry | PartnerKind::Academic if seen.bound > 0 => (3, 3 - 1 + seen.bound),
        PartnerKind::Registry | PartnerKind::Academic => (3, i64::MAX / 4),
    };
    let intervals = solve(&seen, truth, k, ceiling);
    let (mut small, mut determined, mut pinned, mut large, mut published) = (0, 0, 0, 0, 0);
    for (cell, value) in &truth.values {
        let n = value.expect("the truth publishes every count");
        let (lo, hi) = intervals[cell];
        assert!(lo <= n && n <= hi, "{code}: the solver's interval [{lo}, {hi}] of {cell:?} holds its count {n}");
        let given = seen.values.get(cell).copied().flatten();
        if n >= k {
            large += 1;
            published += usize::from(given.is_some());
        } else if n > 0 || given.is_none() {
            assert!(given.is_none(), "{code}: {cell:?} rests on {n} < k patients and was published");
            small += 1;
            determined += usize::from(lo == hi && n > 0);
            pinned += usize::from(lo > 0 || hi < k - 1);
        }
    }
    let (shown, dashboard_large) = dashboards(app, address, truth_address, &token, k as u64).await;
    let line = format!(
        "{code} ({kind:?}, k = {k}, D = {}): {} cells, {small} under k withheld, {determined} determined, {pinned} \
         pinned narrower than [0, {}]; {published} of {large} cells of k or more published ({:.1}%); \
         dashboards: {shown} counts published of {dashboard_large} of k or more ({:.1}%)",
        seen.bound,
        truth.values.len(),
        k - 1,
        100.0 * published as f64 / large.max(1) as f64,
        100.0 * shown as f64 / dashboard_large.max(1) as f64,
    );
    assert!(small > 0, "{code}: the census has small cells to attack");
    Attacked { determined, pinned, bound: seen.bound, line }
}

/// The dashboards' six questions (`api/web/dashboards.js`); the monthly one is asked of
/// the truth at the interval the partner was given.
const DASHBOARDS: [&str; 6] = [
    "{ funnel { steps { patients { value } } } }",
    "{ cohortMonitoring { clinicalBenefit { numerator { value } denominator { value } } } }",
    "{ survival(endpoint: PFS) { patients { value } events { value } atRisk { patients { value } } } }",
    "{ survival(endpoint: OS, byTreatmentGroup: true) { patients { value } events { value } atRisk { patients { value } } } }",
    "{ monthlyActivity{interval} { interval referrals { value } enrolments { value } treatmentStarts { value } } }",
    "{ adverseEvents(category: ORGAN_CLASS) { treated { value } anyGrade { numerator { value } } grade3Plus { numerator { value } } } }",
];

/// The published counts in `answer` (integers under a `value` key).
fn counts(answer: &Value, out: &mut Vec<u64>) {
    match answer {
        Value::Object(fields) => {
            out.extend(fields.get("value").and_then(Value::as_u64));
            fields.values().for_each(|v| counts(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| counts(v, out)),
        _ => {}
    }
}

/// For the dashboards' questions asked by `token` at `address`: how many counts are
/// published, and how many of the truth's (at `truth`) rest on `k` or more patients.
async fn dashboards(app: &TestApp, address: &str, truth: &str, token: &str, k: u64) -> (usize, usize) {
    let ask = |at: &str, query: String| {
        let request = app.client.post(format!("{at}/graphql")).bearer_auth(token).json(&json!({ "query": query }));
        async move { request.send().await.expect("request").json::<Value>().await.expect("json") }
    };
    let (mut published, mut large) = (0, 0);
    for question in DASHBOARDS {
        let seen = ask(address, question.replace("{interval}", "")).await;
        if seen.get("errors").is_some() {
            // A question the partner may not ask (a company's funnel before enrolment is
            // its own) counts for neither side.
            continue;
        }
        let interval = seen["data"]["monthlyActivity"][0]["interval"].as_str().unwrap_or("MONTH");
        let exact = ask(truth, question.replace("{interval}", &format!("(interval: {interval})"))).await;
        let (mut given, mut all) = (Vec::new(), Vec::new());
        counts(&seen["data"], &mut given);
        counts(&exact["data"], &mut all);
        // A published count other than zero rests on k or more (zeros are no cell of
        // k or more, on either side).
        published += given.iter().filter(|n| **n > 0).count();
        large += all.iter().filter(|n| **n >= k).count();
    }
    (published, large)
}

/// Survival curves — OS overall and by cohort, PFS by region — as step tables (the
/// truth's) or life tables.
const CURVES: &str = "fragment curve on SurvivalCurve { group { code } events { value } \
    steps { months { value } atRisk { value } events { value } } } \
    { overall: survival(endpoint: OS) { ...curve } byCohort: survival(endpoint: OS, groupBy: COHORT) { ...curve } \
      byRegion: survival(endpoint: PFS, groupBy: REGION) { ...curve } }";

/// Survival tails: every row of a life table `token` is given at `address` rests on at
/// least `k` events and `k` at risk (checked against the truth's exact step table at
/// `truth`), and the events after a curve's last row — the tail its events minus its
/// rows' would give — are never pinned narrower than [0, k − 1] with the perturbation's
/// bound `d`. Returns the rows checked.
async fn survival_tails(app: &TestApp, (address, truth): (&str, &str), token: &str, k: i64, d: i64) -> usize {
    let ask = |at: &str| {
        let request = app.client.post(format!("{at}/graphql")).bearer_auth(token).json(&json!({ "query": CURVES }));
        async move { request.send().await.expect("request").json::<Value>().await.expect("json") }
    };
    let (seen, exact) = (ask(address).await, ask(truth).await);
    let curves = |body: &Value| -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        for question in ["overall", "byCohort", "byRegion"] {
            for curve in body["data"][question].as_array().into_iter().flatten() {
                all.insert(format!("{question} {}", curve["group"]["code"]), curve.clone());
            }
        }
        all
    };
    let truth = curves(&exact);
    let number = |v: &Value| v["value"].as_f64();
    let mut checked = 0;
    for (cohort, curve) in curves(&seen) {
        let steps: Vec<(f64, i64, i64)> = truth[&cohort]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((number(&s["months"])?, number(&s["atRisk"])? as i64, number(&s["events"])? as i64)))
            .collect();
        let (mut from, mut rows_low, mut rows_high, mut true_rows) = (0.0, 0, 0, 0);
        for row in curve["steps"].as_array().into_iter().flatten() {
            let (Some(to), Some(events)) = (number(&row["months"]), number(&row["events"])) else { continue };
            let true_events: i64 = steps.iter().filter(|(t, _, _)| *t >= from && *t < to).map(|(_, _, e)| e).sum();
            let true_at_risk = steps.iter().find(|(t, _, _)| *t >= from).map_or(0, |(_, n, _)| *n);
            assert!(
                true_events >= k && true_at_risk >= k,
                "{cohort}: a row from {from} to {to} rests on {true_events} events, {true_at_risk} at risk"
            );
            // What the attacker knows of the row: within D of its value, and at least k.
            let (low, high) = ((events as i64 - d).max(k), events as i64 + d);
            (rows_low, rows_high, true_rows) = (rows_low + low, rows_high + high, true_rows + true_events);
            from = to;
            checked += 1;
        }
        let tail = steps.iter().map(|(_, _, e)| e).sum::<i64>() - true_rows;
        let (low, high) = match number(&curve["events"]) {
            Some(events) => ((events as i64 - d - rows_high).max(0), events as i64 + d - rows_low),
            None => (0, i64::MAX),
        };
        assert!(low <= tail && tail <= high, "{cohort}: the tail {tail} is in [{low}, {high}]");
        if tail < k {
            assert!(low == 0 && high >= k - 1, "{cohort}: a tail of {tail} pinned to [{low}, {high}]");
        }
    }
    checked
}

/// The census of every kind attacked, under the cell-key method and, for comparison,
/// with exact counts protected per answer.
async fn attack_every_kind(app: TestApp) {
    let exact = Replica::start_with(&app.database_url(), i64::MAX / 4, EXACT);
    // The same partners with the cell-key method off: exact counts under the
    // per-answer rules (complementary suppression, the differencing guard).
    let per_answer = Replica::start_with(&app.database_url(), i64::MAX / 4, PER_ANSWER);
    let (mut report, mut before) = (Vec::new(), Vec::new());
    for (code, kind) in partners(&app).await {
        let token = app.token_for(&code, None).await;
        let truth = census(&app, &exact.address, &token, None).await;
        let attacked = attack(&app, &app.address, (&truth, &exact.address), &code, kind).await;
        let k = if matches!(kind, PartnerKind::Industry | PartnerKind::Hospital) { 5 } else { 3 };
        let rows = survival_tails(&app, (&app.address, &exact.address), &token, k, attacked.bound).await;
        report.push(format!("{}; survival: {rows} life-table rows checked", attacked.line));
        assert!(rows > 0, "{code}: the partner was given life tables to attack");
        assert_eq!((attacked.determined, attacked.pinned), (0, 0), "{}", attacked.line);
        before.push(attack(&app, &per_answer.address, (&truth, &exact.address), &code, kind).await);
    }
    eprintln!("attack suite ({:?}), the cell-key method:\n  {}", app.backend(), report.join("\n  "));
    let lines: Vec<&str> = before.iter().map(|b| b.line.as_str()).collect();
    eprintln!("the same census, exact counts protected per answer:\n  {}", lines.join("\n  "));
    assert_eq!(report.len(), 4, "a partner of every kind was attacked");
    // The solver finds what per-answer protection leaves open (a small cell determined
    // or pinned): it can fail.
    assert!(before.iter().map(|b| b.determined + b.pinned).sum::<usize>() > 0, "{lines:?}");
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn no_combination_of_answers_determines_or_pins_a_small_cell(app: TestApp) {
        attack_every_kind(app).await;
    }
}

on_both_backends! {
    spawn = spawn_second_seed;
    async fn nor_on_a_consortium_of_another_seed(app: TestApp) {
        attack_every_kind(app).await;
    }
}
