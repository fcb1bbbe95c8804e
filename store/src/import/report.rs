//! What an import found and did: every problem (file, row, column, value, reason and a
//! stable code) up to [`MAX_PROBLEMS`] with the total count, and the rows inserted,
//! updated and unchanged.

use std::fmt;

use serde::Serialize;

use super::domain::Domain;

/// Most problems listed in a report; the total is counted beyond it.
pub const MAX_PROBLEMS: usize = 100;

/// Why a file or a row was refused: stable codes, documented in `docs/import.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// The file is empty, or has a header and no rows.
    EmptyFile,
    /// The file is larger than accepted.
    TooLarge,
    /// The file is not UTF-8.
    WrongEncoding,
    /// The file is separated by something other than commas.
    WrongDelimiter,
    /// The file cannot be parsed (a broken or truncated CSV or Parquet file).
    UnreadableFile,
    /// The file holds another domain's columns.
    WrongDomain,
    /// A column the domain requires is missing.
    MissingColumn,
    /// A column the domain does not have.
    UnknownColumn,
    /// A column or value that identifies a person directly.
    DirectIdentifier,
    /// A required value is empty.
    Required,
    /// A value is not of the column's type (number, flag, identifier).
    InvalidValue,
    /// A date is not an ISO 8601 date (`YYYY-MM-DD`; a year for birth).
    InvalidDate,
    /// A date lies in the future.
    FutureDate,
    /// Dates in the wrong order (an assessment before treatment start, death before
    /// the last date the patient was known alive …).
    DateOrder,
    /// A value outside its code list (response categories, CTCAE grades, OncoTree
    /// codes, regions, ESCAT tiers …) or its range.
    UnknownCode,
    /// A row refers to a patient, enrolment, cohort, site, drug or partner that neither
    /// exists nor arrives in the same import.
    UnknownReference,
    /// Two rows of the import share a natural key, or a unique value is taken.
    DuplicateKey,
    /// The submitter may not send this domain.
    DomainNotPermitted,
    /// The row is about a patient of a site the submitter does not run (or about a
    /// pseudonym or sample nobody has: the two are not told apart).
    NotOwnSite,
    /// The row would move a patient to another site (its referring site, or a stored
    /// enrolment's treating site): an `admin` import only.
    Rehoming,
    /// A follow-up row takes back what is on record (a death turned back to alive, a
    /// changed date of death, the last date known alive moved back): a correction only.
    CorrectionRequired,
    /// The file's name says one format (`.csv`, `.parquet`) and its content is another.
    WrongFormat,
    /// Another import is being written to the database; send it again.
    Busy,
}

impl Code {
    /// The code's wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::EmptyFile => "EMPTY_FILE",
            Code::TooLarge => "TOO_LARGE",
            Code::WrongEncoding => "WRONG_ENCODING",
            Code::WrongDelimiter => "WRONG_DELIMITER",
            Code::UnreadableFile => "UNREADABLE_FILE",
            Code::WrongDomain => "WRONG_DOMAIN",
            Code::MissingColumn => "MISSING_COLUMN",
            Code::UnknownColumn => "UNKNOWN_COLUMN",
            Code::DirectIdentifier => "DIRECT_IDENTIFIER",
            Code::Required => "REQUIRED",
            Code::InvalidValue => "INVALID_VALUE",
            Code::InvalidDate => "INVALID_DATE",
            Code::FutureDate => "FUTURE_DATE",
            Code::DateOrder => "DATE_ORDER",
            Code::UnknownCode => "UNKNOWN_CODE",
            Code::UnknownReference => "UNKNOWN_REFERENCE",
            Code::DuplicateKey => "DUPLICATE_KEY",
            Code::DomainNotPermitted => "DOMAIN_NOT_PERMITTED",
            Code::NotOwnSite => "NOT_OWN_SITE",
            Code::Rehoming => "REHOMING",
            Code::CorrectionRequired => "CORRECTION_REQUIRED",
            Code::WrongFormat => "WRONG_FORMAT",
            Code::Busy => "BUSY",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: where, what, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file's name.
    pub file: String,
    /// The line in the file (the header is line 1, the first row line 2); none for the
    /// file as a whole.
    pub line: Option<usize>,
    /// The column.
    pub column: Option<String>,
    /// The value as found (masked when it looks like a direct identifier).
    pub value: Option<String>,
    /// The stable code.
    pub code: Code,
    /// What is wrong, for a person.
    pub message: String,
}

impl Problem {
    /// A problem of the whole file.
    pub fn file(file: &str, code: Code, message: String) -> Self {
        Problem { file: file.to_owned(), line: None, column: None, value: None, code, message }
    }

