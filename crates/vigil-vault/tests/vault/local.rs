//! A local vault: clean verification, and each kind of tampering caught and named.

use vigil_vault::{
    ChainEntry, CustodyAction, CustodyEvent, EntryBody, KeyTrust, LocalBackend, Problem,
    SigningKeyPair, Vault, VaultError, VerifyOptions,
};

use crate::common::*;

fn read_only() -> VerifyOptions {
    VerifyOptions {
        trusted_key: None,
        record_custody: false,
    }
}

async fn problems(tv: &TestVault) -> Vec<Problem> {
    let vault = tv.reopen(false).await;
    let report = vault.verify_case(CASE, &read_only()).await.unwrap();
    assert_eq!(report.is_ok(), report.problems.is_empty());
    report.problems
}

#[tokio::test]
async fn a_clean_vault_verifies_and_records_the_verification() {
    let (tv, shas) = populated().await;
    let report = tv
        .vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, 6);
    assert_eq!(report.items, 3);
    assert_eq!(report.custody_events, 3);
    assert_eq!(report.signed_seq, Some(5));
    assert_eq!(report.key_trust, KeyTrust::Vault);
    assert_eq!(report.custody_seq, Some(6));
    assert!(report.to_string().contains(": OK:"), "{report}");

    // The verification is itself in the chain, signed, and a read-only vault verifies it.
    let readonly = tv.reopen(false).await;
    let trusted = VerifyOptions {
        trusted_key: Some(tv.vault.public_key().clone()),
        record_custody: true,
    };
    let again = readonly.verify_case(CASE, &trusted).await.unwrap();
    assert!(again.is_ok(), "{again}");
    assert_eq!(
        (again.entries, again.signed_seq, again.custody_seq),
        (7, Some(6), None)
    );
    assert_eq!(again.key_trust, KeyTrust::Trusted);

    let manifest = readonly.manifest(CASE).await.unwrap();
    assert_eq!(manifest.items.len(), 3);
    let a = &manifest.items[0];
    assert_eq!(a.record.sha256, shas[0]);
    assert_eq!(
        a.record.sha256,
        vigil_vault::sha256_hex(b"{\"instance\":\"i-0abc\"}")
    );
    assert_eq!(a.record.size, 21);
    assert_eq!(a.record.operator, "alice");
    assert_eq!(a.record.source.account.as_deref(), Some("210987654321"));
    assert_eq!(
        a.custody.iter().map(|c| c.event.action).collect::<Vec<_>>(),
        vec![CustodyAction::Accessed]
    );
    assert_eq!(
        manifest.items[1].custody[0].event.note,
        "to the forensic workstation"
    );
    let case_actions: Vec<_> = manifest
        .case_events
        .iter()
        .map(|c| c.event.action)
        .collect();
    assert_eq!(
        case_actions,
        vec![CustodyAction::Copied, CustodyAction::Verified]
    );
    let shown = manifest.to_string();
    assert!(
        shown.contains("accessed by alice as arn:aws:sts::123456789012"),
        "{shown}"
    );
    assert!(
        shown.contains("source: arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc"),
        "{shown}"
    );

    // Stored files are read-only, and the private key is not in the vault.
    let meta = std::fs::metadata(tv.case_file(&format!("items/{}", shas[0]))).unwrap();
    assert!(meta.permissions().readonly());
    let everything = tv.vault.backend().list("").await.unwrap();
    for key in &everything {
        let text = std::fs::read(tv.root().join(key)).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains("PRIVATE KEY"),
            "{key}"
        );
    }
}

#[tokio::test]
async fn changed_item_bytes_are_named() {
    let (tv, shas) = populated().await;
    overwrite(
        &tv.case_file(&format!("items/{}", shas[1])),
        b"memory image bytez",
    );
    let found = problems(&tv).await;
    assert!(
        matches!(&found[..], [Problem::ItemAltered { sha256, name, actual_size: 18, size: 18, .. }]
            if *sha256 == shas[1] && name == "b.bin"),
        "{found:?}"
    );
    assert!(found[0].to_string().contains("(b.bin) bytes changed"));
    // Reading it back refuses the altered bytes.
    let err = tv
        .reopen(false)
        .await
        .get(CASE, &shas[1])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bytes changed"), "{err}");
}

