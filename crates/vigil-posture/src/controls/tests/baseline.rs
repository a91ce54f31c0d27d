use crate::controls::fixture::*;
use crate::result::Status;

#[test]
fn the_compliant_baseline_passes_every_control() {
    let snapshot = good();
    let results = crate::evaluate(&snapshot, &options(""));
    for control in crate::controls() {
        let mine: Vec<_> = results.iter().filter(|r| r.control == control.id).collect();
        assert!(!mine.is_empty(), "{} produced no result", control.id);
        for result in mine {
            assert!(
                matches!(result.status, Status::Pass | Status::NotApplicable),
                "{} is not PASS on the baseline: {result:#?}",
                control.id
            );
        }
    }
}

#[test]
fn without_the_policy_analyzer_policy_controls_are_unknown_never_pass() {
    let snapshot = good();
    let mut opts = options("VIG-50,VIG-62,VIG-66");
    opts.policy = std::sync::Arc::new(crate::UnwiredPolicyAnalyzer);
    let mut snapshot = snapshot;
    region(&mut snapshot).compute.lambda_functions =
        crate::Collected::Ok(vec![crate::snapshot::LambdaFunction {
            function_name: "f".into(),
            function_arn: "arn:aws:lambda:us-east-1:111122223333:function:f".into(),
            policy: crate::Collected::Ok(Some(r#"{"Statement": []}"#.into())),
            ..Default::default()
        }]);
    let results = crate::evaluate(&snapshot, &opts);
    assert!(!results.is_empty());
    for result in &results {
        assert_eq!(result.status, Status::Unknown, "{result:#?}");
        assert!(result.reason.contains("not wired"), "{}", result.reason);
    }
}

#[test]
fn the_baseline_passes_the_policy_controls_with_vigil_policy_too() {
    let mut snapshot = good();
    let mut opts = options("VIG-50,VIG-56,VIG-62,VIG-66,VIG-67");
    opts.policy = std::sync::Arc::new(crate::VigilPolicyAnalyzer);
    let results = crate::evaluate(&snapshot, &opts);
    assert!(results.len() >= 5);
    for result in &results {
        assert!(matches!(result.status, Status::Pass), "{result:#?}");
    }
    // And a public key policy fails through the real analysis.
    if let crate::Collected::Ok(keys) = &mut region(&mut snapshot).services.kms_keys {
        keys[0].policy = crate::Collected::Ok(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
               "Action": "kms:Decrypt", "Resource": "*"}]}"#
                .into(),
        );
    }
    opts.selection = crate::Selection::parse("VIG-62", "").unwrap();
    let results = crate::evaluate(&snapshot, &opts);
    assert_eq!(results[0].status, Status::Fail, "{:#?}", results[0]);
    assert!(
        results[0].reason.contains("Public"),
        "{}",
        results[0].reason
    );
}
