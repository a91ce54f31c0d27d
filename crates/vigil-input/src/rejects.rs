//! The rejects file: every rejected record as one JSON line (file, record, line,
//! byte_offset, reason, excerpt), so that nothing read is lost without a trace.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{InputError, Reject};

/// Writes rejects as JSON Lines to a file.
pub struct RejectsWriter {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
}

impl RejectsWriter {
    /// Creates (or truncates) the rejects file at `path`. Name it so that it ends with
    /// [`crate::REJECTS_FILE_SUFFIX`] and a later run over the same directory skips it.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, InputError> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(|source| InputError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(RejectsWriter {
            path,
            out: BufWriter::new(file),
            written: 0,
        })
    }

    /// Appends one reject.
    pub fn write(&mut self, reject: &Reject) -> Result<(), InputError> {
        serde_json::to_writer(&mut self.out, reject)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| self.io_error(source))?;
        self.written += 1;
        Ok(())
    }

    /// How many rejects were written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes what was written to the file.
    pub fn flush(&mut self) -> Result<(), InputError> {
        self.out.flush().map_err(|source| self.io_error(source))
    }

    fn io_error(&self, source: std::io::Error) -> InputError {
        InputError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_are_written_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.rejects.jsonl");
        let mut writer = RejectsWriter::create(&path).unwrap();
        let reject = Reject {
            file: "logs/a.json".into(),
            record: 3,
            line: Some(7),
            byte_offset: None,
            reason: "field eventName: expected string, found number".into(),
            excerpt: "{\"eventName\": 5}".into(),
        };
        writer.write(&reject).unwrap();
        writer.write(&reject).unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.written(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let parsed: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(parsed["file"], "logs/a.json");
        assert_eq!(parsed["record"], 3);
        assert_eq!(parsed["line"], 7);
        assert!(parsed["byte_offset"].is_null());
        assert_eq!(parsed["excerpt"], "{\"eventName\": 5}");
    }
}
