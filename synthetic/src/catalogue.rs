//! The fixed reference data of the synthetic consortium: hospitals and their regions,
//! the registry, industry and academic partners, study drugs with their suppliers,
//! cohort templates (tumour type × alteration × drug, with a hidden true benefit
//! rate), tumour types with their ICD-10 codes and alteration spectra, passenger
//! variants, and CTCAE v5 adverse-event terms by drug class.
//!
//! Nothing here depends on the seed: the same partners, drugs and cohorts exist in every
//! demo consortium, so identities (codes, organisation numbers) are stable across runs.
//! Relative weights are our own calibration, chosen so the simulated funnel lands near
//! the published IMPRESS-Norway and DRUP figures in `domain.md`.

use chrono::NaiveDate;
use consortium_entity::enums::{AlterationClass, EscatTier, HealthRegion, ResponseCriteria};

use AlterationClass::{Amplification, BiallelicLoss, Deletion, Fusion, MsiHigh, Mutation, TmbHigh};
use EscatTier::{IA, IB, IC, IIA, IIB, IIIA, IIIB, IVA, X};

/// A date known at compile time; an impossible date would show up as `NaiveDate::MIN`,
/// which the tests rule out.
pub(super) const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// The oncotree code of tumour-agnostic cohorts.
pub(super) const SOLID: &str = "SOLID";

/// A hospital with a cancer department: a partner and one trial site.
pub(super) struct Hospital {
    /// Short code, shared by the partner and its site.
    pub code: &'static str,
    /// Full name.
    pub name: &'static str,
    /// Regional health authority.
    pub region: HealthRegion,
    /// Whether it runs InPreD sequencing (the six university hospitals).
    pub inpred_node: bool,
    /// Relative number of referrals (catchment population and referral habits).
    pub referrals: f64,
}

/// The 17 hospitals; regional shares of referrals follow population (South-East ~57%).
pub(super) const HOSPITALS: [Hospital; 17] = [
    hospital("OUS", "Oslo University Hospital", HealthRegion::SouthEast, true, 22.0),
    hospital("HUS", "Haukeland University Hospital", HealthRegion::West, true, 11.0),
    hospital("STOLAV", "St. Olavs Hospital, Trondheim University Hospital", HealthRegion::Central, true, 9.0),
    hospital("UNN", "University Hospital of North Norway", HealthRegion::North, true, 6.0),
    hospital("SUS", "Stavanger University Hospital", HealthRegion::West, true, 6.0),
    hospital("AHUS", "Akershus University Hospital", HealthRegion::SouthEast, true, 9.0),
    hospital("SSHF", "Sørlandet Hospital", HealthRegion::SouthEast, false, 5.0),
    hospital("VVHF", "Vestre Viken Hospital Trust", HealthRegion::SouthEast, false, 6.0),
    hospital("SIHF", "Innlandet Hospital Trust", HealthRegion::SouthEast, false, 5.0),
    hospital("SOHF", "Østfold Hospital Trust", HealthRegion::SouthEast, false, 4.0),
    hospital("STHF", "Telemark Hospital Trust", HealthRegion::SouthEast, false, 3.0),
    hospital("SIV", "Vestfold Hospital Trust", HealthRegion::SouthEast, false, 4.0),
    hospital("HFD", "Førde Hospital Trust", HealthRegion::West, false, 2.0),
    hospital("HFO", "Fonna Hospital Trust", HealthRegion::West, false, 2.0),
    hospital("HMR", "Møre og Romsdal Hospital Trust", HealthRegion::Central, false, 4.0),
    hospital("NLSH", "Nordland Hospital Trust", HealthRegion::North, false, 3.0),
    hospital("FIN", "Finnmark Hospital Trust", HealthRegion::North, false, 1.0),
];

const fn hospital(
    code: &'static str,
    name: &'static str,
    region: HealthRegion,
    inpred_node: bool,
    referrals: f64,
) -> Hospital {
    Hospital { code, name, region, inpred_node, referrals }
}

/// A non-hospital partner: the registry, a company or an academic group.
pub(super) struct Organisation {
    /// Short code.
    pub code: &'static str,
    /// Full name.
    pub name: &'static str,
}

/// The national cancer registry, source of long-term follow-up.
pub(super) const REGISTRY: Organisation = Organisation { code: "CRN", name: "Cancer Registry of Norway" };

/// The academic partner: the trial's coordinating statisticians.
pub(super) const ACADEMIC: Organisation =
    Organisation { code: "TRIALSTAT", name: "Trial coordinating statistics group, University of Oslo" };

/// A partner on the noisy tier: the early-look trial statistics a patient organisation
/// publishes for patients and the public, from counts with differentially private
/// noise (see [`super::DISCLOSURE_OVERRIDES`]).
pub(super) const EARLY_LOOK: Organisation =
    Organisation { code: "EARLYLOOK", name: "Early-look public statistics, Norwegian Cancer Society" };

/// What the early-look partner may read: enrolment and response, nothing more.
pub(super) const EARLY_LOOK_SCOPES: &str = "enrolment:read response:read";

/// The companies of the public–private partnership that supply study drugs.
pub(super) const INDUSTRY: [Organisation; 10] = [
    Organisation { code: "ROCHE", name: "Roche" },
    Organisation { code: "NOVARTIS", name: "Novartis" },
    Organisation { code: "ASTRAZENECA", name: "AstraZeneca" },
    Organisation { code: "LILLY", name: "Eli Lilly" },
    Organisation { code: "INCYTE", name: "Incyte" },
    Organisation { code: "GSK", name: "GSK" },
    Organisation { code: "PFIZER", name: "Pfizer" },
    Organisation { code: "BMS", name: "Bristol Myers Squibb" },
    Organisation { code: "MSD", name: "MSD" },
    Organisation { code: "BAYER", name: "Bayer" },
];

