//! The common fields of an event, read on demand from the record of each source.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use crate::{Event, LogSource};

/// Who acted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal<'a> {
    /// The principal's ARN (for S3 access logs, the requester as logged).
    pub arn: Option<&'a str>,
    /// The identity type (`Root`, `IAMUser`, `AssumedRole`, `AWSService`...).
    pub kind: Option<&'a str>,
    /// The access key used (`AKIA...` long-term, `ASIA...` temporary).
    pub access_key: Option<&'a str>,
    /// A user or session issuer name, when the record names one.
    pub name: Option<&'a str>,
    /// For a role session, the ARN of the role (or user) that issued it.
    pub issuer: Option<&'a str>,
}

impl<'a> Principal<'a> {
    /// The most specific identifier available: ARN, else name, else access key.
    pub fn id(&self) -> Option<&'a str> {
        self.arn.or(self.name).or(self.access_key)
    }
}

/// The fields every source has in some form, borrowed from the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common<'a> {
    /// Which telemetry the event is.
    pub source: LogSource,
    /// Event time, epoch milliseconds.
    pub time_ms: Option<i64>,
    /// AWS account id.
    pub account: Option<&'a str>,
    /// AWS region.
    pub region: Option<&'a str>,
    /// The AWS service, short form (`iam` for `iam.amazonaws.com`).
    pub service: Option<&'a str>,
    /// What happened: the API call, flow action, S3 operation or finding type.
    pub action: Option<&'a str>,
    /// Who did it.
    pub principal: Principal<'a>,
    /// Source IP address (or the AWS service name CloudTrail writes instead).
    pub source_ip: Option<&'a str>,
    /// User agent.
    pub user_agent: Option<&'a str>,
    /// Error code of a failed call.
    pub error_code: Option<&'a str>,
    /// Identifiers (ARNs where the record has them) of the resources involved.
    pub resources: Vec<&'a str>,
}

impl Event {
    /// The common fields of this event.
    pub fn common(&self) -> Common<'_> {
        let common = match self.source {
            LogSource::CloudTrail | LogSource::CloudTrailInsight => {
                cloudtrail(self.doc.as_object().map(|object| object.iter()))
            }
            LogSource::VpcFlow => vpc_flow(&self.doc),
            LogSource::S3Access => s3_access(&self.doc),
            LogSource::GuardDuty => guardduty(&self.doc),
            LogSource::SecurityHub => security_hub(&self.doc),
            LogSource::TrustedAdvisor => trusted_advisor(&self.doc),
        };
        self.finish_common(common)
    }

    /// Fills what every source shares into the fields read from the record.
    pub(crate) fn finish_common<'a>(&'a self, mut common: Common<'a>) -> Common<'a> {
        common.source = self.source;
        common.time_ms = self.time_ms;
        if let Some(envelope) = self.envelope.as_deref() {
            common.account = common.account.or_else(|| str_at(envelope, &["account"]));
            common.region = common.region.or_else(|| str_at(envelope, &["region"]));
        }
        common
    }
}

fn empty<'a>() -> Common<'a> {
    Common {
        source: LogSource::CloudTrail,
        time_ms: None,
        account: None,
        region: None,
        service: None,
        action: None,
        principal: Principal::default(),
        source_ip: None,
        user_agent: None,
        error_code: None,
        resources: Vec::new(),
    }
}

/// The string at a nested key path, if every step exists and the leaf is a non-empty string.
fn str_at<'a>(doc: &'a Value, keys: &[&str]) -> Option<&'a str> {
    let mut value = doc;
    for key in keys {
        value = value.get(*key)?;
    }
    value.as_str().filter(|s| !s.is_empty())
}

/// `requestParameters` keys that name the resource a CloudTrail call acted on, used when the
/// record has no `resources` array (most management events).
const CLOUDTRAIL_RESOURCE_PARAMETERS: &[&str] = &[
    "bucketName",
    "instanceId",
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "trailName",
    "name",
    "groupId",
    "keyId",
    "snapshotId",
    "imageId",
    "functionName",
    "detectorId",
    "dBInstanceIdentifier",
    "dBSnapshotIdentifier",
    "secretId",
    "topicArn",
    "logGroupName",
    "stateMachineArn",
    "configurationRecorderName",
    "resourceArn",
];

