//! Copying a trail to a local directory, metadata included, so it can be verified offline
//! and kept as evidence: the digests of the range, the log files they list, and the log files
//! in the log folders of the range (so a copy shows the same uncovered files as the bucket).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use futures_util::stream::{self, StreamExt};

use crate::digest::Digest;
use crate::discover::discover;
use crate::error::{SourceError, TrailError};
use crate::source::{
    key_path, metadata_path, read_manifest, CopyManifest, Object, Source, SOURCE_FILE,
};
use crate::verify::{VerifyOptions, CONCURRENT_READS};

/// What [`fetch`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FetchReport {
    pub dest: PathBuf,
    pub digests: usize,
    pub logs: usize,
    pub bytes: u64,
    /// Objects not copied, with the reason (not found, unsafe key, read error).
    pub skipped: Vec<(String, String)>,
}

impl fmt::Display for FetchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, reason) in &self.skipped {
            writeln!(f, "skipped {key}: {reason}")?;
        }
        writeln!(
            f,
            "copied {} digest files and {} log files ({} bytes) to {}; {} skipped",
            self.digests,
            self.logs,
            self.bytes,
            self.dest.display(),
            self.skipped.len()
        )
    }
}

/// Copies the trail files of `options`' range from `source` to `dest`, writing each digest's
/// metadata beside it (`NAME.metadata.json`) and `vigil-trail-source.json` naming the bucket.
/// A `dest` already holding a copy of another bucket is refused.
pub async fn fetch<S: Source>(
    source: &S,
    options: &VerifyOptions,
    dest: &Path,
) -> Result<FetchReport, TrailError> {
    let options = options.clone().validated()?;
    write_manifest(dest, source.bucket())?;
    let found = discover(source, &options.location, options.range()).await?;
    let mut report = FetchReport {
        dest: dest.to_path_buf(),
        ..FetchReport::default()
    };
    let mut logs: BTreeSet<String> = found.logs.iter().map(|(k, _)| k.clone()).collect();
    for (key, _) in &found.digests {
        let read = source.get(key).await;
        if let Some(bytes) = store(key, read, dest, true, &mut report)? {
            report.digests += 1;
            if let Ok((digest, _)) = Digest::from_gzip(&bytes) {
                logs.extend(
                    digest
                        .log_files
                        .into_iter()
                        .filter(|l| l.s3_bucket == source.bucket())
                        .map(|l| l.s3_object),
                );
            }
        }
    }
    // Read several at once; write in key order.
    let mut reads = stream::iter(&logs)
        .map(|key| async move { (key, source.get(key).await) })
        .buffered(CONCURRENT_READS);
    while let Some((key, read)) = reads.next().await {
        if store(key, read, dest, false, &mut report)?.is_some() {
            report.logs += 1;
        }
    }
    Ok(report)
}

fn write_manifest(dest: &Path, bucket: &str) -> Result<(), TrailError> {
    if let Some(existing) = read_manifest(dest)? {
        if existing.bucket != bucket {
            return Err(TrailError::InvalidOption(format!(
                "{} already holds a copy of bucket {}, not {bucket}",
                dest.display(),
                existing.bucket
            )));
        }
    }
    let manifest = CopyManifest {
        bucket: bucket.to_string(),
        fetched_at: Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
    };
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    write(&dest.join(SOURCE_FILE), text.as_bytes())
}

/// Writes one object read from the source; `Ok(None)` when it was skipped (and says why in
/// the report).
fn store(
    key: &str,
    read: Result<Option<Object>, SourceError>,
    dest: &Path,
    with_metadata: bool,
    report: &mut FetchReport,
) -> Result<Option<Vec<u8>>, TrailError> {
    let path = match key_path(dest, key) {
        Ok(path) => path,
        Err(e) => {
            report.skipped.push((key.to_string(), e.to_string()));
            return Ok(None);
        }
    };
    let object = match read {
        Ok(Some(object)) => object,
        Ok(None) => {
            report
                .skipped
                .push((key.to_string(), "not found".to_string()));
            return Ok(None);
        }
        Err(e) => {
            report.skipped.push((key.to_string(), e.to_string()));
            return Ok(None);
        }
    };
    write(&path, &object.bytes)?;
    if with_metadata {
        let text = serde_json::to_string_pretty(&object.metadata).unwrap_or_default();
        write(&metadata_path(&path), text.as_bytes())?;
    }
    report.bytes += object.bytes.len() as u64;
    Ok(Some(object.bytes))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TrailError> {
    let fail = |e: std::io::Error| TrailError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)
}
