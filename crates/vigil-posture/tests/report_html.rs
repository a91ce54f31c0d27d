//! The HTML report as a browser sees it: rendered by headless Chromium, the DOM it built is
//! checked for the scores, counts and failing controls of the hand-built scan, for escaped
//! attacker-controlled text and for the absence of any external asset; a screenshot is
//! checked to be a real page, not a blank one.
//!
//! Needs Chromium (`apt-get install -y chromium`, or `VIGIL_CHROMIUM=/path/to/chrome`):
//! the test fails, never skips, without it.

mod report_common;

use std::path::PathBuf;

use report_common::{chromium, render, scan};
use vigil_posture::control;
use vigil_posture::report::ReportFormat;

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vigil-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("profile")).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_page(scratch: &Scratch) -> (PathBuf, String) {
    let html = render(ReportFormat::Html, &scan());
    let page = scratch.0.join("report.html");
    std::fs::write(&page, &html).expect("the page is writable");
    (page, html)
}

#[test]
fn the_page_is_self_contained_and_escapes_what_the_accounts_contain() {
    let html = render(ReportFormat::Html, &scan());
    let lower = html.to_ascii_lowercase();
    // maud quotes every attribute, so an attribute is ` src="`; the escaped security group
    // name in the text (`&lt;img src=x`) is not one.
    for forbidden in ["<script", " src=\"", " href=\"", "<link", "@import", "url("] {
        assert!(
            !lower.contains(forbidden),
            "the page contains `{forbidden}`"
        );
    }
    assert!(
        !html.contains("<img"),
        "a security group name became markup"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn chromium_renders_the_scores_counts_and_failing_controls() {
    let scratch = Scratch::new("dom");
    let (page, _) = write_page(&scratch);
    let dom = chromium::dump_dom(&page, &scratch.0.join("profile"));
    assert!(dom.contains("AWS security posture"), "{dom}");
    // Scores worked out by hand from the fixture (see report_common::scan): overall 5 of
    // 13 scored results pass; per area 2/5, 1/2, 0/1, 2/4, 0/1.
    let expected = [
        ("id=\"overall-score\" data-score=\"38%\"", "overall"),
        (
            "data-area=\"identity_access\" data-score=\"40%\"",
            "identity",
        ),
        ("data-area=\"detection\" data-score=\"50%\"", "detection"),
        (
            "data-area=\"infrastructure_protection\" data-score=\"0%\"",
            "infrastructure",
        ),
        ("data-area=\"data_protection\" data-score=\"50%\"", "data"),
        (
            "data-area=\"incident_response\" data-score=\"0%\"",
            "readiness",
        ),
    ];
    for (needle, what) in expected {
        assert!(
            dom.contains(needle),
            "{what} score: no `{needle}` in the DOM"
        );
    }
    // 8 failing controls, 5 of them critical or high in the catalogue; 8 unmuted failed
    // checks; 1 not evaluated; 2 muted.
    let severe = [
        "VIG-01", "VIG-02", "VIG-22", "VIG-24", "VIG-40", "VIG-53", "VIG-56", "VIG-70",
    ]
    .iter()
    .filter(|id| control(id).is_some_and(|c| c.severity.score >= 70))
    .count();
    for (id, value) in [
        ("kpi-failing-controls", 8),
        ("kpi-severe-controls", severe),
        ("kpi-failing-resources", 8),
        ("kpi-unknown", 1),
        ("kpi-muted", 2),
    ] {
        let needle = format!("id=\"{id}\"><div class=\"value\">{value}</div>");
        assert!(dom.contains(&needle), "no `{needle}` in the DOM");
    }
    let root_keys = control("VIG-02").expect("VIG-02");
    assert!(
        dom.contains(root_keys.title),
        "a failing control's title is shown"
    );
    assert!(dom.contains("data-control=\"VIG-02\""));
    assert!(dom.contains("arn:aws:s3:::acme-public-assets"));
    assert!(
        dom.contains("AccessDeniedException"),
        "the UNKNOWN reason is shown"
    );
    assert!(
        !dom.contains("<img"),
        "escaped text stays text after parsing"
    );
}

#[test]
fn chromium_screenshots_a_page_that_is_not_blank() {
    let scratch = Scratch::new("png");
    let (page, _) = write_page(&scratch);
    let png = scratch.0.join("report.png");
    chromium::screenshot(&page, &scratch.0.join("profile"), &png, 1280, 2000);
    if let Ok(keep) = std::env::var("VIGIL_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&png, keep);
    }
    let file = std::fs::File::open(&png).expect("Chromium wrote the screenshot");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("the screenshot is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let frame = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!((frame.width, frame.height), (1280, 2000));
    let channels = frame.color_type.samples();
    let pixels = &pixels[..frame.buffer_size()];
    let mut colours = std::collections::BTreeSet::new();
    let mut plain = 0usize;
    for pixel in pixels.chunks(channels) {
        let rgb = (pixel[0], pixel[1], pixel[2]);
        colours.insert(rgb);
        if rgb.0 > 240 && rgb.1 > 240 && rgb.2 > 240 {
            plain += 1;
        }
    }
    let total = pixels.len() / channels;
    assert!(
        colours.len() > 200,
        "only {} colours: a blank page?",
        colours.len()
    );
    assert!(
        plain * 100 / total < 90,
        "{plain} of {total} pixels are near white"
    );
    // The masthead is dark blue, and a failing severity badge somewhere is red.
    let at = |x: usize, y: usize| {
        let i = (y * frame.width as usize + x) * channels;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    let (r, g, b) = at(20, 20);
    assert!(
        b > r && b > g && r < 60,
        "the masthead is not dark blue: {:?}",
        (r, g, b)
    );
    let reds = pixels
        .chunks(channels)
        .filter(|p| p[0] > 150 && p[1] < 80 && p[2] < 80)
        .count();
    assert!(reds > 500, "no red failures drawn ({reds} red pixels)");
}