/// A plausible Norwegian organisation number for the partner at `index`: nine digits
/// starting with 9 and a valid modulus-11 check digit, stable across seeds so identity
/// claims can be configured once.
pub(super) fn org_number(index: usize) -> String {
    const WEIGHTS: [u64; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let base = 91_000_000 + (index as u64) * 137_211;
    // About one base in eleven has no valid check digit; the next few candidates do.
    (0..11u64)
        .map(|k| base + k * 13)
        .find_map(|candidate| {
            let digits: Vec<u64> = format!("{candidate:08}").bytes().map(|b| u64::from(b - b'0')).collect();
            let sum: u64 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
            match 11 - sum % 11 {
                10 => None,
                11 => Some(format!("{candidate:08}0")),
                check => Some(format!("{candidate:08}{check}")),
            }
        })
        .unwrap_or_else(|| format!("{base:08}0"))
}

/// The class of study drug, which decides its typical adverse events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Toxicity {
    /// PD-1 / PD-L1 checkpoint inhibitors: immune-related events.
    Immune,
    /// HER2 antibodies.
    Her2,
    /// PARP inhibitors: marrow suppression, nausea.
    Parp,
    /// BRAF + MEK inhibitors: pyrexia, rash.
    BrafMek,
    /// Selective RET inhibitors: hypertension, transaminases.
    Ret,
    /// TRK / ROS1 inhibitors: dysgeusia, dizziness, weight gain.
    Trk,
    /// FGFR inhibitors: hyperphosphataemia, stomatitis, nails and eyes.
    Fgfr,
    /// PI3K inhibitors: hyperglycaemia, rash, diarrhoea.
    Pi3k,
    /// CDK4/6 inhibitors: neutropenia.
    Cdk46,
    /// MET inhibitors: oedema, nausea.
    Met,
}

/// A study drug (or combination) and its supplier.
pub(super) struct Drug {
    /// Short code.
    pub code: &'static str,
    /// Name, combinations joined with ` + `.
    pub name: &'static str,
    /// Mechanism of action.
    pub mechanism: &'static str,
    /// Code of the supplying industry partner.
    pub supplier: &'static str,
    /// Adverse-event profile.
    pub toxicity: Toxicity,
}

const fn drug(
    code: &'static str,
    name: &'static str,
    mechanism: &'static str,
    supplier: &'static str,
    toxicity: Toxicity,
) -> Drug {
    Drug { code, name, mechanism, supplier, toxicity }
}

/// The study drugs; every one is used by at least one cohort.
pub(super) const DRUGS: [Drug; 18] = [
    drug("NIVOLUMAB", "nivolumab", "PD-1 inhibitor", "BMS", Toxicity::Immune),
    drug("DURVALUMAB", "durvalumab", "PD-L1 inhibitor", "ASTRAZENECA", Toxicity::Immune),
    drug("DOSTARLIMAB", "dostarlimab", "PD-1 inhibitor", "GSK", Toxicity::Immune),
    drug("PEMBROLIZUMAB", "pembrolizumab", "PD-1 inhibitor", "MSD", Toxicity::Immune),
    drug("TRAS-PERT", "trastuzumab + pertuzumab", "HER2-directed monoclonal antibodies", "ROCHE", Toxicity::Her2),
    drug("OLAPARIB", "olaparib", "PARP inhibitor", "ASTRAZENECA", Toxicity::Parp),
    drug("NIRAPARIB", "niraparib", "PARP inhibitor", "GSK", Toxicity::Parp),
    drug("VEM-COBI", "vemurafenib + cobimetinib", "BRAF + MEK inhibitors", "ROCHE", Toxicity::BrafMek),
    drug("DAB-TRAM", "dabrafenib + trametinib", "BRAF + MEK inhibitors", "NOVARTIS", Toxicity::BrafMek),
    drug("SELPERCATINIB", "selpercatinib", "selective RET inhibitor", "LILLY", Toxicity::Ret),
    drug("ENTRECTINIB", "entrectinib", "TRK / ROS1 / ALK inhibitor", "ROCHE", Toxicity::Trk),
    drug("PEMIGATINIB", "pemigatinib", "FGFR1–3 inhibitor", "INCYTE", Toxicity::Fgfr),
    drug("ALPELISIB", "alpelisib", "PI3Kα inhibitor", "NOVARTIS", Toxicity::Pi3k),
    drug("CAPMATINIB", "capmatinib", "MET inhibitor", "NOVARTIS", Toxicity::Met),
    drug("COPANLISIB", "copanlisib", "pan-class I PI3K inhibitor", "BAYER", Toxicity::Pi3k),
    drug("PALBOCICLIB", "palbociclib", "CDK4/6 inhibitor", "PFIZER", Toxicity::Cdk46),
    drug("RIBOCICLIB", "ribociclib", "CDK4/6 inhibitor", "NOVARTIS", Toxicity::Cdk46),
    drug("ABEMACICLIB", "abemaciclib", "CDK4/6 inhibitor", "LILLY", Toxicity::Cdk46),
];

/// A molecular alteration as the panel reports it, with its prevalence weight.
pub(super) struct Target {
    /// HGNC symbol, or the pseudo-genes `MSI` / `TMB`.
    pub gene: &'static str,
    /// Kind of alteration.
    pub class: AlterationClass,
    /// HGVS protein changes to draw from (mutations only).
    pub changes: &'static [&'static str],
    /// ESCAT tier in the tumour types it is listed for.
    pub tier: EscatTier,
    /// Relative prevalence among the patients it can occur in.
    pub weight: f64,
}

const fn target(
    gene: &'static str,
    class: AlterationClass,
    changes: &'static [&'static str],
    tier: EscatTier,
    weight: f64,
) -> Target {
    Target { gene, class, changes, tier, weight }
}

/// A cohort template: one tumour type × one alteration × one drug.
pub(super) struct CohortTemplate {
    /// Short stable code.
    pub code: &'static str,
    /// OncoTree code, or [`SOLID`] for tumour-agnostic cohorts.
    pub tumour: &'static str,
    /// The alteration; its weight is its share among actionable patients of the tumour type.
    pub target: Target,
    /// Code of the study drug.
    pub drug: &'static str,
    /// Hidden true clinical-benefit rate at week 16.
    pub benefit: f64,
    /// Share of benefiting patients who respond (PR/CR) rather than stay stable.
    pub response_share: f64,
    /// Days after the first referral at which the cohort opens (before seeded jitter).
    pub opens_after_days: i32,
    /// Planned closure for another reason (drug withdrawn, slow accrual), if any.
    pub closes_other: Option<NaiveDate>,
}

