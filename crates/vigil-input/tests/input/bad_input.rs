//! Bad input: each problem is a reject with a position and a reason, and the rest of the
//! input is still read.

use vigil_input::{Format, ReadOptions, RejectsWriter};

use crate::helpers::*;

fn record(name: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","userIdentity":{{"type":"Root"}}}}"#
    )
}

fn actions(sink: &vigil_input::Collected) -> Vec<String> {
    sink.events
        .iter()
        .map(|e| e.common().action.unwrap_or("").to_string())
        .collect()
}

#[test]
fn one_malformed_line_of_json_lines_is_rejected_alone() {
    let text = format!("{}\n{{\"eventName\": tru\n{}\n", record("A"), record("C"));
    let (report, sink) = read_mem("bad.jsonl", text.as_bytes());
    assert_eq!(report.format, Format::JsonLines);
    assert_eq!(actions(&sink), ["A", "C"]);
    let reject = &sink.rejects[0];
    assert_eq!((reject.record, reject.line), (2, Some(2)));
    assert_eq!(reject.byte_offset, Some(record("A").len() as u64 + 1));
    assert!(
        reject.reason.starts_with("malformed JSON"),
        "{}",
        reject.reason
    );
    assert_eq!(reject.excerpt, "{\"eventName\": tru");
}

#[test]
fn one_bad_element_of_records_is_rejected_with_its_index() {
    let text = format!(
        "{{\"Records\": [\n{},\n{{\"eventName\": tru}},\n{}\n]}}",
        record("A"),
        record("C")
    );
    for bytes in [text.clone().into_bytes(), gzip(text.as_bytes())] {
        let (report, sink) = read_mem("bad.json", &bytes);
        assert_eq!(report.format, Format::CloudTrailLogFile);
        assert_eq!(actions(&sink), ["A", "C"]);
        assert_eq!(sink.events[1].origin.record, 3);
        let reject = &sink.rejects[0];
        assert_eq!((reject.record, reject.line), (2, Some(3)));
        assert_eq!(reject.excerpt, "{\"eventName\": tru}");
        assert!(report.error.is_none());
    }
}

#[test]
fn broken_structure_keeps_the_records_before_it() {
    let text = format!(
        "{{\"Records\": [{}, {} {}]}}",
        record("A"),
        record("B"),
        record("C")
    );
    let (report, sink) = read_mem("broken.json", text.as_bytes());
    assert_eq!(actions(&sink), ["A", "B"]);
    assert_eq!(sink.rejects.len(), 1);
    let reason = &sink.rejects[0].reason;
    assert!(reason.contains("malformed JSON at byte"), "{reason}");
    assert!(report.error.is_some());
}

#[test]
fn truncated_gzip_keeps_what_was_decoded_and_names_the_offset() {
    let records: Vec<String> = (0..2000).map(|i| record(&format!("Call{i}"))).collect();
    let jsonl = records.join("\n");
    let document = format!("{{\"Records\":[{}]}}", records.join(","));
    for text in [jsonl, document] {
        let compressed = gzip(text.as_bytes());
        let cut = &compressed[..compressed.len() / 2];
        let (report, sink) = read_mem("cut.json.gz", cut);
        assert!(
            report.events > 0 && report.events < 2000,
            "{}",
            report.events
        );
        assert_eq!(report.rejected, 1);
        let reject = &sink.rejects[0];
        assert!(reject.reason.contains("gzip"), "{}", reject.reason);
        assert!(
            reject.reason.contains("compressed byte"),
            "{}",
            reject.reason
        );
        assert!(reject.byte_offset.is_some());
        assert_eq!(report.error.as_deref(), Some(reject.reason.as_str()));
        // The events kept are the first ones, in order.
        assert_eq!(actions(&sink)[..3], ["Call0", "Call1", "Call2"]);
    }
}

