//! The regional half of the compliant baseline (see `fixture`).

use std::collections::BTreeMap;

use super::fixture::{days_ago, ACCOUNT, LOG_GROUP, REGION, TRAIL_BUCKET};
use crate::snapshot::*;

pub fn good_network() -> NetworkData {
    NetworkData {
        vpcs: Collected::Ok(vec![Vpc {
            vpc_id: "vpc-1".into(),
            is_default: false,
            cidr_block: Some("10.0.0.0/16".into()),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            owner_id: Some(ACCOUNT.into()),
        }]),
        subnets: Collected::Ok(vec![Subnet {
            subnet_id: "subnet-1".into(),
            subnet_arn: None,
            vpc_id: "vpc-1".into(),
            map_public_ip_on_launch: false,
            default_for_az: false,
        }]),
        security_groups: Collected::Ok(vec![
            SecurityGroup {
                group_id: "sg-default".into(),
                group_name: "default".into(),
                vpc_id: Some("vpc-1".into()),
                description: "default VPC security group".into(),
                ..Default::default()
            },
            SecurityGroup {
                group_id: "sg-web".into(),
                group_name: "web".into(),
                vpc_id: Some("vpc-1".into()),
                description: "web".into(),
                ip_permissions: vec![
                    IpPermission {
                        ip_protocol: "tcp".into(),
                        from_port: Some(443),
                        to_port: Some(443),
                        ip_ranges: vec!["0.0.0.0/0".into()],
                        ipv6_ranges: vec!["::/0".into()],
                        ..Default::default()
                    },
                    IpPermission {
                        ip_protocol: "tcp".into(),
                        from_port: Some(22),
                        to_port: Some(22),
                        ip_ranges: vec!["10.0.0.0/8".into()],
                        ..Default::default()
                    },
                ],
                ip_permissions_egress: vec![IpPermission {
                    ip_protocol: "-1".into(),
                    ip_ranges: vec!["0.0.0.0/0".into()],
                    ..Default::default()
                }],
                ..Default::default()
            },
            SecurityGroup {
                group_id: "sg-isolate".into(),
                group_name: "vigil-isolation".into(),
                vpc_id: Some("vpc-1".into()),
                description: "forensic isolation: no rules".into(),
                ..Default::default()
            },
        ]),
        network_acls: Collected::Ok(vec![NetworkAcl {
            network_acl_id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: true,
            entries: vec![
                nacl(100, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                nacl(110, "6", "allow", "10.0.0.0/8", Some((22, 22))),
                nacl(120, "6", "allow", "0.0.0.0/0", Some((32768, 65535))),
                nacl(32767, "-1", "deny", "0.0.0.0/0", None),
            ],
            subnet_ids: vec!["subnet-1".into()],
        }]),
        route_tables: Collected::Ok(vec![RouteTable {
            route_table_id: "rtb-1".into(),
            vpc_id: "vpc-1".into(),
            routes: vec![
                Route {
                    destination_cidr_block: Some("10.0.0.0/16".into()),
                    gateway_id: Some("local".into()),
                    ..Default::default()
                },
                Route {
                    destination_cidr_block: Some("10.1.2.0/24".into()),
                    vpc_peering_connection_id: Some("pcx-1".into()),
                    ..Default::default()
                },
            ],
        }]),
        vpc_peering_connections: Collected::Ok(vec![VpcPeeringConnection {
            vpc_peering_connection_id: "pcx-1".into(),
            status: "active".into(),
            requester: PeeringVpcInfo {
                vpc_id: "vpc-1".into(),
                owner_id: ACCOUNT.into(),
                region: Some(REGION.into()),
                cidr_blocks: vec!["10.0.0.0/16".into()],
            },
            accepter: PeeringVpcInfo {
                vpc_id: "vpc-2".into(),
                owner_id: ACCOUNT.into(),
                region: Some(REGION.into()),
                cidr_blocks: vec!["10.1.0.0/16".into()],
            },
        }]),
        flow_logs: Collected::Ok(vec![FlowLog {
            flow_log_id: "fl-1".into(),
            resource_id: "vpc-1".into(),
            flow_log_status: "ACTIVE".into(),
            traffic_type: "ALL".into(),
            log_destination_type: Some("s3".into()),
        }]),
    }
}

pub fn nacl(
    rule: i32,
    protocol: &str,
    action: &str,
    cidr: &str,
    ports: Option<(i32, i32)>,
) -> NaclEntry {
    NaclEntry {
        rule_number: rule,
        protocol: protocol.into(),
        rule_action: action.into(),
        egress: false,
        cidr_block: Some(cidr.into()),
        ipv6_cidr_block: None,
        port_from: ports.map(|p| p.0),
        port_to: ports.map(|p| p.1),
    }
}

pub fn good_instance() -> Instance {
    Instance {
        instance_id: "i-1".into(),
        state: "running".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some("subnet-1".into()),
        image_id: Some("ami-app".into()),
        launch_time: Some(days_ago(10)),
        iam_instance_profile_arn: Some("arn:aws:iam::111122223333:instance-profile/app".into()),
        public_ip_address: None,
        metadata_options: Some(MetadataOptions {
            http_tokens: Some("required".into()),
            http_endpoint: Some("enabled".into()),
            http_put_response_hop_limit: Some(1),
        }),
        security_group_ids: vec!["sg-web".into()],
        tags: BTreeMap::new(),
    }
}

pub fn good_compute() -> ComputeData {
    ComputeData {
        instances: Collected::Ok(vec![good_instance()]),
        instance_metadata_defaults: Collected::Ok(None),
        ebs_encryption_by_default: Collected::Ok(true),
        volumes: Collected::Ok(vec![Volume {
            volume_id: "vol-1".into(),
            encrypted: true,
            kms_key_id: None,
            state: "in-use".into(),
            attached_instance_ids: vec!["i-1".into()],
        }]),
        snapshots: Collected::Ok(vec![EbsSnapshot {
            snapshot_id: "snap-1".into(),
            volume_id: Some("vol-1".into()),
            encrypted: true,
            start_time: Some(days_ago(3)),
            create_volume_permissions: Collected::Ok(vec![]),
        }]),
        images: Collected::Ok(vec![Image {
            image_id: "ami-forensic".into(),
            name: Some("sift-forensic-workstation-2024-05".into()),
            creation_date: Some(days_ago(10)),
            state: "available".into(),
            public: false,
            tags: BTreeMap::new(),
        }]),
        ssm_managed_instances: Collected::Ok(vec![ManagedInstance {
            instance_id: "i-1".into(),
            ping_status: "Online".into(),
            last_ping_date_time: Some(days_ago(0)),
            agent_version: Some("3.3.0".into()),
            platform_name: Some("Amazon Linux".into()),
        }]),
        lambda_functions: Collected::Ok(vec![LambdaFunction {
            function_name: "worker".into(),
            function_arn: "arn:aws:lambda:us-east-1:111122223333:function:worker".into(),
            runtime: Some("python3.12".into()),
            policy: Collected::Ok(None),
        }]),
        eks_clusters: Collected::Ok(vec![EksCluster {
            name: "prod".into(),
            arn: "arn:aws:eks:us-east-1:111122223333:cluster/prod".into(),
            endpoint_public_access: false,
            endpoint_private_access: true,
            public_access_cidrs: vec![],
        }]),
    }
}

pub fn good_trail() -> Trail {
    Trail {
        name: "org-trail".into(),
        trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail".into(),
        home_region: REGION.into(),
        s3_bucket_name: Some(TRAIL_BUCKET.into()),
        is_multi_region_trail: true,
        is_organization_trail: true,
        include_global_service_events: true,
        log_file_validation_enabled: true,
        kms_key_id: Some("arn:aws:kms:us-east-1:111122223333:key/k1".into()),
        cloud_watch_logs_log_group_arn: Some(LOG_GROUP.into()),
        sns_topic_arn: None,
        status: Collected::Ok(TrailStatus {
            is_logging: true,
            latest_delivery_time: Some(days_ago(0)),
            latest_cloud_watch_logs_delivery_time: Some(days_ago(0)),
            latest_delivery_error: None,
        }),
        selectors: Collected::Ok(TrailSelectors {
            event_selectors: vec![EventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources: vec![DataResource {
                    kind: "AWS::S3::Object".into(),
                    values: vec!["arn:aws:s3".into()],
                }],
                exclude_management_event_sources: vec![],
            }],
            advanced_event_selectors: vec![],
        }),
    }
}

