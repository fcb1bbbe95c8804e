//! The rules of each domain: every row is parsed (types, code lists, dates), checked
//! against the rows it refers to (stored, or staged earlier in the same import), against
//! the submitter's rights, and staged by its natural key. Problems are collected, never
//! returned early, so one report lists them all.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};
use consortium_entity::vocabulary::{GENE_PANEL, ONCOTREE};
use consortium_entity::{
    adverse_event, cohort, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant, CohortStatus, MtbOutcome, PartnerKind, VitalStatus,
};
use sea_orm::ActiveEnum;

use super::domain::Domain;
use super::file::Table;
use super::report::{Code, FileSummary, Problem, Problems};
use super::world::{Staged, World};

/// What the rules need besides the world: the day, the submitter's sites, progress.
pub(super) struct Context<'a> {
    /// Dates after it are in the future.
    pub today: NaiveDate,
    /// The sites a hospital submitter runs (ids), when its rights are limited to them.
    pub own_sites: Option<HashSet<i32>>,
    /// Told how far validation has come, now and then.
    pub progress: &'a (dyn Fn(&str) + Sync),
    /// The names of the scopes a partner may be granted.
    pub scopes: &'a [&'a str],
}

impl Context<'_> {
    fn own_site(&self, site_id: i32) -> bool {
        self.own_sites.as_ref().is_none_or(|own| own.contains(&site_id))
    }

    /// Whether the submitter may send rows about `patient_id`: its referring or its
    /// treating site is one of the submitter's.
    fn own_patient(&self, world: &World, patient: &patient::Model) -> bool {
        self.own_site(patient.referring_site_id)
            || world.enrolments.get(&patient.id).is_some_and(|e| self.own_site(e.site_id))
    }
}

/// Upper-case spellings accepted besides the stored codes (SDTM's own where it has one).
const ALIASES: &[(&str, &str)] =
    &[("M", "MALE"), ("F", "FEMALE"), ("RECIST 1.1", "RECIST_1_1"), ("RECIST1.1", "RECIST_1_1"), ("IWCLL", "IWCLL")];

/// One row being read: its values, and the problems found in it.
struct Row<'t> {
    table: &'t Table,
    r: usize,
    today: NaiveDate,
    found: Vec<Problem>,
}

impl<'t> Row<'t> {
    fn line(&self) -> usize {
        self.r + 2
    }

