//! A sandbox's share of the function log: the process appends to the file, and error reports quote the tail of
//! what this sandbox wrote (not earlier sandboxes').

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How much of the end of the log an error report quotes.
const TAIL_BYTES: u64 = 2048;

/// The log file, from where the current sandbox started writing.
pub(super) struct SandboxLog {
    path: PathBuf,
    file: File,
    start: u64,
}

impl SandboxLog {
    /// Opens `path` for appending (creating its folders) and writes `banner` to mark where this sandbox begins.
    pub(super) fn open(path: &Path, banner: &str) -> io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(file, "{banner}")?;
        let start = file.metadata()?.len();
        Ok(Self { path: path.to_path_buf(), file, start })
    }

    /// A handle for the process's stdout or stderr.
    pub(super) fn writer(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// The last lines this sandbox wrote, headed by the file's path, for error reports.
    pub(super) fn tail(&self) -> String {
        match self.read_tail() {
            Ok(text) if text.is_empty() => format!("(no output in {})", self.path.display()),
            Ok(text) => format!("log tail ({}):\n{text}", self.path.display()),
            Err(e) => format!("(cannot read {}: {e})", self.path.display()),
        }
    }

    fn read_tail(&self) -> io::Result<String> {
        let mut file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        let from = self.start.max(len.saturating_sub(TAIL_BYTES));
        file.seek(SeekFrom::Start(from))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes);
        // A cut in the middle of a line is noise: start at the next full line.
        let text = match text.find('\n') {
            Some(newline) if from > self.start => &text[newline + 1..],
            _ => &text[..],
        };
        Ok(text.trim_end().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_shows_only_this_sandboxs_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs/f.log");
        let first = SandboxLog::open(&path, "== sandbox 1").expect("open");
        writeln!(first.writer().expect("writer"), "old output").expect("write");
        let second = SandboxLog::open(&path, "== sandbox 2").expect("open");
        assert!(second.tail().starts_with("(no output in "), "{}", second.tail());
        writeln!(second.writer().expect("writer"), "new output").expect("write");
        assert!(second.tail().ends_with(":\nnew output"), "{}", second.tail());
    }
}
