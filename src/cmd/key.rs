//! Loading the pseudonym key for local runs: `LEADPIPE_KEY` (the JSON key document), `LEADPIPE_KEY_FILE` (a
//! file holding it), or an explicit `--key-file`. There is no built-in key.

use anyhow::{bail, Context, Result};
use leadpipe_shared::anonymize::PseudonymKey;
use std::path::Path;

/// Environment variable holding the JSON key document `{"key_id": ..., "secret": ...}`.
pub const KEY_ENV: &str = "LEADPIPE_KEY";
/// Environment variable naming a file that holds the JSON key document.
pub const KEY_FILE_ENV: &str = "LEADPIPE_KEY_FILE";

/// Loads the key from `--key-file`, else `LEADPIPE_KEY`, else `LEADPIPE_KEY_FILE`; `Ok(None)` when none is set.
pub fn load(key_file: Option<&Path>) -> Result<Option<PseudonymKey>> {
    if let Some(path) = key_file {
        return read_file(path).map(Some);
    }
    if let Ok(doc) = std::env::var(KEY_ENV) {
        return PseudonymKey::from_json(&doc)
            .map(Some)
            .with_context(|| format!("{KEY_ENV} is set but invalid"));
    }
    if let Some(path) = std::env::var_os(KEY_FILE_ENV) {
        return read_file(Path::new(&path))
            .map(Some)
            .with_context(|| format!("{KEY_FILE_ENV} is set but invalid"));
    }
    Ok(None)
}

/// Loads the key or fails with instructions.
pub fn require(key_file: Option<&Path>) -> Result<PseudonymKey> {
    match load(key_file)? {
        Some(k) => Ok(k),
        None => bail!(
            "no pseudonym key: set {KEY_ENV} to '{{\"key_id\":\"...\",\"secret\":\"<base64, 32+ bytes>\"}}', \
             set {KEY_FILE_ENV} to a file holding that JSON, or pass --key-file"
        ),
    }
}

fn read_file(path: &Path) -> Result<PseudonymKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    PseudonymKey::from_json(&text).with_context(|| format!("key file {}", path.display()))
}