    fn raw(&self, column: &str) -> Option<&'t str> {
        self.table.column(column).and_then(|c| self.table.cells[c][self.r].as_deref())
    }

    fn fail(&mut self, column: &str, value: Option<&str>, code: Code, message: String) {
        let problem = Problem::at(&self.table.file, self.line(), Some(column), value, code, message);
        self.found.push(problem);
    }

    fn ok(&self) -> bool {
        self.found.is_empty()
    }

    /// A required value.
    fn text(&mut self, column: &str) -> Option<&'t str> {
        let value = self.raw(column);
        if value.is_none() {
            self.fail(column, None, Code::Required, format!("{column} is required"));
        }
        value
    }

    /// The subject's pseudonym: required, and not a national identity number.
    fn subject(&mut self) -> Option<&'t str> {
        let value = self.text("USUBJID")?;
        let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 11 && digits.chars().all(|c| c.is_ascii_digit()) {
            let masked = "*".repeat(value.chars().count());
            self.fail(
                "USUBJID",
                Some(&masked),
                Code::DirectIdentifier,
                "looks like a national identity number; patients are known by pseudonym only".into(),
            );
            return None;
        }
        Some(value)
    }

    fn parse_date(&mut self, column: &str, value: &str) -> Option<NaiveDate> {
        let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") else {
            self.fail(column, Some(value), Code::InvalidDate, "not an ISO 8601 date (YYYY-MM-DD)".into());
            return None;
        };
        if date > self.today {
            self.fail(column, Some(value), Code::FutureDate, format!("{date} is in the future"));
            return None;
        }
        Some(date)
    }

    fn date(&mut self, column: &str) -> Option<NaiveDate> {
        let value = self.text(column)?;
        self.parse_date(column, value)
    }

    fn opt_date(&mut self, column: &str) -> Option<NaiveDate> {
        let value = self.raw(column)?;
        self.parse_date(column, value)
    }

    fn code<E: ActiveEnum<Value = String>>(&mut self, column: &str) -> Option<E> {
        let value = self.text(column)?;
        self.parse_code(column, value)
    }

    fn opt_code<E: ActiveEnum<Value = String>>(&mut self, column: &str) -> Option<E> {
        let value = self.raw(column)?;
        self.parse_code(column, value)
    }

    fn parse_code<E: ActiveEnum<Value = String>>(&mut self, column: &str, value: &str) -> Option<E> {
        let upper = value.to_uppercase();
        let code = ALIASES.iter().find(|(alias, _)| *alias == upper).map_or(upper.as_str(), |(_, code)| code);
        match E::try_from_value(&code.to_owned()) {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                let allowed = E::values().join(", ");
                self.fail(column, Some(value), Code::UnknownCode, format!("not one of {allowed}"));
                None
            }
        }
    }

    fn listed(&mut self, column: &str, list: &[&str], what: &str) -> Option<&'t str> {
        let value = self.text(column)?;
        if list.binary_search(&value).is_err() {
            self.fail(column, Some(value), Code::UnknownCode, format!("not a known {what}"));
            return None;
        }
        Some(value)
    }

    fn int(&mut self, column: &str, range: std::ops::RangeInclusive<i32>) -> Option<i32> {
        let value = self.text(column)?;
        match value.parse::<i32>() {
            Ok(n) if range.contains(&n) => Some(n),
            Ok(_) => {
                let message = format!("outside {}–{}", range.start(), range.end());
                self.fail(column, Some(value), Code::UnknownCode, message);
                None
            }
            Err(_) => {
                self.fail(column, Some(value), Code::InvalidValue, "not a whole number".into());
                None
            }
        }
    }

    fn flag(&mut self, column: &str) -> Option<bool> {
        let value = self.text(column)?;
        match value.to_uppercase().as_str() {
            "Y" => Some(true),
            "N" => Some(false),
            _ => {
                self.fail(column, Some(value), Code::InvalidValue, "not Y or N".into());
                None
            }
        }
    }

    fn identifier(&mut self, column: &str) -> Option<&'t str> {
        let value = self.text(column)?;
        let fits = value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !fits {
            self.fail(column, Some(value), Code::InvalidValue, "not an identifier (letters, digits, - _ .)".into());
            return None;
        }
        Some(value)
    }

    fn unknown(&mut self, column: &str, value: &str, what: &str) {
        self.fail(column, Some(value), Code::UnknownReference, format!("no {what} {value} is stored or imported"));
    }

    fn order(&mut self, column: &str, date: NaiveDate, earliest: NaiveDate, what: &str) -> bool {
        if date < earliest {
            self.fail(column, Some(&date.to_string()), Code::DateOrder, format!("before {what} ({earliest})"));
            return false;
        }
        true
    }
}

/// Keys seen in one file, with the line that had each first.
struct Seen<K>(HashMap<K, usize>);

impl<K: Eq + Hash> Seen<K> {
    fn new() -> Self {
        Seen(HashMap::new())
    }

    /// Whether `key` is new in the file; otherwise the row gets a problem.
    fn first(&mut self, row: &mut Row<'_>, column: &str, key: K) -> bool {
        if let Some(line) = self.0.get(&key) {
            let value = row.raw(column).map(str::to_owned);
            row.fail(column, value.as_deref(), Code::DuplicateKey, format!("the same key as line {line}"));
            return false;
        }
        self.0.insert(key, row.line());
        true
    }
}

/// Rows between two progress reports.
const PROGRESS_EVERY: usize = 100_000;

/// Runs `rule` on every row of `table`, counting what it staged and keeping its problems.
fn each_row<'t>(
    table: &'t Table,
    context: &Context,
    problems: &mut Problems,
    summary: &mut FileSummary,
    mut rule: impl FnMut(&mut Row<'t>) -> Option<Staged>,
) {
    for r in 0..table.rows {
        if r > 0 && r % PROGRESS_EVERY == 0 {
            (context.progress)(&format!("{}: {r} of {} rows checked", table.file, table.rows));
        }
        let mut row = Row { table, r, today: context.today, found: Vec::new() };
        let staged = rule(&mut row);
        summary.rows += 1;
        match staged.filter(|_| row.ok()) {
            Some(Staged::Inserted) => summary.inserted += 1,
            Some(Staged::Updated) => summary.updated += 1,
            Some(Staged::Unchanged) => summary.unchanged += 1,
            None => {}
        }
        for problem in row.found {
            problems.push(problem);
        }
    }
}

