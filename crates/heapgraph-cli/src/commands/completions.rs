//! `heapgraph completions SHELL`

use clap_complete::Shell;

/// Print a completion script for your shell (from the same definitions as the command's arguments).
///
/// bash: `heapgraph completions bash > ~/.local/share/bash-completion/completions/heapgraph`
///
/// zsh: `heapgraph completions zsh > ~/.zfunc/_heapgraph`, with `fpath+=~/.zfunc` before `compinit`
///
/// fish: `heapgraph completions fish > ~/.config/fish/completions/heapgraph.fish`
#[derive(clap::Args)]
pub struct Args {
    /// The shell to complete for
    shell: Shell,
}

pub fn run(args: Args, mut command: clap::Command) -> Result<(), String> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "heapgraph", &mut script);
    super::write_stdout(&script)
}
