//! Loading a rules file (TOML with the `toml` crate, YAML with `config`), then validating and compiling every rule.
//! All problems are collected, each naming its rule and field, so an operator fixes a file in one pass.

use super::compile_field::compile_field;
use super::error::{Problem, RulesError};
use super::file::{OneOrMany, RawDefaults, RawField, RawFile, RawMatch, RawRule, RawValue};
use super::{Matcher, Needle, PatternChecks, Rule, RulePattern, RuleSet};
use crate::anonymize::Policy;
use chrono::FixedOffset;
use std::collections::HashSet;
use std::path::Path;

/// Compiled size limit for one regex: rules come from operators, but a runaway pattern must not eat the
/// function's memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The syntax of a rules text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesFormat {
    /// TOML.
    Toml,
    /// YAML.
    Yaml,
}

impl RuleSet {
    /// Loads, validates and compiles a rules file (`.toml`, `.yaml` or `.yml`).
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let file = path.display().to_string();
        let format = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("toml") => RulesFormat::Toml,
            Some("yaml" | "yml") => RulesFormat::Yaml,
            _ => {
                return Err(RulesError::Read {
                    file,
                    message: "unknown rules file extension (expected .toml, .yaml or .yml)".into(),
                })
            }
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| RulesError::Read { file: file.clone(), message: e.to_string() })?;
        Self::parse(&text, format, &file)
    }

    /// Validates and compiles rules given as text; `name` is used in error messages.
    pub fn parse(text: &str, format: RulesFormat, name: &str) -> Result<Self, RulesError> {
        let read_err = |message: String| RulesError::Read { file: name.to_string(), message };
        match format {
            // TOML is read directly and deserialized from its own values: through the `config` crate it took about
            // 30 % of the rules' load time at cold start (its own value tree, with an origin string per value), and
            // through JSON values another third.
            RulesFormat::Toml => {
                let table = toml::from_str::<toml::Table>(text).map_err(|e| read_err(toml_error(text, &e)))?;
                compile(toml::Value::Table(table), name)
            }
            RulesFormat::Yaml => {
                let value: serde_json::Value = config::Config::builder()
                    .add_source(config::File::from_str(text, config::FileFormat::Yaml))
                    .build()
                    .and_then(|c| c.try_deserialize())
                    .map_err(|e| read_err(one_line(&e.to_string())))?;
                compile(value, name)
            }
        }
    }
}

/// "line L, column C: message" (the crate's own text quotes the offending line).
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = one_line(e.message());
    let Some(span) = e.span() else {
        return format!("TOML syntax: {message}");
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("TOML syntax, line {line}, column {column}: {message}")
}

fn compile<V: RawValue>(mut file: V, name: &str) -> Result<RuleSet, RulesError> {
    let read_err = |message: String| RulesError::Read { file: name.to_string(), message };
    let listed = file.take("rules").map(|rules| rules.into_items().map_err(|e| read_err(format!("rules: {e}"))));
    let listed = listed.transpose()?.unwrap_or_default();
    let raw: RawFile = file.read().map_err(read_err)?;
    let mut problems = Vec::new();
    let defaults = Settings::from_defaults(&raw.defaults, &mut problems);
    let policy = Policy::default().with_overrides(&raw.policy).unwrap_or_else(|errs| {
        problems.extend(errs.into_iter().map(|message| Problem { rule: None, field: None, message }));
        Policy::default()
    });
    let scrub_phone_regions = raw.scrubber.phone_regions.as_ref().map(|regions| {
        regions
            .iter()
            .filter_map(|r| match r.to_ascii_uppercase().parse::<phonenumber::country::Id>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(Problem {
                        rule: None,
                        field: None,
                        message: format!("scrubber.phone_regions: unknown region {r:?}"),
                    });
                    None
                }
            })
            .collect()
    });
    if listed.is_empty() {
        problems.push(Problem { rule: None, field: None, message: "no rules defined (expected [[rules]])".into() });
    }
    let mut seen = HashSet::new();
    let mut rules = Vec::new();
    let mut checks = PatternChecks::default();
    for (i, mut value) in listed.into_iter().enumerate() {
        let label = value.text("id").map_or_else(|| format!("#{}", i + 1), str::to_string);
        let mut ctx = RuleCtx { rule: label.clone(), problems: &mut problems, checks: &mut checks };
        let fields = value.take("fields").map(V::into_items);
        let raw_rule: RawRule = match value.read() {
            Ok(r) => r,
            Err(message) => {
                ctx.problem(None, message);
                continue;
            }
        };
        let fields = match fields {
            Some(Ok(fields)) => fields,
            Some(Err(message)) => {
                ctx.problem(None, format!("fields: {message}"));
                continue;
            }
            None => {
                ctx.problem(None, "missing field `fields`".into());
                continue;
            }
        };
        if !seen.insert(raw_rule.id.clone()) {
            ctx.problem(None, "duplicate rule id".into());
        }
        if let Some(rule) = compile_rule(raw_rule, fields, &defaults, &policy, &mut ctx) {
            rules.push(rule);
        }
    }
    if !problems.is_empty() {
        return Err(RulesError::Invalid { file: name.to_string(), problems });
    }
    // Stable sort: equal priorities keep file order.
    rules.sort_by_key(|r| std::cmp::Reverse(r.priority));
    Ok(RuleSet { source: name.to_string(), scrub_phone_regions, rules })
}

