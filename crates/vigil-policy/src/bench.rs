//! A generated corpus of realistic resource policies, for the `policy_bench` example and
//! for property tests. Deterministic for a given seed.
//!
//! The generator is a few lines of SplitMix64 rather than the `rand` crate: it needs no
//! statistical quality, only reproducibility, and keeps the library free of a dependency.

use serde_json::{json, Value};

/// SplitMix64: a tiny, deterministic pseudo-random sequence.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const ACCOUNTS: &[&str] = &["111122223333", "444455556666", "777788889999"];

struct KindShape {
    actions: &'static [&'static str],
    resources: &'static [&'static str],
}

const SHAPES: &[KindShape] = &[
    KindShape {
        actions: &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:*",
            "s3:Get*",
            "s3:DeleteObject",
        ],
        resources: &[
            "arn:aws:s3:::example-bucket",
            "arn:aws:s3:::example-bucket/*",
            "arn:aws:s3:::example-bucket/home/${aws:username}/*",
        ],
    },
    KindShape {
        actions: &[
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:*",
            "kms:CreateGrant",
            "kms:DescribeKey",
        ],
        resources: &["*"],
    },
    KindShape {
        actions: &[
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:*",
            "sqs:GetQueueAttributes",
        ],
        resources: &["arn:aws:sqs:us-east-1:111122223333:orders"],
    },
    KindShape {
        actions: &[
            "sns:Publish",
            "sns:Subscribe",
            "sns:*",
            "SNS:GetTopicAttributes",
        ],
        resources: &["arn:aws:sns:us-east-1:111122223333:alerts"],
    },
    KindShape {
        actions: &[
            "lambda:InvokeFunction",
            "lambda:InvokeFunctionUrl",
            "lambda:*",
        ],
        resources: &["arn:aws:lambda:us-east-1:111122223333:function:handler"],
    },
    KindShape {
        actions: &[
            "secretsmanager:GetSecretValue",
            "secretsmanager:*",
            "secretsmanager:DescribeSecret",
        ],
        resources: &["*"],
    },
    KindShape {
        actions: &[
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:*",
            "ecr:PutImage",
        ],
        resources: &["*"],
    },
];

fn principal(rng: &mut SplitMix64) -> Value {
    match rng.below(9) {
        0 => json!("*"),
        1 => json!({"AWS": "*"}),
        2 => json!({"AWS": rng.pick(ACCOUNTS)}),
        3 => json!({"AWS": format!("arn:aws:iam::{}:root", rng.pick(ACCOUNTS))}),
        4 => json!({"AWS": format!("arn:aws:iam::{}:role/Reader", rng.pick(ACCOUNTS))}),
        5 => {
            json!({"Service": rng.pick(&["cloudtrail.amazonaws.com", "sns.amazonaws.com", "logs.amazonaws.com"])})
        }
        6 => {
            json!({"AWS": [rng.pick(ACCOUNTS), format!("arn:aws:iam::{}:user/alice", rng.pick(ACCOUNTS))]})
        }
        7 => {
            json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"})
        }
        _ => {
            json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"})
        }
    }
}

fn condition(rng: &mut SplitMix64) -> Value {
    match rng.below(16) {
        0 => json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        1 => json!({"StringLike": {"aws:SourceVpce": "*"}}),
        2 => json!({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        3 => json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        4 => json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7"]}}),
        5 => json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
        6 => json!({"Bool": {"aws:SecureTransport": "true"}}),
        7 => json!({"StringEquals": {"aws:SourceAccount": rng.pick(ACCOUNTS)}}),
        8 => {
            json!({"ArnLike": {"aws:SourceArn": format!("arn:aws:cloudtrail:*:{}:trail/*", rng.pick(ACCOUNTS))}})
        }
        9 => {
            json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"]}})
        }
        10 => json!({"Null": {"aws:PrincipalArn": "false"}}),
        11 => json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        12 => json!({"NumericLessThanEquals": {"s3:max-keys": "100"}}),
        13 => {
            json!({"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:octo-org/app:ref:refs/heads/main"}})
        }
        14 => json!({"StringNotEquals": {"aws:PrincipalAccount": rng.pick(ACCOUNTS)}}),
        _ => {
            json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": rng.pick(ACCOUNTS)}})
        }
    }
}

fn merge(into: &mut serde_json::Map<String, Value>, block: Value) {
    if let Value::Object(ops) = block {
        for (op, keys) in ops {
            match (into.get_mut(&op), keys) {
                (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
                (_, keys) => {
                    into.insert(op, keys);
                }
            }
        }
    }
}

fn statement(rng: &mut SplitMix64, shape: &KindShape, index: usize) -> Value {
    let effect = if rng.chance(25) { "Deny" } else { "Allow" };
    let mut st = serde_json::Map::new();
    st.insert("Sid".into(), json!(format!("S{index}")));
    st.insert("Effect".into(), json!(effect));
    let principal_key = if rng.chance(5) {
        "NotPrincipal"
    } else {
        "Principal"
    };
    let mut p = principal(rng);
    if principal_key == "NotPrincipal" && p == json!("*") {
        p = json!({"AWS": rng.pick(ACCOUNTS)});
    }
    st.insert(principal_key.into(), p);
    let action_key = if rng.chance(5) { "NotAction" } else { "Action" };
    let n = 1 + rng.below(3);
    let actions: Vec<&str> = (0..n).map(|_| *rng.pick(shape.actions)).collect();
    st.insert(action_key.into(), json!(actions));
    if rng.chance(90) {
        st.insert("Resource".into(), json!(rng.pick(shape.resources)));
    }
    let conditions = rng.below(3);
    if conditions > 0 {
        let mut block = serde_json::Map::new();
        for _ in 0..conditions {
            merge(&mut block, condition(rng));
        }
        st.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(st)
}

/// `n` policy documents (JSON text) drawn from the shapes of the eight resource kinds, with
/// every principal form and a mix of restricting and non-restricting conditions.
pub fn generate_corpus(n: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let shape = rng.pick(SHAPES);
            let count = 1 + rng.below(5);
            let statements: Vec<Value> =
                (0..count).map(|i| statement(&mut rng, shape, i)).collect();
            json!({"Version": "2012-10-17", "Statement": statements}).to_string()
        })
        .collect()
}
