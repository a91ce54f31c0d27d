//! Why a correlation could not be built, with the file and line of its document.

use std::path::PathBuf;

use crate::CorrelationRule;

/// A correlation that could not be built (or translated), located in its rule file. The other
/// correlations of the set are still built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: correlation `{rule}`: {reason}", file.display())]
pub struct CorrelationError {
    /// Rule file of the correlation document.
    pub file: PathBuf,
    /// 1-based line of the correlation document.
    pub line: usize,
    /// The correlation's name, else its id, else its title.
    pub rule: String,
    /// What is wrong.
    pub reason: ErrorReason,
}

impl CorrelationError {
    /// An error about `rule`, located where the rule was loaded from.
    pub fn new(rule: &CorrelationRule, reason: ErrorReason) -> Self {
        CorrelationError {
            file: rule.file.clone(),
            line: rule.line,
            rule: label(rule).to_string(),
            reason,
        }
    }
}

/// How a correlation is named in messages: its name, else its id, else its title.
pub(crate) fn label(rule: &CorrelationRule) -> &str {
    rule.name
        .as_deref()
        .or(rule.id.as_deref())
        .unwrap_or(&rule.title)
}

/// The reason a correlation could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorReason {
    /// A `rules:` entry matches no loaded rule or correlation by id or name.
    #[error("references `{0}`, which is neither a loaded rule nor a correlation (by id or name)")]
    UnknownReference(String),
    /// An `aliases:` entry names a rule that matches nothing.
    #[error(
        "alias `{alias}` maps rule `{reference}`, which is neither a loaded rule nor a correlation"
    )]
    UnknownAliasReference { alias: String, reference: String },
    /// The correlation is part of a chain that leads back to itself.
    #[error("reference cycle: {0}")]
    Cycle(String),
    /// The correlation references a correlation that could not be built.
    #[error("references correlation `{0}`, which could not be built")]
    BrokenDependency(String),
    /// `rules:` is empty.
    #[error("references no rules")]
    NoRules,
    /// `timespan` is zero or negative.
    #[error("timespan must be positive, got {0} ms")]
    NonPositiveTimespan(i64),
    /// An `event_count` or `value_count` without a condition.
    #[error("{0} needs a condition")]
    MissingCondition(&'static str),
    /// A legacy `| fn() ...` aggregation other than `count`.
    #[error(
        "legacy aggregation `{0}()` is not supported (only count() translates to a correlation)"
    )]
    UnsupportedLegacyFunction(String),
}
