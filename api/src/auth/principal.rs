//! The principal: who a request acts for, with which scopes, through which token; and
//! the row scope that follows from it.

use consortium_analytics::{Catalogue, RowScope};
use consortium_entity::{partner, PartnerKind};

use super::scope::{Scope, ScopeSet};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The partner the request acts for.
    pub partner: partner::Model,
    /// Scopes of this request: the token's, within the partner's grants.
    pub scopes: ScopeSet,
    /// How audit records and rate limits name the token (never the token itself).
    pub token_id: String,
    /// When the token expires (Unix seconds).
    pub expires_at: i64,
    /// The operations the token may run, by normalised query hash, when it is limited
    /// to registered ones (see [`crate::pipeline::admit::persisted`]); `None`: any.
    pub allowed: Option<std::sync::Arc<std::collections::BTreeSet<String>>>,
}

impl Principal {
    /// Whether the principal holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// The patients this principal may aggregate over, in the snapshot described by
    /// `catalogue`: a company only the cohorts of drugs it supplies; a hospital every
    /// patient, drilling into its own sites only; the registry and academic partners
    /// everything.
    pub fn row_scope(&self, catalogue: &Catalogue) -> RowScope {
        let id = self.partner.id;
        match self.partner.kind {
            PartnerKind::Industry => {
                let cohorts = catalogue
                    .cohorts
                    .values()
                    .filter(|c| catalogue.drugs.get(&c.drug_id).is_some_and(|d| d.supplier_id == id))
                    .map(|c| c.id)
                    .collect();
                RowScope { cohorts: Some(cohorts), sites: None }
            }
            PartnerKind::Hospital => {
                let sites = catalogue.sites.values().filter(|s| s.partner_id == id).map(|s| s.id).collect();
                RowScope { cohorts: None, sites: Some(sites) }
            }
            PartnerKind::Registry | PartnerKind::Academic => RowScope::everything(),
        }
    }
}
