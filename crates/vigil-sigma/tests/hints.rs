//! Index hints: what they contain for known rules, and soundness — a rule never matches an
//! event that violates one of its hints — over generated events for every SigmaHQ rule.

mod common;

use common::{event, hits, rule, sigma_data};
use serde_json::{json, Map, Value as Json};
use vigil_sigma::{load_path, IndexHint, LoadOptions, Rule};

fn hint(field: &str, values: &[&str]) -> IndexHint {
    IndexHint {
        field: field.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
        prefixes: Vec::new(),
    }
}

fn prefix_hint(field: &str, values: &[&str], prefixes: &[&str]) -> IndexHint {
    IndexHint {
        prefixes: prefixes.iter().map(|v| v.to_string()).collect(),
        ..hint(field, values)
    }
}

#[test]
fn plain_equalities_become_hints_and_everything_else_does_not() {
    let r = rule("sel:\n    eventSource: cloudtrail.amazonaws.com\n    eventName: [StopLogging, DeleteTrail]\n    userAgent|contains: aws-cli\ncondition: sel");
    assert_eq!(
        r.index_hints(),
        vec![
            hint("eventName", &["deletetrail", "stoplogging"]),
            hint("eventSource", &["cloudtrail.amazonaws.com"])
        ]
    );
    let negated = rule("sel:\n    eventName: A\ncondition: not sel");
    assert!(negated.index_hints().is_empty());
    let with_null = rule("sel:\n    errorCode: [null, Success]\ncondition: sel");
    assert!(with_null.index_hints().is_empty());
    let wildcard = rule("sel:\n    eventName: '*Delete*'\ncondition: sel");
    assert!(wildcard.index_hints().is_empty());
    let suffix = rule("sel:\n    eventName|endswith: Trail\ncondition: sel");
    assert!(suffix.index_hints().is_empty());
    let cased = rule("sel:\n    eventName|cased: StopLogging\ncondition: sel");
    assert_eq!(
        cased.index_hints(),
        vec![hint("eventName", &["stoplogging"])]
    );
}

#[test]
fn or_keeps_only_fields_every_branch_constrains() {
    let r = rule("a:\n    eventSource: s3.amazonaws.com\n    eventName: GetObject\nb:\n    eventSource: iam.amazonaws.com\ncondition: a or b");
    assert_eq!(
        r.index_hints(),
        vec![hint(
            "eventSource",
            &["iam.amazonaws.com", "s3.amazonaws.com"]
        )]
    );
    let list = rule("sel:\n    - eventName: A\n    - eventSource: x\ncondition: sel");
    assert!(list.index_hints().is_empty());
    let one_of = rule("s_a:\n    eventName: A\ns_b:\n    eventName: B\ncondition: 1 of s_*");
    assert_eq!(one_of.index_hints(), vec![hint("eventName", &["a", "b"])]);
    let and_same = rule("a:\n    eventName: [A, B]\nb:\n    eventName: [B, C]\ncondition: a and b");
    assert_eq!(and_same.index_hints(), vec![hint("eventName", &["b"])]);
}

