//! The fitted stage: fit the purchase model and Gamma-Gamma on a collected summary, score every
//! customer.
//!
//! ## Method
//! Per customer, at the scoring day (the calibration end), with the chosen purchase model
//! ([`PurchaseModel`]):
//! - `p_alive` and `churn_risk` = 1 − p_alive, `churn_tier` from `[clv] churn_tiers`;
//! - `expected_purchases_<h>d` = E[Y(h) | x, t_x, T] for each horizon h (days; BG/BB: h / mean
//!   period length opportunities, the fractional one interpolated);
//! - `expected_aov` = Gamma-Gamma E[Z | x, z̄] (population mean for customers without repeat
//!   spend);
//! - `clv_<h>d` = margin · expected_aov · Σ_k ΔE[Y]ₖ · (1 + d)^(−s_k/365), the expected purchases
//!   of each step s_{k−1} < s ≤ s_k (30 days; BG/BB: one period; the last step ends at h)
//!   discounted at the step's end with the annual rate d;
//! - `next_purchase_date`: the first day by which P(at least one purchase) reaches 0.5 (rounded
//!   up to whole days, at least the next day; BG/BB: the last day of the first period by which it
//!   does); null when it never does (P(alive) ≤ 0.5, or Pareto/NBD's chance of dying before the
//!   next purchase is too high) or lies more than 100 years ahead.
//!
//! When Gamma-Gamma cannot be fitted (every repeat buyer has the same mean spend — fixed-price
//! subscriptions, donations, a one-product shop — or fewer than two repeat buyers with a positive
//! spend), [`fit`] keeps the error in [`ClvFit::spend`] and `expected_aov` and `clv_<h>d` are null
//! (still Float64 columns); every other column is as with a spend model.
//!
//! E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T]; the second factor depends
//! on (x, T) only, so it and its discounted sums are computed once per distinct (x, T), and
//! P(alive) and the next purchase date once per distinct (x, t_x, T) (both in parallel).
//!
//! BG/NBD's P(alive) is 1 for customers without a repeat purchase (the model lets a customer drop
//! out only right after a purchase), so one-time buyers always get churn risk 0 there: read it
//! with their recency, or use MBG/NBD or Pareto/NBD, which let them be gone.
//!
//! For BG/BB the `x`, `t_x` and `T` columns are opportunity counts: purchase periods after the
//! first, the last of them, and the periods observed after the first (n).

use super::fit::{fit_gamma_gamma, FitReport, GammaGammaData};
use super::gamma_gamma::GammaGamma;
use super::model::{fit_purchase, PurchaseModel, TimeBase};
use super::params::{ClvModel, ClvValidParams, TimeUnit};
use super::ClvError;
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;

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

    /// From a [`super::summary::bgbb_summary`] frame (`x`, `t_x`, `n` in opportunities, and
    /// `spend` if present).
    pub fn from_bgbb_frame(df: &DataFrame) -> Result<SummaryColumns, ClvError> {
        let nums = |name: &str| -> Result<Vec<f64>, ClvError> {
            let c = df.column(name).map_err(frame_err)?.cast(&DataType::Float64).map_err(frame_err)?;
            Ok(c.f64().map_err(frame_err)?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        };
        let x = nums("x")?;
        let spend = match df.column("spend") {
            Ok(c) => c.f64().map_err(frame_err)?.iter().map(|v| v.filter(|s| s.is_finite()).unwrap_or(0.0)).collect(),
            Err(_) => vec![0.0; x.len()],
        };
        Ok(SummaryColumns { x, t_x: nums("t_x")?, t: nums("n")?, spend })
    }
}

/// Both fitted models and what the JSON document reports about them.
#[derive(Debug, Clone)]
pub struct ClvFit {
    pub model: PurchaseModel,
    pub report: FitReport,
    /// The spend model, or why the data cannot identify it (e.g. every repeat buyer has the same
    /// mean spend, or fewer than two have a positive spend). Without it [`score`]
    /// still writes P(alive), churn and expected purchases, and leaves the monetary columns null.
    pub spend: Result<SpendFit, ClvError>,
    pub base: TimeBase,
}

/// A fitted spend model and the correlation it assumes is near zero.
#[derive(Debug, Clone)]
pub struct SpendFit {
    pub model: GammaGamma,
    pub report: FitReport,
    /// Pearson correlation of x and z̄ among the Gamma-Gamma customers (assumed ≈ 0).
    pub corr_frequency_spend: Option<f64>,
}

