//! Per-customer calibration summaries (x, t_x, T, spend) from valid orders, and the holdout
//! purchases that validate a fit.
//!
//! ## Method
//! The standard conventions of the buy-till-you-die literature (Fader, Hardie & Lee 2005;
//! lifetimes' `summary_data_from_transaction_data` with `freq="D"`): orders are counted in whole
//! UTC days ([`crate::analytics::day_of`]) and same-day orders merge into one purchase whose value
//! is their sum; over days up to and including the calibration end day,
//! - `x` = distinct purchase days − 1 (repeat purchases);
//! - `t_x_days` = last − first purchase day; `T_days` = calibration end day − first purchase day
//!   (weeks are these divided by 7, not calendar weeks);
//! - `spend` = mean value of the repeat purchase days (the first day excluded), null when x = 0,
//!   rounded to 1e-6 currency units (so that it is the same whatever order polars adds in).

use super::params::BgbbPeriod;
use crate::analytics::day_of;
use polars::prelude::*;

/// The calibration summary of every customer whose first valid order is on or before
/// `calibration_end_day` (a UTC day number). Columns: `customer_id`, `first_day`, `x`,
/// `t_x_days`, `T_days` (Int64), `spend` (Float64, null when x = 0); sorted by `customer_id`.
///
/// Input: [`crate::analytics::valid_orders`] (`customer_id`, `created_at`, `net_base`).
///
/// ## Example
/// ```
/// use custlens::clv::summary::summary;
/// use polars::prelude::*;
/// let day = 86_400_000_000i64;
/// let ts = Series::new("created_at".into(), [0, day / 2, 3 * day, 9 * day])
///     .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let orders = DataFrame::new_infer_height(vec![
///     Column::new("customer_id".into(), ["a", "a", "a", "a"]),
///     ts.into(),
///     Column::new("net_base".into(), [10.0, 5.0, 15.0, 99.0]),
/// ]).unwrap();
/// let s = summary(orders.lazy(), 5).collect().unwrap();
/// // Day 0 (two orders, one purchase) and day 3; day 9 is after the calibration end.
/// assert_eq!(s.column("x").unwrap().i64().unwrap().get(0), Some(1));
/// assert_eq!(s.column("t_x_days").unwrap().i64().unwrap().get(0), Some(3));
/// assert_eq!(s.column("T_days").unwrap().i64().unwrap().get(0), Some(5));
/// assert_eq!(s.column("spend").unwrap().f64().unwrap().get(0), Some(15.0));
/// ```
pub fn summary(valid_orders: LazyFrame, calibration_end_day: i64) -> LazyFrame {
    purchase_day_values(valid_orders)
        .filter(col("_day").lt_eq(lit(calibration_end_day)))
        .group_by_stable([col("customer_id")])
        .agg([
            col("_day").min().alias("first_day"),
            col("_day").max().alias("_last"),
            len().cast(DataType::Int64).alias("_n"),
            col("_value").filter(col("_day").gt(col("_day").min())).sum().alias("_repeat_total"),
        ])
        .with_columns([
            (col("_n") - lit(1i64)).alias("x"),
            (col("_last") - col("first_day")).alias("t_x_days"),
            (lit(calibration_end_day) - col("first_day")).alias("T_days"),
            when(col("_n").gt(lit(1i64)))
                // Rounded to 1e-6 currency units: polars' parallel sums may differ in the last bit
                // from run to run, and the fits must be reproducible bit for bit.
                .then(
                    (col("_repeat_total") / (col("_n") - lit(1i64)).cast(DataType::Float64))
                        .round(6, RoundMode::HalfAwayFromZero),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("spend"),
        ])
        .select([col("customer_id"), col("first_day"), col("x"), col("t_x_days"), col("T_days"), col("spend")])
        .sort(["customer_id"], SortMultipleOptions::default())
}

/// One row per (customer, UTC day with a valid order): `customer_id`, `_day`, `_value` (sum of
/// `net_base` that day).
///
/// Sorted before and after the daily sums: a group-by's row order varies between runs, and a sum
/// of floats in another order differs in the last bits, which would make every fit differ too.
fn purchase_day_values(valid_orders: LazyFrame) -> LazyFrame {
    valid_orders
        .with_column(day_of(col("created_at")).alias("_day"))
        .sort(["customer_id", "created_at"], SortMultipleOptions::default().with_maintain_order(true))
        .group_by_stable([col("customer_id"), col("_day")])
        .agg([col("net_base").sum().alias("_value")])
        .sort(["customer_id", "_day"], SortMultipleOptions::default())
}

/// Purchase days after the calibration period: distinct (`customer_id`, `day`) with
/// `calibration_end_day < day ≤ end_day`.
pub fn holdout_days(valid_orders: LazyFrame, calibration_end_day: i64, end_day: i64) -> LazyFrame {
    purchase_day_values(valid_orders)
        .filter(col("_day").gt(lit(calibration_end_day)).and(col("_day").lt_eq(lit(end_day))))
        .select([col("customer_id"), col("_day").alias("day")])
}

/// What validation needs, from a calibration [`summary`] and [`holdout_days`]: per customer
/// (`customer_id`, `x`, `t_x_days`, `T_days`, `holdout_x` = holdout purchase days) and per day
/// (`day`, `purchases` of the calibration customers).
pub fn validation_frames(summary: LazyFrame, holdout: LazyFrame) -> (LazyFrame, LazyFrame) {
    let ids = summary.clone().select([col("customer_id")]);
    let per_customer = summary
        .select([col("customer_id"), col("x"), col("t_x_days"), col("T_days")])
        .left_join(
            holdout.clone().group_by([col("customer_id")]).agg([len().cast(DataType::Int64).alias("holdout_x")]),
            col("customer_id"),
            col("customer_id"),
        )
        .with_column(col("holdout_x").fill_null(lit(0i64)))
        .sort(["customer_id"], SortMultipleOptions::default());
    let daily = holdout
        .join(ids, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .group_by([col("day")])
        .agg([len().cast(DataType::Int64).alias("purchases")])
        .sort(["day"], SortMultipleOptions::default());
    (per_customer, daily)
}

/// The [`BgbbPeriod`] number of a UTC day-number expression (see [`BgbbPeriod::of_day`]).
pub fn period_of(day: Expr, period: BgbbPeriod) -> Expr {
    let date = day.cast(DataType::Int32).cast(DataType::Date);
    let months = date.clone().dt().year().cast(DataType::Int64) * lit(12i64) + date.dt().month().cast(DataType::Int64)
        - lit(1i64);
    months.floor_div(lit(period.months()))
}

/// One row per (customer, period with a valid order): `customer_id`, `_p`, `_value` (sum of
/// `net_base` in the period).
fn purchase_period_values(valid_orders: LazyFrame, period: BgbbPeriod) -> LazyFrame {
    purchase_day_values(valid_orders)
        .with_column(period_of(col("_day"), period).alias("_p"))
        .group_by_stable([col("customer_id"), col("_p")])
        .agg([col("_value").sum().alias("_value")])
        .sort(["customer_id", "_p"], SortMultipleOptions::default())
}

/// The BG/BB calibration summary (Fader, Hardie & Shang 2010) of every customer whose first
/// valid order is in a period up to `cal_end_period` (a [`BgbbPeriod`] number, normally the last
/// complete period): the first period is the acquisition, and the n = `cal_end_period` −
/// first period later periods are the purchase opportunities.
///
/// Columns: `customer_id`, `first_period`, `x` (opportunities with a purchase), `t_x` (the last
/// of them, counted from the first period; 0 when x = 0), `n`, `spend` (mean value of those
/// periods' purchases, null when x = 0, rounded to 1e-6); sorted by `customer_id`.
pub fn bgbb_summary(valid_orders: LazyFrame, period: BgbbPeriod, cal_end_period: i64) -> LazyFrame {
    purchase_period_values(valid_orders, period)
        .filter(col("_p").lt_eq(lit(cal_end_period)))
        .group_by_stable([col("customer_id")])
        .agg([
            col("_p").min().alias("first_period"),
            col("_p").max().alias("_last"),
            len().cast(DataType::Int64).alias("_n"),
            col("_value").filter(col("_p").gt(col("_p").min())).sum().alias("_repeat_total"),
        ])
        .with_columns([
            (col("_n") - lit(1i64)).alias("x"),
            (col("_last") - col("first_period")).alias("t_x"),
            (lit(cal_end_period) - col("first_period")).alias("n"),
            when(col("_n").gt(lit(1i64)))
                .then(
                    (col("_repeat_total") / (col("_n") - lit(1i64)).cast(DataType::Float64))
                        .round(6, RoundMode::HalfAwayFromZero),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("spend"),
        ])
        .select([col("customer_id"), col("first_period"), col("x"), col("t_x"), col("n"), col("spend")])
        .sort(["customer_id"], SortMultipleOptions::default())
}

/// BG/BB validation inputs from a [`bgbb_summary`]: per customer (`customer_id`, `x`, `t_x`, `n`,
/// `holdout_x` = holdout periods with a purchase, in `cal_end_period` < period ≤ `end_period`)
/// and per holdout period (`period`, `purchases` of the calibration customers).
pub fn bgbb_validation_frames(
    summary: LazyFrame,
    valid_orders: LazyFrame,
    period: BgbbPeriod,
    cal_end_period: i64,
    end_period: i64,
) -> (LazyFrame, LazyFrame) {
    let holdout = purchase_period_values(valid_orders, period)
        .filter(col("_p").gt(lit(cal_end_period)).and(col("_p").lt_eq(lit(end_period))))
        .select([col("customer_id"), col("_p").alias("period")]);
    let ids = summary.clone().select([col("customer_id")]);
    let per_customer = summary
        .select([col("customer_id"), col("x"), col("t_x"), col("n")])
        .left_join(
            holdout.clone().group_by([col("customer_id")]).agg([len().cast(DataType::Int64).alias("holdout_x")]),
            col("customer_id"),
            col("customer_id"),
        )
        .with_column(col("holdout_x").fill_null(lit(0i64)))
        .sort(["customer_id"], SortMultipleOptions::default());
    let per_period = holdout
        .join(ids, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .group_by([col("period")])
        .agg([len().cast(DataType::Int64).alias("purchases")])
        .sort(["period"], SortMultipleOptions::default());
    (per_customer, per_period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::DAY_US;

    fn orders(rows: &[(&str, f64, f64)]) -> DataFrame {
        let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let ts: Vec<i64> = rows.iter().map(|r| (r.1 * DAY_US as f64) as i64).collect();
        let v: Vec<f64> = rows.iter().map(|r| r.2).collect();
        DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ids),
            Series::new("created_at".into(), ts)
                .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
                .unwrap()
                .into(),
            Column::new("net_base".into(), v),
        ])
        .unwrap()
    }

    #[test]
    fn hand_computed_summary() {
        // a: days 1 (two orders: 10 + 20), 4 (30), 8 (50), 20 (holdout). b: one order on day 6.
        // c: first order after the calibration end: not in the summary.
        let df = orders(&[
            ("a", 1.2, 10.0),
            ("a", 1.9, 20.0),
            ("a", 4.5, 30.0),
            ("a", 8.0, 50.0),
            ("a", 20.0, 7.0),
            ("b", 6.1, 99.0),
            ("c", 11.0, 5.0),
        ]);
        let s = summary(df.clone().lazy(), 10).collect().unwrap();
        let i64s = |c: &str| s.column(c).unwrap().i64().unwrap().iter().collect::<Vec<_>>();
        assert_eq!(i64s("x"), [Some(2), Some(0)]);
        assert_eq!(i64s("t_x_days"), [Some(7), Some(0)]);
        assert_eq!(i64s("T_days"), [Some(9), Some(4)]);
        assert_eq!(i64s("first_day"), [Some(1), Some(6)]);
        let spend: Vec<Option<f64>> = s.column("spend").unwrap().f64().unwrap().iter().collect();
        assert_eq!(spend, [Some(40.0), None]);

        let (per, daily) = validation_frames(summary(df.clone().lazy(), 10), holdout_days(df.lazy(), 10, 30));
        let per = per.collect().unwrap();
        let h: Vec<Option<i64>> = per.column("holdout_x").unwrap().i64().unwrap().iter().collect();
        assert_eq!(h, [Some(1), Some(0)]);
        let daily = daily.collect().unwrap();
        // c's day-11 purchase is not a calibration customer's.
        assert_eq!(daily.height(), 1);
        assert_eq!(daily.column("day").unwrap().i64().unwrap().get(0), Some(20));
    }

    #[test]
    fn hand_computed_bgbb_summary() {
        // Months from day 0 = 1970-01-01. a: Jan (two days: 10 + 20), Feb (30), Apr (50), Jun
        // (7, holdout). b: Mar only. c: first order in May, after the calibration end (April).
        let d = |m: u32, day: u32| {
            (chrono::NaiveDate::from_ymd_opt(1970, m, day).unwrap()
                - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days() as f64
                + 0.5
        };
        let df = orders(&[
            ("a", d(1, 3), 10.0),
            ("a", d(1, 20), 20.0),
            ("a", d(2, 2), 30.0),
            ("a", d(4, 9), 50.0),
            ("a", d(6, 1), 7.0),
            ("b", d(3, 5), 99.0),
            ("c", d(5, 5), 5.0),
        ]);
        let (m, cal, end) = (BgbbPeriod::Month, 1970 * 12 + 3, 1970 * 12 + 5);
        let s = bgbb_summary(df.clone().lazy(), m, cal).collect().unwrap();
        let i64s = |c: &str| s.column(c).unwrap().i64().unwrap().iter().collect::<Vec<_>>();
        assert_eq!(i64s("x"), [Some(2), Some(0)]);
        assert_eq!(i64s("t_x"), [Some(3), Some(0)]);
        assert_eq!(i64s("n"), [Some(3), Some(1)]);
        let spend: Vec<Option<f64>> = s.column("spend").unwrap().f64().unwrap().iter().collect();
        assert_eq!(spend, [Some(40.0), None]);
        let (per, per_period) = bgbb_validation_frames(s.lazy(), df.lazy(), m, cal, end);
        let per = per.collect().unwrap();
        let h: Vec<Option<i64>> = per.column("holdout_x").unwrap().i64().unwrap().iter().collect();
        assert_eq!(h, [Some(1), Some(0)]);
        let pp = per_period.collect().unwrap();
        assert_eq!(pp.column("period").unwrap().i64().unwrap().get(0), Some(1970 * 12 + 5));
        assert_eq!(pp.height(), 1);
    }
}
