//! A checker for SARIF 2.1.0 logs (OASIS standard, sarif-v2.1.0-os): the required
//! properties of the log, run, tool, rules and results, the enumerations of `level`,
//! `kind` and suppression `kind`/`status`, the rule `ruleIndex` points at, the rule that
//! `level` must be `none` for results whose `kind` is not `fail` (§3.27.9), and logical
//! locations. Written by hand: there is no maintained Rust SARIF validator, and the JSON
//! schema alone does not check the cross-references.

use serde_json::Value;

const LEVELS: [&str; 4] = ["none", "note", "warning", "error"];
const KINDS: [&str; 6] = [
    "notApplicable",
    "pass",
    "fail",
    "review",
    "open",
    "informational",
];

/// Every problem of a SARIF log; empty when it is valid.
pub fn check(log: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if log["version"] != "2.1.0" {
        problems.push("version is not 2.1.0".into());
    }
    if log["$schema"]
        .as_str()
        .is_some_and(|s| !s.contains("sarif"))
    {
        problems.push("$schema does not name a SARIF schema".into());
    }
    let Some(runs) = log["runs"].as_array() else {
        return vec!["runs is not an array".into()];
    };
    for (n, run) in runs.iter().enumerate() {
        check_run(run, &format!("runs[{n}]"), &mut problems);
    }
    problems
}

fn check_run(run: &Value, at: &str, problems: &mut Vec<String>) {
    let driver = &run["tool"]["driver"];
    if driver["name"].as_str().is_none_or(str::is_empty) {
        problems.push(format!("{at}.tool.driver.name is missing"));
    }
    let rules = driver["rules"].as_array().cloned().unwrap_or_default();
    let mut ids = Vec::new();
    for (n, rule) in rules.iter().enumerate() {
        let id = rule["id"].as_str().unwrap_or("");
        if id.is_empty() {
            problems.push(format!("{at} rule {n} has no id"));
        }
        if ids.contains(&id) {
            problems.push(format!("{at} rule id {id} is repeated"));
        }
        ids.push(id);
        check_message(
            &rule["shortDescription"],
            &format!("rule {id} shortDescription"),
            problems,
        );
        let level = rule["defaultConfiguration"]["level"].as_str();
        if level.is_some_and(|l| !LEVELS.contains(&l)) {
            problems.push(format!("rule {id} default level {level:?} is invalid"));
        }
    }
    let Some(results) = run["results"].as_array() else {
        return problems.push(format!("{at}.results is not an array"));
    };
    for (n, result) in results.iter().enumerate() {
        check_result(result, &ids, &format!("{at}.results[{n}]"), problems);
    }
}

fn check_message(message: &Value, at: &str, problems: &mut Vec<String>) {
    if message["text"].as_str().is_none_or(|t| t.trim().is_empty()) {
        problems.push(format!("{at} has no text"));
    }
}

fn check_result(result: &Value, rule_ids: &[&str], at: &str, problems: &mut Vec<String>) {
    check_message(&result["message"], &format!("{at}.message"), problems);
    let rule_id = result["ruleId"].as_str();
    match (rule_id, result["ruleIndex"].as_u64()) {
        (Some(id), Some(index)) if rule_ids.get(index as usize) != Some(&id) => {
            problems.push(format!("{at}.ruleIndex {index} does not point at {id}"));
        }
        (None, _) => problems.push(format!("{at} has no ruleId")),
        (Some(id), None) if !rule_ids.contains(&id) => {
            problems.push(format!("{at}.ruleId {id} is not a rule of the driver"));
        }
        _ => {}
    }
    let kind = result["kind"].as_str().unwrap_or("fail");
    let level = result["level"].as_str();
    if !KINDS.contains(&kind) {
        problems.push(format!("{at}.kind {kind} is invalid"));
    }
    if level.is_some_and(|l| !LEVELS.contains(&l)) {
        problems.push(format!("{at}.level {level:?} is invalid"));
    }
    if kind != "fail" && level.is_some_and(|l| l != "none") {
        problems.push(format!("{at}: kind {kind} requires level none (§3.27.9)"));
    }
    check_locations(result, at, problems);
    check_suppressions(result, at, problems);
}

fn check_locations(result: &Value, at: &str, problems: &mut Vec<String>) {
    let locations = result["locations"].as_array().cloned().unwrap_or_default();
    for (n, location) in locations.iter().enumerate() {
        let logical = location["logicalLocations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if logical.is_empty() && location.get("physicalLocation").is_none() {
            problems.push(format!("{at}.locations[{n}] has no location"));
        }
        for item in &logical {
            let named = item["name"].is_string() || item["fullyQualifiedName"].is_string();
            if !named {
                problems.push(format!("{at}.locations[{n}] logical location has no name"));
            }
        }
    }
}

fn check_suppressions(result: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(suppressions) = result.get("suppressions") else {
        return;
    };
    for suppression in suppressions.as_array().into_iter().flatten() {
        if !matches!(suppression["kind"].as_str(), Some("inSource" | "external")) {
            problems.push(format!("{at} suppression kind is invalid"));
        }
        let status = suppression["status"].as_str();
        if status.is_some_and(|s| !["accepted", "underReview", "rejected"].contains(&s)) {
            problems.push(format!("{at} suppression status {status:?} is invalid"));
        }
    }
}
