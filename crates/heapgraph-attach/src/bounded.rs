//! Running a helper tool (the target's own python) with a time limit, so that no wait of ours is unbounded.

use crate::AttachError;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A helper's exit status and what it printed on stderr.
pub struct Finished {
    pub success: bool,
    pub stderr: String,
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AttachError::MissingTool { tool, install },
            _ => AttachError::io(format!("cannot start {tool}"), e),
        })?;
    // a reader on its own thread: a helper that fills a pipe must not block on us
    let mut err = child.stderr.take().expect("piped");
    let err = std::thread::spawn(move || read_all(&mut err));
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Ok(Some(Finished {
                    success: status.success(),
                    stderr: err.join().unwrap_or_default(),
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
