//! Log sources in findings are written with their stable names (`cloudtrail`, as in output,
//! configuration and docs: [`LogSource::as_str`]). `LogSource`'s own serde derive writes
//! `cloud_trail`, so the model names them through these helpers instead.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vigil_event::LogSource;

/// One source, by name.
pub mod one {
    use super::*;

    /// Writes the source's stable name.
    pub fn serialize<S: Serializer>(source: &LogSource, serializer: S) -> Result<S::Ok, S::Error> {
        source.as_str().serialize(serializer)
    }

    /// Reads a stable name.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<LogSource, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(D::Error::custom)
    }
}

/// A list of sources, by name.
pub mod list {
    use super::*;

    /// Writes the sources' stable names.
    pub fn serialize<S: Serializer>(
        sources: &[LogSource],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = sources.iter().map(|source| source.as_str()).collect();
        names.serialize(serializer)
    }

    /// Reads stable names.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<LogSource>, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        names
            .iter()
            .map(|name| name.parse().map_err(D::Error::custom))
            .collect()
    }
}
