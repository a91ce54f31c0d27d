//! Soundness: over thousands of generated policies, whenever `evaluate` allows an anonymous
//! (or arbitrary outside) request, `analyze` must say so. The outside caller sets every key
//! it controls to values drawn from the policy (and others), and carries only values of its
//! own for the keys it cannot forge (its own VPC endpoint, an IP outside the listed ranges,
//! no organisation), exactly the model the analysis promises to be sound for.

use std::collections::BTreeMap;

use vigil_policy::bench::{generate_corpus, SplitMix64};
use vigil_policy::{
    analyze, evaluate, AnalysisContext, ContextValue, Decision, Effect, Policy, Request,
    RequestPrincipal, ResourceKind, Verdict,
};

/// Keys an outsider cannot forge, with the values an outsider has for them.
const OUTSIDER_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("aws:sourcevpce", &["vpce-outsider"]),
    ("aws:sourcevpc", &["vpc-outsider"]),
    ("aws:sourceip", &["198.18.0.1", "2001:db8:ffff::1"]),
    ("aws:principalorgid", &["o-outsider"]),
    ("aws:principalorgpaths", &["o-outsider/r-1/"]),
    ("aws:sourceaccount", &["999900001111"]),
    ("aws:sourceowner", &["999900001111"]),
    ("aws:sourcearn", &["arn:aws:sns:us-east-1:999900001111:t"]),
    (
        "token.actions.githubusercontent.com:sub",
        &["repo:outsider/x:ref:refs/heads/main"],
    ),
];

const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:userid",
    "aws:principaltype",
    "aws:principalisawsservice",
    "aws:principalservicename",
];

fn concrete(pattern: &str) -> String {
    pattern.replace('*', "Object").replace('?', "x")
}

/// Choices for each condition key of the policy.
fn key_choices(policy: &Policy, anonymous: bool) -> BTreeMap<String, Vec<Option<String>>> {
    let mut choices: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for st in &policy.statements {
        for c in &st.conditions {
            let key = c.key.to_ascii_lowercase();
            if PRINCIPAL_KEYS.contains(&key.as_str()) {
                continue; // derived from the principal
            }
            let entry = choices.entry(key.clone()).or_default();
            if let Some((_, values)) = OUTSIDER_ATTRIBUTES.iter().find(|(k, _)| *k == key) {
                entry.push(None);
                if !(anonymous && key.starts_with("aws:principalorg")) {
                    entry.extend(values.iter().map(|v| Some(v.to_string())));
                }
                continue;
            }
            entry.push(None);
            entry.push(Some("other-value".into()));
            entry.extend(c.values.iter().map(|v| Some(concrete(v))));
            if c.operator.base.name().starts_with("Numeric") {
                entry.push(Some("1".into()));
            }
            if c.operator.base.name().starts_with("Date") {
                entry.push(Some("2024-06-01T00:00:00Z".into()));
            }
        }
    }
    for values in choices.values_mut() {
        values.dedup();
    }
    choices
}

fn requests(policy: &Policy, principal: &RequestPrincipal, rng: &mut SplitMix64) -> Vec<Request> {
    let anonymous = *principal == RequestPrincipal::Anonymous;
    let choices = key_choices(policy, anonymous);
    let mut out = Vec::new();
    for st in policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let actions: Vec<String> = if st.action.negated {
            vec![
                "s3:GetObject".into(),
                "kms:Decrypt".into(),
                "sqs:SendMessage".into(),
            ]
        } else {
            st.action.patterns.iter().map(|p| concrete(p)).collect()
        };
        let resources: Vec<String> = match &st.resource {
            Some(r) if !r.negated => r.patterns.iter().map(|p| concrete(p)).collect(),
            _ => vec!["arn:aws:s3:::unrelated/key".into()],
        };
        for action in &actions {
            for resource in &resources {
                for _ in 0..12 {
                    let mut req = Request::new(principal.clone(), action, resource);
                    if anonymous {
                        req = req.with("lambda:FunctionUrlAuthType", ["NONE"]);
                    }
                    for (key, options) in &choices {
                        if let Some(value) = rng.pick(options) {
                            req.context
                                .insert(key.clone(), vec![ContextValue::String(value.clone())]);
                        }
                    }
                    out.push(req);
                }
            }
        }
    }
    out
}

fn check(seed: u64, n: usize) -> usize {
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let ctx = AnalysisContext::new(ResourceKind::Other, "123456789012");
    let outsider = RequestPrincipal::Aws {
        arn: "arn:aws:iam::999900001111:user/mallory".into(),
    };
    let mut allowed = 0;
    for text in generate_corpus(n, seed) {
        let policy = Policy::parse(&text).expect("generated policies parse");
        let analysis = analyze(&policy, &ctx);
        for (principal, floor) in [
            (RequestPrincipal::Anonymous, Verdict::Public),
            (outsider.clone(), Verdict::AnyAuthenticated),
        ] {
            for req in requests(&policy, &principal, &mut rng) {
                if evaluate(&policy, &req) == Decision::Allow {
                    allowed += 1;
                    assert!(
                        analysis.verdict >= floor,
                        "unsound: {req:?} is allowed but the analysis says {:?}\npolicy: {text}\nanalysis: {}",
                        analysis.verdict,
                        serde_json::to_string_pretty(&analysis).unwrap()
                    );
                }
            }
        }
    }
    allowed
}

#[test]
fn analysis_never_misses_access_an_outsider_gets() {
    let allowed = check(7, 1500);
    // The property must be exercised, not vacuously true.
    assert!(
        allowed > 500,
        "only {allowed} allowed requests were generated"
    );
}

#[test]
fn analysis_is_sound_for_other_seeds() {
    for seed in [1, 2, 3] {
        check(seed, 400);
    }
}
