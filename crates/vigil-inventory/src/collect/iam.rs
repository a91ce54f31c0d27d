//! IAM, a global service: collected once per account.
//!
//! Users, groups, roles and customer managed policies come from
//! `GetAccountAuthorizationDetails` — one paginated call instead of five per principal —
//! and the AWS managed policies attached to anyone from `ListPolicies(Scope=AWS,
//! OnlyAttached)` with each default version. Access keys need `ListAccessKeys` per user.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_iam::types as iam;
use aws_sdk_iam::Client;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    AccessKey, AttachedPolicy, CredentialReportRow, IamData, IamGroup, IamRole, IamUser,
    InlinePolicy, ManagedPolicy, PasswordPolicy, PolicyEntities, RoleLastUsed, ServerCertificate,
    VirtualMfaDevice,
};
use vigil_posture::Collected;

use crate::call::{collected, optional, CallError, Group};
use crate::convert::{opt, opt_time, policy_document, text};
use crate::run::Env;

/// How long to wait for IAM to generate the credential report (it usually takes seconds).
const REPORT_POLLS: u32 = 30;
const REPORT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Everything IAM, plus the account alias (`None` when IAM is not selected).
pub(crate) async fn collect(env: &Env, cfg: &SdkConfig, region: &str) -> (IamData, Option<String>) {
    let Some(g) = env.group("iam", region) else {
        return (IamData::default(), None);
    };
    let c = Client::new(cfg);
    let (
        details,
        aws_policies,
        summary,
        password,
        report,
        mfa,
        support,
        cloudshell,
        certs,
        saml,
        oidc,
        aliases,
    ) = tokio::join!(
        authorization_details(&g, &c),
        attached_aws_policies(&g, &c),
        g.call("GetAccountSummary", c.get_account_summary().send()),
        g.call(
            "GetAccountPasswordPolicy",
            c.get_account_password_policy().send()
        ),
        credential_report(&g, &c),
        g.pages(
            "ListVirtualMFADevices",
            c.list_virtual_mfa_devices().into_paginator().send(),
            |p| p.virtual_mfa_devices.iter().map(mfa_device).collect()
        ),
        entities_for_policy(&g, &c, "AWSSupportAccess", env),
        entities_for_policy(&g, &c, "AWSCloudShellFullAccess", env),
        g.pages(
            "ListServerCertificates",
            c.list_server_certificates().into_paginator().send(),
            |p| p
                .server_certificate_metadata_list
                .iter()
                .map(|m| ServerCertificate {
                    server_certificate_name: m.server_certificate_name().to_string(),
                    arn: m.arn().to_string(),
                    expiration: opt_time(m.expiration()),
                })
                .collect()
        ),
        g.call("ListSAMLProviders", c.list_saml_providers().send()),
        g.call(
            "ListOpenIDConnectProviders",
            c.list_open_id_connect_providers().send()
        ),
        g.call("ListAccountAliases", c.list_account_aliases().send()),
    );
    let (users, groups, roles, local_policies) = match details {
        Ok(details) => details,
        Err(err) => (err.collected(), err.collected(), err.collected(), Err(err)),
    };
    let users = match users {
        Collected::Ok(users) => Collected::Ok(with_access_keys(&g, &c, users).await),
        other => other,
    };
    let policies = match (local_policies, aws_policies) {
        (Ok(mut local), Ok(aws)) => {
            local.extend(aws);
            Collected::Ok(local)
        }
        (Err(err), _) | (_, Err(err)) => err.collected(),
    };
    let data = IamData {
        account_summary: collected(summary.map(|out| {
            out.summary_map()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.as_str().to_string(), i64::from(*v)))
                        .collect()
                })
                .unwrap_or_default()
        })),
        password_policy: optional(
            password.map(|out| {
                out.password_policy()
                    .map(password_policy)
                    .unwrap_or_default()
            }),
            &["NoSuchEntity"],
        ),
        credential_report: collected(report),
        virtual_mfa_devices: collected(mfa),
        users,
        groups,
        roles,
        policies,
        support_access_entities: collected(support),
        cloudshell_full_access_entities: collected(cloudshell),
        server_certificates: collected(certs),
        saml_providers: collected(saml.map(|out| {
            out.saml_provider_list()
                .iter()
                .filter_map(|p| opt(p.arn()))
                .collect()
        })),
        oidc_providers: collected(oidc.map(|out| {
            out.open_id_connect_provider_list()
                .iter()
                .filter_map(|p| opt(p.arn()))
                .collect()
        })),
    };
    let alias = aliases
        .ok()
        .and_then(|out| out.account_aliases().first().cloned());
    (data, alias)
}

fn password_policy(p: &iam::PasswordPolicy) -> PasswordPolicy {
    let number = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
    PasswordPolicy {
        minimum_password_length: number(p.minimum_password_length()),
        require_symbols: p.require_symbols(),
        require_numbers: p.require_numbers(),
        require_uppercase_characters: p.require_uppercase_characters(),
        require_lowercase_characters: p.require_lowercase_characters(),
        allow_users_to_change_password: p.allow_users_to_change_password(),
        expire_passwords: p.expire_passwords(),
        max_password_age: number(p.max_password_age()),
        password_reuse_prevention: number(p.password_reuse_prevention()),
        hard_expiry: p.hard_expiry(),
    }
}