/// Validates and stages every row of `table` (a file of `domain`).
pub(super) fn stage(
    domain: Domain,
    world: &mut World,
    table: &Table,
    context: &Context,
    problems: &mut Problems,
    summary: &mut FileSummary,
) {
    match domain {
        Domain::Partners => partners(world, table, context, problems, summary),
        Domain::Sites => sites(world, table, context, problems, summary),
        Domain::Drugs => drugs(world, table, context, problems, summary),
        Domain::Cohorts => cohorts(world, table, context, problems, summary),
        Domain::Dm => demographics(world, table, context, problems, summary),
        Domain::Profiles => profiles(world, table, context, problems, summary),
        Domain::Variants => variants(world, table, context, problems, summary),
        Domain::Ds => reviews(world, table, context, problems, summary),
        Domain::Ex => enrolments(world, table, context, problems, summary),
        Domain::Rs => responses(world, table, context, problems, summary),
        Domain::Ae => adverse_events(world, table, context, problems, summary),
        Domain::Ss => followups(world, table, context, problems, summary),
    }
}

fn partners(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    let mut org_numbers: HashMap<String, String> =
        w.partners.iter().map(|m| (m.org_number.clone(), m.code.clone())).collect();
    each_row(t, cx, p, s, |row| {
        let code = row.identifier("CODE");
        let name = row.text("NAME");
        let kind = row.code::<PartnerKind>("KIND");
        let org = row.text("ORGNR");
        if let Some(org) = org.filter(|o| o.len() != 9 || !o.chars().all(|c| c.is_ascii_digit())) {
            row.fail("ORGNR", Some(org), Code::InvalidValue, "an organisation number has 9 digits".into());
        }
        let scopes = row.raw("SCOPES");
        if let Some(unknown) = scopes.and_then(|s| s.split_whitespace().find(|n| !cx.scopes.contains(n))) {
            let message = format!("no scope {unknown}; the scopes are {}", cx.scopes.join(", "));
            row.fail("SCOPES", scopes, Code::UnknownCode, message);
        }
        let (code, name, kind, org) = (code?, name?, kind?, org?);
        if !seen.first(row, "CODE", code.to_owned()) || !row.ok() {
            return None;
        }
        if org_numbers.get(org).is_some_and(|holder| holder != code) {
            row.fail("ORGNR", Some(org), Code::DuplicateKey, "another partner has this organisation number".into());
            return None;
        }
        org_numbers.insert(org.to_owned(), code.to_owned());
        let model = partner::Model {
            id: 0,
            code: code.to_owned(),
            name: name.to_owned(),
            kind,
            org_number: org.to_owned(),
            scopes: scopes.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
        };
        Some(w.partners.stage(code.to_owned(), model).0)
    });
}

fn sites(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let code = row.identifier("SITEID");
        let name = row.text("NAME");
        let region = row.code("REGION");
        let partner_code = row.text("PARTNER");
        let inpred = row.flag("INPRED");
        let partner = partner_code.and_then(|c| w.partners.get(&c.to_owned()).cloned());
        if let (Some(code), None) = (partner_code, &partner) {
            row.unknown("PARTNER", code, "partner");
        }
        if let Some(partner) = partner.as_ref().filter(|p| p.kind != PartnerKind::Hospital) {
            row.fail("PARTNER", Some(&partner.code), Code::UnknownReference, "sites belong to hospitals".into());
        }
        let (code, name, region, partner, inpred) = (code?, name?, region?, partner?, inpred?);
        if !seen.first(row, "SITEID", code.to_owned()) || !row.ok() {
            return None;
        }
        let model = site::Model {
            id: 0,
            code: code.to_owned(),
            name: name.to_owned(),
            region,
            partner_id: partner.id,
            inpred_node: inpred,
        };
        Some(w.sites.stage(code.to_owned(), model).0)
    });
}

