//! Headless Chromium for the HTML report test: render a file, dump the DOM it built, take a
//! screenshot. A missing browser FAILS the test with instructions — it never skips, so a CI
//! without Chromium cannot pass the HTML check by accident.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium run may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary: `VIGIL_CHROMIUM` when set, else the first of the usual names on
/// `PATH`. Panics with how to install it when there is none.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("VIGIL_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "VIGIL_CHROMIUM={} is not a file; point it at a Chromium or Chrome binary",
            path.display()
        );
        return path;
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "headless Chromium is needed to check the HTML report and none was found \
                 (looked for {names:?} on PATH). Install it (Debian: `apt-get install -y \
                 chromium`) or set VIGIL_CHROMIUM to the binary."
            )
        })
}

/// Runs Chromium headless on `page` with `extra` arguments and a fresh profile in
/// `profile_dir`; returns its standard output.
fn run(page: &Path, profile_dir: &Path, extra: &[String]) -> String {
    let mut command = Command::new(binary());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("Chromium starts");
    // Read both pipes while waiting: a DOM dump is larger than a pipe's buffer.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("Chromium can be waited on") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium did not finish within {TIMEOUT:?} rendering {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (join(stdout), join(stderr));
    assert!(
        status.success(),
        "Chromium failed ({status}) on {}: {stderr}",
        page.display()
    );
    stdout
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

fn join(reader: std::thread::JoinHandle<String>) -> String {
    reader.join().unwrap_or_default()
}

/// The DOM Chromium built from `page`, serialised.
pub fn dump_dom(page: &Path, profile_dir: &Path) -> String {
    run(page, profile_dir, &["--dump-dom".to_string()])
}

/// A PNG screenshot of `page` at `width`×`height`, written to `png`.
pub fn screenshot(page: &Path, profile_dir: &Path, png: &Path, width: u32, height: u32) {
    run(
        page,
        profile_dir,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
        ],
    );
}
