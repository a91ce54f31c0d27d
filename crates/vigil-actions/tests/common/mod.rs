//! Shared helpers for the vigil-actions integration tests: a moto-backed AWS context, an
//! in-memory evidence sink, a guard with a limit, and a `TestEnv` that builds `StepEnv`s.
#![allow(dead_code)]

pub mod ec2;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_aws::{AwsContext, AwsOptions};
use vigil_respond::action::{ActionError, EvidenceItem, EvidenceSink, Guard, Params, StepEnv};
use vigil_testkit::{MotoOptions, MotoServer};

pub const CASE: &str = "case-42";
pub const RESPONDER: &str = "alice";

/// Evidence kept in memory; `put` hashes like the vault does (SHA-256 of the bytes).
#[derive(Default)]
pub struct MemoryEvidence {
    pub items: Mutex<Vec<EvidenceItem>>,
}

impl MemoryEvidence {
    pub fn items(&self) -> Vec<EvidenceItem> {
        self.items.lock().map(|i| i.clone()).unwrap_or_default()
    }
}

impl EvidenceSink for MemoryEvidence {
    fn put(&self, item: EvidenceItem) -> Result<String, String> {
        let hash = vigil_actions::common::sha256_hex(&item.bytes);
        self.items.lock().map_err(|e| e.to_string())?.push(item);
        Ok(hash)
    }
}

/// Refuses `vigil:protected=true` resources and more than `limit` changes; remembers what it
/// allowed.
pub struct LimitGuard {
    pub limit: usize,
    pub count: AtomicUsize,
    pub allowed: Mutex<Vec<String>>,
}

impl LimitGuard {
    pub fn new(limit: usize) -> Self {
        LimitGuard {
            limit,
            count: AtomicUsize::new(0),
            allowed: Mutex::new(Vec::new()),
        }
    }
}

impl Guard for LimitGuard {
    fn allow_change(&self, resource: &str, tags: &[(String, String)]) -> Result<(), ActionError> {
        if tags
            .iter()
            .any(|(k, v)| k == "vigil:protected" && v.eq_ignore_ascii_case("true"))
        {
            return Err(ActionError::Protected(resource.to_string()));
        }
        if self.count.fetch_add(1, Ordering::SeqCst) >= self.limit {
            return Err(ActionError::LimitReached(format!(
                "{resource}: limit {}",
                self.limit
            )));
        }
        if let Ok(mut allowed) = self.allowed.lock() {
            allowed.push(resource.to_string());
        }
        Ok(())
    }
}

/// One test's world: a moto server, an AWS context pointing at it, evidence and a guard.
pub struct TestEnv {
    pub moto: MotoServer,
    pub ctx: AwsContext,
    pub evidence: MemoryEvidence,
    pub guard: LimitGuard,
    pub now: DateTime<Utc>,
}

impl TestEnv {
    pub async fn start() -> TestEnv {
        Self::start_with(MotoOptions::default()).await
    }

    /// With moto's images replaced by one (clean snapshot listings).
    pub async fn start_single_ami(ami: &str) -> TestEnv {
        Self::start_with(MotoOptions {
            single_ami: Some((ami.to_string(), "vigil-test-image".to_string())),
        })
        .await
    }

    pub async fn start_with(options: MotoOptions) -> TestEnv {
        let moto = MotoServer::start_with(options).expect("moto starts");
        let ctx = AwsContext::load(AwsOptions::for_emulator(moto.endpoint()))
            .await
            .expect("aws context");
        TestEnv {
            moto,
            ctx,
            evidence: MemoryEvidence::default(),
            guard: LimitGuard::new(100),
            now: Utc::now(),
        }
    }

    /// The SDK configuration for moto.
    pub async fn config(&self) -> aws_config::SdkConfig {
        self.ctx.config_for(None, None).await.expect("sdk config")
    }

    /// A step environment; `execute == false` is dry-run.
    pub fn env(&self, execute: bool) -> StepEnv<'_> {
        StepEnv {
            run_id: "run-1",
            case_id: CASE,
            responder: RESPONDER,
            account: None,
            region: None,
            execute,
            guard: &self.guard,
            evidence: &self.evidence,
            now: self.now,
        }
    }
}

/// The registered action `name` (panics in tests when it is missing).
pub fn action(t: &TestEnv, name: &str) -> std::sync::Arc<dyn vigil_respond::action::Action> {
    vigil_actions::catalog(t.ctx.clone(), vigil_actions::ActionOptions::default())
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not registered"))
        .clone()
}

/// Parameters from a JSON object literal.
pub fn params(value: Value) -> Params {
    match value {
        Value::Object(map) => map,
        other => panic!("params must be an object, got {other}"),
    }
}
