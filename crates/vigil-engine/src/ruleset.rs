//! Loading everything detection needs — the built-in pack, user rules, threat-intel lists,
//! the geo database — and compiling it once into a [`RuleSet`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{include_dir, Dir};
use vigil_correlation::{BaseRuleRef, CorrelationRule, CorrelationSet};
use vigil_intel::{GeoDb, IntelSet};
use vigil_sigma::{LoadOptions, LoadReport, Rule};

use crate::index::{IndexEntry, RuleIndex};
use crate::meta::RuleMeta;
use crate::problem::RuleProblem;

/// The built-in rule pack (`rules/` at the root of the repository), compiled into the binary.
static BUILTIN_PACK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../rules");

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct RuleSetOptions {
    /// Load the built-in pack.
    pub builtin: bool,
    /// Extra rule files or directories (`--rules`).
    pub rule_paths: Vec<PathBuf>,
    /// Threat-intel list files or directories (`--intel`), added to the built-in lists.
    pub intel_paths: Vec<PathBuf>,
    /// Values for Sigma `expand` placeholders (`%name%`).
    pub placeholders: HashMap<String, Vec<String>>,
    /// IP → country/ASN database for geo enrichment (`--geoip`).
    pub geoip: Option<PathBuf>,
}

/// A detection rule with vigil's metadata.
pub struct LoadedRule {
    /// The id findings and correlations name the rule by (see [`rule_key`]).
    pub id: String,
    pub rule: Rule,
    pub meta: RuleMeta,
    /// Whether the rule uses threat-intel lists (then matches are explained).
    pub uses_lists: bool,
    /// Whether a match is a finding on its own (false for a base rule that only feeds
    /// correlations without `generate: true`).
    pub standalone: bool,
}

/// Everything loaded and compiled, ready to evaluate events.
pub struct RuleSet {
    pub rules: Vec<LoadedRule>,
    pub correlations: CorrelationSet,
    /// Metadata of each correlation, by its index in `correlations`.
    pub correlation_meta: Vec<RuleMeta>,
    pub index: RuleIndex,
    pub intel: Arc<IntelSet>,
    pub geo: Option<GeoDb>,
    /// Every rule, list or file that could not be loaded, with where and why.
    pub problems: Vec<RuleProblem>,
}

impl RuleSet {
    /// Loads and compiles. Never fails as a whole: what cannot load is in `problems`.
    pub fn load(options: &RuleSetOptions) -> RuleSet {
        let mut problems = Vec::new();
        let intel = Arc::new(load_intel(options, &mut problems));
        let geo = options.geoip.as_deref().map(|path| {
            let (geo, errors) = GeoDb::load(path);
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| RuleProblem::new(&e.file, e.line, e.reason)),
            );
            geo
        });
        let sigma_options = LoadOptions {
            placeholders: options.placeholders.clone(),
            lists: Some(Arc::new(IntelLists(intel.clone())) as Arc<dyn vigil_sigma::ListLookup>),
        };
        let mut reports = Vec::new();
        if options.builtin {
            reports.extend(builtin_reports(&sigma_options));
        }
        for path in &options.rule_paths {
            reports.push(vigil_sigma::load_path(path, &sigma_options));
        }
        let (rules, correlations) = collect(reports, &mut problems);
        Self::assemble(rules, correlations, intel, geo, problems)
    }

    fn assemble(
        rules: Vec<Rule>,
        mut correlation_rules: Vec<CorrelationRule>,
        intel: Arc<IntelSet>,
        geo: Option<GeoDb>,
        mut problems: Vec<RuleProblem>,
    ) -> RuleSet {
        let mut loaded = Vec::with_capacity(rules.len());
        for rule in rules {
            match RuleMeta::parse(&rule.vigil) {
                Ok(meta) => {
                    if let Some(aggregation) = &rule.legacy_aggregation {
                        match legacy_correlation(&rule, aggregation) {
                            Ok(correlation) => correlation_rules.push(correlation),
                            Err(error) => problems.push(RuleProblem::new(
                                &error.file,
                                error.line,
                                error.reason.to_string(),
                            )),
                        }
                    }
                    loaded.push(LoadedRule {
                        id: rule_key(&rule),
                        uses_lists: rule.uses_lists(),
                        rule,
                        meta,
                        standalone: true,
                    });
                }
                Err(reason) => problems.push(RuleProblem::new(&rule.file, rule.line, reason)),
            }
        }
        let refs: Vec<BaseRuleRef> = loaded
            .iter()
            .map(|l| BaseRuleRef {
                id: l.id.clone(),
                name: l.rule.name.clone(),
            })
            .collect();
        let (correlations, errors) = CorrelationSet::build(correlation_rules, &refs);
        problems.extend(
            errors
                .into_iter()
                .map(|e| RuleProblem::new(&e.file, e.line, e.reason.to_string())),
        );
        let correlation_meta = (0..correlations.len())
            .map(|i| {
                let rule = correlations.rule(i);
                RuleMeta::parse(&rule.vigil).unwrap_or_else(|reason| {
                    problems.push(RuleProblem::new(&rule.file, rule.line, reason));
                    RuleMeta::parse(&serde_json::Value::Null).unwrap_or_default()
                })
            })
            .collect();
        for (i, rule) in loaded.iter_mut().enumerate() {
            rule.standalone = !correlations.wants(i) || correlations.generates(i);
            if rule.rule.legacy_aggregation.is_some() {
                rule.standalone = false;
            }
        }
        // Tests several rules hold (`userIdentity.type: AssumedRole`) are answered once per
        // event for all of them, and field paths several tests read are searched once.
        vigil_sigma::share_tests(loaded.iter_mut().map(|l| &mut l.rule));
        let index = RuleIndex::build(loaded.iter().map(|l| IndexEntry {
            sources: &l.rule.sources,
            hints: l.rule.index_hints(),
        }));
        RuleSet {
            rules: loaded,
            correlations,
            correlation_meta,
            index,
            intel,
            geo,
            problems,
        }
    }

    /// Number of detection rules plus correlations.
    pub fn len(&self) -> usize {
        self.rules.len() + self.correlations.len()
    }

    /// Whether nothing loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The correlation a legacy `| count() by x > N` condition stands for, carrying the rule's
