//! Network containment: revoke one security-group ingress rule, deny an address in a network
//! ACL, add an address to a WAF IP set.

use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, RuleAction};
use aws_sdk_wafv2::types::Scope;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ipnet::IpNet;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    check, cli_value, dry_run_checked, ec2_tags, int_param, made, optional_str, planned,
    request_id, required_str, resource_id, sdk_config,
};
use crate::ActionOptions;

/// Every network action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(RevokeIngressRule { ctx: ctx.clone() }),
        Arc::new(NaclDenyIp { ctx: ctx.clone() }),
        Arc::new(AddIpToSet { ctx: ctx.clone() }),
    ]
}

/// A CIDR parameter in canonical form (`203.0.113.7` → `203.0.113.7/32`; host bits cleared).
fn cidr_param(params: &Params, name: &str) -> Result<IpNet, ActionError> {
    let text = required_str(params, name)?;
    crate::cloudtrail::parse_ip_or_cidr(text)
        .map(|n| n.trunc())
        .ok_or_else(|| {
            ActionError::InvalidParams(format!(
                "parameter `{name}` = {text:?} is not an IP address or CIDR"
            ))
        })
}

/// The same network, however it is written (`10.0.0.1` and `10.0.0.1/32` are equal).
fn same_cidr(text: Option<&str>, net: &IpNet) -> bool {
    text.and_then(crate::cloudtrail::parse_ip_or_cidr)
        .is_some_and(|n| n.trunc() == *net)
}

fn report_with(outcome: Outcome, calls: Vec<ApiCall>, before: Value, after: Value) -> StepReport {
    let mut report = StepReport::new(outcome);
    report.calls = calls;
    report.before = before;
    report.after = after;
    report
}

// ---------------------------------------------------------------------------------------
// ec2.revoke_ingress_rule
// ---------------------------------------------------------------------------------------

/// `ec2.revoke_ingress_rule`: revokes exactly one ingress rule, named by its id or by
/// protocol, ports and CIDR. Other rules, even overlapping ones, are left alone.
pub struct RevokeIngressRule {
    ctx: AwsContext,
}

static REVOKE_INGRESS_RULE: ActionInfo = ActionInfo {
    name: "ec2.revoke_ingress_rule",
    summary: "Revoke exactly one security-group ingress rule (by rule id, or protocol+ports+CIDR)",
    params: &[
        ParamDoc { name: "group_id", required: true, description: "The security group (sg-...)" },
        ParamDoc { name: "security_group_rule_id", required: false, description: "The rule (sgr-...)" },
        ParamDoc { name: "protocol", required: false, description: "tcp, udp, icmp, a number, or -1/all (with the ports and cidr)" },
        ParamDoc { name: "from_port", required: false, description: "First port (-1 for all protocols)" },
        ParamDoc { name: "to_port", required: false, description: "Last port" },
        ParamDoc { name: "cidr", required: false, description: "Source IPv4 or IPv6 CIDR" },
    ],
    example: "- id: close-ssh\n  action: ec2.revoke_ingress_rule\n  params:\n    group_id: \"{{ inputs.group_id }}\"\n    protocol: tcp\n    from_port: 22\n    to_port: 22\n    cidr: 0.0.0.0/0\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "the group's ingress rules before and after",
};

/// Which rule to revoke.
#[derive(Debug, Clone, PartialEq)]
enum RuleSpec {
    Id(String),
    Match {
        protocol: String,
        from: i32,
        to: i32,
        cidr: IpNet,
    },
}

/// `tcp`/`6` → `tcp`, `-1`/`all` → `-1`: the spelling DescribeSecurityGroupRules uses.
fn normalize_protocol(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        "-1" | "all" => "-1".into(),
        other => other.to_string(),
    }
}

