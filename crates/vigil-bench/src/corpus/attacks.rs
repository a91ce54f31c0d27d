//! Suspicious calls, sprinkled through the corpus, that SigmaHQ's AWS rules (and vigil's
//! pack) are written to catch. Each is a template: the call, who makes it, and the fields
//! that make it suspicious, written as a JSON patch over an ordinary record.

use super::identity::IdentityKind;

/// One suspicious call. In `patch`, `{acct}` and `{region}` are replaced before parsing.
pub struct Attack {
    pub service: &'static str,
    pub name: &'static str,
    pub actor: Option<IdentityKind>,
    pub patch: &'static str,
}

const fn attack(
    service: &'static str,
    name: &'static str,
    actor: Option<IdentityKind>,
    patch: &'static str,
) -> Attack {
    Attack {
        service,
        name,
        actor,
        patch,
    }
}

const USER: Option<IdentityKind> = Some(IdentityKind::IamUser);
const ROOT: Option<IdentityKind> = Some(IdentityKind::Root);
const ROLE: Option<IdentityKind> = Some(IdentityKind::AssumedRole);

pub const ATTACKS: &[Attack] = &[
    attack(
        "cloudtrail",
        "StopLogging",
        ROLE,
        r#"{"requestParameters":{"name":"arn:aws:cloudtrail:{region}:{acct}:trail/org-trail"}}"#,
    ),
    attack(
        "cloudtrail",
        "DeleteTrail",
        ROLE,
        r#"{"requestParameters":{"name":"org-trail"}}"#,
    ),
    attack(
        "cloudtrail",
        "UpdateTrail",
        ROLE,
        r#"{"requestParameters":{"name":"org-trail","s3BucketName":"exfil-trail-bucket"}}"#,
    ),
    attack(
        "guardduty",
        "DeleteDetector",
        ROLE,
        r#"{"requestParameters":{"detectorId":"12abc34d567e8fa901bc2d34eexample"}}"#,
    ),
    attack(
        "guardduty",
        "UpdateDetector",
        ROLE,
        r#"{"requestParameters":{"detectorId":"12abc34d567e8fa901bc2d34eexample","enable":false}}"#,
    ),
    attack(
        "guardduty",
        "CreateIPSet",
        ROLE,
        r#"{"requestParameters":{"detectorId":"12abc34d567e8fa901bc2d34eexample","name":"trusted","format":"TXT","location":"https://s3.amazonaws.com/x/ips.txt","activate":true}}"#,
    ),
    attack(
        "signin",
        "ConsoleLogin",
        USER,
        r#"{"errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}"#,
    ),
    attack(
        "signin",
        "ConsoleLogin",
        USER,
        r#"{"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"}"#,
    ),
    attack(
        "sts",
        "GetCallerIdentity",
        USER,
        r#"{"userAgent":"TruffleHog"}"#,
    ),
    attack(
        "iam",
        "CreateAccessKey",
        USER,
        r#"{"requestParameters":{"userName":"svc-backup"},"responseElements":{"accessKey":{"accessKeyId":"AKIAQWERTYUIOPASDFGH","status":"Active","userName":"svc-backup","createDate":"May 1, 2024, 3:12:09 AM"}}}"#,
    ),
    attack(
        "iam",
        "CreateUser",
        USER,
        r#"{"requestParameters":{"userName":"support-admin"},"userAgent":"S3 Browser 11.6.7 https://s3browser.com"}"#,
    ),
    attack(
        "iam",
        "UpdateLoginProfile",
        USER,
        r#"{"requestParameters":{"userName":"finance-lead","passwordResetRequired":false}}"#,
    ),
    attack(
        "iam",
        "DeleteSAMLProvider",
        ROLE,
        r#"{"requestParameters":{"sAMLProviderArn":"arn:aws:iam::{acct}:saml-provider/Okta"}}"#,
    ),
    attack(
        "s3",
        "PutBucketVersioning",
        ROLE,
        r#"{"requestParameters":{"bucketName":"prod-backups","VersioningConfiguration":{"Status":"Suspended","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"versioning":""}}"#,
    ),
    attack(
        "s3",
        "DeleteBucket",
        ROLE,
        r#"{"requestParameters":{"bucketName":"prod-audit-logs"}}"#,
    ),
    attack(
        "s3",
        "ListBuckets",
        USER,
        r#"{"requestParameters":{"Host":"s3.amazonaws.com"}}"#,
    ),
    attack(
        "s3",
        "PutBucketLogging",
        ROLE,
        r#"{"requestParameters":{"bucketName":"prod-data-lake","BucketLoggingStatus":{}}}"#,
    ),
    attack(
        "ec2",
        "ModifyInstanceAttribute",
        ROLE,
        r#"{"requestParameters":{"instanceId":"i-0badc0ffee0ddf00d","attribute":"userData","userData":"<sensitiveDataRemoved>"}}"#,
    ),
    attack(
        "ec2",
        "ImportKeyPair",
        USER,
        r#"{"requestParameters":{"keyName":"backdoor","publicKeyMaterial":"<sensitiveDataRemoved>"}}"#,
    ),
    attack(
        "ec2",
        "AuthorizeSecurityGroupIngress",
        ROLE,
        r#"{"requestParameters":{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}}"#,
    ),
    attack(
        "ec2",
        "CreateNetworkAclEntry",
        ROLE,
        r#"{"requestParameters":{"networkAclId":"acl-0a1b2c3d","ruleNumber":90,"egress":false,"ruleAction":"allow","cidrBlock":"0.0.0.0/0","aclProtocol":"-1"}}"#,
    ),
    attack(
        "ec2",
        "CreateRoute",
        ROLE,
        r#"{"requestParameters":{"routeTableId":"rtb-0a1b2c3d","destinationCidrBlock":"0.0.0.0/0","gatewayId":"igw-0a1b2c3d"}}"#,
    ),
    attack(
        "ec2",
        "DeleteFlowLogs",
        ROLE,
        r#"{"requestParameters":{"DeleteFlowLogsRequest":{"FlowLogId":{"tag":1,"content":"fl-0a1b2c3d4e5f"}}}}"#,
    ),
    attack(
        "ec2",
        "ModifySnapshotAttribute",
        ROLE,
        r#"{"requestParameters":{"snapshotId":"snap-0a1b2c3d4e5f","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"999988887777"}]}}}}"#,
    ),
    attack(
        "ec2",
        "DisableEbsEncryptionByDefault",
        ROLE,
        r#"{"requestParameters":{"DisableEbsEncryptionByDefaultRequest":""}}"#,
    ),
    attack(
        "ec2",
        "DescribeInstances",
        ROOT,
        r#"{"requestParameters":{"filterSet":{}}}"#,
    ),
    attack(
        "config",
        "StopConfigurationRecorder",
        ROLE,
        r#"{"requestParameters":{"configurationRecorderName":"default"}}"#,
    ),
    attack(
        "signin",
        "GetSigninToken",
        ROLE,
        r#"{"userAgent":"python-requests/2.31.0"}"#,
    ),
    attack(
        "rds",
        "ModifyDBInstance",
        ROLE,
        r#"{"requestParameters":{"dBInstanceIdentifier":"prod-db-1","masterUserPassword":"****","applyImmediately":true},"responseElements":{"dBInstanceIdentifier":"prod-db-1","pendingModifiedValues":{"masterUserPassword":"****"}}}"#,
    ),
    attack(
        "rds",
        "RestoreDBInstanceFromDBSnapshot",
        ROLE,
        r#"{"requestParameters":{"dBInstanceIdentifier":"restored-copy","dBSnapshotIdentifier":"prod-db-1-snap"},"responseElements":{"dBInstanceIdentifier":"restored-copy","publiclyAccessible":true}}"#,
    ),
    attack(
        "account",
        "EnableRegion",
        ROOT,
        r#"{"requestParameters":{"RegionName":"me-south-1"}}"#,
    ),
    attack(
        "lambda",
        "CreateFunctionUrlConfig20211031",
        ROLE,
        r#"{"requestParameters":{"functionName":"orders-processor","authType":"NONE"}}"#,
    ),
    attack(
        "lambda",
        "UpdateFunctionConfiguration20150331v2",
        ROLE,
        r#"{"requestParameters":{"functionName":"orders-processor","layers":["arn:aws:lambda:{region}:999988887777:layer:helper:3"]}}"#,
    ),
    attack(
        "glue",
        "CreateDevEndpoint",
        ROLE,
        r#"{"requestParameters":{"endpointName":"dev","roleArn":"arn:aws:iam::{acct}:role/GlueAdmin"}}"#,
    ),
    attack(
        "ssm",
        "SendCommand",
        ROLE,
        r#"{"requestParameters":{"documentName":"AWS-RunShellScript","instanceIds":["i-0badc0ffee0ddf00d"],"parameters":"HIDDEN_DUE_TO_SECURITY_REASONS"}}"#,
    ),
    attack(
        "sts",
        "GetSessionToken",
        USER,
        r#"{"requestParameters":{"durationSeconds":129600}}"#,
    ),
    attack(
        "sts",
        "AssumeRoleWithSAML",
        None,
        r#"{"requestParameters":{"roleArn":"arn:aws:iam::{acct}:role/Admin","principalArn":"arn:aws:iam::{acct}:saml-provider/Okta"}}"#,
    ),
    attack(
        "kms",
        "ImportKeyMaterial",
        ROLE,
        r#"{"requestParameters":{"keyId":"arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab","expirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE"}}"#,
    ),
    attack(
        "eks",
        "CreateCluster",
        ROLE,
        r#"{"requestParameters":{"name":"shadow-cluster","roleArn":"arn:aws:iam::{acct}:role/eks"}}"#,
    ),
    attack(
        "securityhub",
        "BatchUpdateFindings",
        ROLE,
        r#"{"requestParameters":{"Workflow":{"Status":"SUPPRESSED"}}}"#,
    ),
    attack(
        "elasticache",
        "CreateCacheSecurityGroup",
        ROLE,
        r#"{"requestParameters":{"cacheSecurityGroupName":"open"}}"#,
    ),
    attack(
        "elasticfilesystem",
        "DeleteFileSystem",
        ROLE,
        r#"{"requestParameters":{"fileSystemId":"fs-0a1b2c3d"}}"#,
    ),
    attack(
        "route53",
        "DisableDomainTransferLock",
        ROLE,
        r#"{"requestParameters":{"domainName":"example.com"}}"#,
    ),
    attack(
        "bedrock",
        "DeleteGuardrail",
        ROLE,
        r#"{"requestParameters":{"guardrailIdentifier":"gr-123"}}"#,
    ),
    attack(
        "ecs",
        "RegisterTaskDefinition",
        ROLE,
        r#"{"requestParameters":{"family":"x","containerDefinitions":[{"name":"c","image":"alpine","command":["sh","-c","curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}]}}"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_patch_is_a_json_object() {
        for attack in ATTACKS {
            let text = attack
                .patch
                .replace("{acct}", "123456789012")
                .replace("{region}", "us-east-1");
            let patch: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", attack.name));
            assert!(patch.is_object(), "{}", attack.name);
        }
    }
}
