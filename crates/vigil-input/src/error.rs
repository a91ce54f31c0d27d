//! The errors that stop an input from being opened at all. Problems inside an input never
//! become errors: they are [`crate::Reject`]s, and the rest of the input is still read.

use std::path::PathBuf;

/// Why a path could not be expanded, an input opened, or the rejects file written.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path given on the command line does not exist.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path as given.
        path: String,
    },
    /// A glob pattern is not valid.
    #[error("{pattern}: invalid glob pattern: {reason}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A glob pattern matched no file.
    #[error("{pattern}: the pattern matches no file")]
    NoMatch {
        /// The pattern as given.
        pattern: String,
    },
    /// Walking a directory failed.
    #[error("{path}: cannot walk directory: {source}")]
    Walk {
        /// The directory or entry that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: walkdir::Error,
    },
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
