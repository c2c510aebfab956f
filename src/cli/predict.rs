//! `lambdasim predict`: λDNN's closed-form prediction for one plan.

use std::io::Write;

use clap::Args;
use clap::builder::PossibleValuesParser;

use super::PlanArgs;
use crate::analytic::{CostModel, predict};
use crate::error::{Error, Result};

/// Flags of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Workload, platform and plan.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Whether the predicted cost includes the PS VM (functions+ps) or only the functions.
    #[arg(long, value_name = "MODEL", default_value = "functions+ps",
          value_parser = PossibleValuesParser::new(CostModel::NAMES))]
    pub cost_model: String,
}

/// Predicts and writes the result in the requested format.
pub fn run<W: Write>(args: &PredictArgs, out: &mut W) -> Result<()> {
    let point = super::resolver().resolve(&args.plan.spec())?;
    let plan = point
        .plan()
        .ok_or_else(|| Error::Internal("predict resolved to a strategy".into()))?;
    let prediction = predict(
        &point.workload,
        &point.platform,
        &plan,
        point.epochs,
        args.cost_model.parse()?,
    );
    args.plan.format.write(out, &prediction)
}