impl RuleSpec {
    fn from_params(params: &Params) -> Result<Self, ActionError> {
        if let Some(id) = optional_str(params, "security_group_rule_id")? {
            crate::common::check_resource_id("security_group_rule_id", id, "sgr-")?;
            return Ok(RuleSpec::Id(id.to_string()));
        }
        let protocol = params
            .get("protocol")
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .ok_or_else(|| {
                ActionError::InvalidParams(
                    "give security_group_rule_id, or protocol, from_port, to_port and cidr".into(),
                )
            })?;
        let protocol = normalize_protocol(&protocol);
        let all = protocol == "-1";
        let port = |name: &str| int_param(params, name, -1, -1, 65535).map(|p| p as i32);
        let (from, to) = (port("from_port")?, port("to_port")?);
        if !all && (!params.contains_key("from_port") || !params.contains_key("to_port")) {
            return Err(ActionError::InvalidParams(format!(
                "protocol {protocol} needs from_port and to_port"
            )));
        }
        Ok(RuleSpec::Match {
            protocol,
            from,
            to,
            cidr: cidr_param(params, "cidr")?,
        })
    }

    fn matches(&self, rule: &aws_sdk_ec2::types::SecurityGroupRule) -> bool {
        if rule.is_egress() == Some(true) {
            return false;
        }
        match self {
            RuleSpec::Id(id) => rule.security_group_rule_id() == Some(id.as_str()),
            RuleSpec::Match {
                protocol,
                from,
                to,
                cidr,
            } => {
                let proto = rule.ip_protocol().map(normalize_protocol);
                let ports_match = protocol == "-1"
                    || (rule.from_port() == Some(*from) && rule.to_port() == Some(*to));
                proto.as_deref() == Some(protocol.as_str())
                    && ports_match
                    && (same_cidr(rule.cidr_ipv4(), cidr) || same_cidr(rule.cidr_ipv6(), cidr))
            }
        }
    }
}

fn rule_json(rule: &aws_sdk_ec2::types::SecurityGroupRule) -> Value {
    json!({
        "security_group_rule_id": rule.security_group_rule_id(),
        "is_egress": rule.is_egress(),
        "ip_protocol": rule.ip_protocol(),
        "from_port": rule.from_port(),
        "to_port": rule.to_port(),
        "cidr_ipv4": rule.cidr_ipv4(),
        "cidr_ipv6": rule.cidr_ipv6(),
        "prefix_list_id": rule.prefix_list_id(),
        "referenced_group_id": rule.referenced_group_info().and_then(|g| g.group_id()),
        "description": rule.description(),
    })
}

impl RevokeIngressRule {
    async fn rules(
        ec2: &aws_sdk_ec2::Client,
        group: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<aws_sdk_ec2::types::SecurityGroupRule>, ActionError> {
        let mut rules = Vec::new();
        let mut token = None;
        loop {
            let out = check(
                "DescribeSecurityGroupRules",
                ec2.describe_security_group_rules()
                    .filters(Filter::builder().name("group-id").values(group).build())
                    .set_next_token(token)
                    .send()
                    .await,
            )?;
            calls.push(made(
                "ec2",
                "DescribeSecurityGroupRules",
                json!({"Filters": [{"Name": "group-id", "Values": [group]}]}),
                request_id(&out),
            ));
            rules.extend(out.security_group_rules().iter().cloned());
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(rules);
            }
        }
    }

    async fn tags(
        ec2: &aws_sdk_ec2::Client,
        group: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "DescribeSecurityGroups",
            ec2.describe_security_groups().group_ids(group).send().await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeSecurityGroups",
            json!({"GroupIds": [group]}),
            request_id(&out),
        ));
        let sg = out
            .security_groups()
            .first()
            .ok_or_else(|| ActionError::NotFound(format!("security group {group}")))?;
        Ok(ec2_tags(sg.tags()))
    }

    fn ingress_state(group: &str, rules: &[aws_sdk_ec2::types::SecurityGroupRule]) -> Value {
        json!({
            "group_id": group,
            "ingress_rules": rules.iter().filter(|r| r.is_egress() != Some(true)).map(rule_json).collect::<Vec<_>>(),
        })
    }
}

