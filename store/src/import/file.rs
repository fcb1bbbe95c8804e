//! Reading one import file, CSV or Parquet (told apart by Parquet's magic bytes), into
//! columns of text with polars, and refusing what is not a readable file of the domain:
//! empty, not UTF-8, another delimiter, a truncated Parquet file, the wrong domain's
//! columns, a direct identifier.

use std::io::Cursor;

use polars::prelude::*;

use super::domain::Domain;
use super::report::{Code, Problem};

/// Largest file accepted, in bytes: a registry's whole follow-up fits many times over.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Headers that name a direct identifier: no file about patients may carry one.
const DIRECT_IDENTIFIERS: &[&str] = &[
    "NAME",
    "FIRSTNAME",
    "LASTNAME",
    "SURNAME",
    "GIVENNAME",
    "FAMILYNAME",
    "PATNAME",
    "PATIENTNAME",
    "FNR",
    "FODSELSNUMMER",
    "FØDSELSNUMMER",
    "PERSONNUMMER",
    "DNUMMER",
    "NATIONALID",
    "NIN",
    "SSN",
    "ADDRESS",
    "PHONE",
    "EMAIL",
    "BRTHDATE",
];

/// A file read into text columns: `cells[c][r]` is row `r`'s value in column `c`
/// (empty cells are `None`).
#[derive(Debug)]
pub struct Table {
    /// The file's name, for reports.
    pub file: String,
    /// The headers, upper-cased, in file order.
    pub header: Vec<String>,
    /// The columns' values.
    pub cells: Vec<Vec<Option<String>>>,
    /// Rows (header excluded).
    pub rows: usize,
}

impl Table {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Reads `bytes` (the file `file`) as an import file of `domain`; on failure the one
/// problem that makes it unreadable.
pub fn read(domain: Domain, file: &str, bytes: &[u8]) -> Result<Table, Problem> {
    let whole = |code: Code, message: String| Problem::file(file, code, message);
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole(Code::TooLarge, format!("{} bytes is more than the {MAX_FILE_BYTES} accepted", bytes.len())));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(whole(Code::EmptyFile, "the file is empty".into()));
    }
    let frame = if bytes.starts_with(b"PAR1") {
        ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| whole(Code::UnreadableFile, format!("not a readable Parquet file: {e}")))?
    } else {
        read_csv(file, bytes)?
    };
    let header: Vec<String> = frame.get_column_names().iter().map(|n| n.trim().to_uppercase()).collect();
    check_header(domain, file, &header)?;
    if frame.height() == 0 {
        return Err(whole(Code::EmptyFile, "the file has a header but no rows".into()));
    }
    let mut cells = Vec::with_capacity(header.len());
    for column in frame.columns() {
        let text = column.cast(&DataType::String).map_err(|e| {
            whole(Code::UnreadableFile, format!("column {} cannot be read as text: {e}", column.name()))
        })?;
        let text = text.str().map_err(|e| whole(Code::UnreadableFile, e.to_string()))?;
        cells.push(
            text.iter().map(|v| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)).collect::<Vec<_>>(),
        );
    }
    Ok(Table { file: file.to_owned(), header, cells, rows: frame.height() })
}

/// A CSV file: UTF-8 (an initial byte-order mark is allowed), comma-separated, a header
/// line, every value read as text (types are checked by the domain's rules).
fn read_csv(file: &str, bytes: &[u8]) -> Result<DataFrame, Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(error) = std::str::from_utf8(bytes) {
        let line = bytes[..error.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(Problem::at(
            file,
            line,
            None,
            None,
            Code::WrongEncoding,
            "the file is not UTF-8 text (save it as CSV UTF-8)".into(),
        ));
    }
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first.iter().filter(|b| **b == c).count();
    if count(b',') == 0 && (count(b';') > 0 || count(b'\t') > 0 || count(b'|') > 0) {
        let delimiter = if count(b';') > 0 {
            "semicolons"
        } else if count(b'\t') > 0 {
            "tabs"
        } else {
            "bars"
        };
        return Err(Problem::at(
            file,
            1,
            None,
            None,
            Code::WrongDelimiter,
            format!("the header is separated by {delimiter}; import files are comma-separated"),
        ));
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| Problem::file(file, Code::UnreadableFile, format!("not a readable CSV file: {e}")))
}

