//! Extraction: one mail in, one outcome out - a lead's typed fields, or a quarantine reason. This is the
//! decision every terminal state of the pipeline starts from.

use crate::email::{AuthVerdicts, Email, HtmlDocs, ParseError, ParseLimits};
use crate::extractors::{trim_value, Context, Extractor};
use crate::fields::{FieldType, FieldValue, PiiClass};
use crate::rules::{FieldSpec, Rule, RuleSet, Selection};
use serde::Serialize;
use std::fmt;

/// The result for one mail.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A rule matched and every required field was found.
    Lead(Extraction),
    /// Not a lead we can extract; the raw mail is kept with this reason.
    Quarantined(Quarantine),
}

/// A lead's fields as one rule extracted them (before anonymization).
#[derive(Debug, Clone, Serialize)]
pub struct Extraction {
    /// The rule that matched.
    pub rule_id: String,
    /// Its version.
    pub rule_version: u32,
    /// True when the lead came from a forwarded (nested) message.
    pub forwarded: bool,
    /// Fields found and valid, in rule order.
    pub fields: Vec<ExtractedField>,
    /// Optional fields that were missing or invalid.
    pub errors: Vec<FieldError>,
}

/// One extracted, typed field.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractedField {
    /// Field name from the rule.
    pub name: String,
    /// Declared type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Declared PII class.
    pub pii: PiiClass,
    /// Normalised value.
    pub value: FieldValue,
    /// The text as found in the mail (trimmed), kept so the scrubber can find the same value in free text.
    /// Never serialised.
    #[serde(skip)]
    pub raw: String,
}

/// A field that could not be extracted. The message never contains the raw value (it may be PII).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Field name.
    pub field: String,
    /// `missing` or `invalid`.
    pub problem: FieldProblem,
    /// For invalid values: why (without the value); for a missing `html_table` value, when the HTML body was
    /// too large to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What went wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldProblem {
    /// No extractor found a value.
    Missing,
    /// A value was found but does not fit the field's type.
    Invalid,
}

/// Why a mail is quarantined, with what is known about the attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantine {
    /// Machine-readable reason.
    pub reason: QuarantineReason,
    /// The rule that was tried, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_version: Option<u32>,
    /// Field problems, for `missing_required`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub field_errors: Vec<FieldError>,
    /// A human-readable explanation without personal data.
    pub detail: String,
    /// Fields found before the mail was quarantined, kept (never serialised) so the scrubber can remove their
    /// values from the quarantine metadata.
    #[serde(skip)]
    pub found: Vec<ExtractedField>,
}

/// Machine-readable quarantine reasons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuarantineReason {
    /// Over the configured size limit.
    TooLarge,
    /// No RFC 5322 headers at all.
    Unparseable,
    /// No rule's match block holds.
    NoRuleMatched,
    /// The matching rule requires sender authentication that failed.
    FailedAuth,
    /// A required field is missing or invalid.
    MissingRequired(String),
    /// SES reported a virus.
    Virus,
    /// SES judged the mail spam and the configuration quarantines spam.
    Spam,
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("too_large"),
            Self::Unparseable => f.write_str("unparseable"),
            Self::NoRuleMatched => f.write_str("no_rule_matched"),
            Self::FailedAuth => f.write_str("failed_auth"),
            Self::MissingRequired(field) => write!(f, "missing_required:{field}"),
            Self::Virus => f.write_str("virus"),
            Self::Spam => f.write_str("spam"),
        }
    }
}

impl Serialize for QuarantineReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl QuarantineReason {
    /// The reason without its parameter (`missing_required`), for grouping and folder names.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Unparseable => "unparseable",
            Self::NoRuleMatched => "no_rule_matched",
            Self::FailedAuth => "failed_auth",
            Self::MissingRequired(_) => "missing_required",
            Self::Virus => "virus",
            Self::Spam => "spam",
        }
    }
}

impl Outcome {
    /// The rule id involved, if any.
    pub fn rule_id(&self) -> Option<&str> {
        match self {
            Self::Lead(x) => Some(&x.rule_id),
            Self::Quarantined(q) => q.rule_id.as_deref(),
        }
    }
}

/// Parses raw bytes and extracts; authentication verdicts default to the mail's own
/// `Authentication-Results` header when `auth` is `None` (local replay).
pub fn extract_raw(
    raw: &[u8],
    rules: &RuleSet,
    limits: &ParseLimits,
    auth: Option<&AuthVerdicts>,
) -> (Option<Email>, Outcome) {
    match Email::parse_keeping_html(raw, limits, &|message| rules.may_read_html_tables(message)) {
        Ok((email, parsed)) => {
            let outcome = match auth {
                Some(a) => extract_parsed(&email, &parsed, rules, a),
                None => extract_parsed(&email, &parsed, rules, &AuthVerdicts::from_headers(&email)),
            };
            (Some(email), outcome)
        }
        Err(e) => {
            let reason = match e {
                ParseError::TooLarge { .. } => QuarantineReason::TooLarge,
                ParseError::Unparseable { .. } => QuarantineReason::Unparseable,
            };
            (None, quarantine(reason, None, Vec::new(), e.to_string()))
        }
    }
}

