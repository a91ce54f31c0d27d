//! In-process stages: reading the corpus the way a detector must, minus the detection.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use sonic_rs::{JsonContainerTrait, JsonValueTrait};

/// What one pass over the corpus counted.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PassResult {
    pub records: u64,
    pub json_bytes: u64,
    pub seconds: f64,
}

/// Every `.json.gz` file under `root`, in path order.
pub fn corpus_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".json.gz") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Runs `work` over every file on `threads` threads, each with its own decompression buffer,
/// and times the whole pass. `work` returns the records it saw.
pub fn pass<F>(files: &[PathBuf], threads: usize, work: F) -> Result<PassResult>
where
    F: Fn(&[u8]) -> Result<u64> + Sync,
{
    for_each_file(
        files,
        threads,
        |file, (compressed, json): &mut (Vec<u8>, Vec<u8>)| {
            let inflated = gunzip(file, compressed, json)?;
            let json = json.get(..inflated).unwrap_or_default();
            Ok((work(json)?, json.len() as u64))
        },
    )
}

/// Runs `work` over every file on `threads` threads (each thread keeps its own `S`), timing
/// the whole pass. `work` returns the records and the JSON bytes it saw.
pub fn for_each_file<S, F>(files: &[PathBuf], threads: usize, work: F) -> Result<PassResult>
where
    S: Default,
    F: Fn(&Path, &mut S) -> Result<(u64, u64)> + Sync,
{
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0u64, 0u64, None::<anyhow::Error>));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut state = S::default();
                let (mut records, mut bytes) = (0, 0);
                while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match work(file, &mut state) {
                        Ok((n, b)) => (records, bytes) = (records + n, bytes + b),
                        Err(error) => {
                            totals.lock().unwrap_or_else(|p| p.into_inner()).2 = Some(error);
                            return;
                        }
                    }
                }
                let mut totals = totals.lock().unwrap_or_else(|p| p.into_inner());
                totals.0 += records;
                totals.1 += bytes;
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let (records, json_bytes, error) = totals.into_inner().unwrap_or_else(|p| p.into_inner());
    match error {
        Some(error) => Err(error),
        None => Ok(PassResult {
            records,
            json_bytes,
            seconds,
        }),
    }
}

/// Reads `file` and inflates it into the first bytes of `json` (both buffers reused between
/// files) as vigil-input does: whole, with libdeflate (`vigil_input::inflate`), so that the
/// floor rows use the fastest inflater vigil itself has. Returns the inflated length.
fn gunzip(file: &Path, compressed: &mut Vec<u8>, json: &mut Vec<u8>) -> Result<usize> {
    compressed.clear();
    std::fs::File::open(file)
        .and_then(|mut f| f.read_to_end(compressed))
        .with_context(|| format!("reading {}", file.display()))?;
    vigil_input::inflate(compressed, json, WHOLE_MAX_BYTES)
        .with_context(|| format!("inflating {}", file.display()))
}

/// Inflated files up to this size are inflated whole (all of the generated corpus's).
const WHOLE_MAX_BYTES: usize = 64 << 20;

/// The gunzip-alone stage: nothing after inflating.
pub fn nothing(_json: &[u8]) -> Result<u64> {
    Ok(0)
}

/// The parser floor: the whole document parsed into a `sonic_rs::Value`, every record
/// visited (its eventName read so the walk cannot be optimised away).
pub fn sonic_parse(json: &[u8]) -> Result<u64> {
    let doc: sonic_rs::Value = sonic_rs::from_slice(json).map_err(|e| anyhow!("parse: {e}"))?;
    let records = doc
        .get("Records")
        .and_then(|r| r.as_array())
        .ok_or_else(|| anyhow!("no Records array"))?;
    let mut names = 0usize;
    for record in records.iter() {
        names += record
            .get("eventName")
            .and_then(|n| n.as_str())
            .map_or(0, str::len);
    }
    std::hint::black_box(names);
    Ok(records.len() as u64)
}

/// Counts what vigil-input delivers and drops it, so the stage measures reading alone.
#[derive(Default)]
struct CountingSink {
    events: u64,
    rejects: u64,
}

