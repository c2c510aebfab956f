//! `lambdasim figures`: every figure, or some, with the data behind each.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::Reporter;
use crate::error::Result;
use crate::evaluate::Parallelism;
use crate::figures::{Context, FIGURES, find, make, redraw};

/// Flags of `figures`.
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Figures to make (default: all); see --list.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output directory; each figure gets a folder with figure.svg, figure.png, data.csv and
    /// meta.json.
    #[arg(long, value_name = "DIR", default_value = "results/figures")]
    pub out: PathBuf,
    /// Small grids and few replicas (CI, previews).
    #[arg(long)]
    pub quick: bool,
    /// Redraw from the existing data.csv files without simulating (for restyling).
    #[arg(long)]
    pub from_data: bool,
    /// List the figures with a one-line description and exit.
    #[arg(long)]
    pub list: bool,
    /// Base seed of every simulation.
    #[arg(long, short = 's', value_name = "S", default_value_t = 1, value_parser = super::seed_parser())]
    pub seed: u64,
    /// The shared data directory (real traces) [default: $LAMBDASIM_DATA_DIR, else ../shared/data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Threads [default: all cores]; data.csv is identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Makes, redraws or lists the figures; prints one line per figure written.
pub fn run<W: Write>(args: &FiguresArgs, out: &mut W) -> Result<()> {
    let io = |e: std::io::Error| crate::error::Error::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    if args.list {
        for f in FIGURES {
            writeln!(out, "{:<8} {}", f.name, f.description).map_err(io)?;
        }
        return Ok(());
    }
    let selected = if args.names.is_empty() {
        FIGURES.iter().collect::<Vec<_>>()
    } else {
        args.names
            .iter()
            .map(|n| find(n))
            .collect::<Result<Vec<_>>>()?
    };
    let reporter = Reporter::start(!args.quiet, "figures");
    let parallel = Parallelism::threads(args.threads)?.with_meter(reporter.meter());
    let command: Vec<String> = std::env::args().collect();
    let ctx = Context {
        quick: args.quick,
        seed: args.seed,
        parallel: &parallel,
        data_dir: args
            .data
            .clone()
            .or_else(crate::calibrate::data::default_dir),
    };
    let _stage = parallel
        .meter()
        .begin("figures", "figures", selected.len() as u64);
    let mut written = Vec::new();
    let mut computed = crate::figures::Computed::new();
    for figure in selected {
        parallel.meter().relabel(figure.name);
        if args.from_data {
            redraw(figure, &args.out)?;
        } else {
            make(figure, &ctx, &args.out, &command, &mut computed)?;
        }
        parallel.meter().advance(1);
        written.push(args.out.join(figure.name));
    }
    drop(_stage);
    reporter.finish();
    for dir in written {
        writeln!(out, "{}", dir.display()).map_err(io)?;
    }
    Ok(())
}
