//! The semantics corpus: one JSON file per rule of the IAM evaluation logic, the condition
//! operators, policy variables, S3's meaning of public and Block Public Access, and
//! realistic policies for the eight resource kinds. Each file cites its rule (`rule`,
//! `source`) and holds the expected verdict, grants and request decisions, written by hand
//! from the AWS documentation. One test per file, named after it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use vigil_policy::{
    analyze, analyze_s3, evaluate, AclGrant, AclGrantee, AclPermission, Analysis, AnalysisContext,
    BlockPublicAccess, Decision, Grant, GrantSource, Policy, PrincipalClass, Request, S3Acl,
    Verdict,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    source: String,
    context: AnalysisContext,
    policy: Option<Value>,
    expect: Expect,
    #[serde(default)]
    requests: Vec<ExpectedRequest>,
    #[serde(default)]
    s3: Option<S3Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    verdict: Verdict,
    #[serde(default)]
    grant_count: Option<usize>,
    #[serde(default)]
    grants: Vec<ExpectedGrant>,
    #[serde(default)]
    notes_contain: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExpectedGrant {
    principal: Option<PrincipalClass>,
    exposure: Option<Verdict>,
    statement: Option<usize>,
    actions: Option<Vec<String>>,
    restricted_by: Option<Vec<String>>,
    explanation: Option<String>,
    source: Option<GrantSource>,
    not_action: Option<bool>,
    not_resource: Option<bool>,
    access_all: Option<bool>,
    access_read: Option<bool>,
    access_write: Option<bool>,
}

#[derive(Deserialize)]
struct ExpectedRequest {
    #[serde(flatten)]
    request: Request,
    decision: Decision,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Case {
    acl: AclCase,
    bpa: BlockPublicAccess,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AclCase {
    owner_canonical_id: Option<String>,
    grants: Vec<AclGrantCase>,
    acls_disabled: bool,
}

#[derive(Deserialize)]
struct AclGrantCase {
    grantee: Value,
    permission: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn acl(case: &AclCase) -> S3Acl {
    let grants = case
        .grants
        .iter()
        .map(|g| {
            let grantee = match &g.grantee {
                Value::String(s) if s == "AllUsers" => {
                    AclGrantee::from_group_uri(vigil_policy::ALL_USERS_URI)
                }
                Value::String(s) if s == "AuthenticatedUsers" => {
                    AclGrantee::from_group_uri(vigil_policy::AUTHENTICATED_USERS_URI)
                }
                Value::Object(m) => AclGrantee::CanonicalUser(
                    m["CanonicalUser"]
                        .as_str()
                        .expect("canonical id")
                        .to_string(),
                ),
                other => panic!("unknown grantee in corpus: {other}"),
            };
            AclGrant {
                grantee,
                permission: AclPermission::parse(&g.permission).expect("permission"),
            }
        })
        .collect();
    S3Acl {
        owner_canonical_id: case.owner_canonical_id.clone(),
        grants,
        acls_disabled: case.acls_disabled,
    }
}

fn restricted_keys(grant: &Grant) -> BTreeSet<String> {
    grant
        .restrictions
        .iter()
        .flatten()
        .map(|r| r.key.clone())
        .collect()
}

fn grant_matches(grant: &Grant, want: &ExpectedGrant) -> bool {
    want.principal
        .as_ref()
        .is_none_or(|p| *p == grant.principal)
        && want.exposure.is_none_or(|e| e == grant.exposure)
        && want.statement.is_none_or(|s| s == grant.statement)
        && want.actions.as_ref().is_none_or(|a| *a == grant.actions)
        && want.restricted_by.as_ref().is_none_or(|keys| {
            keys.iter().cloned().collect::<BTreeSet<_>>() == restricted_keys(grant)
        })
        && want
            .explanation
            .as_ref()
            .is_none_or(|e| *e == grant.explanation)
        && want.source.is_none_or(|s| s == grant.source)
        && want.not_action.is_none_or(|n| n == grant.not_action)
        && want.not_resource.is_none_or(|n| n == grant.not_resource)
        && want.access_all.is_none_or(|v| v == grant.access.all)
        && want.access_read.is_none_or(|v| v == grant.access.read)
        && want.access_write.is_none_or(|v| v == grant.access.write)
}

fn check_analysis(name: &str, analysis: &Analysis, expect: &Expect) {
    let dump = serde_json::to_string_pretty(analysis).unwrap();
    assert_eq!(analysis.verdict, expect.verdict, "{name}: verdict\n{dump}");
    if let Some(count) = expect.grant_count {
        assert_eq!(analysis.grants.len(), count, "{name}: grant count\n{dump}");
    }
    for want in &expect.grants {
        assert!(
            analysis.grants.iter().any(|g| grant_matches(g, want)),
            "{name}: no grant matches {want:?}\n{dump}"
        );
    }
    for note in &expect.notes_contain {
        assert!(
            analysis.notes.iter().any(|n| n.contains(note.as_str())),
            "{name}: no note contains {note:?}\n{dump}"
        );
    }
}

fn run_case(name: &str) {
    let path = corpus_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let case: Case =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        !case.rule.is_empty() && case.source.starts_with("https://"),
        "{name}: cite the rule"
    );
    let policy = case
        .policy
        .as_ref()
        .map(|v| Policy::from_value(v).unwrap_or_else(|e| panic!("{name}: {e}")));
    let analysis = match (&case.s3, &policy) {
        (Some(s3), policy) => analyze_s3(policy.as_ref(), &acl(&s3.acl), &s3.bpa, &case.context),
        (None, Some(policy)) => analyze(policy, &case.context),
        (None, None) => panic!("{name}: a case needs a policy or an s3 block"),
    };
    check_analysis(name, &analysis, &case.expect);
    for (i, expected) in case.requests.iter().enumerate() {
        let policy = policy.as_ref().expect("requests need a policy");
        let got = evaluate(policy, &expected.request);
        assert_eq!(
            got, expected.decision,
            "{name}: request {i} {:?}",
            expected.request
        );
        if got == Decision::Allow
            && expected.request.principal == vigil_policy::RequestPrincipal::Anonymous
        {
            assert!(
                analysis.verdict >= Verdict::CrossAccount,
                "{name}: request {i} lets an anonymous caller in but the analysis says {:?}",
                analysis.verdict
            );
        }
    }
}

macro_rules! corpus {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case(stringify!($name));
            }
        )*

