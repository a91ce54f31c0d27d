//! Playbooks: loading from YAML (with file and line in every error), validation against the
//! action catalog, and trigger matching.

mod model;
mod trigger;
mod validate;

use std::fmt;

pub use model::{
    AfterError, Approval, Branch, Choice, Format, InputSpec, Node, NodeKind, Notification, OnError,
    Playbook, RunEvent, Triggers, MAIN_FLOW, MAX_RETRIES,
};

use crate::action::Catalog;
use crate::yaml;

/// One problem in a playbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookError {
    /// The file (or name) it was loaded from.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for PlaybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.origin, self.reason),
            None => write!(f, "{}: {}", self.origin, self.reason),
        }
    }
}

impl std::error::Error for PlaybookError {}

/// Every problem found in a playbook file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct PlaybookErrors(pub Vec<PlaybookError>);

impl Playbook {
    /// Parses and validates a playbook: YAML and field types, then action names and
    /// parameters (against `catalog`), template variables, branches, cycles and
    /// unreachable steps. `origin` names the file in errors.
    pub fn load(text: &str, origin: &str, catalog: &Catalog) -> Result<Playbook, PlaybookErrors> {
        let error = |line: Option<usize>, reason: String| {
            PlaybookErrors(vec![PlaybookError {
                origin: origin.to_string(),
                line,
                reason,
            }])
        };
        let document = yaml::parse(text).map_err(|e| error(Some(e.line), e.reason))?;
        let mut playbook: Playbook =
            serde_path_to_error::deserialize(&document.value).map_err(|e| {
                let path = path_text(e.path());
                let line = document.line(&path);
                let place = if path.is_empty() || path == "." {
                    String::new()
                } else {
                    format!("{path}: ")
                };
                error(line, format!("{place}{}", e.into_inner()))
            })?;
        playbook.origin = origin.to_string();
        playbook.source = text.to_string();
        let mut problems = validate::validate(&playbook, catalog);
        if problems.is_empty() {
            return Ok(playbook);
        }
        let mut errors: Vec<PlaybookError> = problems
            .drain(..)
            .map(|(path, reason)| PlaybookError {
                origin: origin.to_string(),
                line: document.line(&path),
                reason: if path.is_empty() {
                    reason
                } else {
                    format!("{path}: {reason}")
                },
            })
            .collect();
        errors.sort_by_key(|e| e.line.unwrap_or(0));
        Err(PlaybookErrors(errors))
    }

    /// The nodes of a flow: `main` (the top-level `steps`) or a branch.
    pub fn flow(&self, name: &str) -> Option<&[Node]> {
        if name == MAIN_FLOW {
            return Some(&self.steps);
        }
        self.branches.get(name).map(|b| b.steps.as_slice())
    }

    /// Whether a flow is a production branch.
    pub fn is_production(&self, flow: &str) -> bool {
        self.branches.get(flow).is_some_and(|b| b.production)
    }

    /// Every flow with its name, `main` first.
    pub fn flows(&self) -> impl Iterator<Item = (&str, &[Node])> {
        std::iter::once((MAIN_FLOW, self.steps.as_slice())).chain(
            self.branches
                .iter()
                .map(|(name, branch)| (name.as_str(), branch.steps.as_slice())),
        )
    }

    /// The node with this id, with its flow.
    pub fn node(&self, id: &str) -> Option<(&str, &Node)> {
        self.flows().find_map(|(flow, nodes)| {
            nodes
                .iter()
                .find(|n| n.id.as_deref() == Some(id))
                .map(|n| (flow, n))
        })
    }

    /// The path of a flow's node in the file (`steps[2]`, `branches.prod.steps[0]`).
    pub(crate) fn node_path(flow: &str, index: usize) -> String {
        if flow == MAIN_FLOW {
            format!("steps[{index}]")
        } else {
            format!("branches.{flow}.steps[{index}]")
        }
    }
}

/// A serde path as `steps[2].on_error`.
fn path_text(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}