fn drugs(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let code = row.identifier("DRUG");
        let name = row.text("NAME");
        let mechanism = row.text("MECHANISM");
        let supplier_code = row.text("SUPPLIER");
        let supplier = supplier_code.and_then(|c| w.partners.get(&c.to_owned()).cloned());
        if let (Some(code), None) = (supplier_code, &supplier) {
            row.unknown("SUPPLIER", code, "partner");
        }
        let (code, name, mechanism, supplier) = (code?, name?, mechanism?, supplier?);
        if !seen.first(row, "DRUG", code.to_owned()) || !row.ok() {
            return None;
        }
        let model = drug::Model {
            id: 0,
            code: code.to_owned(),
            name: name.to_owned(),
            mechanism: mechanism.to_owned(),
            supplier_id: supplier.id,
        };
        Some(w.drugs.stage(code.to_owned(), model).0)
    });
}

fn cohorts(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let code = row.identifier("COHORT");
        let name = row.text("NAME");
        let oncotree = row.listed("ONCOTREE", ONCOTREE, "OncoTree code");
        let gene = row.listed("GENE", GENE_PANEL, "gene of the panel");
        let class = row.code("ALTCLASS");
        let drug_code = row.text("DRUG");
        let drug = drug_code.and_then(|c| w.drugs.get(&c.to_owned()).map(|d| d.id));
        if let (Some(code), None) = (drug_code, drug) {
            row.unknown("DRUG", code, "drug");
        }
        let (r1, n1, r, n) =
            (row.int("R1", 0..=1000), row.int("N1", 1..=1000), row.int("R", 0..=1000), row.int("N", 1..=1000));
        if let (Some(r1), Some(n1), Some(r), Some(n)) = (r1, n1, r, n) {
            if !(r1 < n1 && n1 <= n && r1 <= r && r < n) {
                row.fail(
                    "R",
                    Some(&r.to_string()),
                    Code::UnknownCode,
                    "a two-stage design needs r1 < n1 ≤ n and r1 ≤ r < n".into(),
                );
            }
        }
        let status = row.code::<CohortStatus>("STATUS");
        let opened = row.date("OPENDTC");
        let closed = row.opt_date("CLOSEDTC");
        let closes = matches!(
            status,
            Some(CohortStatus::ClosedFutility | CohortStatus::ClosedNegative | CohortStatus::ClosedOther)
        );
        if closes && closed.is_none() && row.raw("CLOSEDTC").is_none() {
            row.fail("CLOSEDTC", None, Code::Required, "a closed cohort has a closing date".into());
        }
        if let (Some(opened), Some(closed)) = (opened, closed) {
            row.order("CLOSEDTC", closed, opened, "the cohort opened");
        }
        let model = cohort::Model {
            id: 0,
            code: code?.to_owned(),
            name: name?.to_owned(),
            oncotree_code: oncotree?.to_owned(),
            gene: gene?.to_owned(),
            alteration_class: class?,
            drug_id: drug?,
            design_r1: r1?,
            design_n1: n1?,
            design_r: r?,
            design_n: n?,
            status: status?,
            opened_on: opened?,
            closed_on: closed,
        };
        if !seen.first(row, "COHORT", model.code.clone()) || !row.ok() {
            return None;
        }
        Some(w.cohorts.stage(model.code.clone(), model).0)
    });
}

/// The stored or staged patient `row`'s USUBJID names, if the submitter may send rows
/// about it.
fn patient_of(w: &World, cx: &Context, row: &mut Row<'_>) -> Option<patient::Model> {
    let pseudonym = row.subject()?;
    let Some(patient) = w.patients.get(&pseudonym.to_owned()).cloned() else {
        unknown_patient(cx, row, pseudonym);
        return None;
    };
    if !cx.own_patient(w, &patient) {
        row.fail("USUBJID", Some(pseudonym), Code::NotOwnSite, "no patient of your sites".into());
        return None;
    }
    Some(patient)
}

/// Reports a pseudonym that names no patient. To a submitter limited to its own sites
/// this is the same problem as another site's patient, so that its reports do not tell
/// which pseudonyms exist elsewhere.
fn unknown_patient(cx: &Context<'_>, row: &mut Row<'_>, pseudonym: &str) {
    match cx.own_sites {
        Some(_) => row.fail("USUBJID", Some(pseudonym), Code::NotOwnSite, "no patient of your sites".into()),
        None => row.unknown("USUBJID", pseudonym, "patient"),
    }
}

fn site_of(w: &World, row: &mut Row<'_>, column: &str) -> Option<site::Model> {
    let code = row.text(column)?;
    let site = w.sites.get(&code.to_owned()).cloned();
    if site.is_none() {
        row.unknown(column, code, "site");
    }
    site
}

