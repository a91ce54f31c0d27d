//! The SQLite store through the `Store` interface: idempotent upserts, status lifecycle,
//! suppressions, filters and baselines, on a database in a temporary directory.

use serde_json::value::RawValue;
use tempfile::TempDir;
use vigil_event::LogSource;
use vigil_findings::{Finding, RuleKind, Sample, Severity, SeverityLabel, Status};
use vigil_store::{
    BaselineValue, FindingContribution, FindingFilter, SqliteStore, Store, StoreError, Suppression,
};

const NOW_MS: i64 = 1_700_000_000_000;

fn fixed_clock() -> i64 {
    NOW_MS
}

fn open() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut store = SqliteStore::open(dir.path().join("vigil.db")).expect("the store opens");
    store.set_clock(fixed_clock);
    (dir, store)
}

/// A partial finding of `rule` for `principal`, with `count` events from `input` starting at
/// `first_ms`.
fn partial(
    rule: &str,
    principal: &str,
    input: &str,
    count: u64,
    first_ms: i64,
) -> FindingContribution {
    let record = format!(r#"{{"input":"{input}"}}"#);
    let finding = Finding {
        id: Finding::stable_id(rule, principal, 0),
        rule_id: rule.into(),
        rule_title: format!("{rule} title"),
        rule_kind: RuleKind::Sigma,
        description: String::new(),
        severity: Severity::from_sigma_level("high").expect("a level"),
        first_seen_ms: first_ms,
        last_seen_ms: first_ms + 1000,
        window_start_ms: 0,
        event_count: count,
        dedup_key: principal.into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        principal: Some(principal.into()),
        resources: vec![format!("arn:aws:s3:::{input}-bucket")],
        source_ips: vec![],
        log_sources: vec![LogSource::CloudTrail],
        tags: vec![],
        runbook: None,
        intel: vec![],
        samples: vec![Sample {
            origin: format!("{input}:1"),
            source: LogSource::CloudTrail,
            time_ms: Some(first_ms),
            record: RawValue::from_string(record).expect("valid JSON"),
        }],
        status: Status::New,
        history: vec![],
    };
    FindingContribution {
        finding,
        input_key: input.into(),
    }
}

fn suppression(id: &str, rule: Option<&str>, principal: Option<&str>) -> Suppression {
    Suppression {
        id: id.into(),
        rule_id: rule.map(String::from),
        principal: principal.map(String::from),
        account: None,
        resource: None,
        reason: "known CI noise".into(),
        author: "alice".into(),
        created_ms: NOW_MS - 10,
        expires_ms: None,
    }
}

fn only(store: &SqliteStore) -> Finding {
    let all = store.list(&FindingFilter::default()).expect("lists");
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().expect("one finding")
}

#[test]
fn detecting_the_same_input_twice_leaves_the_same_findings() {
    let (_dir, mut store) = open();
    let batch = [
        partial("r1", "bob", "a.json", 3, 100),
        partial("r2", "bob", "a.json", 1, 100),
    ];
    let first = store.upsert_findings(&batch).expect("upserts");
    let second = store.upsert_findings(&batch).expect("upserts");
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 2)
    );
    let all = store.list(&FindingFilter::default()).expect("lists");
    let counts: Vec<u64> = all.iter().map(|f| f.event_count).collect();
    assert_eq!(counts.iter().sum::<u64>(), 4, "{all:#?}");
    assert_eq!(all.len(), 2);
}

#[test]
fn detecting_two_inputs_adds_them_up() {
    let (_dir, mut store) = open();
    store
        .upsert_findings(&[partial("r1", "bob", "a.json", 3, 500)])
        .expect("upserts");
    let report = store
        .upsert_findings(&[partial("r1", "bob", "b.json", 2, 100)])
        .expect("upserts");
    assert_eq!((report.created, report.updated), (0, 1));
    let finding = only(&store);
    assert_eq!(finding.event_count, 5);
    assert_eq!((finding.first_seen_ms, finding.last_seen_ms), (100, 1500));
    assert_eq!(finding.samples.len(), 2);
    assert_eq!(
        finding.samples[0].origin, "b.json:1",
        "earliest sample first"
    );
}

#[test]
fn a_changed_input_replaces_its_share_instead_of_adding() {
    let (_dir, mut store) = open();
    store
        .upsert_findings(&[partial("r1", "bob", "a.json", 3, 100)])
        .expect("upserts");
    store
        .upsert_findings(&[partial("r1", "bob", "b.json", 2, 100)])
        .expect("upserts");
    store
        .upsert_findings(&[partial("r1", "bob", "a.json", 7, 100)])
        .expect("upserts");
    assert_eq!(only(&store).event_count, 9);
}

