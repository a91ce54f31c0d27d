//! Why a policy document could not be read.

use std::fmt;

/// Where in the document a problem is: line and column (1-based, of the statement or of the
/// JSON syntax error) and, for a statement, its index and the element at fault.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line, when the text of the document is known.
    pub line: Option<usize>,
    /// 1-based column, when the text of the document is known.
    pub column: Option<usize>,
    /// Index of the statement in `Statement` (0-based), when the problem is inside one.
    pub statement: Option<usize>,
    /// The element at fault, as a path: `Effect`, `Condition.StringEquals.aws:SourceVpce`.
    pub element: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let (Some(line), Some(column)) = (self.line, self.column) {
            parts.push(format!("line {line}, column {column}"));
        }
        if let Some(index) = self.statement {
            parts.push(format!("statement {index}"));
        }
        if let Some(element) = &self.element {
            parts.push(element.clone());
        }
        if parts.is_empty() {
            f.write_str("document")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// A policy document that vigil cannot read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("not JSON at line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// JSON, but not a policy document: a wrong type, an unknown value, a missing element.
    #[error("invalid policy at {location}: {reason}")]
    Invalid { location: Location, reason: String },
}

impl PolicyError {
    pub(crate) fn invalid(location: Location, reason: impl Into<String>) -> Self {
        PolicyError::Invalid {
            location,
            reason: reason.into(),
        }
    }

    /// Where the problem is, for errors about the structure of a statement.
    pub fn location(&self) -> Option<&Location> {
        match self {
            PolicyError::Syntax { .. } => None,
            PolicyError::Invalid { location, .. } => Some(location),
        }
    }
}
