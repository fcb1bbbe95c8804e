//! A [`Trial`] as import files: one per domain, the columns of `docs/import.md`, ids
//! replaced by the natural keys the files refer by. Importing an export into an empty
//! database stores the same trial (the round trip the tests check).

use std::collections::HashMap;
use std::io::Write;

use chrono::NaiveDate;
use consortium_entity::{ResponseCriteria, Sex, Trial};
use polars::prelude::*;
use sea_orm::ActiveEnum;

use crate::format::spreadsheet_safe;
pub use crate::format::Format;
use crate::import::Domain;

/// One domain's rows as text columns, in [`Domain::columns`] order.
type Columns = Vec<Vec<Option<String>>>;

/// One row of an export file, its cells in [`Domain::columns`] order.
type Row = Vec<Option<String>>;

/// `trial` as one file per domain, in the order they are imported: (domain, file name,
/// content).
pub fn export(trial: &Trial, format: Format) -> PolarsResult<Vec<(Domain, String, Vec<u8>)>> {
    let tables = Tables::of(trial);
    Domain::ALL
        .into_iter()
        .map(|domain| {
            let bytes = encode(domain, tables.columns(domain), format)?;
            Ok((domain, format!("{}.{}", domain.name(), format.extension()), bytes))
        })
        .collect()
}

fn encode(domain: Domain, mut columns: Columns, format: Format) -> PolarsResult<Vec<u8>> {
    let height = columns.first().map_or(0, Vec::len);
    if format == Format::Csv {
        for value in columns.iter_mut().flatten().flatten() {
            if let std::borrow::Cow::Owned(safe) = spreadsheet_safe(value) {
                *value = safe;
            }
        }
    }
    let columns =
        domain.columns().iter().zip(columns).map(|(c, values)| Column::new(c.name.into(), values)).collect::<Vec<_>>();
    let mut frame = DataFrame::new(height, columns)?;
    let mut bytes = Vec::new();
    match format {
        Format::Csv => CsvWriter::new(&mut bytes).include_header(true).finish(&mut frame)?,
        Format::Parquet => {
            ParquetWriter::new(&mut bytes).finish(&mut frame)?;
        }
    }
    bytes.flush()?;
    Ok(bytes)
}

fn text(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

fn date(value: NaiveDate) -> Option<String> {
    text(value.format("%Y-%m-%d"))
}

fn flag(value: bool) -> Option<String> {
    text(if value { "Y" } else { "N" })
}

fn code<E: ActiveEnum<Value = String>>(value: E) -> Option<String> {
    Some(value.to_value())
}

/// The trial with the lookups from ids to natural keys.
struct Tables<'t> {
    trial: &'t Trial,
    partner: HashMap<i32, &'t str>,
    site: HashMap<i32, &'t str>,
    drug: HashMap<i32, &'t str>,
    cohort: HashMap<i32, &'t str>,
    patient: HashMap<i32, &'t str>,
    sample: HashMap<i32, &'t str>,
    patient_of_enrolment: HashMap<i32, &'t str>,
}

impl<'t> Tables<'t> {
    fn of(trial: &'t Trial) -> Self {
        let patient: HashMap<i32, &str> = trial.patients.iter().map(|p| (p.id, p.pseudonym.as_str())).collect();
        Tables {
            trial,
            partner: trial.partners.iter().map(|p| (p.id, p.code.as_str())).collect(),
            site: trial.sites.iter().map(|s| (s.id, s.code.as_str())).collect(),
            drug: trial.drugs.iter().map(|d| (d.id, d.code.as_str())).collect(),
            cohort: trial.cohorts.iter().map(|c| (c.id, c.code.as_str())).collect(),
            sample: trial.profiles.iter().map(|p| (p.id, p.sample_id.as_str())).collect(),
            patient_of_enrolment: trial.enrolments.iter().map(|e| (e.id, patient[&e.patient_id])).collect(),
            patient,
        }
    }

    fn key(map: &HashMap<i32, &str>, id: i32) -> Option<String> {
        map.get(&id).map(|k| (*k).to_owned())
    }

    /// The rows of `domain`, as text columns in [`Domain::columns`] order.
    fn columns(&self, domain: Domain) -> Columns {
        let rows = match domain {
            Domain::Partners => self.partners(),
            Domain::Sites => self.sites(),
            Domain::Drugs => self.drugs(),
            Domain::Cohorts => self.cohorts(),
            Domain::Dm => self.demographics(),
            Domain::Profiles => self.profiles(),
            Domain::Variants => self.variants(),
            Domain::Ds => self.reviews(),
            Domain::Ex => self.enrolments(),
            Domain::Rs => self.responses(),
            Domain::Ae => self.adverse_events(),
            Domain::Ss => self.followups(),
        };
        transpose(rows, domain.columns().len())
    }

    fn partners(&self) -> Vec<Row> {
        self.trial
            .partners
            .iter()
            .map(|p| vec![text(&p.code), text(&p.name), code(p.kind), text(&p.org_number), p.scopes.clone()])
            .collect()
    }

