#!/usr/bin/env python3
"""Writes vigil's example incident: CloudTrail, VPC Flow Logs, S3 server access logs and a
Trusted Advisor event for a small simulated compromise of account 111122223333, with a week of
benign background activity. Deterministic (same bytes on every run), standard library only.

    python3 examples/incident/make_incident.py      # rewrites examples/incident/logs/

The story is told in README.md; expected.txt lists the rules that must fire.
"""
import gzip
import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs")
ACCT = "111122223333"
AUDIT_ACCT = "777788889999"          # the organization's security account
HOME = "us-east-1"
ATTACK_DAY = datetime(2026, 10, 14, tzinfo=timezone.utc)
FIRST_DAY = ATTACK_DAY - timedelta(days=8)

OFFICE = "192.0.2.10"                # alice's office
BOB_HOME = "192.0.2.11"
CI = "192.0.2.50"                    # CI runner egress
WEB_PUBLIC = "198.51.100.23"         # web-1's Elastic IP
WEB = "10.0.1.25"                    # web-1's private address
DB = "10.0.2.10"
TOR = "203.0.113.5"                  # Tor exit the intruder uses (in tor_exit_nodes)
TOR2 = "203.0.113.42"                # another Tor exit (in tor_exit_nodes)
C2 = "203.0.113.66"                  # command and control (in malicious_ips)
POOL = "203.0.113.200"               # mining pool, reached on Stratum port 3333
WEB_INSTANCE = "i-0a1b2c3d4e5f60718"
WEB_ENI = "eni-0a1b2c3d4e5f60718"
DB_ENI = "eni-0f1e2d3c4b5a69788"
GOLDEN_AMI = "ami-0c1d2e3f4a5b6c7d8"
MINER_AMI = "ami-0a9b8c7d6e5f40312"

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# ----------------------------------------------------------------------------- identifiers

def token(seed, n):
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ALNUM[b % 32] for b in digest[:n])


def uid(seed):
    return str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32], version=4))


def akia(name):
    return "AKIA" + token("akia" + name, 16)


def asia(name):
    return "ASIA" + token("asia" + name, 16)


def aida(name):
    return "AIDA" + token("aida" + name, 17)


def aroa(name):
    return "AROA" + token("aroa" + name, 17)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- user agents

def cli(cmd, distrib="ubuntu.22", kernel="5.15.0-1064-aws"):
    return (f"aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#{kernel} md/arch#x86_64 "
            f"lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
            f"md/distrib#{distrib} md/prompt#off md/command#{cmd}")


def kali(cmd):
    return cli(cmd, distrib="kali.2024", kernel="6.6.15-amd64")


BOTO = ("Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 "
        "md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144")
TERRAFORM = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.3 (+https://www.terraform.io) "
             "terraform-provider-aws/5.61.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
             "aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64")
SSM_AGENT = "aws-sdk-go/1.44.260 (go1.20.4; linux; amd64) amazon-ssm-agent/3.3.40.0"
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/130.0.0.0 Safari/537.36")
CONSOLE = "AWS Internal"


def kebab(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("-")
        out.append(c.lower())
    return "".join(out).replace("20150331v2", "").replace("20150331", "")


# ----------------------------------------------------------------------------- identities

def iam_user(name, key=None):
    return {"type": "IAMUser", "principalId": aida(name), "arn": f"arn:aws:iam::{ACCT}:user/{name}",
            "accountId": ACCT, "accessKeyId": key or akia(name), "userName": name}


def signin_user(name):
    return {"type": "IAMUser", "principalId": aida(name), "arn": f"arn:aws:iam::{ACCT}:user/{name}",
            "accountId": ACCT, "userName": name}


def console_user(name, t):
    ident = iam_user(name, key=asia("console" + name + t.strftime("%Y%m%d")))
    ident["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                               "attributes": {"creationDate": iso(t.replace(minute=0, second=0)),
                                              "mfaAuthenticated": "true"}}
    return ident