#[test]
fn corrupt_gzip_is_an_error_not_a_panic() {
    let text: String = (0..500)
        .map(|i| record(&format!("Call{i}")) + "\n")
        .collect();
    let mut compressed = gzip(text.as_bytes());
    let middle = compressed.len() / 2;
    for byte in &mut compressed[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let (report, sink) = read_mem("corrupt.jsonl.gz", &compressed);
    assert!(report.error.is_some(), "{report:?}");
    assert!(report.events < 500);
    assert!(sink.rejects.iter().any(|r| r.reason.contains("gzip")));
}

#[test]
fn unknown_formats_are_one_reject_for_the_file() {
    for bytes in [
        &b"hello, this is not a log\nsecond line\n"[..],
        b"\x00\x01\x02\x03binary",
    ] {
        let (report, sink) = read_mem("mystery.bin", bytes);
        assert_eq!(report.format, Format::Unknown);
        assert_eq!((report.records_read, report.rejected), (1, 1));
        let reason = &sink.rejects[0].reason;
        assert!(
            reason.starts_with("unrecognised format: first bytes"),
            "{reason}"
        );
    }
    let (report, _) = read_mem("empty", b"  \n");
    assert_eq!(
        (report.records_read, report.skipped.as_deref()),
        (0, Some("empty input"))
    );
}

fn huge_record() -> String {
    let padding = "x".repeat(50 << 20);
    format!(
        r#"{{"eventVersion":"1.08","eventName":"Huge","requestParameters":{{"blob":"{padding}"}}}}"#
    )
}

#[test]
fn a_50_mb_record_is_rejected_and_the_rest_read() {
    let huge = huge_record();
    let jsonl = format!("{}\n{huge}\n{}\n", record("A"), record("C"));
    let (_, sink) = read_mem("huge.jsonl", jsonl.as_bytes());
    assert_eq!(actions(&sink), ["A", "C"]);
    let reject = &sink.rejects[0];
    assert_eq!(reject.line, Some(2));
    assert!(
        reject.reason.contains("over the limit of 16777216 bytes"),
        "{}",
        reject.reason
    );
    assert!(reject.excerpt.starts_with("{\"eventVersion\""));

    let document = format!("{{\"Records\":[{},{huge}]}}", record("A"));
    let (_, sink) = read_mem("huge.json", document.as_bytes());
    assert_eq!(actions(&sink), ["A"]);
    assert_eq!(sink.rejects[0].record, 2);

    let (report, sink) = read_mem("single.json", huge.as_bytes());
    assert_eq!((report.events, report.rejected), (0, 1));
    assert!(sink.rejects[0].reason.contains("over the limit"));
}

#[test]
fn documents_over_the_document_limit_are_rejected_whole() {
    let opts = ReadOptions {
        max_document_bytes: 1000,
        ..ReadOptions::default()
    };
    let document = format!("{{\"Records\":[{}]}}", vec![record("A"); 20].join(",\n"));
    let (report, sink) = read_mem_with("big.json", document.as_bytes(), &opts);
    assert_eq!((report.events, report.rejected), (0, 1));
    assert!(sink.rejects[0]
        .reason
        .contains("over the limit of 1000 bytes"));
    // JSON Lines are not held whole, so the document limit does not apply.
    let jsonl = vec![record("A"); 20].join("\n");
    let (report, _) = read_mem_with("big.jsonl", jsonl.as_bytes(), &opts);
    assert_eq!((report.events, report.rejected), (20, 0));
}

#[test]
fn invalid_utf8_is_rejected_with_where() {
    let mut jsonl = record("A").into_bytes();
    jsonl.extend_from_slice(b"\n{\"eventName\": \"Bad\xff\"}\n");
    jsonl.extend_from_slice(record("C").as_bytes());
    let (_, sink) = read_mem("utf8.jsonl", &jsonl);
    assert_eq!(actions(&sink), ["A", "C"]);
    assert_eq!(
        sink.rejects[0].reason,
        "invalid UTF-8 at byte 18 of the record"
    );
    assert_eq!(sink.rejects[0].excerpt, "{\"eventName\": \"Bad\u{fffd}\"}");

    let flow = b"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK\n2 123456789010 eni-\xfe 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK\n";
    let (report, sink) = read_mem("flow.log", flow);
    assert_eq!((report.events, report.rejected), (1, 1));
    assert_eq!(
        sink.rejects[0].reason,
        "invalid UTF-8 at byte 19 of the line"
    );
    assert_eq!(sink.rejects[0].line, Some(2));
}

#[test]
fn known_fields_of_the_wrong_type_are_rejected() {
    let cases = [
        (
            r#"{"eventVersion":"1.08","eventName":5}"#,
            "field eventName: expected string, found number",
        ),
        (
            r#"{"eventVersion":"1.08","eventTime":"last tuesday"}"#,
            "field eventTime: expected an RFC 3339 time, found \"last tuesday\"",
        ),
        (
            r#"{"eventVersion":"1.08","eventTime":1714557600}"#,
            "field eventTime: expected string, found number",
        ),
        (
            r#"{"eventVersion":"1.08","userIdentity":"root"}"#,
            "field userIdentity: expected object, found string",
        ),
    ];
    let jsonl: String = cases.iter().map(|(line, _)| format!("{line}\n")).collect();
    let (report, sink) = read_mem("types.jsonl", jsonl.as_bytes());
    assert_eq!(report.events, 0);
    let reasons: Vec<&str> = sink.rejects.iter().map(|r| r.reason.as_str()).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, reason)| *reason).collect();
    assert_eq!(reasons, expected);

    let flow = "version srcport action\n2 22 ACCEPT\n2 ssh ACCEPT\n";
    let (report, sink) = read_mem("flow.log", flow.as_bytes());
    assert_eq!((report.events, report.rejected), (1, 1));
    assert_eq!(
        sink.rejects[0].reason,
        "field srcport: expected number, found \"ssh\""
    );
    assert_eq!(sink.rejects[0].line, Some(3));
}

