//! CloudTrail in every shape it arrives in: log files, single records, JSON Lines, arrays,
//! lookup-events output, EventBridge envelopes, digests; plain and gzip.

use vigil_event::LogSource;
use vigil_input::{read_bytes, Format, ReadOptions};

use crate::helpers::*;

#[test]
fn every_cloudtrail_sample_is_read_whole() {
    for path in sample_files("cloudtrail", "json") {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = expected_records(&text);
        let (report, sink) = read_file(&path);
        assert_eq!(report.rejected, 0, "{}: {:?}", path.display(), sink.rejects);
        assert_eq!(sink.events.len(), expected.len(), "{}", path.display());
        for (event, record) in sink.events.iter().zip(&expected) {
            assert_eq!(&doc_json(event), record, "{}", path.display());
            let insight = record["eventType"] == "AwsCloudTrailInsight";
            let source = if insight {
                LogSource::CloudTrailInsight
            } else {
                LogSource::CloudTrail
            };
            assert_eq!(event.source, source, "{}", path.display());
            assert!(event.time_ms.is_some(), "{}", path.display());
        }
        let wrapped = text.contains("\"Records\"");
        let expected_format = if wrapped {
            Format::CloudTrailLogFile
        } else if text.contains("\"Events\"") {
            Format::LookupEvents
        } else {
            Format::JsonRecord
        };
        assert_eq!(report.format, expected_format, "{}", path.display());
    }
}

#[test]
fn gzip_log_files_read_like_plain_ones() {
    for path in sample_files("cloudtrail", "json") {
        let plain = std::fs::read(&path).unwrap();
        let (plain_report, plain_sink) = read_mem("plain.json", &plain);
        let (gz_report, gz_sink) = read_mem("x.json.gz", &gzip(&plain));
        assert!(gz_report.compressed && !plain_report.compressed);
        assert_eq!(gz_report.events, plain_report.events, "{}", path.display());
        assert_eq!(gz_report.format, plain_report.format);
        let docs = |sink: &vigil_input::Collected| -> Vec<_> {
            sink.events.iter().map(doc_json).collect()
        };
        assert_eq!(docs(&gz_sink), docs(&plain_sink));
    }
}

#[test]
fn common_fields_come_through() {
    let (_, sink) = read_file(&sample("cloudtrail/ec2-stopinstances-iam-user-alice.json"));
    let common = sink.events[0].common();
    assert_eq!(common.action, Some("StopInstances"));
    assert_eq!(common.service, Some("ec2"));
    assert_eq!(
        common.principal.arn,
        Some("arn:aws:iam::123456789012:user/Alice")
    );
    assert_eq!(common.source_ip, Some("205.251.233.176"));
    assert_eq!(sink.events[0].origin.record, 1);

    let (_, sink) = read_file(&sample(
        "cloudtrail/s3-listbuckets-putbucketacl-getbucketversioning.json",
    ));
    let actions: Vec<_> = sink
        .events
        .iter()
        .map(|e| e.common().action.unwrap())
        .collect();
    assert_eq!(
        actions,
        ["ListBuckets", "PutBucketAcl", "GetBucketVersioning"]
    );
    let records: Vec<u64> = sink.events.iter().map(|e| e.origin.record).collect();
    assert_eq!(records, [1, 2, 3]);
    assert_eq!(sink.events[0].common().account, Some("444455556666"));
}

