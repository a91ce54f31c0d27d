//! Export bundles: round trip, offline verification, tampering inside the archive, and bad
//! input.

use std::io::{Read, Write};
use std::path::Path;

use vigil_vault::{
    verify_bundle, CustodyAction, KeyTrust, Problem, PublicKey, SigningKeyPair, VaultError,
};

use crate::common::*;

/// The members of a `.tar.gz`, in order.
fn members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.push((name, bytes));
    }
    out
}

fn write_members(path: &Path, members: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

async fn exported() -> (TestVault, Vec<String>, std::path::PathBuf) {
    let (tv, shas) = populated().await;
    let out = tv.dir.path().join("case-1.tar.gz");
    let outcome = tv.vault.export(CASE, &out).await.unwrap();
    assert!(outcome.report.is_ok());
    assert_eq!(outcome.custody_seq, Some(6));
    assert_eq!((outcome.entries, outcome.items), (7, 3));
    (tv, shas, out)
}

/// Rewrites the bundle with `edit` applied to its members, and verifies it with the vault key.
fn tampered(
    tv: &TestVault,
    out: &Path,
    edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>),
) -> Vec<Problem> {
    let mut list = members(out);
    edit(&mut list);
    let path = tv.dir.path().join("tampered.tar.gz");
    write_members(&path, &list);
    let report = verify_bundle(&path, Some(tv.vault.public_key())).unwrap();
    assert!(!report.is_ok());
    report.problems
}

#[tokio::test]
async fn an_export_verifies_offline_with_only_the_public_key() {
    let (tv, shas, out) = exported().await;
    let public_file = tv.dir.path().join("vault-public.pem");
    std::fs::write(&public_file, tv.vault.public_key().to_pem()).unwrap();
    let key = PublicKey::load(&public_file).unwrap();
    let report = verify_bundle(&out, Some(&key)).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.entries, report.items, report.custody_events),
        (7, 3, 4)
    );
    assert_eq!(report.key_trust, KeyTrust::Trusted);
    assert_eq!(report.signed_seq, Some(6));

    // Its contents: the items under their hashes, and the export recorded in its own chain.
    let list = members(&out);
    let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "README.txt",
        "manifest.json",
        "public.pem",
        "chain.jsonl",
        "heads.jsonl",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    for sha in &shas {
        let (_, bytes) = list
            .iter()
            .find(|(n, _)| *n == format!("items/{sha}"))
            .unwrap();
        assert_eq!(vigil_vault::sha256_hex(bytes), *sha);
    }
    let manifest: vigil_vault::CaseManifest =
        serde_json::from_slice(&list.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(
        manifest.case_events.last().unwrap().event.action,
        CustodyAction::Exported
    );
    assert_eq!(
        manifest.case_events.last().unwrap().event.note,
        "bundle case-1.tar.gz"
    );

    // Without a trusted key the bundle's own key is used, and the report says so.
    let report = verify_bundle(&out, None).unwrap();
    assert!(report.is_ok());
    assert_eq!(report.key_trust, KeyTrust::Bundle);
    assert!(
        report.to_string().contains("the bundle's own key"),
        "{report}"
    );

    // An existing file is never replaced.
    let err = tv.vault.export(CASE, &out).await.unwrap_err();
    assert!(err.to_string().contains("already there"), "{err}");
}

#[tokio::test]
async fn a_bundle_checked_against_another_key_fails() {
    let (_tv, _, out) = exported().await;
    let other = SigningKeyPair::generate().unwrap().public();
    let report = verify_bundle(&out, Some(&other)).unwrap();
    assert!(!report.is_ok());
    assert!(
        matches!(report.problems[0], Problem::VaultKeyReplaced { .. }),
        "{report}"
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::SignedByOtherKey { .. })),
        "{report}"
    );
}

