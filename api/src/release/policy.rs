//! Which disclosure policy a partner's releases are made under: its kind's default
//! (see [`consortium_disclosure::policy`]), changed by the overrides in the
//! configuration (`DISCLOSURE_OVERRIDES`), first for its kind, then for the partner.
//!
//! An override is `target:setting=value,…`, several separated by `;`. The target is a
//! partner kind (`industry`, `hospital`, `registry`, `academic`) or a partner code; the
//! settings are `k` (a count), `zeros` (`withheld` or `shown`), `insider` (`on`/`off`),
//! `dominance` (a share, or `off`) and `survival-bin` (months, or `exact`). A release
//! under an overridden policy names its version with a `+local` suffix.

use std::str::FromStr;

use consortium_disclosure::Policy;
use consortium_entity::{partner, PartnerKind};

/// The configured overrides, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyOverrides(Vec<(String, Vec<Setting>)>);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    K(u32),
    Zeros(bool),
    Insider(bool),
    Dominance(Option<f64>),
    SurvivalBin(Option<f64>),
}

/// The policy of one partner, and the version its releases name.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerPolicy {
    /// The thresholds.
    pub policy: Policy,
    /// `1`, or `1+local` when overridden.
    pub version: String,
}

fn kind_name(kind: PartnerKind) -> &'static str {
    match kind {
        PartnerKind::Industry => "industry",
        PartnerKind::Hospital => "hospital",
        PartnerKind::Registry => "registry",
        PartnerKind::Academic => "academic",
    }
}

impl PolicyOverrides {
    /// The policy `partner` releases under.
    pub fn for_partner(&self, partner: &partner::Model) -> PartnerPolicy {
        let mut policy = match partner.kind {
            PartnerKind::Industry => Policy::INDUSTRY,
            PartnerKind::Hospital => Policy::HOSPITAL,
            PartnerKind::Registry => Policy::REGISTRY,
            PartnerKind::Academic => Policy::ACADEMIC,
        };
        let mut overridden = false;
        for target in [kind_name(partner.kind), partner.code.as_str()] {
            for (_, settings) in self.0.iter().filter(|(t, _)| t == target) {
                overridden = true;
                for setting in settings {
                    match *setting {
                        Setting::K(k) => policy.k = k,
                        Setting::Zeros(withheld) => policy.zeros_disclosive = withheld,
                        Setting::Insider(on) => policy.insider = on,
                        Setting::Dominance(share) => policy.dominance = share,
                        Setting::SurvivalBin(months) => policy.survival_bin_months = months,
                    }
                }
            }
        }
        let version = if overridden { format!("{}+local", policy.version) } else { policy.version.to_string() };
        PartnerPolicy { policy, version }
    }
}

impl FromStr for PolicyOverrides {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut overrides = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (target, settings) =
                entry.split_once(':').ok_or_else(|| format!("'{entry}' is not target:setting=value,…"))?;
            let settings = settings.split(',').map(str::trim).map(setting).collect::<Result<Vec<_>, _>>()?;
            overrides.push((target.trim().to_owned(), settings));
        }
        Ok(PolicyOverrides(overrides))
    }
}

fn setting(text: &str) -> Result<Setting, String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("'{text}' is not setting=value"))?;
    let number = |v: &str| v.parse::<f64>().map_err(|_| format!("'{v}' is not a number in '{text}'"));
    let switch = |v: &str, on: &str, off: &str| match v {
        v if v == on => Ok(true),
        v if v == off => Ok(false),
        _ => Err(format!("'{text}': give {on} or {off}")),
    };
    match name.trim() {
        "k" => value.parse().map(Setting::K).map_err(|_| format!("'{text}': k is a whole number")),
        "zeros" => switch(value, "withheld", "shown").map(Setting::Zeros),
        "insider" => switch(value, "on", "off").map(Setting::Insider),
        "dominance" if value == "off" => Ok(Setting::Dominance(None)),
        "dominance" => number(value).map(|v| Setting::Dominance(Some(v))),
        "survival-bin" if value == "exact" => Ok(Setting::SurvivalBin(None)),
        "survival-bin" => number(value).map(|v| Setting::SurvivalBin(Some(v))),
        other => Err(format!("unknown setting '{other}' (k, zeros, insider, dominance, survival-bin)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(code: &str, kind: PartnerKind) -> partner::Model {
        partner::Model { id: 1, code: code.into(), name: code.into(), kind, org_number: "1".into(), scopes: None }
    }

    #[test]
    fn kinds_get_their_defaults_and_overrides_apply_by_kind_then_partner() {
        let none = PolicyOverrides::default();
        assert_eq!(none.for_partner(&partner("ROCHE", PartnerKind::Industry)).policy, Policy::INDUSTRY);
        assert_eq!(none.for_partner(&partner("ROCHE", PartnerKind::Industry)).version, "1");
        let overrides: PolicyOverrides =
            "registry:k=1,survival-bin=exact; KREFT:k=2;hospital:zeros=withheld".parse().expect("parses");
        let kreft = overrides.for_partner(&partner("KREFT", PartnerKind::Registry));
        assert_eq!((kreft.policy.k, kreft.version.as_str()), (2, "1+local"));
        assert!(overrides.for_partner(&partner("OUS", PartnerKind::Hospital)).policy.zeros_disclosive);
        assert!("registry:k=one".parse::<PolicyOverrides>().is_err());
        assert!("registry:colour=blue".parse::<PolicyOverrides>().is_err());
    }
}
