//! The rules of each domain: every row is parsed (types, code lists, dates), checked
//! against the rows it refers to (stored, or staged earlier in the same import), against
//! the submitter's rights, and staged by its natural key. Problems are collected, never
//! returned early, so one report lists them all.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};
use consortium_entity::vocabulary::{GENE_PANEL, MEDDRA_SOC, ONCOTREE};
use consortium_entity::{
    adverse_event, cohort, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant, CohortStatus, MtbOutcome, PartnerKind, VitalStatus,
};
use sea_orm::ActiveEnum;

use super::access::Access;
use super::domain::Domain;
use super::file::Table;
use super::report::{Code, FileSummary, GrantChange, Problem, Problems};
use super::world::{Origin, Staged, World};

/// What the rules need besides the world: the day, the submitter's reach, progress.
pub(super) struct Context<'a> {
    /// Dates after it are in the future.
    pub today: NaiveDate,
    /// Whose patients the submitter may send rows about.
    pub access: Access,
    /// Told how far validation has come, now and then.
    pub progress: &'a (dyn Fn(&str) + Sync),
    /// The names of the scopes a partner may be granted.
    pub scopes: &'a [&'a str],
}

/// What staging found besides problems: moves between sites and changed grants.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Patients moved to another site.
    pub rehomed: HashSet<i32>,
    /// Partners whose grants change.
    pub grants: Vec<GrantChange>,
}

/// Longest text accepted in any cell, in characters (names, mechanisms).
pub const MAX_TEXT: usize = 200;

/// Longest text accepted in `column`, in characters: what the database stores for it.
fn max_len(column: &str) -> usize {
    match column {
        "USUBJID" | "SAMPLEID" | "CODE" | "SITEID" | "DRUG" | "COHORT" | "PANEL" | "PARTNER" | "SUPPLIER"
        | "SEQSITE" => 32,
        "AETERM" | "AESOC" => 100,
        "PCHANGE" => 64,
        _ => MAX_TEXT,
    }
}

/// What is wrong with a cell's text in `column`, if anything: control characters (a
/// NUL, a line break inside a quoted value), more characters than the column holds, or
/// a leading character a spreadsheet reads as a formula.
fn bad_text(column: &str, value: &str) -> Option<String> {
    if value.chars().any(char::is_control) {
        return Some("holds a control character (a NUL, tab or line break)".into());
    }
    let most = max_len(column);
    if value.chars().count() > most {
        return Some(format!("longer than {most} characters"));
    }
    let mut chars = value.chars();
    let formula = match chars.next() {
        Some('=' | '+' | '@') => true,
        Some('-') => !chars.next().is_some_and(|c| c.is_ascii_digit() || c == '.'),
        _ => false,
    };
    formula.then(|| "starts like a spreadsheet formula (= + - @)".to_owned())
}

/// Upper-case spellings accepted besides the stored codes (SDTM's own where it has one).
const ALIASES: &[(&str, &str)] =
    &[("M", "MALE"), ("F", "FEMALE"), ("RECIST 1.1", "RECIST_1_1"), ("RECIST1.1", "RECIST_1_1"), ("IWCLL", "IWCLL")];

/// One row being read: its values, and the problems found in it.
struct Row<'t> {
    table: &'t Table,
    file: usize,
    r: usize,
    today: NaiveDate,
    found: Vec<Problem>,
}

impl<'t> Row<'t> {
    fn line(&self) -> usize {
        self.r + 2
    }

    /// Where the row comes from, for rows it stages.
    fn origin(&self) -> Option<Origin> {
        Some(Origin { file: self.file, line: self.line() })
    }

    /// Checks every cell's text (see [`bad_text`]); whether all are good.
    fn clean(&mut self) -> bool {
        for (c, column) in self.table.header.iter().enumerate() {
            let Some(value) = self.table.cells[c][self.r].as_deref() else { continue };
            if let Some(why) = bad_text(column, value) {
                let shown: String = value.chars().filter(|c| !c.is_control()).take(40).collect();
                self.fail(column, Some(&shown), Code::InvalidValue, why);
            }
        }
        self.ok()
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
        let fits = value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !fits {
            self.fail(column, Some(value), Code::InvalidValue, "not an identifier (letters, digits, - _ .)".into());
            return None;
        }
        Some(value)
    }

