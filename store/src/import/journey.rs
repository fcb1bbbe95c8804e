//! Every patient's whole journey after the import, checked once all files are staged:
//! the stored rows and the incoming ones together, so the order of imports never changes
//! what is accepted (a response sent after the death is on record is refused just as it
//! would be in one import with it).
//!
//! **Date order.** A journey runs referral → sample → tumour board → enrolment →
//! treatment start → (assessments, adverse events, treatment end) → death; each step is
//! on or after every earlier one. A problem is reported on an incoming row only: on the
//! later one when it comes before something earlier, otherwise on the earlier one when
//! it comes after something stored later. Stored rows are never blamed.
//!
//! **Vital status.** A follow-up row may not take back what is on record: turn a death
//! back to alive, change a date of death, move the last date known alive back, or date a
//! death before it. Those are corrections: accepted only in an import that says it is
//! one ([`Options::correction`](super::Options::correction)), counted in its report and
//! on record.
//!
//! **Study weeks.** A response's study week is counted from treatment start; when an
//! import moves a treatment start, the stored responses get their weeks again.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use consortium_entity::{followup, VitalStatus};

use super::report::{Code, FileSummary, Problem, Problems};
use super::rows::study_week;
use super::world::{Entry, Origin, World};

/// One dated step of a journey.
#[derive(Debug, Clone, Copy)]
struct Step {
    date: NaiveDate,
    origin: Option<Origin>,
    column: &'static str,
    what: &'static str,
}

impl Step {
    fn of<M>(entry: &Entry<'_, M>, date: NaiveDate, column: &'static str, what: &'static str) -> Step {
        Step { date, origin: entry.origin, column, what }
    }
}

/// Where problems go: the import's files by index.
struct Findings<'a> {
    files: &'a [FileSummary],
    problems: &'a mut Problems,
}

impl Findings<'_> {
    fn at(&mut self, origin: Origin, column: &str, value: &str, code: Code, message: String) {
        let file = self.files.get(origin.file).map_or("", |f| f.file.as_str());
        self.problems.push(Problem::at(file, origin.line, Some(column), Some(value), code, message));
    }

    fn order(&mut self, step: &Step, message: String) {
        if let Some(origin) = step.origin {
            self.at(origin, step.column, &step.date.to_string(), Code::DateOrder, message);
        }
    }
}

/// A patient's journey as ordered stages: every step of a stage is on or after every
/// step of the stages before it.
#[derive(Debug, Default)]
struct Journey {
    stages: [Vec<Step>; 7],
}

const REFERRAL: usize = 0;
const SAMPLE: usize = 1;
const REVIEW: usize = 2;
const ENROLMENT: usize = 3;
const START: usize = 4;
const TREATED: usize = 5;
const DEATH: usize = 6;

impl Journey {
    /// Reports every pair out of order with an incoming step in it, once per step and
    /// direction (see the module documentation).
    fn check(&self, findings: &mut Findings<'_>) {
        let mut latest: Option<Step> = None;
        for (s, stage) in self.stages.iter().enumerate() {
            if let Some(earlier) = latest {
                for step in stage.iter().filter(|step| step.date < earlier.date) {
                    findings.order(step, format!("before {} ({})", earlier.what, earlier.date));
                }
            }
            let stored_later = self.stages[s + 1..].iter().flatten().filter(|step| step.origin.is_none());
            if let Some(first) = stored_later.min_by_key(|step| step.date) {
                for step in stage.iter().filter(|step| step.date > first.date) {
                    findings.order(step, format!("after {} on record ({})", first.what, first.date));
                }
            }
            latest = stage.iter().chain(latest.as_ref()).max_by_key(|step| step.date).copied();
        }
    }
}

/// Checks every journey with an incoming row (see the module documentation); counts
/// the corrections of vital status it accepts. Moves stored responses' study weeks with
/// their treatment start.
pub(super) fn check(world: &mut World, correction: bool, files: &[FileSummary], problems: &mut Problems) -> u64 {
    let mut findings = Findings { files, problems };
    let touched = touched(world);
    let mut journeys: HashMap<i32, Journey> = touched.iter().map(|p| (*p, Journey::default())).collect();
    let mut step = |patient: i32, stage: usize, step: Step| {
        if let Some(journey) = journeys.get_mut(&patient) {
            journey.stages[stage].push(step);
        }
    };
    for e in world.patients.entries() {
        step(e.row.id, REFERRAL, Step::of(&e, e.row.referral_date, "RFICDTC", "referral"));
    }
    for e in world.profiles.entries() {
        step(e.row.patient_id, SAMPLE, Step::of(&e, e.row.sample_date, "SAMPLEDTC", "the sample"));
    }
    for e in world.reviews.entries() {
        step(e.row.patient_id, REVIEW, Step::of(&e, e.row.review_date, "DSSTDTC", "the tumour board's review"));
    }
    let mut patient_of = HashMap::new();
    for e in world.enrolments.entries().filter(|e| touched.contains(&e.row.patient_id)) {
        patient_of.insert(e.row.id, e.row.patient_id);
        step(e.row.patient_id, ENROLMENT, Step::of(&e, e.row.enrolled_on, "ENRLDTC", "enrolment"));
        if let Some(start) = e.row.treatment_start {
            step(e.row.patient_id, START, Step::of(&e, start, "EXSTDTC", "treatment start"));
        }
        if let Some(end) = e.row.treatment_end {
            step(e.row.patient_id, TREATED, Step::of(&e, end, "EXENDTC", "the end of treatment"));
        }
    }
    let mut assessed: HashSet<i32> = HashSet::new();
    for e in world.assessments.entries() {
        if let Some(patient) = patient_of.get(&e.row.enrolment_id) {
            assessed.insert(e.row.enrolment_id);
            step(*patient, TREATED, Step::of(&e, e.row.assessment_date, "RSDTC", "a response assessment"));
        }
    }
    for e in world.adverse_events.entries() {
        if let Some(patient) = patient_of.get(&e.row.enrolment_id) {
            assessed.insert(e.row.enrolment_id);
            step(*patient, TREATED, Step::of(&e, e.row.onset_date, "AESTDTC", "an adverse event's onset"));
        }
    }
    for e in world.followups.entries() {
        if let Some(death) = e.row.death_date {
            step(e.row.patient_id, DEATH, Step::of(&e, death, "DTHDTC", "the death"));
        }
    }
    for journey in journeys.values() {
        journey.check(&mut findings);
    }
    for e in world.enrolments.entries().filter(|e| e.row.treatment_start.is_none() && assessed.contains(&e.row.id)) {
        if let Some(origin) = e.origin {
            let message = "responses or adverse events are on record for this enrolment: it needs its treatment start";
            findings.at(origin, "EXSTDTC", "", Code::Required, message.into());
        }
    }
    let corrected = vital_status(world, correction, &mut findings);
    move_study_weeks(world);
    corrected
}