#[allow(clippy::too_many_arguments)]
const fn cohort(
    code: &'static str,
    tumour: &'static str,
    target: Target,
    drug: &'static str,
    benefit: f64,
    response_share: f64,
    opens_after_days: i32,
    closes_other: Option<NaiveDate>,
) -> CohortTemplate {
    CohortTemplate { code, tumour, target, drug, benefit, response_share, opens_after_days, closes_other }
}

const V600E: &[&str] = &["p.V600E"];
const PIK3CA: &[&str] = &["p.E545K", "p.H1047R", "p.E542K", "p.H1047L", "p.Q546K"];
const FGFR2_HOTSPOTS: &[&str] = &["p.S252W", "p.N549K", "p.C382R"];
const ERBB2_EXON20: &[&str] = &["p.Y772_A775dup", "p.G776delinsVC", "p.S310F"];

/// The cohorts, from `domain.md`'s template rows; benefit rates are the published
/// family figures (MSI-high + PD-1 ~0.60, HER2 ~0.45, CDK4/6 ~0.15 with almost no
/// responses, TMB-intermediate MSS colorectal ~0.03 …).
///
/// A third of the cohorts sit in the low-rate families (PI3K, CDK4/6, TMB), whose
/// chance of stopping after stage 1 is 0.3–0.8; with these rates about a fifth to a
/// quarter of the cohorts that complete stage 1 close for futility. The published ~40%
/// would need most cohorts to be nearly inactive, which the family rates contradict.
// One row per cohort: code, tumour, alteration (gene, class, protein changes, ESCAT
// tier, share among the tumour type's actionable patients), drug, true benefit rate,
// share of benefiting patients who respond, days to opening, closure for other reasons.
#[rustfmt::skip]
pub(super) const COHORTS: [CohortTemplate; 33] = [
    cohort("UCEC-MSI-NIVO", "UCEC", target("MSI", MsiHigh, &[], IC, 0.0), "NIVOLUMAB", 0.60, 0.55, 0, None),
    cohort("CHOL-MSI-DURVA", "CHOL", target("MSI", MsiHigh, &[], IC, 0.0), "DURVALUMAB", 0.60, 0.50, 0, None),
    cohort("STAD-MSI-DOSTAR", "STAD", target("MSI", MsiHigh, &[], IC, 0.0), "DOSTARLIMAB", 0.60, 0.55, 180, None),
    cohort("CRC-HER2-TP", "COADREAD", target("ERBB2", Amplification, &[], IIB, 4.0), "TRAS-PERT", 0.45, 0.45, 0, None),
    cohort("CHOL-HER2-TP", "CHOL", target("ERBB2", Amplification, &[], IIB, 3.0), "TRAS-PERT", 0.45, 0.40, 0, None),
    cohort("UCEC-HER2-TP", "UCEC", target("ERBB2", Amplification, &[], IIIA, 3.0), "TRAS-PERT", 0.40, 0.35, 270, None),
    cohort("BLCA-HER2-TP", "BLCA", target("ERBB2", Amplification, &[], IIIA, 3.0), "TRAS-PERT", 0.25, 0.30, 365, None),
    cohort("LUAD-HER2M-TP", "LUAD", target("ERBB2", Mutation, ERBB2_EXON20, IIB, 4.0), "TRAS-PERT", 0.30, 0.30, 180, None),
    cohort("LUAD-MET-CAPM", "LUAD", target("MET", Amplification, &[], IIB, 4.0), "CAPMATINIB", 0.35, 0.45, 90, None),
    cohort("PRAD-BRCA2-OLA", "PRAD", target("BRCA2", BiallelicLoss, &[], IA, 5.0), "OLAPARIB", 0.35, 0.35, 0, None),
    cohort("PAAD-BRCA2-NIRA", "PAAD", target("BRCA2", BiallelicLoss, &[], IA, 4.0), "NIRAPARIB", 0.35, 0.30, 0, None),
    cohort("HGSOC-BRCA1-NIRA", "HGSOC", target("BRCA1", BiallelicLoss, &[], IA, 5.0), "NIRAPARIB", 0.35, 0.35, 90, None),
    cohort("CHOL-BRAF-DT", "CHOL", target("BRAF", Mutation, V600E, IB, 2.0), "DAB-TRAM", 0.40, 0.50, 0, None),
    cohort("GINET-BRAF-VC", "GINET", target("BRAF", Mutation, V600E, IIIA, 3.0), "VEM-COBI", 0.40, 0.40, 180,
        Some(ymd(2025, 6, 30))),
    cohort("DIFG-BRAF-DT", "DIFG", target("BRAF", Mutation, V600E, IB, 4.0), "DAB-TRAM", 0.40, 0.40, 90, None),
    cohort("THPA-RET-SELP", "THPA", target("RET", Fusion, &[], IB, 5.0), "SELPERCATINIB", 0.55, 0.65, 0, None),
    cohort("PAAD-RET-SELP", "PAAD", target("RET", Fusion, &[], IC, 0.5), "SELPERCATINIB", 0.55, 0.55, 365, None),
    cohort("CRC-RET-SELP", "COADREAD", target("RET", Fusion, &[], IC, 0.4), "SELPERCATINIB", 0.50, 0.50, 365, None),
    cohort("SOLID-NTRK-ENTR", SOLID, target("NTRK1", Fusion, &[], IC, 0.5), "ENTRECTINIB", 0.55, 0.60, 0, None),
    cohort("SOLID-ROS1-ENTR", SOLID, target("ROS1", Fusion, &[], IIIA, 0.3), "ENTRECTINIB", 0.50, 0.55, 180, None),
    cohort("CHOL-FGFR2-PEMI", "CHOL", target("FGFR2", Fusion, &[], IB, 6.0), "PEMIGATINIB", 0.35, 0.35, 0, None),
    cohort("UCEC-FGFR2M-PEMI", "UCEC", target("FGFR2", Mutation, FGFR2_HOTSPOTS, IIIA, 2.0), "PEMIGATINIB", 0.12, 0.20,
        270, None),
    cohort("CRC-PIK3CA-ALP", "COADREAD", target("PIK3CA", Mutation, PIK3CA, IIIA, 5.0), "ALPELISIB", 0.10, 0.20, 0, None),
    cohort("HNSC-PIK3CA-ALP", "HNSC", target("PIK3CA", Mutation, PIK3CA, IIIA, 5.0), "ALPELISIB", 0.12, 0.25, 90, None),
    cohort("CESC-PIK3CA-COP", "CESC", target("PIK3CA", Mutation, PIK3CA, IIIA, 5.0), "COPANLISIB", 0.12, 0.25, 180,
        Some(ymd(2023, 11, 15))),
    cohort("LUSC-PIK3CA-ALP", "LUSC", target("PIK3CA", Mutation, PIK3CA, IIIA, 4.0), "ALPELISIB", 0.08, 0.20, 180, None),
    cohort("LUAD-PIK3CA-ALP", "LUAD", target("PIK3CA", Mutation, PIK3CA, IIIA, 3.0), "ALPELISIB", 0.10, 0.20, 270, None),
    cohort("LUSC-CDKN2A-PALB", "LUSC", target("CDKN2A", Deletion, &[], IIIA, 5.0), "PALBOCICLIB", 0.15, 0.02, 0, None),
    cohort("PAAD-CDKN2A-PALB", "PAAD", target("CDKN2A", Deletion, &[], IIIA, 6.0), "PALBOCICLIB", 0.12, 0.02, 0, None),
    cohort("SARC-CDK4-RIBO", "SARCNOS", target("CDK4", Amplification, &[], IIIA, 6.0), "RIBOCICLIB", 0.15, 0.02, 90, None),
    cohort("HNSC-CCND1-ABEMA", "HNSC", target("CCND1", Amplification, &[], IIIA, 3.0), "ABEMACICLIB", 0.15, 0.02, 180,
        None),
    cohort("GB-CDKN2A-ABEMA", "GB", target("CDKN2A", Deletion, &[], IIIA, 4.0), "ABEMACICLIB", 0.10, 0.02, 365, None),
    cohort("CRC-TMB-PEMBRO", "COADREAD", target("TMB", TmbHigh, &[], IIIA, 4.0), "PEMBROLIZUMAB", 0.03, 0.05, 0, None),
];

