//! A progress bar on stderr, shown only when stderr is a terminal so pipes and logs stay clean.

use heapgraph_formats::LoadProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    pub fn new() -> TerminalProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:>24} [{bar:40}] {percent:>3}% {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        TerminalProgress { bar }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl LoadProgress for TerminalProgress {
    fn phase(&self, name: &str, total: u64) {
        if let Some(bar) = &self.bar {
            // Ticking starts with the first phase, so a bar made for work that never comes never draws.
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_message(name.to_string());
            bar.set_length(total);
            bar.set_position(0);
        }
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(done);
        }
    }
}

/// Runs `work`, showing `message` with a spinner on stderr meanwhile if stderr is a terminal.
pub fn spin<T>(message: &str, work: impl FnOnce() -> T) -> T {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let s = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        s.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        s.set_message(message.to_string());
        s.enable_steady_tick(Duration::from_millis(120));
        s
    });
    let result = work();
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    result
}
