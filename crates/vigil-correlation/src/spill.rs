//! Observations beyond a memory budget: sorted in evaluation order and written to an
//! anonymous temporary file (a *run*); evaluation merges the runs with what is still in
//! memory, so a run of any size needs the budget, not memory proportional to its input.
//!
//! The result is the same as evaluating every observation in memory: windows see each
//! group's observations in the same order either way.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use vigil_event::Origin;

use crate::observe::{Interner, Text};
use crate::order::sort_for_evaluation;
use crate::{CorrelationSet, Observation};

/// Observations written to a temporary file, in evaluation order.
#[derive(Debug)]
pub struct SpilledRun {
    file: File,
    count: u64,
}

impl SpilledRun {
    /// How many observations the run holds.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the run holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Why spilled observations could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error("spilling correlation observations to a temporary file: {0}")]
    Write(#[source] std::io::Error),
    #[error("reading spilled correlation observations back: {0}")]
    Read(#[source] std::io::Error),
    #[error("spilled correlation observations are corrupt: {0}")]
    Corrupt(&'static str),
}

impl CorrelationSet {
    /// Each correlation's position in evaluation order (dependencies first).
    pub(crate) fn ranks(&self) -> Vec<usize> {
        let mut ranks = vec![usize::MAX; self.correlations.len()];
        for (rank, &index) in self.order.iter().enumerate() {
            if let Some(slot) = ranks.get_mut(index) {
                *slot = rank;
            }
        }
        ranks
    }

    /// Sorts `observations` in evaluation order, writes them to an anonymous temporary file
    /// and empties the vector (keeping its capacity). On error the observations stay in
    /// `observations`.
    pub fn spill(&self, observations: &mut Vec<Observation>) -> Result<SpilledRun, SpillError> {
        let ranks = self.ranks();
        observations.sort_unstable_by(|a, b| crate::evaluate::evaluation_order(&ranks, a, b));
        let mut out =
            BufWriter::with_capacity(1 << 16, tempfile::tempfile().map_err(SpillError::Write)?);
        for observation in observations.iter() {
            encode(observation, &mut out).map_err(SpillError::Write)?;
        }
        let mut file = out
            .into_inner()
            .map_err(|e| SpillError::Write(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(SpillError::Write)?;
        let count = observations.len() as u64;
        observations.clear();
        Ok(SpilledRun { file, count })
    }

    /// Like [`CorrelationSet::evaluate`], over `observations` in memory and spilled `runs`.
    /// A run that cannot be read back is reported and its remaining observations are lost;
    /// the others are still evaluated.
    pub fn evaluate_spilled(
        &self,
        observations: Vec<Observation>,
        runs: Vec<SpilledRun>,
    ) -> (Vec<CorrelationHit>, Vec<SpillError>) {
        let (mut hits, errors) = self.evaluate_all_spilled(observations, runs);
        hits.retain(|hit| self.reports(hit.correlation));
        (hits, errors)
    }

    /// Like [`CorrelationSet::evaluate_all`], over `observations` in memory and spilled runs.
    pub fn evaluate_all_spilled(
        &self,
        mut observations: Vec<Observation>,
        runs: Vec<SpilledRun>,
    ) -> (Vec<CorrelationHit>, Vec<SpillError>) {
        let ranks = self.ranks();
        if runs.is_empty() {
            // Alone, the observations need each group together, not groups in content order;
            // groups too small to hit are left out first.
            self.drop_groups_that_cannot_hit(&mut observations);
            sort_for_evaluation(&ranks, &mut observations);
            return (
                self.evaluate_sorted(&ranks, observations.into_iter()),
                Vec::new(),
            );
        }
        // Merged with runs, they must be in the runs' order.
        observations.sort_unstable_by(|a, b| crate::evaluate::evaluation_order(&ranks, a, b));
        let mut merge = Merge::new(&ranks, observations, runs);
        let hits = self.evaluate_sorted(&ranks, std::iter::from_fn(|| merge.next()));
        (hits, merge.errors)
    }
}

use crate::CorrelationHit;

/// Writes one observation: correlation, member, time, origin, group, value.
fn encode(observation: &Observation, out: &mut impl Write) -> std::io::Result<()> {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.write_all(&observation.correlation.to_le_bytes())?;
    out.write_all(&observation.member.to_le_bytes())?;
    out.write_all(&observation.time_ms.to_le_bytes())?;
    write_text(out, &observation.origin.file)?;
    out.write_all(&observation.origin.record.to_le_bytes())?;
    out.write_all(&count(observation.group.len()))?;
    for value in observation.group.iter() {
        write_text(out, value)?;
    }
    match &observation.value {
        Some(value) => {
            out.write_all(&[1])?;
            write_text(out, value)
        }
        None => out.write_all(&[0]),
    }
}

fn write_text(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    let len = u32::try_from(text.len())
        .map_err(|_| std::io::Error::other("a value of 4 GiB or more cannot be spilled"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(text.as_bytes())
}

/// Reads the observations of a run back, sharing their strings.
struct RunReader {
    input: BufReader<File>,
    left: u64,
    interner: Interner,
    group: Vec<Text>,
}

impl RunReader {
    fn new(run: SpilledRun) -> Self {
        RunReader {
            input: BufReader::with_capacity(1 << 16, run.file),
            left: run.count,
            interner: Interner::default(),
            group: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<Option<Observation>, SpillError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let correlation = self.u32()?;
        let member = self.u32()?;
        let time_ms = i64::from_le_bytes(self.bytes()?);
        let file = self.text()?;
        let record = u64::from_le_bytes(self.bytes()?);
        let size = self.u32()? as usize;
        let mut group = std::mem::take(&mut self.group);
        group.clear();
        for _ in 0..size {
            group.push(self.text()?);
        }
        let value = match self.bytes::<1>()? {
            [0] => None,
            [1] => Some(self.text()?),
            _ => return Err(SpillError::Corrupt("bad value flag")),
        };
        let observation = Observation {
            correlation,
            member,
            time_ms,
            origin: Origin::new(file, record),
            group_hash: Observation::hash_group(&group),
            group: self.interner.intern_group(&group),
            value,
        };
        self.group = group;
        Ok(Some(observation))
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], SpillError> {
        let mut buf = [0; N];
        self.input.read_exact(&mut buf).map_err(SpillError::Read)?;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32, SpillError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn text(&mut self) -> Result<Arc<str>, SpillError> {
        let len = self.u32()? as usize;
        let mut buf = vec![0; len];
        self.input.read_exact(&mut buf).map_err(SpillError::Read)?;
        let text = std::str::from_utf8(&buf).map_err(|_| SpillError::Corrupt("invalid UTF-8"))?;
        Ok(self.interner.intern(text))
    }
}

/// The next observation of one source, ordered for a min-heap.
struct Head<'r> {
    ranks: &'r [usize],
    observation: Observation,
    source: usize,
}

impl Ord for Head<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::evaluate::evaluation_order(self.ranks, &self.observation, &other.observation)
            .then(self.source.cmp(&other.source))
            .reverse()
    }
}

impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head<'_> {}

/// A k-way merge of the sorted in-memory observations and the runs.
struct Merge<'r> {
    ranks: &'r [usize],
    memory: std::vec::IntoIter<Observation>,
    runs: Vec<RunReader>,
    heap: BinaryHeap<Head<'r>>,
    errors: Vec<SpillError>,
}

impl<'r> Merge<'r> {
    fn new(ranks: &'r [usize], memory: Vec<Observation>, runs: Vec<SpilledRun>) -> Self {
        let mut merge = Merge {
            ranks,
            memory: memory.into_iter(),
            runs: runs.into_iter().map(RunReader::new).collect(),
            heap: BinaryHeap::new(),
            errors: Vec::new(),
        };
        for source in 0..=merge.runs.len() {
            merge.refill(source);
        }
        merge
    }

    /// Pushes the next observation of `source` (0: memory, 1..: runs) onto the heap.
    fn refill(&mut self, source: usize) {
        let next = match source {
            0 => self.memory.next(),
            _ => match self.runs.get_mut(source - 1).map(RunReader::next) {
                Some(Ok(next)) => next,
                Some(Err(error)) => {
                    self.errors.push(error);
                    None
                }
                None => None,
            },
        };
        if let Some(observation) = next {
            self.heap.push(Head {
                ranks: self.ranks,
                observation,
                source,
            });
        }
    }

    fn next(&mut self) -> Option<Observation> {
        let head = self.heap.pop()?;
        self.refill(head.source);
        Some(head.observation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::{CompareOp, CorrelationKind};

    fn set() -> CorrelationSet {
        let count = correlation("c", CorrelationKind::EventCount, &["a"], &["user"], MINUTE);
        let values = correlation(
            "v",
            CorrelationKind::ValueCount {
                field: "target".into(),
            },
            &["a"],
            &["user"],
            MINUTE,
        );
        build_ok(
            vec![
                with_condition(count, CompareOp::Gte, 3),
                with_condition(values, CompareOp::Gte, 2),
            ],
            &base_rules(&["a"]),
        )
    }

    /// Observations of three users over ten minutes, in a scrambled order.
    fn observations(set: &CorrelationSet) -> Vec<Observation> {
        let mut out = Vec::new();
        for i in 0..90u64 {
            let user = ["alice", "bob", "carol"][(i * 7 % 3) as usize];
            let json = format!(r#"{{"user":"{user}","target":"t{}"}}"#, i % 4);
            let event: vigil_event::Value = sonic_rs::from_str(&json).unwrap();
            let time = i64::try_from((i * 37) % 90).unwrap() * 7_000;
            let origin = Origin::new(format!("file-{}", i % 5), i + 1);
            out.extend(set.observe(0, time, &event, &origin));
        }
        out
    }

    #[test]
    fn spilled_runs_give_the_hits_of_evaluating_in_memory() {
        let set = set();
        let all = observations(&set);
        let in_memory = set.evaluate(all.clone());
        assert!(in_memory.len() > 3, "the fixture must fire: {in_memory:?}");
        for chunk in [1, 7, 50, 1000] {
            let mut runs = Vec::new();
            let mut pending = Vec::new();
            for observation in all.iter().cloned() {
                pending.push(observation);
                if pending.len() == chunk {
                    runs.push(set.spill(&mut pending).unwrap());
                    assert!(pending.is_empty());
                }
            }
            let spilled: u64 = runs.iter().map(SpilledRun::len).sum();
            assert_eq!(spilled as usize + pending.len(), all.len());
            let (hits, errors) = set.evaluate_spilled(pending, runs);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(hits, in_memory, "chunk {chunk}");
        }
    }

    #[test]
    fn a_spilled_observation_reads_back_as_written() {
        let set = set();
        let mut one = vec![observation(1, 0, -5, 42, &["ü ser"], Some("t1"))];
        let expected = one.clone();
        let run = set.spill(&mut one).unwrap();
        let mut reader = RunReader::new(run);
        assert_eq!(reader.next().unwrap(), expected.into_iter().next());
        assert_eq!(reader.next().unwrap(), None);
    }
}