/// The CIS 4.1–4.15 filter patterns as CIS publishes them (spacing and quoting vary on
/// purpose: the control must normalise them).
pub const CIS_FILTERS: [(&str, &str); 15] = [
    ("unauthorized-api", r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#),
    ("console-no-mfa", r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#),
    ("root-use", r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#),
    ("iam-policy", "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"),
    ("cloudtrail-config", "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"),
    ("console-auth-failure", r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#),
    ("cmk-disable", "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"),
    ("s3-policy", "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"),
    ("config-change", "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"),
    ("security-group", "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"),
    ("nacl", "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"),
    ("gateway", "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"),
    ("route-table", "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"),
    ("vpc", "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"),
    ("organizations", r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#),
];

pub const ALERTS_TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:security-alerts";

pub fn good_logging() -> LoggingData {
    let filters = CIS_FILTERS
        .iter()
        .map(|(name, pattern)| MetricFilter {
            filter_name: (*name).into(),
            log_group_name: "cloudtrail".into(),
            filter_pattern: (*pattern).into(),
            metric_transformations: vec![MetricTransformation {
                metric_name: format!("cis-{name}"),
                metric_namespace: "CISBenchmark".into(),
            }],
        })
        .collect();
    let mut alarms: Vec<MetricAlarm> = CIS_FILTERS
        .iter()
        .map(|(name, _)| MetricAlarm {
            alarm_name: format!("cis-{name}"),
            alarm_arn: format!("arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-{name}"),
            metric_name: Some(format!("cis-{name}")),
            namespace: Some("CISBenchmark".into()),
            actions_enabled: true,
            alarm_actions: vec![ALERTS_TOPIC.into()],
        })
        .collect();
    alarms.push(MetricAlarm {
        alarm_name: "billing".into(),
        alarm_arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:billing".into(),
        metric_name: Some("EstimatedCharges".into()),
        namespace: Some("AWS/Billing".into()),
        actions_enabled: true,
        alarm_actions: vec![ALERTS_TOPIC.into()],
    });
    LoggingData {
        trails: Collected::Ok(vec![good_trail()]),
        config_recorders: Collected::Ok(vec![ConfigRecorder {
            name: "default".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/config".into()),
            all_supported: true,
            include_global_resource_types: true,
            recording_strategy: Some("ALL_SUPPORTED_RESOURCE_TYPES".into()),
        }]),
        config_recorder_statuses: Collected::Ok(vec![ConfigRecorderStatus {
            name: "default".into(),
            recording: true,
            last_status: Some("SUCCESS".into()),
        }]),
        metric_filters: Collected::Ok(filters),
        metric_alarms: Collected::Ok(alarms),
        sns_subscriptions: Collected::Ok(vec![SnsSubscription {
            topic_arn: ALERTS_TOPIC.into(),
            subscription_arn: format!("{ALERTS_TOPIC}:0b1c"),
            protocol: "email".into(),
            endpoint: "soc@example.com".into(),
        }]),
        security_hub: Collected::Ok(Some(SecurityHub {
            hub_arn: "arn:aws:securityhub:us-east-1:111122223333:hub/default".into(),
            subscribed_at: Some(days_ago(300)),
        })),
        guardduty_detectors: Collected::Ok(vec![GuardDutyDetector {
            detector_id: "d1".into(),
            status: "ENABLED".into(),
        }]),
        macie_session: Collected::Ok(Some(MacieSession {
            status: "ENABLED".into(),
            created_at: Some(days_ago(300)),
        })),
        access_analyzers: Collected::Ok(vec![AccessAnalyzer {
            arn: "arn:aws:access-analyzer:us-east-1:111122223333:analyzer/org".into(),
            name: "org".into(),
            kind: "ORGANIZATION".into(),
            status: "ACTIVE".into(),
        }]),
        eventbridge_rules: Collected::Ok(vec![EventRule {
            name: "to-vigil".into(),
            arn: "arn:aws:events:us-east-1:111122223333:rule/to-vigil".into(),
            event_bus_name: "default".into(),
            state: "ENABLED".into(),
            event_pattern: Some(
                r#"{"source": ["aws.guardduty", "aws.securityhub", "aws.iam"],
                    "detail-type": ["GuardDuty Finding", "Security Hub Findings - Imported",
                                    "AWS API Call via CloudTrail"]}"#
                    .into(),
            ),
            targets: Collected::Ok(vec!["arn:aws:sqs:us-east-1:111122223333:vigil".into()]),
        }, EventRule {
            name: "break-glass-used".into(),
            arn: "arn:aws:events:us-east-1:111122223333:rule/break-glass-used".into(),
            event_bus_name: "default".into(),
            state: "ENABLED".into(),
            event_pattern: Some(r#"{"detail": {"requestParameters": {"roleArn": ["arn:aws:iam::111122223333:role/break-glass"]}}}"#.into()),
            targets: Collected::Ok(vec!["arn:aws:sns:us-east-1:111122223333:page".into()]),
        }]),
    }
}

pub const OWNER_ONLY_KEY_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid":
  "Enable IAM User Permissions", "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}"#;

pub fn good_services() -> ServicesData {
    ServicesData {
        db_instances: Collected::Ok(vec![DbInstance {
            db_instance_identifier: "orders".into(),
            db_instance_arn: "arn:aws:rds:us-east-1:111122223333:db:orders".into(),
            engine: "postgres".into(),
            publicly_accessible: false,
            auto_minor_version_upgrade: true,
            storage_encrypted: true,
            kms_key_id: Some("k1".into()),
        }]),
        db_snapshots: Collected::Ok(vec![DbSnapshot {
            snapshot_identifier: "orders-manual".into(),
            snapshot_arn: "arn:aws:rds:us-east-1:111122223333:snapshot:orders-manual".into(),
            encrypted: true,
            restore_attribute: Collected::Ok(vec![]),
        }]),
        db_cluster_snapshots: Collected::Ok(vec![]),
        efs_file_systems: Collected::Ok(vec![EfsFileSystem {
            file_system_id: "fs-1".into(),
            file_system_arn: "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1"
                .into(),
            encrypted: true,
            kms_key_id: Some("k1".into()),
        }]),
        kms_keys: Collected::Ok(vec![KmsKey {
            key_id: "k1".into(),
            arn: "arn:aws:kms:us-east-1:111122223333:key/k1".into(),
            key_manager: "CUSTOMER".into(),
            key_state: "Enabled".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            origin: "AWS_KMS".into(),
            deletion_date: None,
            rotation_enabled: Collected::Ok(true),
            policy: Collected::Ok(OWNER_ONLY_KEY_POLICY.into()),
        }]),
        secrets: Collected::Ok(vec![Secret {
            arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCd".into(),
            name: "db".into(),
            rotation_enabled: true,
            last_rotated_date: Some(days_ago(20)),
        }]),
        load_balancers: Collected::Ok(vec![LoadBalancer {
            load_balancer_arn:
                "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/1".into(),
            load_balancer_name: "web".into(),
            kind: "application".into(),
            scheme: "internet-facing".into(),
            attributes: Collected::Ok(
                [("access_logs.s3.enabled".to_string(), "true".to_string())].into(),
            ),
        }]),
        classic_load_balancers: Collected::Ok(vec![ClassicLoadBalancer {
            load_balancer_name: "legacy".into(),
            scheme: "internet-facing".into(),
            access_log_enabled: Collected::Ok(true),
        }]),
        api_gateway_stages: Collected::Ok(vec![ApiGatewayStage {
            rest_api_id: "a1".into(),
            rest_api_name: "orders".into(),
            stage_name: "prod".into(),
            logging_level: Some("INFO".into()),
            access_log_destination_arn: None,
        }]),
    }
}
