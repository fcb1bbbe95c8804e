//! A hand-written trial of twelve patients whose answers are worked out on paper, loaded
//! through an import of the example files of `docs/import.md` (`docs/import/*.csv`).
//!
//! Cohort `K-BRAF` (default design 1/8 → 5/24, recorded `STAGE_1`); cohort `K-EMPTY`
//! with nobody. Everyone referred 2024-01-01, profiled (BRAF V600E, ESCAT I-A), reviewed
//! 2024-01-15. P1–P10 enrolled 2024-02-01; P1–P9 treated from 2024-02-01 (day 0);
//! P10 enrolled but never treated; P11 matched, not enrolled; P12 no match.
//!
//! | patient | assessments (week: response) | evaluable | benefit | PFS (days) |
//! |---|---|---|---|---|
//! | P1 | 8 SD, 16 SD, 24 PD | yes | yes | 168 event |
//! | P2 | 8 PD (died later) | yes | no | 56 event |
//! | P3 | 8 PR, 16 PR, 24 PR | yes | yes (PR) | 168 censored |
//! | P4 | 8 SD, 16 PD | yes | no | 112 event |
//! | P5 | 6 SD, stopped | no | no | 42 censored |
//! | P6 | none; died day 50 | yes (death before week 14) | no | 50 event |
//! | P7 | 8 SD, 16 CR | yes | yes (CR) | 112 censored |
//! | P8 | 8 SD, 15 SD | yes | yes | 105 censored |
//! | P9 | 8 NE, 16 SD | yes | yes | 112 censored |
//!
//! So: 9 treated, 8 evaluable, 5 benefits (DCR 5/8), objective responses 2/8; best
//! response among evaluable CR 1 (P7), PR 1 (P3), SD 4 (P1, P4, P8, P9), PD 1 (P2),
//! NE 1 (P6, never assessed). The 8 evaluable complete stage 1 with 5 benefits, already
//! more than r = 4 of 24: the data say "positive", while the recorded status says
//! stage 1 — a mismatch. PFS Kaplan–Meier (months =
//! days / 30.4375): S = 7/8 at 50 d, 3/4 at 56 d, 3/5 at 112 d (one event and two
//! censorings tied there), 3/10 at 168 d; median 168 d. Deaths: P6 (day 50), P2
//! (2024-06-01), P11 (2024-04-15). Adverse events: P1 diarrhoea grade 3 related and
//! again grade 1 (one patient), P2 fatigue grade 2 unrelated.
//!
//! P1 … P12 are numbers for this page; the files know the patients by pseudonyms that
//! are no sequence ([`PSEUDONYMS`], through [`p`]).

use crate::helpers::{Backend, TestApp};
use consortium_api::import::{run, Mode, Recorded};
use consortium_store::import::{Domain, Rights, Upload};
use sea_orm::DatabaseConnection;

/// The pseudonyms of P1 … P12, in order.
pub const PSEUDONYMS: [&str; 12] = [
    "IMP-9F9ECA45E8",
    "IMP-M2XB6KANGS",
    "IMP-X6QW1HKBV2",
    "IMP-SNBKZ79RMS",
    "IMP-BDBHSTE8JX",
    "IMP-2EM75MCN6M",
    "IMP-Y7WFGWDWFG",
    "IMP-6BD7Z1CV45",
    "IMP-MNYZN8BF65",
    "IMP-J4ZK2WWY2V",
    "IMP-CVFFSQFM8P",
    "IMP-J5EQ2G1JKP",
];

/// The pseudonym of patient P`n` of the table above.
pub fn p(n: usize) -> &'static str {
    PSEUDONYMS[n - 1]
}

/// The trial above as import files: the examples of `docs/import.md`, one per domain.
pub fn files() -> Vec<(Domain, &'static str)> {
    macro_rules! example {
        ($domain:ident, $name:literal) => {
            (Domain::$domain, include_str!(concat!("../../docs/import/", $name, ".csv")))
        };
    }
    vec![
        example!(Partners, "partners"),
        example!(Sites, "sites"),
        example!(Drugs, "drugs"),
        example!(Cohorts, "cohorts"),
        example!(Dm, "dm"),
        example!(Profiles, "profiles"),
        example!(Variants, "variants"),
        example!(Ds, "ds"),
        example!(Ex, "ex"),
        example!(Rs, "rs"),
        example!(Ae, "ae"),
        example!(Ss, "ss"),
    ]
}

/// Loads the trial above into an empty, migrated database the way real data arrives:
/// one import of its files, which bumps the data version once.
pub async fn seed(db: &DatabaseConnection) {
    let uploads: Vec<Upload> = files()
        .into_iter()
        .map(|(domain, text)| Upload { domain, file: format!("{domain}.csv"), bytes: text.as_bytes().to_vec() })
        .collect();
    let report =
        run(db, &uploads, &Rights::operator(), Mode::default(), &Recorded::operator(), &|_| {}).await.expect("import");
    assert!(report.applied && report.problems.is_empty(), "{}", report.describe());
}

/// The service on `backend` serving the trial above.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let app = TestApp::spawn_with(backend, None).await?;
    seed(&app.db).await;
    app.state.refresh().await.expect("refresh the snapshot");
    Some(app)
}