#[tokio::test]
async fn tampering_inside_a_bundle_is_named() {
    let (tv, shas, out) = exported().await;
    let item = format!("items/{}", shas[0]);

    let found = tampered(&tv, &out, |m| {
        m.iter_mut().find(|(n, _)| *n == item).unwrap().1.push(b'!');
    });
    assert!(
        matches!(
            &found[..],
            [Problem::ItemAltered {
                actual_size: 22,
                ..
            }]
        ),
        "{found:?}"
    );

    let found = tampered(&tv, &out, |m| m.retain(|(n, _)| *n != item));
    assert!(
        matches!(&found[..], [Problem::ItemMissing { .. }]),
        "{found:?}"
    );

    let found = tampered(&tv, &out, |m| m.push(("items/extra".into(), b"x".to_vec())));
    assert_eq!(
        found,
        vec![Problem::ExtraItem {
            object: "items/extra".into()
        }]
    );

    // A custody event (line 5, "accessed") removed from the chain.
    let found = tampered(&tv, &out, |m| {
        let chain = &mut m.iter_mut().find(|(n, _)| n == "chain.jsonl").unwrap().1;
        let text = String::from_utf8(chain.clone()).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 4)
            .map(|(_, l)| l)
            .collect();
        *chain = (kept.join("\n") + "\n").into_bytes();
    });
    assert!(
        found.iter().any(|p| matches!(
            p,
            Problem::EntryOutOfOrder {
                position: 4,
                seq: 5,
                ..
            }
        )),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| matches!(p, Problem::Truncated { .. })),
        "{found:?}"
    );

    // The readable manifest edited to hide an item.
    let found = tampered(&tv, &out, |m| {
        let manifest = &mut m.iter_mut().find(|(n, _)| n == "manifest.json").unwrap().1;
        *manifest = String::from_utf8(manifest.clone())
            .unwrap()
            .replace("b.bin", "nothing.bin")
            .into_bytes();
    });
    assert!(
        matches!(&found[..], [Problem::SummaryMismatch { .. }]),
        "{found:?}"
    );

    // The signatures removed.
    let found = tampered(&tv, &out, |m| m.retain(|(n, _)| n != "heads.jsonl"));
    assert!(
        matches!(&found[..], [Problem::NoSignature { entries: 7 }]),
        "{found:?}"
    );
}

#[tokio::test]
async fn corrupt_and_truncated_bundles_are_clear_errors() {
    let (tv, _, out) = exported().await;
    let bytes = std::fs::read(&out).unwrap();
    let dir = tv.dir.path();

    let cut = dir.join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = verify_bundle(&cut, None).unwrap_err();
    assert!(matches!(err, VaultError::Bundle { .. }), "{err}");
    assert!(
        err.to_string().contains("cut.tar.gz") && err.to_string().contains("truncated"),
        "{err}"
    );

    let junk = dir.join("junk.tar.gz");
    std::fs::write(&junk, b"this is not an archive").unwrap();
    let err = verify_bundle(&junk, None).unwrap_err();
    assert!(
        matches!(err, VaultError::Bundle { .. }) && err.to_string().contains("junk.tar.gz"),
        "{err}"
    );

    let empty = dir.join("empty.tar.gz");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        verify_bundle(&empty, None).unwrap_err(),
        VaultError::Bundle { .. }
    ));

    let err = verify_bundle(&dir.join("absent.tar.gz"), None).unwrap_err();
    assert!(err.to_string().contains("cannot open"), "{err}");

    // A valid archive that is not a bundle.
    let other = dir.join("other.tar.gz");
    write_members(&other, &[("hello.txt".into(), b"hi".to_vec())]);
    let err = verify_bundle(&other, None).unwrap_err();
    assert!(
        err.to_string().contains("not a vigil evidence bundle"),
        "{err}"
    );

    // A bundle whose public key is garbage, and no trusted key.
    let mut list = members(&out);
    list.iter_mut().find(|(n, _)| n == "public.pem").unwrap().1 = b"garbage".to_vec();
    let badkey = dir.join("badkey.tar.gz");
    write_members(&badkey, &list);
    let err = verify_bundle(&badkey, None).unwrap_err();
    assert!(
        err.to_string().contains("public.pem") && err.to_string().contains("SPKI"),
        "{err}"
    );

    // Every single-byte corruption of the archive gives a report or an error, never a panic,
    // and is noticed unless the archive still holds the same bytes: a flip in the gzip
    // header's time or flags, in the padding bits after the last deflate block, or in the
    // code lengths of symbols a block never uses changes the file but not its content.
    let original = inflated(&bytes);
    assert!(original.is_some());
    for at in (0..bytes.len())
        .step_by(97)
        .chain(bytes.len() - 9..bytes.len())
    {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        let path = dir.join("flip.tar.gz");
        std::fs::write(&path, &bad).unwrap();
        if let Ok(report) = verify_bundle(&path, Some(tv.vault.public_key())) {
            assert!(
                !report.is_ok() || inflated(&bad) == original,
                "flip at {at} changed the archive and went unnoticed"
            );
        }
    }
}

/// The whole decompressed stream of a gzip file, if it decompresses (CRC included).
fn inflated(gzip: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gzip)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

#[tokio::test]
async fn a_tampered_case_is_not_exported() {
    let (tv, shas) = populated().await;
    std::fs::remove_file(tv.case_file(&format!("items/{}", shas[0]))).unwrap();
    let out = tv.dir.path().join("x.tar.gz");
    let err = tv.reopen(true).await.export(CASE, &out).await.unwrap_err();
    assert!(
        matches!(err, VaultError::ChainDoesNotVerify { .. }),
        "{err}"
    );
    assert!(!out.exists());
}
