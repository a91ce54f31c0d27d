//! One CloudTrail record, ordinary or suspicious.

use serde_json::{json, Map, Value};

use super::attacks::Attack;
use super::catalog::{is_data_event, is_global, is_read_only, Api};
use super::identity::{actor, Actor, IdentityKind, IDENTITY_MIX};
use super::org::Account;
use super::params::{detail, CallDetail};
use super::random::Dice;

/// Where the records of one file come from.
pub struct Origin<'a> {
    pub account: &'a Account,
    pub region: &'static str,
}

const ERRORS: &[(&str, &str)] = &[
    ("AccessDenied", "User is not authorized to perform this operation because no identity-based policy allows it"),
    ("ThrottlingException", "Rate exceeded"),
    ("ResourceNotFoundException", "The requested resource was not found"),
    ("Client.UnauthorizedOperation", "You are not authorized to perform this operation."),
];

/// An ordinary call drawn from the catalog.
pub fn ordinary(dice: &mut Dice, origin: &Origin<'_>, api: &Api, time: &str) -> Value {
    let kind = IDENTITY_MIX[dice.weighted(IDENTITY_MIX, |(_, w)| *w)].0;
    let who = actor(dice, origin.account, kind, time);
    let region = if is_global(api.service) {
        "us-east-1"
    } else {
        origin.region
    };
    let call = detail(dice, origin.account, region, api.service, api.name);
    let mut record = base(dice, origin, region, api.service, api.name, who, call, time);
    if dice.chance(0.03) {
        let (code, message) = *dice.pick(ERRORS);
        record.insert("errorCode".into(), code.into());
        record.insert("errorMessage".into(), message.into());
    }
    if api.name == "ConsoleLogin" {
        record.insert(
            "responseElements".into(),
            json!({"ConsoleLogin": "Success"}),
        );
        record.insert("additionalEventData".into(), json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}));
    }
    Value::Object(record)
}

/// A suspicious call built from `attack`.
pub fn suspicious(dice: &mut Dice, origin: &Origin<'_>, attack: &Attack, time: &str) -> Value {
    let kind = attack.actor.unwrap_or(IdentityKind::AssumedRole);
    let who = actor(dice, origin.account, kind, time);
    let region = if is_global(attack.service) {
        "us-east-1"
    } else {
        origin.region
    };
    let call = CallDetail {
        request: Value::Null,
        response: Value::Null,
        resources: None,
    };
    let mut record = base(
        dice,
        origin,
        region,
        attack.service,
        attack.name,
        who,
        call,
        time,
    );
    if attack.actor.is_none() {
        record.insert("userIdentity".into(), json!({"type": "SAMLUser", "principalId": "Okta:alice@example.com", "userName": "alice@example.com", "identityProvider": "Okta"}));
    }
    let patch = attack
        .patch
        .replace("{acct}", &origin.account.id)
        .replace("{region}", region);
    if let Ok(Value::Object(patch)) = serde_json::from_str::<Value>(&patch) {
        record.extend(patch);
    }
    Value::Object(record)
}

#[allow(clippy::too_many_arguments)]
fn base(
    dice: &mut Dice,
    origin: &Origin<'_>,
    region: &str,
    service: &str,
    name: &str,
    who: Actor,
    call: CallDetail,
    time: &str,
) -> Map<String, Value> {
    let data = is_data_event(service, name);
    let mut record = Map::new();
    let source = format!("{service}.amazonaws.com");
    record.insert("eventVersion".into(), "1.09".into());
    record.insert("userIdentity".into(), who.identity);
    record.insert("eventTime".into(), time.into());
    record.insert("eventSource".into(), source.clone().into());
    record.insert("eventName".into(), name.into());
    record.insert("awsRegion".into(), region.into());
    record.insert("sourceIPAddress".into(), who.source_ip.into());
    record.insert("userAgent".into(), who.user_agent.into());
    record.insert("requestParameters".into(), call.request);
    record.insert("responseElements".into(), call.response);
    if data {
        record.insert("additionalEventData".into(), json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": dice.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 76), "bytesTransferredOut": dice.below(0, 5_000_000)}));
    }
    record.insert("requestID".into(), dice.uuid().into());
    record.insert("eventID".into(), dice.uuid().into());
    record.insert("readOnly".into(), is_read_only(name).into());
    if let Some(resources) = call.resources {
        record.insert("resources".into(), resources);
    }
    let service_event = who.kind == IdentityKind::AwsService && dice.chance(0.2);
    record.insert(
        "eventType".into(),
        if service_event {
            "AwsServiceEvent"
        } else {
            "AwsApiCall"
        }
        .into(),
    );
    record.insert("managementEvent".into(), (!data).into());
    record.insert(
        "recipientAccountId".into(),
        origin.account.id.clone().into(),
    );
    record.insert(
        "eventCategory".into(),
        if data { "Data" } else { "Management" }.into(),
    );
    if who.external {
        record.insert(
            "tlsDetails".into(),
            json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("{service}.{region}.amazonaws.com")}),
        );
    }
    record
}
