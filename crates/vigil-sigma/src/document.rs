//! One YAML document of a rule file: a detection rule, a correlation, or something vigil
//! rejects with a reason.

use std::path::Path;

use vigil_correlation::{from_legacy_near, CorrelationRule};

use crate::correlation;
use crate::detection::{self, Detection};
use crate::error::Problem;
use crate::legacy::Aggregation;
use crate::logsource::{self, Logsource};
use crate::options::LoadOptions;
use crate::rule::Rule;
use crate::ruletest;
use crate::yaml;

/// What one document contributes.
#[derive(Default)]
pub(crate) struct Loaded {
    pub rules: Vec<Rule>,
    pub correlations: Vec<CorrelationRule>,
}

/// Loads document number `index` (0-based) of `file`.
pub(crate) fn load(
    doc: &yaml::Node<'_>,
    file: &Path,
    index: usize,
    options: &LoadOptions,
) -> Result<Loaded, Problem> {
    let line = yaml::line(doc);
    if yaml::scalar(doc) == Some(yaml::Scalar::Null) {
        return Ok(Loaded::default());
    }
    if yaml::entries(doc).is_none() {
        return Err(Problem::new(line, "a rule document must be a mapping"));
    }
    if yaml::get(doc, "correlation").is_some() {
        let rule = correlation::parse(doc, file)?;
        return Ok(Loaded {
            correlations: vec![rule],
            ..Loaded::default()
        });
    }
    if let Some((key, _)) = yaml::get(doc, "action") {
        return Err(Problem::new(yaml::line(key), "Sigma 1 rule collections (`action: global/reset/repeat`) are not supported; write one complete rule per document"));
    }
    if let Some((key, _)) = yaml::get(doc, "filter") {
        return Err(Problem::new(
            yaml::line(key),
            "Sigma filter documents are not supported; add the filter to the rules' conditions",
        ));
    }
    if yaml::get(doc, "detection").is_none() {
        return Err(Problem::new(line, "document is neither a detection rule (no `detection`) nor a correlation (no `correlation`)"));
    }
    detection_rule(doc, file, index, options)
}

fn detection_rule(
    doc: &yaml::Node<'_>,
    file: &Path,
    index: usize,
    options: &LoadOptions,
) -> Result<Loaded, Problem> {
    let mut rule = metadata(doc, file, index)?;
    let (logsource, sources) = routed_logsource(doc)?;
    rule.logsource = logsource;
    rule.sources = sources;
    if let Some((_, vigil)) = yaml::get(doc, "vigil") {
        rule.tests = ruletest::from_vigil(vigil)?;
        rule.vigil = yaml::to_json(vigil);
    }
    let (key, block) = yaml::get(doc, "detection")
        .ok_or_else(|| Problem::new(rule.line, "missing `detection`"))?;
    let detection = detection::compile(block, yaml::line(key), options)?;
    rule.root = detection.root.clone();
    match detection.aggregation.clone() {
        None => Ok(Loaded {
            rules: vec![rule],
            ..Loaded::default()
        }),
        Some(Aggregation::Function(aggregation)) => {
            rule.legacy_aggregation = Some(aggregation);
            Ok(Loaded {
                rules: vec![rule],
                ..Loaded::default()
            })
        }
        Some(Aggregation::Near(names)) => Ok(near(rule, &detection, &names)),
    }
}

/// `a | near b`: one base rule for the condition before `|` and one per `near` selection,
/// joined by an unordered temporal correlation that carries the rule's id and metadata.
fn near(rule: Rule, detection: &Detection, names: &[String]) -> Loaded {
    let mut parts = vec![("condition".to_string(), detection.root.clone())];
    parts.extend(
        names
            .iter()
            .filter_map(|n| Some((n.clone(), detection.selection(n)?.clone()))),
    );
    let rules: Vec<Rule> = parts
        .into_iter()
        .map(|(part, root)| Rule {
            id: format!("{}/{part}", rule.id),
            name: None,
            title: format!("{} ({part})", rule.title),
            vigil: serde_json::Value::Null,
            tests: Vec::new(),
            root,
            ..rule.clone()
        })
        .collect();
    let ids: Vec<String> = rules.iter().map(|r| r.id.clone()).collect();
    let mut correlation = from_legacy_near(
        &rule.id,
        &rule.title,
        &ids,
        detection.timeframe_ms,
        &rule.file,
        rule.line,
    );
    correlation.name = rule.name.clone();
    rule.copy_metadata_into(&mut correlation);
    Loaded {
        rules,
        correlations: vec![correlation],
    }
}

fn routed_logsource(
    doc: &yaml::Node<'_>,
) -> Result<(Logsource, Vec<vigil_event::LogSource>), Problem> {
    let (key, block) = yaml::get(doc, "logsource")
        .ok_or_else(|| Problem::new(yaml::line(doc), "rule has no `logsource`"))?;
    let field = |name: &str| yaml::get(block, name).and_then(|(_, v)| yaml::text(v));
    let logsource = Logsource {
        product: field("product"),
        service: field("service"),
        category: field("category"),
    };
    let sources = logsource::route(&logsource).map_err(|r| Problem::new(yaml::line(key), r))?;
    Ok((logsource, sources))
}

/// Everything but the detection, logsource and vigil block.
fn metadata(doc: &yaml::Node<'_>, file: &Path, index: usize) -> Result<Rule, Problem> {
    let line = yaml::line(doc);
    let text = |key: &str| yaml::get(doc, key).and_then(|(_, v)| yaml::text(v));
    let list = |key: &str| {
        yaml::get(doc, key)
            .map(|(_, v)| yaml::strings(v))
            .unwrap_or_default()
    };
    let title = text("title").ok_or_else(|| Problem::new(line, "rule has no `title`"))?;
    let id = text("id").unwrap_or_else(|| fallback_id(file, index));
    Ok(Rule {
        id,
        name: text("name"),
        title,
        description: text("description"),
        status: text("status"),
        level: text("level"),
        author: text("author"),
        date: text("date"),
        modified: text("modified"),
        references: list("references"),
        tags: list("tags"),
        falsepositives: list("falsepositives"),
        fields: list("fields"),
        logsource: Logsource::default(),
        sources: Vec::new(),
        file: file.to_path_buf(),
        line,
        vigil: serde_json::Value::Null,
        tests: Vec::new(),
        legacy_aggregation: None,
        root: crate::eval::Node::Const(false),
    })
}

/// An id for a rule without one: the file stem, plus the document number after the first.
fn fallback_id(file: &Path, index: usize) -> String {
    let stem = file
        .file_stem()
        .map_or_else(|| "rule".to_string(), |s| s.to_string_lossy().into_owned());
    if index == 0 {
        stem
    } else {
        format!("{stem}#{}", index + 1)
    }
}
