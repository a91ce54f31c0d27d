//! Export bundles: one `.tar.gz` with everything needed to verify a case offline.
//!
//! ```text
//! README.txt        how to verify, with vigil or by hand
//! manifest.json     the case's items and custody history (a view; the chain is the record)
//! public.pem        the vault's Ed25519 public key (SPKI PEM)
//! chain.jsonl       the chain entries, one per line, in order
//! heads.jsonl       the signed heads, one per line
//! items/<sha256>    the evidence bytes
//! ```
//!
//! [`verify_bundle`] reads the archive once, hashing items as they stream past (nothing is
//! extracted to disk, so hostile paths in a tampered archive are harmless), and runs the same
//! checker as a vault.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::backend::ObjectDigest;
use crate::error::VaultError;
use crate::keys::{HeadSignature, PublicKey};
use crate::manifest::CaseManifest;
use crate::model::{is_sha256_hex, layout, CaseId, ChainEntry};
use crate::vault::Vault;
use crate::verify::{self, CaseMaterial, CaseReport, ItemState, KeyTrust, Problem, RawObject};

const README: &str = "\
vigil evidence bundle
=====================

This archive holds one case of a vigil evidence vault:

  manifest.json   the items and their chain of custody (a readable view of chain.jsonl)
  public.pem      the vault's Ed25519 public key (SPKI PEM)
  chain.jsonl     the hash-chained entries: each line's `hash` is SHA-256 over
                  \"vigil-vault/entry/v1\\n\" + the line's JSON with \"hash\":\"\", and each
                  line's `prev` is the line before's `hash`
  heads.jsonl     Ed25519 signatures of the chain head: over \"vigil-vault/head/v1\\n\" + the
                  JSON of `statement`
  items/<sha256>  the evidence; each file's SHA-256 is its name (check with `sha256sum items/*`)

Verify it with a public key you obtained independently of this file:

  vigil evidence verify --bundle THIS_FILE --public-key vault-public.pem
";

/// Largest chain, signature list, key or manifest file accepted from a bundle.
const MAX_METADATA_BYTES: u64 = 512 << 20;

/// Writes the bundle for `case` to `out` (through a temporary file, never replacing one).
pub(crate) async fn write(
    vault: &Vault,
    case: &CaseId,
    material: &CaseMaterial,
    manifest: &CaseManifest,
    out: &Path,
) -> Result<(), VaultError> {
    let tmp = temp_path(out);
    let result = write_to(vault, case, material, manifest, &tmp).await;
    let result = result.and_then(|()| {
        std::fs::hard_link(&tmp, out).map_err(|e| VaultError::Bundle {
            path: out.into(),
            reason: format!("cannot create the bundle: {e}"),
        })
    });
    let _ = std::fs::remove_file(&tmp);
    result
}

fn temp_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".to_string());
    out.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

async fn write_to(
    vault: &Vault,
    case: &CaseId,
    material: &CaseMaterial,
    manifest: &CaseManifest,
    path: &Path,
) -> Result<(), VaultError> {
    let err = |e: std::io::Error| VaultError::io(path, e);
    let file = File::create(path).map_err(err)?;
    let gz = GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = chrono::Utc::now().timestamp().max(0) as u64;
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), VaultError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o444);
        header.set_mtime(mtime);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).map_err(err)
    };
    add("README.txt", README.as_bytes())?;
    let manifest_json = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    add("manifest.json", &manifest_json)?;
    add("public.pem", vault.public_key().to_pem().as_bytes())?;
    add(
        "chain.jsonl",
        &jsonl(&material.entries, |b| Some(b.to_vec())),
    )?;
    let heads = jsonl(&material.signatures, |b| {
        HeadSignature::parse(b, "")
            .ok()
            .and_then(|s| serde_json::to_vec(&s).ok())
    });
    add("heads.jsonl", &heads)?;
    let mut seen = BTreeSet::new();
    for item in &manifest.items {
        let sha = &item.record.sha256;
        if !seen.insert(sha.clone()) {
            continue;
        }
        let key = layout::item(case, sha);
        let bytes = vault
            .backend()
            .get(&key)
            .await?
            .ok_or_else(|| VaultError::Corrupt {
                object: key.clone(),
                reason: "the item's bytes are missing".to_string(),
            })?;
        add(&format!("items/{sha}"), &bytes)?;
    }
    let gz = tar.into_inner().map_err(err)?;
    let mut writer = gz.finish().map_err(err)?;
    writer.flush().map_err(err)?;
    writer
        .into_inner()
        .map_err(|e| err(e.into_error()))?
        .sync_all()
        .map_err(err)
}

/// Objects in position order, one line each.
fn jsonl(objects: &[RawObject], line: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut sorted: Vec<&RawObject> = objects.iter().collect();
    sorted.sort_by_key(|o| o.position);
    let mut out = Vec::new();
    for object in sorted {
        if let Some(bytes) = line(&object.bytes) {
            out.extend(bytes.trim_ascii_end());
            out.push(b'\n');
        }
    }
    out
}

/// What the archive held.
#[derive(Default)]
struct BundleContents {
    chain: Option<Vec<u8>>,
    heads: Option<Vec<u8>>,
    public: Option<Vec<u8>>,
    manifest: Option<Vec<u8>>,
    items: BTreeMap<String, ItemState>,
    odd_items: Vec<String>,
    unexpected: Vec<String>,
}