#[test]
fn a_new_finding_starts_new_and_status_survives_upserts() {
    let (_dir, mut store) = open();
    store
        .upsert_findings(&[partial("r1", "bob", "a.json", 1, 100)])
        .expect("upserts");
    let created = only(&store);
    assert_eq!(created.status, Status::New);
    assert_eq!(created.history.len(), 1);
    assert_eq!(
        (created.history[0].from, created.history[0].to),
        (None, Status::New)
    );
    assert_eq!(created.history[0].at_ms, NOW_MS);

    store
        .set_status(&created.id, Status::Resolved, "carol", "rotated the key")
        .expect("sets");
    store
        .upsert_findings(&[partial("r1", "bob", "b.json", 1, 100)])
        .expect("upserts");
    store
        .upsert_findings(&[partial("r1", "bob", "a.json", 4, 100)])
        .expect("upserts");
    let later = only(&store);
    assert_eq!(later.status, Status::Resolved);
    assert_eq!(later.event_count, 5);
    let last = later.history.last().expect("history");
    assert_eq!(
        (last.by.as_str(), last.reason.as_str()),
        ("carol", "rotated the key")
    );
}

#[test]
fn a_finding_matching_an_active_suppression_is_stored_suppressed() {
    let (_dir, mut store) = open();
    store
        .add_suppression(&suppression("s1", Some("r*"), Some("ci-*")))
        .expect("adds");
    let report = store
        .upsert_findings(&[
            partial("r1", "ci-bot", "a.json", 1, 100),
            partial("r1", "bob", "a.json", 1, 100),
        ])
        .expect("upserts");
    assert_eq!((report.created, report.suppressed), (2, 1));
    let suppressed = store
        .list(&FindingFilter {
            status: Some(Status::Suppressed),
            ..FindingFilter::default()
        })
        .expect("lists");
    assert_eq!(suppressed.len(), 1);
    let change = suppressed[0].history.last().expect("history");
    assert_eq!(change.by, "suppression:s1");
    assert!(
        change.reason.contains("s1") && change.reason.contains("known CI noise"),
        "{change:?}"
    );
}

#[test]
fn an_expired_suppression_does_not_apply() {
    let (_dir, mut store) = open();
    let mut expired = suppression("s1", Some("r1"), None);
    expired.expires_ms = Some(NOW_MS);
    assert_eq!(store.add_suppression(&expired).expect("adds"), 0);
    let report = store
        .upsert_findings(&[partial("r1", "bob", "a.json", 1, 100)])
        .expect("upserts");
    assert_eq!(report.suppressed, 0);
    assert_eq!(only(&store).status, Status::New);
    assert_eq!(
        store.list_suppressions().expect("lists").len(),
        1,
        "expired ones are kept"
    );
}

#[test]
fn a_new_suppression_mutes_open_findings_but_not_resolved_ones() {
    let (_dir, mut store) = open();
    let batch = [
        partial("r1", "bob", "a.json", 1, 100),
        partial("r1", "eve", "a.json", 1, 100),
    ];
    store.upsert_findings(&batch).expect("upserts");
    store
        .set_status(&batch[1].finding.id, Status::Resolved, "carol", "fixed")
        .expect("sets");
    let muted = store
        .add_suppression(&suppression("s1", Some("r1"), None))
        .expect("adds");
    assert_eq!(muted, 1);
    let bob = store
        .get(&batch[0].finding.id)
        .expect("reads")
        .expect("exists");
    let eve = store
        .get(&batch[1].finding.id)
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (bob.status, eve.status),
        (Status::Suppressed, Status::Resolved)
    );
    assert!(store.remove_suppression("s1").expect("removes"));
    assert!(!store.remove_suppression("s1").expect("removes"));
    assert_eq!(
        store
            .get(&batch[0].finding.id)
            .expect("reads")
            .map(|f| f.status),
        Some(Status::Suppressed)
    );
}

