//! The fitted stage: fit both models on a collected summary, score every customer.
//!
//! ## Method
//! Per customer, at the scoring day (the calibration end):
//! - `p_alive` and `churn_risk` = 1 − p_alive (BG/NBD), `churn_tier` from `[clv] churn_tiers`;
//! - `expected_purchases_<h>d` = E[Y(h) | x, t_x, T] for each horizon h (days);
//! - `expected_aov` = Gamma-Gamma E[Z | x, z̄] (population mean for customers without repeat
//!   spend);
//! - `clv_<h>d` = margin · expected_aov · Σ_k ΔE[Y]ₖ · (1 + d)^(−s_k/365), the expected purchases
//!   of each 30-day step s_{k−1} < s ≤ s_k (the last step ends at h) discounted at the step's end
//!   with the annual rate d;
//! - `next_purchase_date`: the first day by which P(at least one purchase) reaches 0.5
//!   ([`BgNbd::time_to_purchase_probability`], rounded up to whole days, at least the next day);
//!   null when it never does (P(alive) ≤ 0.5) or lies more than 100 years ahead.
//!
//! E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T]; the second factor depends
//! on (x, T) only, so it and its discounted sums are computed once per distinct (x, T) (in
//! parallel) and shared by every customer with that pair.
//!
//! BG/NBD's P(alive) is 1 for customers without a repeat purchase (the model lets a customer drop
//! out only right after a purchase), so one-time buyers always get churn risk 0: read it with
//! their recency.

use super::bgnbd::BgNbd;
use super::fit::{fit_bgnbd, fit_gamma_gamma, BgNbdData, FitReport, GammaGammaData};
use super::gamma_gamma::GammaGamma;
use super::params::{ClvValidParams, TimeUnit};
use super::ClvError;
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;

/// Days of one discounting step (monthly, as lifetimes' `customer_lifetime_value`).
const STEP_DAYS: f64 = 30.0;
/// Next-purchase dates further out than this are null.
const MAX_NEXT_PURCHASE_DAYS: f64 = 36_500.0;

/// A calibration summary as numbers, in the model's time unit.
#[derive(Debug, Clone, Default)]
pub struct SummaryColumns {
    pub x: Vec<f64>,
    pub t_x: Vec<f64>,
    pub t: Vec<f64>,
    /// Mean repeat spend; 0 where there is none.
    pub spend: Vec<f64>,
}

fn frame_err(e: PolarsError) -> ClvError {
    ClvError::Frame(e.to_string())
}

impl SummaryColumns {
    /// From a [`super::summary::summary`] frame (`x`, `t_x_days`, `T_days`, and `spend` if present).
    pub fn from_frame(df: &DataFrame, unit: TimeUnit) -> Result<SummaryColumns, ClvError> {
        let ints = |name: &str| -> Result<Vec<f64>, ClvError> {
            let c = df.column(name).map_err(frame_err)?.cast(&DataType::Float64).map_err(frame_err)?;
            let v: Vec<f64> = c.f64().map_err(frame_err)?.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            Ok(v)
        };
        let u = unit.days();
        let x = ints("x")?;
        let t_x = ints("t_x_days")?.into_iter().map(|v| v / u).collect();
        let t = ints("T_days")?.into_iter().map(|v| v / u).collect();
        // Validation frames carry no spend; 0 means "no repeat spend".
        let spend = match df.column("spend") {
            Ok(c) => c.f64().map_err(frame_err)?.iter().map(|v| v.filter(|s| s.is_finite()).unwrap_or(0.0)).collect(),
            Err(_) => vec![0.0; x.len()],
        };
        Ok(SummaryColumns { x, t_x, t, spend })
    }
}

