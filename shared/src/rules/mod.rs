//! Extraction rules: loaded from a TOML/YAML file, validated and compiled once, then used to pick the rule for
//! each mail (highest priority whose `match` holds) and to describe the fields it extracts.

mod compile_field;
mod error;
mod file;
mod load;

pub use load::RulesFormat;
mod matcher;
mod needle;
mod pattern;

pub use error::{Problem, RulesError};
pub use file::MessageScope;
pub use matcher::Matcher;
pub use needle::Needle;
pub use pattern::{PatternChecks, RulePattern};

use crate::anonymize::Policy;
use crate::email::{AuthVerdicts, Email};
use crate::extractors::Extractor;
use crate::fields::{FieldType, PiiClass, TypeOptions};

/// A validated, compiled rules file, rules sorted by descending priority (file order breaks ties).
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The file the rules came from (for messages).
    pub source: String,
    /// Regions whose national phone formats the free-text scrubber recognises (`[scrubber] phone_regions`).
    pub scrub_phone_regions: Option<Vec<phonenumber::country::Id>>,
    rules: Vec<Rule>,
}

/// One extraction rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id, e.g. `carportal-text`.
    pub id: String,
    /// Bumped whenever the rule's output changes; with `id` it forms an event's revision.
    pub version: u32,
    /// Higher wins when several rules match.
    pub priority: i64,
    /// Operator notes.
    pub description: Option<String>,
    /// Whether the sender domain must pass DKIM or SPF.
    pub require_auth: bool,
    /// Which mails the rule is for.
    pub matcher: Matcher,
    /// The anonymization policy for this rule's fields (defaults, then `[policy]`, then the rule's own).
    pub policy: Policy,
    /// The fields to extract, in file order.
    pub fields: Vec<FieldSpec>,
}

/// One field of a rule: where to find it, its type and PII class.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// Field name, unique within the rule.
    pub name: String,
    /// Declared value type.
    pub field_type: FieldType,
    /// What kind of personal data it holds.
    pub pii: PiiClass,
    /// Missing or invalid -> the mail is quarantined.
    pub required: bool,
    /// Where the raw text comes from.
    pub extractor: Extractor,
    /// Whether to trim whitespace, trailing punctuation and quotes before typing.
    pub trim: bool,
    /// Type settings (region, currency, formats, enum values).
    pub options: TypeOptions,
}

/// What rule selection decided for a mail.
#[derive(Debug)]
pub enum Selection<'r, 'e> {
    /// This rule applies to this message (the mail itself or a forwarded one).
    Matched(&'r Rule, &'e Email),
    /// A rule matched but requires sender authentication that the verdicts do not give.
    FailedAuth(&'r Rule),
    /// No rule's conditions hold.
    NoRule,
}

impl RuleSet {
    /// The rules in evaluation order (descending priority).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The free-text scrubber's detector settings: the defaults, with `[scrubber] phone_regions` when given.
    pub fn detector_config(&self) -> crate::anonymize::detect::DetectorConfig {
        let mut config = crate::anonymize::detect::DetectorConfig::default();
        if let Some(regions) = &self.scrub_phone_regions {
            config.phone_regions = regions.clone();
        }
        config
    }

