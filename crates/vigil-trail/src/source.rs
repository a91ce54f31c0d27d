//! Where a trail is read from: the [`Source`] trait, and [`DirSource`] for a local copy.
//!
//! The verifier only lists keys and reads objects, so the same code checks a bucket
//! ([`crate::S3Source`]) and a copy of one on disk. A local copy has the bucket's key layout
//! below a directory; the S3 user metadata of each digest sits beside it in
//! `NAME.metadata.json` (a JSON object of metadata names to values, as
//! [`crate::fetch()`] writes it), and `vigil-trail-source.json` at the top names the bucket the
//! copy came from (digests name their own bucket, and must be found where they say).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SourceError;

/// The file beside a digest holding its S3 user metadata: `NAME` + this suffix.
pub const METADATA_SUFFIX: &str = ".metadata.json";
/// The file at the top of a local copy that names the bucket it came from.
pub const SOURCE_FILE: &str = "vigil-trail-source.json";

/// An object's bytes and S3 user metadata (names without `x-amz-meta-`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

/// A bucket, or a copy of one, that holds a trail.
pub trait Source: Sync {
    /// The bucket the trail was written to (digests must name it).
    fn bucket(&self) -> &str;

    /// How to show a key to a person: `s3://bucket/key` or a local path.
    fn locate(&self, key: &str) -> String;

    /// The names of the folders directly below `prefix` (which ends in `/`), sorted.
    fn list_folders(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;

    /// Every object key below `prefix` (which ends in `/`), at any depth, sorted.
    fn list_keys(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;

    /// An object with its metadata; `None` when there is no such object.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Object>, SourceError>> + Send;
}

/// What `vigil-trail-source.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyManifest {
    /// The bucket the copy was made from.
    pub bucket: String,
    /// When the copy was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
}

/// A local copy of a trail bucket.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    bucket: String,
}

impl DirSource {
    /// A copy of `bucket` at `root`.
    pub fn new(root: impl Into<PathBuf>, bucket: impl Into<String>) -> Self {
        DirSource {
            root: root.into(),
            bucket: bucket.into(),
        }
    }

    /// A copy made by `vigil trail fetch`, which names its bucket in `vigil-trail-source.json`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, SourceError> {
        let root = root.into();
        let manifest = read_manifest(&root)?.ok_or_else(|| SourceError::Directory {
            dir: root.clone(),
            reason: format!(
                "no {SOURCE_FILE} here: name the bucket the files came from (--bucket)"
            ),
        })?;
        Ok(DirSource::new(root, manifest.bucket))
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Reads `vigil-trail-source.json` in `root`, if there is one.
pub fn read_manifest(root: &Path) -> Result<Option<CopyManifest>, SourceError> {
    let path = root.join(SOURCE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SourceError::Directory {
                dir: root.to_path_buf(),
                reason: format!("cannot read {SOURCE_FILE}: {e}"),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| SourceError::Directory {
            dir: root.to_path_buf(),
            reason: format!("{SOURCE_FILE} is not valid: {e}"),
        })
}

impl Source for DirSource {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn locate(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }

    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let dir = key_path(&self.root, prefix.trim_end_matches('/'))?;
        let mut out = Vec::new();
        for entry in read_dir(&dir)? {
            if entry.1.is_dir() {
                out.push(entry.0);
            }
        }
        out.sort();
        Ok(out)
    }

    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut out = Vec::new();
        walk(&self.root, prefix.trim_end_matches('/'), &mut out)?;
        out.sort();
        Ok(out)
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, SourceError> {
        let path = key_path(&self.root, key)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read_error(&path, e)),
        };
        let meta_path = metadata_path(&path);
        let metadata = match std::fs::read(&meta_path) {
            Ok(text) => serde_json::from_slice(&text).map_err(|e| SourceError::Read {
                location: meta_path.display().to_string(),
                reason: format!("not a JSON object of metadata names to strings: {e}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(read_error(&meta_path, e)),
        };
        Ok(Some(Object { bytes, metadata }))
    }
}

/// The metadata file of the object at `path`.
pub fn metadata_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(METADATA_SUFFIX);
    path.with_file_name(name)
}

/// Maps an object key to a path below `root`, refusing keys that would leave it (absolute
/// keys, `..`, empty or `.` segments, backslashes) — keys come from the bucket, and a bucket
/// an attacker can write to must not make `fetch` write outside its directory.
pub fn key_path(root: &Path, key: &str) -> Result<PathBuf, SourceError> {
    let unsafe_key = |reason: &str| SourceError::UnsafeKey {
        key: key.to_string(),
        reason: reason.to_string(),
    };
    if key.is_empty() {
        return Ok(root.to_path_buf());
    }
    if key.contains('\\') || key.contains('\0') {
        return Err(unsafe_key("it holds a backslash or NUL"));
    }
    let mut path = root.to_path_buf();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(unsafe_key("it has an empty, `.` or `..` segment"));
        }
        let mut components = Path::new(segment).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => path.push(segment),
            _ => return Err(unsafe_key("a segment is not a plain file name")),
        }
    }
    Ok(path)
}