/// How a tumour type splits by sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SexMix {
    /// Both sexes; the female share is set so the whole consortium is about 50/50.
    Any,
    /// Women only (ovary, endometrium, cervix).
    Female,
    /// Men only (prostate).
    Male,
    /// About 99% women (breast).
    MostlyFemale,
}

/// A tumour type as the molecular tumour board sees it.
pub(super) struct Tumour {
    /// OncoTree code.
    pub code: &'static str,
    /// Short human-readable name.
    pub name: &'static str,
    /// ICD-10 code of the primary tumour.
    pub icd10: &'static str,
    /// Relative share of referrals (colorectal, biliary and lung lead; ~40% rare types).
    pub weight: f64,
    /// Sex distribution.
    pub sex: SexMix,
    /// Years added to the consortium's mean age at referral.
    pub age_shift: f64,
    /// Probability of MSI-high among profiled tumours.
    pub msi_high: f64,
    /// Relative chance of an actionable alteration (rescaled to the consortium target).
    pub actionable: f64,
    /// Median TMB (mutations/Mb) of microsatellite-stable tumours.
    pub tmb_median: f64,
    /// Response criteria used for its assessments.
    pub criteria: ResponseCriteria,
    /// Actionable alterations no cohort targets (standard of care or other trials).
    pub other_targets: &'static [Target],
}

#[allow(clippy::too_many_arguments)]
const fn tumour(
    code: &'static str,
    name: &'static str,
    icd10: &'static str,
    weight: f64,
    sex: SexMix,
    age_shift: f64,
    msi_high: f64,
    actionable: f64,
    tmb_median: f64,
    other_targets: &'static [Target],
) -> Tumour {
    let criteria = match code.as_bytes() {
        // Brain tumours are assessed by RANO; everything else here is solid and RECIST.
        b"DIFG" | b"GB" => ResponseCriteria::Rano,
        _ => ResponseCriteria::Recist11,
    };
    Tumour { code, name, icd10, weight, sex, age_shift, msi_high, actionable, tmb_median, criteria, other_targets }
}

const KRAS_G12C: &[&str] = &["p.G12C"];