    fn sites(&self) -> Vec<Row> {
        self.trial
            .sites
            .iter()
            .map(|s| {
                let partner = Self::key(&self.partner, s.partner_id);
                vec![text(&s.code), text(&s.name), code(s.region), partner, flag(s.inpred_node)]
            })
            .collect()
    }

    fn drugs(&self) -> Vec<Row> {
        self.trial
            .drugs
            .iter()
            .map(|d| vec![text(&d.code), text(&d.name), text(&d.mechanism), Self::key(&self.partner, d.supplier_id)])
            .collect()
    }

    fn cohorts(&self) -> Vec<Row> {
        self.trial
            .cohorts
            .iter()
            .map(|c| {
                vec![
                    text(&c.code),
                    text(&c.name),
                    text(&c.oncotree_code),
                    text(&c.gene),
                    code(c.alteration_class),
                    Self::key(&self.drug, c.drug_id),
                    text(c.design_r1),
                    text(c.design_n1),
                    text(c.design_r),
                    text(c.design_n),
                    code(c.status),
                    date(c.opened_on),
                    c.closed_on.and_then(date),
                ]
            })
            .collect()
    }

    fn demographics(&self) -> Vec<Row> {
        self.trial
            .patients
            .iter()
            .map(|p| {
                let sex = match p.sex {
                    Sex::Female => "F",
                    Sex::Male => "M",
                };
                vec![
                    text(&p.pseudonym),
                    text(sex),
                    text(p.birth_year),
                    code(p.region),
                    Self::key(&self.site, p.referring_site_id),
                    date(p.referral_date),
                ]
            })
            .collect()
    }

    fn profiles(&self) -> Vec<Row> {
        self.trial
            .profiles
            .iter()
            .map(|p| {
                vec![
                    Self::key(&self.patient, p.patient_id),
                    text(&p.sample_id),
                    text(&p.panel),
                    Self::key(&self.site, p.sequencing_site_id),
                    date(p.sample_date),
                    text(&p.oncotree_code),
                    text(&p.icd10),
                    text(p.tmb),
                    code(p.msi_status),
                ]
            })
            .collect()
    }

    fn variants(&self) -> Vec<Row> {
        self.trial
            .variants
            .iter()
            .map(|v| {
                vec![
                    Self::key(&self.sample, v.profile_id),
                    text(&v.gene),
                    code(v.alteration_class),
                    v.protein_change.clone(),
                    code(v.escat_tier),
                ]
            })
            .collect()
    }

    fn reviews(&self) -> Vec<Row> {
        self.trial
            .reviews
            .iter()
            .map(|r| {
                vec![
                    Self::key(&self.patient, r.patient_id),
                    date(r.review_date),
                    code(r.outcome),
                    r.recommended_cohort_id.and_then(|c| Self::key(&self.cohort, c)),
                    r.evidence_tier.and_then(code),
                ]
            })
            .collect()
    }

    fn enrolments(&self) -> Vec<Row> {
        self.trial
            .enrolments
            .iter()
            .map(|e| {
                vec![
                    Self::key(&self.patient, e.patient_id),
                    Self::key(&self.cohort, e.cohort_id),
                    Self::key(&self.site, e.site_id),
                    date(e.enrolled_on),
                    code(e.cohort_stage),
                    e.treatment_start.and_then(date),
                    e.treatment_end.and_then(date),
                    e.end_reason.and_then(code),
                ]
            })
            .collect()
    }

    fn responses(&self) -> Vec<Row> {
        self.trial
            .assessments
            .iter()
            .map(|a| {
                let criteria = match a.criteria {
                    ResponseCriteria::Recist11 => text("RECIST 1.1"),
                    other => code(other),
                };
                vec![
                    Self::key(&self.patient_of_enrolment, a.enrolment_id),
                    date(a.assessment_date),
                    text("OVRLRESP"),
                    code(a.response),
                    criteria,
                ]
            })
            .collect()
    }

    fn adverse_events(&self) -> Vec<Row> {
        self.trial
            .adverse_events
            .iter()
            .map(|a| {
                vec![
                    Self::key(&self.patient_of_enrolment, a.enrolment_id),
                    text(&a.ctcae_term),
                    text(&a.organ_class),
                    text(a.grade),
                    date(a.onset_date),
                    flag(a.related),
                    flag(a.serious),
                ]
            })
            .collect()
    }

    fn followups(&self) -> Vec<Row> {
        self.trial
            .followups
            .iter()
            .map(|f| {
                vec![
                    Self::key(&self.patient, f.patient_id),
                    code(f.vital_status),
                    date(f.status_date),
                    f.death_date.and_then(date),
                    code(f.source),
                ]
            })
            .collect()
    }
}

fn transpose(rows: Vec<Row>, width: usize) -> Columns {
    let mut columns: Columns = (0..width).map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (column, value) in columns.iter_mut().zip(row) {
            column.push(value);
        }
    }
    columns
}
