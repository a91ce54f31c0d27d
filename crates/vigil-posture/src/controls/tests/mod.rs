//! One test per control: the compliant baseline passes, one broken resource fails, a
//! failed API call gives UNKNOWN.

mod baseline;
mod data;
mod detection;
mod iam;
mod infrastructure;
mod options;
mod readiness;
