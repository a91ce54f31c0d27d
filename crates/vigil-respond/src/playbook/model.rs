//! The shape of a playbook file.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::condition::Condition;

/// The name of the top-level flow (`steps:`); no branch may use it.
pub const MAIN_FLOW: &str = "main";

/// A response playbook: when it applies, what it needs from the finding, and the steps,
/// decisions and approvals that respond.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Stable id, e.g. `ec2-instance-compromise`.
    pub id: String,
    pub title: String,
    /// The goal, for the runbook.
    pub description: String,
    /// Which findings start it.
    #[serde(default)]
    pub triggers: Triggers,
    /// What must be in place (services, tools, access), for the runbook.
    #[serde(default)]
    pub prerequisites: Vec<String>,
    /// Values taken from the finding, by name.
    #[serde(default)]
    pub inputs: BTreeMap<String, InputSpec>,
    /// The main flow.
    pub steps: Vec<Node>,
    /// Flows that decisions and `goto` lead to.
    #[serde(default)]
    pub branches: BTreeMap<String, Branch>,
    /// What a human must do that vigil does not (or cannot) automate.
    #[serde(default)]
    pub human_steps: Vec<String>,
    /// Messages sent when the run reaches a state (awaiting approval, failed, finished).
    #[serde(default)]
    pub notifications: Vec<Notification>,
    /// Documents the playbook follows.
    #[serde(default)]
    pub references: Vec<String>,
    /// Where it was loaded from (file name), for errors.
    #[serde(skip)]
    pub origin: String,
    /// Its YAML text, kept with each run so `resume` runs the same version.
    #[serde(skip)]
    pub source: String,
}

/// Which findings start a playbook. A finding matches when any of `rules`, `tags`,
/// `finding_types` or `events` matches (an empty list matches nothing), and it is at least
/// `min_severity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Rule ids.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Rule tags (`attack.t1496`, `attack.impact`), case-insensitive.
    #[serde(default)]
    pub tags: Vec<String>,
    /// GuardDuty / Security Hub finding types, as globs (`UnauthorizedAccess:EC2/*`).
    #[serde(default)]
    pub finding_types: Vec<String>,
    /// Matches on the finding's evidence records: every `path: glob` of one entry must hold.
    #[serde(default)]
    pub events: Vec<BTreeMap<String, Value>>,
    /// Lowest severity label that starts the playbook (`MEDIUM`...).
    #[serde(default)]
    pub min_severity: Option<String>,
}

/// Well-known value shapes: each extracts its value from longer text (an ARN, a message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    InstanceId,
    AccessKeyId,
    AccountId,
    Arn,
    Ipv4,
    Cidr,
    SecurityGroupId,
    SnapshotId,
    BucketName,
    IamName,
}

impl Format {
    /// The regex that finds a value of this shape; group 1, when present, is the value.
    pub fn pattern(self) -> &'static str {
        match self {
            Format::InstanceId => r"\b(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b",
            Format::AccessKeyId => r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b",
            Format::AccountId => r"\b([0-9]{12})\b",
            Format::Arn => r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+)",
            Format::Ipv4 => {
                r"\b((?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3})\b"
            }
            Format::Cidr => r"\b((?:[0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2})\b",
            Format::SecurityGroupId => r"\b(sg-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b",
            Format::SnapshotId => r"\b(snap-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b",
            Format::BucketName => {
                r"^(?:arn:aws[a-z-]*:s3:::)?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/.*)?$"
            }
            Format::IamName => r"(?:^|/)([\w+=,.@-]{1,128})$",
        }
    }
}

/// A value taken from the finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    #[serde(default)]
    pub description: Option<String>,
    /// Paths into the finding, tried in order; the first value that fits is taken.
    pub from: Vec<String>,
    /// The value's shape; also extracts it from longer text (an ARN).
    #[serde(default)]
    pub format: Option<Format>,
    /// A regex the whole value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Whether a run refuses to start without it.
    #[serde(default = "yes")]
    pub required: bool,
    /// The value when the finding has none.
    #[serde(default)]
    pub default: Option<Value>,
    /// Take every distinct fitting value (a list) instead of the first.
    #[serde(default)]
    pub many: bool,
}

fn yes() -> bool {
    true
}

/// A named flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    #[serde(default)]
    pub description: Option<String>,
    /// A production branch: every mutating step needs approval (unless configured otherwise).
    #[serde(default)]
    pub production: bool,
    pub steps: Vec<Node>,
}

/// Whether a step waits for a human.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Runs without approval, except where policy (production) requires it.
    #[default]
    Auto,
    /// Always waits for `approve`.
    Required,
}

/// What to do after a step fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OnError {
    /// Extra attempts after a transient error.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff_ms: u64,
    /// After the last attempt fails: stop the run, or record the failure and go on.
    pub then: AfterError,
}

/// The run's course after a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterError {
    Stop,
    Continue,
}

impl Default for OnError {
    fn default() -> Self {
        OnError {
            retries: 0,
            backoff_ms: 1000,
            then: AfterError::Stop,
        }
    }
}

