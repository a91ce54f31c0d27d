use std::fmt;
use std::path::{Path, PathBuf};

/// Something that could not be loaded — a rule, a list entry, a file — with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub file: PathBuf,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    pub reason: String,
}

impl RuleProblem {
    pub fn new(file: impl AsRef<Path>, line: usize, reason: impl Into<String>) -> Self {
        RuleProblem {
            file: file.as_ref().to_path_buf(),
            line,
            reason: reason.into(),
        }
    }

    pub fn file(file: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Self::new(file, 0, reason)
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.reason)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
        }
    }
}
