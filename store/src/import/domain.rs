//! The import domains: one file per domain, its columns, its natural key and who may
//! send it. `docs/import.md` documents the same columns for the people preparing files.

use std::fmt;

/// One kind of import file. [`Domain::ALL`] is the order files are applied in: every
/// domain refers only to domains before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// Catalogue: consortium members (hospitals, the registry, companies, academia).
    Partners,
    /// Catalogue: treating sites of the hospitals.
    Sites,
    /// Catalogue: study drugs and their suppliers.
    Drugs,
    /// Catalogue: cohorts (tumour type × alteration × drug) with their two-stage design.
    Cohorts,
    /// SDTM DM: demographics and referral of every patient.
    Dm,
    /// InPreD molecular profiles (one per patient).
    Profiles,
    /// InPreD variants of the profiles.
    Variants,
    /// SDTM DS: the molecular tumour board's review and decision.
    Ds,
    /// SDTM EX: enrolment into a cohort and treatment.
    Ex,
    /// SDTM RS: overall response assessments.
    Rs,
    /// SDTM AE: adverse events.
    Ae,
    /// SDTM SS: survival status (follow-up, from the registry or the site).
    Ss,
}

/// Who may send a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steward {
    /// The consortium's administration (`admin`).
    Catalogue,
    /// A hospital for its own site's patients (`data:write`).
    Site,
    /// The registry (`followup:write`), or a hospital for its own patients.
    FollowUp,
}

impl Steward {
    /// The scope a submitter needs.
    pub fn scope(self) -> &'static str {
        match self {
            Steward::Catalogue => "admin",
            Steward::Site => "data:write",
            Steward::FollowUp => "followup:write or data:write",
        }
    }
}

/// A column of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header, as in the file (SDTM's name where one exists).
    pub name: &'static str,
    /// Whether every row must have a value.
    pub required: bool,
}

/// A required column (a literal, so the domains' column lists are constants).
macro_rules! req {
    ($name:literal) => {
        Column { name: $name, required: true }
    };
}

/// An optional column.
macro_rules! opt {
    ($name:literal) => {
        Column { name: $name, required: false }
    };
}

impl Domain {
    /// Every domain, in the order they are applied.
    pub const ALL: [Domain; 12] = [
        Domain::Partners,
        Domain::Sites,
        Domain::Drugs,
        Domain::Cohorts,
        Domain::Dm,
        Domain::Profiles,
        Domain::Variants,
        Domain::Ds,
        Domain::Ex,
        Domain::Rs,
        Domain::Ae,
        Domain::Ss,
    ];

