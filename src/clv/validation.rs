//! Holdout validation of a calibration fit, as in Fader, Hardie & Lee (2005), figures 3 and 4
//! (and Fader, Hardie & Shang 2010, figures 5–6, for BG/BB).
//!
//! ## Method
//! Customers first seen by the calibration end are followed through the holdout period
//! (calibration end, end]; their purchases there are distinct purchase days (BG/BB: distinct
//! periods with a purchase), as in the calibration summary. The model predicts
//! E[Y(t) | x, t_x, T] for each. For BG/BB the tracking rows are holdout periods instead of weeks.
//!
//! `out/clv_validation.parquet` has one row per:
//! - `section = "frequency"`: calibration frequency bin `key` = x (0–6, 7 = "7+"): `customers`,
//!   `actual` and `predicted` **mean** holdout purchases per customer, `abs_error`;
//! - `section = "tracking"`: holdout week `key` = 1, 2, … (the last week may be partial; BG/BB:
//!   holdout period; `label` is its last day): `actual` and `predicted` **cumulative** purchases
//!   of the cohort;
//! - `section = "mae"`: `label` `frequency` (customer-weighted mean absolute error over the bins)
//!   and `tracking` (mean over weeks), in `abs_error`.

use super::fit::FitReport;
use super::model::{PurchaseModel, TimeBase};
use super::score::{day_string, named, SummaryColumns};
use super::ClvError;
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;

fn frame_err(e: PolarsError) -> ClvError {
    ClvError::Frame(e.to_string())
}

struct Row {
    section: &'static str,
    key: i64,
    label: String,
    customers: i64,
    actual: Option<f64>,
    predicted: Option<f64>,
    abs_error: f64,
}