#[test]
fn invalid_suppressions_are_refused() {
    let (_dir, mut store) = open();
    let no_criteria = suppression("s1", None, None);
    assert!(matches!(
        store.add_suppression(&no_criteria),
        Err(StoreError::InvalidSuppression(_))
    ));
    let mut no_reason = suppression("s1", Some("r1"), None);
    no_reason.reason = " ".into();
    assert!(matches!(
        store.add_suppression(&no_reason),
        Err(StoreError::InvalidSuppression(_))
    ));
    store
        .add_suppression(&suppression("s1", Some("r1"), None))
        .expect("adds");
    let duplicate = store.add_suppression(&suppression("s1", Some("r2"), None));
    assert!(
        matches!(duplicate, Err(StoreError::InvalidSuppression(_))),
        "{duplicate:?}"
    );
}

#[test]
fn list_filters_by_every_field_and_orders_newest_first() {
    let (_dir, mut store) = open();
    let mut low = partial("r-low", "bob", "a.json", 1, 10_000);
    low.finding.severity = Severity::from_score(20);
    low.finding.account = Some("210987654321".into());
    let batch = [
        partial("r1", "bob", "a.json", 1, 1_000),
        partial("r1", "eve", "a.json", 1, 5_000),
        low,
    ];
    store.upsert_findings(&batch).expect("upserts");
    let ids = |filter: FindingFilter| -> Vec<String> {
        let found = store.list(&filter).expect("lists");
        found
            .into_iter()
            .map(|f| f.dedup_key + "/" + &f.rule_id)
            .collect()
    };
    let all = FindingFilter::default;
    assert_eq!(ids(all()), ["bob/r-low", "eve/r1", "bob/r1"]);
    assert_eq!(
        ids(FindingFilter {
            severity_at_least: Some(SeverityLabel::High),
            ..all()
        }),
        ["eve/r1", "bob/r1"]
    );
    assert_eq!(
        ids(FindingFilter {
            rule_id: Some("r-low".into()),
            ..all()
        }),
        ["bob/r-low"]
    );
    assert_eq!(
        ids(FindingFilter {
            account: Some("123456789012".into()),
            ..all()
        }),
        ["eve/r1", "bob/r1"]
    );
    assert_eq!(
        ids(FindingFilter {
            since_ms: Some(5_500),
            ..all()
        }),
        ["bob/r-low", "eve/r1"]
    );
    assert_eq!(
        ids(FindingFilter {
            until_ms: Some(4_000),
            ..all()
        }),
        ["bob/r1"]
    );
    assert_eq!(
        ids(FindingFilter {
            limit: Some(1),
            ..all()
        }),
        ["bob/r-low"]
    );
    assert_eq!(
        ids(FindingFilter {
            status: Some(Status::Resolved),
            ..all()
        }),
        Vec::<String>::new()
    );
}

#[test]
fn set_status_on_an_unknown_finding_is_not_found() {
    let (_dir, mut store) = open();
    let result = store.set_status("nope", Status::Resolved, "carol", "x");
    assert!(matches!(result, Err(StoreError::NotFound(id)) if id == "nope"));
}

#[test]
fn baselines_remember_what_each_rule_has_seen() {
    let (_dir, mut store) = open();
    assert!(store
        .baseline_insert("new-region", "acct", "us-east-1", 50)
        .expect("inserts"));
    assert!(!store
        .baseline_insert("new-region", "acct", "us-east-1", 10)
        .expect("inserts"));
    let seen = |group: &str, value: &str, first_ms| BaselineValue {
        group: group.into(),
        value: value.into(),
        first_ms,
    };
    let entries = [
        seen("acct", "us-east-1", 5),
        seen("acct", "eu-west-1", 60),
        seen("other", "eu-west-1", 5),
    ];
    assert_eq!(
        store
            .baseline_insert_many("new-region", &entries)
            .expect("inserts"),
        2
    );
    assert!(store
        .baseline_contains("new-region", "acct", "eu-west-1")
        .expect("reads"));
    assert!(!store
        .baseline_contains("new-api", "acct", "eu-west-1")
        .expect("reads"));
    let loaded = store.baseline_load("new-region").expect("loads");
    let expected = [
        seen("acct", "eu-west-1", 60),
        seen("acct", "us-east-1", 5),
        seen("other", "eu-west-1", 5),
    ];
    assert_eq!(
        loaded, expected,
        "ordered, with the earliest first time kept"
    );
}

#[test]
fn findings_survive_reopening_and_the_schema_is_versioned() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vigil.db");
    {
        let mut store = SqliteStore::open(&path).expect("opens");
        store
            .upsert_findings(&[partial("r1", "bob", "a.json", 2, 100)])
            .expect("upserts");
    }
    let store = SqliteStore::open(&path).expect("reopens");
    assert_eq!(store.schema_version().expect("reads"), 3);
    assert_eq!(only(&store).event_count, 2);
    let raw = rusqlite::Connection::open(&path).expect("opens");
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("reads");
    assert_eq!(mode, "wal");
}