#[test]
fn json_lines_and_arrays_of_records_are_read() {
    let records: Vec<serde_json::Value> = sample_files("cloudtrail", "json")
        .iter()
        .flat_map(|p| expected_records(&std::fs::read_to_string(p).unwrap()))
        .collect();
    let jsonl: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (report, sink) = read_mem("all.jsonl", jsonl.as_bytes());
    assert_eq!(report.format, Format::JsonLines);
    assert_eq!(sink.events.len(), records.len());
    assert_eq!(
        sink.events[4].origin.record, 5,
        "JSON Lines records are numbered by line"
    );

    let arrays: String = records
        .chunks(3)
        .map(|chunk| format!("{}\n", serde_json::json!(chunk)))
        .collect();
    let (report, sink) = read_mem("arrays.jsonl", arrays.as_bytes());
    assert_eq!((report.format, report.rejected), (Format::JsonLines, 0));
    assert_eq!(sink.events.len(), records.len());
    assert_eq!(
        sink.events[4].origin.record, 2,
        "the second line holds records 4 to 6"
    );

    let array = serde_json::to_string_pretty(&records).unwrap();
    let (report, sink) = read_mem("all.json", array.as_bytes());
    assert_eq!(report.format, Format::JsonArray);
    assert_eq!(sink.events.len(), records.len());
    let docs: Vec<_> = sink.events.iter().map(doc_json).collect();
    assert_eq!(docs, records);
}

#[test]
fn the_fast_and_the_careful_path_read_the_same_events() {
    let records: Vec<serde_json::Value> = sample_files("cloudtrail", "json")
        .iter()
        .flat_map(|p| expected_records(&std::fs::read_to_string(p).unwrap()))
        .collect();
    let list: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    let clean = format!("{{\"Records\": [{}]}}", list.join(",\n"));
    // A bad first element sends every record after it through the careful path.
    let spoiled = format!(
        "{{\"Records\": [{{\"eventName\": 1}},\n{}]}}",
        list.join(",\n")
    );
    let (_, fast) = read_mem("clean.json", clean.as_bytes());
    let (report, careful) = read_mem("spoiled.json", spoiled.as_bytes());
    assert_eq!(report.rejected, 1);
    let docs =
        |sink: &vigil_input::Collected| -> Vec<_> { sink.events.iter().map(doc_json).collect() };
    assert_eq!(docs(&fast), records);
    assert_eq!(docs(&careful), records);
    let sources = |sink: &vigil_input::Collected| -> Vec<_> {
        sink.events.iter().map(|e| e.source).collect()
    };
    assert_eq!(sources(&fast), sources(&careful));
    assert_eq!(careful.events[0].origin.record, 2);
}

#[test]
fn stdin_is_read_through_read_bytes() {
    let text = std::fs::read(sample("cloudtrail/iam-createuser-iam-user-alice.json")).unwrap();
    let (report, sink) = read_mem("-", &gzip(&text));
    assert_eq!(report.input.as_ref(), "-");
    assert_eq!(sink.events[0].origin.file.as_ref(), "-");
    assert_eq!(sink.events[0].common().action, Some("CreateUser"));
}

#[test]
fn lookup_events_output_unwraps_cloudtrail_event() {
    let record = sample_text("cloudtrail/ec2-startinstances-iam-user-alice.json");
    let record = expected_records(&record).remove(0);
    let entry = serde_json::json!({
        "EventId": record["eventID"], "EventName": "StartInstances", "ReadOnly": "false",
        "EventTime": 1_393_878_585, "EventSource": "ec2.amazonaws.com", "Username": "Alice",
        "Resources": [], "CloudTrailEvent": record.to_string(),
    });
    let output = serde_json::json!({"Events": [entry.clone(), entry]});
    let (report, sink) = read_mem("lookup.json", output.to_string().as_bytes());
    assert_eq!(report.format, Format::LookupEvents);
    assert_eq!(sink.events.len(), 2);
    assert_eq!(doc_json(&sink.events[0]), record);
    let envelope = sink.events[0].envelope.as_deref().unwrap();
    let envelope: serde_json::Value = serde_json::from_str(&envelope.to_string()).unwrap();
    assert_eq!(envelope["Username"], "Alice");
    assert!(envelope.get("CloudTrailEvent").is_none());
    assert_eq!(sink.events[1].origin.record, 2);
}