    fn unknown(&mut self, column: &str, value: &str, what: &str) {
        self.fail(column, Some(value), Code::UnknownReference, format!("no {what} {value} is stored or imported"));
    }

    fn order(&mut self, column: &str, date: NaiveDate, earliest: NaiveDate, what: &str) {
        if date < earliest {
            self.fail(column, Some(&date.to_string()), Code::DateOrder, format!("before {what} ({earliest})"));
        }
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
/// One file being staged: the table, its index among the import's files, and its
/// summary.
pub(super) struct Sheet<'t> {
    /// The file's rows.
    pub table: &'t Table,
    /// Its index in the report.
    pub file: usize,
}

fn each_row<'t>(
    sheet: &Sheet<'t>,
    context: &Context,
    problems: &mut Problems,
    summary: &mut FileSummary,
    mut rule: impl FnMut(&mut Row<'t>) -> Option<Staged>,
) {
    let table = sheet.table;
    for r in 0..table.rows {
        if r > 0 && r % PROGRESS_EVERY == 0 {
            (context.progress)(&format!("{}: {r} of {} rows checked", table.file, table.rows));
        }
        let mut row = Row { table, file: sheet.file, r, today: context.today, found: Vec::new() };
        let staged = if row.clean() { rule(&mut row) } else { None };
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
    sheet: &Sheet<'_>,
    context: &Context,
    changes: &mut Changes,
    problems: &mut Problems,
    summary: &mut FileSummary,
) {
    let w = world;
    let (t, cx, p, s) = (sheet, context, problems, summary);
    match domain {
        Domain::Partners => partners(w, t, cx, &mut changes.grants, p, s),
        Domain::Sites => sites(w, t, cx, p, s),
        Domain::Drugs => drugs(w, t, cx, p, s),
        Domain::Cohorts => cohorts(w, t, cx, p, s),
        Domain::Dm => demographics(w, t, cx, &mut changes.rehomed, p, s),
        Domain::Profiles => profiles(w, t, cx, p, s),
        Domain::Variants => variants(w, t, cx, p, s),
        Domain::Ds => reviews(w, t, cx, p, s),
        Domain::Ex => enrolments(w, t, cx, &mut changes.rehomed, p, s),
        Domain::Rs => responses(w, t, cx, p, s),
        Domain::Ae => adverse_events(w, t, cx, p, s),
        Domain::Ss => followups(w, t, cx, p, s),
    }
}

/// The `SCOPES` value that sets a partner back to its kind's default grants (an empty
/// value leaves the stored grants as they are).
pub const DEFAULT_SCOPES: &str = "DEFAULT";

fn partners(
    w: &mut World,
    t: &Sheet<'_>,
    cx: &Context,
    grants: &mut Vec<GrantChange>,
    p: &mut Problems,
    s: &mut FileSummary,
) {
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
        let defaults = scopes.is_some_and(|s| s.eq_ignore_ascii_case(DEFAULT_SCOPES));
        let listed = scopes.filter(|_| !defaults);
        if let Some(unknown) = listed.and_then(|s| s.split_whitespace().find(|n| !cx.scopes.contains(n))) {
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
        let stored = w.partners.get(&code.to_owned()).map(|m| m.scopes.clone());
        // An empty value keeps what is stored (a new partner gets its kind's defaults);
        // only DEFAULT sets a partner back to them.
        let scopes = match (listed, defaults) {
            (Some(listed), _) => Some(listed.split_whitespace().collect::<Vec<_>>().join(" ")),
            (None, true) => None,
            (None, false) => stored.clone().flatten(),
        };
        if let Some(before) = stored.filter(|before| *before != scopes) {
            grants.push(GrantChange { partner: code.to_owned(), before, after: scopes.clone() });
        }
        let model = partner::Model {
            id: 0,
            code: code.to_owned(),
            name: name.to_owned(),
            kind,
            org_number: org.to_owned(),
            scopes,
        };
        Some(w.partners.stage(code.to_owned(), model, row.origin()).0)
    });
}

fn sites(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.sites.stage(code.to_owned(), model, row.origin()).0)
    });
}