/// The tumour types referred to profiling.
// One row per tumour type: OncoTree code, name, ICD-10, share of referrals, sex,
// age shift, MSI-high rate, relative actionability, median TMB of MSS tumours; then
// the actionable alterations no cohort addresses. Types whose actionable alterations
// are mostly treated as standard of care (breast, melanoma, HER2-positive gastric) have
// few actionable-and-unmatched patients left for the trial, hence their low rates.
#[rustfmt::skip]
pub(super) const TUMOURS: [Tumour; 30] = [
    tumour("COADREAD", "Colorectal", "C18", 17.0, SexMix::Any, 0.0, 0.05, 0.36, 4.0,
        &[target("KRAS", Mutation, KRAS_G12C, IB, 1.0), target("BRAF", Mutation, V600E, IA, 1.2)]),
    tumour("CHOL", "Biliary tract", "C22.1", 13.0, SexMix::Any, 2.0, 0.02, 0.45, 4.0,
        &[target("IDH1", Mutation, &["p.R132C", "p.R132L", "p.R132G"], IA, 2.0)]),
    tumour("LUAD", "Lung adenocarcinoma", "C34", 8.0, SexMix::Any, 3.0, 0.005, 0.30, 8.0,
        &[target("KRAS", Mutation, KRAS_G12C, IA, 1.5)]),
    tumour("PAAD", "Pancreatic", "C25", 7.0, SexMix::Any, 4.0, 0.01, 0.22, 3.0,
        &[target("KRAS", Mutation, KRAS_G12C, IIB, 0.5), target("NRG1", Fusion, &[], IIIA, 0.5)]),
    tumour("BRCA", "Breast", "C50", 5.0, SexMix::MostlyFemale, -3.0, 0.01, 0.08, 4.0,
        &[target("PIK3CA", Mutation, &["p.H1047R", "p.E545K"], IA, 3.0),
          target("ESR1", Mutation, &["p.D538G", "p.Y537S"], IB, 2.0), target("ERBB2", Amplification, &[], IA, 1.0)]),
    tumour("PRAD", "Prostate", "C61", 4.0, SexMix::Male, 8.0, 0.02, 0.30, 3.0,
        &[target("ATM", BiallelicLoss, &[], IIA, 1.0)]),
    tumour("HGSOC", "High-grade serous ovarian", "C56", 3.0, SexMix::Female, 1.0, 0.01, 0.32, 5.0,
        &[target("BRCA2", BiallelicLoss, &[], IA, 2.0)]),
    tumour("UCEC", "Endometrial", "C54", 3.0, SexMix::Female, 6.0, 0.25, 0.45, 5.0,
        &[target("PIK3CA", Mutation, PIK3CA, IIIB, 1.0)]),
    tumour("STAD", "Gastric", "C16", 3.0, SexMix::Any, 4.0, 0.10, 0.16, 5.0,
        &[target("ERBB2", Amplification, &[], IA, 2.0)]),
    tumour("ESCA", "Oesophageal", "C15", 2.0, SexMix::Any, 4.0, 0.02, 0.08, 5.0,
        &[target("ERBB2", Amplification, &[], IA, 1.0)]),
    tumour("LUSC", "Lung squamous cell", "C34", 2.0, SexMix::Any, 6.0, 0.005, 0.30, 9.0,
        &[target("FGFR1", Amplification, &[], IIIB, 1.0)]),
    tumour("HNSC", "Head and neck squamous cell", "C14", 3.0, SexMix::Any, 2.0, 0.01, 0.30, 5.0,
        &[target("HRAS", Mutation, &["p.G12S", "p.Q61R"], IIB, 1.0)]),
    tumour("BLCA", "Bladder urothelial", "C67", 2.0, SexMix::Any, 8.0, 0.02, 0.30, 8.0,
        &[target("FGFR3", Mutation, &["p.S249C", "p.Y373C", "p.R248C"], IA, 3.0)]),
    tumour("CCRCC", "Clear-cell renal", "C64", 2.0, SexMix::Any, 2.0, 0.005, 0.05, 3.0,
        &[target("TSC2", BiallelicLoss, &[], IIIB, 1.0)]),
    tumour("SKCM", "Cutaneous melanoma", "C43", 2.0, SexMix::Any, 0.0, 0.005, 0.08, 13.0,
        &[target("BRAF", Mutation, V600E, IA, 5.0), target("KIT", Mutation, &["p.L576P", "p.K642E"], IIIA, 1.0)]),
    tumour("THPA", "Papillary thyroid", "C73", 1.5, SexMix::Any, -5.0, 0.005, 0.45, 2.0,
        &[target("BRAF", Mutation, V600E, IIB, 1.0)]),
    tumour("DIFG", "Diffuse glioma", "C71", 1.5, SexMix::Any, -15.0, 0.01, 0.30, 3.0,
        &[target("IDH1", Mutation, &["p.R132H"], IA, 3.0)]),
    tumour("GB", "Glioblastoma", "C71", 1.5, SexMix::Any, 0.0, 0.01, 0.20, 3.0, &[]),
    tumour("GINET", "Gastrointestinal neuroendocrine", "C17", 2.0, SexMix::Any, 0.0, 0.01, 0.20, 3.0, &[]),
    tumour("PANET", "Pancreatic neuroendocrine", "C25.4", 1.5, SexMix::Any, -2.0, 0.005, 0.06, 2.0,
        &[target("TSC2", BiallelicLoss, &[], IIIB, 1.0)]),
    tumour("SARCNOS", "Sarcoma", "C49", 3.0, SexMix::Any, -8.0, 0.005, 0.28, 3.0, &[]),
    tumour("CESC", "Cervical", "C53", 1.5, SexMix::Female, -10.0, 0.02, 0.35, 6.0,
        &[target("ERBB2", Mutation, &["p.S310F"], IIIA, 1.0)]),
    tumour("HCC", "Hepatocellular", "C22.0", 2.0, SexMix::Any, 4.0, 0.005, 0.06, 4.0,
        &[target("MET", Amplification, &[], IIIB, 1.0)]),
    tumour("ACC", "Adrenocortical", "C74.0", 0.5, SexMix::Any, -8.0, 0.02, 0.10, 3.0,
        &[target("CDK4", Amplification, &[], IIIB, 1.0)]),
    tumour("UM", "Uveal melanoma", "C69", 1.0, SexMix::Any, 2.0, 0.0, 0.05, 2.0,
        &[target("GNAQ", Mutation, &["p.Q209L", "p.Q209P"], IIIB, 1.0)]),
    tumour("PLMESO", "Pleural mesothelioma", "C45", 1.0, SexMix::Any, 8.0, 0.0, 0.06, 2.5,
        &[target("BAP1", BiallelicLoss, &[], IIIB, 1.0)]),
    tumour("SCLC", "Small-cell lung", "C34", 1.0, SexMix::Any, 5.0, 0.0, 0.06, 10.0,
        &[target("MYC", Amplification, &[], IIIB, 1.0)]),
    tumour("CUP", "Cancer of unknown primary", "C80", 2.0, SexMix::Any, 3.0, 0.01, 0.12, 5.0,
        &[target("ERBB2", Amplification, &[], IIIA, 1.0), target("BRAF", Mutation, V600E, IIIA, 1.0),
          target("KRAS", Mutation, KRAS_G12C, IIIA, 1.0)]),
    tumour("GIST", "Gastrointestinal stromal", "C49", 1.0, SexMix::Any, 2.0, 0.0, 0.10, 2.0,
        &[target("PDGFRA", Mutation, &["p.D842V"], IA, 2.0)]),
    tumour("ANSC", "Anal squamous cell", "C21", 0.5, SexMix::Any, 0.0, 0.01, 0.10, 5.0,
        &[target("PIK3CA", Mutation, PIK3CA, IIIB, 1.0)]),
];

