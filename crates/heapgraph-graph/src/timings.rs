//! Wall time and memory of a command's phases on stderr, for finding where its time goes (the CLI's
//! hidden `--timings`). Off unless [`enable`] was called: a phase then costs one atomic load.
//!
//! Each phase prints one line as it ends: when it started and ended (seconds since [`enable`]), its wall
//! time, the CPU time the whole process spent meanwhile (twice the wall time when both of two cores
//! worked) and in all up to its end, the resident set at its end and the peak so far. Phases may nest or
//! run side by side on two cores; their start and end times show which, and then each one's CPU time
//! counts both (the CPU time of a run of phases is the difference of the totals at its ends).

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
        "heapgraph: timings: {:>7} {:>7} {:>7} {:>7} {:>7}  {:>8} {:>8}  phase",
        "start", "end", "wall s", "CPU s", "CPU end", "RSS MiB", "peak MiB"
    );
}

/// Runs `work`, printing its line if timings are on.
pub fn phase<T>(name: &str, work: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return work();
    }
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let out = work();
    let origin = *START.get_or_init(Instant::now);
    let ended = Instant::now();
    let (cpu, cpu_end) = match (cpu_started, process_cpu_seconds()) {
        (Some(a), Some(b)) => (format!("{:.2}", b - a), format!("{b:.2}")),
        _ => ("?".to_string(), "?".to_string()),
    };
    let (rss, peak) = resident_mib();
    eprintln!(
        "heapgraph: timings: {:>7.3} {:>7.3} {:>7.3} {cpu:>7} {cpu_end:>7}  {rss:>8} {peak:>8}  {name}",
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

/// User and system CPU time of the whole process (every thread) so far, from Linux's `/proc/self/stat`
/// (fields 14 and 15, in ticks of 1/100 s, the kernel's fixed unit there); `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}
