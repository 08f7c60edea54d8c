//! The `heapgraph` binary end to end, in one test binary (one link): a module per area, helpers in `util`.

mod android;
mod cli;
mod devtools;
mod dump_pid;
mod dump_pid_fork;
mod dump_pid_jvm;
mod dump_pid_node;
mod dump_pid_remote_exec;
mod index;
mod java;
mod mat;
mod report;
mod run;
mod sites;
mod sites_python;
mod suspects;
mod suspects_growth;
mod suspects_proven;
mod util;
mod v8;
mod why_alive;