/// Passenger and prognostic variants without clinical actionability (ESCAT IV-A / X).
/// Genes that cohorts target are left out, so a passenger can never look like a
/// missed match.
pub(super) const PASSENGERS: [Target; 18] = [
    target("TP53", Mutation, &["p.R175H", "p.R248Q", "p.R273H", "p.R282W", "p.Y220C", "p.G245S"], X, 10.0),
    target("KRAS", Mutation, &["p.G12D", "p.G12V", "p.G13D", "p.Q61H"], X, 5.0),
    target("APC", Mutation, &["p.R1450*", "p.E1309Dfs*4", "p.R876*"], X, 3.0),
    target("SMAD4", Deletion, &[], X, 2.0),
    target("ARID1A", Mutation, &["p.Q586*", "p.R1989*"], IVA, 2.0),
    target("PTEN", Deletion, &[], IVA, 2.0),
    target("KMT2D", Mutation, &["p.R2645*", "p.Q3745*"], X, 1.5),
    target("ATM", Mutation, &["p.R3008C", "p.E1978*"], IVA, 1.5),
    target("NF1", Mutation, &["p.R1362*", "p.R440*"], X, 1.0),
    target("RB1", Deletion, &[], X, 1.0),
    target("CTNNB1", Mutation, &["p.S45F", "p.T41A"], X, 1.0),
    target("FBXW7", Mutation, &["p.R465C", "p.R505G"], IVA, 1.0),
    target("STK11", Mutation, &["p.Q37*", "p.D194Y"], X, 1.0),
    target("KEAP1", Mutation, &["p.G333C", "p.R470C"], X, 0.8),
    target("MYC", Amplification, &[], X, 1.0),
    target("CCNE1", Amplification, &[], IVA, 1.0),
    target("MDM2", Amplification, &[], IVA, 0.8),
    target("EGFR", Amplification, &[], IVA, 0.8),
];

/// ESCAT tier of MSI-high in tumour types without an MSI cohort (tumour-agnostic
/// checkpoint-inhibitor evidence).
pub(super) const MSI_TIER: EscatTier = IC;

/// A CTCAE v5 term with its MedDRA system organ class.
pub(super) struct AeTerm {
    /// CTCAE v5 term.
    pub term: &'static str,
    /// MedDRA system organ class.
    pub organ_class: &'static str,
}

const GENERAL: &str = "General disorders and administration site conditions";
const GASTRO: &str = "Gastrointestinal disorders";
const BLOOD: &str = "Blood and lymphatic system disorders";
const INVESTIGATIONS: &str = "Investigations";
const SKIN: &str = "Skin and subcutaneous tissue disorders";
const METABOLISM: &str = "Metabolism and nutrition disorders";
const NERVOUS: &str = "Nervous system disorders";
const RESPIRATORY: &str = "Respiratory, thoracic and mediastinal disorders";

const fn ae(term: &'static str, organ_class: &'static str) -> AeTerm {
    AeTerm { term, organ_class }
}

/// The adverse-event terms the simulation uses.
pub(super) const AE_TERMS: [AeTerm; 34] = [
    ae("Fatigue", GENERAL),
    ae("Diarrhea", GASTRO),
    ae("Nausea", GASTRO),
    ae("Vomiting", GASTRO),
    ae("Anemia", BLOOD),
    ae("Neutrophil count decreased", INVESTIGATIONS),
    ae("Platelet count decreased", INVESTIGATIONS),
    ae("Rash maculo-papular", SKIN),
    ae("Hypertension", "Vascular disorders"),
    ae("Alanine aminotransferase increased", INVESTIGATIONS),
    ae("Aspartate aminotransferase increased", INVESTIGATIONS),
    ae("Pneumonitis", RESPIRATORY),
    ae("Colitis", GASTRO),
    ae("Hypothyroidism", "Endocrine disorders"),
    ae("Hyperglycemia", METABOLISM),
    ae("Mucositis oral", GASTRO),
    ae("Dysgeusia", NERVOUS),
    ae("Dizziness", NERVOUS),
    ae("Fever", GENERAL),
    ae("Ejection fraction decreased", INVESTIGATIONS),
    ae("Hyperphosphatemia", METABOLISM),
    ae("Alopecia", SKIN),
    ae("Dry skin", SKIN),
    ae("Anorexia", METABOLISM),
    ae("Pruritus", SKIN),
    ae("Arthralgia", "Musculoskeletal and connective tissue disorders"),
    ae("Edema limbs", GENERAL),
    ae("Weight gain", INVESTIGATIONS),
    ae("Febrile neutropenia", BLOOD),
    ae("Abdominal pain", GASTRO),
    ae("Dyspnea", RESPIRATORY),
    ae("Dry eye", "Eye disorders"),
    ae("Constipation", GASTRO),
    ae("Chills", GENERAL),
];

// Indexes into AE_TERMS, so the profiles below read as terms.
const FATIGUE: usize = 0;
const DIARRHEA: usize = 1;
const NAUSEA: usize = 2;
const VOMITING: usize = 3;
const ANEMIA: usize = 4;
const NEUTROPHILS: usize = 5;
const PLATELETS: usize = 6;
const RASH: usize = 7;
const HYPERTENSION: usize = 8;
const ALT: usize = 9;
const AST: usize = 10;
const PNEUMONITIS: usize = 11;
const COLITIS: usize = 12;
const HYPOTHYROIDISM: usize = 13;
const HYPERGLYCEMIA: usize = 14;
const MUCOSITIS: usize = 15;
const DYSGEUSIA: usize = 16;
const DIZZINESS: usize = 17;
const FEVER: usize = 18;
const EJECTION_FRACTION: usize = 19;
const HYPERPHOSPHATEMIA: usize = 20;
const ALOPECIA: usize = 21;
const DRY_SKIN: usize = 22;
const ANOREXIA: usize = 23;
const PRURITUS: usize = 24;
const ARTHRALGIA: usize = 25;
const EDEMA: usize = 26;
const WEIGHT_GAIN: usize = 27;
const FEBRILE_NEUTROPENIA: usize = 28;
const ABDOMINAL_PAIN: usize = 29;
const DYSPNEA: usize = 30;
const DRY_EYE: usize = 31;
const CONSTIPATION: usize = 32;
const CHILLS: usize = 33;

