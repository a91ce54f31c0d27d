//! Threat intelligence for vigil's rules: named lists of IP addresses and networks, domains,
//! user agents and access key ids, and an IP geolocation table.
//!
//! Lists are loaded from files — plain lines, CSV with a header, or STIX 2.1 indicator
//! bundles, detected from the content — and each entry matches by its kind: networks by
//! containment (longest prefix), domains by themselves and their subdomains, anything else by
//! case-insensitive equality. A lookup returns the entry as it was written, so a finding can
//! name the list and the entry that matched. Bad lines are reported with file and line
//! ([`IntelError`]); the rest loads.
//!
//! Main types: [`IntelSet`] (every list, by name), [`IntelList`], [`IntelEntry`],
//! [`GeoDb`] and [`GeoInfo`].
//!
//! ```
//! use std::path::Path;
//! use vigil_intel::IntelSet;
//!
//! let mut intel = IntelSet::default();
//! let problems = intel.add_file(
//!     Path::new("mining_pools.txt"),
//!     b"# known pools\npool.example\n203.0.113.0/24\n",
//! );
//! assert!(problems.is_empty());
//! assert_eq!(intel.lookup("mining_pools", "xmr.Pool.Example"), Some("pool.example"));
//! assert_eq!(intel.lookup("mining_pools", "evilpool.example"), None);
//! assert_eq!(intel.lookup("mining_pools", "203.0.113.255"), Some("203.0.113.0/24"));
//! ```

mod error;
mod format;
mod geo;
mod indicator;
mod list;
mod prefix;
mod set;

pub use error::IntelError;
pub use geo::{GeoDb, GeoInfo};
pub use indicator::IndicatorKind;
pub use list::{IntelEntry, IntelList};
pub use set::IntelSet;
