//! The CLV stage: collects calibration summaries, fits, scores, validates, and with
//! `[clv] model = "auto"` chooses the model (see [`crate::clv`]).
//!
//! ## Method
//! The data end on the last whole day before `as_of`.
//! - `[clv] calibration_end` (or `--calibration-end`) set: fit on purchases up to that day, score
//!   every customer first seen by then as of that day, validate on the days after it (an empty
//!   validation table when there are none).
//! - unset: fit on all but the last `holdout_days` and validate that fit on them; then refit on
//!   all data and score every buyer as of the last day.
//! - BG/BB (`model = "bgbb"`) works on whole calendar periods (`bgbb_period`): the calibration
//!   end and the data end are moved back to the end of the last complete period on or before
//!   them (customers first seen after that are not scored), and the holdout is whole periods.
//! - `auto` fits BG/NBD, Pareto/NBD and MBG/NBD on the calibration period, validates each on the
//!   holdout, and keeps the one with the lowest holdout MAE over the frequency bins
//!   (`mae_frequency_bins`; ties go to the lower BIC). Without a usable holdout it fits all three
//!   on the scoring data and keeps the lowest BIC (all have four parameters, so this is the
//!   highest likelihood). Every candidate's fit, BIC/AIC and validation errors (or the reason it
//!   failed) go to `out/models/clv_candidates.json`; `models/clv.json` describes the chosen one.
//!
//! A purchase model that cannot be fitted (too little data, a degenerate likelihood) does not fail
//! the run: the reason is logged as a warning, written to `out/models/clv.json` as `error` and to
//! the manifest's `warnings`, and `clv.parquet` / `clv_validation.parquet` are not written (stale
//! copies are removed).
//!
//! A spend model (Gamma-Gamma) that cannot be fitted — every repeat buyer has the same mean spend,
//! fewer than two repeat buyers have a positive spend, or a degenerate likelihood — loses only the
//! money: `clv.parquet` is
//! written with P(alive), churn tiers and expected purchases as usual and `expected_aov` and
//! `clv_<h>d` null; `clv_validation.parquet` and `models/clv_candidates.json` (purchase models
//! only) are as usual; the error is logged and goes to `models/clv.json` (`spend_model.error` and
//! `warnings`) and to the manifest's `warnings`.

use super::{stage_err, PipelineError};
use crate::analytics::DAY_US;
use crate::clv::fit::FitReport;
use crate::clv::model::{fit_purchase, PurchaseModel, TimeBase};
use crate::clv::score::{self, day_string, report_json, SummaryColumns};
use crate::clv::summary::{bgbb_summary, bgbb_validation_frames, holdout_days, summary, validation_frames};
use crate::clv::validation::validate;
use crate::clv::{ClvError, ClvModel, ClvValidParams};
use polars::prelude::*;

/// What the stage produced.
pub(super) enum ClvResult {
    Done {
        clv: DataFrame,
        validation: DataFrame,
        model: serde_json::Value,
        /// `models/clv_candidates.json` (model = auto).
        candidates: Option<serde_json::Value>,
        /// For the manifest: the spend model's error, when it could not be fitted.
        warnings: Vec<String>,
    },
    /// The model could not be fitted; the JSON says why, and so does the warning (for the
    /// manifest).
    Failed { model: serde_json::Value, candidates: Option<serde_json::Value>, warning: String },
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

/// A collected summary at one calibration end, in model time units.
struct Calib {
    df: DataFrame,
    cols: SummaryColumns,
    base: TimeBase,
}

/// The holdout frames of a calibration summary and the last holdout day.
type Holdout = (DataFrame, DataFrame, i64);

/// The calibration summary at `day` (BG/BB: at the end of the last complete period by then).
fn calibrate(valid: &LazyFrame, day: i64, p: &ClvValidParams) -> Result<Result<Calib, ClvError>, PipelineError> {
    let err = stage_err("clv");
    if p.model == ClvModel::Bgbb {
        let period = p.bgbb_period;
        let cp = period.last_complete(day);
        let df = bgbb_summary(valid.clone(), period, cp).collect().map_err(&err)?;
        let base = TimeBase { unit: p.time_unit, period: Some(period), calibration_end_day: period.last_day(cp) };
        return Ok(SummaryColumns::from_bgbb_frame(&df).map(|cols| Calib { df, cols, base }));
    }
    let df = summary(valid.clone(), day).collect().map_err(&err)?;
    let base = TimeBase { unit: p.time_unit, period: None, calibration_end_day: day };
    Ok(SummaryColumns::from_frame(&df, p.time_unit).map(|cols| Calib { df, cols, base }))
}

/// The holdout after a calibration, up to `last_day`; None when it is empty.
fn holdout(valid: &LazyFrame, c: &Calib, last_day: i64) -> Result<Option<Holdout>, PipelineError> {
    let err = stage_err("clv");
    let cal_end = c.base.calibration_end_day;
    let (per, daily, end_day) = match c.base.period {
        Some(period) => {
            let (cp, ep) = (period.of_day(cal_end), period.last_complete(last_day));
            if ep <= cp {
                return Ok(None);
            }
            let (a, b) = bgbb_validation_frames(c.df.clone().lazy(), valid.clone(), period, cp, ep);
            (a, b, period.last_day(ep))
        }
        None => {
            if last_day <= cal_end {
                return Ok(None);
            }
            let (a, b) = validation_frames(c.df.clone().lazy(), holdout_days(valid.clone(), cal_end, last_day));
            (a, b, last_day)
        }
    };
    Ok(Some((per.collect().map_err(&err)?, daily.collect().map_err(&err)?, end_day)))
}

/// One candidate purchase model.
struct Candidate {
    kind: ClvModel,
    /// The fit on the calibration summary.
    cal_fit: Option<Result<(PurchaseModel, FitReport), ClvError>>,
    /// Its holdout validation (table, JSON).
    validation: Option<Result<(DataFrame, serde_json::Value), ClvError>>,
    /// The fit on all data (when refitted for scoring or for the BIC choice).
    full_fit: Option<Result<(PurchaseModel, FitReport), ClvError>>,
}

impl Candidate {
    fn mae(&self) -> Option<f64> {
        match &self.validation {
            Some(Ok((_, j))) => j["mae_frequency_bins"].as_f64(),
            _ => None,
        }
    }

