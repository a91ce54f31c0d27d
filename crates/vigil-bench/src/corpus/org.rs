//! The simulated organisation: accounts, regions, and the people, roles and resources in them.

use super::random::Dice;

/// Regions and how much of the traffic each sees.
pub const REGIONS: &[(&str, u32)] = &[
    ("us-east-1", 40),
    ("us-west-2", 20),
    ("eu-west-1", 14),
    ("eu-central-1", 10),
    ("ap-southeast-2", 5),
    ("ap-northeast-1", 5),
    ("sa-east-1", 3),
    ("ca-central-1", 3),
];

const ACCOUNT_NAMES: &[&str] = &[
    "prod-payments",
    "prod-web",
    "prod-data",
    "staging",
    "dev",
    "sandbox",
    "security",
    "log-archive",
    "shared-services",
    "network",
    "ml-platform",
    "audit",
];

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ci-deploy",
    "terraform",
    "backup-agent",
    "grafana-reader",
    "legacy-etl",
];

const ROLES: &[&str] = &[
    "AWSReservedSSO_AdministratorAccess_6c2f1a9e04b7d3f1",
    "AWSReservedSSO_ReadOnlyAccess_0b4d3e2f1a6c7d8e",
    "AWSReservedSSO_PowerUserAccess_9a8b7c6d5e4f3a2b",
    "OrganizationAccountAccessRole",
    "GitHubActionsDeploy",
    "eks-node-group-role",
    "ecsTaskExecutionRole",
    "lambda-orders-processor",
    "lambda-image-resizer",
    "datadog-integration",
    "AWSServiceRoleForConfig",
    "AWSServiceRoleForAutoScaling",
    "karpenter-controller",
    "backup-restore",
];

const SERVICES: &[&str] = &[
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "config.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "backup.amazonaws.com",
    "ssm.amazonaws.com",
    "guardduty.amazonaws.com",
    "access-analyzer.amazonaws.com",
    "rds.amazonaws.com",
];

/// One account and what lives in it.
pub struct Account {
    pub id: String,
    pub name: &'static str,
    /// Share of the traffic.
    pub weight: u32,
    pub users: Vec<(String, String, String)>,
    pub roles: Vec<(String, String)>,
    pub buckets: Vec<String>,
    pub functions: Vec<String>,
    pub instances: Vec<String>,
    pub keys: Vec<String>,
    pub secrets: Vec<String>,
    pub public_ips: Vec<String>,
}

/// Every account of the organisation.
pub struct Organisation {
    pub accounts: Vec<Account>,
}

impl Organisation {
    /// The organisation for `seed`.
    pub fn new(seed: u64) -> Self {
        let accounts = ACCOUNT_NAMES
            .iter()
            .enumerate()
            .map(|(index, name)| {
                Account::new(&mut Dice::new(seed, u64::MAX - index as u64), index, name)
            })
            .collect();
        Organisation { accounts }
    }
}

impl Account {
    fn new(dice: &mut Dice, index: usize, name: &'static str) -> Self {
        let id = format!("{:012}", 100_000_000_000 + dice.below(0, 899_999_999_999));
        let mut users = Vec::new();
        for user in USERS {
            if dice.chance(0.7) {
                users.push((
                    user.to_string(),
                    format!("AIDA{}", dice.upper(17)),
                    format!("AKIA{}", dice.upper(16)),
                ));
            }
        }
        let roles = ROLES
            .iter()
            .map(|role| (role.to_string(), format!("AROA{}", dice.upper(17))))
            .collect();
        let short = name.replace('_', "-");
        Account {
            weight: [30, 24, 16, 10, 8, 2, 3, 1, 3, 2, 4, 1]
                .get(index)
                .copied()
                .unwrap_or(1),
            users,
            roles,
            buckets: [
                "assets",
                "logs",
                "backups",
                "data-lake",
                "artifacts",
                "tfstate",
                "uploads",
            ]
            .iter()
            .map(|b| format!("{short}-{b}-{}", dice.hex(6)))
            .collect(),
            functions: [
                "orders-processor",
                "image-resizer",
                "auth-authorizer",
                "nightly-report",
                "slack-notifier",
            ]
            .iter()
            .map(|f| format!("{short}-{f}"))
            .collect(),
            instances: (0..40).map(|_| format!("i-0{}", dice.hex(16))).collect(),
            keys: (0..6).map(|_| dice.uuid()).collect(),
            secrets: [
                "db/master",
                "api/stripe",
                "api/slack",
                "oauth/google",
                "rds/readonly",
            ]
            .iter()
            .map(|s| {
                format!(
                    "{short}/{s}-{}",
                    dice.string(b"ABCDEFGHIJKLMNOPabcdefghijklmnop", 6)
                )
            })
            .collect(),
            public_ips: (0..8).map(|_| public_ip(dice)).collect(),
            id,
            name,
        }
    }
}

/// A routable-looking IPv4 address outside the private ranges.
pub fn public_ip(dice: &mut Dice) -> String {
    let first = *dice.pick(&[
        3u64, 18, 34, 35, 44, 52, 54, 63, 81, 92, 104, 141, 176, 185, 203,
    ]);
    format!(
        "{first}.{}.{}.{}",
        dice.below(0, 256),
        dice.below(0, 256),
        dice.below(1, 255)
    )
}

/// An AWS service principal that acts on its own.
pub fn service_principal(dice: &mut Dice) -> &'static str {
    let name: &&'static str = dice.pick(SERVICES);
    name
}
