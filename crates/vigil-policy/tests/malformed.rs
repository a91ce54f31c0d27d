//! Bad input is an error that says where and why, never a panic.

use vigil_policy::{Policy, PolicyError};

fn invalid(json: &str) -> (vigil_policy::Location, String) {
    match Policy::parse(json) {
        Err(PolicyError::Invalid { location, reason }) => (location, reason),
        other => panic!("expected an Invalid error for {json}, got {other:?}"),
    }
}

#[test]
fn not_json_names_line_and_column() {
    let err =
        Policy::parse("{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",,}\n  ]\n}").unwrap_err();
    match err {
        PolicyError::Syntax { line, column, .. } => {
            assert_eq!(line, 3);
            assert!(column > 1);
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(Policy::parse(""), Err(PolicyError::Syntax { .. })));
    assert!(matches!(
        Policy::parse("not json"),
        Err(PolicyError::Syntax { .. })
    ));
}

#[test]
fn unknown_effect_names_statement_line_and_column() {
    let json = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
    {"Effect": "Permit", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
  ]
}"#;
    let (location, reason) = invalid(json);
    assert_eq!(location.statement, Some(1));
    assert_eq!(location.line, Some(5));
    assert_eq!(location.column, Some(5));
    assert_eq!(location.element.as_deref(), Some("Effect"));
    assert!(reason.contains("Permit"), "{reason}");
    let text = PolicyError::Invalid { location, reason }.to_string();
    assert!(
        text.contains("line 5, column 5, statement 1, Effect"),
        "{text}"
    );
}

#[test]
fn empty_statement_is_missing_effect() {
    let (location, reason) = invalid(r#"{"Statement": [{}]}"#);
    assert_eq!(location.statement, Some(0));
    assert!(reason.contains("missing Effect"), "{reason}");
    let (_, reason) = invalid(r#"{"Statement": [{"Effect": "Allow"}]}"#);
    assert!(reason.contains("Action or NotAction"), "{reason}");
}

#[test]
fn statement_shape_errors() {
    let (_, reason) = invalid(r#"{"Statement": []}"#);
    assert!(reason.contains("empty"), "{reason}");
    let (_, reason) = invalid(r#"{"Version": "2012-10-17"}"#);
    assert!(reason.contains("missing Statement"), "{reason}");
    let (_, reason) = invalid(r#"[1, 2]"#);
    assert!(reason.contains("JSON object"), "{reason}");
    let (_, reason) = invalid(r#"{"Statement": "Allow"}"#);
    assert!(reason.contains("object or an array"), "{reason}");
    let (location, _) = invalid(r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*"}, 7]}"#);
    assert_eq!(location.statement, Some(1));
    let (location, _) =
        invalid(r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Colour": "red"}}"#);
    assert_eq!(location.element.as_deref(), Some("Colour"));
    let (_, reason) = invalid(r#"{"Statment": []}"#);
    assert!(reason.contains("Statment"), "{reason}");
    let (_, reason) = invalid(r#"{"Version": "2013-01-01", "Statement": []}"#);
    assert!(reason.contains("Version"), "{reason}");
}

#[test]
fn wrong_types_name_the_element() {
    let cases = [
        (
            r#"{"Statement": {"Effect": 1, "Action": "s3:*"}}"#,
            "Effect",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": 5}}"#,
            "Action",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": ["s3:*", 5]}}"#,
            "Action[1]",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "GetObject"}}"#,
            "Action[0]",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Principal": 42, "Action": "s3:*"}}"#,
            "Principal",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Principal": "alice", "Action": "s3:*"}}"#,
            "Principal",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Principal": {"IAM": "x"}, "Action": "s3:*"}}"#,
            "Principal.IAM",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "NotPrincipal": "*", "Action": "s3:*"}}"#,
            "NotPrincipal",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*"}}"#,
            "Action",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": {}}}"#,
            "Resource",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": "x"}}"#,
            "Condition",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEqualz": {"k": "v"}}}}"#,
            "Condition.StringEqualz",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEquals": {"k": {"a": 1}}}}}"#,
            "Condition.StringEquals.k",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEquals": {"k": []}}}}"#,
            "Condition.StringEquals.k",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}}}"#,
            "Condition.IpAddress.aws:SourceIp",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}}"#,
            "Condition.NumericLessThan.s3:max-keys",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}}}"#,
            "Condition.DateLessThan.aws:CurrentTime",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"Null": {"k": "maybe"}}}}"#,
            "Condition.Null.k",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"NullIfExists": {"k": "true"}}}}"#,
            "Condition.NullIfExists",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"ForSomeValues:StringEquals": {"k": "v"}}}}"#,
            "Condition.ForSomeValues:StringEquals",
        ),
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"BinaryEquals": {"k": "!!notbase64"}}}}"#,
            "Condition.BinaryEquals.k",
        ),
    ];
    for (json, element) in cases {
        let (location, reason) = invalid(json);
        assert_eq!(location.statement, Some(0), "{json}: {reason}");
        assert_eq!(
            location.element.as_deref(),
            Some(element),
            "{json}: {reason}"
        );
    }
}

#[test]
fn from_value_reports_statement_without_line() {
    let value = serde_json::json!({"Statement": [{"Effect": "Maybe", "Action": "s3:*"}]});
    let err = Policy::from_value(&value).unwrap_err();
    let location = err.location().unwrap();
    assert_eq!(location.statement, Some(0));
    assert_eq!(location.line, None);
}

#[test]
fn valid_edge_forms_parse() {
    // Single statement object, numbers and booleans as condition values, every operator
    // family with qualifiers and IfExists.
    let policy = Policy::parse(
        r#"{"Statement": {"Effect": "Deny", "Principal": {"AWS": ["111122223333"], "Service": "s3.amazonaws.com"},
            "NotAction": "s3:Get*", "NotResource": ["arn:aws:s3:::b/*"],
            "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": false},
                          "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
                          "ForAnyValue:ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"},
                          "DateGreaterThanEquals": {"aws:CurrentTime": "2024-01-01"},
                          "IpAddressIfExists": {"aws:SourceIp": ["10.0.0.1", "2001:db8::/32"]}}}}"#,
    )
    .unwrap();
    let st = &policy.statements[0];
    assert_eq!(st.conditions.len(), 6);
    assert!(st.action.negated);
    assert_eq!(st.principal.as_ref().unwrap().entries.len(), 2);
    assert!(st
        .conditions
        .iter()
        .any(|c| c.values == vec!["10".to_string()]));
}
