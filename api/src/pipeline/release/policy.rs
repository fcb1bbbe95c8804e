//! Which disclosure policy a partner's releases are made under: its kind's default
//! (see [`consortium_disclosure::policy`]), changed by the overrides in the
//! configuration (`DISCLOSURE_OVERRIDES`), first for its kind, then for the partner.
//!
//! An override is `target:setting=value,…`, several separated by `;`. The target is a
//! partner kind (`industry`, `hospital`, `registry`, `academic`) or a partner code; the
//! settings are `k` (a count), `zeros` (`withheld` or `shown`), `insider` (`on`/`off`),
//! `dominance` (a share, or `off`), `survival-bin` (months, or `exact`), `noise` (ε per
//! count, or `off`), `budget` (ε per privacy-budget window) and `perturbation` (σ of
//! the cell-key method, or `off` for exact counts, which protect each answer but not
//! combinations of answers). `noise` puts the target
//! on the noisy tier (see [`consortium_disclosure::noise`]); `budget` alone changes the
//! budget of a target already on it. A release under an overridden policy names its
//! version with a `+local` suffix.

use std::str::FromStr;

use consortium_disclosure::{Noise, Perturbation, Policy};
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
    Noise(Option<f64>),
    Perturbation(Option<f64>),
    Budget(f64),
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
    /// These overrides, then `later` ones (which win where both set something).
    pub fn then(mut self, later: &PolicyOverrides) -> PolicyOverrides {
        self.0.extend(later.0.iter().cloned());
        self
    }

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
                        Setting::Perturbation(sd) => policy.perturbation = sd.map(|sd| Perturbation { sd }),
                        Setting::Noise(None) => policy.noise = None,
                        Setting::Noise(Some(epsilon)) => {
                            let budget = policy.noise.map_or(Noise::DEFAULT_BUDGET, |n| n.budget);
                            policy.noise = Some(Noise { epsilon, budget });
                        }
                        Setting::Budget(budget) => {
                            let epsilon = policy.noise.map_or(Noise::DEFAULT_EPSILON, |n| n.epsilon);
                            policy.noise = Some(Noise { epsilon, budget });
                        }
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
        "noise" if value == "off" => Ok(Setting::Noise(None)),
        "noise" => match number(value)? {
            epsilon if epsilon.is_finite() && epsilon > 0.0 => Ok(Setting::Noise(Some(epsilon))),
            _ => Err(format!("'{text}': ε is a positive number")),
        },
        "perturbation" if value == "off" => Ok(Setting::Perturbation(None)),
        "perturbation" => match number(value)? {
            sd if sd.is_finite() && sd > 0.0 && sd <= 100.0 => Ok(Setting::Perturbation(Some(sd))),
            _ => Err(format!("'{text}': σ is a positive number of patients, at most 100")),
        },
        "budget" => match number(value)? {
            budget if budget.is_finite() && budget >= 0.0 => Ok(Setting::Budget(budget)),
            _ => Err(format!("'{text}': a budget is a number of ε, zero or more")),
        },
        other => Err(format!(
            "unknown setting '{other}' (k, zeros, insider, dominance, survival-bin, noise, budget, perturbation)"
        )),
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
        assert_eq!(none.for_partner(&partner("ROCHE", PartnerKind::Industry)).version, "2");
        let overrides: PolicyOverrides =
            "registry:k=1,survival-bin=exact; KREFT:k=2;hospital:zeros=withheld".parse().expect("parses");
        let kreft = overrides.for_partner(&partner("KREFT", PartnerKind::Registry));
        assert_eq!((kreft.policy.k, kreft.version.as_str()), (2, "2+local"));
        assert!(overrides.for_partner(&partner("OUS", PartnerKind::Hospital)).policy.zeros_disclosive);
        assert!("registry:k=one".parse::<PolicyOverrides>().is_err());
        assert!("registry:colour=blue".parse::<PolicyOverrides>().is_err());
    }

    #[test]
    fn noise_and_budget_put_a_partner_on_the_noisy_tier() {
        let overrides: PolicyOverrides =
            "academic:noise=0.25; EARLY:budget=3; OTHER:noise=1,noise=off".parse().expect("parses");
        let academic = overrides.for_partner(&partner("TRIALSTAT", PartnerKind::Academic)).policy.noise;
        assert_eq!(academic, Some(Noise { epsilon: 0.25, budget: Noise::DEFAULT_BUDGET }));
        let early = overrides.for_partner(&partner("EARLY", PartnerKind::Academic)).policy.noise;
        assert_eq!(early, Some(Noise { epsilon: 0.25, budget: 3.0 }));
        assert_eq!(overrides.for_partner(&partner("OTHER", PartnerKind::Industry)).policy.noise, None);
        let later: PolicyOverrides = "EARLY:noise=off".parse().expect("parses");
        assert_eq!(overrides.then(&later).for_partner(&partner("EARLY", PartnerKind::Academic)).policy.noise, None);
        for bad in ["academic:noise=0", "academic:noise=-1", "academic:budget=-2", "academic:noise=lots"] {
            assert!(bad.parse::<PolicyOverrides>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_kind_is_perturbed_unless_a_partner_is_taken_off_it() {
        let overrides: PolicyOverrides = "TRIALSTAT:perturbation=off; hospital:perturbation=3".parse().expect("parses");
        let kind = |code: &str, kind| overrides.for_partner(&partner(code, kind)).policy.perturbation;
        assert_eq!(kind("KREFT", PartnerKind::Registry), Some(Perturbation { sd: 1.5 }));
        assert_eq!(kind("ROCHE", PartnerKind::Industry), Some(Perturbation { sd: 2.0 }));
        assert_eq!(kind("OUS", PartnerKind::Hospital), Some(Perturbation { sd: 3.0 }));
        assert_eq!(kind("TRIALSTAT", PartnerKind::Academic), None);
        for bad in ["academic:perturbation=0", "academic:perturbation=-1", "academic:perturbation=much"] {
            assert!(bad.parse::<PolicyOverrides>().is_err(), "{bad}");
        }
    }
}
