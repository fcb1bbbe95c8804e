//! The trial as stored, loaded in the import's transaction, indexed by natural key, with
//! the import's rows staged on top: a row with a stored key replaces the stored row (or
//! is found equal to it), a row with a new key gets the next id. Validation reads the
//! staged world, so rows may refer to rows arriving in the same import; writing sends
//! only what changed.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use consortium_entity::{
    adverse_event, cohort, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant, AlterationClass,
};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable,
    PrimaryKeyToColumn, QueryOrder,
};

use crate::batch::{insert_all, parameter_limit, sync_sequences};

/// A stored model with a surrogate id.
pub trait Identified: Clone + PartialEq {
    /// The id.
    fn id(&self) -> i32;
    /// Sets the id.
    fn set_id(&mut self, id: i32);
}

macro_rules! identified {
    ($($module:ident),+) => {$(
        impl Identified for $module::Model {
            fn id(&self) -> i32 {
                self.id
            }
            fn set_id(&mut self, id: i32) {
                self.id = id;
            }
        }
    )+};
}

identified!(
    partner,
    site,
    drug,
    cohort,
    patient,
    molecular_profile,
    variant,
    mtb_review,
    enrolment,
    response_assessment,
    adverse_event,
    followup
);

/// Where an incoming row came from: the file (its index among the import's files)
/// and the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The file's index in the report.
    pub file: usize,
    /// The line (the header is line 1).
    pub line: usize,
}

/// What staging a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staged {
    /// A new row.
    Inserted,
    /// A stored row (or one staged earlier) changed.
    Updated,
    /// Equal to the stored row.
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Stored,
    Inserted,
    Updated,
}

/// One table: its rows, by natural key, with where each incoming row came from and the
/// stored version of every row the import changes.
#[derive(Debug)]
pub struct Keyed<K, M> {
    rows: Vec<M>,
    state: Vec<State>,
    origin: Vec<Option<Origin>>,
    replaced: HashMap<usize, M>,
    index: HashMap<K, usize>,
    next_id: i32,
}

impl<K: Eq + Hash, M: Identified> Keyed<K, M> {
    fn load(rows: Vec<M>, key: impl Fn(&M) -> K) -> Self {
        let next_id = rows.iter().map(Identified::id).max().unwrap_or(0) + 1;
        let index = rows.iter().enumerate().map(|(i, m)| (key(m), i)).collect();
        Keyed {
            state: vec![State::Stored; rows.len()],
            origin: vec![None; rows.len()],
            rows,
            replaced: HashMap::new(),
            index,
            next_id,
        }
    }

    /// The row with natural key `key`.
    pub fn get(&self, key: &K) -> Option<&M> {
        self.index.get(key).map(|i| &self.rows[*i])
    }

    fn entry_at(&self, i: usize) -> Entry<'_, M> {
        let stored = match self.state[i] {
            State::Stored => Some(&self.rows[i]),
            State::Updated => self.replaced.get(&i),
            State::Inserted => None,
        };
        Entry { row: &self.rows[i], origin: self.origin[i], stored }
    }

    /// Every row with where it came from and what it replaced.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_, M>> {
        (0..self.rows.len()).map(|i| self.entry_at(i))
    }

    /// Whether the row with natural key `key` is new in this import.
    pub fn is_inserted(&self, key: &K) -> bool {
        self.index.get(key).is_some_and(|&i| self.state[i] == State::Inserted)
    }

    /// Every row, stored or staged.
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.rows.iter()
    }

    /// Stages `model` under `key`, sent from `origin` (none for a row the import derives
    /// from others): it keeps the id of the row with that key, or gets a new one.
    /// Returns what that did and the row's id.
    pub fn stage(&mut self, key: K, mut model: M, origin: Option<Origin>) -> (Staged, i32) {
        match self.index.get(&key) {
            Some(&i) => {
                let id = self.rows[i].id();
                model.set_id(id);
                if origin.is_some() {
                    self.origin[i] = origin;
                }
                if self.rows[i] == model {
                    return (Staged::Unchanged, id);
                }
                let before = std::mem::replace(&mut self.rows[i], model);
                if self.state[i] == State::Stored {
                    self.state[i] = State::Updated;
                    self.replaced.insert(i, before);
                }
                (Staged::Updated, id)
            }
            None => {
                let id = self.next_id;
                self.next_id += 1;
                model.set_id(id);
                self.index.insert(key, self.rows.len());
                self.rows.push(model);
                self.state.push(State::Inserted);
                self.origin.push(origin);
                (Staged::Inserted, id)
            }
        }
    }

    fn changed(&self, wanted: State) -> Vec<M> {
        self.rows.iter().zip(&self.state).filter(|(_, s)| **s == wanted).map(|(m, _)| m.clone()).collect()
    }

    fn is_changed(&self) -> bool {
        self.state.iter().any(|s| *s != State::Stored)
    }
}

/// A row of a [`Keyed`] table as the import sees it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a, M> {
    /// The row, as staged.
    pub row: &'a M,
    /// Where the import sent it from; none for a stored row the import did not send.
    pub origin: Option<Origin>,
    /// The stored row it replaces (itself when unchanged); none for a new row.
    pub stored: Option<&'a M>,
}

/// A variant's natural key: profile, gene, alteration class and protein change.
pub type VariantKey = (i32, String, AlterationClass, Option<String>);

