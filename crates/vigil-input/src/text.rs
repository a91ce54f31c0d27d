//! Reading line-oriented text logs (VPC Flow Logs, S3 server access logs): the first line
//! tells the format, then every line is one record, streamed.

use sonic_rs::Value;
use vigil_event::{Event, LogSource};

use crate::emit::{Emitter, Spot};
use crate::flow::Layout;
use crate::source::{LineRead, Source};
use crate::{s3_access, Format};

/// A text log format, with what it needs to read a line.
enum TextFormat {
    Flow(Layout),
    S3Access,
}

impl TextFormat {
    fn sniff(first_line: &str) -> Option<Self> {
        if let Some(layout) = Layout::sniff(first_line) {
            return Some(TextFormat::Flow(layout));
        }
        s3_access::sniff(first_line).then_some(TextFormat::S3Access)
    }

    fn source(&self) -> LogSource {
        match self {
            TextFormat::Flow(_) => LogSource::VpcFlow,
            TextFormat::S3Access => LogSource::S3Access,
        }
    }

    fn to_json(&self, line: &str, out: &mut String) -> Result<(), String> {
        match self {
            TextFormat::Flow(layout) => layout.to_json(line, out),
            TextFormat::S3Access => s3_access::to_json(line, out),
        }
    }
}

/// Reads a text input; the caller has consumed only leading whitespace.
pub(crate) fn read_text(src: &mut Source, cx: &mut Emitter) {
    let head = src.peek().map(first_bytes).unwrap_or_default();
    let mut reader = LineReader::default();
    let Some(spot) = reader.next(src, cx) else {
        return;
    };
    let first = std::str::from_utf8(&reader.line).ok();
    let Some(format) = first.and_then(TextFormat::sniff) else {
        let reason = format!("unrecognised format: first bytes {head}");
        return cx.reject(spot, reason, &reader.line);
    };
    cx.report.format = match format {
        TextFormat::Flow(_) => Format::VpcFlowLog,
        TextFormat::S3Access => Format::S3AccessLog,
    };
    read_record(&format, spot, &reader.line, &mut reader.json, cx);
    while let Some(spot) = reader.next(src, cx) {
        read_record(&format, spot, &reader.line, &mut reader.json, cx);
    }
}

/// Up to 32 bytes, printable ASCII kept and the rest escaped.
fn first_bytes(bytes: &[u8]) -> String {
    let head = bytes.get(..32).unwrap_or(bytes);
    format!("\"{}\"", head.escape_ascii())
}

/// Lines with their positions, blank lines and lines that are too long dealt with.
#[derive(Default)]
struct LineReader {
    line: Vec<u8>,
    json: String,
}

impl LineReader {
    /// Reads the next non-blank line that fits the record limit into `self.line`; `None` at
    /// the end or after a read error (reported).
    fn next(&mut self, src: &mut Source, cx: &mut Emitter) -> Option<Spot> {
        loop {
            let number = src.lines + 1;
            let spot = Spot {
                record: number,
                line: Some(number),
                byte_offset: Some(src.offset),
            };
            match src.read_line(&mut self.line, cx.opts.max_record_bytes) {
                Ok(LineRead::End) => return None,
                Ok(LineRead::TooLong(len)) => {
                    let limit = cx.opts.max_record_bytes;
                    let reason =
                        format!("record of {len} bytes is over the limit of {limit} bytes");
                    cx.reject(spot, reason, &self.line);
                }
                Ok(LineRead::Line) if self.line.trim_ascii().is_empty() => {}
                Ok(LineRead::Line) => return Some(spot),
                Err(e) => {
                    cx.fail(spot, src.describe_error(&e));
                    return None;
                }
            }
        }
    }
}

fn read_record(format: &TextFormat, spot: Spot, raw: &[u8], json: &mut String, cx: &mut Emitter) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let line = match simdutf8::compat::from_utf8(raw) {
        Ok(line) => line,
        Err(e) => {
            let reason = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to());
            return cx.reject(spot, reason, raw);
        }
    };
    if let TextFormat::Flow(layout) = format {
        if layout.is_header(line) {
            return;
        }
    }
    let doc = format
        .to_json(line, json)
        .and_then(|()| sonic_rs::from_str::<Value>(json).map_err(|e| e.to_string()));
    match doc {
        Ok(doc) => {
            let event = Event::new(format.source(), doc, cx.origin(spot.record)).with_text(line);
            cx.event(event);
        }
        Err(reason) => cx.reject(spot, reason, raw),
    }
}
