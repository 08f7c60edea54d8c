//! Progress reporting for long loads, without tying readers to a terminal library.

/// Receives progress from a reader: phases with a total amount of work, and work done.
pub trait LoadProgress: Sync {
    /// A new phase starts: `total` units of work (bytes, objects).
    fn phase(&self, name: &str, total: u64);
    /// `done` more units of the current phase are finished.
    fn advance(&self, done: u64);
}

/// Reports nothing.
pub struct NoProgress;

impl LoadProgress for NoProgress {
    fn phase(&self, _name: &str, _total: u64) {}
    fn advance(&self, _done: u64) {}
}
