//! The progress bar of long runs: files, records and records per second, on stderr, only
//! when stderr is a terminal.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use vigil_engine::Progress;

/// Draws `progress` until `done` is dropped.
pub struct ProgressDisplay {
    bar: Option<ProgressBar>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    pub fn start(progress: std::sync::Arc<Progress>, files: usize, enabled: bool) -> Self {
        if !enabled || !std::io::stderr().is_terminal() {
            return ProgressDisplay {
                bar: None,
                stop: Default::default(),
                thread: None,
            };
        }
        let bar = ProgressBar::new(files as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (bar, stop) = (bar.clone(), stop.clone());
            std::thread::spawn(move || draw(&bar, &progress, &stop))
        };
        ProgressDisplay {
            bar: Some(bar),
            stop,
            thread: Some(thread),
        }
    }
}

fn draw(bar: &ProgressBar, progress: &Progress, stop: &std::sync::atomic::AtomicBool) {
    let started = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let records = progress.records.load(Ordering::Relaxed);
        let rate = records as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_position(progress.files_done.load(Ordering::Relaxed) as u64);
        bar.set_message(format!("{records} records  {rate:.0} records/s"));
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for ProgressDisplay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
