//! Response runs and the action ledger in the SQLite store: saving with version checks,
//! listing by case and finding, and a hash chain that names the first tampered entry.

use serde_json::json;
use tempfile::TempDir;
use vigil_store::{LedgerDraft, ResponseStore, RunFilter, RunRecord, SqliteStore, StoreError};

fn open() -> (TempDir, SqliteStore, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).expect("the store opens");
    (dir, store, path)
}

fn run(id: &str, case: &str, finding: Option<&str>, created_ms: i64) -> RunRecord {
    RunRecord {
        id: id.into(),
        case_id: case.into(),
        playbook_id: "ec2-compromise".into(),
        finding_id: finding.map(Into::into),
        status: "running".into(),
        execute: true,
        responder: "alice".into(),
        created_ms,
        updated_ms: created_ms,
        version: 0,
        body: json!({"steps": []}),
    }
}

fn entry(run: &str, kind: &str, body: serde_json::Value) -> LedgerDraft {
    LedgerDraft {
        run_id: run.into(),
        case_id: "case-1".into(),
        at_ms: 1_000,
        actor: "alice".into(),
        kind: kind.into(),
        step_id: Some("isolate".into()),
        body,
    }
}

#[test]
fn runs_are_saved_read_back_and_listed_by_case_and_finding() {
    let (_dir, mut store, _) = open();
    let mut first = run("r1", "case-1", Some("f1"), 10);
    let mut second = run("r2", "case-1", Some("f2"), 20);
    let mut other = run("r3", "case-2", Some("f1"), 30);
    for r in [&mut first, &mut second, &mut other] {
        store.save_run(r, &[]).expect("saves");
        assert_eq!(r.version, 1);
    }
    let by_case = store
        .list_runs(&RunFilter {
            case_id: Some("case-1".into()),
            ..RunFilter::default()
        })
        .expect("lists");
    let ids: Vec<_> = by_case.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r2", "r1"], "newest first");
    let by_finding = store
        .list_runs(&RunFilter {
            finding_id: Some("f1".into()),
            ..RunFilter::default()
        })
        .expect("lists");
    let ids: Vec<_> = by_finding.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r3", "r1"]);
    assert_eq!(store.get_run("r1").expect("reads"), Some(first));
    assert_eq!(store.get_run("nope").expect("reads"), None);
}

#[test]
fn a_stale_save_is_refused_as_a_conflict() {
    let (_dir, mut store, _) = open();
    let mut original = run("r1", "case-1", None, 10);
    store.save_run(&mut original, &[]).expect("creates");
    let mut stale = original.clone();
    original.status = "succeeded".into();
    store.save_run(&mut original, &[]).expect("updates");
    assert_eq!(original.version, 2);
    stale.status = "failed".into();
    let refused = store.save_run(&mut stale, &[entry("r1", "step", json!({}))]);
    assert!(
        matches!(refused, Err(StoreError::Conflict { version: 1, .. })),
        "{refused:?}"
    );
    assert_eq!(stale.version, 1, "the caller's copy is left as it was");
    assert!(
        store.ledger(None).expect("reads").is_empty(),
        "nothing appended"
    );
    let mut duplicate = run("r1", "case-1", None, 10);
    assert!(matches!(
        store.save_run(&mut duplicate, &[]),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.get_run("r1").expect("reads").map(|r| r.status),
        Some("succeeded".into())
    );
}

#[test]
fn the_ledger_chains_entries_and_verifies() {
    let (_dir, mut store, path) = open();
    let mut r = run("r1", "case-1", None, 10);
    let saved = store
        .save_run(
            &mut r,
            &[entry("r1", "run_started", json!({"playbook": "x"}))],
        )
        .expect("saves");
    assert_eq!(saved[0].seq, 1);
    assert_eq!(saved[0].prev_hash, vigil_store::response::LEDGER_GENESIS);
    let more = store
        .append_ledger(&[
            entry("r1", "step", json!({"calls": [{"request_id": "req-1"}]})),
            entry("r2", "step", json!({"x": 1.5})),
        ])
        .expect("appends");
    assert_eq!(more[0].prev_hash, saved[0].hash);
    assert_eq!(more[1].prev_hash, more[0].hash);
    let check = store.verify_ledger().expect("verifies");
    assert!(check.is_intact(), "{check:?}");
    assert_eq!(check.entries, 3);
    assert_eq!(check.head.as_deref(), Some(more[1].hash.as_str()));
    assert_eq!(store.ledger(Some("r1")).expect("reads").len(), 2);
    drop(store);
    let reopened = SqliteStore::open(&path).expect("reopens");
    assert_eq!(reopened.ledger(None).expect("reads")[1], more[0]);
}

#[test]
fn the_ledger_refuses_updates_and_deletes() {
    let (_dir, mut store, path) = open();
    store
        .append_ledger(&[entry("r1", "step", json!({}))])
        .expect("appends");
    let raw = rusqlite::Connection::open(&path).expect("opens");
    let update = raw.execute("UPDATE response_ledger SET actor = 'mallory'", []);
    assert!(update.is_err(), "append-only");
    assert!(raw.execute("DELETE FROM response_ledger", []).is_err());
}

#[test]
fn an_edited_entry_is_named_as_the_first_broken_one() {
    let (_dir, mut store, path) = open();
    let drafts: Vec<_> = (0..4)
        .map(|i| {
            entry(
                "r1",
                "step",
                json!({"n": i, "params": {"instance_id": "i-1"}}),
            )
        })
        .collect();
    store.append_ledger(&drafts).expect("appends");
    let raw = rusqlite::Connection::open(&path).expect("opens");
    raw.execute_batch(
        "DROP TRIGGER response_ledger_no_update;
         UPDATE response_ledger SET body = replace(body, 'i-1', 'i-2') WHERE seq = 3;",
    )
    .expect("the tamperer drops the trigger");
    let check = store.verify_ledger().expect("verifies");
    let broken = check.first_broken.expect("caught");
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("edited"), "{}", broken.reason);
    assert_eq!(check.entries, 3);
}

