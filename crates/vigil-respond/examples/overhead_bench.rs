//! vigil's own overhead from a finding to the first AWS call dispatched.
//!
//! `cargo run --release -p vigil-respond --example overhead_bench [-- N]`
//!
//! For each of N findings (default 2,000): pick the playbook whose triggers match among
//! several, start an executing run (resolve inputs, save the run and its first ledger entry
//! in the SQLite store, render the step's parameters, check the guard) and stop the clock
//! when the action's `run` is entered — the point where a real action would make its first
//! SDK call. The action itself is a stand-in that returns at once, so the figure is vigil's
//! overhead alone, not AWS's latency. Prints p50, p99 and max in microseconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};
use vigil_respond::{Catalog, Executor, MemoryEvidence, Playbook, ResponseConfig, StartOptions};

static INFO: ActionInfo = ActionInfo {
    name: "cloudtrail.start_logging",
    summary: "stand-in that records when it is entered",
    params: &[ParamDoc {
        name: "trail",
        required: true,
        description: "trail name",
    }],
    example: "",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "nothing",
};

/// Records the instant its `run` is entered.
struct Probe {
    entered: Arc<Mutex<Option<Instant>>>,
}

#[async_trait::async_trait]
impl Action for Probe {
    fn info(&self) -> &'static ActionInfo {
        &INFO
    }
    fn permissions(&self, _: &Params) -> Vec<&'static str> {
        vec!["cloudtrail:StartLogging"]
    }
    fn all_permissions(&self) -> Vec<&'static str> {
        vec!["cloudtrail:StartLogging"]
    }
    fn cli(&self, _: &Params) -> Vec<String> {
        Vec::new()
    }
    async fn run(&self, _: &StepEnv<'_>, _: &Params) -> Result<StepReport, ActionError> {
        *self.entered.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(StepReport::new(Outcome::Changed))
    }
}

fn playbook_yaml(id: &str, rule: &str) -> String {
    format!(
        "id: {id}\ntitle: bench {id}\ndescription: overhead benchmark\n\
         triggers:\n  rules: [{rule}]\n\
         inputs:\n  trail:\n    from: [resources]\n\
         steps:\n  - id: start\n    action: cloudtrail.start_logging\n    params: {{ trail: '{{{{ inputs.trail }}}}' }}\n"
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let entered = Arc::new(Mutex::new(None));
    let mut catalog = Catalog::new();
    catalog.register(Arc::new(Probe {
        entered: entered.clone(),
    }));
    // Seven playbooks, as many as vigil ships; the matching one is last.
    let playbooks: Vec<Playbook> = (0..7)
        .map(|i| {
            let rule = if i == 6 { "target-rule" } else { "other-rule" };
            Playbook::load(&playbook_yaml(&format!("pb{i}"), rule), "bench", &catalog)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = vigil_store::SqliteStore::open(dir.path().join("vigil.sqlite")).expect("store");
    let config = ResponseConfig {
        production_requires_approval: false,
        ..ResponseConfig::default()
    };
    let evidence = MemoryEvidence::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut samples: Vec<Duration> = Vec::with_capacity(n);
    for i in 0..n {
        let finding = serde_json::json!({
            "id": format!("finding-{i}"),
            "rule_id": "target-rule",
            "account": "111122223333",
            "region": "us-east-1",
            "severity": {"label": "HIGH", "score": 70},
            "resources": [format!("trail-{i}")],
        });
        let options = StartOptions {
            execute: true,
            responder: "bench".into(),
            ..StartOptions::default()
        };
        let start = Instant::now();
        let playbook = playbooks
            .iter()
            .find(|p| p.matches(&finding))
            .expect("a playbook matches");
        let run = runtime.block_on(
            Executor::new(&catalog, &mut store, &config, &evidence)
                .start(playbook, &finding, &options),
        );
        if let Err(e) = run {
            eprintln!("run {i} failed: {e}");
            std::process::exit(1);
        }
        let at = entered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the action was entered");
        samples.push(at - start);
    }
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "finding → first action call, {n} runs: p50 {} µs, p99 {} µs, max {} µs",
        pct(0.50).as_micros(),
        pct(0.99).as_micros(),
        samples.last().map(|d| d.as_micros()).unwrap_or(0)
    );
}
