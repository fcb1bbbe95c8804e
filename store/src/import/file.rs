//! Reading one import file, CSV or Parquet (told apart by Parquet's magic bytes), into
//! columns of text with polars, and refusing what is not a readable file of the domain:
//! empty, not UTF-8, another delimiter, a ragged row or an unbalanced quote (named by
//! its line), a truncated Parquet file, a name that says the other format, the wrong
//! domain's columns, a direct identifier.

use std::io::Cursor;

use polars::prelude::*;

use super::domain::Domain;
use super::report::{Code, Problem};
use crate::format::Format;

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
    /// The format its content was read as.
    pub format: Format,
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
    let format = Format::of(bytes);
    if let Some(claimed) = Format::claimed(file).filter(|claimed| *claimed != format) {
        let message = match format {
            Format::Csv => format!("named .{} but not a Parquet file (it reads as text)", claimed.extension()),
            Format::Parquet => format!("named .{} but a Parquet file", claimed.extension()),
        };
        return Err(whole(Code::WrongFormat, message));
    }
    let frame = match format {
        Format::Parquet => ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| whole(Code::UnreadableFile, format!("not a readable Parquet file: {e}")))?,
        Format::Csv => read_csv(file, bytes)?,
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
    Ok(Table { file: file.to_owned(), format, header, cells, rows: frame.height() })
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
    if let Some((line, why)) = ragged(bytes) {
        return Err(Problem::at(file, line, None, None, Code::UnreadableFile, why));
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| Problem::file(file, Code::UnreadableFile, format!("not a readable CSV file: {e}")))
}

/// The first line whose row has another number of fields than the header, or whose
/// quote is never closed, with what is wrong (RFC 4180 quoting: a field in double
/// quotes may hold commas, line breaks and doubled quotes).
fn ragged(bytes: &[u8]) -> Option<(usize, String)> {
    let (mut line, mut row_line) = (1usize, 1usize);
    let (mut fields, mut header) = (1usize, None::<usize>);
    let (mut quoted, mut empty_row) = (false, true);
    let mut quote_line = 0;
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        match (quoted, byte) {
            (true, b'"') if iter.peek() == Some(&&b'"') => {
                iter.next();
            }
            (true, b'"') => quoted = false,
            (true, b'\n') => line += 1,
            (true, _) => {}
            (false, b'"') => {
                quoted = true;
                quote_line = line;
                empty_row = false;
            }
            (false, b',') => {
                fields += 1;
                empty_row = false;
            }
            (false, b'\n') => {
                if !empty_row {
                    match header {
                        None => header = Some(fields),
                        Some(expected) if expected != fields => {
                            return Some((row_line, format!("this row has {fields} fields; the header has {expected}")))
                        }
                        Some(_) => {}
                    }
                }
                line += 1;
                (row_line, fields, empty_row) = (line, 1, true);
            }
            (false, b'\r') => {}
            (false, _) => empty_row = false,
        }
    }
    if quoted {
        return Some((quote_line, "a quote opened on this line is never closed".to_owned()));
    }
    match header {
        Some(expected) if !empty_row && expected != fields => {
            Some((row_line, format!("this row has {fields} fields; the header has {expected}")))
        }
        _ => None,
    }
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
    fn ragged_rows_and_open_quotes_are_named_by_their_line() {
        let ragged = problem(
            Domain::Rs,
            b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\nP1,2024-01-02,OVRLRESP,PR,RECIST 1.1\nP1,2024-02-02,OVRLRESP\n",
        );
        assert_eq!((ragged.code, ragged.line), (Code::UnreadableFile, Some(3)), "{ragged}");
        let quote = problem(Domain::Rs, b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\nP1,2024-01-02,OVRLRESP,PR,RECIST 1.1\nP1,\"2024-02-02,OVRLRESP,PR,RECIST 1.1\n");
        assert_eq!((quote.code, quote.line), (Code::UnreadableFile, Some(3)), "{quote}");
        // Quoted commas and line breaks are values, not fields; a last line without a
        // line break counts.
        let fine = b"USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\r\nP1,\"Rash, \"\"acneiform\"\"\",Skin and subcutaneous tissue disorders,1,2024-01-02,Y,N\r\n\r\nP1,x,y,1,2024-01-03,Y,N";
        assert!(read(Domain::Ae, "ae.csv", fine).is_ok());
    }

    #[test]
    fn a_name_that_says_the_other_format_is_refused() {
        let csv = b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\nP1,2024-01-02,OVRLRESP,PR,RECIST 1.1\n";
        assert_eq!(read(Domain::Rs, "rs.parquet", csv).expect_err("refused").code, Code::WrongFormat);
        assert_eq!(read(Domain::Rs, "rs.csv", csv).map(|t| t.format).ok(), Some(Format::Csv));
        assert_eq!(read(Domain::Rs, "rs", csv).map(|t| t.format).ok(), Some(Format::Csv));
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
        let junk = read(Domain::Rs, "f.parquet", b"PAR1 and then nothing").expect_err("must be refused");
        assert_eq!(junk.code, Code::UnreadableFile);
        assert_eq!(
            problem(Domain::Rs, b"USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\nP1,F,1960,WEST,HUS,2024-01-01\n").code,
            Code::WrongDomain
        );
        assert_eq!(problem(Domain::Rs, b"USUBJID,RSDTC\nP1,2024-01-01\n").code, Code::MissingColumn);
        let named = problem(Domain::Dm, b"USUBJID,NAME,SEX\nP1,Kari Nordmann,F\n");
        assert_eq!((named.code, named.column.as_deref()), (Code::DirectIdentifier, Some("NAME")));
    }
}
