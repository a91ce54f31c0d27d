//! vigil's detection pipeline: from input files to deduplicated findings.
//!
//! [`RuleSet::load`] loads the built-in rule pack, user rules, threat-intel lists and the
//! geo database once, compiles every rule and files it in a [`index::RuleIndex`].
//! [`detect`] spreads input files over worker threads; each worker streams its file's
//! events (`vigil-input`) through the index to the few rules that could match and folds
//! matches into finding drafts. Drafts from different files merge in an order-independent
//! way, so the output does not depend on thread scheduling. Correlations and first-seen
//! baselines, which need the whole run in time order, are evaluated last.
//!
//! ```no_run
//! use vigil_engine::{detect, DetectOptions, MemoryBaselines, Progress, RuleSet, RuleSetOptions};
//!
//! let set = RuleSet::load(&RuleSetOptions { builtin: true, ..Default::default() });
//! let inputs = vigil_input::expand(&["examples/incident".to_string()]).unwrap();
//! let run = detect(&set, &inputs, &DetectOptions::default(), &mut MemoryBaselines::default(),
//!     &Progress::default());
//! for item in run.findings {
//!     let (finding, _contributions) = item.expect("spilled findings read back");
//!     println!("{} {} x{}", finding.severity.label.as_str(), finding.rule_title, finding.event_count);
//! }
//! ```

mod baseline;
mod correlate;
mod draft;
mod draft_spill;
mod enrich;
mod finding_spill;
pub mod index;
mod memory;
mod meta;
mod output;
mod problem;
mod ruleset;
mod run;
pub mod selftest;
mod table;
mod worker;

pub use baseline::{BaselineEntry, BaselineStore, MemoryBaselines};
pub use draft::{Contribution, SampleRecord};
pub use finding_spill::{FindingItem, FindingSpillError, SortedFindings};
pub use memory::{bound_allocator_slack, MemoryBudget, DEFAULT_MEMORY_BYTES};
pub use meta::{parse_duration_ms, FirstSeen, RuleMeta};
pub use output::{Detection, Timings, Totals, DERIVED_INPUT};
pub use problem::RuleProblem;
pub use ruleset::{rule_key, LoadedRule, RuleSet, RuleSetOptions};
pub use run::{detect, DetectOptions, Progress};
pub use table::DEFAULT_KEYS_PER_WINDOW;
