//! Test support: moto, the AWS emulator, in server mode on a free local port.
//!
//! vigil's AWS behaviour is tested through the real SDK against moto with an endpoint
//! override, and each test reads the state back to prove the effect. [`MotoServer::start`]
//! starts one server for one test (so tests stay independent and can run in parallel); it is
//! stopped when the value is dropped. `.ci/run` installs moto (`pip install 'moto[server]'`);
//! when it is missing, starting fails with a message that says how to install it — an AWS
//! test never passes by skipping.
//!
//! The server runs with `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (so AWS-managed policies such
//! as `AdministratorAccess` exist) and, when asked, with `MOTO_AMIS_PATH` pointing at a file
//! of one image (moto otherwise carries ~1,300 default images, each with a snapshot, and it
//! ignores `OwnerIds=['self']` when listing snapshots).
//!
//! [`RewriteProxy`] sits between the SDK and moto for the few states moto cannot produce: a
//! test edits a reply body, and everything else stays moto's.
//!
//! ```no_run
//! let moto = vigil_testkit::MotoServer::start().unwrap();
//! println!("endpoint: {}", moto.endpoint());
//! ```

mod proxy;
pub use proxy::{Exchange, RewriteProxy};

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account id moto uses for everything it creates.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// How long a server may take to answer its first request (loading the managed policies
/// takes a few seconds on a loaded 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// One moto server process; killed on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
    _amis: Option<tempfile_lite::TempFile>,
}

/// Options for [`MotoServer::start_with`].
#[derive(Debug, Default, Clone)]
pub struct MotoOptions {
    /// Replace moto's default images with this one (`MOTO_AMIS_PATH`): an AMI id and a name.
    pub single_ami: Option<(String, String)>,
}

impl MotoServer {
    /// Starts a server with the default options.
    pub fn start() -> Result<Self, String> {
        Self::start_with(MotoOptions::default())
    }

    /// Starts a server on a free port and waits until it answers.
    pub fn start_with(options: MotoOptions) -> Result<Self, String> {
        let python = std::env::var("VIGIL_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut last_error = String::new();
        // A port found free can be taken by another test before moto binds it: try a few.
        for _ in 0..5 {
            let port = free_port()?;
            let mut cmd = Command::new(&python);
            cmd.args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
            let amis = match &options.single_ami {
                Some((id, name)) => {
                    let file = tempfile_lite::TempFile::new(
                        "moto-amis",
                        format!(
                            "[{{\"ami_id\": \"{id}\", \"name\": \"{name}\", \"description\": \
                             \"vigil test image\", \"owner_id\": \"{MOTO_ACCOUNT}\", \
                             \"public\": false, \"virtualization_type\": \"hvm\", \
                             \"architecture\": \"x86_64\", \"state\": \"available\", \
                             \"platform\": null, \"root_device_type\": \"ebs\", \
                             \"root_device_name\": \"/dev/xvda\", \"sriov\": \"simple\", \
                             \"hypervisor\": \"xen\"}}]"
                        )
                        .as_bytes(),
                    )
                    .map_err(|e| format!("cannot write the moto AMI file: {e}"))?;
                    cmd.env("MOTO_AMIS_PATH", file.path());
                    Some(file)
                }
                None => None,
            };
            let mut child = cmd.spawn().map_err(|e| {
                format!(
                    "cannot start moto with `{python} -m moto.server`: {e}; install it with \
                     `pip install 'moto[server]'` (.ci/run does)"
                )
            })?;
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Ok(MotoServer {
                        child,
                        port,
                        _amis: amis,
                    })
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = e;
                }
            }
        }
        Err(last_error)
    }

    /// The endpoint URL to give the SDK, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            let tail: String = stderr
                .lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(format!(
                "moto exited with {status} before answering on port {port}; is it installed \
                 (`pip install 'moto[server]'`)?\n{tail}"
            ));
        }
        if answers(port) {
            // Drain stderr in the background so a chatty server never blocks on a full pipe.
            if let Some(mut err) = child.stderr.take() {
                std::thread::spawn(move || {
                    let mut sink = [0u8; 8192];
                    while matches!(err.read(&mut sink), Ok(n) if n > 0) {}
                });
            }
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "moto did not answer on port {port} within {}s",
        START_TIMEOUT.as_secs()
    ))
}

/// True when `GET /moto-api/data.json` answers with HTTP 200.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "GET /moto-api/data.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok()
        && (head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
}

/// A tiny temporary file that removes itself; enough for the AMI list, without a dependency.
mod tempfile_lite {
    use std::path::{Path, PathBuf};

    pub struct TempFile(PathBuf);

    impl TempFile {
        pub fn new(stem: &str, bytes: &[u8]) -> std::io::Result<Self> {
            use std::sync::atomic::{AtomicU64, Ordering};
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "{stem}-{}-{}.json",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&path, bytes)?;
            Ok(TempFile(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// The repository's root, for tests that read bundled fixtures.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_default()
}
