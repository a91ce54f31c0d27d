//! `requestParameters`, `responseElements` and `resources` of ordinary calls, shaped like the
//! real ones closely enough to cost what they cost to parse.

use serde_json::{json, Value};

use super::org::Account;
use super::random::Dice;

/// What a call carries besides who made it.
pub struct CallDetail {
    pub request: Value,
    pub response: Value,
    pub resources: Option<Value>,
}

impl CallDetail {
    fn new(request: Value, response: Value) -> Self {
        CallDetail {
            request,
            response,
            resources: None,
        }
    }
}

/// The detail of `name` on `service` in `account`/`region`.
pub fn detail(
    dice: &mut Dice,
    account: &Account,
    region: &str,
    service: &str,
    name: &str,
) -> CallDetail {
    match service {
        "ec2" => ec2(dice, account, name),
        "sts" => sts(dice, account, name),
        "s3" => s3(dice, account, region, name),
        "kms" => kms(dice, account, region, name),
        "ssm" => CallDetail::new(
            json!({"name": format!("/{}/{}/config/{}", account.name, dice.pick(&["prod", "staging"]), dice.pick(&["db_host", "db_password", "feature_flags", "api_url"])), "withDecryption": true}),
            Value::Null,
        ),
        "secretsmanager" => CallDetail::new(
            json!({"secretId": format!("arn:aws:secretsmanager:{region}:{}:secret:{}", account.id, dice.pick(&account.secrets))}),
            Value::Null,
        ),
        "logs" => CallDetail::new(
            json!({"logGroupName": format!("/aws/lambda/{}", dice.pick(&account.functions)),
                   "logStreamName": format!("2024/05/0{}/[$LATEST]{}", dice.below(1, 8), dice.hex(32))}),
            Value::Null,
        ),
        "lambda" => CallDetail::new(
            json!({"functionName": dice.pick(&account.functions)}),
            Value::Null,
        ),
        "iam" => iam(dice, account, name),
        "rds" => CallDetail::new(
            json!({"dBInstanceIdentifier": format!("{}-db-{}", account.name, dice.below(1, 4)), "maxRecords": 100}),
            Value::Null,
        ),
        _ => CallDetail::new(generic_request(dice), Value::Null),
    }
}

fn generic_request(dice: &mut Dice) -> Value {
    if dice.chance(0.4) {
        Value::Null
    } else {
        json!({"maxResults": 100, "nextToken": if dice.chance(0.3) { Value::String(dice.hex(48)) } else { Value::Null }})
    }
}

fn ec2(dice: &mut Dice, account: &Account, name: &str) -> CallDetail {
    let instance = dice.pick(&account.instances).clone();
    if name.starts_with("Describe") {
        let request = if name.contains("Instance") && dice.chance(0.5) {
            json!({"instancesSet": {"items": [{"instanceId": instance}]}, "filterSet": {}, "includeAllInstances": false})
        } else {
            json!({"maxResults": 1000, "filterSet": {"items": [
                {"name": "tag:Environment", "valueSet": {"items": [{"value": dice.pick(&["prod", "staging", "dev"])}]}},
                {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}})
        };
        return CallDetail::new(request, Value::Null);
    }
    let request = json!({"instancesSet": {"items": [{"instanceId": instance}]}});
    let response = json!({"requestId": dice.uuid(), "instancesSet": {"items": [{"instanceId": instance,
        "currentState": {"code": 16, "name": "running"}, "previousState": {"code": 0, "name": "pending"}}]}});
    CallDetail::new(request, response)
}

fn sts(dice: &mut Dice, account: &Account, name: &str) -> CallDetail {
    if name == "GetCallerIdentity" {
        return CallDetail::new(Value::Null, Value::Null);
    }
    let (role, role_id) = dice.pick(&account.roles).clone();
    let role_arn = format!("arn:aws:iam::{}:role/{role}", account.id);
    let session = format!(
        "botocore-session-{}",
        dice.below(1_700_000_000, 1_720_000_000)
    );
    let mut detail = CallDetail::new(
        json!({"roleArn": role_arn, "roleSessionName": session, "durationSeconds": 3600}),
        json!({"credentials": {"accessKeyId": format!("ASIA{}", dice.upper(16)),
                "sessionToken": dice.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 320),
                "expiration": "May 1, 2024, 11:59:59 PM"},
               "assumedRoleUser": {"assumedRoleId": format!("{role_id}:{session}"),
                "arn": format!("arn:aws:sts::{}:assumed-role/{role}/{session}", account.id)}}),
    );
    detail.resources =
        Some(json!([{"accountId": account.id, "type": "AWS::IAM::Role", "ARN": role_arn}]));
    detail
}

fn s3(dice: &mut Dice, account: &Account, region: &str, name: &str) -> CallDetail {
    let bucket = dice.pick(&account.buckets).clone();
    let host = format!("{bucket}.s3.{region}.amazonaws.com");
    if !name.contains("Object") {
        return CallDetail::new(
            json!({"bucketName": bucket, "Host": host, dice.pick(&["acl", "policy", "location"]).to_string(): ""}),
            Value::Null,
        );
    }
    let key = format!(
        "{}/{}/{}.{}",
        dice.pick(&["uploads", "exports", "raw", "tmp"]),
        dice.below(2019, 2025),
        dice.hex(20),
        dice.pick(&["json", "parquet", "jpg", "gz"])
    );
    let mut detail = CallDetail::new(
        json!({"bucketName": bucket, "Host": host, "key": key}),
        Value::Null,
    );
    detail.resources = Some(json!([
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
        {"accountId": account.id, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]));
    detail
}

fn kms(dice: &mut Dice, account: &Account, region: &str, name: &str) -> CallDetail {
    let key_arn = format!(
        "arn:aws:kms:{region}:{}:key/{}",
        account.id,
        dice.pick(&account.keys)
    );
    let context = if dice.chance(0.5) {
        json!({"aws:lambda:FunctionArn": format!("arn:aws:lambda:{region}:{}:function:{}", account.id, dice.pick(&account.functions))})
    } else {
        json!({"aws:s3:arn": format!("arn:aws:s3:::{}/{}", dice.pick(&account.buckets), dice.hex(24))})
    };
    let mut request =
        json!({"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"});
    if name != "Decrypt" {
        request["keyId"] = Value::String(key_arn.clone());
        request["keySpec"] = Value::String("AES_256".into());
    }
    let mut detail = CallDetail::new(request, Value::Null);
    detail.resources =
        Some(json!([{"accountId": account.id, "type": "AWS::KMS::Key", "ARN": key_arn}]));
    detail
}

fn iam(dice: &mut Dice, account: &Account, name: &str) -> CallDetail {
    let request = if name.contains("User") || name.contains("AccessKey") {
        match account.users.first() {
            Some(_) => json!({"userName": dice.pick(&account.users).0}),
            None => Value::Null,
        }
    } else if name.contains("Policy") && !name.contains("Role") {
        json!({"policyArn": format!("arn:aws:iam::{}:policy/{}", account.id, dice.pick(&["ReadOnlyS3", "DeployPipeline", "KmsUse"])), "versionId": "v3"})
    } else if name.starts_with("List") && !name.contains("Role") {
        json!({"maxItems": 100})
    } else {
        json!({"roleName": dice.pick(&account.roles).0})
    };
    CallDetail::new(request, Value::Null)
}
