//! Shared helpers: a local vault in a temporary directory, items, and file tampering.

use std::path::{Path, PathBuf};

use vigil_vault::{Actor, LocalBackend, NewItem, SigningKeyPair, Source, Vault};

pub const CASE: &str = "case-1";

/// A local vault under `dir/vault` with its private key at `dir/private/signing.key`.
pub struct TestVault {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
}

impl TestVault {
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("vault")
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("private/signing.key")
    }

    /// A path inside the case's folder, e.g. `chain/00000000000000000001.json`.
    pub fn case_file(&self, rel: &str) -> PathBuf {
        self.root().join("cases").join(CASE).join(rel)
    }

    pub fn entry_file(&self, seq: u64) -> PathBuf {
        self.case_file(&format!("chain/{seq:020}.json"))
    }

    pub fn sig_file(&self, seq: u64) -> PathBuf {
        self.case_file(&format!("heads/{seq:020}.sig.json"))
    }

    /// The same vault opened again: read-only, or with the signing key.
    pub async fn reopen(&self, with_key: bool) -> Vault {
        let signer = with_key.then(|| SigningKeyPair::load(&self.key_path()).unwrap());
        let backend = LocalBackend::open(&self.root()).unwrap();
        Vault::open(Box::new(backend), signer, actor())
            .await
            .unwrap()
    }
}

pub fn actor() -> Actor {
    Actor {
        operator: "alice".into(),
        principal: Some("arn:aws:sts::123456789012:assumed-role/IR/vigil-case-1-alice".into()),
    }
}

/// An initialised, empty local vault.
pub async fn local_vault() -> TestVault {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    let key_path = dir.path().join("private/signing.key");
    let backend = LocalBackend::open(&root).unwrap();
    let init = Vault::init(&backend, &key_path).await.unwrap();
    assert!(init.created_key && init.created_vault);
    let signer = SigningKeyPair::load(&key_path).unwrap();
    let vault = Vault::open(Box::new(backend), Some(signer), actor())
        .await
        .unwrap();
    TestVault { dir, vault }
}

pub fn item(case: &str, name: &str, bytes: &[u8]) -> NewItem {
    NewItem {
        case_id: case.into(),
        name: name.into(),
        media_type: "application/json".into(),
        bytes: bytes.to_vec(),
        source: Source {
            arn: Some("arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc".into()),
            account: Some("210987654321".into()),
            region: Some("eu-west-1".into()),
        },
        method: "ec2:DescribeInstances by ec2.capture_metadata".into(),
        collected_by: Some("arn:aws:sts::210987654321:assumed-role/IR/vigil".into()),
        operator: None,
        collected_at: None,
    }
}

/// A vault with case-1 holding three items and three custody events:
/// 0 item a, 1 item b, 2 item c, 3 copied (b), 4 accessed (a), 5 exported-like note (case).
pub async fn populated() -> (TestVault, Vec<String>) {
    let tv = local_vault().await;
    let mut shas = Vec::new();
    for (name, bytes) in [
        ("a.json", &b"{\"instance\":\"i-0abc\"}"[..]),
        ("b.bin", &b"memory image bytes"[..]),
        ("c.txt", &b"volatile data"[..]),
    ] {
        shas.push(tv.vault.add(item(CASE, name, bytes)).await.unwrap().sha256);
    }
    tv.vault
        .record_custody(
            CASE,
            vigil_vault::CustodyAction::Copied,
            Some(&shas[1]),
            "to the forensic workstation",
        )
        .await
        .unwrap();
    tv.vault.get(CASE, &shas[0]).await.unwrap();
    tv.vault
        .record_custody(
            CASE,
            vigil_vault::CustodyAction::Copied,
            None,
            "handed to legal",
        )
        .await
        .unwrap();
    (tv, shas)
}

/// Overwrites a read-only vault file, as an attacker with file access would.
pub fn overwrite(path: &Path, bytes: &[u8]) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
    std::fs::write(path, bytes).unwrap();
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
