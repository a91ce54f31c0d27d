//! Reading JSON inputs: JSON Lines are streamed line by line; any other JSON (a CloudTrail
//! log file, an array, a `get-findings` response, one record or envelope) is read whole, once,
//! and its records are parsed one at a time from it (`records.rs`, `fast.rs`).
//!
//! Which of the two an input is follows from its first line: when that line holds one
//! complete JSON value and more content follows, the input is JSON Lines.

use std::cell::Cell;

use crate::emit::{Emitter, Spot};
use crate::frame::Frame;
use crate::records::{read_array, read_value};
use crate::scan;
use crate::shape::{Hint, Wrapper};
use crate::source::{DocBuffer, LineRead, Source};
use crate::Format;

thread_local! {
    /// The document buffer of the last JSON input this thread read, kept for the next one:
    /// a worker reads thousands of CloudTrail files of a few MiB each, and growing a fresh
    /// buffer for each (reallocating and copying it as it doubles, faulting its pages in,
    /// zeroing it to read into it) cost more than a few percent of detection.
    static SPARE: Cell<DocBuffer> = const { Cell::new(DocBuffer::new()) };
}

/// The largest buffer kept between inputs (a bigger one is freed: memory stays bounded).
const SPARE_MAX_BYTES: usize = 8 << 20;

/// An empty buffer, with the allocation of the last one given back on this thread.
fn take_spare() -> DocBuffer {
    SPARE.with(Cell::take)
}

/// Keeps `buffer`'s allocation for the next input read on this thread.
fn keep_spare(mut buffer: DocBuffer) {
    if buffer.capacity() <= SPARE_MAX_BYTES {
        buffer.clear();
        SPARE.with(|spare| spare.set(buffer));
    }
}

/// Reads a JSON input whose first bytes (a byte order mark, whitespace) are in `head`.
///
/// The first line is read straight into the document buffer after `head`: when the input
/// turns out to be one document (a CloudTrail log file is one line), the rest is appended
/// to it, and nothing is copied or moved on the way.
pub(crate) fn read_json(src: &mut Source, head: Vec<u8>, cx: &mut Emitter) {
    let (offset, line) = (src.offset, src.lines + 1);
    let mut doc = take_spare();
    doc.extend_from_slice(&head);
    let read = src.read_line_into(&mut doc, cx.opts.max_document_bytes);
    let first_len = doc.len() - head.len();
    let newline = src.offset - offset > first_len as u64;
    let mut gap = Vec::new();
    let next = match read {
        Ok(LineRead::TooLong(len)) => {
            keep_spare(doc);
            return too_big(len, cx);
        }
        Ok(_) => src.skip_blank(&mut gap),
        Err(e) => Err(e),
    };
    let first = doc.as_slice().get(head.len()..).unwrap_or_default();
    match next {
        Ok(Some(_)) if scan::is_single_value(first) => {
            cx.report.format = Format::JsonLines;
            read_json_line(first, offset, line, cx);
            read_lines(src, doc.into_vec(), cx);
        }
        Ok(_) => {
            join(&mut doc, newline, &gap);
            read_whole(src, &mut doc, cx);
            keep_spare(doc);
        }
        Err(e) => {
            join(&mut doc, newline, &gap);
            read_document(doc.as_slice(), true, cx);
            keep_spare(doc);
            let spot = end_spot(src, cx);
            cx.fail(spot, src.describe_error(&e));
        }
    }
}

/// Completes the document's start (its first bytes and first line) with what followed.
fn join(doc: &mut DocBuffer, newline: bool, gap: &[u8]) {
    if newline {
        doc.push(b'\n');
    }
    doc.extend_from_slice(gap);
}

fn too_big(len: u64, cx: &mut Emitter) {
    let spot = Spot {
        record: 1,
        line: Some(1),
        byte_offset: Some(0),
    };
    let limit = cx.opts.max_document_bytes;
    let reason = format!(
        "JSON document of {len} bytes or more is over the limit of {limit} bytes; convert it to JSON Lines"
    );
    cx.fail(spot, reason);
}

fn end_spot(src: &Source, cx: &Emitter) -> Spot {
    Spot {
        record: cx.next_record(),
        line: Some(src.lines + 1),
        byte_offset: Some(src.offset),
    }
}

/// Reads the rest of a document into `doc` and its records from it.
fn read_whole(src: &mut Source, doc: &mut DocBuffer, cx: &mut Emitter) {
    match src.read_rest(doc, cx.opts.max_document_bytes) {
        Ok(true) => read_document(doc.as_slice(), false, cx),
        Ok(false) => too_big(doc.len() as u64, cx),
        Err(e) => {
            read_document(doc.as_slice(), true, cx);
            let spot = end_spot(src, cx);
            cx.fail(spot, src.describe_error(&e));
        }
    }
}

/// Reads the records of a whole JSON document (`truncated`: it was cut short by a read
/// error, reported by the caller).
fn read_document(doc: &[u8], truncated: bool, cx: &mut Emitter) {
    let start = scan::skip_ws(
        doc,
        if doc.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        },
    );
    let mut frame = Frame::document(doc, truncated);
    let format = match doc.get(start) {
        Some(b'[') => {
            read_array(&mut frame, start, Hint::Any, cx);
            Format::JsonArray
        }
        _ => match scan::find_key(doc, start, Wrapper::KEYS) {
            Some((key, array)) if doc.get(array) == Some(&b'[') => {
                let wrapper = Wrapper::from_key(key);
                read_array(&mut frame, array, wrapper.hint(), cx);
                wrapper.format()
            }
            _ => read_value(&mut frame, start..trim_end(doc), Hint::Any, None, cx),
        },
    };
    cx.report.format = format;
}

fn trim_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |last| last + 1)
}

/// Reads JSON Lines after the first line, reusing its buffer (then kept for the next input).
fn read_lines(src: &mut Source, mut line: Vec<u8>, cx: &mut Emitter) {
    read_lines_into(src, &mut line, cx);
    keep_spare(DocBuffer::from_vec(line));
}

fn read_lines_into(src: &mut Source, line: &mut Vec<u8>, cx: &mut Emitter) {
    loop {
        let (offset, number) = (src.offset, src.lines + 1);
        let spot = Spot {
            record: number,
            line: Some(number),
            byte_offset: Some(offset),
        };
        match src.read_line(line, cx.opts.max_record_bytes) {
            Ok(LineRead::End) => return,
            Ok(LineRead::Line) => read_json_line(line, offset, number, cx),
            Ok(LineRead::TooLong(len)) => {
                let limit = cx.opts.max_record_bytes;
                let reason = format!("record of {len} bytes is over the limit of {limit} bytes");
                cx.reject(spot, reason, line);
            }
            Err(e) => return cx.fail(spot, src.describe_error(&e)),
        }
    }
}

fn read_json_line(line: &[u8], offset: u64, number: u64, cx: &mut Emitter) {
    let start = scan::skip_ws(line, 0);
    let end = trim_end(line);
    if start >= end {
        return;
    }
    let mut frame = Frame::line(line, offset, number);
    match line.get(start) {
        Some(b'[') => read_array(&mut frame, start, Hint::Any, cx),
        _ => {
            read_value(&mut frame, start..end, Hint::Any, None, cx);
        }
    }
}