#[async_trait::async_trait]
impl Action for RevokeIngressRule {
    fn info(&self) -> &'static ActionInfo {
        &REVOKE_INGRESS_RULE
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "ec2:DescribeSecurityGroupRules",
            "ec2:DescribeSecurityGroups",
            "ec2:RevokeSecurityGroupIngress",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let group = cli_value(params, "group_id");
        if params.contains_key("security_group_rule_id") {
            return vec![format!(
                "aws ec2 revoke-security-group-ingress --group-id {group} --security-group-rule-ids {}",
                cli_value(params, "security_group_rule_id")
            )];
        }
        vec![
            format!("aws ec2 describe-security-group-rules --filters Name=group-id,Values={group}"),
            format!(
                "aws ec2 revoke-security-group-ingress --group-id {group} --security-group-rule-ids <the sgr- id of {} {}-{} from {}>",
                cli_value(params, "protocol"),
                cli_value(params, "from_port"),
                cli_value(params, "to_port"),
                cli_value(params, "cidr")
            ),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let group = resource_id(params, "group_id", "sg-")?;
        let spec = RuleSpec::from_params(params)?;
        let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let tags = Self::tags(&ec2, group, &mut calls).await?;
        let rules = Self::rules(&ec2, group, &mut calls).await?;
        if let RuleSpec::Id(id) = &spec {
            if rules.iter().any(|r| {
                r.security_group_rule_id() == Some(id.as_str()) && r.is_egress() == Some(true)
            }) {
                return Err(ActionError::InvalidParams(format!(
                    "{id} is an egress rule, not an ingress rule"
                )));
            }
        }
        let before = Self::ingress_state(group, &rules);
        let targets: Vec<String> = rules
            .iter()
            .filter(|r| spec.matches(r))
            .filter_map(|r| r.security_group_rule_id().map(str::to_string))
            .collect();
        if targets.is_empty() {
            let mut report = report_with(Outcome::AlreadyDone, calls, before.clone(), before);
            report.note = Some(format!("{group} has no such ingress rule"));
            return Ok(report);
        }
        env.guard.allow_change(group, &tags)?;
        let revoke = json!({"GroupId": group, "SecurityGroupRuleIds": targets});
        let result = ec2
            .revoke_security_group_ingress()
            .group_id(group)
            .set_security_group_rule_ids(Some(targets.clone()))
            .dry_run(!env.execute)
            .send()
            .await;
        let call = if env.execute {
            let out = check("RevokeSecurityGroupIngress", result)?;
            made(
                "ec2",
                "RevokeSecurityGroupIngress",
                revoke,
                request_id(&out),
            )
        } else {
            dry_run_checked("RevokeSecurityGroupIngress", revoke, result)?
        };
        let changed = call.made;
        calls.push(call);
        let after = if changed {
            Self::ingress_state(group, &Self::rules(&ec2, group, &mut calls).await?)
        } else {
            before.clone()
        };
        let mut report = report_with(
            if changed {
                Outcome::Changed
            } else {
                Outcome::Planned
            },
            calls,
            before,
            after,
        );
        report
            .outputs
            .insert("revoked_rule_ids".into(), json!(targets));
        if changed {
            report.resources_changed.push(group.to_string());
        }
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// ec2.nacl_deny_ip
// ---------------------------------------------------------------------------------------

/// `ec2.nacl_deny_ip`: adds inbound and outbound deny entries for a CIDR to a network ACL,
/// numbered before its first allow entry so they take effect.
///
/// Dry-run plans the entries instead of sending `DryRun=true`: a deny entry added by an
/// endpoint that ignores the flag (moto does, for this call) would cut traffic during what the
/// operator believes is a rehearsal.
pub struct NaclDenyIp {
    ctx: AwsContext,
}

static NACL_DENY_IP: ActionInfo = ActionInfo {
    name: "ec2.nacl_deny_ip",
    summary: "Deny a CIDR in a network ACL, inbound and outbound, before its first allow entry",
    params: &[
        ParamDoc { name: "network_acl_id", required: false, description: "The network ACL (acl-...)" },
        ParamDoc { name: "subnet_id", required: false, description: "Or a subnet: its associated ACL" },
        ParamDoc { name: "cidr", required: true, description: "IPv4 or IPv6 address or CIDR to deny" },
        ParamDoc { name: "rule_number", required: false, description: "Entry number (default: lowest free below the first allow)" },
    ],
    example: "- id: deny-attacker\n  action: ec2.nacl_deny_ip\n  params:\n    subnet_id: \"{{ steps.capture.outputs.subnet_id }}\"\n    cidr: \"{{ inputs.source_ip }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the ACL's entries before and after",
};

/// The ACL's default rule number (`*`), which never counts as "the first allow".
const DEFAULT_RULE: i32 = 32767;

fn entry_json(e: &aws_sdk_ec2::types::NetworkAclEntry) -> Value {
    json!({
        "rule_number": e.rule_number(),
        "egress": e.egress(),
        "rule_action": e.rule_action().map(|a| a.as_str()),
        "protocol": e.protocol(),
        "cidr_block": e.cidr_block(),
        "ipv6_cidr_block": e.ipv6_cidr_block(),
    })
}

/// The rule number for a new deny entry in one direction: `wanted` if free, else the lowest
/// free number below the first allow entry.
fn pick_rule_number(
    entries: &[aws_sdk_ec2::types::NetworkAclEntry],
    egress: bool,
    wanted: Option<i32>,
) -> Result<i32, ActionError> {
    let direction: Vec<_> = entries
        .iter()
        .filter(|e| e.egress() == Some(egress))
        .collect();
    let used = |n: i32| direction.iter().any(|e| e.rule_number() == Some(n));
    let dir = if egress { "egress" } else { "ingress" };
    if let Some(n) = wanted {
        return if used(n) {
            Err(ActionError::InvalidParams(format!(
                "{dir} rule number {n} is already used"
            )))
        } else {
            Ok(n)
        };
    }
    let first_allow = direction
        .iter()
        .filter(|e| e.rule_action() == Some(&RuleAction::Allow))
        .filter_map(|e| e.rule_number())
        .filter(|n| *n < DEFAULT_RULE)
        .min()
        .unwrap_or(DEFAULT_RULE);
    (1..first_allow).find(|n| !used(*n)).ok_or_else(|| {
        ActionError::Failed(format!(
            "no free {dir} rule number below the first allow entry ({first_allow}); pass rule_number"
        ))
    })
}

fn has_deny(entries: &[aws_sdk_ec2::types::NetworkAclEntry], egress: bool, cidr: &IpNet) -> bool {
    entries.iter().any(|e| {
        e.egress() == Some(egress)
            && e.rule_action() == Some(&RuleAction::Deny)
            && e.protocol() == Some("-1")
            && (same_cidr(e.cidr_block(), cidr) || same_cidr(e.ipv6_cidr_block(), cidr))
    })
}

impl NaclDenyIp {
    async fn read_acl(
        ec2: &aws_sdk_ec2::Client,
        params: &Params,
        calls: &mut Vec<ApiCall>,
    ) -> Result<aws_sdk_ec2::types::NetworkAcl, ActionError> {
        let req = ec2.describe_network_acls();
        let (req, request, value) = match (
            optional_str(params, "network_acl_id")?,
            optional_str(params, "subnet_id")?,
        ) {
            (Some(acl), _) => {
                crate::common::check_resource_id("network_acl_id", acl, "acl-")?;
                (
                    req.network_acl_ids(acl),
                    json!({"NetworkAclIds": [acl]}),
                    acl,
                )
            }
            (None, Some(subnet)) => {
                crate::common::check_resource_id("subnet_id", subnet, "subnet-")?;
                let filter = Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet)
                    .build();
                let request =
                    json!({"Filters": [{"Name": "association.subnet-id", "Values": [subnet]}]});
                (req.filters(filter), request, subnet)
            }
            (None, None) => {
                return Err(ActionError::InvalidParams(
                    "give network_acl_id or subnet_id".into(),
                ))
            }
        };
        let out = check("DescribeNetworkAcls", req.send().await)?;
        calls.push(made(
            "ec2",
            "DescribeNetworkAcls",
            request,
            request_id(&out),
        ));
        out.network_acls()
            .first()
            .cloned()
            .ok_or_else(|| ActionError::NotFound(format!("network ACL for {value}")))
    }

    fn state(acl: &aws_sdk_ec2::types::NetworkAcl) -> Value {
        json!({
            "network_acl_id": acl.network_acl_id(),
            "vpc_id": acl.vpc_id(),
            "entries": acl.entries().iter().map(entry_json).collect::<Vec<_>>(),
        })
    }
}

#[async_trait::async_trait]
impl Action for NaclDenyIp {
    fn info(&self) -> &'static ActionInfo {
        &NACL_DENY_IP
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec!["ec2:CreateNetworkAclEntry", "ec2:DescribeNetworkAcls"]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let acl = if params.contains_key("network_acl_id") {
            cli_value(params, "network_acl_id")
        } else {
            format!(
                "$(aws ec2 describe-network-acls --filters Name=association.subnet-id,Values={} --query 'NetworkAcls[0].NetworkAclId' --output text)",
                cli_value(params, "subnet_id")
            )
        };
        let cidr = cli_value(params, "cidr");
        ["--ingress", "--egress"]
            .iter()
            .map(|dir| {
                format!(
                    "aws ec2 create-network-acl-entry --network-acl-id {acl} {dir} --rule-number <free number below the first allow> \
                     --protocol -1 --rule-action deny --cidr-block {cidr}"
                )
            })
            .collect()
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let cidr = cidr_param(params, "cidr")?;
        let wanted = match params.get("rule_number") {
            None | Some(Value::Null) => None,
            Some(_) => Some(int_param(params, "rule_number", 1, 1, 32766)? as i32),
        };
        let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let acl = Self::read_acl(&ec2, params, &mut calls).await?;
        let acl_id = acl.network_acl_id().unwrap_or_default().to_string();
        let before = Self::state(&acl);
        let missing: Vec<bool> = [false, true]
            .into_iter()
            .filter(|eg| !has_deny(acl.entries(), *eg, &cidr))
            .collect();
        if missing.is_empty() {
            let mut report = report_with(Outcome::AlreadyDone, calls, before.clone(), before);
            report.note = Some(format!("{acl_id} already denies {cidr} both ways"));
            return Ok(report);
        }
        env.guard.allow_change(&acl_id, &ec2_tags(acl.tags()))?;
        let mut numbers = Vec::new();
        for egress in &missing {
            let number = pick_rule_number(acl.entries(), *egress, wanted)?;
            let entry = json!({"NetworkAclId": acl_id, "RuleNumber": number, "Egress": egress, "Protocol": "-1", "RuleAction": "deny",
                "CidrBlock": matches!(cidr, IpNet::V4(_)).then(|| cidr.to_string()),
                "Ipv6CidrBlock": matches!(cidr, IpNet::V6(_)).then(|| cidr.to_string())});
            numbers.push(json!({"egress": egress, "rule_number": number}));
            if !env.execute {
                calls.push(planned("ec2", "CreateNetworkAclEntry", entry));
                continue;
            }
            let mut req = ec2
                .create_network_acl_entry()
                .network_acl_id(&acl_id)
                .rule_number(number)
                .egress(*egress)
                .protocol("-1")
                .rule_action(RuleAction::Deny);
            req = match cidr {
                IpNet::V4(_) => req.cidr_block(cidr.to_string()),
                IpNet::V6(_) => req.ipv6_cidr_block(cidr.to_string()),
            };
            let out = check("CreateNetworkAclEntry", req.send().await)?;
            calls.push(made(
                "ec2",
                "CreateNetworkAclEntry",
                entry,
                request_id(&out),
            ));
        }
        let after = if env.execute {
            Self::state(&Self::read_acl(&ec2, params, &mut calls).await?)
        } else {
            before.clone()
        };
        let mut report = report_with(
            if env.execute {
                Outcome::Changed
            } else {
                Outcome::Planned
            },
            calls,
            before,
            after,
        );
        report
            .outputs
            .insert("network_acl_id".into(), json!(acl_id));
        report.outputs.insert("entries".into(), json!(numbers));
        if env.execute {
            report.resources_changed.push(acl_id);
        }
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// wafv2.add_ip_to_set
// ---------------------------------------------------------------------------------------

/// Most addresses a WAF IP set holds.
const IP_SET_LIMIT: usize = 10_000;

/// `wafv2.add_ip_to_set`: adds a CIDR to a WAF IP set (used by a block rule), with the
/// set's lock token so a concurrent edit is not lost.
pub struct AddIpToSet {
    ctx: AwsContext,
}

static ADD_IP_TO_SET: ActionInfo = ActionInfo {
    name: "wafv2.add_ip_to_set",
    summary: "Add an address or CIDR to a WAF IP set (GetIPSet, then UpdateIPSet with its lock token)",
    params: &[
        ParamDoc { name: "ip_set_name", required: true, description: "The IP set's name" },
        ParamDoc { name: "ip_set_id", required: true, description: "The IP set's id" },
        ParamDoc { name: "scope", required: true, description: "REGIONAL or CLOUDFRONT" },
        ParamDoc { name: "cidr", required: true, description: "IPv4 or IPv6 address or CIDR" },
    ],
    example: "- id: waf-block\n  action: wafv2.add_ip_to_set\n  params:\n    ip_set_name: vigil-blocklist\n    ip_set_id: 1a2b3c4d-5678-90ab-cdef-1234567890ab\n    scope: REGIONAL\n    cidr: \"{{ inputs.source_ip }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the IP set's addresses before and after",
};

struct IpSetState {
    arn: String,
    description: Option<String>,
    addresses: Vec<String>,
    version: String,
    lock_token: String,
}

impl AddIpToSet {
    async fn read(
        waf: &aws_sdk_wafv2::Client,
        name: &str,
        id: &str,
        scope: &Scope,
        calls: &mut Vec<ApiCall>,
    ) -> Result<IpSetState, ActionError> {
        let out = check(
            "GetIPSet",
            waf.get_ip_set()
                .name(name)
                .id(id)
                .scope(scope.clone())
                .send()
                .await,
        )?;
        calls.push(made(
            "wafv2",
            "GetIPSet",
            json!({"Name": name, "Id": id, "Scope": scope.as_str()}),
            request_id(&out),
        ));
        let set = out
            .ip_set()
            .ok_or_else(|| ActionError::NotFound(format!("WAF IP set {name}")))?;
        Ok(IpSetState {
            arn: set.arn().to_string(),
            description: set.description().map(str::to_string),
            addresses: set.addresses().to_vec(),
            version: set.ip_address_version().as_str().to_string(),
            lock_token: out.lock_token().unwrap_or_default().to_string(),
        })
    }