fn demographics(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let pseudonym = row.subject();
        let sex = row.code("SEX");
        let birth = row.text("BRTHDTC");
        let birth_year = birth.and_then(|b| match b.parse::<i32>() {
            Ok(year) if b.len() == 4 && (1900..=cx.today.year()).contains(&year) => Some(year),
            _ => {
                row.fail("BRTHDTC", Some(b), Code::InvalidDate, "the year of birth only (YYYY), 1900 or later".into());
                None
            }
        });
        let region = row.code("REGION");
        let site = site_of(w, row, "SITEID");
        let referral = row.date("RFICDTC");
        if let (Some(year), Some(referral)) = (birth_year, referral) {
            if referral.year() < year {
                row.fail("RFICDTC", Some(&referral.to_string()), Code::DateOrder, "before the year of birth".into());
            }
        }
        let (pseudonym, sex, birth_year, region, site, referral) =
            (pseudonym?, sex?, birth_year?, region?, site?, referral?);
        let stored = w.patients.get(&pseudonym.to_owned());
        if !cx.own_site(site.id) || stored.is_some_and(|p| !cx.own_patient(w, p)) {
            row.fail("SITEID", Some(&site.code), Code::NotOwnSite, "a patient of another site".into());
        }
        if !seen.first(row, "USUBJID", pseudonym.to_owned()) || !row.ok() {
            return None;
        }
        let model = patient::Model {
            id: 0,
            pseudonym: pseudonym.to_owned(),
            sex,
            birth_year,
            region,
            referring_site_id: site.id,
            referral_date: referral,
        };
        Some(w.patients.stage(pseudonym.to_owned(), model).0)
    });
}

fn profiles(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    let mut samples: HashMap<String, i32> = w.profiles.iter().map(|m| (m.sample_id.clone(), m.patient_id)).collect();
    each_row(t, cx, p, s, |row| {
        let patient = patient_of(w, cx, row);
        let sample = row.identifier("SAMPLEID");
        let panel = row.identifier("PANEL");
        let lab = site_of(w, row, "SEQSITE");
        if let Some(lab) = lab.as_ref().filter(|l| !l.inpred_node) {
            row.fail("SEQSITE", Some(&lab.code), Code::UnknownReference, "not an InPreD sequencing node".into());
        }
        let date = row.date("SAMPLEDTC");
        let oncotree = row.listed("ONCOTREE", ONCOTREE, "OncoTree code");
        let icd10 = row.text("ICD10");
        if let Some(code) = icd10.filter(|c| !is_icd10_cancer(c)) {
            row.fail(
                "ICD10",
                Some(code),
                Code::UnknownCode,
                "not an ICD-10 code of a malignant neoplasm (C00–C97)".into(),
            );
        }
        let tmb = row.text("TMB").and_then(|v| match v.parse::<f64>() {
            Ok(x) if (0.0..=1000.0).contains(&x) => Some(x),
            _ => {
                row.fail("TMB", Some(v), Code::InvalidValue, "mutations per megabase, 0–1000".into());
                None
            }
        });
        let msi = row.code("MSI");
        if let (Some(patient), Some(date)) = (&patient, date) {
            row.order("SAMPLEDTC", date, patient.referral_date, "referral");
        }
        let (patient, sample) = (patient?, sample?);
        if samples.get(sample).is_some_and(|holder| *holder != patient.id) {
            row.fail("SAMPLEID", Some(sample), Code::DuplicateKey, "another patient's sample has this id".into());
        }
        let model = molecular_profile::Model {
            id: 0,
            patient_id: patient.id,
            sample_id: sample.to_owned(),
            panel: panel?.to_owned(),
            sequencing_site_id: lab?.id,
            sample_date: date?,
            oncotree_code: oncotree?.to_owned(),
            icd10: icd10?.to_owned(),
            tmb: tmb?,
            msi_status: msi?,
        };
        if !seen.first(row, "USUBJID", patient.id) || !row.ok() {
            return None;
        }
        samples.insert(model.sample_id.clone(), patient.id);
        Some(w.profiles.stage(patient.id, model).0)
    });
}