fn mfa_device(d: &iam::VirtualMfaDevice) -> VirtualMfaDevice {
    VirtualMfaDevice {
        serial_number: d.serial_number().to_string(),
        user_arn: d.user().map(|u| u.arn().to_string()),
        enable_date: opt_time(d.enable_date()),
    }
}

type Details = (
    Collected<Vec<IamUser>>,
    Collected<Vec<IamGroup>>,
    Collected<Vec<IamRole>>,
    Result<Vec<ManagedPolicy>, CallError>,
);

async fn authorization_details(g: &Group, c: &Client) -> Result<Details, CallError> {
    use iam::EntityType;
    let request = c
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Group)
        .filter(EntityType::Role)
        .filter(EntityType::LocalManagedPolicy);
    let pages = g
        .pages(
            "GetAccountAuthorizationDetails",
            request.into_paginator().send(),
            |p| vec![p],
        )
        .await?;
    let (mut users, mut groups, mut roles, mut policies) = (vec![], vec![], vec![], vec![]);
    for page in pages {
        users.extend(page.user_detail_list().iter().map(user));
        groups.extend(page.group_detail_list().iter().map(group));
        roles.extend(page.role_detail_list().iter().map(role));
        policies.extend(page.policies().iter().map(local_policy));
    }
    Ok((
        Collected::Ok(users),
        Collected::Ok(groups),
        Collected::Ok(roles),
        Ok(policies),
    ))
}

fn attached(list: &[iam::AttachedPolicy]) -> Vec<AttachedPolicy> {
    list.iter()
        .map(|p| AttachedPolicy {
            policy_name: text(p.policy_name()),
            policy_arn: text(p.policy_arn()),
        })
        .collect()
}

fn inline(list: &[iam::PolicyDetail]) -> Vec<InlinePolicy> {
    list.iter()
        .map(|p| InlinePolicy {
            policy_name: text(p.policy_name()),
            policy_document: p.policy_document().map(policy_document).unwrap_or_default(),
        })
        .collect()
}

fn user(u: &iam::UserDetail) -> IamUser {
    IamUser {
        user_name: text(u.user_name()),
        user_id: text(u.user_id()),
        arn: text(u.arn()),
        create_date: opt_time(u.create_date()),
        access_keys: Collected::NotCollected,
        attached_policies: Collected::Ok(attached(u.attached_managed_policies())),
        inline_policies: Collected::Ok(inline(u.user_policy_list())),
        groups: Collected::Ok(u.group_list().to_vec()),
    }
}

fn group(g: &iam::GroupDetail) -> IamGroup {
    IamGroup {
        group_name: text(g.group_name()),
        arn: text(g.arn()),
        attached_policies: Collected::Ok(attached(g.attached_managed_policies())),
        inline_policies: Collected::Ok(inline(g.group_policy_list())),
    }
}