/// Reads the common fields of a CloudTrail record in one pass over its top-level keys, one
/// over `userIdentity` and one over `requestParameters`: every match of every rule reads them,
/// and looking each key up separately walks the same objects dozens of times.
///
/// `entries` are the record's top-level entries in document order (`None` when the record is
/// not an object): the object's own, or those a [`crate::KeyedEvent`] has already listed.
pub(crate) fn cloudtrail<'a>(
    entries: Option<impl Iterator<Item = (&'a str, &'a Value)>>,
) -> Common<'a> {
    let mut common = empty();
    let mut resources_array = None;
    let mut identity = None;
    let mut params = None;
    let mut additional_user = None;
    let Some(entries) = entries else {
        return common;
    };
    for (key, value) in entries {
        let text = || value.as_str().filter(|s| !s.is_empty());
        match key {
            "eventSource" => common.service = text().map(short_service),
            "eventName" => common.action = text(),
            "awsRegion" => common.region = text(),
            "sourceIPAddress" => common.source_ip = text(),
            "userAgent" => common.user_agent = text(),
            "errorCode" => common.error_code = text(),
            "recipientAccountId" => common.account = text(),
            "userIdentity" => identity = Some(value),
            "resources" => resources_array = value.as_array(),
            "requestParameters" => params = value.as_object(),
            "additionalEventData" => additional_user = str_at(value, &["UserName"]),
            _ => {}
        }
    }
    let mut identity_account = None;
    if let Some(identity) = identity.and_then(|i| i.as_object()) {
        for (key, value) in identity.iter() {
            let text = || value.as_str().filter(|s| !s.is_empty());
            match key {
                "arn" => common.principal.arn = text(),
                "type" => common.principal.kind = text(),
                "accessKeyId" => common.principal.access_key = text(),
                "userName" => common.principal.name = text(),
                "accountId" => identity_account = text(),
                "sessionContext" => {
                    let issuer = value.get("sessionIssuer");
                    common.principal.issuer = issuer.and_then(|i| str_at(i, &["arn"]));
                    if common.principal.name.is_none() {
                        common.principal.name = issuer.and_then(|i| str_at(i, &["userName"]));
                    }
                }
                _ => {}
            }
        }
    }
    common.account = common.account.or(identity_account);
    common.principal.name = common.principal.name.or(additional_user);
    if let Some(array) = resources_array {
        common.resources = array.iter().filter_map(|r| str_at(r, &["ARN"])).collect();
    }
    if common.resources.is_empty() {
        if let Some(params) = params {
            common.resources = params
                .iter()
                .filter(|(key, _)| CLOUDTRAIL_RESOURCE_PARAMETERS.contains(key))
                .filter_map(|(_, value)| value.as_str().filter(|s| !s.is_empty()))
                .collect();
        }
    }
    common
}

fn short_service(event_source: &str) -> &str {
    event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source)
}

fn vpc_flow(doc: &Value) -> Common<'_> {
    let resources = ["interface-id", "instance-id"]
        .iter()
        .filter_map(|key| str_at(doc, &[key]))
        .collect();
    Common {
        account: str_at(doc, &["account-id"]),
        region: str_at(doc, &["region"]),
        service: Some("vpc"),
        action: str_at(doc, &["action"]),
        source_ip: str_at(doc, &["srcaddr"]),
        resources,
        ..empty()
    }
}

fn s3_access(doc: &Value) -> Common<'_> {
    Common {
        service: Some("s3"),
        action: str_at(doc, &["operation"]),
        principal: Principal {
            arn: str_at(doc, &["requester"]),
            ..Principal::default()
        },
        source_ip: str_at(doc, &["remote_ip"]),
        user_agent: str_at(doc, &["user_agent"]),
        error_code: str_at(doc, &["error_code"]),
        resources: str_at(doc, &["bucket"]).into_iter().collect(),
        ..empty()
    }
}

fn guardduty(doc: &Value) -> Common<'_> {
    let resource = doc.get("resource");
    let at = |keys: &[&str]| resource.and_then(|r| str_at(r, keys));
    let action = doc.get("service").and_then(|s| s.get("action"));
    let remote_ip = action.and_then(|action| {
        [
            &["awsApiCallAction", "remoteIpDetails", "ipAddressV4"][..],
            &["networkConnectionAction", "remoteIpDetails", "ipAddressV4"],
            &["kubernetesApiCallAction", "remoteIpDetails", "ipAddressV4"],
        ]
        .iter()
        .find_map(|keys| str_at(action, keys))
        .or_else(|| {
            action
                .get("portProbeAction")?
                .get("portProbeDetails")?
                .as_array()?
                .iter()
                .find_map(|d| str_at(d, &["remoteIpDetails", "ipAddressV4"]))
        })
    });
    let mut resources: Vec<&str> = [
        &["instanceDetails", "instanceId"][..],
        &["accessKeyDetails", "accessKeyId"],
    ]
    .iter()
    .filter_map(|keys| at(keys))
    .collect();
    if let Some(buckets) = resource
        .and_then(|r| r.get("s3BucketDetails"))
        .and_then(|b| b.as_array())
    {
        resources.extend(buckets.iter().filter_map(|b| str_at(b, &["arn"])));
    }
    Common {
        account: str_at(doc, &["accountId"]),
        region: str_at(doc, &["region"]),
        service: Some("guardduty"),
        action: str_at(doc, &["type"]),
        principal: Principal {
            arn: None,
            kind: at(&["accessKeyDetails", "userType"]),
            access_key: at(&["accessKeyDetails", "accessKeyId"]),
            name: at(&["accessKeyDetails", "userName"]),
            issuer: None,
        },
        source_ip: remote_ip,
        resources,
        ..empty()
    }
}

