//! The anonymization policy: what happens to each PII class. Defaults are safe; the rules file may override
//! them globally (`[policy]`) and per rule (`policy = { ... }` in a rule).

use crate::fields::PiiClass;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is done to a value of a PII class before it leaves extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replaced by a keyed pseudonym (`p1_...`): joinable, not reversible without the key.
    Pseudonymize,
    /// Partly hidden (`j***@example.com`, `+1******0142`).
    Mask,
    /// Made coarse (postal code prefix, IP network, birth year, age band).
    Generalize,
    /// Removed (counted in the PII summary).
    Drop,
    /// Passed through; only allowed for class `none`.
    Keep,
    /// Free text with every detected PII replaced by a token.
    Scrub,
}

impl Action {
    /// The name used in rules files and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pseudonymize => "pseudonymize",
            Self::Mask => "mask",
            Self::Generalize => "generalize",
            Self::Drop => "drop",
            Self::Keep => "keep",
            Self::Scrub => "scrub",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Pseudonymize, Self::Mask, Self::Generalize, Self::Drop, Self::Keep, Self::Scrub]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Class -> action, complete for every class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    actions: BTreeMap<PiiClass, Action>,
}

impl Default for Policy {
    /// Safe defaults: identifying values pseudonymized, locations and ages generalized, cards and free text
    /// never passed through.
    fn default() -> Self {
        use Action::*;
        use PiiClass as C;
        let actions = [
            (C::None, Keep),
            (C::Name, Pseudonymize),
            (C::Email, Pseudonymize),
            (C::Phone, Pseudonymize),
            (C::Address, Pseudonymize),
            (C::PostalCode, Generalize),
            (C::Ip, Generalize),
            (C::DateOfBirth, Generalize),
            (C::Age, Generalize),
            (C::FreeText, Scrub),
            (C::IdNumber, Pseudonymize),
            (C::PaymentCard, Drop),
        ]
        .into_iter()
        .collect();
        Self { actions }
    }
}

impl Policy {
    /// The action for `class`.
    pub fn action(&self, class: PiiClass) -> Action {
        self.actions.get(&class).copied().unwrap_or(Action::Drop)
    }

    /// This policy with `overrides` (class name -> action name) applied; every problem is reported with the
    /// class it concerns.
    pub fn with_overrides(&self, overrides: &BTreeMap<String, String>) -> Result<Self, Vec<String>> {
        let mut out = self.clone();
        let mut problems = Vec::new();
        for (class_name, action_name) in overrides {
            let Some(class) = PiiClass::ALL.into_iter().find(|c| c.as_str() == class_name) else {
                problems.push(format!("policy: unknown PII class {class_name:?}"));
                continue;
            };
            let Some(action) = Action::parse(action_name) else {
                problems.push(format!(
                    "policy.{class_name}: unknown action {action_name:?} (expected pseudonymize, mask, generalize, drop, keep or scrub)"
                ));
                continue;
            };
            match allowed(class, action) {
                Ok(()) => {
                    out.actions.insert(class, action);
                }
                Err(why) => problems.push(format!("policy.{class_name}: {action_name} {why}")),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

/// Which actions make sense for which class; anything that would let clear text through is refused.
fn allowed(class: PiiClass, action: Action) -> Result<(), &'static str> {
    use Action::*;
    use PiiClass as C;
    match (class, action) {
        (C::None, _) => Ok(()),
        (_, Keep) => Err("is only allowed for class none"),
        (_, Drop | Pseudonymize) => Ok(()),
        (C::FreeText, Scrub) => Ok(()),
        (_, Scrub) => Err("is only allowed for class free_text"),
        (C::PostalCode | C::Ip | C::DateOfBirth | C::Age, Generalize) => Ok(()),
        (_, Generalize) => Err("is only defined for postal_code, ip, date_of_birth and age"),
        (C::FreeText, Mask) => Err("is not defined for free_text (use scrub or drop)"),
        (_, Mask) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn defaults_never_keep_personal_data() {
        let p = Policy::default();
        for class in PiiClass::ALL {
            assert_eq!(p.action(class) == Action::Keep, class == PiiClass::None, "{class:?}");
        }
        assert_eq!(p.action(PiiClass::Email), Action::Pseudonymize);
        assert_eq!(p.action(PiiClass::PostalCode), Action::Generalize);
        assert_eq!(p.action(PiiClass::FreeText), Action::Scrub);
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let p = Policy::default().with_overrides(&map(&[("email", "mask"), ("postal_code", "drop")])).expect("valid");
        assert_eq!(p.action(PiiClass::Email), Action::Mask);
        assert_eq!(p.action(PiiClass::PostalCode), Action::Drop);
        let errs = Policy::default()
            .with_overrides(&map(&[("email", "keep"), ("name", "generalize"), ("phne", "drop"), ("ip", "hash")]))
            .expect_err("invalid");
        assert_eq!(
            errs,
            vec![
                "policy.email: keep is only allowed for class none".to_string(),
                "policy.ip: unknown action \"hash\" (expected pseudonymize, mask, generalize, drop, keep or scrub)"
                    .into(),
                "policy.name: generalize is only defined for postal_code, ip, date_of_birth and age".into(),
                "policy: unknown PII class \"phne\"".into(),
            ]
        );
    }
}
