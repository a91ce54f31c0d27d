//! The one error type of this crate: what went wrong, in which file, on which line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with one line (or one STIX object, or a whole file) of an intel or geo file.
///
/// Loading never stops at the first problem: the bad line is reported and the rest loads.
/// `line` is 1-based; `0` means the problem concerns the whole file (unreadable, empty JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct IntelError {
    /// The file as it was given or found.
    pub file: PathBuf,
    /// 1-based line number, or 0 for the whole file.
    pub line: usize,
    /// What is wrong, for a person to read.
    pub reason: String,
}

impl IntelError {
    /// An error at `line` of `file`.
    pub fn new(file: &Path, line: usize, reason: impl fmt::Display) -> Self {
        IntelError {
            file: file.to_path_buf(),
            line,
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_reason() {
        let error = IntelError::new(Path::new("lists/tor.txt"), 7, "not an address");
        assert_eq!(error.to_string(), "lists/tor.txt:7: not an address");
    }
}