/// One term of a drug class's profile: (term index, weight at grade 1–2, weight at grade ≥ 3).
pub(super) type ProfileEntry = (usize, f64, f64);

/// Drug-related adverse events by drug class, weighted by how often each is reported
/// at any grade and at grade ≥ 3 in the drugs' labels.
pub(super) fn profile(toxicity: Toxicity) -> &'static [ProfileEntry] {
    match toxicity {
        Toxicity::Immune => IMMUNE_PROFILE,
        Toxicity::Her2 => HER2_PROFILE,
        Toxicity::Parp => PARP_PROFILE,
        Toxicity::BrafMek => BRAF_MEK_PROFILE,
        Toxicity::Ret => RET_PROFILE,
        Toxicity::Trk => TRK_PROFILE,
        Toxicity::Fgfr => FGFR_PROFILE,
        Toxicity::Pi3k => PI3K_PROFILE,
        Toxicity::Met => MET_PROFILE,
        Toxicity::Cdk46 => CDK46_PROFILE,
    }
}

const IMMUNE_PROFILE: &[ProfileEntry] = &[
    (FATIGUE, 10.0, 2.0),
    (PRURITUS, 6.0, 0.1),
    (RASH, 6.0, 1.0),
    (DIARRHEA, 6.0, 2.0),
    (COLITIS, 1.0, 3.0),
    (HYPOTHYROIDISM, 5.0, 0.2),
    (PNEUMONITIS, 1.5, 2.0),
    (ALT, 3.0, 3.0),
    (AST, 3.0, 2.0),
    (ARTHRALGIA, 3.0, 0.3),
    (NAUSEA, 3.0, 0.3),
];

const HER2_PROFILE: &[ProfileEntry] = &[
    (DIARRHEA, 12.0, 4.0),
    (FATIGUE, 8.0, 1.0),
    (RASH, 5.0, 0.5),
    (NAUSEA, 4.0, 0.5),
    (MUCOSITIS, 3.0, 0.5),
    (EJECTION_FRACTION, 1.0, 1.0),
    (ANEMIA, 2.0, 1.0),
];

const PARP_PROFILE: &[ProfileEntry] = &[
    (ANEMIA, 10.0, 8.0),
    (NAUSEA, 10.0, 1.0),
    (FATIGUE, 10.0, 2.0),
    (NEUTROPHILS, 4.0, 3.0),
    (PLATELETS, 5.0, 3.0),
    (VOMITING, 4.0, 0.5),
    (DYSGEUSIA, 3.0, 0.0),
    (CONSTIPATION, 3.0, 0.0),
];

const BRAF_MEK_PROFILE: &[ProfileEntry] = &[
    (FEVER, 10.0, 3.0),
    (FATIGUE, 8.0, 1.0),
    (RASH, 6.0, 1.0),
    (DIARRHEA, 5.0, 1.0),
    (CHILLS, 5.0, 0.2),
    (ALT, 3.0, 2.0),
    (EJECTION_FRACTION, 1.0, 1.0),
    (EDEMA, 3.0, 0.3),
    (ARTHRALGIA, 3.0, 0.3),
];

const RET_PROFILE: &[ProfileEntry] = &[
    (HYPERTENSION, 8.0, 6.0),
    (ALT, 6.0, 4.0),
    (AST, 6.0, 3.0),
    (DRY_SKIN, 3.0, 0.0),
    (EDEMA, 5.0, 0.5),
    (DIARRHEA, 5.0, 1.0),
    (FATIGUE, 5.0, 1.0),
    (CONSTIPATION, 3.0, 0.0),
];

const TRK_PROFILE: &[ProfileEntry] = &[
    (DYSGEUSIA, 8.0, 0.0),
    (DIZZINESS, 6.0, 0.5),
    (FATIGUE, 6.0, 1.0),
    (WEIGHT_GAIN, 5.0, 1.0),
    (CONSTIPATION, 5.0, 0.0),
    (DIARRHEA, 4.0, 0.5),
    (EDEMA, 3.0, 0.3),
    (ANEMIA, 2.0, 1.0),
];

const FGFR_PROFILE: &[ProfileEntry] = &[
    (HYPERPHOSPHATEMIA, 12.0, 1.0),
    (ALOPECIA, 7.0, 0.0),
    (DIARRHEA, 6.0, 1.0),
    (MUCOSITIS, 6.0, 2.0),
    (DRY_EYE, 5.0, 0.2),
    (DYSGEUSIA, 5.0, 0.0),
    (FATIGUE, 5.0, 1.0),
    (DRY_SKIN, 4.0, 0.0),
];

const PI3K_PROFILE: &[ProfileEntry] = &[
    (HYPERGLYCEMIA, 12.0, 8.0),
    (DIARRHEA, 8.0, 2.0),
    (RASH, 7.0, 3.0),
    (NAUSEA, 6.0, 0.5),
    (FATIGUE, 5.0, 1.0),
    (MUCOSITIS, 3.0, 0.5),
    (ANOREXIA, 3.0, 0.3),
    (HYPERTENSION, 2.0, 1.0),
];

const MET_PROFILE: &[ProfileEntry] = &[
    (EDEMA, 12.0, 3.0),
    (NAUSEA, 8.0, 0.5),
    (FATIGUE, 6.0, 1.0),
    (VOMITING, 4.0, 0.5),
    (ALT, 3.0, 2.0),
    (ANOREXIA, 3.0, 0.3),
    (DYSPNEA, 2.0, 1.0),
];

const CDK46_PROFILE: &[ProfileEntry] = &[
    (NEUTROPHILS, 12.0, 10.0),
    (FATIGUE, 7.0, 1.0),
    (ANEMIA, 6.0, 2.0),
    (NAUSEA, 5.0, 0.3),
    (PLATELETS, 4.0, 1.0),
    (DIARRHEA, 4.0, 1.0),
    (FEBRILE_NEUTROPENIA, 0.5, 1.0),
    (MUCOSITIS, 2.0, 0.2),
];