/// An adverse event's natural key: enrolment, term, onset and grade.
pub type AdverseEventKey = (i32, String, NaiveDate, i32);

/// The whole trial, stored and staged.
#[derive(Debug)]
pub struct World {
    /// By code.
    pub partners: Keyed<String, partner::Model>,
    /// By code.
    pub sites: Keyed<String, site::Model>,
    /// By code.
    pub drugs: Keyed<String, drug::Model>,
    /// By code.
    pub cohorts: Keyed<String, cohort::Model>,
    /// By pseudonym.
    pub patients: Keyed<String, patient::Model>,
    /// By patient id.
    pub profiles: Keyed<i32, molecular_profile::Model>,
    /// By profile, gene, class and protein change.
    pub variants: Keyed<VariantKey, variant::Model>,
    /// By patient id.
    pub reviews: Keyed<i32, mtb_review::Model>,
    /// By patient id.
    pub enrolments: Keyed<i32, enrolment::Model>,
    /// By enrolment id and date.
    pub assessments: Keyed<(i32, NaiveDate), response_assessment::Model>,
    /// By enrolment id, term, onset and grade.
    pub adverse_events: Keyed<AdverseEventKey, adverse_event::Model>,
    /// By patient id.
    pub followups: Keyed<i32, followup::Model>,
}

async fn all<E, C>(db: &C) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    // By primary key, so ids are handed out after the largest.
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    query.all(db).await
}

impl World {
    /// Loads every table from `db` (the import's transaction).
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<World, DbErr> {
        Ok(World {
            partners: Keyed::load(all::<partner::Entity, _>(db).await?, |m| m.code.clone()),
            sites: Keyed::load(all::<site::Entity, _>(db).await?, |m| m.code.clone()),
            drugs: Keyed::load(all::<drug::Entity, _>(db).await?, |m| m.code.clone()),
            cohorts: Keyed::load(all::<cohort::Entity, _>(db).await?, |m| m.code.clone()),
            patients: Keyed::load(all::<patient::Entity, _>(db).await?, |m| m.pseudonym.clone()),
            profiles: Keyed::load(all::<molecular_profile::Entity, _>(db).await?, |m| m.patient_id),
            variants: Keyed::load(all::<variant::Entity, _>(db).await?, |m| {
                (m.profile_id, m.gene.clone(), m.alteration_class, m.protein_change.clone())
            }),
            reviews: Keyed::load(all::<mtb_review::Entity, _>(db).await?, |m| m.patient_id),
            enrolments: Keyed::load(all::<enrolment::Entity, _>(db).await?, |m| m.patient_id),
            assessments: Keyed::load(all::<response_assessment::Entity, _>(db).await?, |m| {
                (m.enrolment_id, m.assessment_date)
            }),
            adverse_events: Keyed::load(all::<adverse_event::Entity, _>(db).await?, |m| {
                (m.enrolment_id, m.ctcae_term.clone(), m.onset_date, m.grade)
            }),
            followups: Keyed::load(all::<followup::Entity, _>(db).await?, |m| m.patient_id),
        })
    }

    /// Whether anything was staged that differs from what is stored.
    pub fn is_changed(&self) -> bool {
        self.partners.is_changed()
            || self.sites.is_changed()
            || self.drugs.is_changed()
            || self.cohorts.is_changed()
            || self.patients.is_changed()
            || self.profiles.is_changed()
            || self.variants.is_changed()
            || self.reviews.is_changed()
            || self.enrolments.is_changed()
            || self.assessments.is_changed()
            || self.adverse_events.is_changed()
            || self.followups.is_changed()
    }

    /// Writes what was staged to `db` (the import's transaction), table by table in
    /// foreign-key order: new rows in multi-row inserts, changed rows by id.
    pub async fn write<C: ConnectionTrait>(&self, db: &C) -> Result<(), DbErr> {
        let limit = parameter_limit(db.get_database_backend());
        write::<partner::Entity, _, _>(db, &self.partners, limit).await?;
        write::<site::Entity, _, _>(db, &self.sites, limit).await?;
        write::<patient::Entity, _, _>(db, &self.patients, limit).await?;
        write::<molecular_profile::Entity, _, _>(db, &self.profiles, limit).await?;
        write::<variant::Entity, _, _>(db, &self.variants, limit).await?;
        write::<drug::Entity, _, _>(db, &self.drugs, limit).await?;
        write::<cohort::Entity, _, _>(db, &self.cohorts, limit).await?;
        write::<mtb_review::Entity, _, _>(db, &self.reviews, limit).await?;
        write::<enrolment::Entity, _, _>(db, &self.enrolments, limit).await?;
        write::<response_assessment::Entity, _, _>(db, &self.assessments, limit).await?;
        write::<adverse_event::Entity, _, _>(db, &self.adverse_events, limit).await?;
        write::<followup::Entity, _, _>(db, &self.followups, limit).await?;
        sync_sequences(db).await
    }
}

async fn write<E, K, C>(db: &C, table: &Keyed<K, E::Model>, limit: usize) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: Identified + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    K: Eq + Hash,
    C: ConnectionTrait,
{
    insert_all::<E, C>(db, &table.changed(State::Inserted), limit).await?;
    for model in table.changed(State::Updated) {
        model.into_active_model().reset_all().update(db).await?;
    }
    Ok(())
}