/// Validates `model` (fitted on the calibration summary `per_customer`) against the holdout.
///
/// `per_customer` and `daily` come from [`super::summary::validation_frames`] (BG/BB:
/// [`super::summary::bgbb_validation_frames`], whose second frame has `period` instead of
/// `day`); `end_day` is the last holdout day (BG/BB: the last day of a period). Returns the table
/// and the JSON block for `models/clv.json`.
pub fn validate(
    per_customer: &DataFrame,
    daily: &DataFrame,
    model: &PurchaseModel,
    report: &FitReport,
    base: &TimeBase,
    end_day: i64,
) -> Result<(DataFrame, serde_json::Value), ClvError> {
    let cal_end = base.calibration_end_day;
    let holdout_days = end_day - cal_end;
    if holdout_days < 1 {
        return Err(ClvError::Frame(format!("the holdout period after {} is empty", day_string(cal_end))));
    }
    let s = match base.period {
        Some(_) => SummaryColumns::from_bgbb_frame(per_customer)?,
        None => SummaryColumns::from_frame(per_customer, base.unit)?,
    };
    let name = model.name();
    let actual: Vec<i64> = per_customer
        .column("holdout_x")
        .map_err(frame_err)?
        .i64()
        .map_err(frame_err)?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    // The tracking grid: (model time, last day) per holdout week, or per period for BG/BB.
    let grid: Vec<(f64, i64)> = match base.period {
        Some(p) => {
            let first = p.of_day(cal_end);
            (1..=p.of_day(end_day) - first).map(|k| (k as f64, p.last_day(first + k))).collect()
        }
        None => {
            let unit = base.unit.days();
            (1..=(holdout_days + 6) / 7)
                .map(|w| ((7 * w).min(holdout_days) as f64 / unit, cal_end + (7 * w).min(holdout_days)))
                .collect()
        }
    };
    let times: Vec<f64> = grid.iter().map(|g| g.0).collect();
    let numerical = |what: &str| ClvError::Numerical { model: name, what: what.into() };
    let mut index: HashMap<(u64, u64), usize> = HashMap::new();
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let mut alive_sum: Vec<f64> = Vec::new();
    let mut pair_of = Vec::with_capacity(s.x.len());
    let mut p_alive = Vec::with_capacity(s.x.len());
    for i in 0..s.x.len() {
        let j = *index.entry((s.x[i] as u64, s.t[i].to_bits())).or_insert_with(|| {
            pairs.push((s.x[i], s.t[i]));
            alive_sum.push(0.0);
            pairs.len() - 1
        });
        let pa = model.p_alive(s.x[i], s.t_x[i], s.t[i]).ok_or_else(|| numerical("P(alive) in the validation"))?;
        alive_sum[j] += pa;
        pair_of.push(j);
        p_alive.push(pa);
    }
    let curves: Vec<Vec<f64>> = pairs
        .par_iter()
        .map(|&(x, t)| times.iter().map(|&u| model.expected_if_alive(u, x, t)).collect::<Option<Vec<f64>>>())
        .collect::<Option<_>>()
        .ok_or_else(|| numerical("holdout predictions"))?;
    let mut rows: Vec<Row> = Vec::new();
    // Frequency bins.
    let mut bins = [(0i64, 0.0f64, 0.0f64); 8];
    for i in 0..s.x.len() {
        let b = (s.x[i] as usize).min(7);
        let pred = p_alive[i] * curves[pair_of[i]].last().copied().unwrap_or(0.0);
        bins[b].0 += 1;
        bins[b].1 += actual[i] as f64;
        bins[b].2 += pred;
    }
    let (mut mae_f, mut n_f) = (0.0, 0i64);
    for (k, (n, a, p)) in bins.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let (a, p) = (a / *n as f64, p / *n as f64);
        mae_f += (a - p).abs() * *n as f64;
        n_f += n;
        let label = if k == 7 { "7+".to_string() } else { k.to_string() };
        rows.push(Row {
            section: "frequency",
            key: k as i64,
            label,
            customers: *n,
            actual: Some(a),
            predicted: Some(p),
            abs_error: (a - p).abs(),
        });
    }
    let mae_f = if n_f > 0 { mae_f / n_f as f64 } else { 0.0 };
    // Weekly cumulative tracking.
    let mut per_day: Vec<(i64, i64)> = Vec::new();
    let key = if base.period.is_some() { "period" } else { "day" };
    let days = daily.column(key).map_err(frame_err)?.i64().map_err(frame_err)?.clone();
    let counts = daily.column("purchases").map_err(frame_err)?.i64().map_err(frame_err)?.clone();
    for (d, c) in days.iter().zip(counts.iter()) {
        if let (Some(d), Some(c)) = (d, c) {
            // A BG/BB period counts on its last day.
            per_day.push((base.period.map_or(d, |p| p.last_day(d)), c));
        }
    }
    let cohort = s.x.len() as i64;
    let (mut mae_t, mut cum) = (0.0, 0i64);
    for (w, &(_, last)) in grid.iter().enumerate() {
        let first = if w == 0 { cal_end } else { grid[w - 1].1 };
        cum += per_day.iter().filter(|(d, _)| *d > first && *d <= last).map(|(_, c)| c).sum::<i64>();
        let pred: f64 = curves.iter().zip(&alive_sum).map(|(c, a)| c[w] * a).sum();
        let err = (cum as f64 - pred).abs();
        mae_t += err;
        rows.push(Row {
            section: "tracking",
            key: w as i64 + 1,
            label: day_string(last),
            customers: cohort,
            actual: Some(cum as f64),
            predicted: Some(pred),
            abs_error: err,
        });
    }
    let mae_t = if times.is_empty() { 0.0 } else { mae_t / times.len() as f64 };
    for (k, (label, v)) in [("frequency", mae_f), ("tracking", mae_t)].into_iter().enumerate() {
        rows.push(Row {
            section: "mae",
            key: k as i64,
            label: label.into(),
            customers: cohort,
            actual: None,
            predicted: None,
            abs_error: v,
        });
    }
    let total_actual: i64 = actual.iter().sum();
    let total_pred: f64 = curves.iter().zip(&alive_sum).map(|(c, a)| c.last().copied().unwrap_or(0.0) * a).sum();
    let df = DataFrame::new_infer_height(vec![
        Column::new("section".into(), rows.iter().map(|r| r.section).collect::<Vec<_>>()),
        Column::new("key".into(), rows.iter().map(|r| r.key).collect::<Vec<_>>()),
        Column::new("label".into(), rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>()),
        Column::new("customers".into(), rows.iter().map(|r| r.customers).collect::<Vec<_>>()),
        Column::new("actual".into(), rows.iter().map(|r| r.actual).collect::<Vec<_>>()),
        Column::new("predicted".into(), rows.iter().map(|r| r.predicted).collect::<Vec<_>>()),
        Column::new("abs_error".into(), rows.iter().map(|r| r.abs_error).collect::<Vec<_>>()),
    ])
    .map_err(frame_err)?;
    let json = serde_json::json!({
        "calibration_end": day_string(cal_end),
        "holdout_end": day_string(end_day),
        "holdout_days": holdout_days,
        "customers": cohort,
        "actual_purchases": total_actual,
        "predicted_purchases": total_pred,
        "mae_frequency_bins": mae_f,
        "mae_tracking": mae_t,
        "calibration_fit": {
            "model": name,
            "params": named(&report.names, &report.params),
            "log_likelihood": report.log_likelihood,
            "converged": report.converged,
        },
    });
    Ok((df, json))
}
