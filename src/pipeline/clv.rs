//! The CLV stage: collects calibration summaries, fits, scores, validates (see [`crate::clv`]).
//!
//! ## Method
//! The data end on the last whole day before `as_of`.
//! - `[clv] calibration_end` (or `--calibration-end`) set: fit on purchases up to that day, score
//!   every customer first seen by then as of that day, validate on the days after it (an empty
//!   validation table when there are none).
//! - unset: fit on all but the last `holdout_days` and validate that fit on them; then refit on
//!   all data and score every buyer as of the last day.
//!
//! A model that cannot be fitted (too little data, a degenerate likelihood) does not fail the
//! run: the reason is logged as a warning and written to `out/models/clv.json` as `error`, and
//! `clv.parquet` / `clv_validation.parquet` are not written (stale copies are removed).

use super::{stage_err, PipelineError};
use crate::analytics::DAY_US;
use crate::clv::score::{self, day_string, SummaryColumns};
use crate::clv::summary::{holdout_days, summary, validation_frames};
use crate::clv::validation::validate;
use crate::clv::{ClvError, ClvValidParams};
use polars::prelude::*;

/// What the stage produced.
pub(super) enum ClvResult {
    Done {
        clv: DataFrame,
        validation: DataFrame,
        model: serde_json::Value,
    },
    /// The model could not be fitted; the JSON says why.
    Failed {
        model: serde_json::Value,
    },
}

fn empty_validation() -> DataFrame {
    DataFrame::new_infer_height(vec![
        Column::new_empty("section".into(), &DataType::String),
        Column::new_empty("key".into(), &DataType::Int64),
        Column::new_empty("label".into(), &DataType::String),
        Column::new_empty("customers".into(), &DataType::Int64),
        Column::new_empty("actual".into(), &DataType::Float64),
        Column::new_empty("predicted".into(), &DataType::Float64),
        Column::new_empty("abs_error".into(), &DataType::Float64),
    ])
    .unwrap_or_default()
}

/// A calibration summary (frame and numbers), the fit on it, and its validation if any.
type Fitted = (DataFrame, SummaryColumns, score::ClvFit, Option<(DataFrame, serde_json::Value)>);

/// Fits at `cal_end_day` and, when there are days after it up to `last_day`, validates.
fn fit_and_validate(
    valid: &LazyFrame,
    cal_end_day: i64,
    last_day: i64,
    p: &ClvValidParams,
) -> Result<Result<Fitted, ClvError>, PipelineError> {
    let err = stage_err("clv");
    let s = summary(valid.clone(), cal_end_day).collect().map_err(&err)?;
    let cols = match SummaryColumns::from_frame(&s, p.time_unit) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let fit = match score::fit(&cols, p.time_unit, cal_end_day) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let validation = if last_day > cal_end_day {
        let (per, daily) = validation_frames(s.clone().lazy(), holdout_days(valid.clone(), cal_end_day, last_day));
        let per = per.collect().map_err(&err)?;
        let daily = daily.collect().map_err(&err)?;
        match validate(&per, &daily, &fit, last_day) {
            Ok(v) => Some(v),
            Err(e) => return Ok(Err(e)),
        }
    } else {
        None
    };
    Ok(Ok((s, cols, fit, validation)))
}

/// Runs the stage over valid orders (see [`crate::analytics::valid_orders`]).
pub(super) fn run(valid: LazyFrame, as_of_us: i64, p: &ClvValidParams) -> Result<ClvResult, PipelineError> {
    let last_day = as_of_us.div_euclid(DAY_US) - 1;
    let failed = |e: ClvError, cal_end_day: i64| {
        tracing::warn!("clv skipped: {e}");
        ClvResult::Failed {
            model: serde_json::json!({
                "model": p.model.as_str(),
                "time_unit": p.time_unit.as_str(),
                "calibration_end": day_string(cal_end_day),
                "error": e.to_string(),
            }),
        }
    };
    let (s, cols, fit, validation) = match p.calibration_end {
        Some(d) => {
            let cal_end_day = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or(0) / DAY_US;
            match fit_and_validate(&valid, cal_end_day, last_day, p)? {
                Ok(v) => v,
                Err(e) => return Ok(failed(e, cal_end_day)),
            }
        }
        None => {
            let cal_end_day = last_day - p.holdout_days;
            let validation = match fit_and_validate(&valid, cal_end_day, last_day, p)? {
                Ok((_, _, _, v)) => v,
                Err(e) => {
                    tracing::warn!("clv validation skipped (calibration up to {}): {e}", day_string(cal_end_day));
                    None
                }
            };
            match fit_and_validate(&valid, last_day, last_day, p)? {
                Ok((s, cols, fit, _)) => (s, cols, fit, validation),
                Err(e) => return Ok(failed(e, last_day)),
            }
        }
    };
    for (name, r) in [("bgnbd", &fit.bgnbd_report), ("gamma_gamma", &fit.spend_report)] {
        if !r.converged {
            tracing::warn!(model = name, iterations = r.iterations, "clv fit did not reach the gradient tolerance");
        }
    }
    let clv = match score::score(&s, &cols, &fit, p) {
        Ok(df) => df,
        Err(e) => return Ok(failed(e, fit.calibration_end_day)),
    };
    let (validation, vjson) = match validation {
        Some((df, j)) => (df, Some(j)),
        None => (empty_validation(), None),
    };
    let model = score::model_json(&fit, vjson);
    tracing::info!(
        customers = clv.height(),
        r = fit.bgnbd.r,
        alpha = fit.bgnbd.alpha,
        a = fit.bgnbd.a,
        b = fit.bgnbd.b,
        converged = fit.bgnbd_report.converged,
        "clv fitted"
    );
    Ok(ClvResult::Done { clv, validation, model })
}

/// The segments table with `p_alive`, `churn_tier` and the `clv_<h>d` columns joined (null for
/// customers without a score).
pub(super) fn join_segments(seg: DataFrame, clv: &DataFrame) -> Result<DataFrame, PipelineError> {
    let mut cols = vec![col("customer_id"), col("p_alive"), col("churn_tier")];
    cols.extend(
        clv.get_column_names().iter().filter(|n| n.starts_with("clv_")).map(|n| col(n.as_str())).collect::<Vec<_>>(),
    );
    seg.lazy()
        .left_join(clv.clone().lazy().select(cols), col("customer_id"), col("customer_id"))
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .map_err(stage_err("segments"))
}
