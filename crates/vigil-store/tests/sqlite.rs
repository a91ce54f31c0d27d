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