fn drugs(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.drugs.stage(code.to_owned(), model, row.origin()).0)
    });
}

fn cohorts(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.cohorts.stage(model.code.clone(), model, row.origin()).0)
    });
}

/// The stored or staged patient `row`'s USUBJID names, if the submitter may send rows
/// about it; otherwise the row gets [`not_yours`] and nothing else about the patient is
/// looked at.
fn patient_of(w: &World, cx: &Context, row: &mut Row<'_>) -> Option<patient::Model> {
    let pseudonym = row.subject()?;
    match w.patients.get(&pseudonym.to_owned()) {
        Some(patient) if cx.access.owns(w, patient) => Some(patient.clone()),
        Some(_) => {
            not_yours(row, "USUBJID", pseudonym);
            None
        }
        None if cx.access.is_limited() => {
            not_yours(row, "USUBJID", pseudonym);
            None
        }
        None => {
            row.unknown("USUBJID", pseudonym, "patient");
            None
        }
    }
}

/// The one problem a submitter limited to its sites gets for a patient (or sample) that
/// is not its own, whether it exists elsewhere or nowhere: the two are not told apart.
fn not_yours(row: &mut Row<'_>, column: &str, value: &str) {
    row.fail(column, Some(value), Code::NotOwnSite, "no patient of your sites".into());
}

/// Refuses (or, for the operator and `admin`, counts) a row that moves `patient` from
/// the site on record to another.
fn rehome(cx: &Context, rehomed: &mut HashSet<i32>, row: &mut Row<'_>, column: &str, patient: i32, site: &str) {
    if cx.access.may_rehome() {
        rehomed.insert(patient);
    } else {
        let message = "moves the patient to another site: an admin import only";
        row.fail(column, Some(site), Code::Rehoming, message.into());
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

fn demographics(
    w: &mut World,
    t: &Sheet<'_>,
    cx: &Context,
    rehomed: &mut HashSet<i32>,
    p: &mut Problems,
    s: &mut FileSummary,
) {
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
        match w.patients.get(&pseudonym.to_owned()) {
            Some(stored) if !cx.access.owns(w, stored) => not_yours(row, "USUBJID", pseudonym),
            Some(stored) if stored.referring_site_id != site.id => {
                rehome(cx, rehomed, row, "SITEID", stored.id, &site.code)
            }
            Some(_) => {}
            None if !cx.access.site(site.id) => not_yours(row, "USUBJID", pseudonym),
            None => {}
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
        Some(w.patients.stage(pseudonym.to_owned(), model, row.origin()).0)
    });
}

fn profiles(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.profiles.stage(patient.id, model, row.origin()).0)
    });
}

/// Whether `code` is an ICD-10 code of chapter II's malignant neoplasms, C00–C97
/// (with or without a subdivision).
fn is_icd10_cancer(code: &str) -> bool {
    let (category, subdivision) = code.split_once('.').unwrap_or((code, ""));
    let number = category.strip_prefix('C').and_then(|n| (n.len() == 2).then(|| n.parse::<u8>().ok()).flatten());
    number.is_some_and(|n| n <= 97) && subdivision.chars().all(|c| c.is_ascii_digit()) && subdivision.len() <= 2
}

fn variants(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    let profile_of_sample: HashMap<String, (i32, i32)> =
        w.profiles.iter().map(|m| (m.sample_id.clone(), (m.id, m.patient_id))).collect();
    let by_id: HashMap<i32, patient::Model> = w.patients.iter().map(|m| (m.id, m.clone())).collect();
    each_row(t, cx, p, s, |row| {
        let sample = row.text("SAMPLEID");
        let profile = sample.and_then(|sample| {
            let found = profile_of_sample.get(sample).copied();
            let owned = found.filter(|(_, patient)| by_id.get(patient).is_some_and(|p| cx.access.owns(w, p)));
            match (found, owned) {
                (_, Some(owned)) => return Some(owned),
                (Some(_), None) => not_yours(row, "SAMPLEID", sample),
                (None, None) if cx.access.is_limited() => not_yours(row, "SAMPLEID", sample),
                (None, None) => row.unknown("SAMPLEID", sample, "profile with sample"),
            }
            None
        });
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
        Some(w.variants.stage(key, model, row.origin()).0)
    });
}