#[test]
fn startswith_and_trailing_wildcards_become_prefix_hints() {
    let r = rule("sel:\n    eventName|startswith: [List, Describe]\ncondition: sel");
    assert_eq!(
        r.index_hints(),
        vec![prefix_hint("eventName", &[], &["describe", "list"])]
    );
    let glob = rule("sel:\n    eventName: Delete*\ncondition: sel");
    assert_eq!(
        glob.index_hints(),
        vec![prefix_hint("eventName", &[], &["delete"])]
    );
    // OR of a plain value and prefixes on the same field keeps both.
    let either =
        rule("a:\n    eventName: CreateTags\nb:\n    eventName|startswith: Tag\ncondition: a or b");
    assert_eq!(
        either.index_hints(),
        vec![prefix_hint("eventName", &["createtags"], &["tag"])]
    );
    // AND of plain values and prefixes keeps the plain values.
    let both = rule("a:\n    eventName: [ListUsers, GetUser]\nb:\n    eventName|startswith: List\ncondition: a and b");
    assert_eq!(
        both.index_hints(),
        vec![hint("eventName", &["getuser", "listusers"])]
    );
    let h = prefix_hint("eventName", &["createtags"], &["list"]);
    assert!(h.admits(&event(r#"{"eventName":"ListBuckets"}"#)));
    assert!(h.admits(&event(r#"{"eventName":"CreateTags"}"#)));
    assert!(!h.admits(&event(r#"{"eventName":"GetObject"}"#)));
    assert!(!h.admits(&event(r#"{"eventName":"BlackList"}"#)));
    assert!(h.admits(&event(r#"{"eventName":{"nested":"x"}}"#)));
    assert!(!hint("eventName", &["x"]).admits(&event(r#"{"eventName":{"nested":"x"}}"#)));
}

#[test]
fn hints_admit_numbers_by_text_and_ignore_case() {
    let h = hint("status", &["404"]);
    assert!(h.admits(&event(r#"{"status":404}"#)));
    assert!(h.admits(&event(r#"{"status":"404"}"#)));
    assert!(!h.admits(&event(r#"{"status":200}"#)));
    assert!(!h.admits(&event(r#"{}"#)));
    assert!(hint("eventName", &["stoplogging"]).admits(&event(r#"{"eventName":"StopLogging"}"#)));
}

/// A small deterministic generator (64-bit LCG).
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn set_path(object: &mut Map<String, Json>, path: &str, value: Json) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = object.entry(head.to_string()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Some(child) = child.as_object_mut() {
                set_path(child, rest, value);
            }
        }
    }
}

fn mixed_case(value: &str, dice: &mut Dice) -> String {
    value
        .chars()
        .map(|c| {
            if dice.next(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// A value the hint accepts: one of its values, or one of its prefixes with a tail.
fn accepted(h: &IndexHint, dice: &mut Dice) -> String {
    let pick = dice.next(h.values.len() + h.prefixes.len());
    match h.values.get(pick) {
        Some(value) => value.clone(),
        None => h
            .prefixes
            .get(pick - h.values.len())
            .map_or(String::new(), |p| {
                format!("{p}{}", ["", "Things", "x"][dice.next(3)])
            }),
    }
}

/// Events that satisfy most of `rule`'s hints, some only partly, with values of other rules.
fn events_for(rule: &Rule, pool: &[IndexHint], dice: &mut Dice) -> Vec<vigil_event::Event> {
    (0..40)
        .map(|_| {
            let mut object = Map::new();
            for h in pool {
                if dice.next(4) != 0 {
                    continue;
                }
                set_path(&mut object, &h.field, json!(accepted(h, dice)));
            }
            for h in rule.index_hints() {
                let value = match dice.next(6) {
                    0 => "unrelated".to_string(),
                    _ => mixed_case(&accepted(&h, dice), dice),
                };
                set_path(&mut object, &h.field, json!(value));
            }
            if dice.next(2) == 0 {
                set_path(&mut object, "userIdentity.type", json!("Root"));
            }
            event(&Json::Object(object).to_string())
        })
        .collect()
}

#[test]
fn hints_are_sound_on_the_sigmahq_rules() {
    let report = load_path(sigma_data("aws"), &LoadOptions::default());
    let pool: Vec<IndexHint> = report.rules.iter().flat_map(Rule::index_hints).collect();
    let mut dice = Dice(7);
    let mut matched_rules = 0;
    let mut violations = 0;
    for r in &report.rules {
        let mut matched = false;
        for e in events_for(r, &pool, &mut dice) {
            if r.matches(&e) {
                matched = true;
                for h in r.index_hints() {
                    if !h.admits(&e) {
                        violations += 1;
                        eprintln!("{} matched an event outside hint {h:?}: {}", r.id, e.doc);
                    }
                }
            }
            // Near misses: breaking any one hint must make the rule fail.
            for h in r.index_hints() {
                let mut doc: Json = serde_json::from_str(&e.doc.to_string()).expect("json");
                if let Some(object) = doc.as_object_mut() {
                    set_path(object, &h.field, json!("no-such-value"));
                }
                assert!(
                    !r.matches(&event(&doc.to_string())),
                    "{} matched with {} broken",
                    r.id,
                    h.field
                );
            }
        }
        matched_rules += usize::from(matched);
    }
    assert_eq!(violations, 0);
    assert!(
        matched_rules >= 35,
        "only {matched_rules} rules matched a generated event"
    );
}

/// Regression guard: a long list of plain values is matched through one set, and its index
/// hint still names every value.
#[test]
fn a_long_value_list_keeps_every_value_in_its_hint() {
    let r = common::rule(
        "sel:\n    eventSource: [IAM.amazonaws.com, sts.amazonaws.com, s3.amazonaws.com, kms.amazonaws.com, ec2.amazonaws.com]\ncondition: sel",
    );
    let hints = r.index_hints();
    assert_eq!(hints.len(), 1);
    assert_eq!(
        hints[0].values,
        vec![
            "ec2.amazonaws.com",
            "iam.amazonaws.com",
            "kms.amazonaws.com",
            "s3.amazonaws.com",
            "sts.amazonaws.com"
        ]
    );
    assert!(common::hits(&r, r#"{"eventSource":"Iam.AmazonAWS.com"}"#));
    assert!(!common::hits(
        &r,
        r#"{"eventSource":"lambda.amazonaws.com"}"#
    ));
}

/// Two selections joined with `and` may each require a value of a field that holds several
/// (`resources.ARN`): an event with both values matches, so the hint keeps one set whole
/// instead of their intersection (which would file the rule where the event never looks).
#[test]
fn and_over_a_field_of_several_values_keeps_a_necessary_set() {
    let r = rule("a:\n    resources.ARN: [arn:a, arn:c]\nb:\n    resources.ARN: [arn:b, arn:c, arn:d]\ncondition: a and b");
    let both = r#"{"eventName":"CopyObject","resources":[{"ARN":"arn:a"},{"ARN":"arn:b"}]}"#;
    assert!(hits(&r, both));
    assert_eq!(
        r.index_hints(),
        vec![hint("resources.ARN", &["arn:a", "arn:c"])]
    );
    assert!(r.index_hints().iter().all(|h| h.admits(&event(both))));
    assert_eq!(r.never_matches(), None);
    // A field that holds one value: the sets are intersected for the contradiction check.
    let ses = rule("selection1:\n    eventSource: ses.amazonaws.com\n    eventName: UpdateAccountSendingEnabled\nselection2:\n    eventSource: ses.amazonaws.com\n    eventName: VerifyEmailIdentity\ncondition: selection1 and selection2");
    let why = ses.never_matches().expect("no record has two event names");
    assert!(why.contains("`eventName`"), "{why}");
    let either = rule("selection1:\n    eventName: UpdateAccountSendingEnabled\nselection2:\n    eventName: VerifyEmailIdentity\ncondition: selection1 or selection2");
    assert_eq!(either.never_matches(), None);
    let overlapping =
        rule("a:\n    eventName: [A, B]\nb:\n    eventName: [B, C]\ncondition: a and b");
    assert_eq!(overlapping.never_matches(), None);
}
