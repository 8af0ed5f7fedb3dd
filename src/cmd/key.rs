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
        return PseudonymKey::from_json(&doc).map(Some).with_context(|| format!("{KEY_ENV} is set but invalid"));
    }
    if let Some(path) = std::env::var_os(KEY_FILE_ENV) {
        return read_file(Path::new(&path)).map(Some).with_context(|| format!("{KEY_FILE_ENV} is set but invalid"));
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
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read key file {}", path.display()))?;
    PseudonymKey::from_json(&text).with_context(|| format!("key file {}", path.display()))
}

/// The key for a local replay: an explicit one if configured, else the development key stored under the
/// output folder, created at random on first use (announced on stderr; never used by deployed functions).
pub fn for_replay(key_file: Option<&Path>, out_dir: &Path) -> Result<PseudonymKey> {
    if let Some(k) = load(key_file)? {
        return Ok(k);
    }
    let path = out_dir.join("dev-key.json");
    if path.is_file() {
        return read_file(&path);
    }
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let key = PseudonymKey::new("dev-local", secret)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    std::fs::write(&path, key.to_json()).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "note: no pseudonym key configured; created a random development key in {} (set {KEY_ENV} or {KEY_FILE_ENV} to use your own)",
        path.display()
    );
    Ok(key)
}
