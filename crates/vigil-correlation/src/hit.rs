//! A correlation hit: one (correlation, group) whose condition held in a window.

use vigil_event::Origin;

/// How many origins a hit keeps as evidence; the rest of the burst is only counted.
pub const MAX_CONTRIBUTING: usize = 10;

/// A correlation that matched for one group in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationHit {
    /// Which correlation (index in the [`crate::CorrelationSet`]).
    pub correlation: usize,
    /// Time of the earliest event counted, epoch milliseconds.
    pub first_ms: i64,
    /// Time of the latest event counted (including the burst absorbed after firing).
    pub last_ms: i64,
    /// When the condition was decided: the time of the event that made it hold, or for
    /// conditions decided at window close (`lt`, `lte`, `eq`, `neq`, ranges), the window's
    /// end. Chained correlations see the hit at this time.
    pub fired_ms: i64,
    /// `(group-by name, value)` pairs, in `group_by` order.
    pub group: Vec<(String, String)>,
    /// Events counted: those in the window when it fired plus those absorbed while the hit
    /// suppressed refiring.
    pub count: u64,
    /// `value_count`: distinct values counted; temporal types: distinct referenced rules seen;
    /// `event_count`: `None`.
    pub distinct: Option<u64>,
    /// Origins of the first [`MAX_CONTRIBUTING`] events counted (for a chained hit, the
    /// evidence of the hits it was built from), in time order, without repeats.
    pub contributing: Vec<Origin>,
}

impl CorrelationHit {
    /// Adds `origins` to the evidence, up to [`MAX_CONTRIBUTING`], skipping repeats.
    pub(crate) fn add_evidence<'a>(&mut self, origins: impl IntoIterator<Item = &'a Origin>) {
        for origin in origins {
            if self.contributing.len() >= MAX_CONTRIBUTING {
                return;
            }
            if !self.contributing.contains(origin) {
                self.contributing.push(origin.clone());
            }
        }
    }
}
