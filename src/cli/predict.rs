//! `lambdasim predict`: λDNN's closed-form prediction for one plan.

use std::io::Write;

use clap::Args;

use super::PlanArgs;
use crate::analytic::{CostModel, predict};
use crate::error::Result;

/// Flags of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Workload, platform and plan.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Whether the predicted cost includes the PS VM (functions+ps) or only the functions.
    #[arg(long, value_enum, default_value_t = CostModel::FunctionsPlusPs)]
    pub cost_model: CostModel,
}

/// Predicts and writes the result in the requested format.
pub fn run<W: Write>(args: &PredictArgs, out: &mut W) -> Result<()> {
    let (workload, platform, plan, epochs) = args.plan.resolve()?;
    let prediction = predict(&workload, &platform, &plan, epochs, args.cost_model);
    args.plan.format.write(out, &prediction)
}
