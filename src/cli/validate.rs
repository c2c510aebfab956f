//! `lambdasim validate` and `lambdasim calibrate`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;
use crate::calibrate::lambda::{Effort, SpreadData, fit as fit_lambda};
use crate::calibrate::validate::{ValidateOptions, Verdict, fedless_runs, validate};
use crate::calibrate::{data, pai};
use crate::error::{Error, Result};
use crate::evaluate::Parallelism;
use crate::training::{Mixture, Tail};

/// Flags of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Fewer replicas (about 10x faster; for CI and previews).
    #[arg(long)]
    pub quick: bool,
    /// The shared data directory [default: $LAMBDASIM_DATA_DIR, else ../shared/data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What to calibrate.
#[derive(Debug, Subcommand)]
pub enum CalibrateCommand {
    /// Fit the `lambda` variation model to the paper's errors and the measured Lambda spread.
    Lambda(CalibrateArgs),
    /// Fit the `pai` straggler scenario to half of the Alibaba PAI jobs.
    Pai(CalibrateArgs),
    /// Fit the framework warm-up after a start (`warmup_cpu_s`) to the paper's relaunch dip.
    Relaunch(CalibrateArgs),
}

/// Flags of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The shared data directory [default: $LAMBDASIM_DATA_DIR, else ../shared/data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Most evaluations of the objective.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_evaluations: u32,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn data_dir(given: &Option<PathBuf>) -> Option<PathBuf> {
    given.clone().or_else(data::default_dir)
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

/// Runs every check and prints one row each; fails (exit 1) if any check fails.
pub fn run<W: Write>(args: &ValidateArgs, out: &mut W) -> Result<()> {
    let parallel = Parallelism::threads(args.threads)?;
    let dir = data_dir(&args.data);
    let rows = validate(
        ValidateOptions { quick: args.quick },
        dir.as_deref(),
        &parallel,
    )?;
    args.format.write_rows(out, &rows)?;
    let failed = rows.iter().filter(|r| r.status == Verdict::Fail).count();
    let checked = rows.iter().filter(|r| r.status != Verdict::Report).count();
    if failed > 0 {
        return Err(Error::ChecksFailed {
            failed,
            total: checked,
        });
    }
    Ok(())
}

/// Runs a calibration and prints the parameters, the targets and the residuals.
pub fn run_calibrate<W: Write>(command: &CalibrateCommand, out: &mut W) -> Result<()> {
    let (CalibrateCommand::Lambda(args)
    | CalibrateCommand::Pai(args)
    | CalibrateCommand::Relaunch(args)) = command;
    let dir = || {
        data_dir(&args.data).ok_or_else(|| {
            Error::invalid(
                "data",
                "the shared data directory was not found; name it with --data",
            )
        })
    };
    let parallel = Parallelism::threads(args.threads)?;
    let mut text = String::new();
    match command {
        CalibrateCommand::Lambda(_) => {
            let dir = dir()?;
            let data = SpreadData {
                benchmark: data::faas_benchmark(&dir, 10)?,
                fedless: fedless_runs(&dir)?,
            };
            let fitted = fit_lambda(
                Mixture::LAMBDA,
                &data,
                Effort::FIT,
                args.max_evaluations,
                &parallel,
            )?;
            let p = fitted.params;
            let Tail::Exponential { mean } = p.tail else {
                return Err(Error::Internal("lambda has an exponential tail".into()));
            };
            text.push_str(&format!(
                "lambda variation model fitted in {} evaluations, objective {:.4}\nparameters: lambda{{cv={},p={},slowdown={mean},job_cv={}}}\n",
                fitted.search.evaluations, fitted.search.value, p.cv, p.probability, p.job_cv
            ));
            text.push_str("target  reference  simulated  residual/tolerance\n");
            for r in &fitted.residuals {
                text.push_str(&format!(
                    "{}  {}  {:.4}  {:+.3}\n",
                    r.target, r.reference, r.value, r.scaled
                ));
            }
        }
        CalibrateCommand::Relaunch(_) => {
            let platform = crate::platform::Platform::load("aws-2020")?;
            let sim = crate::calibrate::lambda::world(crate::training::Jitter::default(), 2020);
            let bench = crate::calibrate::measure::Bench {
                platform: &platform,
                sim: &sim,
                replicas: 48,
                parallel: &parallel,
            };
            let target = crate::calibrate::targets::RELAUNCH_DIP_S;
            let (warmup, dip) = crate::calibrate::measure::fit_warmup(&bench, target)?;
            text.push_str(&format!(
                "warmup_cpu_s = {warmup:.3} (MobileNet 7 x 1728 MB, 6 epochs, 48 replicas): the relaunch loses {:.2} s (target {target} s) over {:.2} iterations\n",
                dip.lost_s, dip.iterations
            ));
        }
        CalibrateCommand::Pai(_) => {
            let jobs = data::pai_cov_by_job(&dir()?)?;
            let (calibration, held_out) = (pai::half(&jobs, 0), pai::half(&jobs, 1));
            let (params, search) = pai::fit(&calibration)?;
            let model = pai::model_covs(params)?;
            let Tail::Pareto { scale, shape, cap } = params.tail else {
                return Err(Error::Internal("pai has a Pareto tail".into()));
            };
            text.push_str(&format!(
                "pai straggler mixture fitted on the even jobs in {} evaluations, objective {:.6}\nparameters: straggler{{cv={},p={},scale={scale},shape={shape},cap={cap}}}\n",
                search.evaluations, search.value, params.cv, params.probability
            ));
            text.push_str("quantile  calibration_half  held_out_half  model\n");
            for q in [0.5, 0.75, 0.9, 0.99] {
                text.push_str(&format!(
                    "p{}  {:.4}  {:.4}  {:.4}\n",
                    (q * 100.0) as u32,
                    pai::quantile(&calibration, q),
                    pai::quantile(&held_out, q),
                    pai::quantile(&model, q)
                ));
            }
        }
    }
    out.write_all(text.as_bytes()).map_err(stdout_error)
}