    fn json(&self, chosen: bool) -> serde_json::Value {
        let fit = |f: &Option<Result<(PurchaseModel, FitReport), ClvError>>| match f {
            Some(Ok((_, r))) => report_json(r),
            Some(Err(e)) => serde_json::json!({ "error": e.to_string() }),
            None => serde_json::Value::Null,
        };
        let validation = match &self.validation {
            Some(Ok((_, j))) => serde_json::json!({
                "mae_frequency_bins": j["mae_frequency_bins"],
                "mae_tracking": j["mae_tracking"],
                "actual_purchases": j["actual_purchases"],
                "predicted_purchases": j["predicted_purchases"],
            }),
            Some(Err(e)) => serde_json::json!({ "error": e.to_string() }),
            None => serde_json::Value::Null,
        };
        serde_json::json!({
            "model": self.kind.as_str(),
            "chosen": chosen,
            "calibration_fit": fit(&self.cal_fit),
            "validation": validation,
            "full_fit": fit(&self.full_fit),
        })
    }
}

fn bic(r: &FitReport) -> f64 {
    r.params.len() as f64 * (r.n_customers.max(1) as f64).ln() - 2.0 * r.log_likelihood
}

/// Runs the stage over valid orders (see [`crate::analytics::valid_orders`]).
pub(super) fn run(valid: LazyFrame, as_of_us: i64, p: &ClvValidParams) -> Result<ClvResult, PipelineError> {
    let last_day = as_of_us.div_euclid(DAY_US) - 1;
    let auto = p.model == ClvModel::Auto;
    let kinds: Vec<ClvModel> = if auto { ClvModel::CONTINUOUS.to_vec() } else { vec![p.model] };
    let mut cands: Vec<Candidate> =
        kinds.iter().map(|&kind| Candidate { kind, cal_fit: None, validation: None, full_fit: None }).collect();
    let fixed_end =
        p.calibration_end.map(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or(0) / DAY_US);
    let cal_day = fixed_end.unwrap_or(last_day - p.holdout_days);
    let failed = |e: &ClvError, cal_end_day: i64, candidates: Option<serde_json::Value>, chosen: Option<ClvModel>| {
        tracing::warn!("clv skipped: {e}");
        ClvResult::Failed {
            warning: format!(
                "clv: not fitted ({e}); no clv.parquet, clv_validation.parquet or CLV columns in segments"
            ),
            model: serde_json::json!({
                "model": chosen.unwrap_or(p.model).as_str(),
                "time_unit": if p.model == ClvModel::Bgbb { p.bgbb_period.as_str() } else { p.time_unit.as_str() },
                "calibration_end": day_string(cal_end_day),
                "error": e.to_string(),
            }),
            candidates,
        }
    };
    let no_choice = |cands: &[Candidate]| auto.then(|| candidates_json(cands, None, "none"));

    // 1. Calibration fits and their holdout validation.
    let calib = calibrate(&valid, cal_day, p)?;
    let calib = match calib {
        Ok(c) => Some(c),
        Err(e) if fixed_end.is_some() => return Ok(failed(&e, cal_day, no_choice(&cands), None)),
        Err(e) => {
            tracing::warn!("clv validation skipped (calibration up to {}): {e}", day_string(cal_day));
            None
        }
    };
    if let Some(c) = &calib {
        let hold = holdout(&valid, c, last_day)?;
        for cand in cands.iter_mut() {
            let f = fit_purchase(cand.kind, &c.cols.x, &c.cols.t_x, &c.cols.t);
            if let (Ok((m, r)), Some((per, daily, end))) = (&f, &hold) {
                cand.validation = Some(validate(per, daily, m, r, &c.base, *end));
            }
            if let Err(e) = &f {
                if fixed_end.is_none() {
                    tracing::warn!(
                        "clv validation of {} skipped (calibration up to {}): {e}",
                        cand.kind.as_str(),
                        day_string(c.base.calibration_end_day)
                    );
                }
            }
            if let Some(Err(e)) = &cand.validation {
                tracing::warn!("clv validation of {} failed: {e}", cand.kind.as_str());
            }
            cand.cal_fit = Some(f);
        }
    }

    // 2. The scoring summary: the calibration one, or all data.
    let score_calib = match (fixed_end, calib) {
        (Some(_), Some(c)) => c,
        _ => match calibrate(&valid, last_day, p)? {
            Ok(c) => c,
            Err(e) => return Ok(failed(&e, last_day, no_choice(&cands), None)),
        },
    };
    let refit = fixed_end.is_none();
    let fit_full = |cand: &mut Candidate| {
        if cand.full_fit.is_none() {
            let c = &score_calib.cols;
            cand.full_fit = Some(fit_purchase(cand.kind, &c.x, &c.t_x, &c.t));
        }
    };

    // 3. The choice.
    let (chosen, criterion) = if !auto {
        (0, "configured")
    } else if let Some(best) = (0..cands.len()).filter(|&i| cands[i].mae().is_some()).min_by(|&i, &j| {
        let key = |k: usize| {
            let b = match &cands[k].cal_fit {
                Some(Ok((_, r))) => bic(r),
                _ => f64::INFINITY,
            };
            (cands[k].mae().unwrap_or(f64::INFINITY), b)
        };
        let (a, b) = (key(i), key(j));
        a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
    }) {
        (best, "holdout_mae_frequency_bins")
    } else {
        // No holdout: BIC of the fits on the scoring data.
        for cand in cands.iter_mut() {
            if refit {
                fit_full(cand);
            }
        }
        let bic_of = |c: &Candidate| {
            let f = if refit { &c.full_fit } else { &c.cal_fit };
            match f {
                Some(Ok((_, r))) => Some(bic(r)),
                _ => None,
            }
        };
        let best = (0..cands.len()).filter(|&i| bic_of(&cands[i]).is_some()).min_by(|&i, &j| {
            let b = |k: usize| bic_of(&cands[k]).unwrap_or(f64::INFINITY);
            b(i).total_cmp(&b(j))
        });
        (best.unwrap_or(0), "bic")
    };
    let kind = cands[chosen].kind;
    if auto {
        tracing::info!(chosen = kind.as_str(), criterion, "clv model choice");
    }

    // 4. The scoring fit of the chosen model.
    if refit {
        fit_full(&mut cands[chosen]);
    }
    let candidates = auto.then(|| candidates_json(&cands, Some(kind), criterion));
    let day = score_calib.base.calibration_end_day;
    let slot = if refit { &mut cands[chosen].full_fit } else { &mut cands[chosen].cal_fit };
    let (model, report) = match slot.take() {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Ok(failed(&e, day, candidates, Some(kind))),
        None => {
            let e = ClvError::Degenerate { model: kind.as_str(), reason: "the model was not fitted".into() };
            return Ok(failed(&e, day, candidates, Some(kind)));
        }
    };
    let spend = score::fit_spend(&score_calib.cols);
    let mut warnings = Vec::new();
    if let Err(e) = &spend {
        tracing::warn!("clv spend model skipped, monetary columns null: {e}");
        warnings.push(score::spend_warning(e));
    }
    let fit = score::ClvFit { model, report, spend, base: score_calib.base };
    let spend_report = fit.spend.as_ref().ok().map(|s| &s.report);
    for (name, r) in [(fit.model.name(), Some(&fit.report)), ("gamma_gamma", spend_report)] {
        if let Some(r) = r.filter(|r| !r.converged) {
            tracing::warn!(model = name, iterations = r.iterations, "clv fit did not reach the gradient tolerance");
        }
    }
    let clv = match score::score(&score_calib.df, &score_calib.cols, &fit, p) {
        Ok(df) => df,
        Err(e) => return Ok(failed(&e, day, candidates, Some(kind))),
    };
    let (validation, vjson) = match cands[chosen].validation.take() {
        Some(Ok((df, j))) => (df, Some(j)),
        _ => (empty_validation(), None),
    };
    let model = score::model_json(&fit, vjson);
    tracing::info!(
        customers = clv.height(),
        model = fit.model.name(),
        params = ?fit.report.params,
        converged = fit.report.converged,
        "clv fitted"
    );
    Ok(ClvResult::Done { clv, validation, model, candidates, warnings })
}

/// `models/clv_candidates.json`.
fn candidates_json(cands: &[Candidate], chosen: Option<ClvModel>, criterion: &str) -> serde_json::Value {
    serde_json::json!({
        "criterion": criterion,
        "chosen": chosen.map(|k| k.as_str()),
        "candidates": cands.iter().map(|c| c.json(Some(c.kind) == chosen)).collect::<Vec<_>>(),
    })
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