/// Whether `code` is an ICD-10 code of chapter II's malignant neoplasms, C00–C97
/// (with or without a subdivision).
fn is_icd10_cancer(code: &str) -> bool {
    let (category, subdivision) = code.split_once('.').unwrap_or((code, ""));
    let number = category.strip_prefix('C').and_then(|n| (n.len() == 2).then(|| n.parse::<u8>().ok()).flatten());
    number.is_some_and(|n| n <= 97) && subdivision.chars().all(|c| c.is_ascii_digit()) && subdivision.len() <= 2
}

fn variants(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    let profile_of_sample: HashMap<String, (i32, i32)> =
        w.profiles.iter().map(|m| (m.sample_id.clone(), (m.id, m.patient_id))).collect();
    let by_id: HashMap<i32, patient::Model> = w.patients.iter().map(|m| (m.id, m.clone())).collect();
    each_row(t, cx, p, s, |row| {
        let sample = row.text("SAMPLEID");
        let profile = sample.and_then(|sample| {
            let found = profile_of_sample.get(sample).copied();
            if found.is_none() {
                row.unknown("SAMPLEID", sample, "profile with sample");
            }
            found
        });
        if let Some((_, patient_id)) = profile {
            if by_id.get(&patient_id).is_some_and(|p| !cx.own_patient(w, p)) {
                row.fail("SAMPLEID", sample, Code::NotOwnSite, "a sample of another site's patient".into());
            }
        }
        let gene = row.listed("GENE", GENE_PANEL, "gene of the panel");
        let class = row.code("ALTCLASS");
        let change = row.raw("PCHANGE");
        if let Some(change) = change.filter(|c| !c.starts_with("p.")) {
            row.fail("PCHANGE", Some(change), Code::InvalidValue, "an HGVS protein change starts with p.".into());
        }
        let tier = row.code("ESCAT");
        let model = variant::Model {
            id: 0,
            profile_id: profile?.0,
            gene: gene?.to_owned(),
            alteration_class: class?,
            protein_change: change.map(str::to_owned),
            escat_tier: tier?,
        };
        let key = (model.profile_id, model.gene.clone(), model.alteration_class, model.protein_change.clone());
        if !seen.first(row, "GENE", key.clone()) || !row.ok() {
            return None;
        }
        Some(w.variants.stage(key, model).0)
    });
}

fn reviews(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let patient = patient_of(w, cx, row);
        let date = row.date("DSSTDTC");
        let outcome = row.code::<MtbOutcome>("DSDECOD");
        let cohort_code = row.raw("COHORT");
        let cohort = cohort_code.and_then(|c| {
            let found = w.cohorts.get(&c.to_owned()).map(|c| c.id);
            if found.is_none() {
                row.unknown("COHORT", c, "cohort");
            }
            found
        });
        if outcome == Some(MtbOutcome::MatchedCohort) && cohort_code.is_none() {
            row.fail("COHORT", None, Code::Required, "a match to a cohort names the cohort".into());
        }
        let tier = row.opt_code("ESCAT");
        if let (Some(patient), Some(date)) = (&patient, date) {
            let sampled = w.profiles.get(&patient.id).map_or(patient.referral_date, |p| p.sample_date);
            row.order("DSSTDTC", date, sampled, "the sample was taken");
        }
        let patient = patient?;
        let model = mtb_review::Model {
            id: 0,
            patient_id: patient.id,
            review_date: date?,
            outcome: outcome?,
            recommended_cohort_id: cohort,
            evidence_tier: tier,
        };
        if !seen.first(row, "USUBJID", patient.id) || !row.ok() {
            return None;
        }
        Some(w.reviews.stage(patient.id, model).0)
    });
}

