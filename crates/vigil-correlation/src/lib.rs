//! Sigma correlation rules (specification v2.1): the typed rule ([`CorrelationRule`]), built by
//! `vigil-sigma`'s loader from YAML or translated from a legacy `| count() by x > N`
//! condition, and its evaluator (being written).

mod types;

pub use types::*;