/// Picks the rule for a parsed mail and extracts its fields.
pub fn extract(email: &Email, rules: &RuleSet, auth: &AuthVerdicts) -> Outcome {
    extract_parsed(email, &HtmlDocs::default(), rules, auth)
}

/// [`extract`], reusing the HTML documents parsed while `email` was built.
fn extract_parsed(email: &Email, parsed: &HtmlDocs, rules: &RuleSet, auth: &AuthVerdicts) -> Outcome {
    match rules.select(email, auth) {
        Selection::NoRule => {
            quarantine(QuarantineReason::NoRuleMatched, None, Vec::new(), "no rule's match conditions hold".into())
        }
        Selection::FailedAuth(rule) => quarantine(
            QuarantineReason::FailedAuth,
            Some(rule),
            Vec::new(),
            "the rule requires DKIM or SPF to pass for the sender domain".into(),
        ),
        Selection::Matched(rule, message) => {
            apply(rule, &Context::with_parsed(message, parsed), !std::ptr::eq(message, email))
        }
    }
}

/// Applies one rule's fields to a message.
pub fn extract_with(rule: &Rule, message: &Email, forwarded: bool) -> Outcome {
    apply(rule, &Context::new(message), forwarded)
}

fn apply(rule: &Rule, ctx: &Context<'_>, forwarded: bool) -> Outcome {
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    for spec in &rule.fields {
        match extract_field(spec, ctx) {
            Ok((value, raw)) => fields.push(ExtractedField {
                name: spec.name.clone(),
                field_type: spec.field_type,
                pii: spec.pii,
                value,
                raw,
            }),
            Err(e) => errors.push(e),
        }
    }
    let required_errors: Vec<FieldError> =
        errors.iter().filter(|e| rule.fields.iter().any(|f| f.required && f.name == e.field)).cloned().collect();
    if let Some(first) = required_errors.first() {
        let mut detail = format!(
            "required field {:?} is {}",
            first.field,
            match first.problem {
                FieldProblem::Missing => "missing",
                FieldProblem::Invalid => "invalid",
            }
        );
        if let (FieldProblem::Missing, Some(why)) = (first.problem, &first.detail) {
            detail = format!("{detail}: {why}");
        }
        let reason = QuarantineReason::MissingRequired(first.field.clone());
        let mut outcome = quarantine(reason, Some(rule), required_errors, detail);
        if let Outcome::Quarantined(q) = &mut outcome {
            q.found = fields;
        }
        return outcome;
    }
    Outcome::Lead(Extraction { rule_id: rule.id.clone(), rule_version: rule.version, forwarded, fields, errors })
}

fn extract_field(spec: &FieldSpec, ctx: &Context<'_>) -> Result<(FieldValue, String), FieldError> {
    let error = |problem, detail| FieldError { field: spec.name.clone(), problem, detail };
    let missing = || {
        let why = matches!(spec.extractor, Extractor::HtmlTable(_)).then(|| ctx.html_refused()).flatten();
        let why = why.map(|too_many| too_many.to_string());
        error(FieldProblem::Missing, why)
    };
    let raw = spec.extractor.find(ctx).ok_or_else(missing)?;
    let raw = if spec.trim { trim_value(&raw) } else { raw.as_str() };
    if raw.trim().is_empty() {
        return Err(error(FieldProblem::Missing, None));
    }
    spec.field_type
        .normalize(raw, &spec.options)
        .map(|value| (value, raw.to_string()))
        .map_err(|e| error(FieldProblem::Invalid, Some(e.0)))
}

/// A quarantine outcome decided outside rule matching (SES verdicts, limits).
pub fn quarantine_for(reason: QuarantineReason, detail: &str) -> Outcome {
    quarantine(reason, None, Vec::new(), detail.to_string())
}

