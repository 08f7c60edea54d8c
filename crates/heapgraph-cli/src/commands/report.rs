//! `heapgraph report DUMP [MORE_DUMPS...] -o report.html`

use super::report_args::IndexArgs;
use crate::load::analyzed_dump;
use crate::progress::spin;
use heapgraph_analysis::suspects::growth::{find_growth, GrowthOptions, PathTally};
use heapgraph_analysis::{
    find_suspects, instances_of, Analysis, Growth, SortKey, SuspectOptions, TreeLimits, TypeRow,
};
use heapgraph_formats::Dump;
use heapgraph_render::dominators::{
    DominatorReport, TreeBuilder, TreeLimits as DominatorLimits, TreeNode,
};
use heapgraph_render::growth::GrowthReport;
use heapgraph_render::info::InfoReport;
use heapgraph_render::retainers::RetainersReport;
use heapgraph_render::suspects::SuspectsReport;
use heapgraph_render::suspects_growth::GrowthSuspectsReport;
use heapgraph_render::types::TypesReport;
use heapgraph_render::{format_bytes, format_count};
use heapgraph_report::{Model, Section, TypeRetainers, MODEL_VERSION};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Write one self-contained HTML page about a dump: overview, leak suspects, a zoomable picture of the
/// dominator tree, the types (sortable, filterable, each opening what retains it), and with two or more
/// dumps of one process, what grew. The page opens from disk in any current browser and loads nothing
/// from anywhere: hand it on or attach it to a ticket. Every section names the command that prints the
/// same on a terminal; what the page leaves out to stay small is said at its end.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd, .hprof, .hprof.gz, .heapsnapshot, .heapsnapshot.gz); two or more dumps of
    /// one process, oldest first, add what grew between them (the other sections are about the last)
    #[arg(required = true, value_name = "DUMP")]
    pub dumps: Vec<PathBuf>,
    /// The page to write (report.html)
    #[arg(short, long, value_name = "FILE", required_unless_present = "json")]
    pub output: Option<PathBuf>,
    /// Print the page's model (what the page embeds) as JSON instead of writing a page
    #[arg(long, conflicts_with = "output")]
    pub json: bool,
    /// Share of the reachable heap, in percent, a suspect must retain
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub threshold: f64,
    /// Levels of the dominator tree in the picture
    #[arg(long, default_value_t = 10)]
    pub depth: usize,
    /// Fold dominator tree children retaining less than this percentage of the reachable heap
    #[arg(long, value_name = "PCT", default_value_t = 0.2)]
    pub min_share: f64,
    /// Types listed, most retained bytes first (0: all)
    #[arg(long, default_value_t = 500)]
    pub types: usize,
    /// Types, most retained bytes first, whose retainer trees the page holds
    #[arg(long, default_value_t = 10)]
    pub retainers: usize,
    #[command(flatten)]
    pub index: IndexArgs,
}

/// Steps from a root and branches per object in the retainer trees the page holds.
const RETAINER_LIMITS: TreeLimits = TreeLimits {
    max_depth: 16,
    top: 5,
};

