//! The `Date` scalar: a calendar day, `YYYY-MM-DD`.
//!
//! Its parse error names the value (cut to a sane length) and carries
//! `BAD_USER_INPUT` itself: arguments are parsed when a field resolves, after
//! validation, so this is where a malformed date is known to be the caller's.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use consortium_analytics::error::echo;

use crate::error::Code;

/// A calendar day, `YYYY-MM-DD` (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (ISO 8601; RFC 3339's `full-date`).
#[Scalar(name = "Date", specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| format!("'{}' is not a date (YYYY-MM-DD)", echo(text))),
            other => Err(format!("{} is not a date (YYYY-MM-DD)", echo(&other.to_string()))),
        };
        parsed.map_err(|message| InputValueError::custom(message).with_extension("code", Code::BadUserInput.as_str()))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(day: NaiveDate) -> Self {
        Date(day)
    }
}