#[test]
fn eventbridge_cloudtrail_envelopes_yield_the_detail() {
    for (file, action) in [
        (
            "eventbridge/aws-api-call-via-cloudtrail-s3-createbucket.json",
            "CreateBucket",
        ),
        (
            "eventbridge/aws-console-signin-via-cloudtrail-root.json",
            "ConsoleLogin",
        ),
    ] {
        let text = sample_text(file);
        let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (report, sink) = read_file(&sample(file));
        assert_eq!(report.format, Format::EventBridge);
        assert_eq!(sink.events.len(), 1, "{file}");
        let event = &sink.events[0];
        assert_eq!(event.source, LogSource::CloudTrail);
        assert_eq!(doc_json(event), envelope["detail"]);
        assert_eq!(event.common().action, Some(action));
        let kept = event.envelope.as_deref().unwrap().to_string();
        let kept: serde_json::Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(kept["detail-type"], envelope["detail-type"]);
        assert!(kept.get("detail").is_none());
    }
}

#[test]
fn other_eventbridge_detail_types_are_rejected_by_name() {
    for (file, detail_type) in [
        ("eventbridge/kms-cmk-deletion.json", "KMS CMK Deletion"),
        (
            "eventbridge/ec2-instance-state-change-terminated.json",
            "EC2 Instance State-change Notification",
        ),
        (
            "eventbridge/securityhub-insight-results.json",
            "Security Hub Insight Results",
        ),
    ] {
        let (report, sink) = read_file(&sample(file));
        assert_eq!((report.events, report.rejected), (0, 1), "{file}");
        let reason = &sink.rejects[0].reason;
        assert!(reason.contains(detail_type), "{file}: {reason}");
    }
}

#[test]
fn digest_files_are_skipped_with_a_note() {
    for path in sample_files("cloudtrail-digest", "json") {
        let (report, _) = read_file(&path);
        assert_eq!(report.format, Format::CloudTrailDigest);
        assert_eq!(report.records_read, 0);
        assert_eq!(
            report.skipped.as_deref(),
            Some("CloudTrail digest file; validate with vigil trail verify")
        );
    }
}

#[test]
fn a_whole_sample_directory_is_read_with_counts_adding_up() {
    let inputs = vigil_input::expand(&[sample("").display().to_string()]).unwrap();
    let mut events = 0;
    for input in &inputs {
        let vigil_input::Input::File(path) = input else {
            unreachable!()
        };
        let (report, sink) = read_file(path);
        events += report.events;
        let name = path.display().to_string();
        let is_data = name.ends_with(".json") || name.ends_with(".log");
        if !is_data {
            // Licences, the README, templates: one reject for the whole file.
            assert_eq!((report.events, report.rejected), (0, 1), "{name}");
            let reason = &sink.rejects[0].reason;
            assert!(
                reason.starts_with("unrecognised format") || reason.starts_with("malformed JSON"),
                "{name}: {reason}"
            );
        }
    }
    assert!(events > 0);
}

/// A sink that wants only some records back, as the engine reads evidence back.
struct Picker {
    wanted: Vec<u64>,
    got: Vec<(u64, String)>,
    /// What `last_wanted` says (`None`: the default, no limit).
    last: Option<u64>,
}

impl vigil_input::RecordSink for Picker {
    fn event(&mut self, event: vigil_event::Event) {
        let name = event.common().action.unwrap_or("-").to_string();
        self.got.push((event.origin.record, name));
    }
    fn reject(&mut self, reject: vigil_input::Reject) {
        panic!("unexpected reject {reject:?}");
    }
    fn is_selective(&self) -> bool {
        true
    }
    fn wants(&self, record: u64) -> bool {
        self.wanted.contains(&record)
    }
    fn last_wanted(&self) -> Option<u64> {
        self.last
    }
}

