//! What can go wrong in a store.

use std::error::Error;

/// A store error, naming the store (its path or URL) and what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("store {location}: {operation} failed")]
    Backend {
        /// The store's path or URL.
        location: String,
        /// What the store was doing (`open`, `upsert findings`...).
        operation: &'static str,
        /// The database error.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// A stored finding or contribution could not be read back.
    #[error("store {location}: finding {id} is unreadable")]
    Corrupt {
        /// The store's path or URL.
        location: String,
        /// The finding's id.
        id: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A contribution could not be encoded.
    #[error("finding {id} cannot be encoded")]
    Encode {
        /// The finding's id.
        id: String,
        /// The encoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The store was written by a newer vigil.
    #[error("store {location} has schema version {found}; this vigil knows up to {supported}")]
    TooNew {
        /// The store's path or URL.
        location: String,
        /// The store's schema version.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A run was saved from a stale copy: another process saved it in between.
    #[error("store {location}: run {id} was changed by someone else (expected version {version}); reload it and try again")]
    Conflict {
        /// The store's path or URL.
        location: String,
        /// The run's id.
        id: String,
        /// The version the caller had.
        version: i64,
    },
    /// No finding has this id.
    #[error("no finding with id {0}")]
    NotFound(String),
    /// A suppression that cannot be stored (no criterion, no reason...).
    #[error("invalid suppression: {0}")]
    InvalidSuppression(String),
}

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
