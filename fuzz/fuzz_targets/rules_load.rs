//! Fuzz target: arbitrary text as a rules file, parsed, validated and compiled as TOML and as YAML
//! (`RuleSet::parse`, the path `RuleSet::load` and the functions' start-up take). Every problem must come back
//! as a `RulesError` whose message can be printed; a panic is a bug. A rule set that compiles is then run over
//! three fixture mails (plain text, HTML, ADF/XML), so the matchers and extractors it compiled are used too.

#![no_main]

use leadpipe_shared::email::AuthVerdicts;
use leadpipe_shared::rules::RulesFormat;
use leadpipe_shared::{extract, Email, ParseLimits, RuleSet};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Parsed once: the mails compiled rules are tried on, with the verdicts from their own headers.
fn mails() -> &'static [(Email, AuthVerdicts)] {
    static MAILS: OnceLock<Vec<(Email, AuthVerdicts)>> = OnceLock::new();
    MAILS.get_or_init(|| {
        let raws: [&[u8]; 3] = [
            include_bytes!("../../fixtures/emails/carportal-02.eml"),
            include_bytes!("../../fixtures/emails/homefinder-01.eml"),
            include_bytes!("../../fixtures/emails/autolead-01.eml"),
        ];
        raws.iter()
            .map(|raw| {
                let email = Email::parse(raw, &ParseLimits::default()).expect("fixture mail parses");
                let auth = AuthVerdicts::from_headers(&email);
                (email, auth)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (format, name) in [(RulesFormat::Toml, "fuzz.toml"), (RulesFormat::Yaml, "fuzz.yaml")] {
        match RuleSet::parse(&text, format, name) {
            Ok(rules) => {
                let _ = rules.detector_config();
                for (email, auth) in mails() {
                    let _ = extract(email, &rules, auth);
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
