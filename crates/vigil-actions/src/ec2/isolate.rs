//! `ec2.isolate_instance` and `ec2.release_isolation`.
//!
//! Isolation handles connection tracking the way AWS's incident-response guide describes:
//! security groups only stop *new* flows while a tracked connection (an attacker's shell)
//! survives a rule change. Every interface is first moved to a group that allows all
//! traffic in both directions (`<name>-untrack`: such flows are not tracked), then to a group
//! with no rules at all (`<name>`, its default egress rule removed), which cuts the now
//! untracked flows at once. Both groups are created per VPC when missing and reused after.
//!
//! The original groups of each interface are written to the instance's tags before anything
//! changes (`vigil:original-groups=eni-1:sg-a,sg-b;eni-2:sg-c`), so
//! `ec2.release_isolation` can restore them even if a run stops half-way. EC2 tag values hold
//! 256 characters: a longer mapping is split over `vigil:original-groups:1..N` and the main
//! tag holds its SHA-256 and part count; the mapping is also stored as evidence.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType};
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use super::{
    cli_arg, client, describe_instance, ec2_change, ec2_tag, filter, groups_by_eni, object,
    tag_spec, tags, InstanceState,
};
use crate::common::{
    check, made, optional_str, planned, request_id, resource_id, sha256_hex, store_json,
};

/// Longest EC2 tag value.
const TAG_VALUE_MAX: usize = 256;

/// Security groups per network interface.
pub type GroupMap = BTreeMap<String, Vec<String>>;

/// `eni-1:sg-a,sg-b;eni-2:sg-c`.
pub fn encode_groups(map: &GroupMap) -> String {
    map.iter()
        .map(|(eni, groups)| format!("{eni}:{}", groups.join(",")))
        .collect::<Vec<_>>()
        .join(";")
}

/// Parses [`encode_groups`]' format.
pub fn decode_groups(text: &str) -> Result<GroupMap, String> {
    let mut map = GroupMap::new();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let (eni, groups) = part
            .split_once(':')
            .ok_or_else(|| format!("`{part}` is not eni-id:sg-id,..."))?;
        let groups: Vec<String> = groups
            .split(',')
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect();
        if !eni.starts_with("eni-")
            || groups.is_empty()
            || !groups.iter().all(|g| g.starts_with("sg-"))
        {
            return Err(format!("`{part}` is not eni-id:sg-id,..."));
        }
        map.insert(eni.to_string(), groups);
    }
    if map.is_empty() {
        return Err("no interface listed".to_string());
    }
    Ok(map)
}

/// The tags that record `map`: one tag when it fits, else a hash tag and numbered parts.
pub fn original_group_tags(map: &GroupMap) -> Vec<(String, String)> {
    let text = encode_groups(map);
    if text.len() <= TAG_VALUE_MAX {
        return vec![(tags::ORIGINAL_GROUPS.to_string(), text)];
    }
    // The text is ASCII (ids, ':', ',', ';'), so byte chunks are character chunks.
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(TAG_VALUE_MAX)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut out = vec![(
        tags::ORIGINAL_GROUPS.to_string(),
        format!(
            "sha256={};parts={}",
            sha256_hex(text.as_bytes()),
            parts.len()
        ),
    )];
    for (i, part) in parts.into_iter().enumerate() {
        out.push((format!("{}:{}", tags::ORIGINAL_GROUPS, i + 1), part));
    }
    out
}

/// Reads the mapping back from an instance's tags (`None` when there is none).
pub fn original_groups_from_tags(tags: &[(String, String)]) -> Option<Result<GroupMap, String>> {
    let main = crate::common::tag_value(tags, tags::ORIGINAL_GROUPS)?;
    match main.strip_prefix("sha256=") {
        None => Some(decode_groups(main)),
        Some(rest) => Some(join_parts(tags, main, rest)),
    }
}

