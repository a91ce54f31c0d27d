//! Reading one input: open it, gunzip it when it starts with the gzip magic, tell its format
//! from its first bytes, and deliver its records to the sink.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use crate::emit::{Emitter, Spot};
use crate::source::Source;
use crate::{json, text, FileReport, Input, ReadOptions, RecordSink};

const FIRST_RECORD: Spot = Spot {
    record: 1,
    line: None,
    byte_offset: None,
};

/// Reads every record of `input` into `sink` and reports what happened. Never fails: a
/// problem with the input is in the report (`error`) and, like every bad record, a reject.
pub fn read_input(input: &Input, opts: &ReadOptions, sink: &mut dyn RecordSink) -> FileReport {
    let name = input.name();
    match input {
        Input::Stdin => read_from(name, std::io::stdin().lock(), opts, sink),
        Input::File(path) => match File::open(path) {
            Ok(file) => read_from(name, file, opts, sink),
            Err(e) => {
                let mut cx = Emitter::new(name, opts, sink);
                cx.fail(FIRST_RECORD, format!("cannot open: {e}"));
                cx.report
            }
        },
    }
}

/// Reads records from `bytes` (plain or gzip) as an input called `name`: for tests, and for
/// input that arrives in memory.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> FileReport {
    read_from(name.into(), bytes, opts, sink)
}

fn read_from(
    name: Arc<str>,
    reader: impl Read,
    opts: &ReadOptions,
    sink: &mut dyn RecordSink,
) -> FileReport {
    let mut cx = Emitter::new(name, opts, sink);
    match Source::new(reader) {
        Ok(mut src) => {
            cx.report.compressed = src.compressed();
            read_source(&mut src, &mut cx);
        }
        Err(e) => cx.fail(FIRST_RECORD, format!("cannot read: {e}")),
    }
    cx.report
}

fn read_source(src: &mut Source, cx: &mut Emitter) {
    let mut head = Vec::new();
    match src.skip_blank(&mut head) {
        Ok(None) => cx.skip("empty input"),
        Ok(Some(b'{' | b'[')) => json::read_json(src, head, cx),
        Ok(Some(_)) => text::read_text(src, cx),
        Err(e) => {
            let spot = Spot {
                byte_offset: Some(src.offset),
                ..FIRST_RECORD
            };
            cx.fail(spot, src.describe_error(&e));
        }
    }
}
