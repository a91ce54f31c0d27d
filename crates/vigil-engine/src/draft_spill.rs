//! Finding drafts beyond a memory budget: sorted by [`DraftSlot`] and written to an
//! anonymous temporary file (a *run*), then merged back (k-way, with what is still in memory)
//! when the findings are built, so a flood of findings needs the budget, not memory
//! proportional to the number of findings. Same house pattern as the correlation
//! observations (`vigil-correlation/src/spill.rs`).
//!
//! The result is the same as keeping every draft in memory: drafts of one slot merge in any
//! order with the same result ([`FindingDraft::merge`]), and the flood guard is a property of
//! the keys (the `cap` smallest (hash, key) of a rule's window keep a finding of their own),
//! which the merge applies again as it goes, since runs are sorted in that rank order.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use vigil_event::{LogSource, Origin};

use crate::draft::{Contribution, FindingDraft, SampleRecord, Subject};

/// Where a draft sorts, and which drafts merge: rule, window, then the window's keyed drafts
/// in the flood guard's rank (hash, key), then the window's overflow draft.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DraftSlot {
    pub rule: u32,
    pub window_start: i64,
    /// False for a key's own draft, true for the window's overflow draft (sorts last).
    pub overflow: bool,
    pub hash: u64,
    pub key: Box<str>,
}

/// Drafts written to a temporary file, in [`DraftSlot`] order.
#[derive(Debug)]
pub struct DraftRun {
    file: File,
    count: u64,
}

impl DraftRun {
    /// How many drafts the run holds.
    pub fn len(&self) -> u64 {
        self.count
    }
}

