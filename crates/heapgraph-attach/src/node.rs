//! `heapgraph dump --pid` on Node.js, through the V8 inspector: SIGUSR1 makes Node open it (on
//! 127.0.0.1:9229 unless `--inspect-port` says otherwise), heapgraph finds the port among the sockets the
//! process listens on, asks `HeapProfiler.takeHeapSnapshot` over a WebSocket and writes the chunks to the
//! file as they come (gzipped for a `.gz` name), then closes the inspector again (`inspector.close()` run
//! in the process), so that no debugger port stays open. While it is open, any local user may connect.

use crate::process::Process;
use crate::sockets::{self, Listening};
use crate::{AttachError, DumpReport, Options, Pause, Progress, Way};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Deserialize;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// Where Node opens its inspector when nothing says otherwise.
const DEFAULT_PORT: u16 = 9229;
/// How often heapgraph looks at the target's sockets while it waits for the inspector to open or close.
const POLL: Duration = Duration::from_millis(20);
/// How long a closing inspector may take to release its port (the close waits a second: below).
const CLOSE_LIMIT: Duration = Duration::from_secs(10);
/// Closes the inspector a second after this request is answered, when heapgraph's session has ended:
/// `inspector.close()` run while a session was still connected crashed Node 20 (SIGSEGV) in about one
/// run in fifteen here, and never in 30 runs with the close a second later. The timer does not keep the
/// process alive. `require` is part of Node's command-line API, which the request asks for.
const CLOSE_EXPRESSION: &str = "(() => { const inspector = require('inspector'); \
     setTimeout(() => inspector.close(), 1000).unref(); return true; })()";

pub fn dump(
    process: &Process,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let pid = process.pid;
    let unsupported = |detail: &str| AttachError::Unsupported {
        pid,
        exe: process.exe.clone(),
        detail: detail.to_string(),
    };
    if options.collect == Some(false) {
        return Err(unsupported(
            "V8 always collects garbage before it takes a heap snapshot: drop --no-collect",
        ));
    }
    if !process.shares_namespace("net") {
        return Err(unsupported(&format!(
            "it runs in another network namespace (a container), where its inspector port cannot be \
             reached from here: run heapgraph in that namespace (nsenter -t {pid} -n heapgraph dump --pid {pid})"
        )));
    }
    let port = inspector_port(process);
    let (listening, opened) = match find_inspector(process, port) {
        Some(open) => {
            progress.step(&format!(
                "pid {pid}: its inspector is already open on {}; it is left open",
                open.address
            ));
            (open, false)
        }
        None => (
            open_inspector(process, port, options.timeout, progress)?,
            true,
        ),
    };
    let address = listening.connect_to();
    let dumped = Session::connect(pid, address).and_then(|mut session| {
        let dumped = session.snapshot(output, progress);
        if opened {
            session.close_inspector();
        }
        dumped.map(|paused| (paused, session.runtime))
    });
    let closed = !opened || wait_closed(process, &listening);
    if !closed {
        progress.step(&format!(
            "pid {pid}: warning: its inspector is still open on {address}; close it in the process \
             (require('inspector').close()) or restart it"
        ));
    }
    let (paused, runtime) = dumped?;
    if !process.is_alive() {
        return Err(AttachError::Exited { pid });
    }
    let bytes = std::fs::metadata(output).map_or(0, |m| m.len());
    Ok(DumpReport {
        output: output.to_path_buf(),
        runtime,
        paused: Some(Pause {
            duration: paused,
            way: Way::InPlace {
                why: "V8 takes and writes its snapshot on the main thread".into(),
            },
        }),
        stopped: None,
        reached: format!(
            "the V8 inspector on {address} ({})",
            match (opened, closed) {
                (false, _) => "already open, left open",
                (true, true) => "opened with SIGUSR1, closed again",
                (true, false) => "opened with SIGUSR1, STILL OPEN",
            }
        ),
        summary: serde_json::json!({
            "bytes": bytes,
            "inspector": address.to_string(),
            "inspector_left_open": !closed || !opened,
        }),
    })
}

