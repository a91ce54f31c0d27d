//! A quick sanity check of reading speed (the real benchmark is in vigil-bench): builds a
//! gzip CloudTrail log file in memory and reports records per second for gunzip alone,
//! gunzip + a plain sonic-rs parse of each record (the floor), and vigil-input's full read.
//!
//! `cargo run --release -p vigil-input --example throughput [records]`

use std::io::{Read, Write};
use std::time::Instant;

use vigil_event::Event;
use vigil_input::{read_bytes, ReadOptions, RecordSink, Reject};

#[derive(Default)]
struct Count {
    events: u64,
    rejects: u64,
}

impl RecordSink for Count {
    fn event(&mut self, event: Event) {
        self.events += u64::from(event.time_ms.is_some());
    }

    fn reject(&mut self, _: Reject) {
        self.rejects += 1;
    }
}

fn record(i: usize) -> String {
    let services = ["ec2", "iam", "s3", "sts", "kms", "lambda", "cloudtrail"];
    let service = services[i % services.len()];
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE{i:06}:session","arn":"arn:aws:sts::1234567890{a:02}:assumed-role/Role{r}/session","accountId":"1234567890{a:02}","accessKeyId":"ASIAEXAMPLE{i:09}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::1234567890{a:02}:role/Role{r}","accountId":"1234567890{a:02}","userName":"Role{r}"}},"attributes":{{"creationDate":"2024-05-01T09:00:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2024-05-01T10:{m:02}:{s:02}Z","eventSource":"{service}.amazonaws.com","eventName":"Describe{service}{k}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.{ip}","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 botocore/2.4.5","requestParameters":{{"maxResults":100,"filterSet":{{"items":[{{"name":"tag:env","valueSet":{{"items":[{{"value":"prod"}}]}}}}]}}}},"responseElements":null,"requestID":"req-{i:012}","eventID":"evt-{i:012}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"1234567890{a:02}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{service}.us-east-1.amazonaws.com"}}}}"#,
        a = i % 50,
        r = i % 17,
        k = i % 40,
        m = (i / 60) % 60,
        s = i % 60,
        ip = i % 250,
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

fn rate(label: &str, records: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<40} {:>10.0} records/s", records as f64 / secs);
}

fn main() {
    let records: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let list: Vec<String> = (0..records).map(record).collect();
    let document = format!("{{\"Records\":[{}]}}", list.join(","));
    let jsonl = list.join("\n");
    println!(
        "{records} records, {} MB of JSON, {:.0} bytes per record",
        document.len() >> 20,
        document.len() as f64 / records as f64
    );
    let (doc_gz, jsonl_gz) = (gzip(document.as_bytes()), gzip(jsonl.as_bytes()));
    if std::env::args().nth(2).as_deref() == Some("setup-only") {
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("vigil-only") {
        let mut sink = Count::default();
        for _ in 0..5 {
            read_bytes("bench", &doc_gz, &ReadOptions::default(), &mut sink);
        }
        return;
    }

    let start = Instant::now();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&jsonl_gz[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    rate("gunzip alone", records, start);

    let start = Instant::now();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&jsonl_gz[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    let mut parsed = 0u64;
    for line in out.split(|&b| b == b'\n') {
        let value: sonic_rs::Value = sonic_rs::from_slice(line).expect("parse");
        parsed += u64::from(sonic_rs::JsonValueTrait::is_object(&value));
    }
    rate("gunzip + sonic-rs parse of each record", records, start);
    assert_eq!(parsed, records as u64);

    for (label, bytes) in [
        ("vigil-input, Records .json.gz", &doc_gz),
        ("vigil-input, JSON Lines .gz", &jsonl_gz),
    ] {
        let start = Instant::now();
        let mut sink = Count::default();
        let report = read_bytes("bench", bytes, &ReadOptions::default(), &mut sink);
        rate(label, records, start);
        assert_eq!(
            (sink.events, sink.rejects),
            (records as u64, 0),
            "{report:?}"
        );
    }
}
