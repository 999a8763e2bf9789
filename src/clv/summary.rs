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
/// use custlens::clv::summary::{orders_frame, summary};
/// use polars::prelude::*;
/// let day = 86_400_000_000i64;
/// let orders =
///     orders_frame(["a", "a", "a", "a"], vec![0, day / 2, 3 * day, 9 * day], vec![10.0, 5.0, 15.0, 99.0]).unwrap();
/// let s = summary(orders.lazy(), 5).collect().unwrap();
/// // Day 0 (two orders, one purchase) and day 3; day 9 is after the calibration end.
/// assert_eq!(s.column("x").unwrap().i64().unwrap().get(0), Some(1));
/// assert_eq!(s.column("t_x_days").unwrap().i64().unwrap().get(0), Some(3));
/// assert_eq!(s.column("T_days").unwrap().i64().unwrap().get(0), Some(5));
/// assert_eq!(s.column("spend").unwrap().f64().unwrap().get(0), Some(15.0));
/// ```
pub fn summary(valid_orders: LazyFrame, calibration_end_day: i64) -> LazyFrame {
    per_customer_summary(
        purchase_day_values(valid_orders),
        "_day",
        calibration_end_day,
        ["first_day", "t_x_days", "T_days"],
    )
}

/// A valid-orders frame with the columns [`summary`], [`holdout_days`] and
/// [`bgbb_summary`] read — `customer_id` (as given), `created_at` (UTC Datetime, µs) and
/// `net_base` (Float64) — from plain vectors, for callers outside the pipeline (tests,
/// benchmarks, simulations). `created_at_us` is microseconds since the Unix epoch.
pub fn orders_frame<T, P: ?Sized>(
    customer_id: T,
    created_at_us: Vec<i64>,
    net_base: Vec<f64>,
) -> PolarsResult<DataFrame>
where
    Series: NamedFrom<T, P>,
{
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), customer_id),
        Int64Chunked::from_vec("created_at".into(), created_at_us)
            .into_series()
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?
            .into(),
        Float64Chunked::from_vec("net_base".into(), net_base).into_column(),
    ])
}

/// The per-customer summary shared by [`summary`] (days) and [`bgbb_summary`] (periods): over
/// rows (`customer_id`, `unit`, `_value`) — one per customer and purchase unit — with
/// `unit` ≤ `end`, per customer `first` = the first unit, `x` = units − 1, `recency` = last −
/// first unit, `age` = `end` − first unit and `spend` = the mean value of the units after the
/// first (null when x = 0, rounded to 1e-6); sorted by `customer_id`.
fn per_customer_summary(unit_values: LazyFrame, unit: &str, end: i64, [first, recency, age]: [&str; 3]) -> LazyFrame {
    unit_values
        .filter(col(unit).lt_eq(lit(end)))
        .group_by_stable([col("customer_id")])
        .agg([
            col(unit).min().alias(first),
            col(unit).max().alias("_last"),
            len().cast(DataType::Int64).alias("_n"),
            col("_value").filter(col(unit).gt(col(unit).min())).sum().alias("_repeat_total"),
        ])
        .with_columns([
            (col("_n") - lit(1i64)).alias("x"),
            (col("_last") - col(first)).alias(recency),
            (lit(end) - col(first)).alias(age),
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
        .select([col("customer_id"), col(first), col("x"), col(recency), col(age), col("spend")])
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
    holdout_units(purchase_day_values(valid_orders), "_day", calibration_end_day, end_day, "day")
}

/// (`customer_id`, `name`) of the rows of `unit_values` with `cal_end` < `unit` ≤ `end`.
fn holdout_units(unit_values: LazyFrame, unit: &str, cal_end: i64, end: i64, name: &str) -> LazyFrame {
    unit_values
        .filter(col(unit).gt(lit(cal_end)).and(col(unit).lt_eq(lit(end))))
        .select([col("customer_id"), col(unit).alias(name)])
}

/// What validation needs, from a calibration [`summary`] and [`holdout_days`]: per customer
/// (`customer_id`, `x`, `t_x_days`, `T_days`, `holdout_x` = holdout purchase days) and per day
/// (`day`, `purchases` of the calibration customers).
pub fn validation_frames(summary: LazyFrame, holdout: LazyFrame) -> (LazyFrame, LazyFrame) {
    holdout_frames(summary, ["x", "t_x_days", "T_days"], holdout, "day")
}

/// The validation frames shared by [`validation_frames`] and [`bgbb_validation_frames`]: per
/// customer (`customer_id`, the `summary_cols`, `holdout_x` = the customer's rows in `holdout`,
/// 0 when none) and per holdout unit `key` (`purchases` of the customers in `summary`).
fn holdout_frames(
    summary: LazyFrame,
    summary_cols: [&str; 3],
    holdout: LazyFrame,
    key: &str,
) -> (LazyFrame, LazyFrame) {
    let ids = summary.clone().select([col("customer_id")]);
    let mut keep = vec![col("customer_id")];
    keep.extend(summary_cols.iter().map(|c| col(*c)));
    let per_customer = summary
        .select(keep)
        .left_join(
            holdout.clone().group_by([col("customer_id")]).agg([len().cast(DataType::Int64).alias("holdout_x")]),
            col("customer_id"),
            col("customer_id"),
        )
        .with_column(col("holdout_x").fill_null(lit(0i64)))
        .sort(["customer_id"], SortMultipleOptions::default());
    let per_unit = holdout
        .join(ids, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .group_by([col(key)])
        .agg([len().cast(DataType::Int64).alias("purchases")])
        .sort([key], SortMultipleOptions::default());
    (per_customer, per_unit)
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
    per_customer_summary(
        purchase_period_values(valid_orders, period),
        "_p",
        cal_end_period,
        ["first_period", "t_x", "n"],
    )
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
    let holdout =
        holdout_units(purchase_period_values(valid_orders, period), "_p", cal_end_period, end_period, "period");
    holdout_frames(summary, ["x", "t_x", "n"], holdout, "period")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::DAY_US;

    fn orders(rows: &[(&str, f64, f64)]) -> DataFrame {
        let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let ts: Vec<i64> = rows.iter().map(|r| (r.1 * DAY_US as f64) as i64).collect();
        let v: Vec<f64> = rows.iter().map(|r| r.2).collect();
        orders_frame(ids, ts, v).unwrap()
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
