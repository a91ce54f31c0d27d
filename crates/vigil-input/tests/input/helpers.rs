//! Shared helpers: sample paths, reading with the invariant checked, gzip.

use std::io::Write;
use std::path::{Path, PathBuf};

use vigil_input::{read_bytes, read_input, Collected, FileReport, Input, ReadOptions};

/// The path of a sample under `tests/data/aws-samples`.
pub fn sample(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/aws-samples")
        .join(relative)
}

/// The text of a sample.
pub fn sample_text(relative: &str) -> String {
    std::fs::read_to_string(sample(relative)).unwrap()
}

/// The files of a sample folder, sorted.
pub fn sample_files(folder: &str, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sample(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .{extension} files in {folder}");
    files
}

/// Reads a file, checking that the counts add up.
pub fn read_file(path: &Path) -> (FileReport, Collected) {
    let mut sink = Collected::default();
    let report = read_input(
        &Input::File(path.to_path_buf()),
        &ReadOptions::default(),
        &mut sink,
    );
    check_counts(&report, &sink);
    (report, sink)
}

/// Reads bytes, checking that the counts add up.
pub fn read_mem(name: &str, bytes: &[u8]) -> (FileReport, Collected) {
    read_mem_with(name, bytes, &ReadOptions::default())
}

/// Reads bytes with options, checking that the counts add up.
pub fn read_mem_with(name: &str, bytes: &[u8], opts: &ReadOptions) -> (FileReport, Collected) {
    let mut sink = Collected::default();
    let report = read_bytes(name, bytes, opts, &mut sink);
    check_counts(&report, &sink);
    (report, sink)
}

/// The invariant of every report: every record read became an event or a reject.
pub fn check_counts(report: &FileReport, sink: &Collected) {
    assert_eq!(
        report.records_read,
        report.events + report.rejected,
        "{report:?}"
    );
    assert_eq!(report.events, sink.events.len() as u64, "{report:?}");
    assert_eq!(report.rejected, sink.rejects.len() as u64, "{report:?}");
    for reject in &sink.rejects {
        assert!(reject.excerpt.len() <= vigil_input::Reject::EXCERPT_BYTES);
        assert_eq!(reject.file, report.input);
    }
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The records in a JSON sample as `serde_json` sees them: the `Records` / `Events` /
/// `findings` / `Findings` array, or the value itself.
pub fn expected_records(text: &str) -> Vec<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    for key in ["Records", "Events", "findings", "Findings"] {
        if let Some(array) = value.get(key).and_then(|v| v.as_array()) {
            return array.clone();
        }
    }
    vec![value]
}

/// An event's document as a `serde_json` value, to compare with the sample.
pub fn doc_json(event: &vigil_event::Event) -> serde_json::Value {
    serde_json::from_str(&event.record_json()).unwrap()
}
