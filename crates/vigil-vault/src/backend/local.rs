//! The embedded default backend: a directory of files written once and made read-only.
//!
//! A write goes to a temporary file under `<root>/.tmp/`, is synced and set to mode 0444, then
//! hard-linked to its final name. `link` fails when the name exists, so a write is atomic
//! (nobody ever sees half an object) and never replaces an object, even with two vigil
//! processes writing at once. Read-only files stop accidents, not root: the signed chain is
//! what detects tampering.
//!
//! File I/O is synchronous inside the async methods: the objects are small except evidence
//! items, and the CLI runs one vault operation at a time.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{check_key, Backend, ObjectDigest, ObjectKind};
use crate::error::BackendError;

const TMP_DIR: &str = ".tmp";

/// A vault in a local directory.
#[derive(Debug)]
pub struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    /// Opens (creating when missing) the directory `root`.
    pub fn open(root: &Path) -> Result<Self, BackendError> {
        fs::create_dir_all(root.join(TMP_DIR)).map_err(|e| BackendError::io(root, e))?;
        Ok(LocalBackend {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, BackendError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, BackendError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tmp = self.root.join(TMP_DIR).join(format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| BackendError::io(&tmp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| BackendError::io(&tmp, e))?;
        let mut perms = file
            .metadata()
            .map_err(|e| BackendError::io(&tmp, e))?
            .permissions();
        perms.set_readonly(true);
        fs::set_permissions(&tmp, perms).map_err(|e| BackendError::io(&tmp, e))?;
        Ok(tmp)
    }

    fn list_dir(
        &self,
        dir: &Path,
        key_prefix: &str,
        out: &mut Vec<String>,
    ) -> Result<(), BackendError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(BackendError::io(dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| BackendError::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && key_prefix.is_empty() {
                continue; // the temporary-write folder
            }
            let key = format!("{key_prefix}{name}");
            let kind = entry
                .file_type()
                .map_err(|e| BackendError::io(entry.path(), e))?;
            if kind.is_dir() {
                self.list_dir(&entry.path(), &format!("{key}/"), out)?;
            } else {
                out.push(key);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.root)
    }

    async fn put_once(
        &self,
        key: &str,
        bytes: &[u8],
        _kind: ObjectKind,
    ) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| BackendError::io(dir, e))?;
        }
        let tmp = self.write_temp(bytes)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    // Make the new name durable too; not every platform can open a directory.
                    if let Ok(d) = fs::File::open(dir) {
                        let _ = d.sync_all();
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(BackendError::AlreadyExists {
                location: self.location(),
                key: key.to_string(),
            }),
            Err(e) => Err(BackendError::io(&path, e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let path = self.path_of(key)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BackendError::io(&path, e)),
        }
    }

    async fn digest(&self, key: &str) -> Result<Option<ObjectDigest>, BackendError> {
        let path = self.path_of(key)?;
        let mut file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BackendError::io(&path, e)),
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| BackendError::io(&path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(Some(ObjectDigest {
            sha256: hex::encode(hasher.finalize()),
            size,
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let dir_key = prefix.trim_end_matches('/');
        let dir = if dir_key.is_empty() {
            self.root.clone()
        } else {
            self.path_of(dir_key)?
        };
        let mut out = Vec::new();
        let key_prefix = if dir_key.is_empty() {
            String::new()
        } else {
            format!("{dir_key}/")
        };
        self.list_dir(&dir, &key_prefix, &mut out)?;
        out.sort();
        Ok(out)
    }

    async fn exists(&self, key: &str) -> Result<bool, BackendError> {
        let path = self.path_of(key)?;
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BackendError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn objects_are_written_once_and_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::open(dir.path()).unwrap();
        backend
            .put_once("cases/c/items/a", b"one", ObjectKind::Item)
            .await
            .unwrap();
        let err = backend
            .put_once("cases/c/items/a", b"two", ObjectKind::Item)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::AlreadyExists { .. }), "{err}");
        assert_eq!(
            backend.get("cases/c/items/a").await.unwrap().unwrap(),
            b"one"
        );
        let meta = fs::metadata(dir.path().join("cases/c/items/a")).unwrap();
        assert!(meta.permissions().readonly());
        assert_eq!(backend.get("cases/c/items/b").await.unwrap(), None);
        assert!(backend.exists("cases/c/items/a").await.unwrap());
        let digest = backend.digest("cases/c/items/a").await.unwrap().unwrap();
        assert_eq!(digest.size, 3);
        assert_eq!(digest.sha256, crate::model::sha256_hex(b"one"));

        backend
            .put_once("cases/d/chain/x", b"{}", ObjectKind::Metadata)
            .await
            .unwrap();
        assert_eq!(
            backend.list("cases/").await.unwrap(),
            vec!["cases/c/items/a".to_string(), "cases/d/chain/x".to_string()]
        );
        assert_eq!(
            backend.list("cases/nope/").await.unwrap(),
            Vec::<String>::new()
        );
        // No temporary file is left behind, and none is listed.
        assert_eq!(fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
        assert!(backend
            .list("")
            .await
            .unwrap()
            .iter()
            .all(|k| !k.starts_with('.')));
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let backend = LocalBackend::open(&dir.path().join("v")).unwrap();
        let err = backend
            .put_once("../escape", b"x", ObjectKind::Metadata)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::InvalidKey { .. }), "{err}");
        assert!(!dir.path().join("escape").exists());
    }
}