        #[test]
        fn every_corpus_file_has_a_test() {
            let listed: BTreeSet<&str> = [$(stringify!($name)),*].into_iter().collect();
            let on_disk: BTreeSet<String> = std::fs::read_dir(corpus_dir())
                .unwrap()
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(String::from))
                .collect();
            let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
            assert_eq!(listed, on_disk, "tests/corpus.rs lists exactly the corpus files");
        }
    };
}

corpus! {
    account_id_and_root_arn_are_the_same_principal,
    action_and_resource_wildcards,
    deny_for_any_value_negated_is_avoidable,
    deny_negated_if_exists_still_denies_missing_key,
    deny_on_caller_controlled_key_does_not_cancel_public_allow,
    deny_on_narrower_resource_does_not_cancel,
    deny_on_other_actions_leaves_the_rest,
    deny_unless_principal_org_restricts_public_allow,
    deny_with_not_principal_denies_everyone_else,
    explicit_deny_overrides_allow,
    federated_public_provider_is_public,
    for_all_values_on_empty_set_is_true,
    for_any_value_on_absent_key_is_false,
    if_exists_on_absent_key_does_not_restrict,
    implicit_deny_by_default,
    kind_ecr_org_pull,
    kind_ecr_public_pull,
    kind_iam_role_any_principal_trust,
    kind_iam_role_cross_account_external_id,
    kind_iam_role_ec2_service,
    kind_iam_role_github_oidc_wildcard_subject,
    kind_iam_role_github_oidc_with_subject,
    kind_iam_role_github_oidc_without_subject,
    kind_kms_cross_account_decrypt,
    kind_kms_default_key_policy,
    kind_kms_via_service_and_caller_account,
    kind_lambda_function_url_iam_auth,
    kind_lambda_public_function_url,
    kind_lambda_s3_trigger,
    kind_s3_cloudfront_origin_access_control,
    kind_secrets_manager_cross_account,
    kind_sns_default_topic_policy,
    kind_sqs_public_send,
    multi_valued_keys_for_all_and_for_any,
    multiple_keys_and_values_logic,
    negated_operator_on_missing_key_is_true,
    not_action_allow_grants_everything_else,
    not_ip_address_does_not_restrict,
    not_principal_allow_is_public_except_listed,
    not_resource_excludes_listed_resources,
    null_false_requires_an_authenticated_caller,
    null_true_admits_anonymous_callers,
    owner_and_trusted_accounts_are_internal,
    policy_variables_need_version_2012_10_17,
    policy_variables_substitute_request_values,
    principal_arn_fixed_account_restricts,
    principal_arn_with_wildcard_account_is_any_authenticated,
    principal_aws_star_is_public_too,
    principal_org_id_restricts_to_the_organization,
    principal_org_paths_restricts,
    principal_star_is_public,
    role_principal_is_the_role_and_its_sessions,
    s3_acl_all_users_is_public,
    s3_acl_authenticated_users_is_any_authenticated,
    s3_acls_disabled_grant_nothing,
    s3_all_settings_block_public_policy_and_acl,
    s3_block_public_acls_keeps_existing_public_acl,
    s3_block_public_policy_leaves_existing_policy,
    s3_cross_account_canonical_user_acl,
    s3_ignore_public_acls_ignores_public_grants,
    s3_restrict_public_buckets_ignores_non_public_policy,
    s3_restrict_public_buckets_limits_public_policy,
    service_principal_without_source_is_confused_deputy,
    source_account_ties_service_to_owner,
    source_ip_broad_range_is_public,
    source_ip_narrow_range_restricts,
    source_vpc_prefix_wildcard_is_public,
    source_vpce_fixed_value_restricts,
    source_vpce_trusted_network_is_internal,
    source_vpce_wildcard_value_is_public,
    string_arn_numeric_date_bool_binary_operators,
    unknown_condition_key_does_not_restrict,
    username_and_principal_tags_do_not_restrict,
    variable_in_identity_condition_is_not_fixed,
}