/// Why spilled drafts could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum DraftSpillError {
    #[error("spilling finding drafts to a temporary file: {0}")]
    Write(#[source] std::io::Error),
    #[error("reading spilled finding drafts back: {0}")]
    Read(#[source] std::io::Error),
    #[error("spilled finding drafts are corrupt: {0}")]
    Corrupt(&'static str),
}

/// Writes `drafts` (already in slot order) to an anonymous temporary file.
pub fn write_run<'a>(
    drafts: impl ExactSizeIterator<Item = (&'a DraftSlot, &'a FindingDraft)>,
) -> Result<DraftRun, DraftSpillError> {
    let count = drafts.len() as u64;
    let file = tempfile::tempfile().map_err(DraftSpillError::Write)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    for (slot, draft) in drafts {
        encode(slot, draft, &mut out).map_err(DraftSpillError::Write)?;
    }
    let mut file = out
        .into_inner()
        .map_err(|e| DraftSpillError::Write(e.into_error()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(DraftSpillError::Write)?;
    Ok(DraftRun { file, count })
}

fn encode(slot: &DraftSlot, draft: &FindingDraft, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(&slot.rule.to_le_bytes())?;
    out.write_all(&slot.window_start.to_le_bytes())?;
    out.write_all(&[u8::from(slot.overflow)])?;
    out.write_all(&slot.hash.to_le_bytes())?;
    write_text(out, &slot.key)?;
    write_text(out, &draft.dedup_key)?;
    for n in [
        draft.window_start_ms,
        draft.first_ms,
        draft.last_ms,
        draft.earliest.0,
    ] {
        out.write_all(&n.to_le_bytes())?;
    }
    out.write_all(&draft.count.to_le_bytes())?;
    write_origin(out, &draft.earliest.1)?;
    for text in [
        &draft.subject.account,
        &draft.subject.region,
        &draft.subject.principal,
    ] {
        write_optional(out, text.as_deref())?;
    }
    write_len(out, draft.resources.len())?;
    draft
        .resources
        .iter()
        .try_for_each(|r| write_text(out, r))?;
    write_len(out, draft.source_ips.len())?;
    draft
        .source_ips
        .iter()
        .try_for_each(|r| write_text(out, r))?;
    write_len(out, draft.sources.len())?;
    draft
        .sources
        .iter()
        .try_for_each(|s| write_text(out, s.as_str()))?;
    write_len(out, draft.intel.len())?;
    for (field, list, entry) in &draft.intel {
        write_text(out, field)?;
        write_text(out, list)?;
        write_text(out, entry)?;
    }
    write_len(out, draft.samples.len())?;
    for sample in &draft.samples {
        match sample.time_ms {
            Some(time) => {
                out.write_all(&[1])?;
                out.write_all(&time.to_le_bytes())?;
            }
            None => out.write_all(&[0])?,
        }
        write_origin(out, &sample.origin)?;
        write_text(out, sample.source.as_str())?;
        write_text(out, &sample.json)?;
    }
    write_len(out, draft.contributions.len())?;
    for c in &draft.contributions {
        out.write_all(&(c.input as u64).to_le_bytes())?;
        out.write_all(&c.count.to_le_bytes())?;
        out.write_all(&c.first_ms.to_le_bytes())?;
        out.write_all(&c.last_ms.to_le_bytes())?;
    }
    Ok(())
}

fn write_len(out: &mut impl Write, len: usize) -> std::io::Result<()> {
    let len = u32::try_from(len)
        .map_err(|_| std::io::Error::other("a list of 2^32 items cannot be spilled"))?;
    out.write_all(&len.to_le_bytes())
}

fn write_text(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    write_len(out, text.len())?;
    out.write_all(text.as_bytes())
}

fn write_optional(out: &mut impl Write, text: Option<&str>) -> std::io::Result<()> {
    match text {
        Some(text) => {
            out.write_all(&[1])?;
            write_text(out, text)
        }
        None => out.write_all(&[0]),
    }
}

fn write_origin(out: &mut impl Write, origin: &Origin) -> std::io::Result<()> {
    write_text(out, &origin.file)?;
    out.write_all(&origin.record.to_le_bytes())
}

/// Reads the drafts of a run back, in order.
struct RunReader {
    input: BufReader<File>,
    left: u64,
    /// The last file name read: origins of one run mostly name a few files, shared here.
    file: Arc<str>,
}

impl RunReader {
    fn new(run: DraftRun) -> Self {
        RunReader {
            input: BufReader::with_capacity(1 << 16, run.file),
            left: run.count,
            file: Arc::from(""),
        }
    }

    fn next(&mut self) -> Result<Option<(DraftSlot, FindingDraft)>, DraftSpillError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let slot = DraftSlot {
            rule: u32::from_le_bytes(self.bytes()?),
            window_start: self.i64()?,
            overflow: self.flag()?,
            hash: u64::from_le_bytes(self.bytes()?),
            key: self.text()?.into_boxed_str(),
        };
        let dedup_key = self.text()?;
        let [window_start_ms, first_ms, last_ms, earliest_ms] =
            [self.i64()?, self.i64()?, self.i64()?, self.i64()?];
        let count = u64::from_le_bytes(self.bytes()?);
        let earliest = (earliest_ms, self.origin()?);
        let subject = Subject {
            account: self.optional()?,
            region: self.optional()?,
            principal: self.optional()?,
        };
        let resources = self.texts()?;
        let source_ips = self.texts()?;
        let mut sources = BTreeSet::new();
        for _ in 0..self.len()? {
            sources.insert(self.source()?);
        }
        let mut intel = BTreeSet::new();
        for _ in 0..self.len()? {
            intel.insert((self.text()?, self.text()?, self.text()?));
        }
        let mut samples = Vec::new();
        for _ in 0..self.len()? {
            let time_ms = if self.flag()? {
                Some(self.i64()?)
            } else {
                None
            };
            samples.push(SampleRecord {
                time_ms,
                origin: self.origin()?,
                source: self.source()?,
                json: self.text()?.into(),
            });
        }
        let mut contributions = Vec::new();
        for _ in 0..self.len()? {
            contributions.push(Contribution {
                input: usize::try_from(u64::from_le_bytes(self.bytes()?))
                    .map_err(|_| DraftSpillError::Corrupt("input index out of range"))?,
                count: u64::from_le_bytes(self.bytes()?),
                first_ms: self.i64()?,
                last_ms: self.i64()?,
            });
        }
        let draft = FindingDraft {
            dedup_key,
            window_start_ms,
            first_ms,
            last_ms,
            count,
            earliest,
            subject,
            resources,
            source_ips,
            sources,
            intel,
            samples,
            contributions,
        };
        Ok(Some((slot, draft)))
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], DraftSpillError> {
        let mut buf = [0; N];
        self.input
            .read_exact(&mut buf)
            .map_err(DraftSpillError::Read)?;
        Ok(buf)
    }

    fn i64(&mut self) -> Result<i64, DraftSpillError> {
        Ok(i64::from_le_bytes(self.bytes()?))
    }

    fn len(&mut self) -> Result<usize, DraftSpillError> {
        Ok(u32::from_le_bytes(self.bytes()?) as usize)
    }

    fn flag(&mut self) -> Result<bool, DraftSpillError> {
        match self.bytes::<1>()? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(DraftSpillError::Corrupt("bad flag")),
        }
    }

    fn text(&mut self) -> Result<String, DraftSpillError> {
        let len = self.len()?;
        let mut buf = Vec::new();
        (&mut self.input)
            .take(len as u64)
            .read_to_end(&mut buf)
            .map_err(DraftSpillError::Read)?;
        if buf.len() != len {
            return Err(DraftSpillError::Corrupt("truncated text"));
        }
        String::from_utf8(buf).map_err(|_| DraftSpillError::Corrupt("text is not UTF-8"))
    }

    fn texts(&mut self) -> Result<BTreeSet<String>, DraftSpillError> {
        (0..self.len()?).map(|_| self.text()).collect()
    }

    fn optional(&mut self) -> Result<Option<String>, DraftSpillError> {
        if self.flag()? {
            Ok(Some(self.text()?))
        } else {
            Ok(None)
        }
    }

    fn origin(&mut self) -> Result<Origin, DraftSpillError> {
        let file = self.text()?;
        if *self.file != *file {
            self.file = Arc::from(file);
        }
        Ok(Origin::new(
            Arc::clone(&self.file),
            u64::from_le_bytes(self.bytes()?),
        ))
    }

    fn source(&mut self) -> Result<LogSource, DraftSpillError> {
        self.text()?
            .parse()
            .map_err(|_| DraftSpillError::Corrupt("unknown log source"))
    }
}

/// One input of the merge: the drafts still in memory (sorted) or a run.
enum Source {
    Memory(std::vec::IntoIter<(DraftSlot, FindingDraft)>),
    Run(RunReader),
}

impl Source {
    fn next(&mut self) -> Result<Option<(DraftSlot, FindingDraft)>, DraftSpillError> {
        match self {
            Source::Memory(drafts) => Ok(drafts.next()),
            Source::Run(reader) => reader.next(),
        }
    }
}

/// Merges sorted sources into one stream of whole drafts, one per slot, in slot order. A
/// run that cannot be read back is reported and its remaining drafts are lost; the others
/// are still merged.
pub struct DraftMerge {
    sources: Vec<Source>,
    heads: BinaryHeap<Reverse<(DraftSlot, usize)>>,
    pending: Vec<Option<FindingDraft>>,
    samples: usize,
    pub errors: Vec<DraftSpillError>,
}

impl DraftMerge {
    /// A merge of `memory` (sorted by slot) and `runs`, keeping `samples` samples per draft.
    pub fn new(
        memory: Vec<(DraftSlot, FindingDraft)>,
        runs: Vec<DraftRun>,
        samples: usize,
    ) -> Self {
        let mut sources = vec![Source::Memory(memory.into_iter())];
        sources.extend(runs.into_iter().map(|run| Source::Run(RunReader::new(run))));
        let mut merge = DraftMerge {
            pending: (0..sources.len()).map(|_| None).collect(),
            sources,
            heads: BinaryHeap::new(),
            samples,
            errors: Vec::new(),
        };
        for at in 0..merge.sources.len() {
            merge.advance(at);
        }
        merge
    }

    /// Reads source `at`'s next draft into the heap.
    fn advance(&mut self, at: usize) {
        match self.sources[at].next() {
            Ok(Some((slot, draft))) => {
                self.pending[at] = Some(draft);
                self.heads.push(Reverse((slot, at)));
            }
            Ok(None) => {}
            Err(error) => self.errors.push(error),
        }
    }

    /// The next slot and its draft, merged over every source.
    pub fn next_draft(&mut self) -> Option<(DraftSlot, FindingDraft)> {
        let Reverse((slot, at)) = self.heads.pop()?;
        let mut draft = self.pending[at].take()?;
        self.advance(at);
        while self
            .heads
            .peek()
            .is_some_and(|Reverse((next, _))| *next == slot)
        {
            let Some(Reverse((_, other))) = self.heads.pop() else {
                break;
            };
            if let Some(theirs) = self.pending[other].take() {
                draft.merge(theirs, self.samples);
            }
            self.advance(other);
        }
        Some((slot, draft))
    }

    /// The final drafts, with the flood guard applied again: per rule and window, the first
    /// `cap` keys (in rank order) keep their draft; every other key's draft and the window's
    /// overflow drafts are merged into one overflow draft. Calls `emit(rule, draft, overflow)`.
    pub fn for_each_final(
        mut self,
        cap: usize,
        mut emit: impl FnMut(u32, FindingDraft, bool),
    ) -> Vec<DraftSpillError> {
        let mut window: Option<(u32, i64)> = None;
        let mut kept = 0;
        let mut overflow: Option<FindingDraft> = None;
        while let Some((slot, draft)) = self.next_draft() {
            let here = (slot.rule, slot.window_start);
            if window != Some(here) {
                if let (Some((rule, _)), Some(done)) = (window, overflow.take()) {
                    emit(rule, done, true);
                }
                window = Some(here);
                kept = 0;
            }
            if !slot.overflow && kept < cap {
                kept += 1;
                emit(slot.rule, draft, false);
                continue;
            }
            match overflow.as_mut() {
                Some(existing) => existing.merge(draft, self.samples),
                None => overflow = Some(draft),
            }
        }
        if let (Some((rule, _)), Some(done)) = (window, overflow) {
            emit(rule, done, true);
        }
        self.errors
    }
}