#[tokio::test]
async fn a_missing_item_is_named() {
    let (tv, shas) = populated().await;
    std::fs::remove_file(tv.case_file(&format!("items/{}", shas[2]))).unwrap();
    let found = problems(&tv).await;
    assert!(
        matches!(&found[..], [Problem::ItemMissing { sha256, name }] if *sha256 == shas[2] && name == "c.txt"),
        "{found:?}"
    );
}

#[tokio::test]
async fn an_extra_item_is_named() {
    let (tv, _) = populated().await;
    let planted = vigil_vault::sha256_hex(b"planted");
    std::fs::write(tv.case_file(&format!("items/{planted}")), b"planted").unwrap();
    std::fs::write(tv.case_file("items/notes.txt"), b"x").unwrap();
    std::fs::write(tv.case_file("stray.txt"), b"x").unwrap();
    let found = problems(&tv).await;
    assert!(
        found.contains(&Problem::ExtraItem {
            object: format!("items/{planted}")
        }),
        "{found:?}"
    );
    assert!(
        found.contains(&Problem::ExtraItem {
            object: "cases/case-1/items/notes.txt".into()
        }),
        "{found:?}"
    );
    assert!(
        found.contains(&Problem::UnexpectedObject {
            object: "cases/case-1/stray.txt".into()
        }),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
}

#[tokio::test]
async fn a_changed_manifest_entry_is_named() {
    let (tv, _) = populated().await;
    let path = tv.entry_file(1);
    let text = read(&path);
    let edited = text.replace("instance/i-0abc", "instance/i-0fff");
    assert_ne!(text, edited);
    overwrite(&path, edited.as_bytes());
    let found = problems(&tv).await;
    assert!(
        matches!(&found[..], [Problem::EntryAltered { seq: 1, .. }]),
        "{found:?}"
    );
    assert!(
        found[0].to_string().contains("chain entry 1 was changed"),
        "{found}",
        found = found[0]
    );
}

#[tokio::test]
async fn a_changed_entry_with_a_recomputed_hash_breaks_the_chain() {
    let (tv, _) = populated().await;
    let path = tv.entry_file(1);
    let mut entry = ChainEntry::parse(read(&path).as_bytes(), "x").unwrap();
    if let EntryBody::ItemAdded(record) = &mut entry.body {
        record.name = "innocent.bin".into();
    }
    entry.hash = entry.compute_hash();
    overwrite(&path, &entry.to_bytes());
    let found = problems(&tv).await;
    assert!(
        found
            .iter()
            .any(|p| matches!(p, Problem::ChainBroken { seq: 2, .. })),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| matches!(p, Problem::SignatureMismatch { seq: 1, .. })),
        "{found:?}"
    );
    // The last entry rewritten and re-hashed: only the signature can tell.
    let (tv, _) = populated().await;
    let path = tv.entry_file(5);
    let mut entry = ChainEntry::parse(read(&path).as_bytes(), "x").unwrap();
    entry.actor.operator = "mallory".into();
    entry.hash = entry.compute_hash();
    overwrite(&path, &entry.to_bytes());
    let found = problems(&tv).await;
    assert!(
        matches!(
            &found[..],
            [
                Problem::SignatureMismatch { seq: 5, .. },
                Problem::UnsignedEntries {
                    first_seq: 5,
                    last_seq: 5
                }
            ]
        ),
        "{found:?}"
    );
}

