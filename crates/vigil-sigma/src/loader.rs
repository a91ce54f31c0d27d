//! Loading rule files and directories: every rule that can be loaded is, and every one that
//! cannot is reported by file, line and reason.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use vigil_correlation::CorrelationRule;

use crate::document;
use crate::error::LoadError;
use crate::options::LoadOptions;
use crate::rule::Rule;
use crate::yaml;

/// The outcome of loading: the rules, the correlations, and what could not be loaded.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub correlations: Vec<CorrelationRule>,
    pub errors: Vec<LoadError>,
}

impl LoadReport {
    /// Adds another report's results (duplicate ids are checked by [`load_path`] and
    /// [`load_str`] on their own results).
    pub fn merge(&mut self, other: LoadReport) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.errors.extend(other.errors);
    }

    /// Reports and drops every rule or correlation whose id was already taken (the first
    /// one loaded keeps it).
    fn drop_duplicate_ids(&mut self) {
        let mut seen: HashMap<String, (PathBuf, usize)> = HashMap::new();
        let mut errors = Vec::new();
        let mut keep = |id: &str, file: &Path, line: usize| match seen.get(id) {
            Some((first_file, first_line)) => {
                errors.push(LoadError {
                    file: file.to_path_buf(),
                    line,
                    reason: format!(
                        "duplicate rule id `{id}` (first defined at {}:{first_line})",
                        first_file.display()
                    ),
                });
                false
            }
            None => {
                seen.insert(id.to_string(), (file.to_path_buf(), line));
                true
            }
        };
        self.rules.retain(|r| keep(&r.id, &r.file, r.line));
        self.correlations
            .retain(|c| c.id.as_deref().is_none_or(|id| keep(id, &c.file, c.line)));
        self.errors.extend(errors);
    }
}

/// Loads a rule file, or every `.yml`/`.yaml` file under a directory (recursively, in path
/// order).
pub fn load_path(path: impl AsRef<Path>, options: &LoadOptions) -> LoadReport {
    let path = path.as_ref();
    let mut report = LoadReport::default();
    let mut files = Vec::new();
    collect_files(path, &mut files, &mut report.errors);
    for file in files {
        match fs::read_to_string(&file) {
            Ok(text) => report.merge(load_documents(&text, &file, options)),
            Err(e) => report.errors.push(LoadError {
                file: file.clone(),
                line: 0,
                reason: format!("cannot read rule file: {e}"),
            }),
        }
    }
    report.drop_duplicate_ids();
    report
}

/// Loads rules from YAML text; `file` names it in rules and errors.
pub fn load_str(text: &str, file: impl AsRef<Path>, options: &LoadOptions) -> LoadReport {
    let mut report = load_documents(text, file.as_ref(), options);
    report.drop_duplicate_ids();
    report
}

fn load_documents(text: &str, file: &Path, options: &LoadOptions) -> LoadReport {
    let mut report = LoadReport::default();
    let docs = match yaml::parse_documents(text) {
        Ok(docs) => docs,
        Err(e) => {
            report.errors.push(LoadError {
                file: file.to_path_buf(),
                line: e.line,
                reason: format!("invalid YAML: {}", e.reason),
            });
            return report;
        }
    };
    for (index, doc) in docs.iter().enumerate() {
        match document::load(doc, file, index, options) {
            Ok(loaded) => {
                report.rules.extend(loaded.rules);
                report.correlations.extend(loaded.correlations);
            }
            Err(problem) => report.errors.push(problem.in_file(file)),
        }
    }
    report
}

fn is_rule_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Collects rule files under `path`; an unreadable directory is reported and skipped.
fn collect_files(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let error = |e: std::io::Error| LoadError {
        file: path.to_path_buf(),
        line: 0,
        reason: format!("cannot read rules: {e}"),
    };
    let listing = match fs::metadata(path) {
        Ok(metadata) if !metadata.is_dir() => {
            files.push(path.to_path_buf());
            return;
        }
        Ok(_) => fs::read_dir(path),
        Err(e) => Err(e),
    };
    let mut entries: Vec<PathBuf> = match listing {
        Ok(listing) => listing
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect(),
        Err(e) => return errors.push(error(e)),
    };
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, files, errors);
        } else if is_rule_file(&entry) {
            files.push(entry);
        }
    }
}