/// The header must hold every column of the domain and nothing that names a direct
/// identifier; a header that is another domain's gets a report that says so.
fn check_header(domain: Domain, file: &str, header: &[String]) -> Result<(), Problem> {
    if domain.is_about_patients() {
        if let Some(identifier) = header.iter().find(|h| DIRECT_IDENTIFIERS.contains(&h.as_str())) {
            return Err(Problem::at(
                file,
                1,
                Some(identifier),
                None,
                Code::DirectIdentifier,
                format!("column {identifier} looks like a direct identifier; patients are known by pseudonym only"),
            ));
        }
    }
    let missing: Vec<&str> =
        domain.columns().iter().map(|c| c.name).filter(|name| !header.iter().any(|h| h == name)).collect();
    if missing.is_empty() {
        if let Some(unknown) = header.iter().find(|h| !domain.columns().iter().any(|c| c.name == h.as_str())) {
            return Err(Problem::at(
                file,
                1,
                Some(unknown),
                None,
                Code::UnknownColumn,
                format!("{domain} files have no column {unknown} (see docs/import.md)"),
            ));
        }
        return Ok(());
    }
    let fits =
        |other: Domain| other.columns().iter().filter(|c| c.required).all(|c| header.iter().any(|h| h == c.name));
    if let Some(other) = Domain::ALL.into_iter().find(|d| *d != domain && fits(*d)) {
        return Err(Problem::file(
            file,
            Code::WrongDomain,
            format!("this is a {other} file, not a {domain} file (its header is {other}'s)"),
        ));
    }
    Err(Problem::at(
        file,
        1,
        Some(missing[0]),
        None,
        Code::MissingColumn,
        format!("missing column(s) {}", missing.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(domain: Domain, bytes: &[u8]) -> Problem {
        read(domain, "f.csv", bytes).expect_err("must be refused")
    }

    #[test]
    fn a_good_csv_is_read_as_text_columns() {
        let table =
            read(Domain::Rs, "rs.csv", b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\nP1,2024-01-02,OVRLRESP,PR,RECIST 1.1\n")
                .expect("readable");
        assert_eq!(table.rows, 1);
        assert_eq!(table.cells[table.column("RSORRES").expect("column")][0].as_deref(), Some("PR"));
    }

    #[test]
    fn unreadable_files_get_their_own_codes() {
        assert_eq!(problem(Domain::Rs, b"").code, Code::EmptyFile);
        assert_eq!(problem(Domain::Rs, b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n").code, Code::EmptyFile);
        assert_eq!(
            problem(Domain::Rs, b"USUBJID;RSDTC;RSTESTCD;RSORRES;RSCAT\nP1;x;y;z;w\n").code,
            Code::WrongDelimiter
        );
        assert_eq!(problem(Domain::Rs, b"USUBJID,RSDTC\nP\xE6,x\n").code, Code::WrongEncoding);
        assert_eq!(problem(Domain::Rs, b"PAR1 and then nothing").code, Code::UnreadableFile);
        assert_eq!(
            problem(Domain::Rs, b"USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\nP1,F,1960,WEST,HUS,2024-01-01\n").code,
            Code::WrongDomain
        );
        assert_eq!(problem(Domain::Rs, b"USUBJID,RSDTC\nP1,2024-01-01\n").code, Code::MissingColumn);
        let named = problem(Domain::Dm, b"USUBJID,NAME,SEX\nP1,Kari Nordmann,F\n");
        assert_eq!((named.code, named.column.as_deref()), (Code::DirectIdentifier, Some("NAME")));
    }
}
