use std::path::PathBuf;

/// A rule (or document) that could not be loaded: the file, the 1-based line of the offending
/// element (the selection, the modifier, the condition...) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct LoadError {
    /// The rule file.
    pub file: PathBuf,
    /// 1-based line of the offending element (0 when the file itself could not be read).
    pub line: usize,
    /// What is wrong, naming the element.
    pub reason: String,
}

/// An error inside a document before the file is known: a line and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub line: usize,
    pub reason: String,
}

impl Problem {
    pub(crate) fn new(line: usize, reason: impl Into<String>) -> Self {
        Problem {
            line,
            reason: reason.into(),
        }
    }

    pub(crate) fn in_file(self, file: &std::path::Path) -> LoadError {
        LoadError {
            file: file.to_path_buf(),
            line: self.line,
            reason: self.reason,
        }
    }
}