/// What a store holds: every column of every finding (body included), and every
/// contribution row (finding id, input key, body), in key order.
type Dump = (Vec<Vec<String>>, Vec<(String, String, String)>);

/// Every stored column and body of every finding, and every contribution row, in id order.
fn dump(store_path: &std::path::Path) -> Dump {
    let raw = rusqlite::Connection::open(store_path).expect("opens");
    let mut findings = raw
        .prepare(
            "SELECT id, rule_id, severity_score, account, status, first_seen_ms, last_seen_ms,
                 event_count, body FROM findings ORDER BY id",
        )
        .expect("prepares");
    let findings = findings
        .query_map([], |row| {
            (0..9)
                .map(|column| {
                    row.get::<_, rusqlite::types::Value>(column)
                        .map(|value| format!("{value:?}"))
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .expect("queries")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("reads");
    let mut rows = raw
        .prepare(
            "SELECT finding_id, input_key, body FROM contributions ORDER BY finding_id, input_key",
        )
        .expect("prepares");
    let rows = rows
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("queries")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("reads");
    (findings, rows)
}

fn open_at(dir: &TempDir, name: &str) -> SqliteStore {
    let mut store = SqliteStore::open(dir.path().join(name)).expect("the store opens");
    store.set_clock(fixed_clock);
    store
}

/// Regression: a finding's body depended on the order its inputs arrived in (a new input was
/// merged after the stored finding, a changed one re-merged every input in key order), so
/// the same contribution rows could be stored as two different findings.
#[test]
fn a_finding_is_the_merge_of_its_inputs_whatever_order_they_came_in() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let a = partial("r1", "bob", "a.json", 3, 500);
    let b = partial("r1", "bob", "b.json", 2, 100);
    let mut forward = open_at(&dir, "forward.db");
    let mut backward = open_at(&dir, "backward.db");
    for part in [&a, &b] {
        forward
            .upsert_findings(std::slice::from_ref(part))
            .expect("upserts");
    }
    for part in [&b, &a] {
        backward
            .upsert_findings(std::slice::from_ref(part))
            .expect("upserts");
    }
    let (forward_findings, forward_rows) = dump(&dir.path().join("forward.db"));
    let (backward_findings, backward_rows) = dump(&dir.path().join("backward.db"));
    assert_eq!(forward_rows, backward_rows, "the same rows");
    assert_eq!(forward_findings, backward_findings, "the same finding");
    assert_eq!(
        only(&backward).resources,
        ["arn:aws:s3:::a.json-bucket", "arn:aws:s3:::b.json-bucket"],
        "lists in input-key order"
    );
}

/// Three findings over four inputs, with parts that differ in counts, times, resources and
/// samples, given out of input-key order.
fn scrambled_batch() -> Vec<FindingContribution> {
    let mut batch = vec![
        partial("r1", "bob", "d.json", 1, 900),
        partial("r2", "eve", "b.json", 4, 300),
        partial("r1", "bob", "a.json", 3, 500),
        partial("r1", "eve", "c.json", 2, 50),
        partial("r2", "eve", "a.json", 1, 700),
        partial("r1", "bob", "c.json", 5, 100),
    ];
    batch[0].finding.account = None;
    batch[0]
        .finding
        .resources
        .push("arn:aws:s3:::shared".into());
    batch[2]
        .finding
        .resources
        .insert(0, "arn:aws:s3:::shared".into());
    batch
}

#[test]
fn one_batch_stores_what_one_call_per_part_stores() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let batch = scrambled_batch();
    let mut apart = open_at(&dir, "apart.db");
    for part in &batch {
        apart
            .upsert_findings(std::slice::from_ref(part))
            .expect("upserts");
    }
    // One call per part in input-key order: each finding is extended, never rebuilt.
    let mut in_order = open_at(&dir, "in_order.db");
    let mut sorted = batch.clone();
    sorted.sort_by(|a, b| a.input_key.cmp(&b.input_key));
    for part in &sorted {
        in_order
            .upsert_findings(std::slice::from_ref(part))
            .expect("upserts");
    }
    let mut together = open_at(&dir, "together.db");
    let report = together.upsert_findings(&batch).expect("upserts");
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.suppressed
        ),
        (3, 0, 0, 0),
        "each finding counted once"
    );
    let (apart_findings, apart_rows) = dump(&dir.path().join("apart.db"));
    let (together_findings, together_rows) = dump(&dir.path().join("together.db"));
    assert_eq!(apart_rows.len(), 6);
    assert_eq!(apart_rows, together_rows);
    assert_eq!(apart_findings.len(), 3);
    assert_eq!(apart_findings, together_findings);
    assert_eq!(
        dump(&dir.path().join("in_order.db")),
        (apart_findings, apart_rows)
    );
    let bob = together
        .get(&Finding::stable_id("r1", "bob", 0))
        .expect("reads")
        .expect("exists");
    assert_eq!(bob.event_count, 9);
    assert_eq!((bob.first_seen_ms, bob.last_seen_ms), (100, 1900));
    assert_eq!(bob.account.as_deref(), Some("123456789012"));
    assert_eq!(
        bob.resources,
        [
            "arn:aws:s3:::shared",
            "arn:aws:s3:::a.json-bucket",
            "arn:aws:s3:::c.json-bucket",
            "arn:aws:s3:::d.json-bucket"
        ],
        "merged in input-key order"
    );
}