/// Reassembles a mapping split over numbered tags and checks it against its hash.
fn join_parts(tags: &[(String, String)], main: &str, rest: &str) -> Result<GroupMap, String> {
    let (hash, count) = rest
        .split_once(";parts=")
        .ok_or_else(|| format!("bad {} tag `{main}`", tags::ORIGINAL_GROUPS))?;
    let count: usize = count
        .parse()
        .map_err(|_| format!("bad part count in `{main}`"))?;
    let mut text = String::new();
    for i in 1..=count.min(50) {
        let key = format!("{}:{i}", tags::ORIGINAL_GROUPS);
        text.push_str(
            crate::common::tag_value(tags, &key).ok_or_else(|| format!("tag {key} missing"))?,
        );
    }
    if sha256_hex(text.as_bytes()) != hash {
        return Err(format!(
            "the {} parts do not match their hash",
            tags::ORIGINAL_GROUPS
        ));
    }
    decode_groups(&text)
}

fn map_json(map: &GroupMap) -> Value {
    json!(map)
}

fn check_group_name(name: &str) -> Result<(), ActionError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with("sg-")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ActionError::InvalidParams(format!(
            "isolation_group_name {name:?} is not a valid security group name"
        )))
    }
}

/// Sets the groups of one interface: `ModifyInstanceAttribute` when it is the instance's only
/// interface (AWS refuses that call for instances with several), else
/// `ModifyNetworkInterfaceAttribute`. Under dry-run the call carries `DryRun=true`.
async fn set_groups(
    ec2: &aws_sdk_ec2::Client,
    execute: bool,
    instance_id: &str,
    single_interface: bool,
    eni: &str,
    groups: &[String],
) -> Result<ApiCall, ActionError> {
    if single_interface {
        let params = json!({"InstanceId": instance_id, "Groups": groups});
        let result = ec2
            .modify_instance_attribute()
            .instance_id(instance_id)
            .set_groups(Some(groups.to_vec()))
            .dry_run(!execute)
            .send()
            .await;
        Ok(ec2_change(execute, "ModifyInstanceAttribute", params, result)?.0)
    } else {
        let params = json!({"NetworkInterfaceId": eni, "Groups": groups});
        let result = ec2
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .set_groups(Some(groups.to_vec()))
            .dry_run(!execute)
            .send()
            .await;
        Ok(ec2_change(execute, "ModifyNetworkInterfaceAttribute", params, result)?.0)
    }
}

/// The planned form of [`set_groups`] when a group does not exist yet (dry-run).
fn planned_set_groups(instance_id: &str, single: bool, eni: &str, group: &str) -> ApiCall {
    if single {
        planned(
            "ec2",
            "ModifyInstanceAttribute",
            json!({"InstanceId": instance_id, "Groups": [group]}),
        )
    } else {
        planned(
            "ec2",
            "ModifyNetworkInterfaceAttribute",
            json!({"NetworkInterfaceId": eni, "Groups": [group]}),
        )
    }
}

/// A vigil-managed group found in the VPC.
struct ManagedGroup {
    id: String,
    rule_count: usize,
}

/// Finds the isolation and untrack groups of `vpc` by name.
async fn find_groups(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    names: [&str; 2],
    calls: &mut Vec<ApiCall>,
) -> Result<[Option<ManagedGroup>; 2], ActionError> {
    let out = check(
        "DescribeSecurityGroups",
        ec2.describe_security_groups()
            .filters(filter("vpc-id", &[vpc]))
            .filters(filter("group-name", &names))
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeSecurityGroups",
        json!({"Filters": {"vpc-id": [vpc], "group-name": names}}),
        request_id(&out),
    ));
    let find = |name: &str| {
        out.security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name) && g.vpc_id() == Some(vpc))
            .and_then(|g| {
                Some(ManagedGroup {
                    id: g.group_id()?.to_string(),
                    rule_count: g.ip_permissions().len() + g.ip_permissions_egress().len(),
                })
            })
    };
    Ok([find(names[0]), find(names[1])])
}

/// Creates a security group for the case; `None` under dry-run (the call is checked).
async fn create_group(
    ec2: &aws_sdk_ec2::Client,
    env: &StepEnv<'_>,
    vpc: &str,
    name: &str,
    description: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<Option<String>, ActionError> {
    let (call, out) = ec2_change(
        env.execute,
        "CreateSecurityGroup",
        json!({"GroupName": name, "VpcId": vpc, "Description": description}),
        ec2.create_security_group()
            .group_name(name)
            .vpc_id(vpc)
            .description(description)
            .tag_specifications(tag_spec(
                ResourceType::SecurityGroup,
                &[
                    (tags::MANAGED, "true"),
                    (tags::CASE, env.case_id),
                    ("Name", name),
                ],
            ))
            .dry_run(!env.execute)
            .send()
            .await,
    )?;
    calls.push(call);
    Ok(out.and_then(|o| o.group_id().map(str::to_string)))
}

fn all_traffic(v4: bool, v6: bool) -> IpPermission {
    let mut p = IpPermission::builder().ip_protocol("-1");
    if v4 {
        p = p.ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build());
    }
    if v6 {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build());
    }
    p.build()
}

