//! vigil's Sigma rule engine (specification v2, correlations v2.1): load rule files, compile
//! each detection once into a small tree of matchers, and evaluate it against events.
//!
//! Loading never stops at a bad rule: [`load_path`] and [`load_str`] return a [`LoadReport`]
//! with every rule and correlation that loaded and a [`LoadError`] (file, line of the
//! offending selection, modifier or condition, reason) for each one that did not. Log sources
//! are routed by data (`src/logsources.yaml`): `product: aws` + `service: cloudtrail` becomes
//! [`vigil_event::LogSource::CloudTrail`], and so on.
//!
//! Main types: [`Rule`] (metadata, [`RuleTest`]s, [`Rule::matches`], [`Rule::explain`],
//! [`Rule::matches_in`] with an [`EventMemo`] shared by the rules evaluated on one event,
//! [`Rule::index_hints`]), [`share_tests`] (the tests and field paths the rules of a set have
//! in common, evaluated once per event), [`LoadOptions`] (placeholders for `expand`, threat-intel lists
//! through [`ListLookup`] for vigil's `intel` modifier), [`IndexHint`], [`Explanation`].
//! Correlation documents are loaded into [`vigil_correlation::CorrelationRule`]; a Sigma 1
//! `| count() by x > N` is kept on the rule as a [`vigil_correlation::LegacyAggregation`].
//!
//! Matching semantics worth knowing: values compare case-insensitively unless `cased`;
//! `null` matches an absent field as well as a JSON null; numbers and booleans in an event
//! compare by their text; a field that holds an object is searched leaf by leaf by
//! `contains`/`startswith`/`endswith`/wildcard/`re` values (never by plain equality);
//! keywords match anywhere inside any value of the record.
//!
//! ```
//! use vigil_event::{Event, LogSource, Origin};
//! use vigil_sigma::{load_str, LoadOptions};
//!
//! let yaml = r#"
//! title: CloudTrail logging stopped
//! id: 4b9a3f1c-0000-4000-8000-000000000001
//! logsource: {product: aws, service: cloudtrail}
//! detection:
//!     selection:
//!         eventSource: cloudtrail.amazonaws.com
//!         eventName: [StopLogging, DeleteTrail]
//!     condition: selection
//! level: high
//! "#;
//! let report = load_str(yaml, "stop_logging.yml", &LoadOptions::default());
//! assert!(report.errors.is_empty());
//! let rule = &report.rules[0];
//! assert_eq!(rule.sources, vec![LogSource::CloudTrail]);
//!
//! let doc = sonic_rs::from_str(
//!     r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"stoplogging"}"#).unwrap();
//! let event = Event::new(LogSource::CloudTrail, doc, Origin::new("trail.json", 1));
//! assert!(rule.matches(&event));
//! assert_eq!(rule.index_hints()[0].field, "eventName");
//! ```

mod condition;
mod correlation;
mod detection;
mod document;
mod duration;
mod error;
mod eval;
mod hints;
mod legacy;
mod loader;
mod logsource;
mod matcher;
mod memo;
mod modifier;
mod options;
mod pattern;
mod placeholder;
mod prefilter;
mod rule;
mod ruletest;
mod selection;
mod share;
mod text;
mod value;
mod yaml;

pub use error::LoadError;
pub use eval::SigmaEvent;
pub use hints::IndexHint;
pub use loader::{load_path, load_str, LoadReport};
pub use logsource::Logsource;
pub use memo::EventMemo;
pub use options::{ListLookup, LoadOptions};
pub use rule::{Explanation, IntelHit, Rule};
pub use ruletest::RuleTest;
pub use share::share_tests;