pub fn run(args: Args) -> Result<(), String> {
    if !(args.threshold > 0.0 && args.threshold <= 100.0) {
        return Err(format!(
            "--threshold {} is not a percentage above 0 and at most 100",
            args.threshold
        ));
    }
    if !(0.0..=100.0).contains(&args.min_share) {
        return Err(format!(
            "--min-share {} is not a percentage between 0 and 100",
            args.min_share
        ));
    }
    // A page that cannot be written is said before the dumps are read, not after.
    if let Some(dir) = args.output.as_deref().and_then(Path::parent) {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            return Err(format!(
                "cannot write the report into {}: no such directory; give -o a path in one",
                dir.display()
            ));
        }
    }
    let (dump, analysis, earlier) = read_dumps(&args)?;
    let path = args.dumps.last().expect("clap requires a dump");
    let file = path.display().to_string();
    let quoted = shell_word(&file);
    let mut left_out = Vec::new();

    let overview = Section {
        command: format!("heapgraph info {quoted}"),
        report: InfoReport::new(&dump),
    };
    let suspects = spin("finding suspects", || {
        let options = SuspectOptions {
            threshold: args.threshold / 100.0,
            ..SuspectOptions::default()
        };
        let found = find_suspects(&dump.graph, &analysis, &options);
        Section {
            command: format!("heapgraph suspects {quoted} --threshold {}", args.threshold),
            report: SuspectsReport::new(
                file.clone(),
                &dump.graph,
                &analysis.dominators,
                &found,
                options.threshold,
                &[],
            ),
        }
    });
    let dominators = spin("building the dominator view", || {
        dominator_section(&args, &file, &dump, &analysis, &mut left_out)
    });
    let mut histogram = analysis.histogram.clone();
    histogram.sort_by(SortKey::Retained);
    let types = Section {
        command: format!(
            "heapgraph types {quoted} --sort retained --top {}",
            args.types
        ),
        report: TypesReport::new(file.clone(), &histogram, args.types),
    };
    let hidden = histogram.rows.len() - types.report.shown;
    if hidden > 0 {
        let bytes: u64 = histogram.rows[types.report.shown..]
            .iter()
            .map(|r| r.shallow_bytes)
            .sum();
        left_out.push(format!(
            "Types: the {} types that retain most are listed; the other {} hold {} shallow (--types 0 lists all).",
            format_count(types.report.shown as u64),
            format_count(hidden as u64),
            format_bytes(bytes)
        ));
    }
    let biggest = &histogram.rows[..args.retainers.min(types.report.shown)];
    let mut retainers = spin("merging the retainers of the biggest types", || {
        retainer_sections(&file, &dump, &analysis, biggest)
    });
    let merged = retainers.len();
    keep_within(&mut retainers, RETAINERS_BUDGET);
    if retainers.len() < merged {
        left_out.push(format!(
            "Retainers: {} of the {merged} trees are left out to keep the page under {}; `heapgraph retainers` prints them.",
            merged - retainers.len(),
            format_bytes(RETAINERS_BUDGET as u64)
        ));
    }
    left_out.push(format!(
        "Retainers: the trees of the {} types that retain most; each keeps {} branches per object and {} steps from a root, the rest folded.",
        format_count(retainers.len() as u64),
        RETAINER_LIMITS.top,
        RETAINER_LIMITS.max_depth
    ));
    let (growth, type_growth) = match earlier {
        Some(earlier) => {
            let (growth, types) = growth_sections(&args, &dump, &analysis, earlier, &mut left_out);
            (Some(growth), Some(types))
        }
        None => (None, None),
    };
    let model = Model {
        heapgraph_report: MODEL_VERSION,
        heapgraph_version: env!("CARGO_PKG_VERSION"),
        files: args.dumps.iter().map(|p| p.display().to_string()).collect(),
        overview,
        suspects,
        dominators,
        types,
        retainers,
        growth,
        type_growth,
        left_out,
    };
    let Some(output) = &args.output else {
        return super::print(&model, true, |_| String::new());
    };
    let page = spin("writing the page", || heapgraph_report::render(&model))?;
    std::fs::write(output, &page).map_err(|e| {
        format!(
            "cannot write the report {}: {e}; give -o a path in a directory you can write to",
            output.display()
        )
    })?;
    eprintln!(
        "wrote {} ({}): open it in a browser",
        output.display(),
        format_bytes(page.len() as u64)
    );
    Ok(())
}

/// What retains the instances of each type of `rows`, one tree per core at a time (each is a walk of its
/// own over the shortest-path tree).
fn retainer_sections(
    file: &str,
    dump: &Dump,
    analysis: &Analysis,
    rows: &[TypeRow],
) -> Vec<TypeRetainers> {
    rows.par_iter()
        .map(|row| {
            let targets = instances_of(&dump.graph, &[row.type_id]);
            let tree = super::retainer_tree(&dump.graph, analysis, &targets, RETAINER_LIMITS);
            TypeRetainers {
                type_id: row.type_id,
                section: Section {
                    command: format!(
                        "heapgraph retainers {} {} --top {} --max-depth {}",
                        shell_word(file),
                        shell_word(&row.type_name),
                        RETAINER_LIMITS.top,
                        RETAINER_LIMITS.max_depth
                    ),
                    report: RetainersReport::new(
                        file.to_string(),
                        row.type_name.clone(),
                        &dump.graph,
                        &[row.type_id],
                        &targets,
                        &tree,
                    ),
                },
            }
        })
        .collect()
}