def role(role_name, session, account=ACCT, created=None, caller_account=None):
    ident = {
        "type": "AssumedRole",
        "principalId": f"{aroa(role_name)}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": asia(role_name + session + (created or "")),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": aroa(role_name),
                              "arn": f"arn:aws:iam::{account}:role/{role_name}",
                              "accountId": account, "userName": role_name},
            "webIdFederationData": {},
            "attributes": {"creationDate": created or "2026-10-07T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }
    if session.startswith("i-"):
        ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
    return ident


def root_console(t):
    return {"type": "Root", "principalId": ACCT, "arn": f"arn:aws:iam::{ACCT}:root", "accountId": ACCT,
            "accessKeyId": asia("root" + iso(t)),
            "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                               "attributes": {"creationDate": iso(t), "mfaAuthenticated": "false"}}}


# ----------------------------------------------------------------------------- CloudTrail records

READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "BatchGet", "Search")
GLOBAL_HOSTS = ("iam", "sts", "organizations", "account", "signin")


def record(name, source, ident, t, *, region=HOME, ip, ua, req=None, resp=None, error=None,
           category="Management", resources=None, extra=None, event_type="AwsApiCall", seed=""):
    event_source = f"{source}.amazonaws.com"
    seed = f"{name}|{iso(t)}|{ip}|{seed}|{ident.get('arn', ident.get('invokedBy'))}"
    rec = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": iso(t),
           "eventSource": event_source, "eventName": name, "awsRegion": region,
           "sourceIPAddress": ip, "userAgent": ua}
    if error:
        svc = source
        rec["errorCode"] = error
        rec["errorMessage"] = (f"User: {ident.get('arn')} is not authorized to perform: {svc}:{name} "
                               f"because no identity-based policy allows the {svc}:{name} action")
    rec["requestParameters"] = req
    rec["responseElements"] = resp
    if extra:
        rec.update(extra)
    if event_type == "AwsApiCall":
        rec["requestID"] = uid("req" + seed)
    rec["eventID"] = uid("evt" + seed)
    rec["readOnly"] = name.startswith(READ_PREFIXES)
    if resources:
        rec["resources"] = resources
    rec["eventType"] = event_type
    rec["managementEvent"] = category == "Management"
    rec["recipientAccountId"] = ACCT
    rec["eventCategory"] = category
    if event_type == "AwsApiCall" and not ip.endswith(".amazonaws.com") and ip != "AWS Internal":
        host = f"{source}.amazonaws.com" if source in GLOBAL_HOSTS else f"{source}.{region}.amazonaws.com"
        rec["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                             "clientProvidedHostHeader": host}
    return rec


def console_login(ident, t, ip, *, success=True, mfa="Yes"):
    data = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No", "MFAUsed": mfa}
    if mfa == "Yes":
        data["MFAIdentifier"] = f"arn:aws:iam::{ACCT}:u2f/user/{ident.get('userName')}/default-{token(ident['arn'], 26)}"
    rec = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": iso(t),
           "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": HOME,
           "sourceIPAddress": ip, "userAgent": BROWSER}
    if not success:
        rec["errorMessage"] = "Failed authentication"
    rec.update({"requestParameters": None,
                "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
                "additionalEventData": data, "eventID": uid(f"login{iso(t)}{ip}"), "readOnly": False,
                "eventType": "AwsConsoleSignIn", "managementEvent": True, "recipientAccountId": ACCT,
                "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                               "clientProvidedHostHeader": "signin.aws.amazon.com"}})
    return rec


def service_event(name, source, t, *, region=HOME, resources=None, details=None):
    rec = {"eventVersion": "1.08", "userIdentity": {"accountId": ACCT, "invokedBy": "AWS Internal"},
           "eventTime": iso(t), "eventSource": f"{source}.amazonaws.com", "eventName": name,
           "awsRegion": region, "sourceIPAddress": "AWS Internal", "userAgent": "AWS Internal",
           "requestParameters": None, "responseElements": None, "eventID": uid("svc" + name + iso(t)),
           "readOnly": False, "resources": resources or [], "eventType": "AwsServiceEvent",
           "managementEvent": True, "recipientAccountId": ACCT, "eventCategory": "Management"}
    if details:
        rec["serviceEventDetails"] = details
    return rec


def ec2_assumes_web_role(t):
    """EC2 delivering the instance profile credentials of web-1."""
    return record("AssumeRole", "sts", {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, t,
                  ip="ec2.amazonaws.com", ua="ec2.amazonaws.com",
                  req={"roleArn": f"arn:aws:iam::{ACCT}:role/web-app-role",
                       "roleSessionName": WEB_INSTANCE},
                  resp={"credentials": {"accessKeyId": asia("web" + iso(t)),
                                        "sessionToken": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                        "expiration": (t + timedelta(hours=6)).strftime("%b %d, %Y, %-I:%M:%S %p")},
                        "assumedRoleUser": {"assumedRoleId": f"{aroa('web-app-role')}:{WEB_INSTANCE}",
                                            "arn": f"arn:aws:sts::{ACCT}:assumed-role/web-app-role/{WEB_INSTANCE}"}},
                  resources=[{"accountId": ACCT, "type": "AWS::IAM::Role",
                              "ARN": f"arn:aws:iam::{ACCT}:role/web-app-role"}],
                  extra={"sharedEventID": uid("shared" + iso(t))})


def s3_object_event(name, ident, t, bucket, key, *, ip, ua, size=None):
    add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
           "bytesTransferredIn": size if name == "PutObject" else 0,
           "AuthenticationMethod": "AuthHeader", "x-amz-id-2": token("id2" + key + iso(t), 40),
           "bytesTransferredOut": size if name == "GetObject" else 0}
    return record(name, "s3", ident, t, ip=ip, ua=ua, category="Data",
                  req={"bucketName": bucket, "Host": f"{bucket}.s3.{HOME}.amazonaws.com", "key": key},
                  resp=None, extra={"additionalEventData": add},
                  resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                             {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
                  seed=key)


def run_instances(ident, t, *, region, image, itype, count, ip, ua, subnet, sg, key_name=None):
    items = [{"instanceId": "i-0" + hashlib.sha256(f"{iso(t)}{n}".encode()).hexdigest()[:16],
              "imageId": image, "instanceType": itype, "currentState": {"code": 0, "name": "pending"},
              "privateIpAddress": f"172.31.{10 + n}.{20 + n}", "subnetId": subnet}
             for n in range(count)]
    req = {"instancesSet": {"items": [{"imageId": image, "minCount": count, "maxCount": count}]},
           "instanceType": itype, "blockDeviceMapping": {}, "monitoring": {"enabled": False},
           "disableApiTermination": False, "disableApiStop": False,
           "networkInterfaceSet": {"items": [{"deviceIndex": 0, "subnetId": subnet,
                                              "groupSet": {"items": [{"groupId": sg}]}}]},
           "clientToken": uid("token" + iso(t))}
    if key_name:
        req["keyName"] = key_name
    return record("RunInstances", "ec2", ident, t, region=region, ip=ip, ua=ua, req=req,
                  resp={"requestId": uid("ri" + iso(t)), "reservationId": "r-0" + token(iso(t), 16).lower(),
                        "ownerId": ACCT, "groupSet": {}, "instancesSet": {"items": items}})


def create_tags(ident, t, resource, key, value, *, ip, ua):
    return record("CreateTags", "ec2", ident, t, ip=ip, ua=ua,
                  req={"resourcesSet": {"items": [{"resourceId": resource}]},
                       "tagSet": {"items": [{"key": key, "value": value}]}},
                  resp={"requestId": uid("tags" + iso(t)), "_return": True}, seed=key)


# ----------------------------------------------------------------------------- benign week

def benign_day(day, is_attack_day):
    """One day of ordinary activity. Every API, principal, region and image used here is also
    used on the first day, so first-seen baselines learn it before the attack."""
    recs = []
    d = day

    def at(h, m, s=0):
        return d + timedelta(hours=h, minutes=m, seconds=s)

    alice_ident = signin_user("alice")
    # alice: console sign-in with MFA, browses EC2 and S3 from the office
    recs.append(console_login(alice_ident, at(8, 2), OFFICE))
    if d.day == 9:
        recs.append(console_login(alice_ident, at(8, 1), OFFICE, success=False, mfa="No"))
    alice = console_user("alice", at(8, 2))
    for i, (name, source, req) in enumerate([
        ("DescribeInstances", "ec2", {"instancesSet": {}, "filterSet": {}}),
        ("DescribeSecurityGroups", "ec2", {"securityGroupSet": {}, "filterSet": {}}),
        ("ListBuckets", "s3", {"Host": "s3.amazonaws.com"}),
        ("GetBucketPolicyStatus", "s3", {"bucketName": "acme-reports-prod", "policyStatus": "",
                                         "Host": f"acme-reports-prod.s3.{HOME}.amazonaws.com"}),
        ("DescribeAlarms", "monitoring", {"maxRecords": 100}),
    ]):
        recs.append(record(name, source, alice, at(8, 4 + i), ip=OFFICE, ua=CONSOLE, req=req))

    # bob: CLI from home, in both regions he works in
    bob = iam_user("bob")
    recs.append(record("GetCallerIdentity", "sts", bob, at(9, 12), ip=BOB_HOME, ua=cli("sts.get-caller-identity"),
                       resp={"userId": bob["principalId"], "account": ACCT, "arn": bob["arn"]}))
    for region in (HOME, "us-west-2"):
        recs.append(record("DescribeInstances", "ec2", bob, at(9, 13), region=region, ip=BOB_HOME,
                           ua=cli("ec2.describe-instances"), req={"instancesSet": {}, "filterSet": {}},
                           seed=region))
    recs.append(record("ListBuckets", "s3", bob, at(9, 15), ip=BOB_HOME, ua=cli("s3.ls"),
                       req={"Host": "s3.amazonaws.com"}))
    recs.append(record("StartInstances", "ec2", bob, at(9, 16), region="us-west-2", ip=BOB_HOME,
                       ua=cli("ec2.start-instances"),
                       req={"instancesSet": {"items": [{"instanceId": "i-0b2c3d4e5f6a7b8c9"}]}},
                       resp={"requestId": uid("start" + iso(at(9, 16))), "instancesSet": {"items": [{
                           "instanceId": "i-0b2c3d4e5f6a7b8c9", "currentState": {"code": 0, "name": "pending"},
                           "previousState": {"code": 80, "name": "stopped"}}]}}))

    # ci-deploy: the CI pipeline (long-term key, CI runner address)
    ci = iam_user("ci-deploy")
    for h in (10, 15):
        recs.append(record("GetCallerIdentity", "sts", ci, at(h, 0), ip=CI, ua=cli("sts.get-caller-identity"),
                           resp={"userId": ci["principalId"], "account": ACCT, "arn": ci["arn"]}, seed=str(h)))
        recs.append(s3_object_event("PutObject", ci, at(h, 1), "acme-artifacts",
                                    f"report-builder/{d:%Y%m%d}-{h}.zip", ip=CI, ua=cli("s3.cp"), size=18234))
        recs.append(record("UpdateFunctionCode20150331v2", "lambda", ci, at(h, 2), ip=CI,
                           ua=cli("lambda.update-function-code"),
                           req={"functionName": "report-builder", "s3Bucket": "acme-artifacts",
                                "s3Key": f"report-builder/{d:%Y%m%d}-{h}.zip", "publish": True},
                           resp={"functionName": "report-builder",
                                 "functionArn": f"arn:aws:lambda:{HOME}:{ACCT}:function:report-builder",
                                 "runtime": "python3.12", "codeSize": 18234, "version": str(d.day * 2 + h // 15)},
                           seed=str(h)))
        recs.append(record("GetFunction20150331v2", "lambda", ci, at(h, 3), ip=CI, ua=cli("lambda.get-function"),
                           req={"functionName": "report-builder"}, seed=str(h)))
        recs.append(record("AssumeRole", "sts", ci, at(h, 4), ip=CI, ua=cli("sts.assume-role"),
                           req={"roleArn": f"arn:aws:iam::{ACCT}:role/terraform-deployer",
                                "roleSessionName": "terraform", "durationSeconds": 3600},
                           resp={"credentials": {"accessKeyId": asia("tf" + iso(at(h, 4))),
                                                 "expiration": "HIDDEN"},
                                 "assumedRoleUser": {"assumedRoleId": f"{aroa('terraform-deployer')}:terraform",
                                                     "arn": f"arn:aws:sts::{ACCT}:assumed-role/terraform-deployer/terraform"}},
                           seed=str(h)))

    # terraform: plan and apply with a stable session name
    tf = role("terraform-deployer", "terraform", created=iso(at(10, 4)))
    for i, (name, source, req) in enumerate([
        ("DescribeVpcs", "ec2", {"vpcSet": {"items": [{"vpcId": "vpc-0a1b2c3d4e5f60718"}]}}),
        ("DescribeSubnets", "ec2", {"subnetSet": {}, "filterSet": {}}),
        ("DescribeSecurityGroups", "ec2", {"securityGroupIdSet": {"items": [{"groupId": "sg-0a1b2c3d4e5f60718"}]}}),
        ("DescribeInstances", "ec2", {"instancesSet": {"items": [{"instanceId": WEB_INSTANCE}]}}),
        ("GetRole", "iam", {"roleName": "web-app-role"}),
        ("GetBucketPolicy", "s3", {"bucketName": "acme-reports-prod", "policy": "",
                                   "Host": f"acme-reports-prod.s3.{HOME}.amazonaws.com"}),
        ("DescribeDBInstances", "rds", {"dBInstanceIdentifier": "prod-db"}),
    ]):
        recs.append(record(name, source, tf, at(10, 5, i * 3), ip=CI, ua=TERRAFORM, req=req))
    recs.append(create_tags(tf, at(10, 6), WEB_INSTANCE, "Name", "web-1", ip=CI, ua=TERRAFORM))
    recs.append(record("AuthorizeSecurityGroupIngress", "ec2", tf, at(10, 6, 30), ip=CI, ua=TERRAFORM,
                       req={"groupId": "sg-0d1b2c3d4e5f60718", "ipPermissions": {"items": [{
                           "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "groups": {},
                           "ipRanges": {"items": [{"cidrIp": "10.0.1.0/24", "description": "web subnet"}]},
                           "ipv6Ranges": {}, "prefixListIds": {}}]}},
                       resp={"requestId": uid("sg" + iso(at(10, 6))), "_return": True},
                       error="Client.InvalidPermission.Duplicate"))
    if d == FIRST_DAY or d.weekday() == 0 or is_attack_day:
        recs.append(run_instances(tf, at(10, 7), region=HOME, image=GOLDEN_AMI, itype="t3.medium", count=1,
                                  ip=CI, ua=TERRAFORM, subnet="subnet-0a1b2c3d4e5f60718",
                                  sg="sg-0a1b2c3d4e5f60718"))

    # web-1's instance role: configuration, secrets, keys, object reads; SSM agent heartbeat
    recs.append(ec2_assumes_web_role(at(5, 58)))
    web = role("web-app-role", WEB_INSTANCE, created=iso(at(5, 58)))
    for h in (6, 12, 18):
        recs.append(s3_object_event("GetObject", web, at(h, 0), "acme-app-config", "config.json",
                                    ip=WEB_PUBLIC, ua=BOTO, size=2211))
        recs.append(record("GetSecretValue", "secretsmanager", web, at(h, 0, 2), ip=WEB_PUBLIC, ua=BOTO,
                           req={"secretId": f"arn:aws:secretsmanager:{HOME}:{ACCT}:secret:prod/db/password-AbCdEf"},
                           seed=str(h)))
        recs.append(record("Decrypt", "kms", web, at(h, 0, 3), ip=WEB_PUBLIC, ua=BOTO,
                           req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                "encryptionContext": {"app": "web"}},
                           resources=[{"accountId": ACCT, "type": "AWS::KMS::Key",
                                       "ARN": f"arn:aws:kms:{HOME}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],
                           seed=str(h)))
        recs.append(record("UpdateInstanceInformation", "ssm", web, at(h, 5), ip=WEB_PUBLIC, ua=SSM_AGENT,
                           req={"instanceId": WEB_INSTANCE, "agentVersion": "3.3.40.0",
                                "agentStatus": "Active", "platformType": "Linux",
                                "platformName": "Amazon Linux", "platformVersion": "2023",
                                "iPAddress": WEB, "computerName": "ip-10-0-1-25.ec2.internal",
                                "agentName": "amazon-ssm-agent", "availabilityZone": "us-east-1a"},
                           seed=str(h)))

    # the security account's posture scanner, through a cross-account role
    recs.append(record("AssumeRole", "sts", {"type": "AWSAccount", "principalId": aida("audit"),
                                             "accountId": AUDIT_ACCT}, at(6, 30), ip="198.51.100.140",
                       ua=BOTO, req={"roleArn": f"arn:aws:iam::{ACCT}:role/security-audit",
                                     "roleSessionName": "posture-scan", "durationSeconds": 3600},
                       resp={"credentials": {"accessKeyId": asia("audit" + iso(at(6, 30))), "expiration": "HIDDEN"},
                             "assumedRoleUser": {"assumedRoleId": f"{aroa('security-audit')}:posture-scan",
                                                 "arn": f"arn:aws:sts::{ACCT}:assumed-role/security-audit/posture-scan"}}))
    audit = role("security-audit", "posture-scan", created=iso(at(6, 30)))
    for i, (name, source, req) in enumerate([
        ("GetAccountPasswordPolicy", "iam", None), ("GetAccountSummary", "iam", None),
        ("DescribeTrails", "cloudtrail", {"includeShadowTrails": True}),
        ("GetTrailStatus", "cloudtrail", {"name": f"arn:aws:cloudtrail:{HOME}:{ACCT}:trail/management-events"}),
        ("GetEventSelectors", "cloudtrail", {"trailName": "management-events"}),
        ("DescribeConfigurationRecorderStatus", "config", {}),
        ("ListDetectors", "guardduty", {}),
        ("GetPublicAccessBlock", "s3", {"bucketName": "acme-reports-prod", "publicAccessBlock": "",
                                        "Host": f"acme-reports-prod.s3.{HOME}.amazonaws.com"}),
        ("GetEbsEncryptionByDefault", "ec2", {}),
        ("DescribeFlowLogs", "ec2", {"flowLogIds": {}}),
    ]):
        for region in ((HOME, "us-west-2") if source in ("ec2", "guardduty", "config") else (HOME,)):
            recs.append(record(name, source, audit, at(6, 31, i * 20), region=region, ip="198.51.100.140",
                               ua=BOTO, req=req, seed=region))

    # AWS service events
    if d == FIRST_DAY or d.day == 12:
        recs.append(service_event("RotateKey", "kms", at(0, 6),
                                  resources=[{"ARN": f"arn:aws:kms:{HOME}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                                              "accountId": ACCT, "type": "AWS::KMS::Key"}],
                                  details={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}))
    return recs


# ----------------------------------------------------------------------------- the attack

def attack():
    """The intrusion on 2026-10-14, as CloudTrail records."""
    d = ATTACK_DAY
    recs = []

    def at(h, m, s=0):
        return d + timedelta(hours=h, minutes=m, seconds=s)

    ci = iam_user("ci-deploy")          # the leaked key
    # 02:10 first use of the leaked key, from a Tor exit, AWS CLI on Kali
    recs.append(record("GetCallerIdentity", "sts", ci, at(2, 10, 5), ip=TOR, ua=kali("sts.get-caller-identity"),
                       resp={"userId": ci["principalId"], "account": ACCT, "arn": ci["arn"]}))
    # 02:11-02:14 enumeration: many different discovery APIs, a dozen denied
    recon = [
        ("ListUsers", "iam", None, None), ("ListRoles", "iam", None, None),
        ("ListPolicies", "iam", {"scope": "Local", "onlyAttached": False}, None),
        ("ListGroups", "iam", None, None), ("GetAccountAuthorizationDetails", "iam", None, "AccessDenied"),
        ("ListAccessKeys", "iam", {"userName": "ci-deploy"}, None), ("GetAccountSummary", "iam", None, None),
        ("ListAttachedUserPolicies", "iam", {"userName": "ci-deploy"}, None),
        ("GetUserPolicy", "iam", {"userName": "ci-deploy", "policyName": "ci-deploy"}, None),
        ("DescribeInstances", "ec2", {"instancesSet": {}, "filterSet": {}}, None),
        ("DescribeRegions", "ec2", {"regionSet": {}, "allRegions": True}, None),
        ("DescribeSecurityGroups", "ec2", {"securityGroupSet": {}, "filterSet": {}}, None),
        ("DescribeVpcs", "ec2", {"vpcSet": {}, "filterSet": {}}, None),
        ("DescribeSnapshots", "ec2", {"ownersSet": {"items": [{"owner": "self"}]}}, "Client.UnauthorizedOperation"),
        ("DescribeVolumes", "ec2", {"volumeSet": {}}, "Client.UnauthorizedOperation"),
        ("DescribeKeyPairs", "ec2", {"keySet": {}}, "Client.UnauthorizedOperation"),
        ("ListBuckets", "s3", {"Host": "s3.amazonaws.com"}, None),
        ("GetBucketPolicy", "s3", {"bucketName": "acme-reports-prod", "policy": "",
                                   "Host": f"acme-reports-prod.s3.{HOME}.amazonaws.com"}, None),
        ("GetBucketAcl", "s3", {"bucketName": "acme-reports-prod", "acl": "",
                                "Host": f"acme-reports-prod.s3.{HOME}.amazonaws.com"}, None),
        ("ListFunctions20150331", "lambda", None, None),
        ("ListSecrets", "secretsmanager", None, "AccessDeniedException"),
        ("DescribeTrails", "cloudtrail", {"includeShadowTrails": True}, None),
        ("GetTrailStatus", "cloudtrail", {"name": "management-events"}, None),
        ("ListDetectors", "guardduty", {}, "AccessDeniedException"),
        ("DescribeDBInstances", "rds", None, "AccessDenied"),
        ("ListKeys", "kms", None, "AccessDeniedException"),
        ("DescribeParameters", "ssm", None, "AccessDeniedException"),
        ("GetCostAndUsage", "ce", {"granularity": "MONTHLY"}, "AccessDeniedException"),
        ("DescribeLogGroups", "logs", None, "AccessDeniedException"),
        ("ListTopics", "sns", None, "AuthorizationError"),
        ("DescribeStateMachine", "states", None, "AccessDeniedException"),
        ("ListHostedZones", "route53", None, "AccessDenied"),
    ]
    for i, (name, source, req, error) in enumerate(recon):
        recs.append(record(name, source, ci, at(2, 11, i * 6), ip=TOR, ua=kali(f"{source}.{kebab(name)}"),
                           req=req, error=error))
    # 02:20 persistence: a backdoor user with a key and AdministratorAccess
    recs.append(record("CreateUser", "iam", ci, at(2, 20, 11), ip=TOR, ua=kali("iam.create-user"),
                       req={"userName": "svc-backup"},
                       resp={"user": {"path": "/", "userName": "svc-backup", "userId": aida("svc-backup"),
                                      "arn": f"arn:aws:iam::{ACCT}:user/svc-backup",
                                      "createDate": "Oct 14, 2026 2:20:11 AM"}}))
    backdoor_key = akia("svc-backup")
    recs.append(record("CreateAccessKey", "iam", ci, at(2, 20, 40), ip=TOR, ua=kali("iam.create-access-key"),
                       req={"userName": "svc-backup"},
                       resp={"accessKey": {"userName": "svc-backup", "accessKeyId": backdoor_key,
                                           "status": "Active", "createDate": "Oct 14, 2026 2:20:40 AM"}}))
    recs.append(record("AttachUserPolicy", "iam", ci, at(2, 21, 5), ip=TOR, ua=kali("iam.attach-user-policy"),
                       req={"userName": "svc-backup", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    bk = iam_user("svc-backup", key=backdoor_key)
    # 02:25 the backdoor user stops the account trail (the organization trail keeps recording)
    recs.append(record("GetCallerIdentity", "sts", bk, at(2, 25, 2), ip=TOR, ua=kali("sts.get-caller-identity"),
                       resp={"userId": bk["principalId"], "account": ACCT, "arn": bk["arn"]}))
    trail = f"arn:aws:cloudtrail:{HOME}:{ACCT}:trail/management-events"
    recs.append(record("StopLogging", "cloudtrail", bk, at(2, 25, 40), ip=TOR, ua=kali("cloudtrail.stop-logging"),
                       req={"name": trail}))
    # 02:27 SSH opened to the world on web-1's security group
    recs.append(record("AuthorizeSecurityGroupIngress", "ec2", bk, at(2, 27, 10), ip=TOR,
                       ua=kali("ec2.authorize-security-group-ingress"),
                       req={"groupId": "sg-0a1b2c3d4e5f60718", "ipPermissions": {"items": [{
                           "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
                           "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {},
                           "prefixListIds": {}}]}},
                       resp={"requestId": uid("sg-open"), "_return": True, "securityGroupRuleSet": {"items": [{
                           "groupOwnerId": ACCT, "groupId": "sg-0a1b2c3d4e5f60718",
                           "securityGroupRuleId": "sgr-0f1e2d3c4b5a69788", "isEgress": False,
                           "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}}))
    # 02:29 a region the account never used: GPU instances for mining
    sg_region = "ap-southeast-1"
    for i, (name, req, resp) in enumerate([
        ("DescribeImages", {"imagesSet": {"items": [{"imageId": MINER_AMI}]}, "executableBySet": {}}, None),
        ("DescribeSubnets", {"subnetSet": {}, "filterSet": {}}, None),
        ("ImportKeyPair", {"keyName": "ops", "publicKeyMaterial": "<sensitiveDataRemoved>"},
         {"requestId": uid("ikp"), "keyName": "ops", "keyFingerprint": "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca",
          "keyPairId": "key-0a1b2c3d4e5f60718"}),
    ]):
        recs.append(record(name, "ec2", bk, at(2, 29, i * 10), region=sg_region, ip=TOR,
                           ua=kali(f"ec2.{kebab(name)}"), req=req, resp=resp))
    recs.append(run_instances(bk, at(2, 30, 0), region=sg_region, image=MINER_AMI, itype="p3.8xlarge", count=4,
                              ip=TOR, ua=kali("ec2.run-instances"), subnet="subnet-0c9d8e7f6a5b4c3d2",
                              sg="sg-0c9d8e7f6a5b4c3d2", key_name="ops"))
    # 03:05 the reports bucket is made public
    bucket = "acme-reports-prod"
    recs.append(record("DeletePublicAccessBlock", "s3", bk, at(3, 5, 10), ip=TOR,
                       ua=kali("s3api.delete-public-access-block"),
                       req={"bucketName": bucket, "Host": f"{bucket}.s3.{HOME}.amazonaws.com",
                            "publicAccessBlock": ""}))
    recs.append(record("PutBucketPolicy", "s3", bk, at(3, 5, 44), ip=TOR, ua=kali("s3api.put-bucket-policy"),
                       req={"bucketName": bucket, "Host": f"{bucket}.s3.{HOME}.amazonaws.com", "policy": "",
                            "bucketPolicy": {"Version": "2012-10-17", "Statement": [{
                                "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}}))
    # 08:55 someone signs in as root without MFA from the Tor exit and looks around
    recs.append(console_login({"type": "Root", "principalId": ACCT, "arn": f"arn:aws:iam::{ACCT}:root",
                               "accountId": ACCT, "accessKeyId": ""}, at(8, 55, 12), TOR, mfa="No"))
    root = root_console(at(8, 55, 12))
    for i, (name, source, req) in enumerate([
        ("GetAccountSummary", "iam", None),
        ("ListUsers", "iam", None),
        ("GetAlternateContact", "account", {"alternateContactType": "SECURITY"}),
    ]):
        recs.append(record(name, source, root, at(8, 56, i * 15), ip=TOR, ua=CONSOLE, req=req))
    # 09:30 the responder tags web-1 for isolation and memory capture
    responder = role("AWSReservedSSO_IncidentResponder_a1b2c3d4e5f60718", "carol@example.com",
                     created=iso(at(9, 20)))
    recs.append(create_tags(responder, at(9, 30, 12), WEB_INSTANCE, "Response", "Isolate+MemoryCapture",
                            ip=OFFICE, ua=CONSOLE))
    return recs


# ----------------------------------------------------------------------------- VPC flow logs

FLOW_START = int(datetime(2026, 10, 14, 2, 0, tzinfo=timezone.utc).timestamp())


def flow(src, dst, sport, dport, t, *, proto=6, packets=10, nbytes=840, action="ACCEPT", eni=WEB_ENI,
         duration=60):
    return {"version": 2, "account-id": ACCT, "interface-id": eni, "srcaddr": src, "dstaddr": dst,
            "srcport": sport, "dstport": dport, "protocol": proto, "packets": packets, "bytes": nbytes,
            "start": t, "end": t + duration, "action": action, "log-status": "OK"}


def web_flows():
    """web-1's interface, 02:00-04:00: customers on 443, the database, DNS, and the intrusion."""
    out = []
    for minute in range(0, 120, 2):
        t = FLOW_START + minute * 60
        client = f"198.51.100.{1 + minute % 40}" if minute % 4 else f"192.0.2.{100 + minute % 50}"
        sport = 50000 + minute * 7
        out.append(flow(client, WEB, sport, 443, t, packets=18 + minute % 7, nbytes=4200 + minute * 13))
        out.append(flow(WEB, client, 443, sport, t, packets=22 + minute % 5, nbytes=48211 + minute * 101))
        out.append(flow(WEB, DB, 41000 + minute, 5432, t, packets=40, nbytes=9120))
        out.append(flow(DB, WEB, 5432, 41000 + minute, t, packets=38, nbytes=61230))
        out.append(flow(WEB, "10.0.0.2", 33000 + minute, 53, t, proto=17, packets=2, nbytes=152))
    # internet background noise: a few SSH probes, rejected before 02:27
    for n, minute in enumerate((3, 9, 17)):
        out.append(flow(f"198.51.100.{70 + n}", WEB, 60000 + n, 22, FLOW_START + minute * 60, packets=1,
                        nbytes=60, action="REJECT", duration=1))
    # 02:33 the intruder logs in over SSH from a C2 address, now that port 22 is open
    t = FLOW_START + 33 * 60
    out.append(flow(C2, WEB, 51514, 22, t, packets=210, nbytes=48211, duration=300))
    out.append(flow(WEB, C2, 22, 51514, t, packets=190, nbytes=301442, duration=300))
    # 02:36 the miner connects to the pool (Stratum on 3333) and stays connected
    for k in range(8):
        t = FLOW_START + (36 + k * 10) * 60
        out.append(flow(WEB, POOL, 40112, 3333, t, packets=1800, nbytes=412330, duration=600))
        out.append(flow(POOL, WEB, 3333, 40112, t, packets=1750, nbytes=221904, duration=600))
    # 02:37 beacon to the C2 server over 443
    for k in range(5):
        t = FLOW_START + (37 + k * 5) * 60
        out.append(flow(WEB, C2, 49822 + k, 443, t, packets=34, nbytes=8124))
    # 02:45 port scan of the database host from web-1 (rejected by the database's security group)
    t0 = FLOW_START + 45 * 60
    ports = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 993, 995, 1433, 1521,
             2049, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 11211, 27017]
    for i, p in enumerate(ports):
        out.append(flow(WEB, DB, 43210, p, t0 + i, packets=1, nbytes=44, action="ACCEPT", duration=1))
    return out


def db_flows():
    """The database interface's flow log, custom v5 format: the same scan seen (and rejected) here."""
    out = []
    for minute in range(0, 120, 2):
        t = FLOW_START + minute * 60
        out.append(("ingress", flow(WEB, DB, 41000 + minute, 5432, t, packets=40, nbytes=9120, eni=DB_ENI)))
        out.append(("egress", flow(DB, WEB, 5432, 41000 + minute, t, packets=38, nbytes=61230, eni=DB_ENI)))
    t0 = FLOW_START + 45 * 60
    ports = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 993, 995, 1433, 1521,
             2049, 2375, 3306, 3389, 5900, 6379, 8080, 8443, 9200, 11211, 27017]
    for i, p in enumerate(ports):
        out.append(("ingress", flow(WEB, DB, 43210, p, t0 + i, packets=1, nbytes=44, action="REJECT",
                                    duration=1, eni=DB_ENI)))
    return out


DEFAULT_FIELDS = ["version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
                  "protocol", "packets", "bytes", "start", "end", "action", "log-status"]
V5_FIELDS = ["version", "account-id", "interface-id", "vpc-id", "subnet-id", "instance-id", "srcaddr",
             "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action",
             "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region", "az-id", "flow-direction",
             "traffic-path", "log-status"]


def default_line(f):
    return " ".join(str(f[k]) for k in DEFAULT_FIELDS)


def v5_line(direction, f):
    full = dict(f, version=5, **{"vpc-id": "vpc-0a1b2c3d4e5f60718", "subnet-id": "subnet-0d1b2c3d4e5f60718",
                                 "instance-id": "-", "tcp-flags": 2 if f["packets"] == 1 else 19,
                                 "type": "IPv4", "pkt-srcaddr": f["srcaddr"], "pkt-dstaddr": f["dstaddr"],
                                 "region": HOME, "az-id": "use1-az2", "flow-direction": direction,
                                 "traffic-path": "-" if direction == "ingress" else 1})
    return " ".join(str(full[k]) for k in V5_FIELDS)


# ----------------------------------------------------------------------------- S3 access logs

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def s3_line(t, ip, requester, op, key, status, sent, size, ua, error="-"):
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    verb = op.split(".")[1]
    req_id = token("s3" + iso(t) + ip + key, 16)
    host_id = token("h" + iso(t) + key, 56) + "="
    auth_fields = "SigV4 TLS_AES_128_GCM_SHA256 AuthHeader" if requester != "-" else "- TLS_AES_128_GCM_SHA256 -"
    return (f'{OWNER} acme-reports-prod [{stamp}] {ip} {requester} {req_id} {op} {key} '
            f'"{verb} /{key} HTTP/1.1" {status} {error} {sent} {size} 38 12 "-" "{ua}" - {host_id} '
            f'{auth_fields} acme-reports-prod.s3.{HOME}.amazonaws.com TLSv1.3 - -')


def s3_access_lines():
    base = ATTACK_DAY + timedelta(hours=3)
    app = f"arn:aws:sts::{ACCT}:assumed-role/web-app-role/{WEB_INSTANCE}"
    lines = []
    for m in range(0, 30, 5):
        lines.append(s3_line(base + timedelta(minutes=m), WEB_PUBLIC, app, "REST.GET.OBJECT",
                             f"daily/2026-10-13-summary-{m}.pdf", 200, 52817, 52817, BOTO))
    lines.append(s3_line(base + timedelta(minutes=2, seconds=3), "198.51.100.99", "-", "REST.GET.OBJECT",
                         "q3/board.pdf", 403, 243, "-", "Wget/1.21.4", error="AccessDenied"))
    for i, key in enumerate(["q3/board.pdf", "q3/payroll.xlsx", "q3/forecast.xlsx"]):
        lines.append(s3_line(base + timedelta(minutes=12, seconds=9 + i * 4), TOR2, "-", "REST.GET.OBJECT",
                             key, 200, 2417664 - i * 1000, 2417664 - i * 1000, "curl/8.5.0"))
    lines.append(s3_line(base + timedelta(minutes=20), "198.51.100.99", "-", "REST.GET.OBJECT",
                         "q3/board.pdf", 200, 2417664, 2417664, "Wget/1.21.4"))
    return sorted(lines, key=lambda l: l.split("[", 1)[1][:20])


# ----------------------------------------------------------------------------- Trusted Advisor

def trusted_advisor_event():
    t = ATTACK_DAY + timedelta(hours=3, minutes=40)
    ms = int(t.timestamp() * 1000)
    return {
        "version": "0", "id": uid("ta-event"), "detail-type": "Trusted Advisor Check Item Refresh Notification",
        "source": "aws.trustedadvisor", "account": ACCT, "time": iso(t), "region": HOME, "resources": [],
        "detail": {
            "check-name": "Exposed Access Keys",
            "check-item-detail": {
                "Case ID": uid("case"), "Usage (USD per Day)": "0", "User Name (IAM or Root)": "ci-deploy",
                "Deadline": str(ms + 5 * 86400 * 1000), "Access Key ID": akia("ci-deploy"),
                "Time Updated": str(ms), "Fraud Type": "Exposed",
                "Location": "https://github.com/example-org/deploy-scripts/blob/main/.env"},
            "status": "ERROR", "resource_id": "", "uuid": uid("ta-item")},
    }


# ----------------------------------------------------------------------------- writing files

def write_gz(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))


def cloudtrail_files(records):
    """Groups records into delivered log files: per region, one file per hour with activity."""
    batches = {}
    for rec in records:
        t = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        hour = t.replace(minute=0, second=0)
        window = hour + timedelta(minutes=60 + ord(token(rec["awsRegion"] + iso(hour), 1)) % 7)
        batches.setdefault((rec["awsRegion"], window), []).append(rec)
    root = os.path.join(LOGS, "AWSLogs", ACCT, "CloudTrail")
    for (region, window), recs in sorted(batches.items()):
        recs.sort(key=lambda r: (r["eventTime"], r["eventID"]))
        stamp = window.strftime("%Y%m%dT%H%MZ")
        name = f"{ACCT}_CloudTrail_{region}_{stamp}_{token(region + stamp, 16)}.json.gz"
        path = os.path.join(root, region, window.strftime("%Y/%m/%d"), name)
        body = json.dumps({"Records": recs}, separators=(",", ":")).encode()
        write_gz(path, body)
    return len(batches)


def main():
    shutil.rmtree(LOGS, ignore_errors=True)
    records = []
    for n in range(9):
        day = FIRST_DAY + timedelta(days=n)
        records += benign_day(day, day == ATTACK_DAY)
    benign = len(records)
    records += attack()
    files = cloudtrail_files(records)

    flow_root = os.path.join(LOGS, "AWSLogs", ACCT, "vpcflowlogs", HOME, "2026/10/14")
    web = sorted(web_flows(), key=lambda f: (f["start"], f["srcaddr"], f["dstport"]))
    write_gz(os.path.join(flow_root, f"{ACCT}_vpcflowlogs_{HOME}_fl-0a1b2c3d4e5f60718_20261014T0400Z_3f9a1c2e.log.gz"),
             ("\n".join(default_line(f) for f in web) + "\n").encode())
    db = sorted(db_flows(), key=lambda x: (x[1]["start"], x[1]["srcaddr"], x[1]["dstport"]))
    write_gz(os.path.join(flow_root, f"{ACCT}_vpcflowlogs_{HOME}_fl-0d1b2c3d4e5f60718_20261014T0400Z_8b7e6d5c.log.gz"),
             (" ".join(V5_FIELDS) + "\n" + "\n".join(v5_line(d, f) for d, f in db) + "\n").encode())

    s3_dir = os.path.join(LOGS, "s3-access-logs", "acme-s3-access-logs", "acme-reports-prod")
    os.makedirs(s3_dir, exist_ok=True)
    with open(os.path.join(s3_dir, "2026-10-14-03-31-17-8C1D2E3F4A5B6C7D"), "w") as f:
        f.write("\n".join(s3_access_lines()) + "\n")

    eb = os.path.join(LOGS, "eventbridge")
    os.makedirs(eb, exist_ok=True)
    with open(os.path.join(eb, "2026-10-14T0340Z-trusted-advisor-exposed-access-keys.json"), "w") as f:
        json.dump(trusted_advisor_event(), f, indent=2)
        f.write("\n")
    print(f"CloudTrail: {len(records)} records ({benign} background, {len(records) - benign} intrusion) "
          f"in {files} files; flow logs: {len(web)} + {len(db)} records; "
          f"S3 access log: {len(s3_access_lines())} records; 1 Trusted Advisor event")


if __name__ == "__main__":
    main()
