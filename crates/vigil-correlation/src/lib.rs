//! Sigma correlation rules (specification v2.1) for vigil: the typed rule
//! ([`CorrelationRule`], filled by `vigil-sigma`'s loader or translated from a legacy
//! `| count() by x > N` by [`from_legacy`]), reference resolution ([`CorrelationSet::build`]),
//! observation of base-rule matches ([`CorrelationSet::observe`]) and windowed evaluation
//! ([`CorrelationSet::evaluate`]) of `event_count`, `value_count`, `temporal` and
//! `temporal_ordered`, with group-by, aliases, chaining and suppression.
//!
//! Main types: [`CorrelationRule`], [`CorrelationSet`], [`Observation`], [`CorrelationHit`],
//! [`LegacyAggregation`], [`CorrelationError`].
//!
//! The engine calls [`CorrelationSet::observe`] on its worker threads for each match of a
//! base rule that [`CorrelationSet::wants`], keeps the small [`Observation`]s (no record
//! copies), and hands them all to [`CorrelationSet::evaluate`], which sorts them by time and
//! origin so the hits never depend on thread scheduling. Groups observed too few times
//! over the whole run to reach their correlation's threshold are left out before that sort
//! (most groups are seen once or twice).
//!
//! # Windows
//! Each (correlation, group-by values) has its own window of `timespan`:
//! - Conditions with only lower bounds (`gt`, `gte`; temporal types without a condition) use
//!   a **sliding** window, checked as each event arrives; an event stays in it while
//!   `now - event.time <= timespan` (a span of exactly `timespan` fits). After a hit the
//!   window empties and the hit stays open for `timespan`: events of that period are counted
//!   into the hit (`count`, `last_ms`) rather than starting a new one — a burst fires once
//!   per window, and each event is counted in at most one hit.
//! - Other conditions (`lt`, `lte`, `eq`, `neq`, ranges) use a **tumbling** window that opens
//!   at a group's first event and is checked when it closes, `timespan` later: when the
//!   group's next event comes after its end, or at the end of input. "Fewer than 3 in 1h"
//!   thus fires for a group seen once or twice; a group never seen cannot fire.
//! - `temporal` counts the distinct referenced rules seen in the window; `temporal_ordered`
//!   the longest prefix of `rules:` seen in that order.
//! - Chaining: a hit is seen by the correlations referencing it at its `fired_ms`, with its
//!   group-by values as fields.
//!
//! ```
//! use std::path::Path;
//! use vigil_correlation::{
//!     from_legacy, BaseRuleRef, CompareOp, CorrelationSet, LegacyAggregation,
//! };
//! use vigil_event::{Origin, Value};
//!
//! // `selection | count() by sourceIPAddress > 2` with `timeframe: 10m`.
//! let aggregation = LegacyAggregation {
//!     function: "count".into(),
//!     field: None,
//!     group_by: Some("sourceIPAddress".into()),
//!     op: CompareOp::Gt,
//!     threshold: 2,
//!     timeframe_ms: Some(10 * 60 * 1000),
//! };
//! let rule = from_legacy("macie-evasion", "AWS Macie Evasion", &aggregation,
//!     Path::new("rules/macie.yml"), 1).unwrap();
//! let base = [BaseRuleRef { id: "macie-evasion".into(), name: None }];
//! let (set, errors) = CorrelationSet::build(vec![rule], &base);
//! assert!(errors.is_empty());
//! assert!(set.wants(0) && !set.generates(0));
//!
//! let event: Value = sonic_rs::from_str(r#"{"sourceIPAddress":"203.0.113.9"}"#).unwrap();
//! let mut observations = Vec::new();
//! for second in 0..5 {
//!     let origin = Origin::new("trail.json", second + 1);
//!     observations.extend(set.observe(0, second as i64 * 1000, &event, &origin));
//! }
//! let hits = set.evaluate(observations);
//! assert_eq!(hits.len(), 1); // the burst fires once
//! assert_eq!(hits[0].count, 5);
//! assert_eq!(hits[0].group, vec![("sourceIPAddress".to_string(), "203.0.113.9".to_string())]);
//! ```

mod compiled;
mod cull;
mod error;
mod evaluate;
mod hit;
mod legacy;
mod observe;
mod order;
mod resolve;
mod set;
mod spill;
#[cfg(test)]
mod test_support;
mod types;
mod window;

pub use error::{CorrelationError, ErrorReason};
pub use hit::{CorrelationHit, MAX_CONTRIBUTING};
pub use legacy::{from_legacy, from_legacy_near, LegacyAggregation, DEFAULT_LEGACY_TIMEFRAME_MS};
pub use observe::{Group, Interner, Observation, Text};
pub use resolve::{BaseRuleRef, Member};
pub use set::CorrelationSet;
pub use spill::{SpillError, SpilledRun};
pub use types::*;