#[test]
fn a_deleted_entry_and_a_rehashed_entry_are_caught() {
    let (_dir, mut store, path) = open();
    let drafts: Vec<_> = (0..4)
        .map(|i| entry("r1", "step", json!({"n": i})))
        .collect();
    store.append_ledger(&drafts).expect("appends");
    let raw = rusqlite::Connection::open(&path).expect("opens");
    raw.execute_batch(
        "DROP TRIGGER response_ledger_no_delete; DELETE FROM response_ledger WHERE seq = 2;",
    )
    .expect("deletes");
    let broken = store
        .verify_ledger()
        .expect("verifies")
        .first_broken
        .expect("caught");
    assert_eq!(broken.seq, 3, "{}", broken.reason);

    // Rewriting an entry's actor and its own hash still breaks the next entry's link.
    let (_dir2, mut store2, path2) = open();
    let stored = store2.append_ledger(&drafts).expect("appends");
    let mut forged = stored[1].draft.clone();
    forged.actor = "mallory".into();
    let forged_hash = vigil_store::response::ledger_hash(2, &forged, &stored[1].prev_hash);
    let raw = rusqlite::Connection::open(&path2).expect("opens");
    raw.execute_batch("DROP TRIGGER response_ledger_no_update;")
        .expect("drops");
    raw.execute(
        "UPDATE response_ledger SET actor = 'mallory', hash = ?1 WHERE seq = 2",
        [&forged_hash],
    )
    .expect("forges");
    let broken = store2
        .verify_ledger()
        .expect("verifies")
        .first_broken
        .expect("caught");
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("prev_hash"), "{}", broken.reason);
}

#[test]
fn evidence_links_to_its_case_once_and_survives_reopening() {
    let (_dir, mut store, path) = open();
    assert!(store
        .link_evidence("case-1", "aa11", "i-0abc-metadata.json", Some("r1"))
        .expect("links"));
    assert!(!store
        .link_evidence("case-1", "aa11", "i-0abc-metadata.json", Some("r1"))
        .expect("links again"));
    assert!(store
        .link_evidence("case-1", "bb22", "ledger-r1.jsonl", None)
        .expect("links"));
    assert!(store
        .link_evidence("case-2", "aa11", "same bytes, other case", None)
        .expect("links"));
    drop(store);
    let store = SqliteStore::open(&path).expect("reopens");
    let items = store.case_evidence("case-1").expect("reads");
    let shas: Vec<&str> = items.iter().map(|i| i.sha256.as_str()).collect();
    assert_eq!(shas.len(), 2);
    assert!(shas.contains(&"aa11") && shas.contains(&"bb22"));
    assert_eq!(
        items
            .iter()
            .find(|i| i.sha256 == "aa11")
            .and_then(|i| i.run_id.as_deref()),
        Some("r1")
    );
    assert_eq!(store.case_evidence("case-2").expect("reads").len(), 1);
    assert!(store.case_evidence("case-3").expect("reads").is_empty());
}