    /// Whether a rule whose sender, subject and header conditions hold for `message` (a mail or a forwarded
    /// message, before its text body is made) has an `html_table` field: then its HTML body's document tree is
    /// built with its text. (A tree is built later for a field that asks anyway; this only saves a second pass.)
    pub fn may_read_html_tables(&self, message: &Email) -> bool {
        self.rules.iter().any(|rule| {
            rule.fields.iter().any(|f| matches!(f.extractor, Extractor::HtmlTable(_)))
                && rule.matcher.header_conditions_hold(message)
        })
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Picks the rule for `email`. The first matching rule decides: if it requires authentication and the
    /// outer From domain (the one the receiving server checked) is not authenticated, the mail fails rather
    /// than falling through to a lower-priority rule.
    pub fn select<'r, 'e>(&'r self, email: &'e Email, auth: &AuthVerdicts) -> Selection<'r, 'e> {
        for rule in &self.rules {
            if let Some(message) = rule.matcher.select(email) {
                if rule.require_auth && !email.sender_domain().is_some_and(|d| auth.authenticates(d)) {
                    return Selection::FailedAuth(rule);
                }
                return Selection::Matched(rule, message);
            }
        }
        Selection::NoRule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::ParseLimits;

    const RULES: &str = r#"
[[rules]]
id = "generic"
version = 1
priority = 1
[rules.match]
body_contains = "lead"
[[rules.fields]]
name = "x"
constant = "generic"

[[rules.rules_placeholder]]
"#;

    fn rules() -> RuleSet {
        let text = RULES.replace("[[rules.rules_placeholder]]\n", "")
            + r#"
[[rules]]
id = "cars"
version = 2
priority = 10
require_auth = true
[rules.match]
sender_domain = '^cars\.example$'
subject = '(?i)new lead'
[[rules.fields]]
name = "x"
constant = "cars"

[[rules]]
id = "forwarded"
version = 1
priority = 20
[rules.match]
message = "forwarded"
sender_domain = '^cars\.example$'
[[rules.fields]]
name = "x"
constant = "fwd"
"#;
        RuleSet::parse(&text, RulesFormat::Toml, "t.toml").expect("valid rules")
    }

    fn mail(raw: &str) -> Email {
        Email::parse(raw.as_bytes(), &ParseLimits::default()).expect("parses")
    }

    fn picked(raw: &str) -> String {
        let e = mail(raw);
        match rules().select(&e, &AuthVerdicts::from_headers(&e)) {
            Selection::Matched(r, m) => format!("{}{}", r.id, if std::ptr::eq(m, &e) { "" } else { " (inner)" }),
            Selection::FailedAuth(r) => format!("failed_auth {}", r.id),
            Selection::NoRule => "none".into(),
        }
    }

    #[test]
    fn highest_priority_match_wins_and_all_conditions_must_hold() {
        let authed = "Authentication-Results: mx; dkim=pass header.d=cars.example\r\n";
        assert_eq!(picked(&format!("{authed}From: a@cars.example\r\nSubject: New lead\r\n\r\nlead")), "cars");
        assert_eq!(picked(&format!("{authed}From: a@cars.example\r\nSubject: Newsletter\r\n\r\nlead")), "generic");
        assert_eq!(picked("From: a@other.example\r\nSubject: New lead\r\n\r\nnothing"), "none");
        assert_eq!(rules().rules().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["forwarded", "cars", "generic"]);
    }

    #[test]
    fn body_contains_ignores_case_and_takes_its_text_literally() {
        let text = r#"
[[rules]]
id = "fr"
version = 1
[rules.match]
body_contains = ["Coordonnées de l", "(réf. 1.5)"]
[[rules.fields]]
name = "x"
constant = "fr"
"#;
        let rules = RuleSet::parse(text, RulesFormat::Toml, "t.toml").expect("valid rules");
        let pick = |body: &str| {
            let e = mail(&format!(
                "From: a@b.example\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
            ));
            matches!(rules.select(&e, &AuthVerdicts::from_headers(&e)), Selection::Matched(..))
        };
        assert!(pick("COORDONNÉES DE LA PERSONNE (RÉF. 1.5)"));
        assert!(pick("x coordonnées de l'acheteur\n(réf. 1.5) y"));
        assert!(!pick("Coordonnées de l'acheteur (réf. 105)"), "the dot is not a wildcard");
        assert!(!pick("Coordonnees de l'acheteur (réf. 1.5)"));
    }

    #[test]
    fn require_auth_quarantines_instead_of_falling_through() {
        let forged = "Authentication-Results: mx; dkim=fail header.d=cars.example; spf=fail\r\n\
                      From: a@cars.example\r\nSubject: New lead\r\n\r\nlead";
        assert_eq!(picked(forged), "failed_auth cars");
        assert_eq!(picked("From: a@cars.example\r\nSubject: New lead\r\n\r\nlead"), "failed_auth cars");
    }

    #[test]
    fn forwarded_scope_matches_the_inner_message() {
        let fwd = "From: pat@dealer.example.com\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n\
                   Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n\
                   --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: leads@cars.example\r\nSubject: New lead\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(picked(fwd), "forwarded (inner)");
    }
}
