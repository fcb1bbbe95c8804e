//! Whose patients a submitter may send rows about, decided from what is stored before
//! any row is read.
//!
//! A hospital (rights limited to its sites) owns the patients its sites referred or
//! treat *as stored*, and the patients its own demographics rows add in the same import
//! (each such row names one of its sites). Nothing else: a row about any other patient
//! gets [`Code::NotOwnSite`](super::Code::NotOwnSite) and nothing more, the same problem
//! as a pseudonym nobody has, so a report never tells what is stored about another
//! hospital's patient, or whether it exists. Ownership comes from the stored rows only,
//! never from what the row itself says: an enrolment at the submitter's site does not
//! make another hospital's patient its own.
//!
//! An import never moves a patient between sites for a submitter limited to its sites:
//! changing a stored patient's referring site or a stored enrolment's treating site
//! ("re-homing") is refused ([`Code::Rehoming`](super::Code::Rehoming)). The operator
//! and `admin` may re-home; the report counts it, and the count goes on record.

use std::collections::HashSet;

use consortium_entity::{patient, PartnerKind};

use super::world::World;
use super::{Rights, SiteData};

/// A submitter's reach over patients.
#[derive(Debug)]
pub(super) enum Access {
    /// Every patient (the operator, `admin`, and the registry for follow-up).
    Everyone,
    /// A hospital's: its sites, and the stored patients they referred or treat.
    Sites {
        /// The hospital's sites (ids).
        sites: HashSet<i32>,
        /// The stored patients it owns (ids).
        patients: HashSet<i32>,
    },
}

impl Access {
    /// The reach of a submitter with `rights` over `world` as loaded (nothing staged).
    pub fn of(rights: &Rights, world: &World) -> Self {
        let SiteData::OfPartner(code) = &rights.site_data else {
            return Access::Everyone;
        };
        let partner = world.partners.get(code).filter(|p| p.kind == PartnerKind::Hospital).map(|p| p.id);
        let sites: HashSet<i32> = world.sites.iter().filter(|s| Some(s.partner_id) == partner).map(|s| s.id).collect();
        let mut patients: HashSet<i32> =
            world.patients.iter().filter(|p| sites.contains(&p.referring_site_id)).map(|p| p.id).collect();
        patients.extend(world.enrolments.iter().filter(|e| sites.contains(&e.site_id)).map(|e| e.patient_id));
        Access::Sites { sites, patients }
    }

    /// Whether site `site_id` is one of the submitter's (every site is, when its
    /// rights are not limited to sites).
    pub fn site(&self, site_id: i32) -> bool {
        match self {
            Access::Everyone => true,
            Access::Sites { sites, .. } => sites.contains(&site_id),
        }
    }

    /// Whether the submitter may send rows about `patient` (stored, or staged by this
    /// import).
    pub fn owns(&self, world: &World, patient: &patient::Model) -> bool {
        match self {
            Access::Everyone => true,
            Access::Sites { patients, .. } => {
                patients.contains(&patient.id) || world.patients.is_inserted(&patient.pseudonym)
            }
        }
    }

    /// Whether the submitter may move a patient between sites.
    pub fn may_rehome(&self) -> bool {
        matches!(self, Access::Everyone)
    }

    /// Whether the submitter's rights are limited to its sites.
    pub fn is_limited(&self) -> bool {
        matches!(self, Access::Sites { .. })
    }
}