/// The patients with an incoming row in any table.
fn touched(world: &World) -> HashSet<i32> {
    let mut touched: HashSet<i32> = HashSet::new();
    touched.extend(world.patients.entries().filter(|e| e.origin.is_some()).map(|e| e.row.id));
    touched.extend(world.profiles.entries().filter(|e| e.origin.is_some()).map(|e| e.row.patient_id));
    touched.extend(world.reviews.entries().filter(|e| e.origin.is_some()).map(|e| e.row.patient_id));
    touched.extend(world.followups.entries().filter(|e| e.origin.is_some()).map(|e| e.row.patient_id));
    let mut enrolments: HashSet<i32> = HashSet::new();
    enrolments.extend(world.assessments.entries().filter(|e| e.origin.is_some()).map(|e| e.row.enrolment_id));
    enrolments.extend(world.adverse_events.entries().filter(|e| e.origin.is_some()).map(|e| e.row.enrolment_id));
    for e in world.enrolments.entries() {
        if e.origin.is_some() || enrolments.contains(&e.row.id) {
            touched.insert(e.row.patient_id);
        }
    }
    touched
}

/// What a follow-up row takes back from the one on record, if anything.
fn taken_back(stored: &followup::Model, new: &followup::Model) -> Option<String> {
    match (stored.vital_status, stored.death_date, new.vital_status, new.death_date) {
        (VitalStatus::Dead, Some(died), VitalStatus::Alive, _) => {
            Some(format!("turns the death on record ({died}) back to alive"))
        }
        (VitalStatus::Dead, Some(died), VitalStatus::Dead, Some(now)) if now != died => {
            Some(format!("changes the date of death on record ({died})"))
        }
        (VitalStatus::Alive, _, VitalStatus::Alive, _) if new.status_date < stored.status_date => {
            Some(format!("moves the last date known alive on record ({}) back", stored.status_date))
        }
        (VitalStatus::Alive, _, VitalStatus::Dead, Some(died)) if died < stored.status_date => {
            Some(format!("dates the death before the patient was on record alive ({})", stored.status_date))
        }
        _ => None,
    }
}

/// Refuses follow-up rows that take back what is on record, unless the import is a
/// correction; returns how many it corrects.
fn vital_status(world: &World, correction: bool, findings: &mut Findings<'_>) -> u64 {
    let mut corrected = 0;
    for e in world.followups.entries() {
        let (Some(origin), Some(stored)) = (e.origin, e.stored) else { continue };
        let Some(what) = taken_back(stored, e.row) else { continue };
        if correction {
            corrected += 1;
        } else {
            let message = format!("{what}: send it as a correction (an import marked as one), which is on record");
            findings.at(origin, "SSSTRESC", &e.row.vital_status.code(), Code::CorrectionRequired, message);
        }
    }
    corrected
}

/// Gives the responses of every enrolment whose treatment start the import moved the
/// study week counted from the new start.
fn move_study_weeks(world: &mut World) {
    let moved: HashMap<i32, NaiveDate> = world
        .enrolments
        .entries()
        .filter_map(|e| match (e.stored, e.row.treatment_start) {
            (Some(stored), Some(start)) if stored.treatment_start != Some(start) => Some((e.row.id, start)),
            _ => None,
        })
        .collect();
    if moved.is_empty() {
        return;
    }
    let again: Vec<_> = world
        .assessments
        .iter()
        .filter_map(|a| {
            let start = moved.get(&a.enrolment_id)?;
            let week = study_week(*start, a.assessment_date);
            (week != a.study_week).then(|| {
                let mut moved = a.clone();
                moved.study_week = week;
                moved
            })
        })
        .collect();
    for assessment in again {
        world.assessments.stage((assessment.enrolment_id, assessment.assessment_date), assessment, None);
    }
}
