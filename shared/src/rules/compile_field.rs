//! Compiling one field of a rule: its extractor (exactly one of regex, label, html_table, xml_path, constant),
//! its type options, and the checks that tie them together. Problems go to the rule's context with the field name.

use super::error::Problem;
use super::file::{OneOrMany, RawField, RawHtmlTable};
use super::load::{RuleCtx, Settings};
use super::FieldSpec;
use crate::extractors::{Extractor, HtmlTable, Label, Source, XmlPath};
use crate::fields::{FieldType, TypeOptions};

pub(super) fn compile_field(raw: RawField, rule_settings: &Settings, ctx: &mut RuleCtx<'_>) -> Option<FieldSpec> {
    let before = ctx.problems.len();
    let name = raw.name.clone();
    let f = Some(name.as_str());
    if !valid_field_name(&name) {
        ctx.problem(f, "name must match [a-z][a-z0-9_]*".into());
    }
    let mut settings = rule_settings.clone();
    settings.apply(raw.region.as_deref(), raw.currency.as_deref(), raw.timezone.as_deref(), &mut |m| {
        ctx.problems.push(Problem { rule: Some(ctx.rule.clone()), field: Some(name.clone()), message: m })
    });
    let extractor = compile_extractor(&raw, ctx);
    let is = |t: &[FieldType]| t.contains(&raw.field_type);
    if raw.format.is_some() && !is(&[FieldType::Date, FieldType::Datetime]) {
        ctx.problem(f, "format only applies to date and datetime fields".into());
    }
    if (raw.values.is_some() || !raw.aliases.is_empty()) && !is(&[FieldType::Enum]) {
        ctx.problem(f, "values/aliases only apply to enum fields".into());
    }
    let values = raw.values.clone().unwrap_or_default();
    if is(&[FieldType::Enum]) && values.is_empty() {
        ctx.problem(f, "an enum field needs a non-empty `values` list".into());
    }
    for (alias, target) in &raw.aliases {
        if !values.contains(target) {
            ctx.problem(f, format!("alias {alias:?} points to {target:?}, which is not in values"));
        }
    }
    if raw.paragraph && raw.label.is_none() {
        ctx.problem(f, "paragraph only applies to label extractors".into());
    }
    let options = TypeOptions {
        phone_region: settings.region,
        currency: settings.currency,
        timezone: settings.timezone,
        format: raw.format.clone(),
        values,
        aliases: raw.aliases.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect(),
    };
    if let Some(Extractor::Constant(value)) = &extractor {
        if let Err(e) = raw.field_type.normalize(value, &options) {
            ctx.problem(f, format!("constant is not a valid {}: {e}", raw.field_type.as_str()));
        }
    }
    (ctx.problems.len() == before).then(|| FieldSpec {
        name: raw.name,
        field_type: raw.field_type,
        pii: raw.pii,
        required: raw.required,
        extractor: extractor.expect("no problems means the extractor compiled"),
        trim: raw.trim.unwrap_or(true),
        options,
    })
}

fn compile_extractor(raw: &RawField, ctx: &mut RuleCtx<'_>) -> Option<Extractor> {
    let f = Some(raw.name.as_str());
    let given: Vec<&str> = [
        ("regex", raw.regex.is_some()),
        ("label", raw.label.is_some()),
        ("html_table", raw.html_table.is_some()),
        ("xml_path", raw.xml_path.is_some()),
        ("constant", raw.constant.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if given.len() != 1 {
        let found = if given.is_empty() { "none".to_string() } else { given.join(", ") };
        ctx.problem(
            f,
            format!("exactly one extractor needed (regex, label, html_table, xml_path or constant); found {found}"),
        );
        return None;
    }
    let source = match raw.source.as_deref().map(Source::parse) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(m)) => {
            ctx.problem(f, m);
            return None;
        }
    };
    if source.is_some() && !matches!(given[0], "regex" | "xml_path") {
        ctx.problem(f, format!("source does not apply to a {} extractor", given[0]));
        return None;
    }
    if let Some(pattern) = &raw.regex {
        let regex = ctx.regex(f, "regex", pattern)?;
        if !regex.capture_names().any(|n| n == Some("value")) {
            ctx.problem(f, "regex has no group named \"value\"".into());
            return None;
        }
        return Some(Extractor::Regex { regex, source: source.unwrap_or(Source::Text) });
    }
    if let Some(label) = &raw.label {
        let spellings = match label {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
            OneOrMany::None => Vec::new(),
        };
        if spellings.is_empty() || spellings.iter().any(|s| s.trim().is_empty()) {
            ctx.problem(f, "label needs at least one non-empty spelling".into());
            return None;
        }
        return Some(Extractor::Label(Label { spellings, paragraph: raw.paragraph }));
    }
    if let Some(table) = &raw.html_table {
        return compile_html_table(table, ctx, f).map(Extractor::HtmlTable);
    }
    if let Some(path) = &raw.xml_path {
        return match XmlPath::parse(path) {
            Ok(path) => Some(Extractor::XmlPath { path, source }),
            Err(e) => {
                ctx.problem(f, e.to_string());
                None
            }
        };
    }
    raw.constant.clone().map(Extractor::Constant)
}

fn compile_html_table(raw: &RawHtmlTable, ctx: &mut RuleCtx<'_>, f: Option<&str>) -> Option<HtmlTable> {
    match (&raw.label, &raw.selector) {
        (Some(labels), None) => {
            let labels = match labels {
                OneOrMany::One(s) => vec![s.clone()],
                OneOrMany::Many(v) => v.clone(),
                OneOrMany::None => Vec::new(),
            };
            if labels.is_empty() || labels.iter().any(|s| s.trim().is_empty()) {
                ctx.problem(f, "html_table.label needs at least one non-empty spelling".into());
                return None;
            }
            Some(HtmlTable::Label(labels))
        }
        (None, Some(css)) => match scraper::Selector::parse(css) {
            Ok(sel) => Some(HtmlTable::Selector(Box::new(sel))),
            Err(e) => {
                ctx.problem(f, format!("html_table.selector: invalid CSS selector {css:?}: {e}"));
                None
            }
        },
        _ => {
            ctx.problem(f, "html_table needs exactly one of label or selector".into());
            None
        }
    }
}

fn valid_field_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
