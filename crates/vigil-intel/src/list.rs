//! One named intel list and its match indexes.

use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

use crate::indicator::{classify, domain_suffixes, fold_case, host_of, Indicator, IndicatorKind};
use crate::prefix::{parse_address, PrefixTable};

/// One entry of a list, as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelEntry {
    /// The indicator as written in the file (`203.0.113.0/24`, `pool.example`...).
    pub value: String,
    /// How it matches.
    pub kind: IndicatorKind,
    /// Other CSV columns, a STIX indicator's name or description, an inline `#` comment.
    pub description: Option<String>,
    /// The file it came from.
    pub file: PathBuf,
    /// Its 1-based line in that file.
    pub line: usize,
}

/// A named list: every entry, indexed three ways (networks by containment, domains by suffix,
/// other text exactly), all case-insensitive.
#[derive(Debug, Clone, Default)]
pub struct IntelList {
    name: String,
    files: Vec<PathBuf>,
    entries: Vec<IntelEntry>,
    networks: PrefixTable<usize>,
    // FxHash: values are looked up on every event; only the operator's list files insert.
    domains: HashMap<String, usize>,
    texts: HashMap<String, usize>,
}

impl IntelList {
    pub(crate) fn new(name: &str) -> Self {
        IntelList {
            name: name.to_string(),
            ..IntelList::default()
        }
    }

    /// The list's name (the file stem, or the `# name:` header).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The files the list was read from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Every entry, in file order (duplicates appear once).
    pub fn entries(&self) -> &[IntelEntry] {
        &self.entries
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn note_file(&mut self, file: &Path) {
        if !self.files.iter().any(|known| known == file) {
            self.files.push(file.to_path_buf());
        }
    }

    /// Adds `value` read at `line` of `file`. A duplicate is ignored; an invalid address is
    /// refused with the reason.
    pub(crate) fn add(
        &mut self,
        value: &str,
        description: Option<String>,
        file: &Path,
        line: usize,
    ) -> Result<(), String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("empty indicator".to_string());
        }
        let index = self.entries.len();
        let (kind, added) = match classify(value)? {
            Indicator::Network(prefix) => {
                (IndicatorKind::Network, self.networks.insert(prefix, index))
            }
            Indicator::Domain(domain) => (
                IndicatorKind::Domain,
                insert_new(&mut self.domains, domain, index),
            ),
            Indicator::Text(text) => (
                IndicatorKind::Text,
                insert_new(&mut self.texts, text, index),
            ),
        };
        if added {
            let file = file.to_path_buf();
            let value = value.to_string();
            self.entries.push(IntelEntry {
                value,
                kind,
                description,
                file,
                line,
            });
        }
        Ok(())
    }

    /// The entry that `value` (an IP address, a host or URL, a user agent, an access key id)
    /// matches, if any.
    pub fn lookup(&self, value: &str) -> Option<&IntelEntry> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        self.lookup_text(value)
            .or_else(|| self.lookup_network(value))
            .or_else(|| self.lookup_domain(value))
            .and_then(|index| self.entries.get(index))
    }

    fn lookup_text(&self, value: &str) -> Option<usize> {
        if self.texts.is_empty() {
            return None;
        }
        self.texts.get(fold_case(value).as_ref()).copied()
    }

    fn lookup_network(&self, value: &str) -> Option<usize> {
        if self.networks.is_empty() {
            return None;
        }
        self.networks.longest_match(parse_address(value)?).copied()
    }

    fn lookup_domain(&self, value: &str) -> Option<usize> {
        if self.domains.is_empty() {
            return None;
        }
        let host = fold_case(host_of(value));
        let found = domain_suffixes(&host).find_map(|suffix| self.domains.get(suffix).copied());
        found
    }
}

fn insert_new(map: &mut HashMap<String, usize>, key: String, index: usize) -> bool {
    if map.contains_key(&key) {
        return false;
    }
    map.insert(key, index);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> IntelList {
        let mut list = IntelList::new("t");
        for (line, value) in values.iter().enumerate() {
            list.add(value, None, Path::new("t.txt"), line + 1).unwrap();
        }
        list
    }

    fn hit<'a>(list: &'a IntelList, value: &str) -> Option<&'a str> {
        list.lookup(value).map(|entry| entry.value.as_str())
    }

    #[test]
    fn domains_match_themselves_and_subdomains_but_not_lookalikes() {
        let l = list(&["pool.example"]);
        assert_eq!(hit(&l, "pool.example"), Some("pool.example"));
        assert_eq!(hit(&l, "EU.Pool.Example"), Some("pool.example"));
        assert_eq!(
            hit(&l, "https://xmr.pool.example:3333/x"),
            Some("pool.example")
        );
        assert_eq!(hit(&l, "evilpool.example"), None);
        assert_eq!(hit(&l, "pool.example.evil"), None);
        assert_eq!(hit(&l, "example"), None);
    }

    #[test]
    fn text_matches_exactly_ignoring_case() {
        let l = list(&["AKIAIOSFODNN7EXAMPLE", "TruffleHog"]);
        assert_eq!(
            hit(&l, "akiaiosfodnn7example"),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
        assert_eq!(hit(&l, "TRUFFLEHOG"), Some("TruffleHog"));
        assert_eq!(hit(&l, "TruffleHog/3.1"), None);
    }

    #[test]
    fn entries_are_returned_as_written() {
        let l = list(&["203.0.113.0/24", "Pool.Example"]);
        assert_eq!(hit(&l, "203.0.113.9"), Some("203.0.113.0/24"));
        assert_eq!(hit(&l, "a.pool.example"), Some("Pool.Example"));
        assert_eq!(
            l.lookup("203.0.113.9").map(|e| e.kind),
            Some(IndicatorKind::Network)
        );
    }

    #[test]
    fn duplicates_are_kept_once_and_bad_entries_refused() {
        let mut l = list(&["1.2.3.4", "1.2.3.4", "x.example", "X.example"]);
        assert_eq!(l.len(), 2);
        assert!(l.add("1.2.3.400", None, Path::new("t.txt"), 9).is_err());
        assert!(l.add("   ", None, Path::new("t.txt"), 10).is_err());
        assert_eq!(l.len(), 2);
        assert_eq!(hit(&l, ""), None);
    }
}
