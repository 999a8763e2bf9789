//! Lifecycle stage per customer: new, active, at risk, dormant, lost.
//!
//! ## Method
//! A customer is judged against their own purchase rhythm. *Cadence* = the customer's mean days
//! between purchase days (`mean_days_between`, repeat buyers), else the *typical* cadence (the
//! median of `mean_days_between` over all repeat buyers) for one-time buyers, else
//! `fallback_cadence_days` when nobody bought twice; never below `min_cadence_days`.
//! `recency_ratio = recency_days / cadence`. Rules, first match wins (defaults in brackets):
//!
//! 1. `new`: first purchase at most `new_days` [30] days before `as_of` (`tenure_days ≤ new_days`);
//! 2. `lost`: p_alive (from the CLV stage, when given) below `lost_p_alive` [0.1];
//! 3. `active`: `recency_ratio ≤ at_risk_ratio` [1.5] and p_alive (if any) ≥ `at_risk_p_alive` [0.5];
//! 4. `at_risk`: `recency_ratio ≤ dormant_ratio` [3];
//! 5. `dormant`: `recency_ratio ≤ lost_ratio` [6];
//! 6. `lost` otherwise.
//!
//! So a weekly buyer silent for 3 weeks is at risk while a twice-a-year buyer silent for 3 months is
//! active; p_alive (BG/NBD, Fader, Hardie & Lee 2005) sharpens the judgement where the model is
//! confident a customer has churned. Customers without a valid order have no stage (they are not in
//! the output; the segments table shows null).

use super::params::LifecycleValidParams;
use polars::prelude::*;

/// The stage names, in order.
pub const STAGES: [&str; 5] = ["new", "active", "at_risk", "dormant", "lost"];