/// Both fitted models and what the JSON document reports about them.
#[derive(Debug, Clone)]
pub struct ClvFit {
    pub bgnbd: BgNbd,
    pub bgnbd_report: FitReport,
    pub spend: GammaGamma,
    pub spend_report: FitReport,
    /// Pearson correlation of x and z̄ among the Gamma-Gamma customers (assumed ≈ 0).
    pub corr_frequency_spend: Option<f64>,
    pub time_unit: TimeUnit,
    /// UTC day number of the calibration end (the scoring day).
    pub calibration_end_day: i64,
}

/// Fits BG/NBD on every customer and Gamma-Gamma on the repeat buyers with positive spend.
pub fn fit(s: &SummaryColumns, unit: TimeUnit, calibration_end_day: i64) -> Result<ClvFit, ClvError> {
    let data = BgNbdData::new(&s.x, &s.t_x, &s.t)?;
    let (bgnbd, bgnbd_report) = fit_bgnbd(&data)?;
    let gg = GammaGammaData::new(&s.x, &s.spend)?;
    let (spend, spend_report) = fit_gamma_gamma(&gg)?;
    Ok(ClvFit {
        bgnbd,
        bgnbd_report,
        spend,
        spend_report,
        corr_frequency_spend: gg.corr_frequency_spend,
        time_unit: unit,
        calibration_end_day,
    })
}

/// Per distinct (x, T): E[Y(h) | alive] and its discounted step sum, for each horizon.
#[derive(Debug, Clone)]
struct PairValues {
    expected: Vec<f64>,
    discounted: Vec<f64>,
}

fn pair_values(m: &BgNbd, x: f64, t: f64, horizons_days: &[i64], unit: f64, rate: f64) -> Option<PairValues> {
    let mut expected = Vec::with_capacity(horizons_days.len());
    let mut discounted = Vec::with_capacity(horizons_days.len());
    let (mut prev_e, mut acc) = (0.0, 0.0);
    let mut next_h = 0;
    let mut k = 1.0;
    while next_h < horizons_days.len() {
        let h = horizons_days[next_h] as f64;
        let s = (k * STEP_DAYS).min(h);
        let e = m.expected_if_alive(s / unit, x, t)?;
        let disc = if rate > 0.0 { (1.0 + rate).powf(-s / 365.0) } else { 1.0 };
        acc += (e - prev_e) * disc;
        prev_e = e;
        if s >= h {
            expected.push(e);
            discounted.push(acc);
            next_h += 1;
        } else {
            k += 1.0;
        }
    }
    Some(PairValues { expected, discounted })
}

