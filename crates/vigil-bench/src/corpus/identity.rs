//! Who made a call: the `userIdentity` block, source IP and user agent of a record.

use serde_json::{json, Value};

use super::org::{public_ip, service_principal, Account};
use super::random::Dice;

/// CloudTrail identity types, with their share of ordinary traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    AssumedRole,
    IamUser,
    Root,
    AwsService,
    FederatedUser,
    AwsAccount,
    IdentityCenterUser,
}

pub const IDENTITY_MIX: &[(IdentityKind, u32)] = &[
    (IdentityKind::AssumedRole, 640),
    (IdentityKind::AwsService, 170),
    (IdentityKind::IamUser, 130),
    (IdentityKind::FederatedUser, 25),
    (IdentityKind::AwsAccount, 25),
    (IdentityKind::IdentityCenterUser, 8),
    (IdentityKind::Root, 2),
];

const USER_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/ec2.describe-instances",
    "aws-cli/2.17.1 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.216-204.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.156.0",
    "aws-sdk-java/2.25.28 Linux/5.10.215-203.850.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.44.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1",
    "aws-sdk-js/3.552.0 ua/2.0 os/linux#5.10.214-202.855.amzn2.x86_64 lang/js md/nodejs#20.12.1 api/s3#3.552.0",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.666 Linux/5.10.213-179.855.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation cfg/retry-mode/standard]",
    "console.amazonaws.com",
    "Datadog/1.0 aws-sdk-go/1.51.11 (go1.21.9; linux; amd64)",
];

/// The acting side of one record.
pub struct Actor {
    pub identity: Value,
    pub kind: IdentityKind,
    pub source_ip: String,
    pub user_agent: String,
    /// Whether the call came over TLS from outside AWS's own fabric (has `tlsDetails`).
    pub external: bool,
}

/// An actor of `kind` in `account`, calling at `time` (RFC 3339, used for session dates).
pub fn actor(dice: &mut Dice, account: &Account, kind: IdentityKind, time: &str) -> Actor {
    match kind {
        IdentityKind::AssumedRole => assumed_role(dice, account, time),
        IdentityKind::IamUser => iam_user(dice, account),
        IdentityKind::Root => root(dice, account),
        IdentityKind::AwsService => aws_service(dice),
        IdentityKind::FederatedUser => federated(dice, account, time),
        IdentityKind::AwsAccount => aws_account(dice),
        IdentityKind::IdentityCenterUser => identity_center(dice, account),
    }
}

fn human(dice: &mut Dice, account: &Account, kind: IdentityKind, identity: Value) -> Actor {
    let source_ip = if dice.chance(0.7) && !account.public_ips.is_empty() {
        dice.pick(&account.public_ips).clone()
    } else {
        public_ip(dice)
    };
    Actor {
        identity,
        kind,
        source_ip,
        user_agent: dice.pick(USER_AGENTS).to_string(),
        external: true,
    }
}

fn assumed_role(dice: &mut Dice, account: &Account, time: &str) -> Actor {
    let (role, role_id) = dice.pick(&account.roles).clone();
    let session = if role.starts_with("AWSReserved") {
        format!(
            "{}@example.com",
            dice.pick(&["alice", "bob", "carol", "dave", "erin"])
        )
    } else {
        format!("{}", dice.below(1_700_000_000_000, 1_720_000_000_000))
    };
    let identity = json!({
        "type": "AssumedRole",
        "principalId": format!("{role_id}:{session}"),
        "arn": format!("arn:aws:sts::{}:assumed-role/{role}/{session}", account.id),
        "accountId": account.id,
        "accessKeyId": format!("ASIA{}", dice.upper(16)),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": format!("arn:aws:iam::{}:role/{role}", account.id),
                "accountId": account.id,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": { "creationDate": time, "mfaAuthenticated": "false" },
        },
    });
    human(dice, account, IdentityKind::AssumedRole, identity)
}

fn iam_user(dice: &mut Dice, account: &Account) -> Actor {
    let Some((user, user_id, key)) = account
        .users
        .first()
        .map(|_| dice.pick(&account.users).clone())
    else {
        return root(dice, account);
    };
    let identity = json!({
        "type": "IAMUser",
        "principalId": user_id,
        "arn": format!("arn:aws:iam::{}:user/{user}", account.id),
        "accountId": account.id,
        "accessKeyId": key,
        "userName": user,
    });
    human(dice, account, IdentityKind::IamUser, identity)
}

/// The account's root user.
pub fn root(dice: &mut Dice, account: &Account) -> Actor {
    let identity = json!({
        "type": "Root",
        "principalId": account.id,
        "arn": format!("arn:aws:iam::{}:root", account.id),
        "accountId": account.id,
        "accessKeyId": format!("ASIA{}", dice.upper(16)),
    });
    human(dice, account, IdentityKind::Root, identity)
}

fn aws_service(dice: &mut Dice) -> Actor {
    let service = service_principal(dice);
    Actor {
        identity: json!({ "type": "AWSService", "invokedBy": service }),
        kind: IdentityKind::AwsService,
        source_ip: service.to_string(),
        user_agent: service.to_string(),
        external: false,
    }
}

fn federated(dice: &mut Dice, account: &Account, time: &str) -> Actor {
    let name = dice
        .pick(&["okta-sync", "jenkins", "vault-aws"])
        .to_string();
    let identity = json!({
        "type": "FederatedUser",
        "principalId": format!("{}:{name}", account.id),
        "arn": format!("arn:aws:sts::{}:federated-user/{name}", account.id),
        "accountId": account.id,
        "accessKeyId": format!("ASIA{}", dice.upper(16)),
        "sessionContext": {
            "sessionIssuer": {
                "type": "IAMUser",
                "principalId": format!("AIDA{}", dice.upper(17)),
                "arn": format!("arn:aws:iam::{}:user/federation-broker", account.id),
                "accountId": account.id,
                "userName": "federation-broker",
            },
            "attributes": { "creationDate": time, "mfaAuthenticated": "false" },
        },
    });
    human(dice, account, IdentityKind::FederatedUser, identity)
}

fn aws_account(dice: &mut Dice) -> Actor {
    let other = format!("{:012}", dice.below(100_000_000_000, 999_999_999_999));
    let identity = json!({
        "type": "AWSAccount",
        "principalId": format!("AIDA{}", dice.upper(17)),
        "accountId": other,
    });
    Actor {
        identity,
        kind: IdentityKind::AwsAccount,
        source_ip: public_ip(dice),
        user_agent: dice.pick(USER_AGENTS).to_string(),
        external: true,
    }
}

fn identity_center(dice: &mut Dice, account: &Account) -> Actor {
    let user = dice.pick(&["alice", "bob", "carol"]).to_string();
    let identity = json!({
        "type": "IdentityCenterUser",
        "accountId": account.id,
        "onBehalfOf": {
            "userId": dice.uuid(),
            "identityStoreArn": format!("arn:aws:identitystore::{}:identitystore/d-{}", account.id, dice.hex(10)),
        },
        "credentialId": format!("{user}-{}", dice.hex(24)),
    });
    human(dice, account, IdentityKind::IdentityCenterUser, identity)
}