fn quarantine(reason: QuarantineReason, rule: Option<&Rule>, field_errors: Vec<FieldError>, detail: String) -> Outcome {
    Outcome::Quarantined(Quarantine {
        reason,
        rule_id: rule.map(|r| r.id.clone()),
        rule_version: rule.map(|r| r.version),
        field_errors,
        detail,
        found: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RulesFormat;

    const RULES: &str = r#"
[[rules]]
id = "t"
version = 3
[rules.match]
subject = "Lead"
[[rules.fields]]
name = "email"
type = "email"
pii = "email"
required = true
label = "Email"
[[rules.fields]]
name = "year"
type = "integer"
label = "Year"
"#;

    fn run(body: &str) -> Outcome {
        let rules = RuleSet::parse(RULES, RulesFormat::Toml, "t.toml").expect("rules");
        let raw = format!("From: a@b.example\r\nSubject: Lead\r\n\r\n{body}");
        extract_raw(raw.as_bytes(), &rules, &ParseLimits::default(), None).1
    }

    #[test]
    fn a_lead_with_an_invalid_optional_field_keeps_the_error() {
        let Outcome::Lead(x) = run("Email: A@B.example\r\nYear: soon\r\n") else { panic!("lead expected") };
        assert_eq!((x.rule_id.as_str(), x.rule_version), ("t", 3));
        assert_eq!(x.fields.len(), 1);
        assert_eq!(x.fields[0].value, FieldValue::Text("a@b.example".into()));
        assert_eq!(x.fields[0].raw, "A@B.example");
        assert_eq!(
            x.errors,
            vec![FieldError {
                field: "year".into(),
                problem: FieldProblem::Invalid,
                detail: Some("not a number".into())
            }]
        );
    }

    #[test]
    fn missing_or_invalid_required_fields_quarantine() {
        for body in ["Year: 2020\r\n", "Email: not-an-address\r\n"] {
            let Outcome::Quarantined(q) = run(body) else { panic!("quarantine expected for {body:?}") };
            assert_eq!(q.reason, QuarantineReason::MissingRequired("email".into()));
            assert_eq!(q.reason.to_string(), "missing_required:email");
            assert_eq!(q.rule_id.as_deref(), Some("t"));
        }
    }

    #[test]
    fn an_html_table_field_reads_a_body_only_within_the_node_budget() {
        const TABLE_RULES: &str = r#"
[[rules]]
id = "h"
version = 1
[rules.match]
subject = "Lead"
[[rules.fields]]
name = "name"
required = true
html_table = { label = ["Name"] }
"#;
        let rules = RuleSet::parse(TABLE_RULES, RulesFormat::Toml, "h.toml").expect("rules");
        let mail = |rows: usize| {
            let listing = "<tr><td>Listing</td><td>48 Willow Lane</td></tr>\r\n".repeat(rows);
            format!(
                "From: a@b.example\r\nSubject: Lead\r\nContent-Type: text/html\r\n\r\n\
                 <table><tr><th>Name</th><td>Jane</td></tr>{listing}</table>\r\n"
            )
        };
        // A row is 6 nodes (tr, two cells, their texts, the newline) and 50 bytes: 10,000 rows count as 63,907 nodes
        // of the 100,000.
        let (_, outcome) = extract_raw(mail(10_000).as_bytes(), &rules, &ParseLimits::default(), None);
        let Outcome::Lead(x) = outcome else { panic!("lead expected, got {outcome:?}") };
        assert_eq!(x.fields[0].value, FieldValue::Text("Jane".into()));
        // 20,000 rows do not: no tree, and the quarantine says why.
        let (_, outcome) = extract_raw(mail(20_000).as_bytes(), &rules, &ParseLimits::default(), None);
        let Outcome::Quarantined(q) = outcome else { panic!("quarantine expected, got {outcome:?}") };
        assert_eq!(q.reason, QuarantineReason::MissingRequired("name".into()));
        assert_eq!(
            q.detail,
            "required field \"name\" is missing: the HTML body's document tree would pass 100000 nodes (its HTML \
             counted, 128 bytes to a node), the most an html_table field reads"
        );
    }

    #[test]
    fn a_table_tree_is_built_with_the_text_where_a_rule_may_read_it_and_on_demand_elsewhere() {
        const RULES: &str = r#"
[[rules]]
id = "h"
version = 1
[rules.match]
sender = '^a@homes\.example$'
body_contains = ["Inquiry"]
[[rules.fields]]
name = "name"
required = true
html_table = { label = ["Name"] }
"#;
        let rules = RuleSet::parse(RULES, RulesFormat::Toml, "h.toml").expect("rules");
        let mail = |from: &str| {
            format!(
                "From: {from}\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<h1>Inquiry</h1>\
                 <table><tr><th>Name</th><td>Jane</td></tr></table>\r\n"
            )
        };
        let parse = |raw: &str| Email::parse(raw.as_bytes(), &ParseLimits::default()).expect("parses");
        // The body's condition is not read for this: its text is not made yet.
        assert!(rules.may_read_html_tables(&parse(&mail("a@homes.example"))));
        assert!(!rules.may_read_html_tables(&parse(&mail("b@homes.example"))));
        let (_, outcome) = extract_raw(mail("a@homes.example").as_bytes(), &rules, &ParseLimits::default(), None);
        let Outcome::Lead(x) = outcome else { panic!("lead expected, got {outcome:?}") };
        assert_eq!(x.fields[0].value, FieldValue::Text("Jane".into()));
        // Parsed without a tree (`extract` of a parsed mail), the field gets one when it asks.
        let Outcome::Lead(x) = extract(&parse(&mail("a@homes.example")), &rules, &AuthVerdicts::default()) else {
            panic!("lead expected")
        };
        assert_eq!(x.fields[0].value, FieldValue::Text("Jane".into()));
    }

    #[test]
    fn quarantine_metadata_never_carries_the_value() {
        let Outcome::Quarantined(q) = run("Email: jane.doe@@example.net\r\n") else { panic!("quarantine expected") };
        let json = serde_json::to_string(&q).expect("json");
        assert!(!json.contains("jane"), "{json}");
    }
}