    /// The domain's name on the command line, in the API and as a file stem.
    pub fn name(self) -> &'static str {
        match self {
            Domain::Partners => "partners",
            Domain::Sites => "sites",
            Domain::Drugs => "drugs",
            Domain::Cohorts => "cohorts",
            Domain::Dm => "dm",
            Domain::Profiles => "profiles",
            Domain::Variants => "variants",
            Domain::Ds => "ds",
            Domain::Ex => "ex",
            Domain::Rs => "rs",
            Domain::Ae => "ae",
            Domain::Ss => "ss",
        }
    }

    /// The domain called `name` (any case).
    pub fn named(name: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.name().eq_ignore_ascii_case(name))
    }

    /// Every domain's name, comma-separated: for help texts and error messages.
    pub fn names() -> String {
        Domain::ALL.map(Domain::name).join(", ")
    }

    /// Who may send it.
    pub fn steward(self) -> Steward {
        match self {
            Domain::Partners | Domain::Sites | Domain::Drugs | Domain::Cohorts => Steward::Catalogue,
            Domain::Ss => Steward::FollowUp,
            _ => Steward::Site,
        }
    }

    /// Whether its rows are about patients (and so must never carry a direct identifier).
    pub fn is_about_patients(self) -> bool {
        self.steward() != Steward::Catalogue
    }

    /// Its columns, in the order an export writes them.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Domain::Partners => &[req!("CODE"), req!("NAME"), req!("KIND"), req!("ORGNR"), opt!("SCOPES")],
            Domain::Sites => &[req!("SITEID"), req!("NAME"), req!("REGION"), req!("PARTNER"), req!("INPRED")],
            Domain::Drugs => &[req!("DRUG"), req!("NAME"), req!("MECHANISM"), req!("SUPPLIER")],
            Domain::Cohorts => &[
                req!("COHORT"),
                req!("NAME"),
                req!("ONCOTREE"),
                req!("GENE"),
                req!("ALTCLASS"),
                req!("DRUG"),
                req!("R1"),
                req!("N1"),
                req!("R"),
                req!("N"),
                req!("STATUS"),
                req!("OPENDTC"),
                opt!("CLOSEDTC"),
            ],
            Domain::Dm => {
                &[req!("USUBJID"), req!("SEX"), req!("BRTHDTC"), req!("REGION"), req!("SITEID"), req!("RFICDTC")]
            }
            Domain::Profiles => &[
                req!("USUBJID"),
                req!("SAMPLEID"),
                req!("PANEL"),
                req!("SEQSITE"),
                req!("SAMPLEDTC"),
                req!("ONCOTREE"),
                req!("ICD10"),
                req!("TMB"),
                req!("MSI"),
            ],
            Domain::Variants => &[req!("SAMPLEID"), req!("GENE"), req!("ALTCLASS"), opt!("PCHANGE"), req!("ESCAT")],
            Domain::Ds => &[req!("USUBJID"), req!("DSSTDTC"), req!("DSDECOD"), opt!("COHORT"), opt!("ESCAT")],
            Domain::Ex => &[
                req!("USUBJID"),
                req!("COHORT"),
                req!("SITEID"),
                req!("ENRLDTC"),
                req!("STAGE"),
                opt!("EXSTDTC"),
                opt!("EXENDTC"),
                opt!("EXENRSN"),
            ],
            Domain::Rs => &[req!("USUBJID"), req!("RSDTC"), req!("RSTESTCD"), req!("RSORRES"), req!("RSCAT")],
            Domain::Ae => &[
                req!("USUBJID"),
                req!("AETERM"),
                req!("AESOC"),
                req!("AETOXGR"),
                req!("AESTDTC"),
                req!("AEREL"),
                req!("AESER"),
            ],
            Domain::Ss => &[req!("USUBJID"), req!("SSSTRESC"), req!("SSDTC"), opt!("DTHDTC"), req!("SSSRC")],
        }
    }

    /// The columns that make a row's natural key: a row with the key of a stored row
    /// updates it.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Domain::Partners => &["CODE"],
            Domain::Sites => &["SITEID"],
            Domain::Drugs => &["DRUG"],
            Domain::Cohorts => &["COHORT"],
            Domain::Dm | Domain::Profiles | Domain::Ds | Domain::Ex | Domain::Ss => &["USUBJID"],
            Domain::Variants => &["SAMPLEID", "GENE", "ALTCLASS", "PCHANGE"],
            Domain::Rs => &["USUBJID", "RSDTC"],
            Domain::Ae => &["USUBJID", "AETERM", "AESTDTC", "AETOXGR"],
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_keys_are_columns() {
        for domain in Domain::ALL {
            assert_eq!(Domain::named(domain.name()), Some(domain));
            assert_eq!(Domain::named(&domain.name().to_uppercase()), Some(domain));
            for key in domain.key() {
                assert!(domain.columns().iter().any(|c| c.name == *key), "{domain}: key {key} is no column");
            }
        }
        assert_eq!(Domain::named("tu"), None);
    }

    #[test]
    fn the_import_guide_documents_every_column_of_every_domain() {
        let guide = include_str!("../../../docs/import.md");
        for domain in Domain::ALL {
            let section = format!("### `{}`", domain.name());
            let start = guide.find(&section).unwrap_or_else(|| panic!("docs/import.md has no section {section}"));
            let rest = &guide[start + section.len()..];
            let body = &rest[..rest.find("\n### ").unwrap_or(rest.len())];
            for column in domain.columns() {
                assert!(
                    body.contains(&format!("| `{}` |", column.name)),
                    "{domain}: column {} undocumented",
                    column.name
                );
            }
        }
    }
}