/// Bytes of JSON the retainer trees may take in the page: a tree's size follows the shape of the heap
/// (its branches, their chains), not its caps alone.
const RETAINERS_BUDGET: usize = 4 << 20;

/// Keeps the first of `trees` whose JSON fits in `budget` bytes together.
fn keep_within(trees: &mut Vec<TypeRetainers>, budget: usize) {
    let mut used: usize = 0;
    let fits = trees.iter().take_while(|t| {
        let size = serde_json::to_vec(t).map_or(usize::MAX, |json| json.len());
        used = used.saturating_add(size);
        used <= budget
    });
    let kept = fits.count();
    trees.truncate(kept);
}

/// What dumps before the last add to the page: every dump tallied by path (for growth suspects), and
/// the types' changes from the first dump to the last.
struct Earlier {
    tallies: Vec<PathTally>,
    types: Growth,
}

/// The last dump with its analyses and, when there are several, what the earlier ones add. The first dump
/// is kept until the last is read, to match their objects; the others are dropped once tallied.
fn read_dumps(args: &Args) -> Result<(Dump, Analysis, Option<Earlier>), String> {
    let (last, earlier) = args.dumps.split_last().expect("clap requires a dump");
    let mut tallies = Vec::new();
    let mut first = None;
    for path in earlier {
        let (dump, analysis) = analyzed_dump(path, &args.index)?;
        tallies.push(tally(path, &dump, &analysis));
        first = first.or(Some(dump));
    }
    let (dump, analysis) = analyzed_dump(last, &args.index)?;
    let Some(first) = first else {
        return Ok((dump, analysis, None));
    };
    tallies.push(tally(last, &dump, &analysis));
    let types = spin("matching objects of the first and the last dump", || {
        Growth::compute(&first.graph, &dump.graph)
    });
    Ok((dump, analysis, Some(Earlier { tallies, types })))
}

fn tally(path: &Path, dump: &Dump, analysis: &Analysis) -> PathTally {
    let what = format!("tallying {} by path", path.display());
    spin(&what, || PathTally::compute(&dump.graph, &analysis.paths))
}

/// Types listed in the per-type changes between the first and the last dump.
const GROWTH_TYPES: usize = 200;

/// The growth suspects of all the dumps, and the per-type changes from the first to the last.
fn growth_sections(
    args: &Args,
    dump: &Dump,
    analysis: &Analysis,
    earlier: Earlier,
    left_out: &mut Vec<String>,
) -> (Section<GrowthSuspectsReport>, Section<GrowthReport>) {
    let files: Vec<String> = args.dumps.iter().map(|p| p.display().to_string()).collect();
    let words: Vec<String> = files.iter().map(|f| shell_word(f)).collect();
    let suspects = spin("comparing the dumps", || {
        let options = GrowthOptions::default();
        let found = find_growth(&earlier.tallies, &dump.graph, &analysis.paths, &options);
        GrowthSuspectsReport::new(files.clone(), &dump.graph, &found, options.min_growth, &[])
    });
    let mut types = earlier.types;
    let changed = types.types.len();
    if changed > GROWTH_TYPES {
        types.types.truncate(GROWTH_TYPES);
        left_out.push(format!(
            "Per-type changes: the {GROWTH_TYPES} types whose counts grew most, of {} that changed.",
            format_count(changed as u64)
        ));
    }
    let (first, last) = (&files[0], &files[files.len() - 1]);
    (
        Section {
            command: format!("heapgraph suspects {}", words.join(" ")),
            report: suspects,
        },
        Section {
            command: format!(
                "heapgraph growth {} {} --held 0",
                words[0],
                words[words.len() - 1]
            ),
            report: GrowthReport {
                old_file: first.clone(),
                new_file: last.clone(),
                growth: types,
                held: Vec::new(),
            },
        },
    )
}

