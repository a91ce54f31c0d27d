//! `vigil-bench gen`: a realistic CloudTrail corpus in the layout CloudTrail writes to S3.

mod attacks;
mod catalog;
mod identity;
mod org;
mod params;
pub mod random;
mod record;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use chrono::DateTime;
use flate2::write::GzEncoder;
use flate2::Compression;

use attacks::ATTACKS;
pub use catalog::CATALOG;
use org::{Organisation, REGIONS};
use random::Dice;
use record::Origin;

/// Share of records that are suspicious calls.
const SUSPICIOUS_RATE: f64 = 0.001;
/// The corpus starts at 2024-05-01T00:00:00Z.
const START_SECS: i64 = 1_714_521_600;

/// What to generate.
pub struct CorpusSpec {
    pub records: u64,
    pub seed: u64,
    pub out: PathBuf,
    pub threads: usize,
}

/// One file of the plan.
struct PlannedFile {
    index: u64,
    account: usize,
    region: &'static str,
    records: u64,
    start_secs: i64,
}

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CorpusSummary {
    pub files: u64,
    pub records: u64,
    pub suspicious: u64,
    pub json_bytes: u64,
    pub gzip_bytes: u64,
}

/// Writes the corpus under `spec.out/AWSLogs/` and a summary to `spec.out/corpus.json`.
pub fn generate(spec: &CorpusSpec) -> Result<CorpusSummary> {
    let org = Organisation::new(spec.seed);
    let plan = plan(spec, &org);
    let next = AtomicUsize::new(0);
    let total = Mutex::new(CorpusSummary::default());
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..spec.threads.max(1) {
            scope.spawn(|| {
                while let Some(file) = plan.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match write_file(spec, &org, file) {
                        Ok(summary) => add(
                            &mut total.lock().unwrap_or_else(|p| p.into_inner()),
                            summary,
                        ),
                        Err(error) => {
                            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let summary = total.into_inner().unwrap_or_else(|p| p.into_inner());
    write_summary(spec, &summary)?;
    Ok(summary)
}

fn add(total: &mut CorpusSummary, file: CorpusSummary) {
    total.files += file.files;
    total.records += file.records;
    total.suspicious += file.suspicious;
    total.json_bytes += file.json_bytes;
    total.gzip_bytes += file.gzip_bytes;
}

/// Decides every file (account, region, size, time) up front, from the seed alone.
fn plan(spec: &CorpusSpec, org: &Organisation) -> Vec<PlannedFile> {
    let mut dice = Dice::new(spec.seed, u64::MAX / 2);
    let mut files = Vec::new();
    let mut remaining = spec.records;
    while remaining > 0 {
        let records = dice.below(100, 1001).min(remaining);
        let index = files.len() as u64;
        files.push(PlannedFile {
            index,
            account: dice.weighted(&org.accounts, |a| a.weight),
            region: REGIONS[dice.weighted(REGIONS, |(_, w)| *w)].0,
            records,
            start_secs: START_SECS + index as i64 * 37,
        });
        remaining -= records;
    }
    files
}

fn write_file(spec: &CorpusSpec, org: &Organisation, file: &PlannedFile) -> Result<CorpusSummary> {
    let mut dice = Dice::new(spec.seed, file.index);
    let account = &org.accounts[file.account.min(org.accounts.len() - 1)];
    let origin = Origin {
        account,
        region: file.region,
    };
    let mut json = Vec::with_capacity(file.records as usize * 1600);
    json.extend_from_slice(b"{\"Records\":[");
    let mut suspicious = 0;
    for n in 0..file.records {
        let time = rfc3339(file.start_secs + (n * 300 / file.records.max(1)) as i64);
        let record = if dice.chance(SUSPICIOUS_RATE) {
            suspicious += 1;
            let attack = &ATTACKS[dice.index(ATTACKS.len())];
            record::suspicious(&mut dice, &origin, attack, &time)
        } else {
            let api = &CATALOG[dice.weighted(CATALOG, |a| a.weight)];
            record::ordinary(&mut dice, &origin, api, &time)
        };
        if n > 0 {
            json.push(b',');
        }
        serde_json::to_writer(&mut json, &record)?;
    }
    json.extend_from_slice(b"]}");
    let path = file_path(&spec.out, &origin, file, &mut dice);
    let gzip_bytes = gzip_to(&path, &json)?;
    Ok(CorpusSummary {
        files: 1,
        records: file.records,
        suspicious,
        json_bytes: json.len() as u64,
        gzip_bytes,
    })
}

/// `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<stamp>_<rand>.json.gz`
fn file_path(out: &Path, origin: &Origin<'_>, file: &PlannedFile, dice: &mut Dice) -> PathBuf {
    let end = DateTime::from_timestamp(file.start_secs + 300, 0).unwrap_or_default();
    let acct = &origin.account.id;
    let region = origin.region;
    out.join("AWSLogs")
        .join(acct)
        .join("CloudTrail")
        .join(region)
        .join(end.format("%Y/%m/%d").to_string())
        .join(format!(
            "{acct}_CloudTrail_{region}_{}_{}.json.gz",
            end.format("%Y%m%dT%H%MZ"),
            dice.string(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                16
            )
        ))
}

fn gzip_to(path: &Path, json: &[u8]) -> Result<u64> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = GzEncoder::new(std::io::BufWriter::new(file), Compression::default());
    encoder.write_all(json)?;
    let mut writer = encoder.finish()?;
    writer.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn rfc3339(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn write_summary(spec: &CorpusSpec, summary: &CorpusSummary) -> Result<()> {
    let text = serde_json::json!({
        "seed": spec.seed, "files": summary.files, "records": summary.records,
        "suspicious": summary.suspicious, "json_bytes": summary.json_bytes, "gzip_bytes": summary.gzip_bytes,
    });
    let path = spec.out.join("corpus.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&text)?)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_into(dir: &Path, seed: u64) -> CorpusSummary {
        let spec = CorpusSpec {
            records: 3000,
            seed,
            out: dir.to_path_buf(),
            threads: 2,
        };
        generate(&spec).unwrap()
    }

    fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.join("AWSLogs")];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_same_seed_writes_the_same_corpus() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let summary = generate_into(a.path(), 42);
        generate_into(b.path(), 42);
        generate_into(c.path(), 43);
        assert_eq!(summary.records, 3000);
        assert_eq!(files(a.path()), files(b.path()));
        assert_ne!(files(a.path()), files(c.path()));
    }

    #[test]
    fn files_follow_the_cloudtrail_layout_and_hold_records() {
        let dir = tempfile::tempdir().unwrap();
        let summary = generate_into(dir.path(), 7);
        let all = files(dir.path());
        assert_eq!(all.len() as u64, summary.files);
        let (path, bytes) = &all[0];
        let parts: Vec<String> = path
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(parts[0], "AWSLogs");
        assert_eq!(parts[2], "CloudTrail");
        assert!(
            parts[7].starts_with(&format!("{}_CloudTrail_{}_", parts[1], parts[3])),
            "{path:?}"
        );
        assert!(parts[7].ends_with(".json.gz"));
        let mut json = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let records = doc["Records"].as_array().unwrap();
        assert!((100..=1000).contains(&records.len()) || summary.files == 1);
        assert_eq!(
            records[0]["recipientAccountId"].as_str(),
            Some(parts[1].as_str())
        );
        let mean = summary.json_bytes / summary.records;
        assert!((900..=2200).contains(&mean), "mean record size {mean}");
    }
}
