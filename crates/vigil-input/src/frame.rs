//! The bytes records are read from, and how positions in them become record numbers, lines
//! and byte offsets of the input.

use std::ops::Range;

use crate::emit::{Emitter, Spot};

/// The bytes records are read from (a whole document or one line) and how positions in them
/// map to record numbers, lines and offsets of the input.
pub(crate) struct Frame<'b> {
    pub(crate) bytes: &'b [u8],
    base_offset: u64,
    lines: Lines,
    /// The bytes end early because reading failed; the caller reports that failure, so a
    /// value cut off at the end is not rejected again.
    pub(crate) truncated: bool,
}

enum Lines {
    /// Every record in the frame is on this line, and is numbered by it (JSON Lines).
    Fixed(u64),
    /// Records are numbered in order; lines are counted when a reject needs one.
    Counted { counted_to: usize, line: u64 },
}

impl<'b> Frame<'b> {
    /// A whole document starting at offset 0, line 1.
    pub(crate) fn document(bytes: &'b [u8], truncated: bool) -> Self {
        Frame {
            bytes,
            base_offset: 0,
            lines: Lines::Counted {
                counted_to: 0,
                line: 1,
            },
            truncated,
        }
    }

    /// Line `line` of the input, starting at `offset`.
    pub(crate) fn line(bytes: &'b [u8], offset: u64, line: u64) -> Self {
        Frame {
            bytes,
            base_offset: offset,
            lines: Lines::Fixed(line),
            truncated: false,
        }
    }

    pub(crate) fn record(&self, cx: &Emitter) -> u64 {
        match self.lines {
            Lines::Fixed(line) => line,
            Lines::Counted { .. } => cx.next_record(),
        }
    }

    /// The position of the record starting at byte `at` of the frame.
    pub(crate) fn spot(&mut self, at: usize, cx: &Emitter) -> Spot {
        let record = self.record(cx);
        let line = match &mut self.lines {
            Lines::Fixed(line) => *line,
            Lines::Counted { counted_to, line } => {
                if at < *counted_to {
                    (*counted_to, *line) = (0, 1);
                }
                let between = self.bytes.get(*counted_to..at).unwrap_or_default();
                *line += memchr::memchr_iter(b'\n', between).count() as u64;
                *counted_to = at;
                *line
            }
        };
        Spot {
            record,
            line: Some(line),
            byte_offset: Some(self.base_offset + at as u64),
        }
    }

    pub(crate) fn raw(&self, range: &Range<usize>) -> &'b [u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }

    /// Rejects the record at `range`.
    pub(crate) fn reject(
        &mut self,
        range: &Range<usize>,
        reason: impl Into<String>,
        cx: &mut Emitter,
    ) {
        let spot = self.spot(range.start, cx);
        cx.reject(spot, reason, self.raw(range));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collected, ReadOptions};

    #[test]
    fn document_spots_count_lines_forwards_and_back() {
        let opts = ReadOptions::default();
        let mut sink = Collected::default();
        let cx = Emitter::new("t".into(), &opts, &mut sink);
        let text = b"[\n{},\n\n{}\n]";
        let mut frame = Frame::document(text, false);
        let at = |frame: &mut Frame, i| frame.spot(i, &cx);
        assert_eq!(at(&mut frame, 2).line, Some(2));
        assert_eq!(at(&mut frame, 7).line, Some(4));
        assert_eq!(at(&mut frame, 2).line, Some(2));
        assert_eq!(at(&mut frame, 7).byte_offset, Some(7));
        assert_eq!(at(&mut frame, 7).record, 1);
    }

    #[test]
    fn line_spots_are_the_line() {
        let opts = ReadOptions::default();
        let mut sink = Collected::default();
        let cx = Emitter::new("t".into(), &opts, &mut sink);
        let mut frame = Frame::line(b"{} {}", 100, 9);
        let spot = frame.spot(3, &cx);
        assert_eq!(
            (spot.record, spot.line, spot.byte_offset),
            (9, Some(9), Some(103))
        );
    }
}
