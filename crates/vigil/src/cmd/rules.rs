//! `vigil rules list | lint | test`.

use std::io::Write;

use anyhow::Context;
use vigil_engine::{selftest, RuleSet};

use crate::cli::RulesCommand;
use crate::cmd::{EXIT_CLEAN, EXIT_FINDINGS};
use crate::config::Config;

pub fn run(command: RulesCommand, config: &Config) -> anyhow::Result<u8> {
    match command {
        RulesCommand::List { rules, json } => list(&RuleSet::load(&rules.options(config)?), json),
        RulesCommand::Lint { rules } => Ok(lint(&RuleSet::load(&rules.options(config)?))),
        RulesCommand::Test {
            rules,
            verbose_tests,
        } => Ok(test(&RuleSet::load(&rules.options(config)?), verbose_tests)),
    }
}

fn list(set: &RuleSet, json: bool) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for rule in &set.rules {
        let sources: Vec<&str> = rule.rule.sources.iter().map(|s| s.as_str()).collect();
        let level = rule.rule.level.as_deref().unwrap_or("-");
        if json {
            let line = serde_json::json!({
                "id": rule.id, "title": rule.rule.title, "level": level, "kind": kind(rule),
                "sources": sources, "tags": rule.rule.tags, "runbook": rule.meta.runbook,
                "file": rule.rule.file.display().to_string(), "line": rule.rule.line,
            });
            writeln!(out, "{line}").context("writing the rule list")?;
        } else {
            writeln!(
                out,
                "{:<38} {:<13} {:<10} {:<18} {}",
                rule.id,
                level,
                kind(rule),
                sources.join(","),
                rule.rule.title
            )
            .context("writing the rule list")?;
        }
    }
    for index in 0..set.correlations.len() {
        let rule = set.correlations.rule(index);
        let id = rule
            .id
            .clone()
            .or_else(|| rule.name.clone())
            .unwrap_or_default();
        let level = rule.level.as_deref().unwrap_or("-");
        if json {
            let line = serde_json::json!({"id": id, "title": rule.title, "level": level, "kind": "correlation",
                "tags": rule.tags, "file": rule.file.display().to_string(), "line": rule.line});
            writeln!(out, "{line}").context("writing the rule list")?;
        } else {
            writeln!(
                out,
                "{:<38} {:<13} {:<10} {:<18} {}",
                id, level, "correlation", "-", rule.title
            )
            .context("writing the rule list")?;
        }
    }
    eprintln!(
        "vigil: {} rules, {} correlations, {} not loaded",
        set.rules.len(),
        set.correlations.len(),
        set.problems.len()
    );
    for (source, keyed, always) in set.index.stats() {
        if keyed + always > 0 {
            eprintln!("vigil: {source}: {keyed} rules reached through the index, {always} tried on every event");
        }
    }
    for problem in &set.problems {
        eprintln!("vigil: rule not loaded: {problem}");
    }
    Ok(EXIT_CLEAN)
}

fn kind(rule: &vigil_engine::LoadedRule) -> &'static str {
    if rule.meta.first_seen.is_some() {
        "first_seen"
    } else if !rule.standalone {
        "base"
    } else {
        "sigma"
    }
}

/// Problems that make a rule unfit for a pack: it does not load, it can never match, or it
/// lacks what a responder needs (id, level, ATT&CK tags, a runbook).
fn lint(set: &RuleSet) -> u8 {
    let mut problems: Vec<String> = set.problems.iter().map(ToString::to_string).collect();
    for rule in &set.rules {
        let at = format!("{}:{}", rule.rule.file.display(), rule.rule.line);
        if !is_uuid(&rule.id) {
            problems.push(format!(
                "{at}: rule `{}` has no UUID id (`{}`)",
                rule.rule.title, rule.id
            ));
        }
        if rule.rule.level.is_none() {
            problems.push(format!("{at}: rule {} has no level", rule.id));
        }
        if !rule.rule.tags.iter().any(|t| t.starts_with("attack.")) {
            problems.push(format!("{at}: rule {} has no MITRE ATT&CK tag", rule.id));
        }
        if let Some(why) = rule.rule.never_matches() {
            problems.push(format!("{at}: rule {} can never match: {why}", rule.id));
        }
        let builtin = rule.rule.file.starts_with("builtin:");
        if builtin && rule.meta.runbook.is_none() && rule.standalone {
            problems.push(format!("{at}: built-in rule {} names no runbook", rule.id));
        }
    }
    for problem in &problems {
        println!("{problem}");
    }
    eprintln!(
        "vigil: {} rules and {} correlations checked, {} problems",
        set.rules.len(),
        set.correlations.len(),
        problems.len()
    );
    if problems.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }
}

/// Sigma ids are UUIDs: 8-4-4-4-12 hex digits.
fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn test(set: &RuleSet, verbose: bool) -> u8 {
    let report = selftest::run(set);
    let mut failed = 0;
    for outcome in &report.outcomes {
        let passed = outcome.passed();
        if !passed {
            failed += 1;
        }
        if verbose || !passed {
            let verdict = if passed { "ok  " } else { "FAIL" };
            let expected = if outcome.expected {
                "fire"
            } else {
                "stay silent"
            };
            let detail = match &outcome.error {
                Some(error) => format!(" — {error}"),
                None if !passed => format!(" — expected the rule to {expected}"),
                None => String::new(),
            };
            println!(
                "{verdict} {} [{}] {}{detail}",
                outcome.rule_id, outcome.file, outcome.name
            );
        }
    }
    for rule in &report.untested {
        println!("MISSING a true-positive and a true-negative sample: {rule}");
    }
    for problem in &set.problems {
        println!("NOT LOADED {problem}");
    }
    let total = report.outcomes.len();
    println!(
        "{} passed, {} failed; {} rules without both samples, {} not loaded",
        total - failed,
        failed,
        report.untested.len(),
        set.problems.len()
    );
    if failed == 0 && report.untested.is_empty() && set.problems.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }
}
