//! Many rules evaluated on one event through one `EventMemo` answer exactly as each rule does
//! alone: what the memo shares (lower-cased values, intel answers) never leaks between values,
//! fields, lists or events.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{event, rule, rule_with};
use vigil_event::KeyedEvent;
use vigil_sigma::{EventMemo, ListLookup, LoadOptions, Rule};

/// Two lists keyed by exact value, counting lookups.
struct Lists {
    entries: HashMap<&'static str, Vec<&'static str>>,
    lookups: std::sync::atomic::AtomicUsize,
}

impl ListLookup for Lists {
    fn has_list(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    fn lookup(&self, list: &str, value: &str) -> Option<String> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let entries = self.entries.get(list)?;
        entries.contains(&value).then(|| value.to_string())
    }
}

fn rules(lists: &Arc<Lists>) -> Vec<Rule> {
    let options = LoadOptions {
        lists: Some(lists.clone() as Arc<dyn ListLookup>),
        ..LoadOptions::default()
    };
    let mut rules: Vec<Rule> = [
        "sel:\n    userAgent|contains: [kali, parrot, pentoo]\ncondition: sel",
        "sel:\n    userAgent|contains: Terraform/\ncondition: sel",
        "sel:\n    userAgent|contains|cased: Kali\ncondition: sel",
        "sel:\n    eventName|contains: bucket\ncondition: sel",
        "sel:\n    resources.ARN|contains: secret\ncondition: sel",
        "sel:\n    eventSource: [iam.amazonaws.com, sts.amazonaws.com, s3.amazonaws.com, kms.amazonaws.com, été.example]\ncondition: sel",
        "sel:\n    eventSource: [iam.amazonaws.com, sts.amazonaws.com, s3.amazonaws.com, kms.amazonaws.com]\ncondition: not sel",
        "sel:\n    errorCode: [1, 2, 3, 403]\ncondition: sel",
        "sel:\n    requestParameters: [a, b, c, d]\ncondition: sel",
        "sel:\n    userIdentity.arn|re: ':assumed-role/[^/]+/i-[0-9a-f]{8,17}$'\ncondition: sel",
        "sel:\n    userIdentity.arn|re: '(?i)ASSUMED-ROLE/ADMIN'\ncondition: sel",
    ]
    .iter()
    .map(|detection| rule(detection))
    .collect();
    for detection in [
        "sel:\n    sourceIPAddress|intel: tor\ncondition: sel",
        "sel:\n    sourceIPAddress|intel: bad\ncondition: sel",
        "sel:\n    sourceIPAddress|intel: tor\ncondition: sel and not other\nother:\n    eventName: X",
        "sel:\n    userAgent|intel: tor\ncondition: sel",
    ] {
        rules.push(rule_with(detection, &options));
    }
    rules
}

const EVENTS: &[&str] = &[
    r#"{"userAgent":"aws-cli/2 md/distrib#Kali.2024","eventName":"ListBuckets","eventSource":"S3.amazonaws.com","sourceIPAddress":"203.0.113.5"}"#,
    r#"{"userAgent":"Terraform/1.7 (+https://www.terraform.io)","eventName":"GetSecretValue","eventSource":"secretsmanager.amazonaws.com","sourceIPAddress":"198.51.100.7","resources":[{"ARN":"arn:aws:kms:x"},{"ARN":"arn:aws:secretsmanager:SECRET"}]}"#,
    r#"{"userAgent":"CAFÉ PARROT","eventSource":"ÉTÉ.example","errorCode":403,"sourceIPAddress":"tor-node"}"#,
    r#"{"userAgent":"kal","eventName":"CreateBucket","requestParameters":{"x":"a"},"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/r/i-0123456789abcdef0"}}"#,
    r#"{"eventName":"x","requestParameters":"B","errorCode":"2","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/Admin/s"},"sourceIPAddress":"203.0.113.5"}"#,
    r#"{"userAgent":["ubuntu","pentoo"],"sourceIPAddress":["192.0.2.1","198.51.100.7"]}"#,
];

#[test]
fn every_rule_through_one_memo_answers_as_alone() {
    let lists = Arc::new(Lists {
        entries: HashMap::from([
            ("tor", vec!["203.0.113.5", "tor-node", "ubuntu"]),
            ("bad", vec!["198.51.100.7"]),
        ]),
        lookups: 0.into(),
    });
    let rules = rules(&lists);
    let mut matched = 0;
    for json in EVENTS {
        let event = event(json);
        let alone: Vec<bool> = rules.iter().map(|r| r.matches(&event)).collect();
        let keyed = KeyedEvent::new(&event);
        let mut memo = EventMemo::new(&keyed);
        let shared: Vec<bool> = rules.iter().map(|r| r.matches_in(&mut memo)).collect();
        assert_eq!(shared, alone, "{json}");
        matched += alone.iter().filter(|m| **m).count();
    }
    // The events exercise both answers of most rules.
    assert!(matched >= 20, "only {matched} matches");
}

#[test]
fn an_intel_lookup_is_made_once_per_value_and_list() {
    let lists = Arc::new(Lists {
        entries: HashMap::from([("tor", vec!["203.0.113.5"]), ("bad", vec![])]),
        lookups: 0.into(),
    });
    let options = LoadOptions {
        lists: Some(lists.clone() as Arc<dyn ListLookup>),
        ..LoadOptions::default()
    };
    let tor = rule_with(
        "sel:\n    sourceIPAddress|intel: tor\ncondition: sel",
        &options,
    );
    let tor_again = rule_with(
        "sel:\n    sourceIPAddress|intel: tor\n    eventName: x\ncondition: sel",
        &options,
    );
    let bad = rule_with(
        "sel:\n    sourceIPAddress|intel: bad\ncondition: sel",
        &options,
    );
    let event = event(r#"{"sourceIPAddress":"203.0.113.5","eventName":"x"}"#);
    let keyed = KeyedEvent::new(&event);
    let mut memo = EventMemo::new(&keyed);
    assert!(tor.matches_in(&mut memo));
    assert!(tor_again.matches_in(&mut memo));
    assert!(!bad.matches_in(&mut memo));
    let count = || lists.lookups.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(count(), 2, "one lookup per list");
    drop(memo);
    // A new event starts with nothing remembered.
    let mut memo = EventMemo::new(&keyed);
    assert!(tor.matches_in(&mut memo));
    assert_eq!(count(), 3);
}