#[tokio::test]
async fn reordered_entries_are_named() {
    let (tv, _) = populated().await;
    let (one, two) = (read(&tv.entry_file(1)), read(&tv.entry_file(2)));
    overwrite(&tv.entry_file(1), two.as_bytes());
    overwrite(&tv.entry_file(2), one.as_bytes());
    let found = problems(&tv).await;
    assert!(
        found.iter().any(|p| matches!(
            p,
            Problem::EntryOutOfOrder {
                position: 1,
                seq: 2,
                ..
            }
        )),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| matches!(
            p,
            Problem::EntryOutOfOrder {
                position: 2,
                seq: 1,
                ..
            }
        )),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_removed_custody_event_is_named() {
    let (tv, _) = populated().await;
    std::fs::remove_file(tv.entry_file(3)).unwrap();
    let found = problems(&tv).await;
    assert!(
        found.contains(&Problem::EntryMissing { seq: 3 }),
        "{found:?}"
    );
    assert!(
        found[0].to_string().contains("entry 3 is missing"),
        "{found:?}"
    );

    // The last event removed (its signature left in place): the signed count shows it.
    let (tv, _) = populated().await;
    std::fs::remove_file(tv.entry_file(5)).unwrap();
    let found = problems(&tv).await;
    assert!(
        found.iter().any(|p| matches!(
            p,
            Problem::Truncated {
                signed_entries: 6,
                entries: 5,
                ..
            }
        )),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_broken_signature_is_named() {
    let (tv, _) = populated().await;
    let path = tv.sig_file(5);
    let mut sig = vigil_vault::HeadSignature::parse(read(&path).as_bytes(), "x").unwrap();
    let flipped = if sig.signature.starts_with('0') {
        "1"
    } else {
        "0"
    };
    sig.signature.replace_range(0..1, flipped);
    overwrite(&path, &sig.to_bytes());
    let found = problems(&tv).await;
    assert!(
        matches!(&found[..], [Problem::SignatureInvalid { object, .. }, Problem::UnsignedEntries { first_seq: 5, .. }]
            if object.ends_with("00000000000000000005.sig.json")),
        "{found:?}"
    );
    assert!(found[0].to_string().contains("is broken"));
}

#[tokio::test]
async fn a_signature_by_another_key_is_named() {
    let (tv, _) = populated().await;
    // An attacker with write access appends a custody event and signs it with their own key.
    let mallory = SigningKeyPair::generate().unwrap();
    let last = ChainEntry::parse(read(&tv.entry_file(5)).as_bytes(), "x").unwrap();
    let forged = ChainEntry::new(
        6,
        &last.hash,
        &last.case,
        chrono::Utc::now(),
        &actor(),
        EntryBody::Custody(CustodyEvent {
            action: CustodyAction::Verified,
            item: None,
            note: "all fine".into(),
            source: None,
            method: None,
        }),
    );
    std::fs::write(tv.entry_file(6), forged.to_bytes()).unwrap();
    let sig = mallory.sign_head(&last.case, 6, &forged.hash, chrono::Utc::now());
    std::fs::write(tv.sig_file(6), sig.to_bytes()).unwrap();
    let found = problems(&tv).await;
    let mallory_id = mallory.public().key_id();
    let vault_id = tv.vault.public_key().key_id();
    assert!(
        matches!(&found[..], [Problem::SignedByOtherKey { key_id, expected_key_id, .. }, Problem::UnsignedEntries { first_seq: 6, last_seq: 6 }]
            if *key_id == mallory_id && *expected_key_id == vault_id),
        "{found:?}"
    );

    // Replacing the vault's public key too does not help against a trusted key.
    overwrite(
        &tv.root().join("keys/public.pem"),
        mallory.public().to_pem().as_bytes(),
    );
    let backend = LocalBackend::open(&tv.root()).unwrap();
    let vault = Vault::open(Box::new(backend), None, actor()).await.unwrap();
    let trusted = VerifyOptions {
        trusted_key: Some(tv.vault.public_key().clone()),
        record_custody: false,
    };
    let report = vault.verify_case(CASE, &trusted).await.unwrap();
    assert!(!report.is_ok());
    assert!(
        matches!(&report.problems[0], Problem::VaultKeyReplaced { vault_key_id, .. } if *vault_key_id == mallory_id)
    );
    assert!(
        report.problems.iter().any(
            |p| matches!(p, Problem::SignedByOtherKey { key_id, .. } if *key_id == mallory_id)
        ),
        "{report}"
    );
    // ... and the rightful key holder can no longer open it for writing.
    let backend = LocalBackend::open(&tv.root()).unwrap();
    let err = Vault::open(
        Box::new(backend),
        Some(SigningKeyPair::load(&tv.key_path()).unwrap()),
        actor(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VaultError::KeyMismatch { .. }), "{err}");
}

#[tokio::test]
async fn nothing_is_signed_on_top_of_a_tampered_chain() {
    let (tv, shas) = populated().await;
    overwrite(
        &tv.entry_file(2),
        read(&tv.entry_file(2)).replace("c.txt", "d.txt").as_bytes(),
    );
    let vault = tv.reopen(true).await;
    let err = vault.add(item(CASE, "new.txt", b"new")).await.unwrap_err();
    assert!(
        matches!(err, VaultError::ChainDoesNotVerify { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("entry 2 was changed"), "{err}");
    let err = vault.get(CASE, &shas[0]).await.unwrap_err();
    assert!(
        matches!(err, VaultError::ChainDoesNotVerify { .. }),
        "{err}"
    );
    assert!(!tv.entry_file(6).exists());
    // A failed verification is reported, not recorded.
    let report = vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(!report.is_ok() && report.custody_seq.is_none());
    // Other cases are unaffected.
    vault.add(item("case-2", "x", b"x")).await.unwrap();
}

#[tokio::test]
async fn verify_all_reports_each_case_and_stray_objects() {
    let (tv, shas) = populated().await;
    tv.vault.add(item("case-2", "x.json", b"{}")).await.unwrap();
    std::fs::remove_file(tv.case_file(&format!("items/{}", shas[0]))).unwrap();
    std::fs::write(tv.root().join("keys/extra.pem"), b"x").unwrap();
    let report = tv
        .reopen(true)
        .await
        .verify_all(&VerifyOptions::default())
        .await
        .unwrap();
    assert!(!report.is_ok());
    assert_eq!(report.cases.len(), 2);
    assert!(!report.cases[0].is_ok());
    assert!(report.cases[1].is_ok());
    assert_eq!(
        report.cases[1].custody_seq,
        Some(1),
        "the good case records its verification"
    );
    assert_eq!(
        report.problems,
        vec![Problem::UnexpectedObject {
            object: "keys/extra.pem".into()
        }]
    );
    let text = report.to_string();
    assert!(
        text.contains("case case-1")
            && text.contains("FAILED")
            && text.contains("(a.json) is missing"),
        "{text}"
    );
    assert!(text.contains("2 cases verified, 1 failed"), "{text}");
}

#[tokio::test]
async fn the_same_bytes_twice_are_one_item_with_two_collections() {
    let tv = local_vault().await;
    let first = tv.vault.add(item(CASE, "a.json", b"same")).await.unwrap();
    let mut again = item(CASE, "a-again.json", b"same");
    again.source.arn = Some("arn:aws:ec2:eu-west-1:210987654321:instance/i-0def".into());
    let second = tv.vault.add(again).await.unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(second.seq, 1);
    let manifest = tv.vault.manifest(CASE).await.unwrap();
    assert_eq!(manifest.items.len(), 1);
    let custody = &manifest.items[0].custody[0];
    assert_eq!(custody.event.action, CustodyAction::Collected);
    assert!(custody
        .event
        .source
        .as_ref()
        .unwrap()
        .arn
        .as_deref()
        .unwrap()
        .ends_with("i-0def"));
    assert!(tv
        .vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap()
        .is_ok());
}

#[tokio::test]
async fn two_writers_on_one_vault_never_overwrite_each_other() {
    let tv = local_vault().await;
    let other = tv.reopen(true).await;
    tv.vault.add(item(CASE, "1", b"1")).await.unwrap();
    other.add(item(CASE, "2", b"2")).await.unwrap();
    // The first vault's cached head is stale: its write of entry 1 is refused, it re-reads
    // the chain and appends as entry 2.
    let third = tv.vault.add(item(CASE, "3", b"3")).await.unwrap();
    assert_eq!(third.seq, 2);
    let report = tv
        .vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.items, 3);
}

#[tokio::test]
async fn keys_init_and_access_rules() {
    let tv = local_vault().await;
    // init again with the same key: nothing to do.
    let backend = LocalBackend::open(&tv.root()).unwrap();
    let again = Vault::init(&backend, &tv.key_path()).await.unwrap();
    assert!(!again.created_key && !again.created_vault);
    assert_eq!(again.key_id, tv.vault.public_key().key_id());
    assert!(again
        .public_key_pem
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // init with another key: refused, the vault key stays.
    let other_key = tv.dir.path().join("other.key");
    let err = Vault::init(&backend, &other_key).await.unwrap_err();
    assert!(matches!(err, VaultError::KeyMismatch { .. }), "{err}");
    // A read-only vault cannot append.
    let readonly = tv.reopen(false).await;
    assert!(!readonly.can_sign());
    let err = readonly.add(item(CASE, "a", b"a")).await.unwrap_err();
    assert!(matches!(err, VaultError::NoSigningKey), "{err}");
    // The private key is never put inside the vault.
    let err = Vault::init(&backend, &tv.root().join("cases/k.key"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("outside the vault"), "{err}");
    assert!(!tv.root().join("cases/k.key").exists());
    // Not a vault.
    let empty = tempfile::tempdir().unwrap();
    let err = Vault::open(
        Box::new(LocalBackend::open(empty.path()).unwrap()),
        None,
        actor(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, VaultError::NotInitialised { .. }), "{err}");
}

#[tokio::test]
async fn bad_case_and_item_ids_are_errors() {
    let (tv, shas) = populated().await;
    let err = tv.vault.add(item("../etc", "a", b"a")).await.unwrap_err();
    assert!(matches!(err, VaultError::InvalidCaseId { .. }), "{err}");
    let err = tv.vault.manifest("nope").await.unwrap_err();
    assert!(matches!(err, VaultError::UnknownCase { .. }), "{err}");
    let err = tv
        .vault
        .verify_case("nope", &VerifyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::UnknownCase { .. }), "{err}");
    let err = tv.vault.item(CASE, &"f".repeat(64)).await.unwrap_err();
    assert!(matches!(err, VaultError::UnknownItem { .. }), "{err}");
    let err = tv.vault.item(CASE, "xyz").await.unwrap_err();
    assert!(matches!(err, VaultError::InvalidItemId { .. }), "{err}");
    // A unique prefix finds the item, in any case.
    let found = tv
        .vault
        .item(CASE, &shas[2][..10].to_uppercase())
        .await
        .unwrap();
    assert_eq!(found.record.name, "c.txt");
    std::fs::create_dir_all(tv.root().join("cases/ghost")).unwrap();
    std::fs::write(tv.root().join("cases/ghost/stray"), b"x").unwrap();
    let listed = tv.vault.cases().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[1].case.as_str(), listed[1].entries), ("ghost", 0));
    assert_eq!((listed[0].entries, listed[0].items), (6, 3));
    assert_eq!(listed[0].bytes, 21 + 18 + 13);
}

#[test]
fn captures_can_be_stored_from_synchronous_code() {
    // No runtime: the vault builds a private one.
    let (tv, sha) = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let tv = rt.block_on(local_vault());
        drop(rt);
        let sha = tv
            .vault
            .store_capture_blocking(item(CASE, "sync.json", b"sync"))
            .unwrap();
        (tv, sha)
    };
    assert_eq!(sha, vigil_vault::sha256_hex(b"sync"));
    // Inside a multi-threaded runtime (where the response engine calls EvidenceSink::put).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sha2 = rt.block_on(async {
        tokio::task::spawn(async move {
            tv.vault
                .store_capture_blocking(item(CASE, "sync2.json", b"sync2"))
                .unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(sha2, vigil_vault::sha256_hex(b"sync2"));
}

#[tokio::test]
async fn current_thread_runtimes_get_an_error_not_a_panic() {
    let tv = local_vault().await;
    let err = tv
        .vault
        .store_capture_blocking(item(CASE, "x", b"x"))
        .unwrap_err();
    assert!(err.to_string().contains("current-thread"), "{err}");
}