#[test]
fn the_same_batch_twice_is_unchanged() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let batch = scrambled_batch();
    let mut store = open_at(&dir, "vigil.db");
    store.upsert_findings(&batch).expect("upserts");
    let before = dump(&dir.path().join("vigil.db"));
    let again = store.upsert_findings(&batch).expect("upserts");
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.suppressed
        ),
        (0, 0, 6, 0)
    );
    assert!(again.suppressed_ids.is_empty());
    assert_eq!(dump(&dir.path().join("vigil.db")), before);
}

#[test]
fn an_input_given_twice_in_a_batch_counts_as_given_last() {
    let (_dir, mut store) = open();
    let report = store
        .upsert_findings(&[
            partial("r1", "bob", "a.json", 3, 100),
            partial("r1", "bob", "a.json", 3, 100),
            partial("r1", "bob", "a.json", 7, 100),
        ])
        .expect("upserts");
    assert_eq!((report.created, report.unchanged), (1, 1));
    assert_eq!(only(&store).event_count, 7);
}

#[test]
fn the_upsert_reports_every_suppressed_finding_of_the_batch() {
    let (_dir, mut store) = open();
    store
        .add_suppression(&suppression("s1", Some("r1"), Some("ci-*")))
        .expect("adds");
    let batch = [
        partial("r1", "bob", "a.json", 1, 100),
        partial("r1", "ci-bot", "a.json", 1, 100),
        partial("r1", "ci-bot", "b.json", 1, 100),
        partial("r2", "alice", "a.json", 1, 100),
    ];
    let ci_bot = batch[1].finding.id.clone();
    let alice = batch[3].finding.id.clone();
    let first = store.upsert_findings(&batch).expect("upserts");
    assert_eq!((first.created, first.suppressed), (3, 1));
    assert_eq!(first.suppressed_ids, std::slice::from_ref(&ci_bot));

    // Muted by hand later: reported too, and still when nothing changed.
    store
        .set_status(&alice, Status::Suppressed, "carol", "test account")
        .expect("sets");
    let again = store.upsert_findings(&batch).expect("upserts");
    assert_eq!((again.unchanged, again.suppressed), (4, 0));
    assert_eq!(again.suppressed_ids, [ci_bot.clone(), alice.clone()]);

    // A changed finding keeps its status and is reported.
    let changed = store
        .upsert_findings(&[partial("r1", "ci-bot", "c.json", 1, 100)])
        .expect("upserts");
    assert_eq!((changed.updated, changed.suppressed), (1, 0));
    assert_eq!(changed.suppressed_ids, [ci_bot]);
}

#[test]
fn a_finding_whose_parts_span_two_batches_is_stored_as_if_in_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let batch = scrambled_batch();
    let (early, late) = batch.split_at(3);
    let mut split = open_at(&dir, "split.db");
    split.upsert_findings(early).expect("upserts");
    // The later batch repeats one earlier part unchanged.
    let mut second = late.to_vec();
    second.push(early[2].clone());
    let report = split.upsert_findings(&second).expect("upserts");
    // bob (r1) and eve (r2) were stored by the first batch; eve (r1) is new.
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (1, 2, 1)
    );
    let mut whole = open_at(&dir, "whole.db");
    whole.upsert_findings(&batch).expect("upserts");
    assert_eq!(
        dump(&dir.path().join("split.db")),
        dump(&dir.path().join("whole.db"))
    );
}
