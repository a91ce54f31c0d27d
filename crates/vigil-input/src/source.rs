//! The byte stream of one input: opened, gunzipped when it starts with the gzip magic, read
//! line by line with a bound on line length, and positioned (byte offset, line number) so
//! that every record and reject can say where it was.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUFFER_BYTES: usize = 256 * 1024;
/// What is kept of a line that is too long.
const EXCERPT_KEEP: usize = crate::Reject::EXCERPT_BYTES;

/// A readable input with its position.
pub(crate) struct Source<'r> {
    reader: Box<dyn BufRead + 'r>,
    /// Compressed bytes the gzip decoder has consumed, when the input is compressed.
    compressed_read: Option<Rc<Cell<u64>>>,
    /// Decompressed bytes consumed so far.
    pub(crate) offset: u64,
    /// Lines fully consumed so far.
    pub(crate) lines: u64,
}

/// How a line read went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// No more input.
    End,
    /// The line is in the buffer, without its `\n` (a `\r` before it is kept).
    Line,
    /// The line was longer than the bound: it was consumed, not kept; its length in bytes.
    TooLong(u64),
}

impl<'r> Source<'r> {
    /// Wraps `reader`, decompressing it when it starts with the gzip magic.
    pub(crate) fn new(reader: impl Read + 'r) -> io::Result<Self> {
        let mut buffered = BufReader::with_capacity(BUFFER_BYTES, reader);
        let head = buffered.fill_buf()?;
        if !head.starts_with(&GZIP_MAGIC) {
            return Ok(Source::plain(Box::new(buffered)));
        }
        let consumed = Rc::new(Cell::new(0));
        let counted = CountConsumed {
            inner: buffered,
            consumed: Rc::clone(&consumed),
        };
        let decoder = MultiGzDecoder::new(counted);
        Ok(Source {
            compressed_read: Some(consumed),
            ..Source::plain(Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder)))
        })
    }

    fn plain(reader: Box<dyn BufRead + 'r>) -> Self {
        Source {
            reader,
            compressed_read: None,
            offset: 0,
            lines: 0,
        }
    }

    /// Whether the input is gzip-compressed.
    pub(crate) fn compressed(&self) -> bool {
        self.compressed_read.is_some()
    }

    /// The next bytes, without consuming them (empty at the end).
    pub(crate) fn peek(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }

    /// Consumes whitespace (and a UTF-8 byte order mark at the very start), appending it to
    /// `kept`. Returns the first byte after it, if any.
    pub(crate) fn skip_blank(&mut self, kept: &mut Vec<u8>) -> io::Result<Option<u8>> {
        if self.offset == 0 && self.peek()?.starts_with(b"\xef\xbb\xbf") {
            kept.extend_from_slice(b"\xef\xbb\xbf");
            self.offset += 3;
            self.reader.consume(3);
        }
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let next = chunk.iter().position(|&b| !is_json_ws(b));
            let blank = chunk.get(..next.unwrap_or(chunk.len())).unwrap_or_default();
            kept.extend_from_slice(blank);
            self.offset += blank.len() as u64;
            self.lines += memchr::memchr_iter(b'\n', blank).count() as u64;
            let (used, next_byte) = (blank.len(), next.and_then(|i| chunk.get(i).copied()));
            self.reader.consume(used);
            if next_byte.is_some() {
                return Ok(next_byte);
            }
        }
    }

    /// Reads one line into `line` (cleared first), keeping at most `max` bytes: a longer
    /// line is consumed to its end and reported as too long, with only its start kept.
    pub(crate) fn read_line(&mut self, line: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
        line.clear();
        let mut total = 0u64;
        let mut too_long = false;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(match (total, too_long) {
                    (0, _) => LineRead::End,
                    (_, true) => LineRead::TooLong(total),
                    _ => LineRead::Line,
                });
            }
            let newline = memchr::memchr(b'\n', chunk);
            let content = chunk
                .get(..newline.unwrap_or(chunk.len()))
                .unwrap_or_default();
            total += content.len() as u64;
            if !too_long && line.len() + content.len() <= max {
                line.extend_from_slice(content);
            } else if !too_long {
                // Keep only the start, for the reject's excerpt.
                too_long = true;
                line.extend_from_slice(content.get(..EXCERPT_KEEP).unwrap_or(content));
                line.truncate(EXCERPT_KEEP);
                line.shrink_to(max.min(BUFFER_BYTES));
            }
            let used = content.len() + usize::from(newline.is_some());
            self.offset += used as u64;
            self.lines += u64::from(newline.is_some());
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        Ok(if too_long {
            LineRead::TooLong(total)
        } else {
            LineRead::Line
        })
    }

    /// Appends the rest of the input to `doc`, stopping after `max` bytes in all. Returns
    /// whether the input ended within the bound.
    pub(crate) fn read_rest(&mut self, doc: &mut Vec<u8>, max: usize) -> io::Result<bool> {
        let room = (max.saturating_sub(doc.len()) as u64).saturating_add(1);
        let before = doc.len();
        let result = (&mut self.reader).take(room).read_to_end(doc);
        self.offset += (doc.len() - before) as u64;
        result?;
        Ok(doc.len() <= max)
    }

    /// Describes a read error with where it happened, naming the compressed offset for gzip.
    pub(crate) fn describe_error(&self, error: &io::Error) -> String {
        match &self.compressed_read {
            Some(consumed) => format!(
                "corrupt or truncated gzip stream near compressed byte {} (after {} decompressed bytes): {error}",
                consumed.get(),
                self.offset
            ),
            None => format!("read error after {} bytes: {error}", self.offset),
        }
    }
}

