//! The two file formats of imports and exports, and what makes a text cell safe to
//! open in a spreadsheet.

use std::borrow::Cow;

/// The format of an import or export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated UTF-8 text with a header line.
    Csv,
    /// Apache Parquet, every column text.
    Parquet,
}

impl Format {
    /// The file extension (and the format's name in reports).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The format of `bytes`: Parquet by its magic bytes, anything else is read as CSV.
    pub fn of(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PAR1") {
            Format::Parquet
        } else {
            Format::Csv
        }
    }

    /// The format a file's name claims by its extension, if any.
    pub fn claimed(file: &str) -> Option<Format> {
        let extension = file.rsplit_once('.')?.1.to_ascii_lowercase();
        [Format::Csv, Format::Parquet].into_iter().find(|f| f.extension() == extension)
    }
}

/// `value` as a CSV cell a spreadsheet shows as text: one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return (read as a formula by Excel, LibreOffice and Google
/// Sheets) gets a leading `'`; numbers, negative ones included, stay as they are.
pub fn spreadsheet_safe(value: &str) -> Cow<'_, str> {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err();
    match risky {
        true => Cow::Owned(format!("'{value}")),
        false => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("+47 22"), "'+47 22");
        assert_eq!(spreadsheet_safe("-1.5"), "-1.5");
        assert_eq!(spreadsheet_safe("Diarrhea"), "Diarrhea");
    }

    #[test]
    fn the_format_is_told_by_content_and_claimed_by_name() {
        assert_eq!(Format::of(b"PAR1...."), Format::Parquet);
        assert_eq!(Format::of(b"USUBJID,SEX"), Format::Csv);
        assert_eq!(Format::claimed("rs.PARQUET"), Some(Format::Parquet));
        assert_eq!(Format::claimed("rs"), None);
    }
}