fn read_error(path: &Path, e: std::io::Error) -> SourceError {
    SourceError::Read {
        location: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Entries of a directory as (name, file type); a directory that does not exist is empty.
fn read_dir(dir: &Path) -> Result<Vec<(String, std::fs::FileType)>, SourceError> {
    let list_error = |e: std::io::Error| SourceError::List {
        location: dir.display().to_string(),
        reason: e.to_string(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(list_error(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list_error)?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue; // not a name S3 could have produced
        };
        out.push((name, entry.file_type().map_err(list_error)?));
    }
    Ok(out)
}

/// Collects the keys below `prefix` (symbolic links are not followed).
fn walk(root: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), SourceError> {
    let dir = key_path(root, prefix)?;
    for (name, kind) in read_dir(&dir)? {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_dir() {
            walk(root, &key, out)?;
        } else if kind.is_file() && !name.ends_with(METADATA_SUFFIX) && name != SOURCE_FILE {
            out.push(key);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_stay_below_the_root() {
        let root = Path::new("/copy");
        assert_eq!(
            key_path(root, "AWSLogs/1/x.json.gz").unwrap(),
            PathBuf::from("/copy/AWSLogs/1/x.json.gz")
        );
        for bad in [
            "../etc/passwd",
            "a/../../b",
            "/abs",
            "a//b",
            "a/./b",
            "a\\..\\b",
            "a/",
        ] {
            assert!(key_path(root, bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn lists_reads_and_finds_metadata_beside_objects() {
        let dir = tempfile::tempdir().unwrap();
        let key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz";
        let path = key_path(dir.path(), key).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"gz").unwrap();
        std::fs::write(metadata_path(&path), br#"{"signature": "00ff"}"#).unwrap();
        std::fs::write(dir.path().join(SOURCE_FILE), br#"{"bucket": "b"}"#).unwrap();
        let source = DirSource::open(dir.path()).unwrap();
        assert_eq!(source.bucket(), "b");
        assert_eq!(source.list_keys("AWSLogs/").await.unwrap(), [key]);
        assert_eq!(source.list_keys("").await.unwrap(), [key]);
        assert_eq!(
            source.list_folders("AWSLogs/").await.unwrap(),
            ["111122223333"]
        );
        let object = source.get(key).await.unwrap().unwrap();
        assert_eq!(object.bytes, b"gz");
        assert_eq!(object.metadata["signature"], "00ff");
        assert_eq!(source.get("AWSLogs/none").await.unwrap(), None);
        assert!(source
            .list_keys("AWSLogs/nothing/")
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn a_bad_metadata_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.json.gz"), b"gz").unwrap();
        std::fs::write(dir.path().join("d.json.gz.metadata.json"), b"[1]").unwrap();
        let err = DirSource::new(dir.path(), "b")
            .get("d.json.gz")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("d.json.gz.metadata.json"), "{err}");
        let err = DirSource::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("--bucket"), "{err}");
    }
}
