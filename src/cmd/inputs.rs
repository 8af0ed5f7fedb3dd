//! Collecting mail files from the paths given on the command line.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A mail file found under one of the given paths.
#[derive(Debug, Clone)]
pub struct MailFile {
    /// Full path.
    pub path: PathBuf,
    /// The path given on the command line it was found under (a folder, or the file itself).
    pub root: PathBuf,
}

/// File extensions treated as mail when walking folders (files named explicitly are always taken).
const MAIL_EXTENSIONS: [&str; 3] = ["eml", "msg", "txt"];

/// Expands files and folders (recursively, sorted) into mail files.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<MailFile>> {
    collect_with(paths, &MAIL_EXTENSIONS)
}

/// Like [`collect`], taking files with the given extensions when walking folders.
pub fn collect_with(paths: &[PathBuf], extensions: &[&str]) -> Result<Vec<MailFile>> {
    let mut out = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(root, extensions, &mut found)?;
            found.sort();
            out.extend(found.into_iter().map(|path| MailFile { path, root: root.clone() }));
        } else {
            out.push(MailFile { path: root.clone(), root: root.clone() });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, extensions, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}