    /// A problem at `line` (and `column`, with its `value`).
    pub fn at(file: &str, line: usize, column: Option<&str>, value: Option<&str>, code: Code, message: String) -> Self {
        Problem {
            file: file.to_owned(),
            line: Some(line),
            column: column.map(str::to_owned),
            value: value.map(str::to_owned),
            code,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " {column}")?;
        }
        if let Some(value) = &self.value {
            write!(f, " {value:?}")?;
        }
        write!(f, ": {} ({})", self.message, self.code)
    }
}

/// The problems of an import: the first [`MAX_PROBLEMS`] and how many in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Problems {
    /// The first problems, in file and row order.
    pub listed: Vec<Problem>,
    /// How many problems in all.
    pub total: usize,
}

impl Problems {
    /// Adds one.
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(problem);
        }
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Puts the listed problems in the order of `files` and of their lines (a whole
    /// file's first), whatever step found them.
    pub fn sort(&mut self, files: &[FileSummary]) {
        let place = |p: &Problem| files.iter().position(|f| f.file == p.file).unwrap_or(usize::MAX);
        self.listed.sort_by_key(|p| (place(p), p.line));
    }
}

/// Rows of one file by what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// The domain.
    pub domain: String,
    /// The file's name.
    pub file: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The format its content was read as (`csv` or `parquet`), once read.
    pub format: Option<String>,
    /// Rows read.
    pub rows: u64,
    /// Rows that are new.
    pub inserted: u64,
    /// Rows that changed a stored row with the same natural key.
    pub updated: u64,
    /// Rows equal to the stored row.
    pub unchanged: u64,
}

impl FileSummary {
    /// A summary of `file` of `domain`, nothing counted yet.
    pub fn new(domain: Domain, file: &str, sha256: String) -> Self {
        FileSummary { domain: domain.name().to_owned(), file: file.to_owned(), sha256, ..Default::default() }
    }
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// One summary per file, in the order applied.
    pub files: Vec<FileSummary>,
    /// What is wrong; an import with any problem changes nothing.
    pub problems: Problems,
    /// Whether the database was changed (false for a dry run, a refused import and one
    /// that changed nothing).
    pub applied: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The data version after the import.
    pub data_version: i64,
    /// Whether the import was sent as a correction (see [`Code::CorrectionRequired`]).
    pub correction: bool,
    /// Follow-up rows that corrected what was on record (a correction only).
    pub corrected: u64,
    /// Patients moved to another site (the operator's or an `admin` import only).
    pub rehomed: u64,
    /// Partners whose grants the import changes.
    pub grants: Vec<GrantChange>,
}

/// A partner's grants as stored and as imported (`None`: its kind's defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantChange {
    /// The partner.
    pub partner: String,
    /// Its scopes before the import.
    pub before: Option<String>,
    /// Its scopes after it.
    pub after: Option<String>,
}

impl Report {
    /// Rows inserted, updated and unchanged over every file.
    pub fn totals(&self) -> (u64, u64, u64) {
        self.files.iter().fold((0, 0, 0), |(i, u, n), f| (i + f.inserted, u + f.updated, n + f.unchanged))
    }

    /// One line per file and per listed problem, for the command line and logs.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            out.push_str(&format!(
                "{} ({}, {}, sha256 {}): {} rows, {} inserted, {} updated, {} unchanged\n",
                f.file,
                f.domain,
                f.format.as_deref().unwrap_or("unread"),
                &f.sha256[..f.sha256.len().min(12)],
                f.rows,
                f.inserted,
                f.updated,
                f.unchanged
            ));
        }
        for g in &self.grants {
            let shown = |scopes: &Option<String>| scopes.clone().unwrap_or_else(|| "its kind's defaults".into());
            out.push_str(&format!("grants of {}: {} → {}\n", g.partner, shown(&g.before), shown(&g.after)));
        }
        if self.rehomed > 0 {
            out.push_str(&format!("{} patient(s) moved to another site\n", self.rehomed));
        }
        if self.corrected > 0 {
            out.push_str(&format!("{} vital status(es) corrected\n", self.corrected));
        }
        for p in &self.problems.listed {
            out.push_str(&format!("{p}\n"));
        }
        if self.problems.total > self.problems.listed.len() {
            out.push_str(&format!("… and {} more problems\n", self.problems.total - self.problems.listed.len()));
        }
        let verdict = match (self.problems.total, self.dry_run, self.applied) {
            (0, true, _) => "dry run: the import is valid; nothing was changed".to_owned(),
            (0, false, true) => format!("imported: data version {}", self.data_version),
            (0, false, false) => {
                format!("nothing changed: every row is already stored (data version {})", self.data_version)
            }
            (n, _, _) => format!("refused: {n} problem(s); nothing was changed"),
        };
        out.push_str(&verdict);
        out
    }
}