/// Fits Gamma-Gamma on the repeat buyers with positive spend.
pub fn fit_spend(s: &SummaryColumns) -> Result<SpendFit, ClvError> {
    let gg = GammaGammaData::new(&s.x, &s.spend)?;
    let (model, report) = fit_gamma_gamma(&gg)?;
    Ok(SpendFit { model, report, corr_frequency_spend: gg.corr_frequency_spend })
}

/// Fits the purchase model `kind` on every customer and Gamma-Gamma on the repeat buyers with
/// positive spend. Only a purchase model that cannot be fitted is an error; a spend model that
/// cannot be is kept in [`ClvFit::spend`].
pub fn fit(s: &SummaryColumns, kind: ClvModel, base: TimeBase) -> Result<ClvFit, ClvError> {
    let (model, report) = fit_purchase(kind, &s.x, &s.t_x, &s.t)?;
    Ok(ClvFit { model, report, spend: fit_spend(s), base })
}

/// The warning a run carries (in `models/clv.json` and the manifest) when the spend model could
/// not be fitted.
pub fn spend_warning(e: &ClvError) -> String {
    format!("clv: spend model not fitted ({e}); expected_aov and clv_* are null, P(alive), churn and expected purchases are as usual")
}

/// BG/NBD with a continuous time unit: part 1's entry point.
pub fn fit_bgnbd_stage(s: &SummaryColumns, unit: TimeUnit, calibration_end_day: i64) -> Result<ClvFit, ClvError> {
    fit(s, ClvModel::Bgnbd, TimeBase { unit, period: None, calibration_end_day })
}

/// Per distinct (x, T): E[Y(h) | alive] and its discounted step sum, for each horizon.
#[derive(Debug, Clone)]
struct PairValues {
    expected: Vec<f64>,
    discounted: Vec<f64>,
}

