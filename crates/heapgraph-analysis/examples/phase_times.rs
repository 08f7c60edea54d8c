//! TEMPORARY (not committed): time of each analysis alone.
use heapgraph_analysis::*;
use std::time::Instant;
fn t<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let s = Instant::now();
    let r = f();
    eprintln!("{name}: {:.3} s", s.elapsed().as_secs_f64());
    r
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let dump = heapgraph_formats::load(std::path::Path::new(&path), &heapgraph_formats::NoProgress)
        .unwrap();
    let g = &dump.graph;
    let p = t("bfs", || ShortestPaths::compute(g));
    let r = t("referenced", || unreferenced::referenced(g));
    let _h = t("histogram", || Histogram::compute(g));
    let _u = t("unref report", || {
        UnreferencedReport::compute(g, &r, |n| p.is_reached(n))
    });
    let d = t("dominators", || Dominators::compute(g));
    let _r = t("retained", || RetainedSizes::compute(g, &d));
    drop((d, _r));
    let _a = t("analyze", || analyze(g));
}