fn security_hub(doc: &Value) -> Common<'_> {
    let resources = doc
        .get("Resources")
        .and_then(|r| r.as_array())
        .map(|array| array.iter().filter_map(|r| str_at(r, &["Id"])).collect())
        .unwrap_or_default();
    let first_type = doc
        .get("Types")
        .and_then(|t| t.as_array())
        .and_then(|t| t.iter().find_map(|t| t.as_str()));
    Common {
        account: str_at(doc, &["AwsAccountId"]),
        region: str_at(doc, &["Region"]),
        service: Some("securityhub"),
        action: first_type.or_else(|| str_at(doc, &["Title"])),
        source_ip: str_at(doc, &["Network", "SourceIpV4"]),
        resources,
        ..empty()
    }
}

fn trusted_advisor(doc: &Value) -> Common<'_> {
    let detail = |key: &str| str_at(doc, &["check-item-detail", key]);
    Common {
        service: Some("trustedadvisor"),
        action: str_at(doc, &["check-name"]),
        principal: Principal {
            access_key: detail("Access Key ID"),
            name: detail("User Name (IAM or Root)"),
            ..Principal::default()
        },
        resources: detail("Access Key ID")
            .into_iter()
            .chain(str_at(doc, &["resource_id"]))
            .collect(),
        ..empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;

    fn event(source: LogSource, json: &str) -> Event {
        Event::new(
            source,
            sonic_rs::from_str(json).unwrap(),
            Origin::new("t", 1),
        )
    }

    #[test]
    fn cloudtrail_common_fields() {
        let e = event(
            LogSource::CloudTrail,
            r#"{"eventTime":"2014-03-06T21:22:54Z","eventSource":"ec2.amazonaws.com",
               "eventName":"StopInstances","awsRegion":"us-east-2","sourceIPAddress":"192.0.2.1",
               "userAgent":"ec2-api-tools","recipientAccountId":"123456789012",
               "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/Alice",
                 "accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},
               "requestParameters":{"instanceId":"i-1"},"errorCode":"AccessDenied"}"#,
        );
        let c = e.common();
        assert_eq!(c.time_ms, Some(1_394_140_974_000));
        assert_eq!(c.account, Some("123456789012"));
        assert_eq!(c.region, Some("us-east-2"));
        assert_eq!(c.service, Some("ec2"));
        assert_eq!(c.action, Some("StopInstances"));
        assert_eq!(
            c.principal.arn,
            Some("arn:aws:iam::123456789012:user/Alice")
        );
        assert_eq!(c.principal.kind, Some("IAMUser"));
        assert_eq!(c.principal.access_key, Some("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(c.source_ip, Some("192.0.2.1"));
        assert_eq!(c.user_agent, Some("ec2-api-tools"));
        assert_eq!(c.error_code, Some("AccessDenied"));
        assert_eq!(c.resources, vec!["i-1"]);
    }

    #[test]
    fn role_sessions_name_their_issuer_and_parameters_name_resources() {
        let e = event(
            LogSource::CloudTrail,
            r#"{"eventName":"PutObject","userIdentity":{"type":"AssumedRole","accountId":"111122223333",
               "arn":"arn:aws:sts::111122223333:assumed-role/app/session-1",
               "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/app","userName":"app"}}},
               "requestParameters":{"key":"a.zip","bucketName":"artifacts","x":1}}"#,
        );
        let c = e.common();
        assert_eq!(
            c.principal.issuer,
            Some("arn:aws:iam::111122223333:role/app")
        );
        assert_eq!(c.principal.name, Some("app"));
        assert_eq!(c.account, Some("111122223333"));
        assert_eq!(c.resources, vec!["artifacts"]);
    }

    #[test]
    fn envelope_fills_account_and_region() {
        let e = event(
            LogSource::TrustedAdvisor,
            r#"{"check-name":"Exposed Access Keys",
            "check-item-detail":{"Access Key ID":"AKIAX","User Name (IAM or Root)":"jane"}}"#,
        )
        .with_envelope(
            sonic_rs::from_str(
                r#"{"account":"111122223333","region":"us-east-1","time":"2018-01-12T19:38:24Z"}"#,
            )
            .unwrap(),
        );
        let c = e.common();
        assert_eq!(c.account, Some("111122223333"));
        assert_eq!(c.region, Some("us-east-1"));
        assert_eq!(c.principal.access_key, Some("AKIAX"));
        assert_eq!(c.principal.id(), Some("jane"));
        assert_eq!(c.action, Some("Exposed Access Keys"));
    }

    #[test]
    fn flow_log_common_fields() {
        let e = event(
            LogSource::VpcFlow,
            r#"{"account-id":"123456789010","interface-id":"eni-1","srcaddr":"172.31.16.139",
               "dstaddr":"172.31.16.21","action":"ACCEPT","start":1418530010}"#,
        );
        let c = e.common();
        assert_eq!(c.time_ms, Some(1_418_530_010_000));
        assert_eq!(c.source_ip, Some("172.31.16.139"));
        assert_eq!(c.action, Some("ACCEPT"));
        assert_eq!(c.resources, vec!["eni-1"]);
    }
}
