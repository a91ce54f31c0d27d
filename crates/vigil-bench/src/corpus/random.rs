//! Seeded randomness for the corpus: the same seed gives the same bytes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The corpus random source: ChaCha8, seeded per file so files can be written in parallel
/// and still come out identical for a seed.
pub struct Dice {
    rng: ChaCha8Rng,
}

impl Dice {
    /// The stream for `stream` (a file index) under `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Dice { rng }
    }

    /// A number in `low..high` (`low` when the range is empty).
    pub fn below(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        self.rng.random_range(low..high)
    }

    /// An index into a slice of `len` items (0 when empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(0, len as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = self.index(items.len());
        &items[index.min(items.len().saturating_sub(1))]
    }

    /// An index chosen with probability proportional to `weight(item)`.
    pub fn weighted<T>(&mut self, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
        let total: u64 = items.iter().map(|item| u64::from(weight(item))).sum();
        let mut ticket = self.below(0, total.max(1));
        for (index, item) in items.iter().enumerate() {
            let w = u64::from(weight(item));
            if ticket < w {
                return index;
            }
            ticket -= w;
        }
        items.len().saturating_sub(1)
    }

    /// `len` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    /// Lower-case hex of `len` digits.
    pub fn hex(&mut self, len: usize) -> String {
        self.string(b"0123456789abcdef", len)
    }

    /// Upper-case letters and digits (access key ids, principal ids).
    pub fn upper(&mut self, len: usize) -> String {
        self.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", len)
    }

    /// A version-4 style UUID.
    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-{}{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.pick(&['8', '9', 'a', 'b']),
            self.hex(3),
            self.hex(12)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_stream_give_the_same_draws() {
        let draw = |seed, stream| {
            let mut dice = Dice::new(seed, stream);
            (dice.uuid(), dice.below(0, 1000), dice.upper(16))
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
    }

    #[test]
    fn weights_steer_the_choice() {
        let mut dice = Dice::new(1, 0);
        let weights = [0u32, 9, 1];
        let mut counts = [0usize; 3];
        for _ in 0..2000 {
            counts[dice.weighted(&weights, |w| *w)] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[1] > counts[2] * 4, "{counts:?}");
    }

    #[test]
    fn uuid_has_the_canonical_shape() {
        let uuid = Dice::new(1, 1).uuid();
        let lengths: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(lengths, vec![8, 4, 4, 4, 12]);
    }
}