fn pair_values(
    m: &PurchaseModel,
    x: f64,
    t: f64,
    horizons_days: &[i64],
    base: &TimeBase,
    rate: f64,
) -> Option<PairValues> {
    let (unit, step) = (base.unit_days(), base.step_days());
    let mut expected = Vec::with_capacity(horizons_days.len());
    let mut discounted = Vec::with_capacity(horizons_days.len());
    let (mut prev_e, mut acc) = (0.0, 0.0);
    let mut next_h = 0;
    let mut k = 1.0;
    while next_h < horizons_days.len() {
        let h = horizons_days[next_h] as f64;
        let s = (k * step).min(h);
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

/// Index of distinct keys in first-seen order.
fn distinct<K: std::hash::Hash + Eq + Copy>(keys: impl Iterator<Item = K>) -> (Vec<K>, Vec<u32>) {
    let mut index: HashMap<K, u32> = HashMap::new();
    let mut list = Vec::new();
    let of = keys
        .map(|k| {
            *index.entry(k).or_insert_with(|| {
                list.push(k);
                (list.len() - 1) as u32
            })
        })
        .collect();
    (list, of)
}

/// Scores every customer of a calibration summary; see the module docs for the columns.
pub fn score(summary: &DataFrame, s: &SummaryColumns, fit: &ClvFit, p: &ClvValidParams) -> Result<DataFrame, ClvError> {
    let m = &fit.model;
    let model = m.name();
    let base = &fit.base;
    let hs = &p.horizons_days;
    let numerical = |what: String| ClvError::Numerical { model, what };
    // Distinct (x, T) pairs and (x, t_x, T) triples, evaluated in parallel.
    let (pairs, pair_of) = distinct(s.x.iter().zip(&s.t).map(|(&x, &t)| (x as u64, t.to_bits())));
    let (triples, triple_of) = distinct((0..s.x.len()).map(|i| (s.x[i] as u64, s.t_x[i].to_bits(), s.t[i].to_bits())));
    let values: Vec<PairValues> = pairs
        .par_iter()
        .map(|&(x, t)| {
            let (x, t) = (x as f64, f64::from_bits(t));
            pair_values(m, x, t, hs, base, p.discount_rate_annual)
                .ok_or_else(|| numerical(format!("the expected purchases of customers with x = {x}, T = {t}")))
        })
        .collect::<Result<_, _>>()?;
    let max_t = MAX_NEXT_PURCHASE_DAYS / base.unit_days();
    let alive: Vec<(f64, Option<i32>)> = triples
        .par_iter()
        .with_min_len(64)
        .map(|&(x, t_x, t)| {
            let (x, t_x, t) = (x as f64, f64::from_bits(t_x), f64::from_bits(t));
            let pa =
                m.p_alive(x, t_x, t).ok_or_else(|| numerical(format!("P(alive) at x = {x}, t_x = {t_x}, T = {t}")))?;
            let next = m
                .time_to_purchase_probability(0.5, x, t_x, t, max_t)
                .map(|u| base.day_after(u))
                .filter(|d| (*d - base.calibration_end_day) as f64 <= MAX_NEXT_PURCHASE_DAYS)
                .map(|d| d as i32);
            Ok((pa, next))
        })
        .collect::<Result<_, ClvError>>()?;
    let n = s.x.len();
    // The spend model and its population mean; None without one (monetary columns null).
    let spend_model = match &fit.spend {
        Ok(sf) => {
            let gg = &sf.model;
            let pop_mean = gg.population_mean().ok_or_else(|| ClvError::Degenerate {
                model: "gamma_gamma",
                reason: "q ≤ 1, so the mean spend per transaction would be infinite".into(),
            })?;
            Some((gg, pop_mean))
        }
        Err(_) => None,
    };
    let mut p_alive = Vec::with_capacity(n);
    let mut churn = Vec::with_capacity(n);
    let mut tier: Vec<&str> = Vec::with_capacity(n);
    let mut aov = Vec::with_capacity(n);
    let mut next: Vec<Option<i32>> = Vec::with_capacity(n);
    let mut exp_cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); hs.len()];
    let mut clv_cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); hs.len()];
    for i in 0..n {
        let x = s.x[i];
        let (pa, next_day) = alive[triple_of[i] as usize];
        let v = &values[pair_of[i] as usize];
        for (j, e) in v.expected.iter().enumerate() {
            exp_cols[j].push(pa * e);
        }
        if let Some((gg, pop_mean)) = spend_model {
            let spend = if x > 0.0 && s.spend[i] > 0.0 {
                gg.conditional_expected_spend(x, s.spend[i]).unwrap_or(pop_mean)
            } else {
                pop_mean
            };
            for (j, d) in v.discounted.iter().enumerate() {
                clv_cols[j].push(p.margin * spend * pa * d);
            }
            aov.push(spend);
        }
        p_alive.push(pa);
        churn.push(1.0 - pa);
        tier.push(p.churn_tier(1.0 - pa));
        next.push(next_day);
    }
    // Without a spend model the monetary columns are there, Float64, all null.
    let money = |name: String, v: Vec<f64>| match spend_model {
        Some(_) => Column::new(name.into(), v),
        None => Column::full_null(name.into(), n, &DataType::Float64),
    };
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
    cols.push(money("expected_aov".into(), aov));
    for (h, c) in hs.iter().zip(clv_cols) {
        cols.push(money(format!("clv_{h}d"), c));
    }
    cols.push(Series::new("next_purchase_date".into(), next).cast(&DataType::Date).map_err(frame_err)?.into());
    let df = DataFrame::new_infer_height(cols).map_err(frame_err)?;
    // Never NaN: every value above is finite by construction; check rather than trust.
    for c in df.columns() {
        if let Ok(f) = c.f64() {
            if f.iter().flatten().any(|v| !v.is_finite()) {
                return Err(ClvError::Numerical { model, what: format!("column {}", c.name()) });
            }
        }
    }
    Ok(df)
}

/// A UTC day number as YYYY-MM-DD.
pub fn day_string(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0).map(|d| d.date_naive().to_string()).unwrap_or_default()
}

pub(crate) fn named(names: &[&str], v: &[f64]) -> serde_json::Value {
    serde_json::Value::Object(names.iter().zip(v).map(|(n, x)| (n.to_string(), serde_json::json!(x))).collect())
}

/// The fields of a fit report that every JSON output of a fit has: `params`, `std_errors`,
/// `log_likelihood`, `converged`, `iterations`, `method`, plus `extra`.
fn fit_json(r: &FitReport, extra: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "params": named(&r.names, &r.params),
        "std_errors": r.std_errors.as_ref().map(|s| named(&r.names, s)),
        "log_likelihood": r.log_likelihood,
        "converged": r.converged,
        "iterations": r.iterations,
        "method": r.method,
    });
    if let (Some(out), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
        out.extend(more);
    }
    v
}

/// A fit report as JSON: params, standard errors, log-likelihood, BIC/AIC, convergence.
pub fn report_json(r: &FitReport) -> serde_json::Value {
    let k = r.params.len() as f64;
    let n = r.n_customers.max(1) as f64;
    fit_json(
        r,
        serde_json::json!({
            "bic": k * n.ln() - 2.0 * r.log_likelihood,
            "aic": 2.0 * k - 2.0 * r.log_likelihood,
            "n_customers": r.n_customers,
            "distinct_rows": r.n_rows,
        }),
    )
}