impl vigil_input::RecordSink for CountingSink {
    fn event(&mut self, event: vigil_event::Event) {
        std::hint::black_box(&event);
        self.events += 1;
    }

    fn reject(&mut self, _reject: vigil_input::Reject) {
        self.rejects += 1;
    }
}

/// gunzip + vigil's own parse: each file read by `vigil_input::read_input` into events.
/// Returns the pass and the records rejected (0 on a clean corpus).
pub fn vigil_input_pass(files: &[PathBuf], threads: usize) -> Result<(PassResult, u64)> {
    let rejected = std::sync::atomic::AtomicU64::new(0);
    let options = vigil_input::ReadOptions::default();
    let result = for_each_file(files, threads, |file, _: &mut ()| {
        let mut sink = CountingSink::default();
        let input = vigil_input::Input::File(file.to_path_buf());
        let _report = vigil_input::read_input(&input, &options, &mut sink);
        rejected.fetch_add(sink.rejects, Ordering::Relaxed);
        Ok((sink.events + sink.rejects, 0))
    })?;
    Ok((result, rejected.into_inner()))
}

/// Writes each record of a CloudTrail document as one line of JSON Lines, copying the
/// record's bytes (no re-serialisation): the cheapest conversion to what rsigma reads.
pub fn records_as_lines(json: &[u8], out: &mut impl Write) -> Result<u64> {
    let records =
        sonic_rs::get_from_slice(json, ["Records"]).map_err(|e| anyhow!("Records: {e}"))?;
    let mut count = 0;
    for record in sonic_rs::to_array_iter(records.as_raw_str()) {
        let record = record.map_err(|e| anyhow!("record: {e}"))?;
        let line: Vec<u8> = record
            .as_raw_str()
            .bytes()
            .map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect();
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    Ok(count)
}

/// Converts the whole corpus into one JSON Lines file, timed (one thread).
pub fn convert_to_jsonl(files: &[PathBuf], out: &Path) -> Result<PassResult> {
    let writer = Mutex::new(std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(out)?,
    ));
    let result = pass(files, 1, |json| {
        let mut writer = writer.lock().unwrap_or_else(|p| p.into_inner());
        records_as_lines(json, &mut *writer)
    })?;
    writer
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .flush()?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = br#"{"Records":[{"eventName":"A","n":{"x":[1,2]}},
        {"eventName":"B"}]}"#;

    #[test]
    fn the_parse_stage_counts_records() {
        assert_eq!(sonic_parse(DOC).unwrap(), 2);
        assert!(sonic_parse(b"{\"Records\":").is_err());
        assert!(sonic_parse(b"{}").is_err());
    }

    #[test]
    fn records_become_one_line_each() {
        let mut out = Vec::new();
        assert_eq!(records_as_lines(DOC, &mut out).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                r#"{"eventName":"A","n":{"x":[1,2]}}"#,
                r#"{"eventName":"B"}"#
            ]
        );
    }

    #[test]
    fn a_pass_inflates_every_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.json.gz", "sub/b.json.gz"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(DOC).unwrap();
            std::fs::write(path, gz.finish().unwrap()).unwrap();
        }
        std::fs::write(dir.path().join("corpus.json"), "{}").unwrap();
        let files = corpus_files(dir.path()).unwrap();
        assert_eq!(files.len(), 2);
        let result = pass(&files, 2, sonic_parse).unwrap();
        assert_eq!(
            (result.records, result.json_bytes),
            (4, 2 * DOC.len() as u64)
        );
    }

    #[test]
    fn vigil_input_reads_cloudtrail_files_into_events() {
        let dir = tempfile::tempdir().unwrap();
        let record = r#"{"eventVersion":"1.09","eventTime":"2024-05-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"GetUser","awsRegion":"us-east-1","recipientAccountId":"123456789012"}"#;
        let doc = format!(r#"{{"Records":[{record},{record},{record}]}}"#);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(doc.as_bytes()).unwrap();
        let path = dir.path().join("x.json.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let (read, rejected) = vigil_input_pass(&[path], 1).unwrap();
        assert_eq!((read.records, rejected), (3, 0));
    }
}
