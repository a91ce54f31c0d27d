//! Whole-buffer gunzip with libdeflate, for compressed inputs small enough to hold.
//!
//! CloudTrail delivers each log file as one small gzip member (tens to hundreds of KiB,
//! under a few MiB inflated). libdeflate inflates a whole member from one buffer into
//! another about 2.3 times as fast as zlib-rs streams it (measured on the benchmark corpus:
//! 1.4 GB inflated in 0.69 s against 1.60 s), and inflating was a sixth of a detection run
//! and two thirds of reading evidence back. [`gunzip`] inflates every member of such an
//! input; anything it cannot vouch for — a member that is corrupt or truncated, output past
//! the bound — it leaves to the streaming decoder in `source.rs`, which reads the records
//! before the damage and names the compressed offset where it is.
//!
//! Written against `libdeflate-sys` rather than the `libdeflater` crate: `libdeflater`
//! binds only `libdeflate_gzip_decompress`, which stops after the first member without
//! saying where, so a file of several members (`cat a.gz b.gz`, which gzip and every AWS
//! reader accept) would silently lose all but the first. `libdeflate_gzip_decompress_ex`
//! returns how much input the member took; the loop below goes on with the next one.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// A libdeflate decompressor (about 32 KiB of tables), one per thread, kept between inputs.
struct Decompressor(NonNull<libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: no arguments; returns a decompressor we own, or null when out of memory.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Decompressor)
    }

    /// Inflates the gzip member at the start of `input` into `out`.
    fn member(&mut self, input: &[u8], out: &mut [u8]) -> Member {
        let (mut read, mut written) = (0usize, 0usize);
        // SAFETY: the decompressor is ours and alive; `input` and `out` are valid for their
        // lengths (libdeflate reads at most `input.len()` bytes and writes at most
        // `out.len()`); the two counts are valid places for it to write.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast::<c_void>(),
                input.len(),
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                &mut read,
                &mut written,
            )
        };
        #[allow(non_upper_case_globals)]
        match result {
            libdeflate_result_LIBDEFLATE_SUCCESS if read <= input.len() && written <= out.len() => {
                Member::Done { read, written }
            }
            libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::NoRoom,
            _ => Member::Bad,
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once, here.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

/// How inflating one member went.
enum Member {
    /// It took `read` bytes of input and gave `written` bytes.
    Done { read: usize, written: usize },
    /// Its output does not fit.
    NoRoom,
    /// Not a valid gzip member (corrupt, truncated, a wrong checksum or length).
    Bad,
}

/// Inflates the gzip data `compressed` (every member) the way vigil reads its inputs: whole,
/// with libdeflate, when the output fits in `max_whole` bytes and the data is valid;
/// streamed through the zlib-rs decoder otherwise. The output is the first bytes of `out`
/// (returned: how many); `out` keeps its length beyond them, so that a buffer used for
/// input after input is not zeroed again.
///
/// ```
/// use std::io::Write;
///
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
/// gz.write_all(br#"{"Records":[]}"#).unwrap();
/// let compressed = gz.finish().unwrap();
/// let mut out = Vec::new();
/// let n = vigil_input::inflate(&compressed, &mut out, 1 << 20).unwrap();
/// assert_eq!(&out[..n], br#"{"Records":[]}"#);
/// ```
pub fn inflate(compressed: &[u8], out: &mut Vec<u8>, max_whole: usize) -> std::io::Result<usize> {
    if let Some(written) = gunzip(compressed, out, max_whole) {
        return Ok(written);
    }
    out.clear();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(compressed), out)
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
}

/// Inflates every gzip member of `compressed` into `out` (its first bytes; the rest of it is
/// free space), growing `out` up to `max` bytes; returns how many bytes it wrote. `None` when
/// a member is not valid gzip or the output would pass `max`: the caller streams the input
/// instead. `out` keeps its length (and so its initialized bytes) for the next input: the
/// bytes past the output are not zeroed again.
pub(crate) fn gunzip(compressed: &[u8], out: &mut Vec<u8>, max: usize) -> Option<usize> {
    DECOMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Decompressor::new();
        }
        let decompressor = slot.as_mut()?;
        // The last four bytes are the size of the last member's output (mod 2^32): the whole
        // output for one member, a first guess otherwise.
        let last_size = compressed
            .last_chunk::<4>()
            .map_or(0, |size| u32::from_le_bytes(*size) as usize);
        if last_size > max {
            return None;
        }
        let mut room = last_size.clamp(1, max.max(1));
        let (mut read, mut written) = (0usize, 0usize);
        while read < compressed.len() {
            if out.len() < written + room {
                out.resize(written + room, 0);
            }
            let rest = compressed.get(read..)?;
            let space = out.get_mut(written..)?;
            match decompressor.member(rest, space) {
                Member::Done { read: 0, .. } => return None,
                Member::Done {
                    read: r,
                    written: w,
                } => {
                    read += r;
                    written += w;
                    // A next member's size is unknown: start from what is left of `max`.
                    room = max.saturating_sub(written).min(last_size.max(1));
                }
                Member::NoRoom if written + room < max => {
                    room = (room.saturating_mul(2)).min(max - written);
                }
                Member::NoRoom | Member::Bad => return None,
            }
        }
        Some(written)
    })
}

