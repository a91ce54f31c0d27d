//! Running a detector as a child process: wall time, peak RSS, lines on stdout.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

/// How a child run went.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRun {
    pub seconds: f64,
    /// Peak resident set size of the child, in KiB (`ru_maxrss` from `wait4`).
    pub peak_rss_kib: u64,
    pub stdout_lines: u64,
    pub exit_code: Option<i32>,
    /// The end of its stderr, for the report when it fails.
    pub stderr_tail: String,
}

/// Expands a command template: whitespace-separated words, where `{name}` words are
/// replaced by the values given for `name` (a value list may expand to several words or none).
pub fn expand_template(template: &str, values: &[(&str, Vec<String>)]) -> Vec<String> {
    let mut words = Vec::new();
    for word in template.split_whitespace() {
        match values
            .iter()
            .find(|(name, _)| word == format!("{{{name}}}"))
        {
            Some((_, value)) => words.extend(value.iter().cloned()),
            None => words.push(values.iter().fold(word.to_string(), |w, (name, value)| {
                w.replace(&format!("{{{name}}}"), &value.join(" "))
            })),
        }
    }
    words
}

/// Runs `words` (program then arguments), with `stdin_file` as its standard input if given.
pub fn run_child(words: &[String], stdin_file: Option<&Path>) -> Result<ChildRun> {
    let (program, args) = words
        .split_first()
        .ok_or_else(|| anyhow!("empty command"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(file) = stdin_file {
        command.stdin(
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
        );
    } else {
        command.stdin(Stdio::null());
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no stdout pipe"))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow!("no stderr pipe"))?;
    let lines = std::thread::spawn(move || {
        BufReader::with_capacity(1 << 16, stdout)
            .split(b'\n')
            .count() as u64
    });
    let tail = std::thread::spawn(move || read_tail(stderr, 4096));
    let (status, peak_rss_kib) = wait_with_usage(child.id())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(ChildRun {
        seconds,
        peak_rss_kib,
        stdout_lines: lines.join().unwrap_or(0),
        exit_code: status,
        stderr_tail: tail.join().unwrap_or_default(),
    })
}

fn read_tail(mut stream: impl Read, keep: usize) -> String {
    let mut all = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&chunk[..n]);
        if all.len() > keep * 2 {
            all.drain(..all.len() - keep);
        }
    }
    let start = all.len().saturating_sub(keep);
    String::from_utf8_lossy(&all[start..]).into_owned()
}

/// Waits for the child `pid` and returns its exit code and peak RSS. `wait4` reports the
/// usage of that one child, unlike `getrusage(RUSAGE_CHILDREN)`, whose maximum covers every
/// child waited for so far and so would hide a smaller run after a larger one.
fn wait_with_usage(pid: u32) -> Result<(Option<i32>, u64)> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; zeroed is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our own child, not yet reaped.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(anyhow!("wait4: {error}"));
        }
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok((code, u64::try_from(usage.ru_maxrss).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_lists_and_embedded_names() {
        let words = expand_template(
            "{vigil} detect {corpus} --threads {threads} {rules} --x=a{threads}",
            &[
                ("vigil", vec!["/bin/vigil".into()]),
                ("corpus", vec!["/c".into()]),
                ("threads", vec!["2".into()]),
                (
                    "rules",
                    vec![
                        "--rules".into(),
                        "/r1".into(),
                        "--rules".into(),
                        "/r2".into(),
                    ],
                ),
            ],
        );
        assert_eq!(
            words.join(" "),
            "/bin/vigil detect /c --threads 2 --rules /r1 --rules /r2 --x=a2"
        );
        let none = expand_template("a {rules} b", &[("rules", vec![])]);
        assert_eq!(none, vec!["a", "b"]);
    }

    #[test]
    fn a_child_is_measured() {
        let words: Vec<String> = ["sh", "-c", "printf 'a\\nb\\nc\\n'; echo oops >&2; exit 3"]
            .map(String::from)
            .to_vec();
        let run = run_child(&words, None).unwrap();
        assert_eq!(run.stdout_lines, 3);
        assert_eq!(run.exit_code, Some(3));
        assert_eq!(run.stderr_tail.trim(), "oops");
        assert!(run.peak_rss_kib > 0);
    }

    #[test]
    fn stdin_comes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, "1\n2\n").unwrap();
        let words: Vec<String> = ["cat"].map(String::from).to_vec();
        assert_eq!(run_child(&words, Some(&input)).unwrap().stdout_lines, 2);
    }
}