/// Events caused by the cancer rather than the drug (reported as unrelated).
pub(super) const DISEASE_RELATED: [ProfileEntry; 7] = [
    (FATIGUE, 4.0, 3.0),
    (ANEMIA, 3.0, 3.0),
    (ABDOMINAL_PAIN, 3.0, 2.0),
    (DYSPNEA, 2.0, 2.0),
    (ANOREXIA, 2.0, 1.0),
    (CONSTIPATION, 2.0, 0.5),
    (NAUSEA, 2.0, 0.5),
];

#[cfg(test)]
mod tests {
    use super::*;
    use consortium_entity::vocabulary::{GENE_PANEL, ONCOTREE};
    use std::collections::HashSet;

    #[test]
    fn every_gene_and_tumour_type_of_the_demo_is_in_the_fixed_vocabularies() {
        let targets = COHORTS
            .iter()
            .map(|c| &c.target)
            .chain(TUMOURS.iter().flat_map(|t| t.other_targets))
            .chain(PASSENGERS.iter());
        for target in targets {
            assert!(GENE_PANEL.contains(&target.gene), "{} is not in the panel", target.gene);
        }
        for code in COHORTS.iter().map(|c| c.tumour).chain(TUMOURS.iter().map(|t| t.code)) {
            assert!(ONCOTREE.contains(&code), "{code} is not an OncoTree code of the list");
        }
    }

    fn mod11_valid(number: &str) -> bool {
        let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
        if digits.len() != 9 {
            return false;
        }
        let sum: u32 = digits[..8].iter().zip([3, 2, 7, 6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return false,
            c => c,
        };
        check == digits[8]
    }

    #[test]
    fn organisation_numbers_are_distinct_nine_digit_and_pass_the_modulus_11_check() {
        let numbers: Vec<String> = (0..40).map(org_number).collect();
        assert!(numbers.iter().all(|n| mod11_valid(n)), "{numbers:?}");
        assert_eq!(numbers.iter().collect::<HashSet<_>>().len(), numbers.len());
    }

    #[test]
    fn there_are_seventeen_hospitals_in_four_regions_with_six_inpred_nodes() {
        assert_eq!(HOSPITALS.iter().filter(|h| h.inpred_node).count(), 6);
        let regions: HashSet<_> = HOSPITALS.iter().map(|h| h.region).collect();
        assert_eq!(regions.len(), 4);
        for region in regions {
            assert!(HOSPITALS.iter().any(|h| h.region == region && h.inpred_node), "{region:?} has no InPreD node");
        }
        let codes: HashSet<_> = HOSPITALS.iter().map(|h| h.code).collect();
        assert_eq!(codes.len(), 17);
    }

    #[test]
    fn every_cohort_names_a_known_drug_and_tumour_and_every_drug_is_used() {
        let drugs: HashSet<_> = DRUGS.iter().map(|d| d.code).collect();
        let tumours: HashSet<_> = TUMOURS.iter().map(|t| t.code).collect();
        for c in &COHORTS {
            assert!(drugs.contains(c.drug), "{}", c.code);
            assert!(c.tumour == SOLID || tumours.contains(c.tumour), "{}", c.code);
            assert!(c.target.tier.is_actionable(), "{}", c.code);
            assert_eq!(c.target.class == Mutation, !c.target.changes.is_empty(), "{}", c.code);
            assert!(c.code.len() <= 32);
        }
        for d in &DRUGS {
            assert!(COHORTS.iter().any(|c| c.drug == d.code), "{} is unused", d.code);
            assert!(INDUSTRY.iter().any(|o| o.code == d.supplier), "{} has no supplier", d.code);
        }
        for o in &INDUSTRY {
            assert!(DRUGS.iter().any(|d| d.supplier == o.code), "{} supplies nothing", o.code);
        }
        let keys: HashSet<_> = COHORTS.iter().map(|c| (c.tumour, c.target.gene, c.target.class)).collect();
        assert_eq!(keys.len(), COHORTS.len(), "two cohorts compete for the same patients");
        assert_eq!(COHORTS.iter().map(|c| c.code).collect::<HashSet<_>>().len(), COHORTS.len());
    }

    #[test]
    fn passengers_are_never_actionable_and_never_a_cohort_gene() {
        for p in &PASSENGERS {
            assert!(!p.tier.is_actionable(), "{}", p.gene);
            assert!(COHORTS.iter().all(|c| c.target.gene != p.gene), "{}", p.gene);
            assert_eq!(p.class == Mutation, !p.changes.is_empty(), "{}", p.gene);
        }
        for t in &TUMOURS {
            for o in t.other_targets {
                assert!(o.tier.is_actionable(), "{} {}", t.code, o.gene);
                assert_eq!(o.class == Mutation, !o.changes.is_empty(), "{} {}", t.code, o.gene);
            }
        }
    }

    #[test]
    fn constant_dates_are_real_dates() {
        for c in &COHORTS {
            if let Some(d) = c.closes_other {
                assert_ne!(d, NaiveDate::MIN);
            }
        }
        assert_eq!(ymd(2026, 11, 1).to_string(), "2026-11-01");
        assert_eq!(ymd(2026, 2, 30), NaiveDate::MIN);
    }

    #[test]
    fn adverse_event_profiles_point_at_real_terms() {
        let all = [
            Toxicity::Immune,
            Toxicity::Her2,
            Toxicity::Parp,
            Toxicity::BrafMek,
            Toxicity::Ret,
            Toxicity::Trk,
            Toxicity::Fgfr,
            Toxicity::Pi3k,
            Toxicity::Cdk46,
            Toxicity::Met,
        ];
        for t in all {
            let p = profile(t);
            assert!(p.iter().all(|(i, _, _)| *i < AE_TERMS.len()));
            assert!(p.iter().map(|e| e.2).sum::<f64>() > 0.0);
        }
        assert!(DISEASE_RELATED.iter().all(|(i, _, _)| *i < AE_TERMS.len()));
    }
}