/// own metadata so its findings read like the rule's.
fn legacy_correlation(
    rule: &Rule,
    aggregation: &vigil_correlation::LegacyAggregation,
) -> Result<CorrelationRule, vigil_correlation::CorrelationError> {
    let mut correlation = vigil_correlation::from_legacy(
        &rule_key(rule),
        &rule.title,
        aggregation,
        &rule.file,
        rule.line,
    )?;
    rule.copy_metadata_into(&mut correlation);
    // The rule's samples test its detection part; the count is not theirs to test.
    if let Some(block) = correlation.vigil.as_object_mut() {
        block.remove("tests");
    }
    Ok(correlation)
}

/// The id a rule is referenced and reported by: its `id` (the loader gives a rule without
/// one its file name).
pub fn rule_key(rule: &Rule) -> String {
    rule.id.clone()
}

fn collect(
    reports: Vec<LoadReport>,
    problems: &mut Vec<RuleProblem>,
) -> (Vec<Rule>, Vec<CorrelationRule>) {
    let mut rules = Vec::new();
    let mut correlations = Vec::new();
    for report in reports {
        rules.extend(report.rules);
        correlations.extend(report.correlations);
        problems.extend(
            report
                .errors
                .into_iter()
                .map(|e| RuleProblem::new(&e.file, e.line, e.reason)),
        );
    }
    (rules, correlations)
}

/// Loads every `.yml` of the embedded pack, naming files `builtin:rules/<path>`.
fn builtin_reports(options: &LoadOptions) -> Vec<LoadReport> {
    let mut files = Vec::new();
    collect_files(&BUILTIN_PACK, &mut files);
    files
        .into_iter()
        .filter(|file| matches!(extension(file.path()), Some("yml" | "yaml")))
        .filter_map(|file| {
            let name = format!("builtin:rules/{}", file.path().display());
            file.contents_utf8()
                .map(|text| vigil_sigma::load_str(text, &name, options))
        })
        .collect()
}

fn load_intel(options: &RuleSetOptions, problems: &mut Vec<RuleProblem>) -> IntelSet {
    let (mut intel, errors) = IntelSet::load_paths(&options.intel_paths);
    problems.extend(
        errors
            .into_iter()
            .map(|e| RuleProblem::new(&e.file, e.line, e.reason)),
    );
    if options.builtin {
        if let Some(dir) = BUILTIN_PACK.get_dir("intel") {
            let mut files = Vec::new();
            collect_files(dir, &mut files);
            for file in files {
                let name = PathBuf::from(format!("builtin:rules/{}", file.path().display()));
                let errors = intel.add_file(&name, file.contents());
                problems.extend(
                    errors
                        .into_iter()
                        .map(|e| RuleProblem::new(&e.file, e.line, e.reason)),
                );
            }
        }
    }
    intel
}

/// Threat-intel lists as the Sigma `|intel` modifier sees them.
struct IntelLists(Arc<IntelSet>);

impl vigil_sigma::ListLookup for IntelLists {
    fn has_list(&self, name: &str) -> bool {
        self.0.has_list(name)
    }

    fn lookup(&self, list: &str, value: &str) -> Option<String> {
        self.0.lookup(list, value).map(str::to_string)
    }
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect_files(sub, out);
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}