fn enrolments(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let pseudonym = row.subject();
        let patient = pseudonym.and_then(|p| {
            let found = w.patients.get(&p.to_owned()).cloned();
            if found.is_none() {
                unknown_patient(cx, row, p);
            }
            found
        });
        let cohort_code = row.text("COHORT");
        let cohort = cohort_code.and_then(|c| {
            let found = w.cohorts.get(&c.to_owned()).map(|c| c.id);
            if found.is_none() {
                row.unknown("COHORT", c, "cohort");
            }
            found
        });
        let site = site_of(w, row, "SITEID");
        if let (Some(patient), Some(site)) = (&patient, &site) {
            let stored_elsewhere = w.enrolments.get(&patient.id).is_some_and(|e| !cx.own_site(e.site_id));
            if !cx.own_site(site.id) && !cx.own_site(patient.referring_site_id) || stored_elsewhere {
                row.fail("USUBJID", Some(&patient.pseudonym), Code::NotOwnSite, "no patient of your sites".into());
            }
        }
        let enrolled = row.date("ENRLDTC");
        let stage = row.code("STAGE");
        let start = row.opt_date("EXSTDTC");
        let end = row.opt_date("EXENDTC");
        let reason = row.opt_code("EXENRSN");
        if let (Some(patient), Some(enrolled)) = (&patient, enrolled) {
            let reviewed = w.reviews.get(&patient.id).map_or(patient.referral_date, |r| r.review_date);
            row.order("ENRLDTC", enrolled, reviewed, "the tumour board's review");
        }
        if let (Some(enrolled), Some(start)) = (enrolled, start) {
            row.order("EXSTDTC", start, enrolled, "enrolment");
        }
        match (start, end) {
            (Some(start), Some(end)) => {
                row.order("EXENDTC", end, start, "treatment start");
            }
            (None, Some(end)) => {
                row.fail("EXSTDTC", Some(&end.to_string()), Code::Required, "an ended treatment has a start".into())
            }
            _ => {}
        }
        if row.raw("EXENDTC").is_some() != row.raw("EXENRSN").is_some() {
            row.fail("EXENRSN", row.raw("EXENRSN"), Code::Required, "an end date and its reason go together".into());
        }
        let patient = patient?;
        let model = enrolment::Model {
            id: 0,
            patient_id: patient.id,
            cohort_id: cohort?,
            site_id: site?.id,
            enrolled_on: enrolled?,
            cohort_stage: stage?,
            treatment_start: start,
            treatment_end: end,
            end_reason: reason,
        };
        if !seen.first(row, "USUBJID", patient.id) || !row.ok() {
            return None;
        }
        Some(w.enrolments.stage(patient.id, model).0)
    });
}

/// The enrolment of the patient `row` names, with its treatment start; `what` says
/// what needs a treated patient.
fn treated(w: &World, cx: &Context, row: &mut Row<'_>, what: &str) -> Option<(enrolment::Model, NaiveDate)> {
    let patient = patient_of(w, cx, row)?;
    let Some(enrolment) = w.enrolments.get(&patient.id).cloned() else {
        row.unknown("USUBJID", &patient.pseudonym, "enrolment of patient");
        return None;
    };
    let Some(start) = enrolment.treatment_start else {
        let message = format!("{what} needs a treated patient; {} has no treatment start", patient.pseudonym);
        row.fail("USUBJID", Some(&patient.pseudonym), Code::UnknownReference, message);
        return None;
    };
    Some((enrolment, start))
}

fn responses(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let enrolment = treated(w, cx, row, "a response");
        let date = row.date("RSDTC");
        let test = row.text("RSTESTCD");
        if let Some(test) = test.filter(|t| !t.eq_ignore_ascii_case("OVRLRESP")) {
            row.fail("RSTESTCD", Some(test), Code::UnknownCode, "only overall response (OVRLRESP) is imported".into());
        }
        let response = row.code("RSORRES");
        let criteria = row.code("RSCAT");
        if let (Some((_, start)), Some(date)) = (&enrolment, date) {
            row.order("RSDTC", date, *start, "treatment start");
        }
        let (enrolment, start) = enrolment?;
        let date = date?;
        let model = response_assessment::Model {
            id: 0,
            enrolment_id: enrolment.id,
            assessment_date: date,
            study_week: study_week(start, date),
            criteria: criteria?,
            response: response?,
        };
        test?;
        if !seen.first(row, "RSDTC", (enrolment.id, date)) || !row.ok() {
            return None;
        }
        Some(w.assessments.stage((enrolment.id, date), model).0)
    });
}

/// Whole weeks from treatment start (day 0) to `date`, to the nearest week: a scan
/// three days either side of week 8 is the week-8 scan.
pub fn study_week(start: NaiveDate, date: NaiveDate) -> i32 {
    let days = (date - start).num_days();
    i32::try_from((days + 3).div_euclid(7)).unwrap_or(i32::MAX)
}

