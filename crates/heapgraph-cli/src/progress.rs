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
            // Loads that finish quickly never draw.
            bar.enable_steady_tick(Duration::from_millis(200));
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
