//! Scopes: what a principal may ask for, field by field, and the grants each kind of
//! partner gets unless its own row says otherwise.

use std::fmt;
use std::str::FromStr;

use consortium_entity::PartnerKind;

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Enrolment, screening funnel, activity and reference data.
    EnrolmentRead,
    /// Response, two-stage monitoring.
    ResponseRead,
    /// Survival and registry outcomes.
    OutcomeRead,
    /// Adverse events.
    SafetyRead,
    /// Molecular profiles (InPreD).
    GenomicsRead,
    /// Pushing registry follow-up.
    FollowupWrite,
    /// Site data management.
    DataWrite,
    /// Reading the audit trail (one's own records; all with `admin`).
    AuditRead,
    /// Administration.
    Admin,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 9] = [
        Scope::EnrolmentRead,
        Scope::ResponseRead,
        Scope::OutcomeRead,
        Scope::SafetyRead,
        Scope::GenomicsRead,
        Scope::FollowupWrite,
        Scope::DataWrite,
        Scope::AuditRead,
        Scope::Admin,
    ];

    /// The scope's wire form, as in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EnrolmentRead => "enrolment:read",
            Scope::ResponseRead => "response:read",
            Scope::OutcomeRead => "outcome:read",
            Scope::SafetyRead => "safety:read",
            Scope::GenomicsRead => "genomics:read",
            Scope::FollowupWrite => "followup:write",
            Scope::DataWrite => "data:write",
            Scope::AuditRead => "audit:read",
            Scope::Admin => "admin",
        }
    }

    /// Every scope's wire form, comma-separated: for help texts and error messages.
    pub fn names() -> String {
        Scope::ALL.map(Scope::as_str).join(", ")
    }

    /// The scope named `name`; `enrollment:read`, the spelling of earlier tokens, is
    /// still accepted for `enrolment:read`.
    pub fn named(name: &str) -> Option<Scope> {
        match name {
            "enrollment:read" => Some(Scope::EnrolmentRead),
            _ => Scope::ALL.into_iter().find(|s| s.as_str() == name),
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u16);

/// A scope string named a scope that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScope(pub String);

impl ScopeSet {
    /// No scope.
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// The set of `scopes`.
    pub fn of(scopes: &[Scope]) -> Self {
        ScopeSet(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `other` is in the set.
    pub fn covers(self, other: ScopeSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The scopes in both sets.
    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// What a partner of `kind` is granted unless its own row overrides it.
    pub fn default_for(kind: PartnerKind) -> ScopeSet {
        use Scope::*;
        let reads = [EnrolmentRead, ResponseRead, OutcomeRead, SafetyRead, GenomicsRead, AuditRead];
        match kind {
            PartnerKind::Hospital => ScopeSet::of(&reads).union(ScopeSet::of(&[DataWrite])),
            PartnerKind::Registry => ScopeSet::of(&reads).union(ScopeSet::of(&[FollowupWrite])),
            PartnerKind::Industry => ScopeSet::of(&[EnrolmentRead, ResponseRead, OutcomeRead, SafetyRead, AuditRead]),
            PartnerKind::Academic => ScopeSet::of(&reads),
        }
    }

    /// The scopes of either set.
    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }
}

impl FromStr for ScopeSet {
    type Err = UnknownScope;

    /// Parses space- (or comma-) separated scopes, as in an OAuth `scope` parameter.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split([' ', ',']).filter(|s| !s.is_empty()).try_fold(ScopeSet::EMPTY, |set, name| {
            Scope::named(name).map(|s| set.union(ScopeSet::of(&[s]))).ok_or_else(|| UnknownScope(name.to_owned()))
        })
    }
}

impl fmt::Display for ScopeSet {
    /// Space-separated, canonical order: the OAuth `scope` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_strings_round_trip() {
        let set: ScopeSet = "response:read enrolment:read".parse().expect("parses");
        assert_eq!(set.to_string(), "enrolment:read response:read");
        assert_eq!(set.to_string().parse::<ScopeSet>(), Ok(set));
    }

    #[test]
    fn the_earlier_spelling_of_enrolment_is_still_understood() {
        let old: ScopeSet = "enrollment:read".parse().expect("parses");
        assert_eq!(old.to_string(), "enrolment:read");
    }

    #[test]
    fn an_unknown_scope_is_named() {
        assert_eq!("enrolment:read patients:read".parse::<ScopeSet>(), Err(UnknownScope("patients:read".into())));
    }

    #[test]
    fn companies_do_not_get_genomics_or_writes_by_default() {
        let industry = ScopeSet::default_for(PartnerKind::Industry);
        assert!(industry.contains(Scope::ResponseRead));
        assert!(!industry.contains(Scope::GenomicsRead));
        assert!(!industry.contains(Scope::DataWrite));
        assert!(!industry.contains(Scope::Admin));
        assert!(ScopeSet::default_for(PartnerKind::Registry).contains(Scope::FollowupWrite));
    }
}
