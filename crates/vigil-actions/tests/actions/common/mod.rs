//! Shared helpers for the vigil-actions integration tests: a moto-backed AWS context, an
//! in-memory evidence sink, a guard with a limit, and a `TestEnv` that builds `StepEnv`s.

pub mod ec2;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_aws::{AwsContext, AwsOptions};
use vigil_respond::action::{ActionError, EvidenceItem, EvidenceSink, Guard, Params, StepEnv};
use vigil_testkit::{Exchange, MotoOptions, MotoServer, RewriteProxy};

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
    /// When set, the actions talk to moto through this proxy (see [`TestEnv::start_behind_proxy`]);
    /// held for the test's lifetime (dropping it stops the proxy).
    #[allow(dead_code)]
    pub proxy: Option<RewriteProxy>,
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
            proxy: None,
            ctx,
            evidence: MemoryEvidence::default(),
            guard: LimitGuard::new(100),
            now: Utc::now(),
        }
    }

    /// moto behind a [`RewriteProxy`]: the actions' context points at the proxy, which passes
    /// each reply body through `rewrite` (for the states moto cannot produce); [`TestEnv::moto_config`]
    /// reads moto itself.
    pub async fn start_behind_proxy(
        rewrite: impl Fn(&Exchange, Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
    ) -> TestEnv {
        let moto = MotoServer::start().expect("moto starts");
        let proxy = RewriteProxy::start(&moto.endpoint(), rewrite).expect("proxy starts");
        let ctx = AwsContext::load(AwsOptions::for_emulator(proxy.endpoint()))
            .await
            .expect("aws context");
        TestEnv {
            moto,
            proxy: Some(proxy),
            ctx,
            evidence: MemoryEvidence::default(),
            guard: LimitGuard::new(100),
            now: Utc::now(),
        }
    }

    /// The SDK configuration for moto itself, bypassing any proxy.
    pub async fn moto_config(&self) -> aws_config::SdkConfig {
        AwsContext::load(AwsOptions::for_emulator(self.moto.endpoint()))
            .await
            .expect("aws context")
            .config_for(None, None)
            .await
            .expect("sdk config")
    }

    /// The SDK configuration the actions use (moto, or the proxy in front of it).
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

/// Runs the registered action `name` (dry-run when `execute` is false).
pub async fn run(
    t: &TestEnv,
    name: &str,
    execute: bool,
    p: &Params,
) -> Result<vigil_respond::action::StepReport, ActionError> {
    action(t, name).run(&t.env(execute), p).await
}

/// The operations of the calls a report planned but did not make.
pub fn planned_ops(report: &vigil_respond::action::StepReport) -> Vec<String> {
    report
        .calls
        .iter()
        .filter(|c| !c.made)
        .map(|c| c.operation.clone())
        .collect()
}

/// The operations of the calls a report made.
pub fn made_ops(report: &vigil_respond::action::StepReport) -> Vec<String> {
    report
        .calls
        .iter()
        .filter(|c| c.made)
        .map(|c| c.operation.clone())
        .collect()
}

/// Parameters from a JSON object literal.
pub fn params(value: Value) -> Params {
    match value {
        Value::Object(map) => map,
        other => panic!("params must be an object, got {other}"),
    }
}