#[test]
fn crlf_lines_blank_lines_and_repeated_headers_are_handled() {
    let jsonl = format!("{}\r\n\r\n{}\r\n", record("A"), record("B"));
    let (report, sink) = read_mem("crlf.jsonl", jsonl.as_bytes());
    assert_eq!(
        (report.rejected, actions(&sink)),
        (0, vec!["A".to_string(), "B".to_string()])
    );
    assert_eq!(sink.events[1].origin.record, 3);

    let flow = "version action\r\n2 ACCEPT\r\n\r\nversion action\r\n2 REJECT\r\n";
    let (report, sink) = read_mem("crlf.log", flow.as_bytes());
    assert_eq!(
        (report.events, report.rejected),
        (2, 0),
        "{:?}",
        sink.rejects
    );
    assert_eq!(sink.events[1].text.as_deref(), Some("2 REJECT"));
}

#[test]
fn unreadable_files_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let (report, sink) = read_file(dir.path());
    assert!(report.error.is_some(), "{report:?}");
    assert_eq!(sink.rejects.len(), 1);
}

#[test]
fn rejects_go_to_the_rejects_file() {
    let text = format!(
        "{}\nnot json\n{{\"eventName\": 5, \"eventVersion\": \"1\"}}\n",
        record("A")
    );
    let (_, sink) = read_mem("mixed.jsonl", text.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.rejects.jsonl");
    let mut writer = RejectsWriter::create(&path).unwrap();
    for reject in &sink.rejects {
        writer.write(reject).unwrap();
    }
    writer.flush().unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(
        lines[1]["reason"],
        "field eventName: expected string, found number"
    );
    assert_eq!(lines[1]["file"], "mixed.jsonl");
}

#[test]
fn mutated_samples_never_panic_and_always_add_up() {
    const PALETTE: &[u8] = b"{}[]\",:\\\n\xff";
    let inputs = vigil_input::expand(&[sample("").display().to_string()]).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    let mut rejected = 0;
    for input in &inputs {
        let vigil_input::Input::File(path) = input else {
            unreachable!()
        };
        let original = std::fs::read(path).unwrap();
        for round in 0..12 {
            let mut bytes = if round % 3 == 0 {
                gzip(&original)
            } else {
                original.clone()
            };
            for _ in 0..1 + next(4) {
                let at = next(bytes.len());
                match next(3) {
                    0 => bytes[at] = PALETTE[next(PALETTE.len())],
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, b"\"{\n"[next(3)]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let (report, _) = read_mem("mutated", &bytes);
            rejected += report.rejected;
        }
    }
    assert!(
        rejected > 100,
        "the mutations should break many records: {rejected}"
    );
}
