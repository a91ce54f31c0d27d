//! A loaded Sigma detection rule: its metadata, its tests and its compiled detection.

use std::path::PathBuf;

use vigil_correlation::LegacyAggregation;
use vigil_event::{FieldPath, LogSource};

use crate::eval::{Node, SigmaEvent};
use crate::hints::{self, IndexHint};
use crate::logsource::Logsource;
use crate::matcher::{Collector, Discard};
use crate::memo::{EventMemo, Memo};
use crate::ruletest::RuleTest;

/// A Sigma detection rule, compiled once and evaluated against many events.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `id:` (a UUID in SigmaHQ rules); for a rule without one, the file stem.
    pub id: String,
    /// `name:`, by which correlations may reference the rule.
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub status: Option<String>,
    /// informational, low, medium, high or critical.
    pub level: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    /// `fields:`: fields worth showing an analyst.
    pub fields: Vec<String>,
    pub logsource: Logsource,
    /// The vigil log sources the logsource routes to.
    pub sources: Vec<LogSource>,
    /// File and 1-based line of the rule's document.
    pub file: PathBuf,
    pub line: usize,
    /// The rule's `vigil:` block as JSON (`Null` when absent).
    pub vigil: serde_json::Value,
    /// The `vigil.tests` samples.
    pub tests: Vec<RuleTest>,
    /// A Sigma 1 `| count() by x > N` aggregation; the rule's detection is the part before
    /// the `|`, and the correlation crate translates this into a correlation.
    pub legacy_aggregation: Option<LegacyAggregation>,
    pub(crate) root: Node,
}

/// A threat-intel entry that made a rule match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelHit {
    /// The field whose value was found (`sourceIPAddress`).
    pub field: String,
    /// The list it was found in (`tor_exit_nodes`).
    pub list: String,
    /// The entry of the list that matched (an address, a network, a domain...).
    pub entry: String,
}

/// Why a rule matched an event, beyond the rule itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Threat-intel entries that took part in the match (none under a `not`).
    pub intel_hits: Vec<IntelHit>,
}

impl Collector for Explanation {
    fn intel_hit(&mut self, field: &FieldPath, list: &str, entry: String) {
        let hit = IntelHit {
            field: field.as_str().to_string(),
            list: list.to_string(),
            entry,
        };
        if !self.intel_hits.contains(&hit) {
            self.intel_hits.push(hit);
        }
    }
}

impl Rule {
    /// Whether the event matches the rule's detection. Accepts an [`vigil_event::Event`], a
    /// bare JSON value, or any `dyn FieldLookup` (keyword selections need the whole record
    /// and never match through a bare `FieldLookup`).
    pub fn matches<E: SigmaEvent + ?Sized>(&self, event: &E) -> bool {
        self.root.eval(event, &mut Discard, &mut Memo::new())
    }

    /// [`Rule::matches`] for an event that many rules are evaluated on: they share the work
    /// kept in `memo` (a value lower-cased once for all their case-insensitive searches).
    pub fn matches_in<E: SigmaEvent + ?Sized>(&self, memo: &mut EventMemo<'_, E>) -> bool {
        let (event, memo) = memo.parts();
        self.root.eval(event, &mut Discard, memo)
    }

    /// Evaluates again, collecting what explains a match; call it for matched events.
    pub fn explain<E: SigmaEvent + ?Sized>(&self, event: &E) -> Explanation {
        let mut explanation = Explanation::default();
        if !self.root.eval(event, &mut explanation, &mut Memo::new()) {
            explanation.intel_hits.clear();
        }
        explanation
    }

    /// Necessary literal conditions for an index: an event can match only if it satisfies
    /// every hint.
    pub fn index_hints(&self) -> Vec<IndexHint> {
        hints::derive(&self.root)
    }

    /// Why no CloudTrail record can ever match the rule, when its condition says so on its
    /// face: it requires a field that holds one value (`eventName`, `eventSource`...) to
    /// equal values no single record holds at once (`selection1 and selection2`, each with
    /// another `eventName` — usually meant as a correlation of two events). `None` when some
    /// record might match; a sufficient test, not a complete one.
    pub fn never_matches(&self) -> Option<String> {
        let field = hints::contradiction(&self.root)?;
        Some(format!(
            "its condition requires `{}` to equal values no single event holds at once (the \
             selections it joins with `and` each ask for other ones); to match events that \
             follow each other, write a correlation (temporal, over the separate selections)",
            field
        ))
    }

    /// Gives a correlation derived from this rule (a legacy `| count()` or `| near`
    /// condition) the rule's own metadata, so its findings read like the rule's.
    pub fn copy_metadata_into(&self, correlation: &mut vigil_correlation::CorrelationRule) {
        correlation.description = self.description.clone();
        correlation.level = self.level.clone();
        correlation.status = self.status.clone();
        correlation.tags = self.tags.clone();
        correlation.references = self.references.clone();
        correlation.falsepositives = self.falsepositives.clone();
        correlation.vigil = self.vigil.clone();
    }

    /// Whether the rule looks values up in threat-intel lists (then [`Rule::explain`] names
    /// the list entries that matched).
    pub fn uses_lists(&self) -> bool {
        self.root.uses_lists()
    }

    /// Whether the rule applies to events of `source`.
    pub fn applies_to(&self, source: LogSource) -> bool {
        self.sources.contains(&source)
    }
}