/// `bytes` as one gzip member, for the tests of this crate.
#[cfg(test)]
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn streamed(compressed: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(compressed).read_to_end(&mut out)?;
        Ok(out)
    }

    fn whole(compressed: &[u8], max: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let written = gunzip(compressed, &mut out, max)?;
        out.truncate(written);
        Some(out)
    }

    fn text(seed: usize, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"{\"eventName\":\"GetObject\"}\n"[(i * 7 + seed) % 26])
            .collect()
    }

    /// One member, several (of which some empty, and one repeated: the case a check of the
    /// trailer alone would get wrong), small and large: the bytes of the streaming decoder.
    #[test]
    fn every_member_is_inflated_as_the_streaming_decoder_does() {
        let a = text(1, 300_000);
        let b = text(2, 5);
        let cases: Vec<Vec<u8>> = vec![
            gzip(&a),
            gzip(b""),
            [gzip(&a), gzip(&a)].concat(),
            [gzip(&b), gzip(b""), gzip(&a), gzip(&b)].concat(),
            [gzip(&a), gzip(&text(3, 2_000_000))].concat(),
        ];
        for compressed in cases {
            let expected = streamed(&compressed).unwrap();
            assert_eq!(whole(&compressed, 64 << 20), Some(expected));
        }
    }

    #[test]
    fn output_past_the_bound_is_left_to_the_stream() {
        let compressed = gzip(&text(4, 100_000));
        assert!(whole(&compressed, 99_999).is_none());
        assert_eq!(whole(&compressed, 100_000).map(|o| o.len()), Some(100_000));
        // A last-member size that lies (too small) only makes the output grow.
        let two = [gzip(&text(5, 100_000)), gzip(b"x")].concat();
        assert_eq!(whole(&two, 1 << 20), Some(streamed(&two).unwrap()));
    }

    #[test]
    fn damaged_input_is_left_to_the_stream() {
        let compressed = gzip(&text(6, 50_000));
        let truncated = &compressed[..compressed.len() / 2];
        assert!(whole(truncated, 1 << 20).is_none());
        let mut corrupt = compressed.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0x55;
        assert!(whole(&corrupt, 1 << 20).is_none());
        // A wrong checksum in the trailer.
        let mut wrong_crc = compressed.clone();
        let at = wrong_crc.len() - 8;
        wrong_crc[at] ^= 1;
        assert!(whole(&wrong_crc, 1 << 20).is_none());
        // Bytes after the last member that are not another member.
        let trailing = [compressed.clone(), b"garbage".to_vec()].concat();
        assert!(whole(&trailing, 1 << 20).is_none());
        assert!(streamed(&trailing).is_err());
        assert!(whole(b"\x1f\x8b", 1 << 20).is_none());
    }

    /// `inflate` gives the same bytes whole or, past its bound, streamed.
    #[test]
    fn inflate_streams_what_it_cannot_take_whole() {
        let plain = text(9, 100_000);
        let compressed = gzip(&plain);
        let mut out = vec![7u8; 300_000];
        let n = inflate(&compressed, &mut out, 1 << 20).unwrap();
        assert_eq!(&out[..n], &plain[..]);
        let n = inflate(&compressed, &mut out, 10).unwrap();
        assert_eq!(&out[..n], &plain[..]);
        let truncated = &compressed[..compressed.len() / 2];
        assert!(inflate(truncated, &mut out, 1 << 20).is_err());
    }

    /// The buffer keeps its length from one input to the next, so its bytes are zeroed once.
    #[test]
    fn the_output_buffer_is_reused() {
        let mut out = Vec::new();
        let big = gzip(&text(7, 200_000));
        let small = gzip(&text(8, 1_000));
        assert_eq!(gunzip(&big, &mut out, 1 << 20), Some(200_000));
        let len = out.len();
        assert_eq!(gunzip(&small, &mut out, 1 << 20), Some(1_000));
        assert_eq!(out.len(), len);
        assert_eq!(&out[..1_000], &streamed(&small).unwrap()[..]);
    }
}
