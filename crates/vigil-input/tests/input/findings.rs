//! GuardDuty and Security Hub findings (get-findings output, ASFF, inside EventBridge) and
//! Trusted Advisor check items.

use vigil_event::LogSource;
use vigil_input::Format;

use crate::helpers::*;

const GUARDDUTY_SAMPLE: &str =
    "guardduty/getfindings-response-sample-unauthorizedaccess-ec2-rdpbruteforce.json";

fn guardduty_finding() -> serde_json::Value {
    expected_records(&sample_text(GUARDDUTY_SAMPLE)).remove(0)
}

fn asff_findings() -> Vec<serde_json::Value> {
    sample_files("asff", "json")
        .iter()
        .map(|path| serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
        .collect()
}

#[test]
fn guardduty_get_findings_output_is_read_in_both_spellings() {
    let (report, sink) = read_file(&sample(GUARDDUTY_SAMPLE));
    assert_eq!(report.format, Format::Findings);
    assert_eq!(sink.events.len(), 1);
    let event = &sink.events[0];
    assert_eq!(event.source, LogSource::GuardDuty);
    let common = event.common();
    assert_eq!(common.account, Some("123456789012"));
    assert_eq!(common.action, Some("UnauthorizedAccess:EC2/RDPBruteForce"));
    assert_eq!(common.resources, ["i-99999999"]);

    let cli = serde_json::json!({"Findings": [guardduty_finding(), guardduty_finding()]});
    let (_, sink) = read_mem("cli.json", cli.to_string().as_bytes());
    assert_eq!(sink.events.len(), 2);
    assert!(sink.events.iter().all(|e| e.source == LogSource::GuardDuty));
}

#[test]
fn the_response_syntax_placeholders_are_rejected_for_their_types() {
    let (report, sink) = read_file(&sample("guardduty/getfindings-response-syntax.json"));
    assert_eq!((report.events, report.rejected), (0, 1));
    assert_eq!(
        sink.rejects[0].reason,
        "field severity: expected number, found string"
    );
    assert_eq!(sink.rejects[0].record, 1);
}

#[test]
fn asff_findings_are_security_hub_events_alone_or_in_findings() {
    for path in sample_files("asff", "json") {
        let (report, sink) = read_file(&path);
        assert_eq!(report.format, Format::JsonRecord, "{}", path.display());
        assert_eq!(
            sink.events.len(),
            1,
            "{}: {:?}",
            path.display(),
            sink.rejects
        );
        assert_eq!(sink.events[0].source, LogSource::SecurityHub);
        assert_eq!(sink.events[0].common().account, Some("123456789012"));
    }
    let findings = asff_findings();
    let response = serde_json::json!({"Findings": findings});
    let (report, sink) = read_mem("asff.json", response.to_string().as_bytes());
    assert_eq!(report.format, Format::Findings);
    assert_eq!(sink.events.len(), findings.len());
    let docs: Vec<_> = sink.events.iter().map(doc_json).collect();
    assert_eq!(docs, findings);
}

#[test]
fn guardduty_finding_envelope_from_the_template() {
    let template = sample_text("eventbridge/templates/guardduty-finding.template");
    let text = template.replace(
        "{GUARDDUTY_FINDING_JSON_OBJECT}",
        &guardduty_finding().to_string(),
    );
    let (report, sink) = read_mem("gd-event.json", text.as_bytes());
    assert_eq!(report.format, Format::EventBridge);
    assert_eq!(sink.events.len(), 1, "{:?}", sink.rejects);
    let event = &sink.events[0];
    assert_eq!(event.source, LogSource::GuardDuty);
    assert_eq!(doc_json(event), guardduty_finding());
    let envelope = event.envelope.as_deref().unwrap().to_string();
    assert!(
        envelope.contains("\"account\":\"111122223333\""),
        "{envelope}"
    );
    assert!(!envelope.contains("\"detail\""), "{envelope}");
}

#[test]
fn security_hub_imported_envelope_yields_one_event_per_finding() {
    let template = sample_text("eventbridge/templates/securityhub-findings-imported.template");
    let start = template.find("[{").unwrap() + 1;
    let end = template.find("}]").unwrap() + 1;
    let findings = asff_findings();
    let list: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
    let text = format!(
        "{}{}{}",
        &template[..start],
        list.join(","),
        &template[end..]
    );
    let (report, sink) = read_mem("sh-event.json", text.as_bytes());
    assert_eq!(report.format, Format::EventBridge);
    assert_eq!(sink.events.len(), findings.len(), "{:?}", sink.rejects);
    for (event, finding) in sink.events.iter().zip(&findings) {
        assert_eq!(event.source, LogSource::SecurityHub);
        assert_eq!(&doc_json(event), finding);
        assert!(event.envelope.is_some());
    }
    // The same envelopes as JSON Lines: one line, several events, all numbered by the line.
    let jsonl = format!("{}\n{}\n", text.replace('\n', " "), text.replace('\n', " "));
    let (report, sink) = read_mem("sh-events.jsonl", jsonl.as_bytes());
    assert_eq!(report.format, Format::JsonLines);
    assert_eq!(sink.events.len(), 2 * findings.len());
    assert_eq!(sink.events.last().unwrap().origin.record, 2);
}

#[test]
fn trusted_advisor_check_items_alone_and_in_envelopes() {
    let (report, sink) = read_file(&sample("trusted-advisor/exposed-access-keys.json"));
    assert_eq!(report.format, Format::JsonRecord);
    let common = sink.events[0].common();
    assert_eq!(sink.events[0].source, LogSource::TrustedAdvisor);
    assert_eq!(common.principal.access_key, Some("AKIAIOSFODNN7EXAMPLE"));
    assert_eq!(common.principal.name, Some("jane-roe-test"));
    assert_eq!(sink.events[0].time_ms, Some(1_440_021_299_248));

    for file in [
        "eventbridge/trusted-advisor-exposed-access-keys.json",
        "eventbridge/trusted-advisor-low-utilization-ec2.json",
        "eventbridge/trusted-advisor-load-balancer-optimization.json",
    ] {
        let (report, sink) = read_file(&sample(file));
        assert_eq!(
            (report.format, report.events),
            (Format::EventBridge, 1),
            "{file}"
        );
        let event = &sink.events[0];
        assert_eq!(event.source, LogSource::TrustedAdvisor);
        assert_eq!(event.common().account, Some("123456789012"), "{file}");
    }
}
