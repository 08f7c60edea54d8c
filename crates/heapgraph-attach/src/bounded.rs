//! Running a helper tool (gdb, jcmd, python) with a time limit, so that no wait of ours is unbounded.

use crate::AttachError;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a helper printed, and its exit status.
pub struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `command` to its end or until `limit`, when it is killed. `Ok(None)` means the limit was hit.
/// `install` says how to get the tool when it is missing.
pub fn run(
    mut command: Command,
    tool: &'static str,
    install: &'static str,
    limit: Duration,
) -> Result<Option<Finished>, AttachError> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AttachError::MissingTool { tool, install },
            _ => AttachError::io(format!("cannot start {tool}"), e),
        })?;
    // readers on their own threads: a helper that fills a pipe must not block on us
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || read_all(&mut out));
    let err = std::thread::spawn(move || read_all(&mut err));
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Ok(Some(Finished {
                    success: status.success(),
                    stdout: out.join().unwrap_or_default(),
                    stderr: err.join().unwrap_or_default(),
                    elapsed: started.elapsed(),
                }))
            }
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            Err(e) => return Err(AttachError::io(format!("waiting for {tool}"), e)),
        }
    }
}

fn read_all(pipe: &mut impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = pipe.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