fn role(r: &iam::RoleDetail) -> IamRole {
    IamRole {
        role_name: text(r.role_name()),
        arn: text(r.arn()),
        path: text(r.path()),
        create_date: opt_time(r.create_date()),
        assume_role_policy_document: r
            .assume_role_policy_document()
            .map(policy_document)
            .unwrap_or_default(),
        role_last_used: Collected::Ok(RoleLastUsed {
            last_used_date: r
                .role_last_used()
                .and_then(|u| opt_time(u.last_used_date())),
            region: r.role_last_used().and_then(|u| opt(u.region())),
        }),
        attached_policies: Collected::Ok(attached(r.attached_managed_policies())),
        inline_policies: Collected::Ok(inline(r.role_policy_list())),
        tags: r
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn local_policy(p: &iam::ManagedPolicyDetail) -> ManagedPolicy {
    let default_version = text(p.default_version_id());
    let document = p
        .policy_version_list()
        .iter()
        .find(|v| v.is_default_version() || v.version_id() == Some(default_version.as_str()))
        .and_then(|v| v.document())
        .map(policy_document);
    ManagedPolicy {
        policy_name: text(p.policy_name()),
        arn: text(p.arn()),
        attachment_count: p
            .attachment_count()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        default_version_id: default_version,
        document: match document {
            Some(doc) => Collected::Ok(doc),
            None => Collected::error(
                "iam:GetAccountAuthorizationDetails",
                "MissingDocument",
                "the policy's default version came back without a document",
            ),
        },
    }
}

/// AWS managed policies attached to a principal, each with its default version.
async fn attached_aws_policies(g: &Group, c: &Client) -> Result<Vec<ManagedPolicy>, CallError> {
    let pages = c
        .list_policies()
        .scope(iam::PolicyScopeType::Aws)
        .only_attached(true)
        .into_paginator()
        .send();
    let listed = g
        .pages("ListPolicies", pages, |p| p.policies.unwrap_or_default())
        .await?;
    let with_documents = listed.iter().map(|p| async move {
        let arn = text(p.arn());
        let version = text(p.default_version_id());
        let document = g
            .call(
                "GetPolicyVersion",
                c.get_policy_version()
                    .policy_arn(&arn)
                    .version_id(&version)
                    .send(),
            )
            .await
            .map(|out| {
                out.policy_version()
                    .and_then(|v| v.document())
                    .map(policy_document)
                    .unwrap_or_default()
            });
        ManagedPolicy {
            policy_name: text(p.policy_name()),
            arn,
            attachment_count: p
                .attachment_count()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            default_version_id: version,
            document: collected(document),
        }
    });
    Ok(join_all(with_documents).await)
}

async fn with_access_keys(g: &Group, c: &Client, users: Vec<IamUser>) -> Vec<IamUser> {
    let filled = users.into_iter().map(|mut user| async move {
        let pages = c
            .list_access_keys()
            .user_name(&user.user_name)
            .into_paginator()
            .send();
        let keys = g
            .pages("ListAccessKeys", pages, |p| {
                p.access_key_metadata
                    .iter()
                    .map(|k| AccessKey {
                        access_key_id: text(k.access_key_id()),
                        status: k
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        create_date: opt_time(k.create_date()),
                    })
                    .collect()
            })
            .await;
        user.access_keys = collected(keys);
        user
    });
    join_all(filled).await
}

async fn entities_for_policy(
    g: &Group,
    c: &Client,
    policy: &str,
    env: &Env,
) -> Result<PolicyEntities, CallError> {
    let arn = format!("arn:{}:iam::aws:policy/{policy}", env.partition);
    let pages = c
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send();
    let pages = g.pages("ListEntitiesForPolicy", pages, |p| vec![p]).await?;
    let mut entities = PolicyEntities::default();
    for page in pages {
        entities.users.extend(
            page.policy_users()
                .iter()
                .filter_map(|u| opt(u.user_name())),
        );
        entities.groups.extend(
            page.policy_groups()
                .iter()
                .filter_map(|g| opt(g.group_name())),
        );
        entities.roles.extend(
            page.policy_roles()
                .iter()
                .filter_map(|r| opt(r.role_name())),
        );
    }
    Ok(entities)
}

/// GenerateCredentialReport until COMPLETE, then GetCredentialReport, parsed.
async fn credential_report(g: &Group, c: &Client) -> Result<Vec<CredentialReportRow>, CallError> {
    for attempt in 0..REPORT_POLLS {
        let out = g
            .call(
                "GenerateCredentialReport",
                c.generate_credential_report().send(),
            )
            .await?;
        if out.state().map(|s| s.as_str()) == Some("COMPLETE") {
            break;
        }
        if attempt + 1 == REPORT_POLLS {
            return Err(CallError::new(
                &g.name("GenerateCredentialReport"),
                "ReportNotReady",
                format!("the credential report was not COMPLETE after {REPORT_POLLS} polls"),
            ));
        }
        tokio::time::sleep(REPORT_POLL_INTERVAL).await;
    }
    let out = g
        .call("GetCredentialReport", c.get_credential_report().send())
        .await?;
    let content = out.content().map(|b| b.as_ref()).unwrap_or_default();
    parse_credential_report(content)
        .map_err(|why| CallError::new(&g.name("GetCredentialReport"), "InvalidReport", why))
}

/// Parses the credential report CSV (header row, then one row per user). Columns the
/// snapshot does not know are ignored; missing ones read as empty (unknown) cells.
pub(crate) fn parse_credential_report(content: &[u8]) -> Result<Vec<CredentialReportRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(content);
    let mut rows = Vec::new();
    for (index, row) in reader.deserialize::<CredentialReportRow>().enumerate() {
        // Line 1 is the header.
        rows.push(row.map_err(|e| format!("credential report line {}: {e}", index + 2))?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_posture::snapshot::ReportValue;

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2024-04-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
alice,arn:aws:iam::111122223333:user/alice,2023-01-01T00:00:00+00:00,true,no_information,2023-01-01T00:00:00+00:00,N/A,false,true,2023-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";

    #[test]
    fn the_credential_report_parses_into_rows() {
        let rows = parse_credential_report(REPORT.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_root());
        assert_eq!(rows[0].mfa_active, "true");
        assert_eq!(rows[1].user, "alice");
        assert_eq!(
            ReportValue::parse(&rows[1].password_last_used),
            ReportValue::NoInformation
        );
        assert_eq!(
            ReportValue::parse(&rows[1].access_key_1_last_rotated)
                .time()
                .map(|t| t.to_rfc3339()),
            Some("2023-01-02T00:00:00+00:00".into())
        );
    }

    #[test]
    fn a_broken_report_names_the_line() {
        let broken = format!("{REPORT}bob,arn:aws:iam::111122223333:user/bob\n");
        let err = parse_credential_report(broken.as_bytes()).unwrap_err();
        assert!(err.contains("line 4"), "{err}");
    }
}
