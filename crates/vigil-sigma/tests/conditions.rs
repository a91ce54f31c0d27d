//! One test per construct of the condition grammar, each with a negative case.

mod common;

use common::{hits, rule};

const SELECTIONS: &str =
    "sel_a:\n    a: 1\nsel_b:\n    b: 1\nfilter:\n    c: 1\n_hidden:\n    d: 1\n";

fn with(condition: &str) -> vigil_sigma::Rule {
    rule(&format!("{SELECTIONS}condition: {condition}"))
}

#[test]
fn and_or_not() {
    let r = with("sel_a and not filter");
    assert!(hits(&r, r#"{"a":1}"#));
    assert!(!hits(&r, r#"{"a":1,"c":1}"#));
    let r = with("sel_a or sel_b");
    assert!(hits(&r, r#"{"b":1}"#));
    assert!(!hits(&r, r#"{"c":1}"#));
}

#[test]
fn precedence_not_binds_tighter_than_and_than_or() {
    // a or (b and (not c))
    let r = with("sel_a or sel_b and not filter");
    assert!(hits(&r, r#"{"a":1,"c":1}"#));
    assert!(!hits(&r, r#"{"b":1,"c":1}"#));
    assert!(hits(&r, r#"{"b":1}"#));
}

#[test]
fn parentheses_override_precedence() {
    let r = with("(sel_a or sel_b) and not filter");
    assert!(!hits(&r, r#"{"a":1,"c":1}"#));
    assert!(hits(&r, r#"{"b":1}"#));
}

#[test]
fn one_of_a_pattern() {
    let r = with("1 of sel_*");
    assert!(hits(&r, r#"{"b":1}"#));
    assert!(!hits(&r, r#"{"c":1}"#));
    let any = with("any of sel_*");
    assert!(hits(&any, r#"{"a":1}"#));
}

#[test]
fn all_of_a_pattern() {
    let r = with("all of sel_*");
    assert!(hits(&r, r#"{"a":1,"b":1}"#));
    assert!(!hits(&r, r#"{"a":1}"#));
}

#[test]
fn them_excludes_underscore_selections() {
    let r = with("all of them");
    assert!(
        hits(&r, r#"{"a":1,"b":1,"c":1}"#),
        "_hidden is not required"
    );
    assert!(!hits(&r, r#"{"a":1,"b":1}"#));
    let one = with("1 of them");
    assert!(!hits(&one, r#"{"d":1}"#), "_hidden does not count");
    assert!(hits(&one, r#"{"c":1}"#));
}

#[test]
fn n_of_counts_matching_selections() {
    let r = with("2 of them");
    assert!(hits(&r, r#"{"a":1,"c":1}"#));
    assert!(!hits(&r, r#"{"a":1,"d":1}"#));
}

#[test]
fn wildcards_anywhere_in_selection_names() {
    let r = with("1 of *_b or 1 of fil*er");
    assert!(hits(&r, r#"{"b":1}"#));
    assert!(hits(&r, r#"{"c":1}"#));
    assert!(!hits(&r, r#"{"a":1}"#));
}

#[test]
fn a_list_of_conditions_is_an_or() {
    let r = rule(&format!("{SELECTIONS}condition:\n    - sel_a\n    - sel_b"));
    assert!(hits(&r, r#"{"b":1}"#));
    assert!(!hits(&r, r#"{"c":1}"#));
}

#[test]
fn keywords_uppercase_operators_are_accepted() {
    let r = with("sel_a AND NOT filter");
    assert!(hits(&r, r#"{"a":1}"#));
    assert!(!hits(&r, r#"{"a":1,"c":1}"#));
}
