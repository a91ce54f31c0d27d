//! One test per value modifier (and per value type), each with a negative case.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use common::{event, hits, rule, rule_with};
use vigil_sigma::{IntelHit, ListLookup, LoadOptions};

#[test]
fn plain_values_are_case_insensitive_and_lists_are_or() {
    let r = rule("sel:\n    eventName: [StopLogging, DeleteTrail]\ncondition: sel");
    assert!(hits(&r, r#"{"eventName":"STOPLOGGING"}"#));
    assert!(hits(&r, r#"{"eventName":"deletetrail"}"#));
    assert!(!hits(&r, r#"{"eventName":"StartLogging"}"#));
    assert!(!hits(&r, r#"{}"#));
}

#[test]
fn map_entries_are_and() {
    let r =
        rule("sel:\n    eventSource: iam.amazonaws.com\n    eventName: CreateUser\ncondition: sel");
    assert!(hits(
        &r,
        r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventSource":"iam.amazonaws.com","eventName":"DeleteUser"}"#
    ));
}

#[test]
fn list_of_maps_is_or() {
    let r = rule("sel:\n    - eventName: A\n    - eventSource: b\ncondition: sel");
    assert!(hits(&r, r#"{"eventName":"a"}"#));
    assert!(hits(&r, r#"{"eventSource":"B"}"#));
    assert!(!hits(&r, r#"{"eventName":"b"}"#));
}

#[test]
fn null_matches_absent_and_json_null_only() {
    let r = rule("sel:\n    errorCode: null\ncondition: sel");
    assert!(hits(&r, r#"{"eventName":"x"}"#));
    assert!(hits(&r, r#"{"errorCode":null}"#));
    assert!(!hits(&r, r#"{"errorCode":"AccessDenied"}"#));
    assert!(!hits(&r, r#"{"errorCode":""}"#));
}

#[test]
fn numbers_and_booleans_compare_with_json_values_and_strings() {
    let n = rule("sel:\n    dstport: 22\ncondition: sel");
    assert!(hits(&n, r#"{"dstport":22}"#));
    assert!(hits(&n, r#"{"dstport":"22"}"#));
    assert!(!hits(&n, r#"{"dstport":222}"#));
    let b = rule("sel:\n    responseElements.publiclyAccessible: true\ncondition: sel");
    assert!(hits(
        &b,
        r#"{"responseElements":{"publiclyAccessible":true}}"#
    ));
    assert!(hits(
        &b,
        r#"{"responseElements":{"publiclyAccessible":"True"}}"#
    ));
    assert!(!hits(
        &b,
        r#"{"responseElements":{"publiclyAccessible":false}}"#
    ));
    let quoted = rule("sel:\n    enabled: 'false'\ncondition: sel");
    assert!(hits(&quoted, r#"{"enabled":false}"#));
}

#[test]
fn arrays_fan_out() {
    let r = rule("sel:\n    resources.ARN|endswith: ':trail/main'\ncondition: sel");
    assert!(hits(
        &r,
        r#"{"resources":[{"ARN":"arn:x:bucket/b"},{"ARN":"arn:aws:cloudtrail:us-east-1:1:trail/main"}]}"#
    ));
    assert!(!hits(&r, r#"{"resources":[{"ARN":"arn:x:bucket/b"}]}"#));
}

#[test]
fn contains_startswith_endswith() {
    let c = rule("sel:\n    userAgent|contains: kali\ncondition: sel");
    assert!(hits(&c, r#"{"userAgent":"aws-cli/2.0 Linux/5.10-KALI"}"#));
    assert!(!hits(&c, r#"{"userAgent":"aws-cli/2.0 Linux"}"#));
    let s = rule("sel:\n    eventName|startswith: Delete\ncondition: sel");
    assert!(hits(&s, r#"{"eventName":"deleteBucket"}"#));
    assert!(!hits(&s, r#"{"eventName":"BucketDelete"}"#));
    let e = rule("sel:\n    eventSource|endswith: .amazonaws.com\ncondition: sel");
    assert!(hits(&e, r#"{"eventSource":"s3.AMAZONAWS.com"}"#));
    assert!(!hits(&e, r#"{"eventSource":"s3.amazonaws.com.evil"}"#));
}

#[test]
fn wildcards_and_escapes_in_values() {
    let r = rule("sel:\n    userIdentity.arn: 'arn:aws:iam::*:root'\ncondition: sel");
    assert!(hits(
        &r,
        r#"{"userIdentity":{"arn":"arn:aws:iam::111122223333:root"}}"#
    ));
    assert!(!hits(
        &r,
        r#"{"userIdentity":{"arn":"arn:aws:iam::111122223333:user/root2"}}"#
    ));
    let q = rule("sel:\n    name: 'file?.txt'\ncondition: sel");
    assert!(hits(&q, r#"{"name":"file1.txt"}"#));
    assert!(!hits(&q, r#"{"name":"file12.txt"}"#));
    let escaped = rule("sel:\n    name: 'a\\*b'\ncondition: sel");
    assert!(hits(&escaped, r#"{"name":"a*b"}"#));
    assert!(!hits(&escaped, r#"{"name":"axxb"}"#));
}

#[test]
fn all_makes_a_list_an_and() {
    let r = rule("sel:\n    userAgent|contains|all: [python, boto3]\ncondition: sel");
    assert!(hits(&r, r#"{"userAgent":"Boto3/1.2 Python/3.11"}"#));
    assert!(!hits(&r, r#"{"userAgent":"Python/3.11"}"#));
}

#[test]
fn re_with_i_m_s_sub_modifiers() {
    let r = rule("sel:\n    userAgent|re: '^aws-cli/[0-9]+'\ncondition: sel");
    assert!(hits(&r, r#"{"userAgent":"aws-cli/2.15"}"#));
    assert!(
        !hits(&r, r#"{"userAgent":"AWS-CLI/2.15"}"#),
        "re is case-sensitive by default"
    );
    let i = rule("sel:\n    userAgent|re|i: '^aws-cli'\ncondition: sel");
    assert!(hits(&i, r#"{"userAgent":"AWS-CLI/2.15"}"#));
    let m = rule("sel:\n    text|re|m: '^second$'\ncondition: sel");
    assert!(hits(&m, r#"{"text":"first\nsecond\nthird"}"#));
    let no_m = rule("sel:\n    text|re: '^second$'\ncondition: sel");
    assert!(!hits(&no_m, r#"{"text":"first\nsecond\nthird"}"#));
    let s = rule("sel:\n    text|re|s: 'first.second'\ncondition: sel");
    assert!(hits(&s, r#"{"text":"first\nsecond"}"#));
    let no_s = rule("sel:\n    text|re: 'first.second'\ncondition: sel");
    assert!(!hits(&no_s, r#"{"text":"first\nsecond"}"#));
}

#[test]
fn cidr_matches_v4_and_v6() {
    let r = rule("sel:\n    sourceIPAddress|cidr: [10.0.0.0/8, '2001:db8::/32']\ncondition: sel");
    assert!(hits(&r, r#"{"sourceIPAddress":"10.20.30.40"}"#));
    assert!(hits(&r, r#"{"sourceIPAddress":"2001:db8::7"}"#));
    assert!(!hits(&r, r#"{"sourceIPAddress":"192.0.2.1"}"#));
    assert!(!hits(&r, r#"{"sourceIPAddress":"AWS Internal"}"#));
}

#[test]
fn base64_and_base64offset() {
    let b = rule("sel:\n    data|base64: 'whoami'\ncondition: sel");
    assert!(hits(&b, r#"{"data":"d2hvYW1p"}"#));
    assert!(!hits(&b, r#"{"data":"whoami"}"#));
    let o = rule("sel:\n    data|base64offset|contains: 'curl http'\ncondition: sel");
    let engine = base64::engine::general_purpose::STANDARD;
    for prefix in ["", "x", "xy", "bash -c "] {
        let encoded = engine.encode(format!("{prefix}curl http://198.51.100.1/x"));
        assert!(hits(&o, &format!(r#"{{"data":"{encoded}"}}"#)), "{prefix}");
    }
    assert!(!hits(
        &o,
        &format!(r#"{{"data":"{}"}}"#, engine.encode("wget http://x"))
    ));
}

#[test]
fn utf16_encodings_under_base64() {
    let engine = base64::engine::general_purpose::STANDARD;
    let le: Vec<u8> = "cmd".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = "cmd".encode_utf16().flat_map(u16::to_be_bytes).collect();
    let mut bom = vec![0xFF, 0xFE];
    bom.extend(&le);
    for (modifier, bytes) in [
        ("utf16le", &le),
        ("wide", &le),
        ("utf16be", &be),
        ("utf16", &bom),
    ] {
        let r = rule(&format!(
            "sel:\n    data|{modifier}|base64: cmd\ncondition: sel"
        ));
        assert!(
            hits(&r, &format!(r#"{{"data":"{}"}}"#, engine.encode(bytes))),
            "{modifier}"
        );
        assert!(
            !hits(&r, &format!(r#"{{"data":"{}"}}"#, engine.encode("cmd"))),
            "{modifier}"
        );
    }
}

#[test]
fn windash_accepts_every_dash() {
    let r = rule("sel:\n    commandLine|windash|contains: ' -enc '\ncondition: sel");
    assert!(hits(&r, r#"{"commandLine":"powershell /enc abc"}"#));
    assert!(hits(&r, r#"{"commandLine":"powershell \u2013enc abc"}"#));
    assert!(hits(&r, r#"{"commandLine":"powershell -enc abc"}"#));
    assert!(!hits(&r, r#"{"commandLine":"powershell +enc abc"}"#));
}

#[test]
fn exists_true_and_false() {
    let yes = rule("sel:\n    errorCode|exists: true\ncondition: sel");
    assert!(hits(&yes, r#"{"errorCode":"x"}"#));
    assert!(
        hits(&yes, r#"{"errorCode":null}"#),
        "present even when null"
    );
    assert!(!hits(&yes, r#"{}"#));
    let no = rule("sel:\n    errorCode|exists: false\ncondition: sel");
    assert!(hits(&no, r#"{}"#));
    assert!(!hits(&no, r#"{"errorCode":"x"}"#));
}

#[test]
fn fieldref_compares_two_fields() {
    let eq = rule(
        "sel:\n    userIdentity.userName|fieldref: requestParameters.userName\ncondition: sel",
    );
    assert!(hits(
        &eq,
        r#"{"userIdentity":{"userName":"Alice"},"requestParameters":{"userName":"alice"}}"#
    ));
    assert!(!hits(
        &eq,
        r#"{"userIdentity":{"userName":"bob"},"requestParameters":{"userName":"alice"}}"#
    ));
    assert!(!hits(&eq, r#"{"userIdentity":{"userName":"bob"}}"#));
    let ends = rule(
        "sel:\n    userIdentity.arn|fieldref|endswith: requestParameters.userName\ncondition: sel",
    );
    assert!(hits(
        &ends,
        r#"{"userIdentity":{"arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"alice"}}"#
    ));
    let neq = rule("sel:\n    a|fieldref|neq: b\ncondition: sel");
    assert!(hits(&neq, r#"{"a":"x","b":"y"}"#));
    assert!(!hits(&neq, r#"{"a":"x","b":"X"}"#));
    let cased = rule("sel:\n    a|fieldref|cased: b\ncondition: sel");
    assert!(!hits(&cased, r#"{"a":"x","b":"X"}"#));
}

#[test]
fn cased_keeps_case() {
    let r = rule("sel:\n    eventName|cased: StopLogging\ncondition: sel");
    assert!(hits(&r, r#"{"eventName":"StopLogging"}"#));
    assert!(!hits(&r, r#"{"eventName":"stoplogging"}"#));
    let c = rule("sel:\n    userAgent|contains|cased: Boto\ncondition: sel");
    assert!(!hits(&c, r#"{"userAgent":"boto3"}"#));
}

#[test]
fn neq_excludes_values_and_needs_the_field() {
    let r = rule("sel:\n    awsRegion|neq: [us-east-1, eu-west-1]\ncondition: sel");
    assert!(hits(&r, r#"{"awsRegion":"ap-south-1"}"#));
    assert!(!hits(&r, r#"{"awsRegion":"US-EAST-1"}"#));
    assert!(!hits(&r, r#"{}"#));
    let n = rule("sel:\n    count|neq: 3\ncondition: sel");
    assert!(hits(&n, r#"{"count":4}"#));
    assert!(!hits(&n, r#"{"count":3}"#));
}

#[test]
fn numeric_comparisons() {
    for (modifier, yes, no) in [
        ("lt", 9, 10),
        ("lte", 10, 11),
        ("gt", 11, 10),
        ("gte", 10, 9),
    ] {
        let r = rule(&format!("sel:\n    bytes|{modifier}: 10\ncondition: sel"));
        assert!(hits(&r, &format!(r#"{{"bytes":{yes}}}"#)), "{modifier}");
        assert!(!hits(&r, &format!(r#"{{"bytes":{no}}}"#)), "{modifier}");
    }
    let r = rule("sel:\n    bytes|gt: 1.5\ncondition: sel");
    assert!(
        hits(&r, r#"{"bytes":"2"}"#),
        "numeric strings compare as numbers"
    );
    assert!(!hits(&r, r#"{"bytes":"many"}"#));
}

#[test]
fn time_part_modifiers() {
    let night = rule("sel:\n    eventTime|hour|gte: 22\ncondition: sel");
    assert!(hits(&night, r#"{"eventTime":"2024-05-01T23:10:00Z"}"#));
    assert!(!hits(&night, r#"{"eventTime":"2024-05-01T09:10:00Z"}"#));
    let may = rule("sel:\n    eventTime|month: 5\ncondition: sel");
    assert!(hits(&may, r#"{"eventTime":"2024-05-01T23:10:00Z"}"#));
    assert!(!hits(&may, r#"{"eventTime":"2024-06-01T23:10:00Z"}"#));
}

#[test]
fn expand_uses_configured_placeholders() {
    let mut options = LoadOptions::default();
    options.placeholders.insert(
        "trusted_accounts".into(),
        vec!["111122223333".into(), "444455556666".into()],
    );
    let r = rule_with(
        "sel:\n    recipientAccountId|expand: '%trusted_accounts%'\ncondition: sel",
        &options,
    );
    assert!(hits(&r, r#"{"recipientAccountId":"444455556666"}"#));
    assert!(!hits(&r, r#"{"recipientAccountId":"999999999999"}"#));
    let literal = rule("sel:\n    name: '%trusted_accounts%'\ncondition: sel");
    assert!(
        hits(&literal, r#"{"name":"%trusted_accounts%"}"#),
        "without expand a placeholder is literal"
    );
}

struct Lists(HashMap<String, HashSet<String>>);

impl ListLookup for Lists {
    fn has_list(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn lookup(&self, list: &str, value: &str) -> Option<String> {
        self.0.get(list)?.get(value).cloned()
    }
}

fn intel_options() -> LoadOptions {
    let tor: HashSet<String> = ["198.51.100.7".to_string()].into();
    LoadOptions {
        lists: Some(Arc::new(Lists(
            [("tor_exit_nodes".to_string(), tor)].into(),
        ))),
        ..LoadOptions::default()
    }
}

#[test]
fn intel_matches_listed_values_and_explains_the_hit() {
    let r = rule_with(
        "sel:\n    sourceIPAddress|intel: tor_exit_nodes\ncondition: sel",
        &intel_options(),
    );
    let hit = event(r#"{"sourceIPAddress":"198.51.100.7"}"#);
    assert!(r.matches(&hit));
    assert!(!hits(&r, r#"{"sourceIPAddress":"192.0.2.1"}"#));
    let explanation = r.explain(&hit);
    assert_eq!(
        explanation.intel_hits,
        vec![IntelHit {
            field: "sourceIPAddress".into(),
            list: "tor_exit_nodes".into(),
            entry: "198.51.100.7".into()
        }]
    );
    let negated = rule_with("sel:\n    sourceIPAddress|intel: tor_exit_nodes\nother:\n    eventName: X\ncondition: other and not sel", &intel_options());
    assert!(negated
        .explain(&event(r#"{"eventName":"X","sourceIPAddress":"1.1.1.1"}"#))
        .intel_hits
        .is_empty());
}

#[test]
fn keywords_search_every_value_of_the_record() {
    let r = rule("keywords:\n    - 'kali'\n    - 'parrot'\ncondition: keywords");
    assert!(hits(&r, r#"{"userAgent":"aws-cli/2 Linux/6.1.0-kali9"}"#));
    assert!(hits(&r, r#"{"deep":{"list":["x","PARROT os"]}}"#));
    assert!(!hits(&r, r#"{"userAgent":"aws-cli/2 Linux/ubuntu"}"#));
    let all =
        rule("keywords:\n    '|all':\n        - 'kali'\n        - 'aws-cli'\ncondition: keywords");
    assert!(hits(&all, r#"{"userAgent":"aws-cli/2","host":"kali"}"#));
    assert!(!hits(&all, r#"{"userAgent":"aws-cli/2"}"#));
}

#[test]
fn keywords_need_the_record_and_fields_work_through_any_field_lookup() {
    let words = rule("keywords:\n    - 'kali'\ncondition: keywords");
    let fields = rule("sel:\n    userAgent|contains: kali\ncondition: sel");
    let e = event(r#"{"userAgent":"kali"}"#);
    let lookup: &dyn vigil_event::FieldLookup = &e;
    assert!(words.matches(&e));
    assert!(
        !words.matches(lookup),
        "a bare FieldLookup has no record to search"
    );
    assert!(fields.matches(lookup));
}
