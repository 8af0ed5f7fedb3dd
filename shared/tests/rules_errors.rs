//! Every rules-file error names the file, the rule and the field, and says what is wrong.

use leadpipe_shared::rules::RulesFormat;
use leadpipe_shared::RuleSet;

const GOOD_FIELD: &str = "[[rules.fields]]\nname = \"email\"\ntype = \"email\"\npii = \"email\"\nlabel = \"Email\"\n";

/// A one-rule file with `rule_extra` inserted into the rule table and `field` as its only field.
fn one_rule(rule_extra: &str, field: &str) -> String {
    format!(
        "[[rules]]\nid = \"cars-v2\"\nversion = 1\n{rule_extra}\n[rules.match]\nsender_domain = 'cars\\.example$'\n\n{field}"
    )
}

fn errors(text: &str) -> Vec<String> {
    match RuleSet::parse(text, RulesFormat::Toml, "rules.toml") {
        Ok(_) => vec![],
        Err(e) => e.problems(),
    }
}

fn assert_error(text: &str, expected: &str) {
    let errs = errors(text);
    assert!(errs.iter().any(|e| e == expected), "expected {expected:?}\n got {errs:#?}");
}

#[test]
fn a_valid_file_loads() {
    assert_eq!(errors(&one_rule("", GOOD_FIELD)), Vec::<String>::new());
}

