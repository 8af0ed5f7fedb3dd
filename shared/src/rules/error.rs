//! Rules-file errors. Every problem names the file and, where it applies, the rule id and the field, e.g.
//! `rules.toml: rule "autotrader-v2" field "phone": regex has no group named "value"`.

use std::fmt;

/// Why a rules file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read or is not valid TOML/YAML.
    #[error("{file}: {message}")]
    Read {
        /// The rules file.
        file: String,
        /// What went wrong, from the reader.
        message: String,
    },
    /// The file parsed, but some rules are invalid; all problems are listed.
    #[error("{}", display_problems(.file, .problems))]
    Invalid {
        /// The rules file.
        file: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule's id (or `#N` for a rule without a readable id).
    pub rule: Option<String>,
    /// The field's name (or `#N`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut place = Vec::new();
        if let Some(rule) = &self.rule {
            place.push(format!("rule {rule:?}"));
        }
        if let Some(field) = &self.field {
            place.push(format!("field {field:?}"));
        }
        if place.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", place.join(" "), self.message)
        }
    }
}

impl RulesError {
    /// The individual problems (one for a read error).
    pub fn problems(&self) -> Vec<String> {
        match self {
            Self::Read { file, message } => vec![format!("{file}: {message}")],
            Self::Invalid { file, problems } => problems.iter().map(|p| format!("{file}: {p}")).collect(),
        }
    }
}

fn display_problems(file: &str, problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("{file}: {p}")).collect::<Vec<_>>().join("\n")
}