#[test]
fn a_selective_sink_gets_only_the_records_it_wants_with_their_positions() {
    let records: Vec<String> = (1..=6)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"Call{i}","eventTime":"2024-01-01T00:00:0{i}Z"}}"#
            )
        })
        .collect();
    let doc = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let mut all = vigil_input::Collected::default();
    read_bytes(
        "t.json.gz",
        &gzip(doc.as_bytes()),
        &ReadOptions::default(),
        &mut all,
    );
    let mut picker = Picker {
        wanted: vec![2, 5],
        got: Vec::new(),
        last: None,
    };
    let report = read_bytes(
        "t.json.gz",
        &gzip(doc.as_bytes()),
        &ReadOptions::default(),
        &mut picker,
    );
    assert_eq!(report.records_read, 6);
    assert_eq!(
        picker.got,
        vec![(2, "Call2".to_string()), (5, "Call5".to_string())]
    );
    // The same positions as a full read gives those records.
    let full: Vec<(u64, String)> = all
        .events
        .iter()
        .filter(|e| [2, 5].contains(&e.origin.record))
        .map(|e| {
            (
                e.origin.record,
                e.common().action.unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(picker.got, full);
}

/// A selective sink that names its last wanted record stops the split there: the document
/// past it is not even looked at, so here its broken tail goes unnoticed (read on, it would
/// be a reject, which this sink does not expect).
#[test]
fn a_selective_sink_stops_the_split_after_its_last_wanted_record() {
    let records: Vec<String> = (1..=6)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"Call{i}","eventTime":"2024-01-01T00:00:0{i}Z"}}"#
            )
        })
        .collect();
    // Records 1-4, then a broken element.
    let doc = format!(
        r#"{{"Records":[{},{{"eventName": ]}}"#,
        records[..4].join(",")
    );
    let read = |last: Option<u64>| {
        let mut picker = Picker {
            wanted: vec![1, 3],
            got: Vec::new(),
            last,
        };
        let report = read_bytes(
            "t.json.gz",
            &gzip(doc.as_bytes()),
            &ReadOptions::default(),
            &mut picker,
        );
        (picker.got, report)
    };
    let (got, report) = read(Some(3));
    assert_eq!(
        got,
        vec![(1, "Call1".to_string()), (3, "Call3".to_string())]
    );
    assert_eq!(
        report.records_read, 3,
        "records past the last wanted are not split"
    );
    assert_eq!(report.error, None);
}

/// Inputs read one after the other on one thread share a document buffer: each must see
/// only its own bytes, whatever the size and format of the input before it.
#[test]
fn inputs_read_in_turn_see_only_their_own_bytes() {
    let record = |name: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventName":"{name}"}}"#
        )
    };
    let big: Vec<String> = (0..2000).map(|i| record(&format!("Big{i}"))).collect();
    let big = format!(r#"{{"Records":[{}]}}"#, big.join(","));
    let small = format!(r#"{{"Records":[{}]}}"#, record("Small"));
    let lines = format!("{}\n{}\n", record("LineOne"), record("LineTwo"));
    let truncated = &big[..big.len() / 2];
    let inputs: [(&str, &[u8], &[&str]); 5] = [
        ("big.json", big.as_bytes(), &[]),
        ("small.json", small.as_bytes(), &["Small"]),
        ("lines.jsonl", lines.as_bytes(), &["LineOne", "LineTwo"]),
        ("cut.json", truncated.as_bytes(), &[]),
        ("small-again.json", small.as_bytes(), &["Small"]),
    ];
    for (name, bytes, expected) in inputs {
        let (report, sink) = read_mem(name, bytes);
        let actions: Vec<&str> = sink
            .events
            .iter()
            .filter_map(|e| e.common().action)
            .collect();
        if name == "big.json" {
            assert_eq!((actions.len(), report.rejected), (2000, 0), "{name}");
            assert_eq!(actions.last(), Some(&"Big1999"), "{name}");
        } else if name == "cut.json" {
            assert!(actions.len() < 2000 && report.rejected > 0, "{name}");
        } else {
            assert_eq!(actions, expected, "{name}");
            assert_eq!(report.rejected, 0, "{name}");
        }
    }
}