/// Lifecycle stage of every customer in `features` ([`crate::analytics::features::customer_features`]:
/// needs `customer_id`, `recency_days`, `tenure_days`, `mean_days_between`).
///
/// `clv`: optional per-customer frame with `customer_id` and the p_alive column
/// (`p_alive_column`); customers missing from it, or with NaN, are judged by recency alone.
///
/// Output: `customer_id`, `recency_days`, `cadence_days`, `cadence_source` (`own` | `typical` |
/// `fallback`), `recency_ratio`, `p_alive` (f64, null without CLV), `lifecycle_stage`, sorted by `customer_id`.
///
/// ## Example
/// ```
/// use custlens::cluster::{lifecycle::lifecycle, params::LifecycleParams};
/// use polars::prelude::*;
/// let f = df!("customer_id" => ["a", "b"], "recency_days" => [20i64, 200], "tenure_days" => [400i64, 400],
///             "mean_days_between" => [Some(30.0), None]).unwrap();
/// let out = lifecycle(f.lazy(), None, &LifecycleParams::new().check().unwrap()).collect().unwrap();
/// let s: Vec<_> = out.column("lifecycle_stage").unwrap().str().unwrap().iter().flatten().collect();
/// // b's cadence is the typical one, 30 days: 200 / 30 = 6.7 > 6.
/// assert_eq!(s, ["active", "lost"]);
/// ```
pub fn lifecycle(features: LazyFrame, clv: Option<LazyFrame>, p: &LifecycleValidParams) -> LazyFrame {
    let c = &p.0;
    let mut lf = features.select([
        col("customer_id"),
        col("recency_days"),
        col("tenure_days"),
        col("mean_days_between").cast(DataType::Float64),
    ]);
    lf = match clv {
        Some(clv) => {
            let pa = col(c.p_alive_column.as_str()).cast(DataType::Float64);
            lf.left_join(
                clv.select([
                    col("customer_id"),
                    when(pa.clone().is_nan()).then(lit(NULL).cast(DataType::Float64)).otherwise(pa).alias("p_alive"),
                ]),
                col("customer_id"),
                col("customer_id"),
            )
        }
        None => lf.with_column(lit(NULL).cast(DataType::Float64).alias("p_alive")),
    };
    let typical = col("mean_days_between").median();
    let cadence = when(col("mean_days_between").is_not_null())
        .then(col("mean_days_between"))
        .when(typical.clone().is_not_null())
        .then(typical.clone())
        .otherwise(lit(c.fallback_cadence_days));
    let source = when(col("mean_days_between").is_not_null())
        .then(lit("own"))
        .when(typical.is_not_null())
        .then(lit("typical"))
        .otherwise(lit("fallback"));
    let ratio = col("recency_ratio");
    let stage = when(col("tenure_days").lt_eq(lit(c.new_days)))
        .then(lit("new"))
        .when(col("p_alive").lt(lit(c.lost_p_alive)).fill_null(lit(false)))
        .then(lit("lost"))
        .when(
            ratio
                .clone()
                .lt_eq(lit(c.at_risk_ratio))
                .and(col("p_alive").gt_eq(lit(c.at_risk_p_alive)).fill_null(lit(true))),
        )
        .then(lit("active"))
        .when(ratio.clone().lt_eq(lit(c.dormant_ratio)))
        .then(lit("at_risk"))
        .when(ratio.lt_eq(lit(c.lost_ratio)))
        .then(lit("dormant"))
        .otherwise(lit("lost"));
    lf.with_columns([cadence.clip_min(lit(c.min_cadence_days)).alias("cadence_days"), source.alias("cadence_source")])
        .with_column((col("recency_days").cast(DataType::Float64) / col("cadence_days")).alias("recency_ratio"))
        .with_column(stage.alias("lifecycle_stage"))
        .select([
            col("customer_id"),
            col("recency_days"),
            col("cadence_days"),
            col("cadence_source"),
            col("recency_ratio"),
            col("p_alive"),
            col("lifecycle_stage"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::params::LifecycleParams;

    /// One customer per stage with the default thresholds; typical cadence = median(20, 20, 60, 100, 1) = 20.
    fn customers() -> DataFrame {
        df!(
            // id:               new   active  at_risk dormant lost   one-time(typical 20) weekly-ish(min cadence)
            "customer_id" =>       ["a", "b", "c", "d", "e", "f", "g"],
            "recency_days" =>      [5i64, 25, 40, 200, 700, 100, 10],
            "tenure_days" =>       [20i64, 300, 300, 600, 900, 100, 300],
            "mean_days_between" => [None, Some(20.0), Some(20.0), Some(60.0), Some(100.0), None, Some(1.0)],
        )
        .unwrap()
    }

    fn stages(df: &DataFrame) -> Vec<String> {
        df.column("lifecycle_stage").unwrap().str().unwrap().iter().map(|s| s.unwrap().to_string()).collect()
    }

    #[test]
    fn each_stage_from_recency_and_cadence() {
        let out = lifecycle(customers().lazy(), None, &LifecycleParams::new().check().unwrap()).collect().unwrap();
        // b: 25/20 = 1.25 ≤ 1.5 active; c: 40/20 = 2 at risk; d: 200/60 = 3.3 dormant; e: 700/100 = 7 lost;
        // f: 100/20 = 5 dormant (typical cadence); g: cadence max(1, 7) = 7, 10/7 = 1.43 active.
        assert_eq!(stages(&out), ["new", "active", "at_risk", "dormant", "lost", "dormant", "active"]);
        let src: Vec<&str> = out.column("cadence_source").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(src, ["typical", "own", "own", "own", "own", "typical", "own"]);
        let cad: Vec<f64> = out.column("cadence_days").unwrap().f64().unwrap().iter().flatten().collect();
        assert_eq!(cad, [20.0, 20.0, 20.0, 60.0, 100.0, 20.0, 7.0]);
    }

    #[test]
    fn p_alive_demotes_active_and_marks_lost() {
        let clv = df!("customer_id" => ["a", "b", "c", "g"], "p_alive" => [0.01, 0.3, 0.05, f64::NAN]).unwrap();
        let out = lifecycle(customers().lazy(), Some(clv.lazy()), &LifecycleParams::new().check().unwrap())
            .collect()
            .unwrap();
        // a stays new whatever p_alive; b active -> at_risk (0.3 < 0.5); c lost (0.05 < 0.1);
        // g's NaN counts as missing: active by recency.
        assert_eq!(stages(&out), ["new", "at_risk", "lost", "dormant", "lost", "dormant", "active"]);
        assert_eq!(out.column("p_alive").unwrap().f64().unwrap().get(6), None);
    }

    #[test]
    fn nobody_repeats_uses_the_fallback_cadence() {
        let f = df!("customer_id" => ["a"], "recency_days" => [100i64], "tenure_days" => [100i64],
            "mean_days_between" => [None::<f64>])
        .unwrap();
        let out = lifecycle(f.lazy(), None, &LifecycleParams::new().check().unwrap()).collect().unwrap();
        // 100 / 90 = 1.11 -> active
        assert_eq!(stages(&out), ["active"]);
        assert_eq!(out.column("cadence_source").unwrap().str().unwrap().get(0), Some("fallback"));
    }
}