/// Most retries a step may ask for.
pub const MAX_RETRIES: u32 = 10;

impl<'de> Deserialize<'de> for OnError {
    /// `stop`, `continue`, or `{ retry: 3, backoff_ms: 500, then: continue }`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        const EXPECTED: &str =
            "expected `stop`, `continue` or `{ retry: N, backoff_ms: MS, then: stop|continue }`";
        let value = Value::deserialize(deserializer)?;
        match value {
            Value::String(word) => match word.as_str() {
                "stop" => Ok(OnError::default()),
                "continue" => Ok(OnError {
                    then: AfterError::Continue,
                    ..OnError::default()
                }),
                other => Err(D::Error::custom(format!("`{other}`: {EXPECTED}"))),
            },
            Value::Object(map) => {
                let mut on_error = OnError::default();
                for (key, item) in &map {
                    match (key.as_str(), item) {
                        ("retry", Value::Number(n)) => {
                            on_error.retries = n
                                .as_u64()
                                .and_then(|n| u32::try_from(n).ok())
                                .filter(|n| *n <= MAX_RETRIES)
                                .ok_or_else(|| {
                                    D::Error::custom(format!(
                                        "`retry: {n}`: at most {MAX_RETRIES} retries"
                                    ))
                                })?;
                        }
                        ("backoff_ms", Value::Number(n)) => {
                            on_error.backoff_ms =
                                n.as_u64().filter(|ms| *ms <= 600_000).ok_or_else(|| {
                                    D::Error::custom("`backoff_ms` is 0 to 600000".to_string())
                                })?;
                        }
                        ("then", Value::String(then)) => {
                            on_error.then = match then.as_str() {
                                "stop" => AfterError::Stop,
                                "continue" => AfterError::Continue,
                                other => {
                                    return Err(D::Error::custom(format!(
                                        "`then: {other}`: expected stop or continue"
                                    )))
                                }
                            }
                        }
                        _ => {
                            return Err(D::Error::custom(format!(
                                "unexpected `{key}: {item}`: {EXPECTED}"
                            )))
                        }
                    }
                }
                Ok(on_error)
            }
            other => Err(D::Error::custom(format!("`{other}`: {EXPECTED}"))),
        }
    }
}

/// One choice of a decision: where the flow goes when `when` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub when: Condition,
    pub goto: String,
    /// Why, for the runbook.
    #[serde(default)]
    pub description: Option<String>,
}

/// One node of a flow: an action step, a decision, or a `goto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// Why the step is there, for the runbook.
    #[serde(default)]
    pub description: Option<String>,
    /// The catalog action it runs.
    #[serde(default)]
    pub action: Option<String>,
    /// The action's parameters, templated.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Runs the step only when this holds (skipped otherwise).
    #[serde(default)]
    pub when: Option<Condition>,
    #[serde(default)]
    pub on_error: OnError,
    #[serde(default)]
    pub approval: Approval,
    /// A decision: the first choice whose condition holds.
    #[serde(default)]
    pub decide: Option<Vec<Choice>>,
    /// A decision's branch when no choice holds.
    #[serde(default)]
    pub otherwise: Option<String>,
    /// Continue in another branch.
    #[serde(default)]
    pub goto: Option<String>,
}

/// What a node is.
#[derive(Debug, Clone, Copy)]
pub enum NodeKind<'a> {
    Action {
        id: &'a str,
        action: &'a str,
    },
    Decide {
        id: &'a str,
        choices: &'a [Choice],
        otherwise: &'a str,
    },
    Goto {
        target: &'a str,
    },
}

impl Node {
    /// The node's kind, or `None` when it is none of them (validation reports it).
    pub fn kind(&self) -> Option<NodeKind<'_>> {
        let id = self.id.as_deref().unwrap_or("");
        match (&self.action, &self.decide, &self.goto) {
            (Some(action), None, None) => Some(NodeKind::Action { id, action }),
            (None, Some(choices), None) => Some(NodeKind::Decide {
                id,
                choices,
                otherwise: self.otherwise.as_deref().unwrap_or(""),
            }),
            (None, None, Some(target)) => Some(NodeKind::Goto { target }),
            _ => None,
        }
    }

    /// The branches the node can lead to.
    pub fn targets(&self) -> Vec<&str> {
        match self.kind() {
            Some(NodeKind::Decide {
                choices, otherwise, ..
            }) => choices
                .iter()
                .map(|c| c.goto.as_str())
                .chain(Some(otherwise).filter(|o| !o.is_empty()))
                .collect(),
            Some(NodeKind::Goto { target }) => vec![target],
            _ => Vec::new(),
        }
    }
}

/// When a playbook-level notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEvent {
    AwaitingApproval,
    Failed,
    Denied,
    Finished,
}

/// A message sent through a notify action when the run reaches one of `on`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub on: Vec<RunEvent>,
    pub action: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Sends only when this holds (e.g. a webhook URL is configured).
    #[serde(default)]
    pub when: Option<Condition>,
}