fn reviews(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.reviews.stage(patient.id, model, row.origin()).0)
    });
}

fn enrolments(
    w: &mut World,
    t: &Sheet<'_>,
    cx: &Context,
    rehomed: &mut HashSet<i32>,
    p: &mut Problems,
    s: &mut FileSummary,
) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let patient = patient_of(w, cx, row);
        let cohort_code = row.text("COHORT");
        let cohort = cohort_code.and_then(|c| {
            let found = w.cohorts.get(&c.to_owned()).map(|c| c.id);
            if found.is_none() {
                row.unknown("COHORT", c, "cohort");
            }
            found
        });
        let site = site_of(w, row, "SITEID");
        // A patient stays at the site it is enrolled at: moving it is re-homing.
        if let (Some(patient), Some(site)) = (&patient, &site) {
            if w.enrolments.get(&patient.id).is_some_and(|e| e.site_id != site.id) {
                rehome(cx, rehomed, row, "SITEID", patient.id, &site.code);
            }
        }
        let enrolled = row.date("ENRLDTC");
        let stage = row.code("STAGE");
        let start = row.opt_date("EXSTDTC");
        let end = row.opt_date("EXENDTC");
        let reason = row.opt_code("EXENRSN");
        if let (None, Some(end)) = (start, end) {
            row.fail("EXSTDTC", Some(&end.to_string()), Code::Required, "an ended treatment has a start".into())
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
        Some(w.enrolments.stage(patient.id, model, row.origin()).0)
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

fn responses(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
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
        Some(w.assessments.stage((enrolment.id, date), model, row.origin()).0)
    });
}

/// Whole weeks from treatment start (day 0) to `date`, to the nearest week: a scan
/// three days either side of week 8 is the week-8 scan.
pub fn study_week(start: NaiveDate, date: NaiveDate) -> i32 {
    let days = (date - start).num_days();
    i32::try_from((days + 3).div_euclid(7)).unwrap_or(i32::MAX)
}

fn adverse_events(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
    each_row(t, cx, p, s, |row| {
        let enrolment = treated(w, cx, row, "an adverse event");
        let term = row.text("AETERM");
        let organ = row.text("AESOC").and_then(|organ| {
            let found = MEDDRA_SOC.iter().find(|soc| soc.eq_ignore_ascii_case(organ)).copied();
            if found.is_none() {
                row.fail("AESOC", Some(organ), Code::UnknownCode, "not a MedDRA system organ class".into());
            }
            found
        });
        let grade = row.int("AETOXGR", 1..=5);
        let onset = row.date("AESTDTC");
        let related = row.flag("AEREL");
        let serious = row.flag("AESER");
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
        Some(w.adverse_events.stage(key, model, row.origin()).0)
    });
}

fn followups(w: &mut World, t: &Sheet<'_>, cx: &Context, p: &mut Problems, s: &mut FileSummary) {
    let mut seen = Seen::new();
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
        Some(w.followups.stage(patient.id, model, row.origin()).0)
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
    fn text_is_refused_when_the_database_could_not_hold_it_or_a_spreadsheet_would_run_it() {
        assert!(bad_text("NAME", "Oslo University Hospital").is_none());
        assert!(bad_text("USUBJID", &"X".repeat(33)).is_some_and(|why| why.contains("32")));
        assert!(bad_text("AETERM", &"x".repeat(101)).is_some());
        assert!(bad_text("NAME", &"x".repeat(201)).is_some());
        assert!(bad_text("AETERM", "Nausea\u{0}").is_some());
        assert!(bad_text("AETERM", "=1+1").is_some() && bad_text("AETERM", "@x").is_some());
        assert!(bad_text("TMB", "-1.5").is_none() && bad_text("AETERM", "-x").is_some());
    }

    #[test]
    fn icd10_codes_of_cancers_only() {
        assert!(is_icd10_cancer("C18") && is_icd10_cancer("C18.7") && is_icd10_cancer("C97"));
        assert!(
            !is_icd10_cancer("C98") && !is_icd10_cancer("D12") && !is_icd10_cancer("C1") && !is_icd10_cancer("C18.x")
        );
    }
}
