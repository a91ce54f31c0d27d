//! The byte stream of one input: opened, gunzipped when it starts with the gzip magic, read
//! line by line with a bound on line length, and positioned (byte offset, line number) so
//! that every record and reject can say where it was.

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The size of every read from the (decompressed) input: the buffer's, and that of each
/// read made straight into a document.
const BUFFER_BYTES: usize = 256 * 1024;
/// What is kept of a line that is too long.
const EXCERPT_KEEP: usize = crate::Reject::EXCERPT_BYTES;
/// The largest read buffer kept between inputs (one grown past it is freed).
const SPARE_MAX_BYTES: usize = 8 << 20;

/// The largest gzip input, compressed and inflated, read whole and inflated at once
/// (`gunzip.rs`); larger ones are streamed. A CloudTrail log file is well under it.
const WHOLE_MAX_BYTES: usize = SPARE_MAX_BYTES;

/// The largest buffer of compressed bytes kept between inputs.
const COMPRESSED_KEEP_BYTES: usize = 1 << 20;

thread_local! {
    /// The read buffer of the last input this thread read, kept for the next one: a new
    /// buffer must be zeroed before it can be read into (256 KiB per input, or the whole
    /// inflated input).
    static READ_SPARE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Likewise, the compressed bytes of the last gzip input read whole.
    static COMPRESSED_SPARE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A readable input with its position.
pub(crate) struct Source<'r> {
    reader: Buffered<'r>,
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
        // A small input is read whole and inflated at once (`gunzip.rs`: libdeflate, more
        // than twice as fast); the read-ahead is bounded, and anything the whole-buffer path
        // does not take (too large, damaged) is streamed from what was read ahead on.
        let mut compressed =
            COMPRESSED_SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
        compressed.clear();
        (&mut buffered)
            .take(WHOLE_MAX_BYTES as u64 + 1)
            .read_to_end(&mut compressed)?;
        if compressed.len() <= WHOLE_MAX_BYTES {
            let mut out = READ_SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
            match crate::gunzip::gunzip(&compressed, &mut out, WHOLE_MAX_BYTES) {
                Some(filled) => {
                    let read = Rc::new(Cell::new(compressed.len() as u64));
                    if compressed.capacity() <= COMPRESSED_KEEP_BYTES {
                        let _ = COMPRESSED_SPARE.try_with(|spare| *spare.borrow_mut() = compressed);
                    }
                    return Ok(Source {
                        compressed_read: Some(read),
                        ..Source::inflated(out, filled)
                    });
                }
                None => {
                    let _ = READ_SPARE.try_with(|spare| *spare.borrow_mut() = out);
                }
            }
        }
        Ok(Source::streamed(
            io::Cursor::new(compressed).chain(buffered),
        ))
    }

    /// Streams the gzip input `compressed` through the decoder.
    fn streamed(compressed: impl BufRead + 'r) -> Self {
        let consumed = Rc::new(Cell::new(0));
        let counted = CountConsumed {
            inner: compressed,
            consumed: Rc::clone(&consumed),
        };
        let decoder = MultiGzDecoder::new(counted);
        Source {
            compressed_read: Some(consumed),
            ..Source::plain(Box::new(decoder))
        }
    }

    /// The input inflated whole: the first `filled` bytes of `bytes`.
    fn inflated(bytes: Vec<u8>, filled: usize) -> Self {
        Source {
            reader: Buffered::holding(bytes, filled),
            compressed_read: None,
            offset: 0,
            lines: 0,
        }
    }

    fn plain(inner: Box<dyn Read + 'r>) -> Self {
        Source {
            reader: Buffered::new(inner),
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

    /// Appends one line to `doc`, like [`Source::read_line`] (at most `max` bytes of it; a
    /// longer line is consumed, and `doc` is left as it was), but reading what the buffer
    /// does not hold straight into `doc`: a CloudTrail log file is one line of up to several
    /// MiB, which would otherwise be copied from the buffer into the document whole. Reads
    /// are made as the buffer would make them (the same sizes, at the same points), so a
    /// corrupt input fails at the same place.
    pub(crate) fn read_line_into(
        &mut self,
        doc: &mut DocBuffer,
        max: usize,
    ) -> io::Result<LineRead> {
        let start = doc.len();
        if doc.is_empty() {
            self.reader.hand_over(doc, max);
        }
        // What was handed over is consumed.
        let mut total = (doc.len() - start) as u64;
        self.offset += total;
        let mut too_long = false;
        let mut ended_line = false;
        loop {
            let buffered = self.reader.buffered();
            let chunk = if buffered.is_empty() && too_long {
                self.reader.fill_buf()?
            } else {
                buffered
            };
            if !chunk.is_empty() {
                let newline = memchr::memchr(b'\n', chunk);
                let content = chunk
                    .get(..newline.unwrap_or(chunk.len()))
                    .unwrap_or_default();
                total += content.len() as u64;
                too_long = too_long || doc.len() - start + content.len() > max;
                if !too_long {
                    doc.extend_from_slice(content);
                }
                let used = content.len() + usize::from(newline.is_some());
                self.offset += used as u64;
                self.lines += u64::from(newline.is_some());
                self.reader.consume(used);
                if newline.is_some() {
                    ended_line = true;
                    break;
                }
                continue;
            }
            if too_long {
                break;
            }
            // The buffer is empty: read the next bytes into the document itself.
            let read = self.reader.read_direct(doc.spare(BUFFER_BYTES))?;
            if read == 0 {
                break;
            }
            let fresh = doc.spare(read);
            let newline = memchr::memchr(b'\n', fresh);
            let content = newline.unwrap_or(read);
            if let Some(at) = newline {
                // What came after the line goes back to the buffer, read next.
                self.reader.unread(fresh.get(at + 1..).unwrap_or_default());
            }
            doc.advance(content);
            total += content as u64;
            self.offset += (content + usize::from(newline.is_some())) as u64;
            self.lines += u64::from(newline.is_some());
            too_long = doc.len() - start > max;
            if newline.is_some() {
                ended_line = true;
                break;
            }
        }
        if too_long {
            doc.truncate(start);
            return Ok(LineRead::TooLong(total));
        }
        Ok(if total == 0 && !ended_line {
            LineRead::End
        } else {
            LineRead::Line
        })
    }

    /// Appends the rest of the input to `doc`, stopping after `max` bytes in all. Returns
    /// whether the input ended within the bound. What the buffer does not hold is read
    /// straight into `doc`.
    pub(crate) fn read_rest(&mut self, doc: &mut DocBuffer, max: usize) -> io::Result<bool> {
        let limit = max.saturating_add(1);
        loop {
            let room = limit.saturating_sub(doc.len());
            if room == 0 {
                break;
            }
            let buffered = self.reader.buffered();
            if !buffered.is_empty() {
                let taken = buffered.get(..room).unwrap_or(buffered);
                doc.extend_from_slice(taken);
                let used = taken.len();
                self.offset += used as u64;
                self.reader.consume(used);
                continue;
            }
            let read = self.reader.read_direct(doc.spare(room.min(BUFFER_BYTES)))?;
            if read == 0 {
                break;
            }
            doc.advance(read);
            self.offset += read as u64;
        }
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

/// The decompressed (or plain) bytes of the input, buffered. Written by hand rather than
/// with `std::io::BufReader` because a long line is read around the buffer, straight into
/// the document ([`Source::read_line_into`]), and what such a read brings past the line's end
/// must be given back to the buffer, which `BufReader` cannot take.
struct Buffered<'r> {
    inner: Box<dyn Read + 'r>,
    /// At least [`BUFFER_BYTES`] long (more after a large [`Buffered::unread`]), all of it
    /// initialized; `pos..filled` is what is buffered.
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
}

impl<'r> Buffered<'r> {
    fn new(inner: Box<dyn Read + 'r>) -> Self {
        let mut buf = READ_SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
        if buf.len() < BUFFER_BYTES {
            buf.resize(BUFFER_BYTES, 0);
        }
        Buffered {
            inner,
            buf,
            pos: 0,
            filled: 0,
        }
    }

    /// A buffer holding the whole input already: the first `filled` bytes of `bytes`.
    fn holding(mut bytes: Vec<u8>, filled: usize) -> Self {
        let filled = filled.min(bytes.len());
        if bytes.len() < BUFFER_BYTES {
            bytes.resize(BUFFER_BYTES, 0);
        }
        Buffered {
            inner: Box::new(io::empty()),
            buf: bytes,
            pos: 0,
            filled,
        }
    }

    /// What is buffered (empty when a read is due).
    fn buffered(&self) -> &[u8] {
        self.buf.get(self.pos..self.filled).unwrap_or_default()
    }

    /// What is buffered, reading more first when nothing is (empty at the end).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            let out = self.buf.get_mut(..BUFFER_BYTES).unwrap_or_default();
            let read = read_retrying(&mut self.inner, out)?;
            (self.pos, self.filled) = (0, read);
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.filled);
    }

    /// When what is buffered is the start of a line longer than the buffer (and at most
    /// `max` bytes so far), makes it the content of the empty `doc` by exchanging their
    /// allocations, instead of copying it: the buffer is the first 256 KiB of a CloudTrail
    /// log file.
    fn hand_over(&mut self, doc: &mut DocBuffer, max: usize) {
        let held = self.buffered();
        if self.pos != 0
            || held.is_empty()
            || held.len() > max
            || memchr::memchr(b'\n', held).is_some()
        {
            return;
        }
        std::mem::swap(&mut self.buf, &mut doc.bytes);
        doc.len = self.filled;
        if self.buf.len() < BUFFER_BYTES {
            self.buf.resize(BUFFER_BYTES, 0);
        }
        (self.pos, self.filled) = (0, 0);
    }

    /// Reads into `out` around the buffer, which must be empty.
    fn read_direct(&mut self, out: &mut [u8]) -> io::Result<usize> {
        debug_assert!(self.pos >= self.filled);
        read_retrying(&mut self.inner, out)
    }

    /// Makes `bytes` what is buffered; the buffer must be empty.
    fn unread(&mut self, bytes: &[u8]) {
        debug_assert!(self.pos >= self.filled);
        if self.buf.len() < bytes.len() {
            self.buf.resize(bytes.len(), 0);
        }
        if let Some(out) = self.buf.get_mut(..bytes.len()) {
            out.copy_from_slice(bytes);
        }
        (self.pos, self.filled) = (0, bytes.len());
    }
}