/// Scores every customer of a calibration summary; see the module docs for the columns.
pub fn score(summary: &DataFrame, s: &SummaryColumns, fit: &ClvFit, p: &ClvValidParams) -> Result<DataFrame, ClvError> {
    let m = &fit.bgnbd;
    let unit = fit.time_unit.days();
    let hs = &p.horizons_days;
    // Distinct (x, T) pairs, evaluated in parallel.
    let mut index: HashMap<(u64, u64), u32> = HashMap::new();
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let pair_of: Vec<u32> =
        s.x.iter()
            .zip(&s.t)
            .map(|(&x, &t)| {
                *index.entry((x as u64, t.to_bits())).or_insert_with(|| {
                    pairs.push((x, t));
                    (pairs.len() - 1) as u32
                })
            })
            .collect();
    let values: Vec<PairValues> = pairs
        .par_iter()
        .map(|&(x, t)| {
            pair_values(m, x, t, hs, unit, p.discount_rate_annual).ok_or_else(|| ClvError::Numerical {
                model: "bgnbd",
                what: format!("the expected purchases of customers with x = {x}, T = {t}"),
            })
        })
        .collect::<Result<_, _>>()?;
    let n = s.x.len();
    let gg = &fit.spend;
    let pop_mean = gg.population_mean().ok_or_else(|| ClvError::Degenerate {
        model: "gamma_gamma",
        reason: "q ≤ 1, so the mean spend per transaction would be infinite".into(),
    })?;
    let mut p_alive = Vec::with_capacity(n);
    let mut churn = Vec::with_capacity(n);
    let mut tier: Vec<&str> = Vec::with_capacity(n);
    let mut aov = Vec::with_capacity(n);
    let mut next: Vec<Option<i32>> = Vec::with_capacity(n);
    let mut exp_cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); hs.len()];
    let mut clv_cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); hs.len()];
    for i in 0..n {
        let (x, t_x, t) = (s.x[i], s.t_x[i], s.t[i]);
        let pa = m.p_alive(x, t_x, t);
        let spend = if x > 0.0 && s.spend[i] > 0.0 {
            gg.conditional_expected_spend(x, s.spend[i]).unwrap_or(pop_mean)
        } else {
            pop_mean
        };
        let v = &values[pair_of[i] as usize];
        for (j, (e, d)) in v.expected.iter().zip(&v.discounted).enumerate() {
            exp_cols[j].push(pa * e);
            clv_cols[j].push(p.margin * spend * pa * d);
        }
        p_alive.push(pa);
        churn.push(1.0 - pa);
        tier.push(p.churn_tier(1.0 - pa));
        aov.push(spend);
        let days = m.time_to_purchase_probability(0.5, x, t_x, t).map(|u| u * unit);
        next.push(
            days.filter(|d| *d <= MAX_NEXT_PURCHASE_DAYS)
                .map(|d| (fit.calibration_end_day + (d.ceil() as i64).max(1)) as i32),
        );
    }
    let mut cols: Vec<Column> = vec![
        summary.column("customer_id").map_err(frame_err)?.clone(),
        summary.column("x").map_err(frame_err)?.cast(&DataType::Int64).map_err(frame_err)?,
        Column::new("t_x".into(), &s.t_x),
        Column::new("T".into(), &s.t),
        Column::new("p_alive".into(), p_alive),
        Column::new("churn_risk".into(), churn),
        Column::new("churn_tier".into(), tier),
    ];
    for (h, c) in hs.iter().zip(exp_cols) {
        cols.push(Column::new(format!("expected_purchases_{h}d").into(), c));
    }
    cols.push(Column::new("expected_aov".into(), aov));
    for (h, c) in hs.iter().zip(clv_cols) {
        cols.push(Column::new(format!("clv_{h}d").into(), c));
    }
    cols.push(Series::new("next_purchase_date".into(), next).cast(&DataType::Date).map_err(frame_err)?.into());
    let df = DataFrame::new_infer_height(cols).map_err(frame_err)?;
    // Never NaN: every value above is finite by construction; check rather than trust.
    for c in df.columns() {
        if let Ok(f) = c.f64() {
            if f.iter().flatten().any(|v| !v.is_finite()) {
                return Err(ClvError::Numerical { model: "bgnbd", what: format!("column {}", c.name()) });
            }
        }
    }
    Ok(df)
}

/// A UTC day number as YYYY-MM-DD.
pub fn day_string(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0).map(|d| d.date_naive().to_string()).unwrap_or_default()
}

fn named(names: &[&str], v: &[f64]) -> serde_json::Value {
    serde_json::Value::Object(names.iter().zip(v).map(|(n, x)| (n.to_string(), serde_json::json!(x))).collect())
}

