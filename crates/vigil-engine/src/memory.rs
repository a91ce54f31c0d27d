//! One memory budget for a run, split into the budgets of the stages that hold data growing
//! with the input, and the allocator settings that keep the process's resident memory close
//! to what those budgets count.
//!
//! What a run holds at its peak (end of reading, start of correlation evaluation):
//! - fixed: the rules and their index, the allocator's own slack, the evidence read back;
//! - per worker thread: its document buffer (up to 8 MiB, kept between files in
//!   `vigil-input`), the inflate and parse state, the allocator arena of the thread;
//! - shared, over all threads: correlation observations (two thirds) and finding drafts (one
//!   third). At the end of the run, the built findings on their way to the output get a
//!   sixth: they live while the drafts are merged, after the observations are gone.
//!
//! So the budgets shrink as threads are added, and the total stays within the budget
//! whatever the thread count (down to a floor for the shared part, for machines with many
//! cores and a small budget).

/// Default memory for a whole run: below 256 MiB with room to spare. Measured on two
/// threads (the worst case here) with a budget of 240 MiB: 1,000,000 CloudTrail records with
/// the pack and SigmaHQ's rules peaked at 243 MiB (the correlation record cache fills its
/// share of the budget), the flood stress set at 257 MiB (272 with the SQLite store); with
/// 208 MiB: 231 MiB, and 224 (227 with the store), nothing more spilled on the 1,000,000
/// records. On one thread: about 106 MiB of correlation state, 53 of finding drafts, 26 of
/// output.
pub const DEFAULT_MEMORY_BYTES: usize = 208 << 20;

/// Memory of a run outside the budgets and the worker threads: the rules and their index,
/// the allocator, the transient memory of the end of the run (an estimate with margin, not
/// a limit anything enforces).
pub const FIXED_BYTES: usize = 32 << 20;

/// Memory each worker thread holds besides its share of the budgets (an estimate: its
/// document buffer alone may be 8 MiB). Measured, 1,000,000 CloudTrail records with the pack
/// and SigmaHQ's rules: 199 MiB peak on one thread, 228–232 MiB on two.
pub const PER_THREAD_BYTES: usize = 16 << 20;

/// The smallest shared part: below it, everything spills all the time.
const MIN_SHARED_BYTES: usize = 12 << 20;

/// The budgets of one run, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Correlation observations and the strings they share, over all threads.
    pub correlation_bytes: usize,
    /// Finding drafts with their evidence records, over all threads.
    pub finding_bytes: usize,
    /// Built findings on their way to the output.
    pub output_bytes: usize,
}

impl MemoryBudget {
    /// The budgets of a run of `threads` workers within `total_bytes`.
    pub fn split(total_bytes: usize, threads: usize) -> Self {
        let own = FIXED_BYTES.saturating_add(threads.max(1).saturating_mul(PER_THREAD_BYTES));
        let shared = total_bytes.saturating_sub(own).max(MIN_SHARED_BYTES);
        MemoryBudget {
            correlation_bytes: shared / 3 * 2,
            finding_bytes: shared / 3,
            output_bytes: shared / 6,
        }
    }
}

/// Bounds the memory glibc's allocator keeps after it is freed. By default glibc raises its
/// mmap threshold to the size of the largest block freed (up to 32 MiB) and its trim
/// threshold to twice that, per arena; a worker's 8 MiB document buffer then makes each
/// thread's arena keep up to 16 MiB of freed memory resident, and a run on two threads ended
/// 30–50 MiB above one thread's. Fixed thresholds (blocks of 4 MiB or more are mapped on
/// their own and unmapped when freed; more than 8 MiB free at the top of a heap is given
/// back) keep that slack small without trimming on every free. Process-wide, set once; a
/// no-op on other allocators.
pub fn bound_allocator_slack() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(set_thresholds);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_thresholds() {
    // SAFETY: mallopt only sets allocator parameters, with values in their valid range.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_splits_what_the_fixed_and_thread_parts_leave() {
        // 208 MiB - 32 fixed - 16 for the thread = 160 MiB: 2/3, 1/3 and 1/6 of it.
        let budget = MemoryBudget::split(DEFAULT_MEMORY_BYTES, 1);
        let mib = |bytes: usize| bytes >> 20;
        assert_eq!(mib(budget.correlation_bytes), 106);
        assert_eq!(mib(budget.finding_bytes), 53);
        assert_eq!(mib(budget.output_bytes), 26);
    }

    #[test]
    fn the_whole_run_stays_within_the_budget_whatever_the_thread_count() {
        for threads in 1..=10 {
            let budget = MemoryBudget::split(DEFAULT_MEMORY_BYTES, threads);
            // At the peak: fixed, the threads' own, observations and drafts.
            let peak = FIXED_BYTES
                + threads * PER_THREAD_BYTES
                + budget.correlation_bytes
                + budget.finding_bytes;
            assert!(peak <= DEFAULT_MEMORY_BYTES, "{threads} threads: {peak}");
            // At the end, the findings being sorted take less than the observations did.
            assert!(budget.output_bytes <= budget.correlation_bytes);
        }
    }

    #[test]
    fn many_threads_on_a_small_budget_keep_a_floor() {
        let budget = MemoryBudget::split(64 << 20, 64);
        assert_eq!(
            budget.correlation_bytes + budget.finding_bytes,
            MIN_SHARED_BYTES
        );
    }
}