fn adverse_events(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let enrolment = treated(w, cx, row, "an adverse event");
        let term = row.text("AETERM");
        let organ = row.text("AESOC");
        let grade = row.int("AETOXGR", 1..=5);
        let onset = row.date("AESTDTC");
        let related = row.flag("AEREL");
        let serious = row.flag("AESER");
        if let (Some((_, start)), Some(onset)) = (&enrolment, onset) {
            row.order("AESTDTC", onset, *start, "treatment start");
        }
        let (enrolment, _) = enrolment?;
        let model = adverse_event::Model {
            id: 0,
            enrolment_id: enrolment.id,
            ctcae_term: term?.to_owned(),
            organ_class: organ?.to_owned(),
            grade: grade?,
            onset_date: onset?,
            related: related?,
            serious: serious?,
        };
        let key = (enrolment.id, model.ctcae_term.clone(), model.onset_date, model.grade);
        if !seen.first(row, "AETERM", key.clone()) || !row.ok() {
            return None;
        }
        Some(w.adverse_events.stage(key, model).0)
    });
}

/// The last date each patient is on record alive: referral, sampling, review,
/// enrolment, treatment, assessments and adverse events.
fn last_seen(w: &World) -> HashMap<i32, NaiveDate> {
    let mut last: HashMap<i32, NaiveDate> = HashMap::new();
    let mut see = |patient: i32, date: NaiveDate| {
        let entry = last.entry(patient).or_insert(date);
        *entry = (*entry).max(date);
    };
    w.patients.iter().for_each(|p| see(p.id, p.referral_date));
    w.profiles.iter().for_each(|p| see(p.patient_id, p.sample_date));
    w.reviews.iter().for_each(|r| see(r.patient_id, r.review_date));
    let mut patient_of_enrolment = HashMap::new();
    for e in w.enrolments.iter() {
        patient_of_enrolment.insert(e.id, e.patient_id);
        see(e.patient_id, e.enrolled_on);
        if let Some(start) = e.treatment_start {
            see(e.patient_id, start);
        }
    }
    for (enrolment, date) in w
        .assessments
        .iter()
        .map(|a| (a.enrolment_id, a.assessment_date))
        .chain(w.adverse_events.iter().map(|a| (a.enrolment_id, a.onset_date)))
    {
        if let Some(patient) = patient_of_enrolment.get(&enrolment) {
            see(*patient, date);
        }
    }
    last
}

fn followups(w: &mut World, t: &Table, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    let last = last_seen(w);
    each_row(t, cx, p, s, |row| {
        // The registry (no site limit) follows every patient; a hospital only its own.
        let patient = patient_of(w, cx, row);
        let status = row.code::<VitalStatus>("SSSTRESC");
        let date = row.date("SSDTC");
        let death = row.opt_date("DTHDTC");
        let source = row.code("SSSRC");
        match (status, death, row.raw("DTHDTC")) {
            (Some(VitalStatus::Dead), None, None) => {
                row.fail("DTHDTC", None, Code::Required, "a death has its date".into())
            }
            (Some(VitalStatus::Alive), _, Some(value)) => {
                row.fail("DTHDTC", Some(value), Code::InvalidValue, "a patient alive has no date of death".into())
            }
            _ => {}
        }
        if let (Some(death), Some(date)) = (death, date) {
            if death > date {
                row.fail("DTHDTC", Some(&death.to_string()), Code::DateOrder, format!("after the status date {date}"));
            }
        }
        if let (Some(patient), Some(death)) = (&patient, death) {
            if let Some(alive) = last.get(&patient.id) {
                row.order("DTHDTC", death, *alive, "the last date the patient was known alive");
            }
        }
        let patient = patient?;
        let model = followup::Model {
            id: 0,
            patient_id: patient.id,
            vital_status: status?,
            status_date: date?,
            death_date: death,
            source: source?,
        };
        if !seen.first(row, "USUBJID", patient.id) || !row.ok() {
            return None;
        }
        Some(w.followups.stage(patient.id, model).0)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_weeks_round_to_the_nearest_week() {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let week = |days| study_week(start, start + chrono::TimeDelta::days(days));
        assert_eq!((week(0), week(3), week(4), week(56), week(53), week(59), week(60)), (0, 0, 1, 8, 8, 8, 9));
    }

    #[test]
    fn icd10_codes_of_cancers_only() {
        assert!(is_icd10_cancer("C18") && is_icd10_cancer("C18.7") && is_icd10_cancer("C97"));
        assert!(
            !is_icd10_cancer("C98") && !is_icd10_cancer("D12") && !is_icd10_cancer("C1") && !is_icd10_cancer("C18.x")
        );
    }
}