/// Verifies a bundle offline. `trusted_key` should be a public key obtained independently of
/// the bundle; without one the bundle's own `public.pem` is used and the report says so.
pub fn verify_bundle(
    path: &Path,
    trusted_key: Option<&PublicKey>,
) -> Result<CaseReport, VaultError> {
    let contents = read_bundle(path)?;
    let bundle_err = |reason: &str| VaultError::Bundle {
        path: path.into(),
        reason: reason.to_string(),
    };
    let chain = contents
        .chain
        .as_ref()
        .ok_or_else(|| bundle_err("no chain.jsonl: not a vigil evidence bundle"))?;
    let entries = lines(chain, "chain.jsonl", |_, n| n);
    let signatures = lines(
        contents.heads.as_deref().unwrap_or_default(),
        "heads.jsonl",
        |b, _| HeadSignature::parse(b, "").map_or(0, |s| s.statement.seq),
    );
    let case = entries
        .iter()
        .find_map(|raw| ChainEntry::parse(&raw.bytes, "").ok())
        .map(|e| e.case)
        .ok_or_else(|| bundle_err("chain.jsonl has no readable entry, so the case is unknown"))?;
    let bundle_key = match &contents.public {
        Some(bytes) => Some(PublicKey::from_pem(
            &String::from_utf8_lossy(bytes),
            &format!("{}: public.pem", path.display()),
        )?),
        None => None,
    };
    let (key, trust, other) = match (trusted_key, &bundle_key) {
        (Some(key), bundle) => (
            key,
            KeyTrust::Trusted,
            bundle.as_ref().filter(|b| *b != key),
        ),
        (None, Some(bundle)) => (bundle, KeyTrust::Bundle, None),
        (None, None) => {
            return Err(bundle_err(
                "no public.pem in the bundle; give the vault's public key",
            ))
        }
    };
    let material = CaseMaterial {
        entries,
        signatures,
        items: Some(contents.items),
        unexpected: contents.unexpected,
        odd_items: contents.odd_items,
    };
    let checked = verify::check(&case, &material, key, other);
    let summary = summary_problem(&case, &checked, contents.manifest.as_deref());
    let mut report = verify::report(&case, path.display().to_string(), checked, key, trust, true);
    if let Some(other) = other {
        report.problems.insert(
            0,
            Problem::VaultKeyReplaced {
                vault_key_id: other.key_id(),
                trusted_key_id: key.key_id(),
            },
        );
    }
    report.problems.extend(summary);
    Ok(report)
}

/// `manifest.json` must say what the chain says: a reader trusting it must not be misled.
fn summary_problem(
    case: &CaseId,
    checked: &verify::CheckedChain,
    manifest: Option<&[u8]>,
) -> Option<Problem> {
    let object = "manifest.json".to_string();
    let Some(bytes) = manifest else {
        return Some(Problem::SummaryMismatch {
            object,
            reason: "it is missing".to_string(),
        });
    };
    let expected = CaseManifest::from_entries(case, checked.entries.values());
    match serde_json::from_slice::<CaseManifest>(bytes) {
        Ok(found) if found == expected => None,
        Ok(_) => Some(Problem::SummaryMismatch {
            object,
            reason: "its items or custody events differ from chain.jsonl".to_string(),
        }),
        Err(e) => Some(Problem::SummaryMismatch {
            object,
            reason: format!("it does not parse: {e}"),
        }),
    }
}

/// Splits a JSON Lines file into positioned objects (blank lines skipped).
fn lines(bytes: &[u8], file: &str, position: impl Fn(&[u8], u64) -> u64) -> Vec<RawObject> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .enumerate()
        .map(|(n, (line_no, line))| RawObject {
            label: format!("{file} line {}", line_no + 1),
            position: position(line, n as u64),
            bytes: line.to_vec(),
        })
        .collect()
}

fn read_bundle(path: &Path) -> Result<BundleContents, VaultError> {
    let bad = |reason: String| VaultError::Bundle {
        path: path.into(),
        reason,
    };
    let file = File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a .tar.gz archive: {e}")))?;
    let mut contents = BundleContents::default();
    let mut seen = BTreeSet::new();
    for (n, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| {
            bad(format!(
                "corrupt or truncated archive at member {}: {e}",
                n + 1
            ))
        })?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| bad(format!("member {} has an unreadable name: {e}", n + 1)))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() || !seen.insert(name.clone()) {
            contents
                .unexpected
                .push(format!("{name} (duplicate or not a regular file)"));
            continue;
        }
        read_member(&name, &mut entry, &mut contents)
            .map_err(|e| bad(format!("corrupt or truncated archive in {name}: {e}")))?;
    }
    // Read to the end of the gzip stream so its CRC is checked too.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink()).map_err(|e| {
        bad(format!(
            "corrupt or truncated archive after the last member: {e}"
        ))
    })?;
    Ok(contents)
}

fn read_member(
    name: &str,
    entry: &mut impl Read,
    contents: &mut BundleContents,
) -> std::io::Result<()> {
    let slot = match name {
        "chain.jsonl" => &mut contents.chain,
        "heads.jsonl" => &mut contents.heads,
        "public.pem" => &mut contents.public,
        "manifest.json" => &mut contents.manifest,
        "README.txt" => return std::io::copy(entry, &mut std::io::sink()).map(|_| ()),
        other => {
            match other.strip_prefix("items/") {
                Some(sha) if is_sha256_hex(sha) => {
                    let digest = digest(entry)?;
                    contents
                        .items
                        .insert(sha.to_string(), ItemState::Read(digest));
                }
                Some(_) => contents.odd_items.push(other.to_string()),
                None => contents.unexpected.push(other.to_string()),
            }
            return std::io::copy(entry, &mut std::io::sink()).map(|_| ());
        }
    };
    let mut bytes = Vec::new();
    entry.take(MAX_METADATA_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(std::io::Error::other(format!(
            "{name} is larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    *slot = Some(bytes);
    Ok(())
}

fn digest(reader: &mut impl Read) -> std::io::Result<ObjectDigest> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(ObjectDigest {
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}
