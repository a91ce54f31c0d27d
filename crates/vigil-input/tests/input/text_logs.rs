//! VPC Flow Logs and S3 server access logs.

use std::collections::BTreeMap;

use sonic_rs::JsonValueTrait;
use vigil_event::LogSource;
use vigil_input::Format;

use crate::helpers::*;

fn flow_formats() -> BTreeMap<String, String> {
    serde_json::from_str(&sample_text("vpc-flow-logs/formats.json")).unwrap()
}

#[test]
fn every_flow_log_sample_is_read_with_its_format() {
    for (file, format) in flow_formats() {
        let body = sample_text(&format!("vpc-flow-logs/{file}"));
        let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
        let with_header = format!("{format}\n{body}");
        for text in [with_header.clone(), body.clone()] {
            let (report, sink) = read_mem(&file, text.as_bytes());
            if !file.starts_with("default") && text == body {
                // A custom format without its header cannot be read: it is one reject.
                assert_eq!(report.events, 0, "{file}");
                continue;
            }
            assert_eq!(report.format, Format::VpcFlowLog, "{file}");
            assert_eq!(report.rejected, 0, "{file}: {:?}", sink.rejects);
            assert_eq!(sink.events.len(), lines.len(), "{file}");
            let names: Vec<&str> = format.split(' ').collect();
            for (event, line) in sink.events.iter().zip(&lines) {
                assert_eq!(event.source, LogSource::VpcFlow);
                assert_eq!(event.text.as_deref(), Some(*line));
                for (name, value) in names.iter().zip(line.split_ascii_whitespace()) {
                    let field = event.doc.get(*name);
                    match value {
                        "-" => assert!(field.is_none(), "{file}: {name}"),
                        _ => {
                            let got = field.map(|f| f.as_str().map_or(f.to_string(), String::from));
                            assert_eq!(got.as_deref(), Some(value), "{file}: {name}");
                        }
                    }
                }
            }
        }
        let (gz, _) = read_mem(&format!("{file}.gz"), &gzip(with_header.as_bytes()));
        assert_eq!((gz.compressed, gz.events), (true, lines.len() as u64));
    }
}

#[test]
fn flow_log_numbers_are_numbers_and_nodata_is_an_event() {
    let (_, sink) = read_file(&sample("vpc-flow-logs/default-v2-nodata-skipdata.log"));
    let statuses: Vec<_> = sink
        .events
        .iter()
        .map(|e| {
            e.doc
                .get("log-status")
                .and_then(|v| v.as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(statuses, ["NODATA", "SKIPDATA"]);
    assert!(sink.events[0].doc.get("srcaddr").is_none());

    let (_, sink) = read_file(&sample("vpc-flow-logs/default-v2-accept-reject.log"));
    let first = &sink.events[0];
    assert_eq!(
        first.doc.get("srcport").and_then(|v| v.as_u64()),
        Some(20641)
    );
    assert!(first.doc.get("account-id").is_some_and(|v| v.is_str()));
    let common = first.common();
    assert_eq!(common.source_ip, Some("172.31.16.139"));
    assert_eq!(common.account, Some("123456789010"));
    assert_eq!(common.action, Some("ACCEPT"));
    assert_eq!(first.time_ms, Some(1_418_530_010_000));
    assert_eq!(sink.events[1].origin.record, 2);
}

#[test]
fn s3_access_log_example_is_read() {
    let path = sample("s3-access-logs/server-access-log-example.log");
    let (report, sink) = read_file(&path);
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(report.format, Format::S3AccessLog);
    assert_eq!(
        (report.events, report.rejected),
        (lines as u64, 0),
        "{:?}",
        sink.rejects
    );
    let first = &sink.events[0];
    assert_eq!(first.source, LogSource::S3Access);
    let common = first.common();
    assert_eq!(common.action, Some("REST.GET.VERSIONING"));
    assert_eq!(common.source_ip, Some("192.0.2.3"));
    assert_eq!(common.user_agent, Some("S3Console/0.4"));
    assert_eq!(common.resources, ["DOC-EXAMPLE-BUCKET1"]);
    assert_eq!(first.time_ms, Some(1_549_411_238_000));
    let third = &sink.events[2];
    assert_eq!(third.common().error_code, Some("NoSuchBucketPolicy"));
    assert_eq!(
        third.doc.get("http_status").and_then(|v| v.as_u64()),
        Some(404)
    );
    let put = &sink.events[4];
    assert_eq!(
        put.doc.get("object_size").and_then(|v| v.as_u64()),
        Some(4_406_583)
    );
    assert_eq!(
        put.doc.get("key").and_then(|v| v.as_str()),
        Some("s3-dg.pdf")
    );

    let (gz, _) = read_mem("access.log.gz", &gzip(&std::fs::read(&path).unwrap()));
    assert_eq!(gz.events, lines as u64);
}