/// The port Node opens its inspector on: the last `--inspect*=[HOST:]PORT` or `--inspect-port PORT`
/// among Node's own options (before the script) and in `NODE_OPTIONS`, else 9229.
fn inspector_port(process: &Process) -> u16 {
    let dir = format!("/proc/{}", process.pid);
    let cmdline = std::fs::read(format!("{dir}/cmdline")).unwrap_or_default();
    let environ = std::fs::read(format!("{dir}/environ")).unwrap_or_default();
    let node_options = environ
        .split(|&b| b == 0)
        .find_map(|v| v.strip_prefix(b"NODE_OPTIONS="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let arguments: Vec<String> = cmdline
        .split(|&b| b == 0)
        .skip(1)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .take_while(|a| a.starts_with('-'))
        .collect();
    let options = node_options
        .split_whitespace()
        .map(str::to_string)
        .chain(arguments);
    port_from_options(options).unwrap_or(DEFAULT_PORT)
}

fn port_from_options(options: impl Iterator<Item = String>) -> Option<u16> {
    let mut port = None;
    let mut value_of_next = false;
    for option in options {
        let value = if value_of_next {
            Some(option.as_str())
        } else {
            option
                .split_once('=')
                .filter(|(name, _)| {
                    [
                        "--inspect",
                        "--inspect-brk",
                        "--inspect-wait",
                        "--inspect-port",
                        "--debug-port",
                    ]
                    .contains(name)
                })
                .map(|(_, value)| value)
        };
        value_of_next = option == "--inspect-port" || option == "--debug-port";
        if let Some(p) = value.and_then(|v| v.rsplit(':').next()?.parse().ok()) {
            port = Some(p);
        }
    }
    port
}

/// The inspector when the process listens on its port already.
fn find_inspector(process: &Process, port: u16) -> Option<Listening> {
    sockets::listening_of(process.pid)
        .into_iter()
        .find(|l| l.address.port() == port)
}

/// Refuses when the process would die of SIGUSR1, or another process holds the port (Node would fail to
/// open its inspector, and heapgraph must not talk to anyone else); else sends SIGUSR1 and waits for the process to listen on the port.
fn open_inspector(
    process: &Process,
    port: u16,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<Listening, AttachError> {
    let pid = process.pid;
    if !process.catches(libc::SIGUSR1) {
        return Err(AttachError::Unsupported {
            pid,
            exe: process.exe.clone(),
            detail:
                "it does not handle SIGUSR1 (started with --disable-sigusr1, or still starting), \
                     which would end it instead of opening its inspector: restart it without \
                     --disable-sigusr1, or start it with --inspect"
                    .into(),
        });
    }
    port_free(process, port)?;
    progress.step(&format!(
        "pid {pid}: opening its inspector on port {port} (SIGUSR1); until it is closed again, \
         any local user can connect to it"
    ));
    process.signal(libc::SIGUSR1)?;
    let asked = Instant::now();
    loop {
        if let Some(open) = find_inspector(process, port) {
            return Ok(open);
        }
        if !process.is_alive() {
            return Err(AttachError::Exited { pid });
        }
        port_free(process, port)?;
        if asked.elapsed() > timeout {
            return Err(AttachError::Unsupported {
                pid,
                exe: process.exe.clone(),
                detail: format!(
                    "it did not open its inspector on port {port} within {:.1} s of SIGUSR1: it may be \
                     built without the inspector, or busy in a long synchronous task (a longer --timeout \
                     helps then)",
                    timeout.as_secs_f64()
                ),
            });
        }
        std::thread::sleep(POLL);
    }
}

fn port_free(process: &Process, port: u16) -> Result<(), AttachError> {
    let Some(taken) = sockets::listening_in_namespace_of(process.pid)
        .into_iter()
        .find(|l| l.address.port() == port)
    else {
        return Ok(());
    };
    let holder = match sockets::holder_of(taken.inode) {
        Some(p) if p == process.pid => return Ok(()),
        Some(p) => format!(
            "pid {p} ({})",
            Process::open(p).map_or("?".into(), |p| p.exe)
        ),
        None => "a process of another user".into(),
    };
    Err(AttachError::Unsupported {
        pid: process.pid,
        exe: process.exe.clone(),
        detail: format!(
            "port {port}, where it opens its inspector, is taken by {holder} ({}): free the port, or \
             restart the process with --inspect-port=PORT on a free one",
            taken.address
        ),
    })
}

/// Whether the process stopped listening on the inspector's port within a few seconds.
fn wait_closed(process: &Process, inspector: &Listening) -> bool {
    let asked = Instant::now();
    while asked.elapsed() < CLOSE_LIMIT && process.is_alive() {
        if !sockets::listening_of(process.pid).contains(inspector) {
            return true;
        }
        std::thread::sleep(POLL);
    }
    !process.is_alive()
}

/// A DevTools protocol session with the target's inspector.
struct Session {
    pid: u32,
    socket: WebSocket<TcpStream>,
    /// `Node.js v20.11.1`.
    runtime: String,
    next_id: u64,
}

/// One message from the inspector: an answer (`id`) or an event (`method`).
#[derive(Deserialize)]
struct Incoming<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<ChunkParams<'a>>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkParams<'a> {
    #[serde(borrow)]
    chunk: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "webSocketDebuggerUrl")]
    web_socket_debugger_url: String,
}

impl Session {
    fn connect(pid: u32, address: SocketAddr) -> Result<Session, AttachError> {
        let protocol = |detail: String| AttachError::Protocol { pid, detail };
        let version: serde_json::Value = serde_json::from_str(&http_get(address, "/json/version")?)
            .map_err(|e| protocol(format!("its inspector's /json/version is not JSON: {e}")))?;
        let runtime = version["Browser"]
            .as_str()
            .and_then(|b| b.strip_prefix("node.js/"))
            .map(|v| format!("Node.js {v}"))
            .ok_or_else(|| {
                protocol(format!(
                    "{address} is not a Node.js inspector (its /json/version says {version})"
                ))
            })?;
        let targets: Vec<Target> = serde_json::from_str(&http_get(address, "/json/list")?)
            .map_err(|e| protocol(format!("its inspector's /json/list: {e}")))?;
        let target = targets
            .first()
            .ok_or_else(|| protocol("its inspector lists no target".into()))?;
        // the path of the URL it gives, on the address heapgraph reached
        let session_id = target
            .web_socket_debugger_url
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let url = format!("ws://{address}/{session_id}");
        let stream = TcpStream::connect(address).map_err(|e| AttachError::io(&url, e))?;
        let (socket, _) =
            tungstenite::client(url.as_str(), stream).map_err(|e| AttachError::io(&url, e))?;
        Ok(Session {
            pid,
            socket,
            runtime,
            next_id: 1,
        })
    }

    fn send(&mut self, method: &str, params: serde_json::Value) -> Result<u64, AttachError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = serde_json::json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(Message::text(request.to_string()))
            .map_err(|e| self.lost(e))?;
        Ok(id)
    }

    fn lost(&self, error: tungstenite::Error) -> AttachError {
        AttachError::Protocol {
            pid: self.pid,
            detail: format!(
                "the inspector connection ended: {error} (did the process exit or close its inspector?)"
            ),
        }
    }

    /// Takes a heap snapshot into `output` (through a partial file renamed at the end), chunk by chunk,
    /// gzipped when its name ends in `.gz`, and returns how long the main thread spent on it.
    fn snapshot(
        &mut self,
        output: &Path,
        progress: &dyn Progress,
    ) -> Result<Duration, AttachError> {
        let name = output.file_name().unwrap_or_default().to_string_lossy();
        let partial = output.with_file_name(format!(".{name}.heapgraph-partial"));
        let gzip = output.extension().is_some_and(|e| e == "gz");
        let written = self
            .snapshot_into(&partial, gzip, progress)
            .and_then(|paused| {
                std::fs::rename(&partial, output).map_err(|e| AttachError::io_path(output, e))?;
                Ok(paused)
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }

    fn snapshot_into(
        &mut self,
        path: &Path,
        gzip: bool,
        progress: &dyn Progress,
    ) -> Result<Duration, AttachError> {
        let file = std::fs::File::create(path).map_err(|e| AttachError::io_path(path, e))?;
        let mut file = Sink::new(BufWriter::new(file), gzip);
        progress.step(&format!(
            "pid {}: taking a heap snapshot (its main thread runs nothing else meanwhile)",
            self.pid
        ));
        let asked = Instant::now();
        let id = self.send(
            "HeapProfiler.takeHeapSnapshot",
            serde_json::json!({ "reportProgress": false }),
        )?;
        loop {
            let message = self.socket.read().map_err(|e| self.lost(e))?;
            let Message::Text(text) = message else {
                continue;
            };
            let incoming: Incoming =
                serde_json::from_str(text.as_str()).map_err(|e| AttachError::Protocol {
                    pid: self.pid,
                    detail: format!("the inspector sent a message that is not JSON: {e}"),
                })?;
            if incoming.method.as_deref() == Some("HeapProfiler.addHeapSnapshotChunk") {
                if let Some(chunk) = incoming.params.and_then(|p| p.chunk) {
                    file.write_all(chunk.as_bytes())
                        .map_err(|e| AttachError::io_path(path, e))?;
                }
            } else if incoming.id == Some(id) {
                if let Some(error) = incoming.error {
                    return Err(AttachError::DumpFailed {
                        pid: self.pid,
                        message: format!("HeapProfiler.takeHeapSnapshot failed: {error}"),
                    });
                }
                let paused = asked.elapsed();
                file.finish().map_err(|e| AttachError::io_path(path, e))?;
                return Ok(paused);
            }
        }
    }

    /// Asks the process to close its inspector once it has answered, and ends the session. Failures
    /// show in the port staying open, which the caller checks.
    fn close_inspector(&mut self) {
        let asked = self.send(
            "Runtime.evaluate",
            serde_json::json!({ "expression": CLOSE_EXPRESSION, "includeCommandLineAPI": true }),
        );
        if let Ok(id) = asked {
            while let Ok(message) = self.socket.read() {
                let answered = message.to_text().ok().and_then(|t| {
                    serde_json::from_str::<Incoming>(t)
                        .ok()
                        .map(|m| m.id == Some(id))
                });
                if answered == Some(true) {
                    break;
                }
            }
        }
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

/// Where the snapshot's chunks go: the file, or a gzip stream into it.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Sink {
    fn new(file: BufWriter<File>, gzip: bool) -> Sink {
        if gzip {
            Sink::Gzip(GzEncoder::new(file, Compression::fast()))
        } else {
            Sink::Plain(file)
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(file) => file.write_all(bytes),
            Sink::Gzip(gzip) => gzip.write_all(bytes),
        }
    }

    /// Writes what is buffered, and the gzip trailer.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut file) => file.flush(),
            Sink::Gzip(gzip) => gzip.finish()?.flush(),
        }
    }
}

/// The body of an HTTP GET of `path` on the inspector's address.
fn http_get(address: SocketAddr, path: &str) -> Result<String, AttachError> {
    let url = format!("http://{address}{path}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    agent
        .get(&url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .map_err(|e| AttachError::io(&url, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(options: &[&str]) -> Option<u16> {
        port_from_options(options.iter().map(|o| o.to_string()))
    }

    #[test]
    fn the_inspector_port_comes_from_nodes_options() {
        assert_eq!(port(&["--max-old-space-size=100"]), None);
        assert_eq!(port(&["--inspect-port=9300"]), Some(9300));
        assert_eq!(port(&["--inspect-port", "0.0.0.0:9301"]), Some(9301));
        assert_eq!(
            port(&["--inspect=127.0.0.1:9302", "--inspect-port=9303"]),
            Some(9303)
        );
        assert_eq!(port(&["--inspect"]), None);
    }
}
