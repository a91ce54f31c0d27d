//! The set of every loaded intel list, by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::format::parse_file;
use crate::{IntelEntry, IntelError, IntelList};

/// Every intel list vigil knows, by name. Rules name a list and ask whether a field's value
/// is on it.
#[derive(Debug, Clone, Default)]
pub struct IntelSet {
    lists: BTreeMap<String, IntelList>,
}

impl IntelSet {
    /// Loads every file in `paths` (directories are walked recursively, in name order, skipping
    /// hidden entries). Each file is one list named by its stem or its `# name:` header; two
    /// files with the same name make one list. Problems are returned; everything else loads.
    pub fn load_paths(paths: &[PathBuf]) -> (IntelSet, Vec<IntelError>) {
        IntelSet::load_paths_at(paths, Utc::now())
    }

    /// [`IntelSet::load_paths`] with STIX expiry judged at `now`.
    pub fn load_paths_at(paths: &[PathBuf], now: DateTime<Utc>) -> (IntelSet, Vec<IntelError>) {
        let mut set = IntelSet::default();
        let mut errors = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            collect_files(path, true, &mut files, &mut errors);
        }
        for file in files {
            match std::fs::read(&file) {
                Ok(bytes) => errors.extend(set.add_file_at(&file, &bytes, now)),
                Err(error) => errors.push(IntelError::new(&file, 0, error)),
            }
        }
        (set, errors)
    }

    /// Adds the content of one file (read elsewhere) as a list, returning its problems.
    pub fn add_file(&mut self, file: &Path, bytes: &[u8]) -> Vec<IntelError> {
        self.add_file_at(file, bytes, Utc::now())
    }

    fn add_file_at(&mut self, file: &Path, bytes: &[u8], now: DateTime<Utc>) -> Vec<IntelError> {
        let parsed = parse_file(bytes, now);
        let name = parsed.name.unwrap_or_else(|| file_stem(file));
        let list = self
            .lists
            .entry(name.clone())
            .or_insert_with(|| IntelList::new(&name));
        list.note_file(file);
        let mut errors: Vec<IntelError> = parsed
            .problems
            .into_iter()
            .map(|(line, reason)| IntelError::new(file, line, reason))
            .collect();
        for entry in parsed.entries {
            if let Err(reason) = list.add(&entry.value, entry.description, file, entry.line) {
                errors.push(IntelError::new(file, entry.line, reason));
            }
        }
        errors.sort_by_key(|error| error.line);
        errors
    }

    /// Whether a list of that name is loaded.
    pub fn has_list(&self, name: &str) -> bool {
        self.lists.contains_key(name)
    }

    /// The list of that name.
    pub fn list(&self, name: &str) -> Option<&IntelList> {
        self.lists.get(name)
    }

    /// The entry of list `list` that `value` matches, as written in the list (the CIDR that
    /// contains the address, the domain the host is under...).
    pub fn lookup(&self, list: &str, value: &str) -> Option<&str> {
        self.lookup_entry(list, value)
            .map(|entry| entry.value.as_str())
    }

    /// Like [`IntelSet::lookup`], with the entry's description and origin.
    pub fn lookup_entry(&self, list: &str, value: &str) -> Option<&IntelEntry> {
        self.lists.get(list)?.lookup(value)
    }

    /// Every list, in name order.
    pub fn lists(&self) -> impl Iterator<Item = &IntelList> {
        self.lists.values()
    }

    /// The number of lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether no list is loaded.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}

fn file_stem(file: &Path) -> String {
    file.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

/// Adds `path` (a file) or the files under it (a directory) to `files`, in name order.
fn collect_files(path: &Path, given: bool, files: &mut Vec<PathBuf>, errors: &mut Vec<IntelError>) {
    let hidden = path
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with('.'));
    if hidden && !given {
        return;
    }
    if !path.is_dir() {
        files.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(error) => return errors.push(IntelError::new(path, 0, error)),
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        collect_files(&child, false, files, errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn directories_load_every_format_as_named_lists() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bad_ips.txt",
            "# bad\n198.51.100.7\n203.0.113.0/24\n",
        );
        write(
            dir.path(),
            "feeds/agents.csv",
            "user_agent,tool\nTruffleHog,scanner\n",
        );
        write(
            dir.path(),
            "feeds/x.txt",
            "# name: mining_pools\npool.example\n",
        );
        write(
            dir.path(),
            "stix.json",
            r#"{"type":"bundle","objects":[{"type":"indicator","id":"indicator--1",
                "pattern_type":"stix","pattern":"[ipv6-addr:value = '2001:db8::/32']"}]}"#,
        );
        write(dir.path(), ".hidden", "1.1.1.1\n");
        let (set, errors) = IntelSet::load_paths(&[dir.path().to_path_buf()]);
        assert_eq!(errors, vec![]);
        let names: Vec<&str> = set.lists().map(IntelList::name).collect();
        assert_eq!(names, vec!["agents", "bad_ips", "mining_pools", "stix"]);
        assert_eq!(set.len(), 4);
        assert_eq!(
            set.lookup("bad_ips", "203.0.113.255"),
            Some("203.0.113.0/24")
        );
        assert_eq!(set.lookup("agents", "trufflehog"), Some("TruffleHog"));
        assert_eq!(
            set.lookup("mining_pools", "xmr.pool.example"),
            Some("pool.example")
        );
        assert_eq!(set.lookup("mining_pools", "evilpool.example"), None);
        assert_eq!(set.lookup("stix", "2001:db8::5"), Some("2001:db8::/32"));
        assert_eq!(set.lookup("nope", "1.1.1.1"), None);
        assert!(set.has_list("bad_ips") && !set.has_list("hidden"));
    }

    #[test]
    fn bad_lines_are_reported_with_file_and_line_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "ips.txt",
            "1.2.3.4\n1.2.3.999\n\n10.0.0.0/99\n5.6.7.8\n",
        );
        let (set, errors) = IntelSet::load_paths(std::slice::from_ref(&path));
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4]);
        assert!(errors.iter().all(|e| e.file == path));
        assert_eq!(set.list("ips").map(IntelList::len), Some(2));
        assert_eq!(set.lookup_entry("ips", "5.6.7.8").map(|e| e.line), Some(5));
    }

    #[test]
    fn same_name_merges_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a/tor.txt", "1.1.1.1\n");
        let b = write(dir.path(), "b/tor.csv", "ip\n2.2.2.2\n");
        let missing = dir.path().join("missing.txt");
        let (set, errors) = IntelSet::load_paths(&[a, b, missing.clone()]);
        assert_eq!(
            set.list("tor").map(|l| (l.len(), l.files().len())),
            Some((2, 2))
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, missing);
        assert_eq!(errors[0].line, 0);
    }
}