/// Makes the untrack group allow all traffic both ways (IPv4 egress is there by default).
async fn open_untrack_group(
    ec2: &aws_sdk_ec2::Client,
    group: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<(), ActionError> {
    let out = check(
        "AuthorizeSecurityGroupIngress",
        ec2.authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(all_traffic(true, true))
            .send()
            .await,
    )?;
    calls.push(made("ec2", "AuthorizeSecurityGroupIngress", json!({"GroupId": group, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": ["0.0.0.0/0"], "Ipv6Ranges": ["::/0"]}]}), request_id(&out)));
    let out = check(
        "AuthorizeSecurityGroupEgress",
        ec2.authorize_security_group_egress()
            .group_id(group)
            .ip_permissions(all_traffic(false, true))
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "AuthorizeSecurityGroupEgress",
        json!({"GroupId": group, "IpPermissions": [{"IpProtocol": "-1", "Ipv6Ranges": ["::/0"]}]}),
        request_id(&out),
    ));
    Ok(())
}

/// Removes the default allow-all egress rule of a new isolation group.
async fn close_isolation_group(
    ec2: &aws_sdk_ec2::Client,
    group: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<(), ActionError> {
    let out = check(
        "RevokeSecurityGroupEgress",
        ec2.revoke_security_group_egress()
            .group_id(group)
            .ip_permissions(all_traffic(true, false))
            .send()
            .await,
    )?;
    calls.push(made("ec2", "RevokeSecurityGroupEgress", json!({"GroupId": group, "IpPermissions": [{"IpProtocol": "-1", "IpRanges": ["0.0.0.0/0"]}]}), request_id(&out)));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ec2.isolate_instance
// ---------------------------------------------------------------------------------------

static ISOLATE_INFO: ActionInfo = ActionInfo {
    name: "ec2.isolate_instance",
    summary: "Isolate an instance: move every interface to an allow-all group (existing flows \
              become untracked), then to a group with no rules; the original groups are kept \
              in a tag for release",
    params: &[
        ParamDoc {
            name: "instance_id",
            required: true,
            description: "The instance to isolate (i-...)",
        },
        ParamDoc {
            name: "isolation_group_name",
            required: false,
            description: "Name of the no-rules group per VPC (default from the deployment, \
                          `vigil-isolation`); the allow-all group is `<name>-untrack`",
        },
    ],
    example: "- id: isolate\n  action: ec2.isolate_instance\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "Security groups per interface before and after; the original groups also go to \
              the instance's vigil:original-groups tag and to evidence",
};

const ISOLATE_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:CreateTags",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
];

/// `ec2.isolate_instance`.
pub struct IsolateInstance {
    ctx: AwsContext,
    default_group: String,
}

impl IsolateInstance {
    pub fn new(ctx: AwsContext, default_group: String) -> Self {
        IsolateInstance { ctx, default_group }
    }

    fn group_name<'a>(&'a self, params: &'a Params) -> Result<&'a str, ActionError> {
        let name = optional_str(params, "isolation_group_name")?.unwrap_or(&self.default_group);
        check_group_name(name)?;
        Ok(name)
    }
}

#[async_trait::async_trait]
impl Action for IsolateInstance {
    fn info(&self) -> &'static ActionInfo {
        &ISOLATE_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        ISOLATE_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        ISOLATE_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        let name = self
            .group_name(params)
            .unwrap_or(&self.default_group)
            .to_string();
        vec![
            format!("aws ec2 describe-instances --instance-ids {id} --query 'Reservations[].Instances[].[VpcId,NetworkInterfaces[].[NetworkInterfaceId,Groups[].GroupId]]'"),
            format!("aws ec2 create-security-group --group-name {name}-untrack --vpc-id <vpc-id> --description 'vigil: allow-all, untracks existing flows'"),
            "aws ec2 authorize-security-group-ingress --group-id <untrack-sg> --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}],Ipv6Ranges=[{CidrIpv6=::/0}]'".to_string(),
            "aws ec2 authorize-security-group-egress --group-id <untrack-sg> --ip-permissions 'IpProtocol=-1,Ipv6Ranges=[{CidrIpv6=::/0}]'".to_string(),
            format!("aws ec2 create-security-group --group-name {name} --vpc-id <vpc-id> --description 'vigil: isolation, no rules'"),
            "aws ec2 revoke-security-group-egress --group-id <isolation-sg> --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]'".to_string(),
            format!("aws ec2 create-tags --resources {id} --tags 'Key=vigil:original-groups,Value=<eni-id>:<sg-id>,...'"),
            "aws ec2 modify-network-interface-attribute --network-interface-id <eni-id> --groups <untrack-sg>   # each interface".to_string(),
            "aws ec2 modify-network-interface-attribute --network-interface-id <eni-id> --groups <isolation-sg>   # each interface".to_string(),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let iso_name = self.group_name(params)?;
        let untrack_name = format!("{iso_name}-untrack");
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        if matches!(state.state_name(), "terminated" | "shutting-down") {
            return Err(ActionError::Failed(format!(
                "instance {id} is {}",
                state.state_name()
            )));
        }
        let vpc = state
            .vpc_id()
            .ok_or_else(|| ActionError::Failed(format!("instance {id} is not in a VPC")))?
            .to_string();
        let current = groups_by_eni(&ec2, &state, &mut calls).await?;
        if current.is_empty() {
            return Err(ActionError::Failed(format!(
                "instance {id} has no network interface"
            )));
        }
        let [iso, untrack] = find_groups(&ec2, &vpc, [iso_name, &untrack_name], &mut calls).await?;
        let vigil_groups: Vec<&str> = [&iso, &untrack]
            .iter()
            .filter_map(|g| g.as_ref().map(|g| g.id.as_str()))
            .collect();
        let originals = originals(&state, &current, &vigil_groups)?;

        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"groups": map_json(&current)});
        if let Some(iso) = &iso {
            if current.values().all(|g| g.len() == 1 && g[0] == iso.id) {
                report.calls = calls;
                report.after = report.before.clone();
                report.outputs = outputs(
                    id,
                    &vpc,
                    Some(&iso.id),
                    untrack.as_ref().map(|g| g.id.as_str()),
                    &originals,
                );
                return Ok(report);
            }
        }
        env.guard.allow_change(id, &state.tags)?;

        let untrack_id = match &untrack {
            Some(g) => Some(g.id.clone()),
            None => {
                let created = create_group(
                    &ec2,
                    env,
                    &vpc,
                    &untrack_name,
                    "vigil isolation step 1: allows all traffic so existing flows become untracked",
                    &mut calls,
                )
                .await?;
                match &created {
                    Some(g) => open_untrack_group(&ec2, g, &mut calls).await?,
                    None => calls.push(planned("ec2", "AuthorizeSecurityGroupIngress", json!({"GroupId": "<untrack group>", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": ["0.0.0.0/0"], "Ipv6Ranges": ["::/0"]}]}))),
                }
                created
            }
        };
        let iso_id = match &iso {
            Some(g) => {
                if g.rule_count > 0 {
                    report.note = Some(format!(
                        "isolation group {} ({iso_name}) has {} rule(s): the instance is not fully isolated until they are removed",
                        g.id, g.rule_count
                    ));
                }
                Some(g.id.clone())
            }
            None => {
                let created = create_group(
                    &ec2,
                    env,
                    &vpc,
                    iso_name,
                    "vigil isolation: no rules",
                    &mut calls,
                )
                .await?;
                match &created {
                    Some(g) => close_isolation_group(&ec2, g, &mut calls).await?,
                    None => calls.push(planned("ec2", "RevokeSecurityGroupEgress", json!({"GroupId": "<isolation group>", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": ["0.0.0.0/0"]}]}))),
                }
                created
            }
        };

        let mut record_tags = original_group_tags(&originals);
        record_tags.push((tags::ISOLATED.to_string(), env.case_id.to_string()));
        let (call, _) = ec2_change(
            env.execute,
            "CreateTags",
            json!({"Resources": [id], "Tags": crate::common::tags_json(&record_tags)}),
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(
                    record_tags.iter().map(|(k, v)| ec2_tag(k, v)).collect(),
                ))
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);

        let single = current.len() == 1;
        for (target, placeholder) in [
            (&untrack_id, "<untrack group>"),
            (&iso_id, "<isolation group>"),
        ] {
            for eni in current.keys() {
                let call = match target {
                    Some(g) => {
                        set_groups(&ec2, env.execute, id, single, eni, std::slice::from_ref(g))
                            .await?
                    }
                    None => planned_set_groups(id, single, eni, placeholder),
                };
                calls.push(call);
            }
        }
        report.outputs = outputs(
            id,
            &vpc,
            iso_id.as_deref(),
            untrack_id.as_deref(),
            &originals,
        );
        if !env.execute {
            report.outcome = Outcome::Planned;
            report.calls = calls;
            return Ok(report);
        }
        let hash = store_json(
            env,
            format!("{id}-original-groups.json"),
            Some(id.to_string()),
            "ec2:DescribeInstances by ec2.isolate_instance".to_string(),
            &json!({"InstanceId": id, "OriginalGroups": map_json(&originals), "RecordedAt": env.now.to_rfc3339()}),
        )?;
        report.evidence.push(hash);
        let after = describe_instance(&ec2, id, &mut calls).await?;
        report.after = json!({"groups": map_json(&groups_by_eni(&ec2, &after, &mut calls).await?)});
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id.to_string());
        report.calls = calls;
        Ok(report)
    }
}

/// The groups to restore on release: the recorded ones when the instance is already in
/// vigil's groups (a run stopped half-way), else the current ones.
fn originals(
    state: &InstanceState,
    current: &GroupMap,
    vigil_groups: &[&str],
) -> Result<GroupMap, ActionError> {
    let in_vigil_groups = current
        .values()
        .flatten()
        .all(|g| vigil_groups.contains(&g.as_str()));
    if in_vigil_groups {
        if let Some(recorded) = original_groups_from_tags(&state.tags) {
            return recorded
                .map_err(|e| ActionError::Failed(format!("instance {}: {e}", state.id())));
        }
    }
    Ok(current.clone())
}

fn outputs(
    id: &str,
    vpc: &str,
    iso: Option<&str>,
    untrack: Option<&str>,
    originals: &GroupMap,
) -> serde_json::Map<String, Value> {
    object(json!({
        "instance_id": id,
        "vpc_id": vpc,
        "isolation_group_id": iso,
        "untrack_group_id": untrack,
        "original_groups": map_json(originals),
    }))
}

// ---------------------------------------------------------------------------------------
// ec2.release_isolation
// ---------------------------------------------------------------------------------------

static RELEASE_INFO: ActionInfo = ActionInfo {
    name: "ec2.release_isolation",
    summary: "Restore the security groups an instance had before ec2.isolate_instance (from \
              its vigil:original-groups tag)",
    params: &[ParamDoc {
        name: "instance_id",
        required: true,
        description: "The isolated instance (i-...)",
    }],
    example: "- id: release\n  action: ec2.release_isolation\n  params:\n    instance_id: i-0123456789abcdef0\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "Security groups per interface before and after",
};

const RELEASE_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:DeleteTags",
];

/// `ec2.release_isolation`.
pub struct ReleaseIsolation {
    ctx: AwsContext,
}

impl ReleaseIsolation {
    pub fn new(ctx: AwsContext) -> Self {
        ReleaseIsolation { ctx }
    }
}

#[async_trait::async_trait]
impl Action for ReleaseIsolation {
    fn info(&self) -> &'static ActionInfo {
        &RELEASE_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        RELEASE_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        RELEASE_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        vec![
            format!("aws ec2 describe-tags --filters Name=resource-id,Values={id} Name=key,Values=vigil:original-groups"),
            "aws ec2 modify-network-interface-attribute --network-interface-id <eni-id> --groups <original sg-ids>   # each interface".to_string(),
            format!("aws ec2 delete-tags --resources {id} --tags Key=vigil:original-groups Key=vigil:isolated"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let current = groups_by_eni(&ec2, &state, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"groups": map_json(&current)});
        report.outputs = object(json!({"instance_id": id}));
        let Some(recorded) = original_groups_from_tags(&state.tags) else {
            report.note = Some(format!(
                "instance {id} has no {} tag: it was not isolated by vigil or was already released",
                tags::ORIGINAL_GROUPS
            ));
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        };
        let recorded = recorded.map_err(|e| ActionError::Failed(format!("instance {id}: {e}")))?;
        report
            .outputs
            .insert("restored_groups".into(), map_json(&recorded));
        env.guard.allow_change(id, &state.tags)?;
        let single = current.len() == 1;
        let mut missing = Vec::new();
        for (eni, groups) in &recorded {
            if !current.contains_key(eni) {
                missing.push(eni.clone());
                continue;
            }
            let mut want = groups.clone();
            want.sort();
            let mut have = current[eni].clone();
            have.sort();
            if want != have {
                calls.push(set_groups(&ec2, env.execute, id, single, eni, groups).await?);
            }
        }
        if !missing.is_empty() {
            report.note = Some(format!(
                "interfaces no longer attached, not restored: {}",
                missing.join(", ")
            ));
        }
        let mut keys: Vec<String> = state
            .tags
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| {
                k == tags::ISOLATED
                    || k == tags::ORIGINAL_GROUPS
                    || k.starts_with(&format!("{}:", tags::ORIGINAL_GROUPS))
            })
            .collect();
        keys.sort();
        let (call, _) = ec2_change(
            env.execute,
            "DeleteTags",
            json!({"Resources": [id], "Tags": keys}),
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(
                    keys.iter()
                        .map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build())
                        .collect(),
                ))
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        if !env.execute {
            report.outcome = Outcome::Planned;
            report.calls = calls;
            return Ok(report);
        }
        let after = describe_instance(&ec2, id, &mut calls).await?;
        report.after = json!({"groups": map_json(&groups_by_eni(&ec2, &after, &mut calls).await?)});
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id.to_string());
        report.calls = calls;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_map_round_trips() {
        let mut map = GroupMap::new();
        map.insert("eni-1".into(), vec!["sg-a".into(), "sg-b".into()]);
        map.insert("eni-2".into(), vec!["sg-c".into()]);
        let text = encode_groups(&map);
        assert_eq!(text, "eni-1:sg-a,sg-b;eni-2:sg-c");
        assert_eq!(decode_groups(&text).unwrap(), map);
        assert!(decode_groups("").is_err());
        assert!(decode_groups("eni-1").is_err());
        assert!(decode_groups("eni-1:x-1").is_err());
    }

    #[test]
    fn long_group_maps_are_split_and_hashed() {
        let mut map = GroupMap::new();
        for i in 0..8 {
            map.insert(
                format!("eni-{i:017x}"),
                (0..5).map(|g| format!("sg-{:017x}", i * 10 + g)).collect(),
            );
        }
        let tags = original_group_tags(&map);
        assert!(tags.len() > 2, "{tags:?}");
        assert!(tags.iter().all(|(_, v)| v.len() <= TAG_VALUE_MAX));
        assert!(tags[0].1.starts_with("sha256="));
        assert_eq!(original_groups_from_tags(&tags).unwrap().unwrap(), map);
        // A tampered part fails the hash check.
        let mut bad = tags.clone();
        bad[1].1.replace_range(0..3, "eni");
        bad[1].1 = bad[1].1.replacen("sg-", "sg-f", 1);
        assert!(original_groups_from_tags(&bad).unwrap().is_err());
        // Short maps fit one tag.
        let mut small = GroupMap::new();
        small.insert("eni-1".into(), vec!["sg-a".into()]);
        assert_eq!(
            original_group_tags(&small),
            vec![(tags::ORIGINAL_GROUPS.to_string(), "eni-1:sg-a".to_string())]
        );
        assert!(original_groups_from_tags(&[]).is_none());
    }

    #[test]
    fn group_names_are_checked() {
        assert!(check_group_name("vigil-isolation").is_ok());
        assert!(check_group_name("").is_err());
        assert!(check_group_name("sg-123").is_err());
        assert!(check_group_name("bad\nname").is_err());
    }
}