/// `out/models/clv.json`: models, parameters, standard errors, likelihoods, convergence.
pub fn model_json(fit: &ClvFit, validation: Option<serde_json::Value>) -> serde_json::Value {
    let b = &fit.bgnbd_report;
    let g = &fit.spend_report;
    let names = |r: &FitReport| r.names.clone();
    serde_json::json!({
        "model": "bgnbd",
        "time_unit": fit.time_unit.as_str(),
        "calibration_end": day_string(fit.calibration_end_day),
        "n_customers": b.n_customers,
        "params": named(&names(b), &b.params),
        "std_errors": b.std_errors.as_ref().map(|s| named(&names(b), s)),
        "log_likelihood": b.log_likelihood,
        "converged": b.converged,
        "iterations": b.iterations,
        "method": b.method,
        "distinct_rows": b.n_rows,
        "spend_model": {
            "model": "gamma_gamma",
            "n_customers": g.n_customers,
            "params": named(&names(g), &g.params),
            "std_errors": g.std_errors.as_ref().map(|s| named(&names(g), s)),
            "log_likelihood": g.log_likelihood,
            "converged": g.converged,
            "iterations": g.iterations,
            "method": g.method,
            "corr_frequency_spend": fit.corr_frequency_spend,
        },
        "validation": validation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::params::ClvParams;

    #[test]
    fn discounted_sum_without_discount_is_the_expectation() {
        let m = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let v = pair_values(&m, 3.0, 200.0, &[90, 365], 1.0, 0.0).unwrap();
        for k in 0..2 {
            assert!((v.expected[k] - v.discounted[k]).abs() < 1e-12);
        }
        assert!((v.expected[0] - m.expected_if_alive(90.0, 3.0, 200.0).unwrap()).abs() < 1e-15);
        let d = pair_values(&m, 3.0, 200.0, &[90, 365], 1.0, 0.1).unwrap();
        assert!(d.discounted[1] < v.discounted[1] && d.discounted[1] > v.discounted[1] / 1.1);
    }

    #[test]
    fn scores_a_hand_made_summary() {
        let summary = df!(
            "customer_id" => ["a", "b", "c", "d", "e", "f"],
            "x" => [0i64, 1, 4, 2, 0, 7],
            "t_x_days" => [0i64, 30, 200, 20, 0, 350],
            "T_days" => [100i64, 60, 210, 300, 5, 360],
            "spend" => [None, Some(50.0), Some(80.0), Some(20.0), None, Some(35.0)]
        )
        .unwrap();
        let p = ClvParams::new().time_unit("days").check().unwrap();
        let s = SummaryColumns::from_frame(&summary, p.time_unit).unwrap();
        let fit = ClvFit {
            bgnbd: BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 },
            bgnbd_report: dummy_report(),
            spend: GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 },
            spend_report: dummy_report(),
            corr_frequency_spend: None,
            time_unit: p.time_unit,
            calibration_end_day: 19_000,
        };
        let out = score(&summary, &s, &fit, &p).unwrap();
        assert_eq!(out.height(), 6);
        let f = |c: &str| out.column(c).unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect::<Vec<_>>();
        let pa = f("p_alive");
        assert_eq!(pa[0], 1.0);
        assert!((pa[3] - fit.bgnbd.p_alive(2.0, 20.0, 300.0)).abs() < 1e-15);
        let e = f("expected_purchases_90d");
        assert!((e[2] - fit.bgnbd.conditional_expected_purchases(90.0, 4.0, 200.0, 210.0).unwrap()).abs() < 1e-12);
        // Undiscounted-free check: CLV = margin · aov · discounted purchases ≤ aov · expected.
        let (clv, aov) = (f("clv_365d"), f("expected_aov"));
        let e365 = f("expected_purchases_365d");
        for i in 0..6 {
            assert!(clv[i] <= aov[i] * e365[i] + 1e-12 && clv[i] > 0.0);
        }
        assert_eq!(aov[0], 6.0 * 150.0 / 3.0);
        let tiers: Vec<&str> = out.column("churn_tier").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(tiers[0], "low");
        assert!(tiers[3] != "low", "d bought twice early then nothing for 280 days");
        // d is probably gone: no next-purchase date; a (alive by the model's assumption) has one.
        let next = out.column("next_purchase_date").unwrap().cast(&DataType::Int32).unwrap();
        let next: Vec<Option<i32>> = next.i32().unwrap().iter().collect();
        assert!(next[3].is_none());
        assert!(next[0].unwrap() > 19_000);
    }

    fn dummy_report() -> FitReport {
        FitReport {
            names: vec![],
            params: vec![],
            std_errors: None,
            log_likelihood: 0.0,
            converged: true,
            iterations: 0,
            method: "lbfgs",
            n_customers: 0,
            n_rows: 0,
        }
    }
}
