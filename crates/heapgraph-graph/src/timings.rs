//! Wall time and memory of a command's phases on stderr, for finding where its time goes (the CLI's
//! hidden `--timings`). Off unless [`enable`] was called: a phase then costs one atomic load.
//!
//! Each phase prints one line as it ends: when it started and ended (seconds since [`enable`]), its wall
//! time, the resident set at its end and the peak so far. Phases may nest or run side by side on two
//! cores; their start and end times show which.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static START: OnceLock<Instant> = OnceLock::new();

/// Starts the clock and turns the phase lines on.
pub fn enable() {
    START.get_or_init(Instant::now);
    ENABLED.store(true, Ordering::Relaxed);
    eprintln!(
        "heapgraph: timings: {:>7} {:>7} {:>7}  {:>8} {:>8}  phase",
        "start", "end", "wall s", "RSS MiB", "peak MiB"
    );
}

/// Runs `work`, printing its line if timings are on.
pub fn phase<T>(name: &str, work: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return work();
    }
    let started = Instant::now();
    let out = work();
    let origin = *START.get_or_init(Instant::now);
    let ended = Instant::now();
    let (rss, peak) = resident_mib();
    eprintln!(
        "heapgraph: timings: {:>7.3} {:>7.3} {:>7.3}  {rss:>8} {peak:>8}  {name}",
        started.duration_since(origin).as_secs_f64(),
        ended.duration_since(origin).as_secs_f64(),
        ended.duration_since(started).as_secs_f64(),
    );
    out
}

/// The resident set now and its peak, in MiB, as Linux's `/proc/self/status` gives them (`?` elsewhere).
fn resident_mib() -> (String, String) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or("?".to_string(), |kib| (kib / 1024).to_string())
    };
    (field("VmRSS:"), field("VmHWM:"))
}
