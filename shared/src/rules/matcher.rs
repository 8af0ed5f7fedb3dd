//! A rule's compiled `match` block: which mails the rule is for.

use super::file::MessageScope;
use super::{Needle, RulePattern};
use crate::email::Email;

/// Compiled match conditions; every condition given must hold.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Regex over the lowercased From address.
    pub sender: Option<RulePattern>,
    /// Regex over the lowercased From domain.
    pub sender_domain: Option<RulePattern>,
    /// Regex over the decoded subject.
    pub subject: Option<RulePattern>,
    /// (header name, regex over any of its values).
    pub headers: Vec<(String, RulePattern)>,
    /// Strings that must all occur in the text body, ignoring case (searched case-insensitively, so that a 10 MB
    /// body is not copied to lowercase it).
    pub body_contains: Vec<Needle>,
    /// Which message of the mail the conditions apply to.
    pub scope: MessageScope,
}

impl Matcher {
    /// True when every given condition holds for `email`. The cheap conditions are checked first, the body last.
    pub fn matches(&self, email: &Email) -> bool {
        self.header_conditions_hold(email)
            && self.body_contains.iter().all(|needle| needle.is_match(email.text.as_deref().unwrap_or("")))
    }

    /// True when the conditions on the sender, subject and headers hold for `email` (all but `body_contains`).
    pub fn header_conditions_hold(&self, email: &Email) -> bool {
        let from = email.from.as_ref().map(|m| m.address.as_str());
        self.sender.as_ref().is_none_or(|re| from.is_some_and(|a| re.is_match(a)))
            && self.sender_domain.as_ref().is_none_or(|re| email.sender_domain().is_some_and(|d| re.is_match(d)))
            && self.subject.as_ref().is_none_or(|re| email.subject.as_deref().is_some_and(|s| re.is_match(s)))
            && self.headers.iter().all(|(name, re)| email.header_values(name).any(|v| re.is_match(v)))
    }

    /// The message of `email` this matcher applies to, if its conditions hold there: the mail itself, or the
    /// first forwarded message that matches.
    pub fn select<'a>(&self, email: &'a Email) -> Option<&'a Email> {
        match self.scope {
            MessageScope::Outer => self.matches(email).then_some(email),
            MessageScope::Forwarded => email.forwarded.iter().find(|inner| self.matches(inner)),
        }
    }
}