    async fn tags(
        waf: &aws_sdk_wafv2::Client,
        arn: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "ListTagsForResource",
            waf.list_tags_for_resource().resource_arn(arn).send().await,
        )?;
        calls.push(made(
            "wafv2",
            "ListTagsForResource",
            json!({"ResourceARN": arn}),
            request_id(&out),
        ));
        Ok(out
            .tag_info_for_resource()
            .map(|t| {
                t.tag_list()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn scope(params: &Params) -> Result<Scope, ActionError> {
        match required_str(params, "scope")?.to_ascii_uppercase().as_str() {
            "REGIONAL" => Ok(Scope::Regional),
            "CLOUDFRONT" => Ok(Scope::Cloudfront),
            other => Err(ActionError::InvalidParams(format!(
                "parameter `scope` = {other:?} must be REGIONAL or CLOUDFRONT"
            ))),
        }
    }

    /// UpdateIPSet with the lock token; on a concurrent edit (WAFOptimisticLockException)
    /// re-reads the set and tries again, up to three times.
    async fn update(
        waf: &aws_sdk_wafv2::Client,
        (name, id, scope): (&str, &str, &Scope),
        cidr: &IpNet,
        mut state: IpSetState,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(), ActionError> {
        for attempt in 1..=3 {
            let mut addresses = state.addresses.clone();
            addresses.push(cidr.to_string());
            let result = waf
                .update_ip_set()
                .name(name)
                .id(id)
                .scope(scope.clone())
                .set_description(state.description.clone())
                .set_addresses(Some(addresses.clone()))
                .lock_token(&state.lock_token)
                .send()
                .await;
            let params = json!({"Name": name, "Id": id, "Scope": scope.as_str(), "Addresses": addresses, "LockToken": state.lock_token});
            match result {
                Err(e) if e.code() == Some("WAFOptimisticLockException") && attempt < 3 => {
                    state = Self::read(waf, name, id, scope, calls).await?;
                    if state.addresses.iter().any(|a| same_cidr(Some(a), cidr)) {
                        return Ok(());
                    }
                }
                other => {
                    let out = check("UpdateIPSet", other)?;
                    calls.push(made("wafv2", "UpdateIPSet", params, request_id(&out)));
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Action for AddIpToSet {
    fn info(&self) -> &'static ActionInfo {
        &ADD_IP_TO_SET
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "wafv2:GetIPSet",
            "wafv2:ListTagsForResource",
            "wafv2:UpdateIPSet",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let (name, id, scope) = (
            cli_value(params, "ip_set_name"),
            cli_value(params, "ip_set_id"),
            cli_value(params, "scope"),
        );
        vec![
            format!("aws wafv2 get-ip-set --name {name} --id {id} --scope {scope}"),
            format!(
                "aws wafv2 update-ip-set --name {name} --id {id} --scope {scope} --lock-token <LockToken> \
                 --addresses <current addresses> {}",
                cli_value(params, "cidr")
            ),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = required_str(params, "ip_set_name")?;
        let id = required_str(params, "ip_set_id")?;
        let scope = Self::scope(params)?;
        let cidr = cidr_param(params, "cidr")?;
        // CloudFront-scoped sets live in us-east-1 whatever the step's region.
        let region = if scope == Scope::Cloudfront {
            Some("us-east-1")
        } else {
            env.region
        };
        let cfg = self
            .ctx
            .config_for(env.account, region)
            .await
            .map_err(|e| ActionError::Failed(e.to_string()))?;
        let waf = aws_sdk_wafv2::Client::new(&cfg);
        let mut calls = Vec::new();
        let state = Self::read(&waf, name, id, &scope, &mut calls).await?;
        let before = json!({"ip_set_arn": state.arn, "ip_address_version": state.version, "addresses": state.addresses});
        if state.addresses.iter().any(|a| same_cidr(Some(a), &cidr)) {
            let mut report = report_with(Outcome::AlreadyDone, calls, before.clone(), before);
            report.note = Some(format!("{cidr} is already in {name}"));
            return Ok(report);
        }
        let family_ok = matches!(
            (state.version.as_str(), cidr),
            ("IPV4", IpNet::V4(_)) | ("IPV6", IpNet::V6(_))
        );
        if !family_ok {
            return Err(ActionError::InvalidParams(format!(
                "{cidr} does not fit the {} set {name}",
                state.version
            )));
        }
        if state.addresses.len() >= IP_SET_LIMIT {
            return Err(ActionError::Failed(format!(
                "IP set {name} is full ({IP_SET_LIMIT} addresses)"
            )));
        }
        let tags = Self::tags(&waf, &state.arn, &mut calls).await?;
        env.guard.allow_change(&state.arn, &tags)?;
        let arn = state.arn.clone();
        if !env.execute {
            let mut addresses = state.addresses.clone();
            addresses.push(cidr.to_string());
            calls.push(planned("wafv2", "UpdateIPSet", json!({"Name": name, "Id": id, "Scope": scope.as_str(), "Addresses": addresses, "LockToken": state.lock_token})));
            return Ok(report_with(Outcome::Planned, calls, before.clone(), before));
        }
        Self::update(&waf, (name, id, &scope), &cidr, state, &mut calls).await?;
        let now = Self::read(&waf, name, id, &scope, &mut calls).await?;
        let after = json!({"ip_set_arn": now.arn, "ip_address_version": now.version, "addresses": now.addresses});
        let mut report = report_with(Outcome::Changed, calls, before, after);
        report.resources_changed.push(arn);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::NetworkAclEntry;

    fn entry(n: i32, egress: bool, action: RuleAction, cidr: &str) -> NetworkAclEntry {
        NetworkAclEntry::builder()
            .rule_number(n)
            .egress(egress)
            .rule_action(action)
            .protocol("-1")
            .cidr_block(cidr)
            .build()
    }

    #[test]
    fn deny_entries_go_below_the_first_allow() {
        let entries = vec![
            entry(1, false, RuleAction::Deny, "198.51.100.0/24"),
            entry(100, false, RuleAction::Allow, "0.0.0.0/0"),
            entry(DEFAULT_RULE, false, RuleAction::Deny, "0.0.0.0/0"),
            entry(DEFAULT_RULE, true, RuleAction::Deny, "0.0.0.0/0"),
        ];
        assert_eq!(pick_rule_number(&entries, false, None).unwrap(), 2);
        assert_eq!(pick_rule_number(&entries, true, None).unwrap(), 1);
        assert!(pick_rule_number(&entries, false, Some(1)).is_err());
        assert_eq!(pick_rule_number(&entries, false, Some(50)).unwrap(), 50);
        let full = vec![entry(1, false, RuleAction::Allow, "0.0.0.0/0")];
        assert!(pick_rule_number(&full, false, None).is_err());
    }

    #[test]
    fn identical_denies_are_recognised_however_written() {
        let entries = vec![entry(5, false, RuleAction::Deny, "203.0.113.7/32")];
        let net: IpNet = "203.0.113.7/32".parse().unwrap();
        assert!(has_deny(&entries, false, &net));
        assert!(!has_deny(&entries, true, &net));
        assert!(!has_deny(
            &entries,
            false,
            &"203.0.113.0/24".parse().unwrap()
        ));
        assert!(same_cidr(Some("203.0.113.7"), &net));
    }

    #[test]
    fn rule_specs_match_only_the_named_rule() {
        let p: Params = serde_json::from_value(
            json!({"protocol": "6", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}),
        )
        .unwrap();
        let spec = RuleSpec::from_params(&p).unwrap();
        let rule = |proto: &str, from: i32, cidr: &str, egress: bool| {
            aws_sdk_ec2::types::SecurityGroupRule::builder()
                .ip_protocol(proto)
                .from_port(from)
                .to_port(from)
                .cidr_ipv4(cidr)
                .is_egress(egress)
                .build()
        };
        assert!(spec.matches(&rule("tcp", 22, "0.0.0.0/0", false)));
        assert!(!spec.matches(&rule("tcp", 22, "0.0.0.0/0", true)));
        assert!(!spec.matches(&rule("tcp", 3389, "0.0.0.0/0", false)));
        assert!(!spec.matches(&rule("udp", 22, "0.0.0.0/0", false)));
        assert!(!spec.matches(&rule("tcp", 22, "10.0.0.0/8", false)));
        let missing: Params =
            serde_json::from_value(json!({"protocol": "tcp", "cidr": "0.0.0.0/0"})).unwrap();
        assert!(RuleSpec::from_params(&missing).is_err());
        let all: Params =
            serde_json::from_value(json!({"protocol": "all", "cidr": "0.0.0.0/0"})).unwrap();
        assert!(RuleSpec::from_params(&all)
            .unwrap()
            .matches(&rule("-1", -1, "0.0.0.0/0", false)));
    }
}
