//! Helpers shared by the CLI tests: run the binary, read its JSON Lines, make input files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The 57 SigmaHQ AWS CloudTrail rules copied into the repository.
pub fn sigmahq_rules() -> PathBuf {
    repo().join("crates/vigil-sigma/tests/data/sigma/aws")
}

/// The AWS documentation samples copied into the repository.
pub fn aws_samples() -> PathBuf {
    repo().join("crates/vigil-input/tests/data/aws-samples")
}

/// The environment a `vigil` process needs to talk to moto: any credentials, a region, and no
/// instance-metadata lookups.
pub const EMULATOR_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON Lines; panics (failing the test) on a line that is not JSON.
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {e}: {line}"))
            })
            .collect()
    }

    /// The `read N = evaluated N + rejected N` numbers of the summary line.
    pub fn counts(&self) -> (u64, u64, u64) {
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains(" = evaluated "))
            .unwrap_or_else(|| panic!("no summary line in:\n{}", self.stderr));
        let number_after = |word: &str| -> u64 {
            let rest = &line[line
                .find(word)
                .unwrap_or_else(|| panic!("{word} missing: {line}"))
                + word.len()..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
                .parse()
                .unwrap()
        };
        (
            number_after("read "),
            number_after("evaluated "),
            number_after("rejected "),
        )
    }
}

/// Runs `vigil ARGS` in `dir` with `stdin` as standard input.
pub fn vigil_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    vigil_env(dir, args, stdin, &[])
}

/// [`vigil_in`] with extra environment variables (credentials for an emulator, say).
pub fn vigil_env(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env_remove("VIGIL_STORE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the vigil binary runs");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).expect("writing stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("vigil finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `vigil ARGS` from the repository root.
pub fn vigil(args: &[&str]) -> Run {
    vigil_in(&repo(), args, None)
}

/// Gzips `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// A CloudTrail record of `event_name` by an IAM user at `time`.
pub fn cloudtrail_record(event_name: &str, event_source: &str, time: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
            "arn": "arn:aws:iam::111122223333:user/mallory", "accessKeyId": "AKIAEXAMPLEKEY",
            "userName": "mallory"
        },
        "eventTime": time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"name": "main-trail"},
        "responseElements": null,
        "eventID": format!("id-{event_name}-{time}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
}

/// `{"Records": [...]}` of the given records.
pub fn trail_file(records: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "Records": records })).expect("serialisable")
}