impl Drop for Buffered<'_> {
    fn drop(&mut self) {
        if self.buf.capacity() <= SPARE_MAX_BYTES {
            let buf = std::mem::take(&mut self.buf);
            // `try_with`: the thread may be exiting, its spare already gone.
            let _ = READ_SPARE.try_with(|spare| *spare.borrow_mut() = buf);
        }
    }
}

/// `Read::read`, retried when interrupted (as `BufReader` and `read_to_end` do).
fn read_retrying(reader: &mut dyn Read, out: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(out) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// A growable byte buffer that keeps the bytes past its content initialized, so that the
/// input can be read into it again without zeroing: `Read::read` takes an initialized slice,
/// and safe Rust can only make one of a `Vec`'s spare capacity by zeroing it (a memset of
/// the whole document for every input, the buffer being reused from input to input).
#[derive(Debug, Default)]
pub(crate) struct DocBuffer {
    /// Initialized bytes: the content, then bytes free to be overwritten.
    bytes: Vec<u8>,
    len: usize,
}

impl DocBuffer {
    /// An empty buffer.
    pub(crate) const fn new() -> Self {
        DocBuffer {
            bytes: Vec::new(),
            len: 0,
        }
    }

    /// An empty buffer that reuses `bytes`' allocation (and initialized bytes).
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Self {
        DocBuffer { bytes, len: 0 }
    }

    /// The allocation, for reuse as a line buffer (its content is not kept).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.bytes
    }

    /// The content.
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Empties the content, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    pub(crate) fn extend_from_slice(&mut self, more: &[u8]) {
        let end = self.len + more.len();
        match self.bytes.get_mut(self.len..end) {
            Some(out) => out.copy_from_slice(more),
            None => {
                self.bytes.truncate(self.len);
                self.bytes.extend_from_slice(more);
            }
        }
        self.len = end;
    }

    pub(crate) fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }

    /// `want` bytes to write after the content (zeroed only where never written before);
    /// [`DocBuffer::advance`] then adds what was written to the content.
    fn spare(&mut self, want: usize) -> &mut [u8] {
        let end = self.len + want;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes.get_mut(self.len..end).unwrap_or_default()
    }

    fn advance(&mut self, written: usize) {
        self.len = (self.len + written).min(self.bytes.len());
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
    use crate::gunzip::gzip;

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

    /// Lines around the buffer's size (shorter, equal, longer, several times longer), an
    /// empty line, and no newline at the end; the first line is `first` bytes long.
    fn long_lines(first: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let lengths = [
            first,
            BUFFER_BYTES - 3,
            0,
            BUFFER_BYTES,
            BUFFER_BYTES + 1,
            7,
            3 * BUFFER_BYTES + 11,
            2,
            BUFFER_BYTES / 2,
            BUFFER_BYTES * 2,
            4,
        ];
        for (i, len) in lengths.into_iter().enumerate() {
            let byte = b'a' + (i % 26) as u8;
            text.extend(std::iter::repeat_n(byte, len));
            text.push(b'\n');
        }
        text.extend_from_slice(b"last");
        text
    }

    #[test]
    fn lines_read_into_a_document_are_the_lines_read_through_the_buffer() {
        // A long first line is handed over from the buffer to an empty document.
        for first in [5, 3 * BUFFER_BYTES + 5] {
            let text = long_lines(first);
            for input in [text.clone(), gzip(&text)] {
                for (max, kept) in [
                    (usize::MAX, &b""[..]),
                    (usize::MAX, b"kept"),
                    (BUFFER_BYTES + 1, b""),
                    (BUFFER_BYTES + 1, b"kept"),
                    (1000, b""),
                ] {
                    let mut through = Source::new(&input[..]).unwrap();
                    let mut into = Source::new(&input[..]).unwrap();
                    // As reading an input does: its first bytes are looked at first.
                    assert_eq!(into.peek().unwrap().first(), text.first());
                    let (mut line, mut doc) = (Vec::new(), DocBuffer::default());
                    loop {
                        doc.clear();
                        doc.extend_from_slice(kept);
                        let expected = through.read_line(&mut line, max).unwrap();
                        let found = into.read_line_into(&mut doc, max).unwrap();
                        assert_eq!(found, expected, "max {max}, line {}", through.lines);
                        assert_eq!((into.offset, into.lines), (through.offset, through.lines));
                        let (start, rest) = doc.as_slice().split_at(kept.len());
                        assert_eq!(start, kept);
                        match found {
                            LineRead::Line => assert!(rest == line.as_slice()),
                            _ => assert!(rest.is_empty()),
                        }
                        if found == LineRead::End {
                            break;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn what_follows_a_line_read_into_a_document_is_read_next() {
        let text = long_lines(BUFFER_BYTES * 2);
        let mut src = Source::new(&text[..]).unwrap();
        let mut doc = DocBuffer::default();
        let mut kept = Vec::new();
        // The first lines go into the document, the rest is read through the buffer.
        for _ in 0..7 {
            assert_eq!(
                src.read_line_into(&mut doc, usize::MAX).unwrap(),
                LineRead::Line
            );
            doc.push(b'\n');
        }
        assert_eq!(src.skip_blank(&mut kept).unwrap(), Some(b'h'));
        assert!(src.read_rest(&mut doc, usize::MAX).unwrap());
        assert_eq!(doc.as_slice(), text.as_slice());
        assert_eq!(src.offset, text.len() as u64);
    }

    #[test]
    fn document_buffers_reuse_their_bytes() {
        let mut doc = DocBuffer::default();
        doc.extend_from_slice(b"abcdef");
        doc.clear();
        doc.extend_from_slice(b"xy");
        doc.push(b'z');
        assert_eq!(doc.as_slice(), b"xyz");
        assert_eq!(doc.spare(2), b"de");
        doc.advance(1);
        assert_eq!(doc.as_slice(), b"xyzd");
        assert_eq!(doc.spare(4), b"ef\0\0");
        let reused = DocBuffer::from_vec(doc.into_vec());
        assert!(reused.is_empty());
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
        let mut doc = DocBuffer::default();
        doc.extend_from_slice(b"ab");
        assert!(!src.read_rest(&mut doc, 5).unwrap());
        assert_eq!(doc.as_slice(), b"ab0123");
        let mut src = Source::new(&b"0123"[..]).unwrap();
        let mut doc = DocBuffer::default();
        assert!(src.read_rest(&mut doc, 5).unwrap());
        assert_eq!((doc.as_slice(), src.offset), (&b"0123"[..], 4));
    }

    #[test]
    fn truncated_gzip_errors_name_the_compressed_offset() {
        let compressed = gzip(&b"{\"eventName\":\"x\"}\n".repeat(5000));
        let cut = &compressed[..compressed.len() / 2];
        let mut src = Source::new(cut).unwrap();
        let mut doc = DocBuffer::default();
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

    fn read_all(input: &[u8]) -> (Vec<u8>, bool) {
        let mut src = Source::new(input).unwrap();
        let mut doc = DocBuffer::default();
        assert!(src.read_rest(&mut doc, usize::MAX).unwrap());
        (doc.as_slice().to_vec(), src.compressed())
    }

    /// Small gzip inputs are inflated whole, larger ones streamed, every member of either
    /// read, and the text is the same whichever way it came.
    #[test]
    fn gzip_inputs_read_whole_or_streamed_give_the_same_text() {
        let line = b"{\"eventName\":\"GetObject\",\"n\":1}\n";
        let small = line.repeat(1_000);
        let large = line.repeat(WHOLE_MAX_BYTES / line.len() + 10);
        assert!(large.len() > WHOLE_MAX_BYTES);
        let cases = [
            (gzip(&small), small.clone()),
            (gzip(&large), large.clone()),
            (
                [gzip(&small), gzip(b""), gzip(&small)].concat(),
                [small.clone(), small.clone()].concat(),
            ),
            (
                [gzip(&small), gzip(&large)].concat(),
                [small.clone(), large.clone()].concat(),
            ),
        ];
        for (compressed, expected) in cases {
            let (text, compressed_input) = read_all(&compressed);
            assert!(compressed_input);
            assert_eq!(text.len(), expected.len());
            assert!(text == expected);
        }
    }
}