/// The dominator tree from the roots, `args.depth` levels, small children folded.
fn dominator_section(
    args: &Args,
    file: &str,
    dump: &Dump,
    analysis: &Analysis,
    left_out: &mut Vec<String>,
) -> Section<DominatorReport> {
    let mut tree = TreeBuilder {
        graph: &dump.graph,
        dominators: &analysis.dominators,
        retained: &analysis.retained,
        paths: &analysis.paths,
        limits: DominatorLimits {
            depth: args.depth,
            min_share: args.min_share / 100.0,
        },
    }
    .build(None);
    shorten_paths(&mut tree);
    let folded = folded_objects(&tree);
    left_out.push(format!(
        "Dominator tree: {} levels below the roots; {} objects retaining less than {}% of the reachable heap each, or deeper, are folded into \"N more\" boxes; paths keep their last {PATH_CHARS} characters.",
        args.depth,
        format_count(folded),
        args.min_share
    ));
    let report = DominatorReport {
        file: file.to_string(),
        reachable_bytes: analysis.retained.total(),
        unreachable_objects: analysis.dominators.unreachable_count() as u64,
        tree,
    };
    if report.unreachable_objects > 0 {
        left_out.push(format!(
            "{} objects that no root reaches are in no dominator tree (`heapgraph unreferenced` lists them).",
            format_count(report.unreachable_objects)
        ));
    }
    Section {
        command: format!(
            "heapgraph dominators {} --depth {} --min-share {}",
            shell_word(file),
            args.depth,
            args.min_share
        ),
        report,
    }
}

/// Longest path kept beside a node of the dominator view; the end of a chain (nearest the object) is what
/// tells, and the boxes' paths are what the view's size grows with.
const PATH_CHARS: usize = 300;

/// Cuts the paths in `tree` longer than [`PATH_CHARS`] to their last characters, marking the cut.
fn shorten_paths(tree: &mut TreeNode) {
    if let Some(path) = &mut tree.path {
        let count = path.chars().count();
        if count > PATH_CHARS {
            *path = std::iter::once('…')
                .chain(path.chars().skip(count - PATH_CHARS + 1))
                .collect();
        }
    }
    tree.children.iter_mut().for_each(shorten_paths);
}

/// Children folded anywhere in `tree` (each fold counts the top objects it stands for).
fn folded_objects(tree: &TreeNode) -> u64 {
    tree.folded.as_ref().map_or(0, |f| f.count)
        + tree.children.iter().map(folded_objects).sum::<u64>()
}

/// `text` as one word of a POSIX shell command line.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_render::retainers::RetainersView;

    fn tree(type_id: u32) -> TypeRetainers {
        TypeRetainers {
            type_id,
            section: Section {
                command: format!("heapgraph retainers app.hgd T{type_id}"),
                report: RetainersReport {
                    file: "app.hgd".into(),
                    query: format!("T{type_id}"),
                    types: vec![format!("T{type_id}")],
                    allocated: None,
                    tree: RetainersView {
                        instances: 1,
                        retained_bytes: 16,
                        unreachable: 0,
                        unreachable_bytes: 0,
                        branches: Vec::new(),
                        folded: None,
                    },
                },
            },
        }
    }

    #[test]
    fn retainer_trees_are_kept_in_order_while_they_fit() {
        let one = serde_json::to_vec(&tree(1)).unwrap().len();
        let mut trees = vec![tree(1), tree(2), tree(3)];
        keep_within(&mut trees, 2 * one + 1);
        let kept: Vec<u32> = trees.iter().map(|t| t.type_id).collect();
        assert_eq!(kept, [1, 2]);
        keep_within(&mut trees, one - 1);
        assert!(trees.is_empty());
    }

    #[test]
    fn long_paths_keep_their_end() {
        let node = |path: String, children| TreeNode {
            object: None,
            path: Some(path),
            shallow_bytes: 0,
            retained_bytes: 0,
            share: 0.0,
            children,
            folded: None,
        };
        let long = format!("module app{}", ".next".repeat(100));
        let mut tree = node("module app".into(), vec![node(long.clone(), Vec::new())]);
        shorten_paths(&mut tree);
        assert_eq!(tree.path.as_deref(), Some("module app"));
        let cut = tree.children[0].path.as_deref().unwrap();
        assert_eq!(cut.chars().count(), PATH_CHARS);
        assert!(cut.starts_with('…') && long.ends_with(&cut[3..]), "{cut}");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("testdata/app.hgd"), "testdata/app.hgd");
        assert_eq!(shell_word("my dump.hgd"), "'my dump.hgd'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("HeapFixture$Item"), "'HeapFixture$Item'");
        assert_eq!(shell_word(""), "''");
    }
}