/// `out/models/clv.json`: models, parameters, standard errors, likelihoods, convergence, and
/// `warnings` (the spend model's error when it could not be fitted; empty otherwise).
pub fn model_json(fit: &ClvFit, validation: Option<serde_json::Value>) -> serde_json::Value {
    let b = &fit.report;
    let (spend, warnings) = match &fit.spend {
        Ok(sf) => {
            let g = &sf.report;
            let spend = fit_json(
                g,
                serde_json::json!({
                    "model": "gamma_gamma",
                    "n_customers": g.n_customers,
                    "corr_frequency_spend": sf.corr_frequency_spend,
                }),
            );
            (spend, vec![])
        }
        Err(e) => (serde_json::json!({ "model": "gamma_gamma", "error": e.to_string() }), vec![spend_warning(e)]),
    };
    fit_json(
        b,
        serde_json::json!({
            "model": fit.model.name(),
            "time_unit": fit.base.unit_name(),
            "calibration_end": day_string(fit.base.calibration_end_day),
            "n_customers": b.n_customers,
            "distinct_rows": b.n_rows,
            "spend_model": spend,
            "validation": validation,
            "warnings": warnings,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::bgnbd::BgNbd;
    use crate::clv::params::ClvParams;

    const DAYS: TimeBase = TimeBase { unit: TimeUnit::Days, period: None, calibration_end_day: 19_000 };

    #[test]
    fn discounted_sum_without_discount_is_the_expectation() {
        let b = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let m = PurchaseModel::BgNbd(b);
        let v = pair_values(&m, 3.0, 200.0, &[90, 365], &DAYS, 0.0).unwrap();
        for k in 0..2 {
            assert!((v.expected[k] - v.discounted[k]).abs() < 1e-12);
        }
        assert!((v.expected[0] - b.expected_if_alive(90.0, 3.0, 200.0).unwrap()).abs() < 1e-15);
        let d = pair_values(&m, 3.0, 200.0, &[90, 365], &DAYS, 0.1).unwrap();
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
        let bg = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let fit = ClvFit {
            model: PurchaseModel::BgNbd(bg),
            report: dummy_report(),
            spend: Ok(SpendFit {
                model: GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 },
                report: dummy_report(),
                corr_frequency_spend: None,
            }),
            base: DAYS,
        };
        let out = score(&summary, &s, &fit, &p).unwrap();
        assert_eq!(out.height(), 6);
        let f = |c: &str| out.column(c).unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect::<Vec<_>>();
        let pa = f("p_alive");
        assert_eq!(pa[0], 1.0);
        assert!((pa[3] - bg.p_alive(2.0, 20.0, 300.0)).abs() < 1e-15);
        let e = f("expected_purchases_90d");
        assert!((e[2] - bg.conditional_expected_purchases(90.0, 4.0, 200.0, 210.0).unwrap()).abs() < 1e-12);
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

    /// A simulated BG/NBD + Gamma-Gamma summary (weeks), its columns and the default params.
    fn simulated(n: usize, seed: u64) -> (DataFrame, SummaryColumns, ClvValidParams) {
        let bg = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let gg = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
        let sim = crate::clv::simulate::simulate(n, seed, 730, &bg, &gg, false).unwrap();
        let p = ClvParams::new().check().unwrap();
        let s = SummaryColumns::from_frame(&sim.summary, p.time_unit).unwrap();
        (sim.summary, s, p)
    }

    const WEEKS: TimeBase = TimeBase { unit: TimeUnit::Weeks, period: None, calibration_end_day: 19_000 };
    const MONEY: [&str; 3] = ["expected_aov", "clv_90d", "clv_365d"];

    /// `without`'s scores equal `with`'s except the monetary columns, which are all null Float64.
    fn same_but_money(with: &DataFrame, without: &DataFrame) {
        assert_eq!(with.schema(), without.schema(), "same columns and dtypes");
        for c in with.columns() {
            let other = without.column(c.name()).unwrap();
            if MONEY.contains(&c.name().as_str()) {
                assert_eq!(c.null_count(), 0, "{}", c.name());
                assert_eq!(other.null_count(), without.height(), "{} not all null", c.name());
            } else {
                assert!(c.equals_missing(other), "{} differs", c.name());
            }
        }
        let pa = without.column("p_alive").unwrap().f64().unwrap();
        assert_eq!(pa.null_count(), 0);
        assert!(pa.iter().flatten().all(|v| (0.0..=1.0).contains(&v)));
        assert_eq!(without.column("churn_tier").unwrap().null_count(), 0);
    }

    #[test]
    fn constant_spend_keeps_the_purchase_model_and_nulls_the_money() {
        let (summary, varied, p) = simulated(2000, 11);
        // Every repeat buyer spends the same (a fixed-price subscription).
        let mut constant = varied.clone();
        for v in constant.spend.iter_mut().filter(|v| **v > 0.0) {
            *v = 25.0;
        }
        assert!(constant.spend.iter().filter(|v| **v > 0.0).count() > 100);
        let with = fit(&varied, ClvModel::Bgnbd, WEEKS).unwrap();
        let without = fit(&constant, ClvModel::Bgnbd, WEEKS).unwrap();
        assert!(with.spend.is_ok());
        let e = without.spend.as_ref().unwrap_err().to_string();
        assert!(e.contains("gamma_gamma") && e.contains("same mean spend"), "{e}");
        // The purchase model does not look at spend: the same fit, bit for bit.
        assert_eq!(with.model, without.model);
        assert_eq!(with.report.params, without.report.params);
        let a = score(&summary, &varied, &with, &p).unwrap();
        let b = score(&summary, &constant, &without, &p).unwrap();
        same_but_money(&a, &b);

        let j = model_json(&without, None);
        assert_eq!(j["model"], "bgnbd");
        for k in ["r", "alpha", "a", "b"] {
            assert!(j["params"][k].as_f64().unwrap() > 0.0, "{k}");
        }
        assert_eq!(j["spend_model"]["model"], "gamma_gamma");
        assert_eq!(j["spend_model"]["error"], e.as_str());
        let w = j["warnings"].as_array().unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].as_str().unwrap().contains(&e), "{w:?}");
        assert_eq!(model_json(&with, None)["warnings"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn too_few_repeat_buyers_keep_the_purchase_model_and_null_the_money() {
        let (summary, varied, p) = simulated(2000, 12);
        // One repeat buyer with a positive spend: Gamma-Gamma needs two.
        let mut one = varied.clone();
        let first = one.spend.iter().position(|v| *v > 0.0).unwrap();
        for (i, v) in one.spend.iter_mut().enumerate() {
            if i != first {
                *v = 0.0;
            }
        }
        let with = fit(&varied, ClvModel::Bgnbd, WEEKS).unwrap();
        let without = fit(&one, ClvModel::Bgnbd, WEEKS).unwrap();
        let e = without.spend.as_ref().unwrap_err().to_string();
        assert!(e.contains("gamma_gamma") && e.contains("1 repeat buyer(s)"), "{e}");
        assert_eq!(with.model, without.model);
        let a = score(&summary, &varied, &with, &p).unwrap();
        let b = score(&summary, &one, &without, &p).unwrap();
        same_but_money(&a, &b);

        // A small shop where one customer of 300 came back: BG/NBD still fits, Gamma-Gamma cannot.
        let n = 300;
        let summary = df!(
            "customer_id" => (0..n).map(|i| format!("c{i:03}")).collect::<Vec<_>>(),
            "x" => (0..n).map(|i| if i == 0 { 3i64 } else { 0 }).collect::<Vec<_>>(),
            "t_x_days" => (0..n).map(|i| if i == 0 { 140i64 } else { 0 }).collect::<Vec<_>>(),
            "T_days" => (0..n).map(|i| 200 + (i % 70) as i64).collect::<Vec<_>>(),
            "spend" => (0..n).map(|i| (i == 0).then_some(30.0)).collect::<Vec<_>>()
        )
        .unwrap();
        let s = SummaryColumns::from_frame(&summary, p.time_unit).unwrap();
        let f = fit(&s, ClvModel::Bgnbd, WEEKS).unwrap();
        let e = f.spend.as_ref().unwrap_err().to_string();
        assert!(e.contains("1 repeat buyer(s)"), "{e}");
        let out = score(&summary, &s, &f, &p).unwrap();
        assert_eq!(out.get_column_names(), a.get_column_names());
        assert_eq!(out.height(), n);
        let pa = out.column("p_alive").unwrap().f64().unwrap();
        assert_eq!(pa.null_count(), 0);
        assert!(pa.iter().flatten().all(|v| (0.0..=1.0).contains(&v)));
        assert!(out.column("expected_purchases_365d").unwrap().f64().unwrap().iter().all(|v| v.unwrap() >= 0.0));
        for c in MONEY {
            assert_eq!(out.column(c).unwrap().dtype(), &DataType::Float64, "{c}");
            assert_eq!(out.column(c).unwrap().null_count(), n, "{c}");
        }
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
