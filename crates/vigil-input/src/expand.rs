//! Turning the paths given on the command line into a list of inputs: files as given,
//! directories walked recursively in name order, glob patterns expanded, `-` for stdin.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};
use walkdir::WalkDir;

use crate::InputError;

/// Files whose name ends with this are vigil's own rejects files, never read as input
/// when a directory is walked.
pub const REJECTS_FILE_SUFFIX: &str = "rejects.jsonl";

/// One input: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name used in origins, rejects and reports: the path as given, or `-`.
    pub fn name(&self) -> Arc<str> {
        match self {
            Input::File(path) => path.to_string_lossy().into(),
            Input::Stdin => "-".into(),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::File(path) => write!(f, "{}", path.display()),
            Input::Stdin => f.write_str("-"),
        }
    }
}

/// Expands `paths` in order: `-` is stdin, a file is itself, a directory is every file under
/// it (recursively, sorted by name, hidden entries and rejects files left out), and a glob
/// pattern (`*`, `?`, `[...]`, `{a,b}`, `**`) is every matching file, sorted.
///
/// A path that does not exist, or a pattern that matches nothing, is an error naming it.
pub fn expand(paths: &[String]) -> Result<Vec<Input>, InputError> {
    let mut inputs = Vec::new();
    for raw in paths {
        expand_one(raw, &mut inputs)?;
    }
    Ok(inputs)
}

fn expand_one(raw: &str, inputs: &mut Vec<Input>) -> Result<(), InputError> {
    if raw == "-" {
        inputs.push(Input::Stdin);
        return Ok(());
    }
    let path = Path::new(raw);
    if path.is_dir() {
        return walk(path, usize::MAX, None, false, inputs);
    }
    if path.exists() {
        inputs.push(Input::File(path.to_path_buf()));
        return Ok(());
    }
    if is_pattern(raw) {
        return expand_pattern(raw, inputs);
    }
    Err(InputError::NotFound { path: raw.into() })
}

fn is_pattern(raw: &str) -> bool {
    raw.contains(['*', '?', '[', '{'])
}

fn expand_pattern(pattern: &str, inputs: &mut Vec<Input>) -> Result<(), InputError> {
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| InputError::BadPattern {
            pattern: pattern.into(),
            reason: e.kind().to_string(),
        })?
        .compile_matcher();
    let (base, rest) = literal_base(pattern);
    let depth = if rest.contains("**") {
        usize::MAX
    } else {
        rest.split('/').filter(|c| !c.is_empty()).count()
    };
    let before = inputs.len();
    let dir = base.as_deref().unwrap_or(Path::new("."));
    if dir.is_dir() {
        walk(dir, depth, Some(&matcher), base.is_none(), inputs)?;
    }
    if inputs.len() == before {
        return Err(InputError::NoMatch {
            pattern: pattern.into(),
        });
    }
    Ok(())
}

/// The directory made of the pattern's leading components that hold no glob character (none:
/// the current directory), and the rest of the pattern.
fn literal_base(pattern: &str) -> (Option<PathBuf>, &str) {
    let mut base = PathBuf::new();
    let mut rest = pattern;
    for component in Path::new(pattern).components() {
        let text = component.as_os_str().to_string_lossy();
        if is_pattern(&text) {
            break;
        }
        base.push(component);
        let skip = match component {
            Component::RootDir => 1,
            _ => text.len(),
        };
        rest = rest.get(skip..).unwrap_or("").trim_start_matches('/');
    }
    if base.as_os_str().is_empty() {
        return (None, rest);
    }
    (Some(base), rest)
}

fn walk(
    dir: &Path,
    max_depth: usize,
    matcher: Option<&GlobMatcher>,
    strip_dot: bool,
    inputs: &mut Vec<Input>,
) -> Result<(), InputError> {
    let entries = WalkDir::new(dir)
        .follow_links(true)
        .max_depth(max_depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in entries {
        let entry = entry.map_err(|source| InputError::Walk {
            path: dir.to_path_buf(),
            source,
        })?;
        if !entry.file_type().is_file() || is_rejects_file(entry.file_name()) {
            continue;
        }
        // Walking the implicit current directory of a pattern like `*.json` yields `./x.json`;
        // the pattern names `x.json`.
        let path = entry.path();
        let path = match strip_dot {
            true => path.strip_prefix(".").unwrap_or(path),
            false => path,
        };
        if matcher.is_none_or(|m| m.is_match(path)) {
            inputs.push(Input::File(path.to_path_buf()));
        }
    }
    Ok(())
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn is_rejects_file(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().ends_with(REJECTS_FILE_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/deep")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        for name in [
            "z.json",
            "a.json.gz",
            "b/deep/x.log",
            "b/y.json",
            ".hidden.json",
            ".git/config",
            "run.rejects.jsonl",
        ] {
            fs::write(root.join(name), "{}").unwrap();
        }
        dir
    }

    fn names(inputs: &[Input], root: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|input| match input {
                Input::File(p) => p.strip_prefix(root).unwrap().display().to_string(),
                Input::Stdin => "-".into(),
            })
            .collect()
    }

    #[test]
    fn directories_are_walked_sorted_without_hidden_or_rejects_files() {
        let dir = tree();
        let root = dir.path();
        let inputs = expand(&[root.display().to_string(), "-".into()]).unwrap();
        assert_eq!(
            names(&inputs, root),
            vec!["a.json.gz", "b/deep/x.log", "b/y.json", "z.json", "-"]
        );
    }

    #[test]
    fn globs_expand_with_and_without_double_star() {
        let dir = tree();
        let root = dir.path().display().to_string();
        let one_level = expand(&[format!("{root}/*.json*")]).unwrap();
        assert_eq!(names(&one_level, dir.path()), vec!["a.json.gz", "z.json"]);
        let deep = expand(&[format!("{root}/b/**/*.{{log,json}}")]).unwrap();
        assert_eq!(names(&deep, dir.path()), vec!["b/deep/x.log", "b/y.json"]);
    }

    #[test]
    fn missing_paths_and_empty_patterns_are_errors_naming_them() {
        let dir = tree();
        let missing = format!("{}/nope.json", dir.path().display());
        let err = expand(std::slice::from_ref(&missing)).unwrap_err();
        assert!(err.to_string().contains(&missing), "{err}");
        let pattern = format!("{}/*.csv", dir.path().display());
        let err = expand(std::slice::from_ref(&pattern)).unwrap_err();
        assert!(matches!(err, InputError::NoMatch { .. }), "{err}");
    }

    #[test]
    fn a_file_is_itself() {
        let dir = tree();
        let file = dir.path().join("z.json");
        let inputs = expand(&[file.display().to_string()]).unwrap();
        assert_eq!(inputs, vec![Input::File(file)]);
        assert_eq!(Input::Stdin.name().as_ref(), "-");
    }
}