pub(super) struct RuleCtx<'p> {
    pub(super) rule: String,
    pub(super) problems: &'p mut Vec<Problem>,
    /// Shared by all the file's patterns.
    pub(super) checks: &'p mut PatternChecks,
}

impl RuleCtx<'_> {
    pub(super) fn problem(&mut self, field: Option<&str>, message: String) {
        self.problems.push(Problem { rule: Some(self.rule.clone()), field: field.map(str::to_string), message });
    }

    pub(super) fn regex(&mut self, field: Option<&str>, what: &str, pattern: &str) -> Option<RulePattern> {
        match RulePattern::checked_with(pattern, REGEX_SIZE_LIMIT, self.checks) {
            Ok(re) => Some(re),
            Err(e) => {
                self.problem(field, format!("{what}: invalid regex: {}", one_line(&e.to_string())));
                None
            }
        }
    }
}

/// Region, currency and timezone as inherited from defaults -> rule -> field.
#[derive(Clone, Default)]
pub(super) struct Settings {
    pub(super) region: Option<phonenumber::country::Id>,
    pub(super) currency: Option<String>,
    pub(super) timezone: Option<FixedOffset>,
}

impl Settings {
    fn from_defaults(raw: &RawDefaults, problems: &mut Vec<Problem>) -> Self {
        let mut out = Settings { region: Some(phonenumber::country::Id::US), ..Default::default() };
        let mut report =
            |m: String| problems.push(Problem { rule: None, field: None, message: format!("defaults: {m}") });
        out.apply(raw.region.as_deref(), raw.currency.as_deref(), raw.timezone.as_deref(), &mut report);
        out
    }

    pub(super) fn apply(
        &mut self,
        region: Option<&str>,
        currency: Option<&str>,
        timezone: Option<&str>,
        report: &mut dyn FnMut(String),
    ) {
        if let Some(r) = region {
            match r.to_ascii_uppercase().parse::<phonenumber::country::Id>() {
                Ok(id) => self.region = Some(id),
                Err(_) => report(format!("unknown region {r:?} (expected an ISO 3166 code such as \"US\")")),
            }
        }
        if let Some(c) = currency {
            if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
                self.currency = Some(c.to_string());
            } else {
                report(format!("currency {c:?} is not an ISO 4217 code such as \"USD\""));
            }
        }
        if let Some(t) = timezone {
            match parse_offset(t) {
                Some(o) => self.timezone = Some(o),
                None => report(format!("timezone {t:?} is not an offset such as \"+01:00\" or \"UTC\"")),
            }
        }
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    match s {
        "UTC" | "Z" | "GMT" => FixedOffset::east_opt(0),
        _ => s.parse().ok(),
    }
}