#[test]
fn regex_without_value_group() {
    let field = "[[rules.fields]]\nname = \"phone\"\ntype = \"phone\"\nregex = 'Phone: (\\d+)'\n";
    assert_error(&one_rule("", field), r#"rules.toml: rule "cars-v2" field "phone": regex has no group named "value""#);
}

#[test]
fn invalid_regex_names_the_place() {
    let field = "[[rules.fields]]\nname = \"phone\"\nregex = '(?P<value>[0-9'\n";
    let errs = errors(&one_rule("", field));
    assert!(
        errs.iter().any(|e| e.starts_with(r#"rules.toml: rule "cars-v2" field "phone": regex: invalid regex:"#)),
        "{errs:#?}"
    );
    let errs = errors(&one_rule("", GOOD_FIELD).replace(r"cars\.example$", "cars(("));
    assert!(
        errs.iter().any(|e| e.starts_with(r#"rules.toml: rule "cars-v2": match.sender_domain: invalid regex:"#)),
        "{errs:#?}"
    );
}

#[test]
fn oversized_regex_is_rejected() {
    let field = "[[rules.fields]]\nname = \"x\"\nregex = '(?P<value>\\w{1000}){1000}'\n";
    let errs = errors(&one_rule("", field));
    assert!(
        errs.iter().any(|e| e.contains(r#"field "x": regex: invalid regex:"#) && e.contains("size limit")),
        "{errs:#?}"
    );
}

#[test]
fn unknown_keys_are_rejected() {
    assert_error(
        &one_rule("colour = \"red\"", GOOD_FIELD),
        r#"rules.toml: rule "cars-v2": colour: unknown field `colour`, expected one of `id`, `version`, `priority`, `description`, `require_auth`, `phone_region`, `region`, `currency`, `timezone`, `policy`, `match`, `fields`"#,
    );
    let field = format!("{GOOD_FIELD}requird = true\n");
    let errs = errors(&one_rule("", &field));
    assert!(
        errs.iter()
            .any(|e| e.starts_with(r#"rules.toml: rule "cars-v2" field "email": requird: unknown field `requird`"#)),
        "{errs:#?}"
    );
    let errs = errors(&format!("[defaults]\nregoin = \"US\"\n{}", one_rule("", GOOD_FIELD)));
    assert!(errs.iter().any(|e| e.starts_with("rules.toml: defaults.regoin: unknown field `regoin`")), "{errs:#?}");
}

#[test]
fn unknown_types_and_classes() {
    let field = GOOD_FIELD.replace("type = \"email\"", "type = \"emial\"");
    let errs = errors(&one_rule("", &field));
    assert!(
        errs.iter()
            .any(|e| e.starts_with(r#"rules.toml: rule "cars-v2" field "email": type: unknown variant `emial`"#)),
        "{errs:#?}"
    );
    let field = GOOD_FIELD.replace("pii = \"email\"", "pii = \"secret\"");
    let errs = errors(&one_rule("", &field));
    assert!(
        errs.iter()
            .any(|e| e.starts_with(r#"rules.toml: rule "cars-v2" field "email": pii: unknown variant `secret`"#)),
        "{errs:#?}"
    );
}

#[test]
fn duplicate_ids_and_field_names() {
    let text = format!("{}\n{}", one_rule("", GOOD_FIELD), one_rule("", GOOD_FIELD));
    assert_error(&text, r#"rules.toml: rule "cars-v2": duplicate rule id"#);
    let text = one_rule("", &format!("{GOOD_FIELD}\n{GOOD_FIELD}"));
    assert_error(&text, r#"rules.toml: rule "cars-v2" field "email": duplicate field name"#);
}

#[test]
fn extractor_count_and_applicability() {
    let field = "[[rules.fields]]\nname = \"x\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": exactly one extractor needed (regex, label, html_table, xml_path or constant); found none"#,
    );
    let field = "[[rules.fields]]\nname = \"x\"\nlabel = \"X\"\nconstant = \"y\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": exactly one extractor needed (regex, label, html_table, xml_path or constant); found label, constant"#,
    );
    let field = "[[rules.fields]]\nname = \"x\"\nlabel = \"X\"\nsource = \"subject\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": source does not apply to a label extractor"#,
    );
    let field = "[[rules.fields]]\nname = \"x\"\nregex = '(?P<value>.)'\nsource = \"body\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": unknown source "body" (expected text, html, subject, header:NAME or attachment:GLOB)"#,
    );
}

#[test]
fn html_table_and_xml_path_problems() {
    let field = "[[rules.fields]]\nname = \"x\"\nhtml_table = { selector = \"td[\" }\n";
    let errs = errors(&one_rule("", field));
    assert!(
        errs.iter().any(|e| e
            .starts_with(r#"rules.toml: rule "cars-v2" field "x": html_table.selector: invalid CSS selector "td[""#)),
        "{errs:#?}"
    );
    let field = "[[rules.fields]]\nname = \"x\"\nhtml_table = { label = \"A\", selector = \"td\" }\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": html_table needs exactly one of label or selector"#,
    );
    let field = "[[rules.fields]]\nname = \"x\"\nxml_path = \"/adf/@part/name\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "x": invalid xml_path: an attribute must be the last step in "/adf/@part/name""#,
    );
}

#[test]
fn type_options_are_checked() {
    let field = "[[rules.fields]]\nname = \"kind\"\ntype = \"enum\"\nlabel = \"Kind\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "kind": an enum field needs a non-empty `values` list"#,
    );
    let field = "[[rules.fields]]\nname = \"kind\"\ntype = \"enum\"\nvalues = [\"buy\"]\naliases = { rent = \"lease\" }\nlabel = \"Kind\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "kind": alias "rent" points to "lease", which is not in values"#,
    );
    let field = "[[rules.fields]]\nname = \"n\"\nformat = \"%Y\"\nlabel = \"N\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "n": format only applies to date and datetime fields"#,
    );
    let field = "[[rules.fields]]\nname = \"year\"\ntype = \"integer\"\nconstant = \"soon\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "year": constant is not a valid integer: not a number"#,
    );
    let field = "[[rules.fields]]\nname = \"p\"\ntype = \"phone\"\nregion = \"XX\"\nlabel = \"P\"\n";
    assert_error(
        &one_rule("", field),
        r#"rules.toml: rule "cars-v2" field "p": unknown region "XX" (expected an ISO 3166 code such as "US")"#,
    );
    assert_error(
        &one_rule("currency = \"dollars\"", GOOD_FIELD),
        r#"rules.toml: rule "cars-v2": currency "dollars" is not an ISO 4217 code such as "USD""#,
    );
}

#[test]
fn ids_names_versions_and_match_blocks() {
    let text = one_rule("", GOOD_FIELD).replace("id = \"cars-v2\"", "id = \"Cars V2\"");
    assert_error(&text, r#"rules.toml: rule "Cars V2": id must match [a-z0-9][a-z0-9._-]* (lowercase)"#);
    let text = one_rule("", GOOD_FIELD).replace("version = 1", "version = 0");
    assert_error(&text, r#"rules.toml: rule "cars-v2": version must be >= 1"#);
    let text = one_rule("", GOOD_FIELD).replace("sender_domain = 'cars\\.example$'", "");
    assert_error(
        &text,
        r#"rules.toml: rule "cars-v2": match: no condition given (sender, sender_domain, subject, headers or body_contains)"#,
    );
    let text = one_rule("", &GOOD_FIELD.replace("name = \"email\"", "name = \"E-Mail\""));
    assert_error(&text, r#"rules.toml: rule "cars-v2" field "E-Mail": name must match [a-z][a-z0-9_]*"#);
    let text = "[[rules]]\nversion = 1\n[rules.match]\nsubject = 'x'\n";
    assert_error(text, r##"rules.toml: rule "#1": missing field `id`"##);
    assert_error("", "rules.toml: no rules defined (expected [[rules]])");
}

#[test]
fn syntax_errors_and_yaml() {
    let errs = errors("[[rules]\nid = 1");
    assert!(
        errs.len() == 1 && errs[0].starts_with("rules.toml: TOML syntax, line 1, column 9: unclosed array table"),
        "{errs:#?}"
    );
    assert!(!errs[0].contains('\n'), "{errs:#?}");
    let errs = errors("[defaults]\nregion = \"US\"\nregion = \"DE\"\n");
    assert!(errs.len() == 1 && errs[0].starts_with("rules.toml: TOML syntax, line 3, column 1: "), "{errs:#?}");
    let yaml = "rules:\n  - id: cars-v2\n    version: 1\n    match:\n      sender_domain: 'cars\\.example$'\n    fields:\n      - name: phone\n        regex: 'x'\n";
    let e = RuleSet::parse(yaml, RulesFormat::Yaml, "rules.yaml").expect_err("no value group");
    assert_eq!(
        e.problems(),
        vec![r#"rules.yaml: rule "cars-v2" field "phone": regex has no group named "value""#.to_string()]
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let field = "[[rules.fields]]\nname = \"a\"\nregex = 'x'\n\n[[rules.fields]]\nname = \"b\"\n";
    let errs = errors(&one_rule("priority = 3", field));
    assert!(errs.len() >= 2, "{errs:#?}");
}

#[test]
fn missing_file_and_unknown_extension() {
    let e = RuleSet::load(std::path::Path::new("/nonexistent/rules.toml")).expect_err("missing");
    assert!(e.to_string().starts_with("/nonexistent/rules.toml: "), "{e}");
    let e = RuleSet::load(std::path::Path::new("rules.ini")).expect_err("extension");
    assert_eq!(e.to_string(), "rules.ini: unknown rules file extension (expected .toml, .yaml or .yml)");
}

#[test]
fn lists_of_rules_and_fields_of_the_wrong_shape() {
    assert_error("rules = \"cars\"\n", "rules.toml: rules: invalid type: string, expected a list");
    let text = "[[rules]]\nid = \"cars-v2\"\nversion = 1\nfields = 3\n[rules.match]\nsubject = 'x'\n";
    assert_error(text, r#"rules.toml: rule "cars-v2": fields: invalid type: integer, expected a list"#);
    let text = "[[rules]]\nid = \"cars-v2\"\nversion = 1\n[rules.match]\nsubject = 'x'\n";
    assert_error(text, r#"rules.toml: rule "cars-v2": missing field `fields`"#);
    // Each rule is read on its own: the second rule's problem is reported beside the first's.
    let vans = one_rule("region = \"XX\"", GOOD_FIELD).replace("cars-v2", "vans");
    let text = format!("{}\n{vans}", one_rule("colour = 1", GOOD_FIELD));
    let errs = errors(&text);
    assert!(errs.iter().any(|e| e.starts_with(r#"rules.toml: rule "cars-v2": colour: unknown field"#)), "{errs:#?}");
    assert!(errs.iter().any(|e| e.starts_with(r#"rules.toml: rule "vans": unknown region "XX""#)), "{errs:#?}");
    let yaml = "rules:\n  - id: cars-v2\n    version: 1\n    match:\n      subject: x\n    fields: nope\n";
    let e = RuleSet::parse(yaml, RulesFormat::Yaml, "rules.yaml").expect_err("fields not a list");
    assert_eq!(e.problems(), vec![r#"rules.yaml: rule "cars-v2": fields: invalid type: string, expected a list"#]);
}

#[test]
fn toml_dates_where_text_is_expected_are_read_as_their_text() {
    // A bare TOML date reads as its text, as it did when TOML went through the `config` crate.
    let field = "[[rules.fields]]\nname = \"since\"\ntype = \"date\"\nconstant = 2024-05-01\n";
    assert_eq!(errors(&one_rule("", field)), Vec::<String>::new());
    let field = "[[rules.fields]]\nname = \"since\"\nconstant = 2024-05-01\nformat = 2024-05-01T10:00:00Z\n";
    let errs = errors(&one_rule("", field));
    assert!(errs.iter().all(|e| !e.contains("invalid type")), "{errs:#?}");
}

#[test]
fn a_pattern_that_fails_to_translate_leaves_the_next_ones_checked_alike() {
    // The patterns of a file share their checks: an error, or a top-level flag, must not carry over (found by a
    // review: a failed translation made the next pattern panic; `(?-u)` checked the next one with ASCII classes).
    let fields = "[[rules.fields]]\nname = \"a\"\nregex = '(?P<value>x\\p{Latn_typo})'\n\n\
                  [[rules.fields]]\nname = \"b\"\nregex = '(?-u)(?P<value>\\w+)'\n\n\
                  [[rules.fields]]\nname = \"c\"\nregex = '(?P<value>\\w{100})'\n";
    let errs = errors(&one_rule("", fields));
    assert!(
        errs.iter().any(|e| e.starts_with(r#"rules.toml: rule "cars-v2" field "a": regex: invalid regex:"#)),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.contains(r#"field "c": regex: invalid regex:"#) && e.contains("size limit")),
        "{errs:#?}"
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
}