fn is_json_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// A `BufRead` that counts what its consumer consumed: the gzip decoder's position in the
/// compressed stream, for error messages.
struct CountConsumed<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for CountConsumed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountConsumed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed.set(self.consumed.get() + amount as u64);
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn lines_are_bounded_and_positioned() {
        let text = b"short\r\nthis line is too long\nlast";
        let mut src = Source::new(&text[..]).unwrap();
        let mut line = Vec::new();
        assert_eq!(src.read_line(&mut line, 10).unwrap(), LineRead::Line);
        assert_eq!(
            (line.as_slice(), src.lines, src.offset),
            (&b"short\r"[..], 1, 7)
        );
        assert_eq!(src.read_line(&mut line, 10).unwrap(), LineRead::TooLong(21));
        // Only the start is kept (up to an excerpt's length), for the reject.
        assert_eq!(line, b"this line is too long");
        assert_eq!(src.read_line(&mut line, 10).unwrap(), LineRead::Line);
        assert_eq!((line.as_slice(), src.lines), (&b"last"[..], 2));
        assert_eq!(src.read_line(&mut line, 10).unwrap(), LineRead::End);
    }

    #[test]
    fn gzip_is_detected_by_its_magic_and_blank_space_skipped() {
        let compressed = gzip(b"\xef\xbb\xbf \n\t{\"a\":1}");
        let mut src = Source::new(&compressed[..]).unwrap();
        assert!(src.compressed());
        let mut kept = Vec::new();
        assert_eq!(src.skip_blank(&mut kept).unwrap(), Some(b'{'));
        assert_eq!((kept.len(), src.offset, src.lines), (6, 6, 1));
        let plain = Source::new(&b"{}"[..]).unwrap();
        assert!(!plain.compressed());
    }

    #[test]
    fn documents_stop_at_the_bound() {
        let mut src = Source::new(&b"0123456789"[..]).unwrap();
        let mut doc = b"ab".to_vec();
        assert!(!src.read_rest(&mut doc, 5).unwrap());
        let mut src = Source::new(&b"0123"[..]).unwrap();
        let mut doc = Vec::new();
        assert!(src.read_rest(&mut doc, 5).unwrap());
        assert_eq!((doc.as_slice(), src.offset), (&b"0123"[..], 4));
    }

    #[test]
    fn truncated_gzip_errors_name_the_compressed_offset() {
        let compressed = gzip(&b"{\"eventName\":\"x\"}\n".repeat(5000));
        let cut = &compressed[..compressed.len() / 2];
        let mut src = Source::new(cut).unwrap();
        let mut doc = Vec::new();
        let error = src.read_rest(&mut doc, usize::MAX).unwrap_err();
        assert!(!doc.is_empty());
        let text = src.describe_error(&error);
        assert!(
            text.starts_with("corrupt or truncated gzip stream near compressed byte"),
            "{text}"
        );
        assert!(
            text.contains(&format!("after {} decompressed bytes", doc.len())),
            "{text}"
        );
    }
}