fn compile_rule<V: RawValue>(
    raw: RawRule,
    raw_fields: Vec<V>,
    defaults: &Settings,
    policy: &Policy,
    ctx: &mut RuleCtx<'_>,
) -> Option<Rule> {
    let before = ctx.problems.len();
    if !valid_id(&raw.id) {
        ctx.problem(None, "id must match [a-z0-9][a-z0-9._-]* (lowercase)".into());
    }
    if raw.version == 0 {
        ctx.problem(None, "version must be >= 1".into());
    }
    let mut settings = defaults.clone();
    settings.apply(raw.region.as_deref(), raw.currency.as_deref(), raw.timezone.as_deref(), &mut |m| {
        ctx.problems.push(Problem { rule: Some(ctx.rule.clone()), field: None, message: m })
    });
    let matcher = compile_match(raw.matcher, ctx);
    let policy = policy.with_overrides(&raw.policy).unwrap_or_else(|errs| {
        for e in errs {
            ctx.problem(None, e);
        }
        policy.clone()
    });
    if raw_fields.is_empty() {
        ctx.problem(None, "no fields defined".into());
    }
    let mut names = HashSet::new();
    let mut fields = Vec::new();
    for (i, value) in raw_fields.into_iter().enumerate() {
        let label = value.text("name").map_or_else(|| format!("#{}", i + 1), str::to_string);
        let raw_field: RawField = match value.read() {
            Ok(f) => f,
            Err(m) => {
                ctx.problem(Some(&label), m);
                continue;
            }
        };
        if !names.insert(raw_field.name.clone()) {
            ctx.problem(Some(&label), "duplicate field name".into());
        }
        if let Some(f) = compile_field(raw_field, &settings, ctx) {
            fields.push(f);
        }
    }
    (ctx.problems.len() == before).then(|| Rule {
        id: raw.id,
        version: raw.version,
        priority: raw.priority,
        description: raw.description,
        require_auth: raw.require_auth,
        matcher: matcher.expect("no problems means the matcher compiled"),
        policy,
        fields,
    })
}

fn compile_match(raw: RawMatch, ctx: &mut RuleCtx<'_>) -> Option<Matcher> {
    let before = ctx.problems.len();
    let given = raw.sender.is_some()
        || raw.sender_domain.is_some()
        || raw.subject.is_some()
        || !raw.headers.is_empty()
        || !matches!(raw.body_contains, OneOrMany::None);
    if !given {
        ctx.problem(
            None,
            "match: no condition given (sender, sender_domain, subject, headers or body_contains)".into(),
        );
    }
    let sender = raw.sender.as_deref().and_then(|p| ctx.regex(None, "match.sender", p));
    let sender_domain = raw.sender_domain.as_deref().and_then(|p| ctx.regex(None, "match.sender_domain", p));
    let subject = raw.subject.as_deref().and_then(|p| ctx.regex(None, "match.subject", p));
    let mut headers = Vec::new();
    for (name, pattern) in &raw.headers {
        if name.trim().is_empty() || name.contains(':') {
            ctx.problem(None, format!("match.headers: invalid header name {name:?}"));
        } else if let Some(re) = ctx.regex(None, &format!("match.headers.{name}"), pattern) {
            headers.push((name.clone(), re));
        }
    }
    let needles = raw.body_contains.into_vec();
    if needles.iter().any(|s| s.trim().is_empty()) {
        ctx.problem(None, "match.body_contains: empty string".into());
    }
    let body_contains = needles
        .iter()
        .filter_map(|s| match Needle::new(s, REGEX_SIZE_LIMIT, ctx.checks) {
            Ok(needle) => Some(needle),
            Err(e) => {
                ctx.problem(None, format!("match.body_contains: {s:?}: {}", one_line(&e.to_string())));
                None
            }
        })
        .collect();
    (ctx.problems.len() == before).then_some(Matcher {
        sender,
        sender_domain,
        subject,
        headers,
        body_contains,
        scope: raw.message,
    })
}

fn valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

pub(super) fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}
