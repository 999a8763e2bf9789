//! Per-customer purchase features.
//!
//! ## Method
//! Over valid orders (see [`super::valid_orders`]) grouped by `customer_id`:
//! `first_order_at`/`last_order_at` (min/max `created_at`), `orders` (count), `purchase_days`
//! (distinct UTC days with an order: same-day orders are one purchase), `frequency` =
//! `purchase_days − 1` (repeat purchases), `recency_days` = as-of day − last purchase day,
//! `tenure_days` = as-of day − first purchase day, `monetary_total` = sum of `net_base`,
//! `monetary_avg` = `monetary_total / orders`, `mean_days_between` = (last − first purchase day)
//! / `frequency` (null for one-time buyers).
//!
//! ## Parameters
//! `as_of_us`: the analysis instant in µs (UTC); its day is the reference day. Days are those of
//! the run's [`Calendar`] (local days of `[analysis] timezone`; [`customer_features`] uses UTC).

use super::calendar::Calendar;
use polars::prelude::*;

/// Features of every customer with at least one valid order, sorted by `customer_id`.
///
/// ## Example
/// ```
/// use custlens::analytics::features::customer_features;
/// use polars::prelude::*;
/// let day = 86_400_000_000i64;
/// let ts = Series::new("created_at".into(), [0, day / 2, 3 * day]).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let orders = DataFrame::new_infer_height(vec![
///     Column::new("customer_id".into(), ["a", "a", "a"]),
///     ts.into(),
///     Column::new("net_base".into(), [10.0, 5.0, 15.0]),
/// ]).unwrap();
/// let f = customer_features(orders.lazy(), 10 * day).collect().unwrap();
/// assert_eq!(f.column("purchase_days").unwrap().i64().unwrap().get(0), Some(2));
/// assert_eq!(f.column("recency_days").unwrap().i64().unwrap().get(0), Some(7));
/// ```
pub fn customer_features(valid_orders: LazyFrame, as_of_us: i64) -> LazyFrame {
    customer_features_in(valid_orders, as_of_us, &Calendar::utc())
}

/// [`customer_features`] with days counted in `cal`'s time zone: purchase days, recency and
/// tenure are local days (an order at 23:30 UTC is on the next day in Shanghai).
pub fn customer_features_in(valid_orders: LazyFrame, as_of_us: i64, cal: &Calendar) -> LazyFrame {
    let as_of_day = cal.day_of(as_of_us);
    valid_orders
        .with_column(cal.day(col("created_at")).alias("_day"))
        .group_by([col("customer_id")])
        .agg([
            col("created_at").min().alias("first_order_at"),
            col("created_at").max().alias("last_order_at"),
            len().cast(DataType::Int64).alias("orders"),
            col("_day").n_unique().alias("purchase_days"),
            col("_day").min().alias("_first_day"),
            col("_day").max().alias("_last_day"),
            col("net_base").sum().alias("monetary_total"),
        ])
        .with_columns([
            (col("purchase_days").cast(DataType::Int64) - lit(1i64)).alias("frequency"),
            (lit(as_of_day) - col("_last_day")).alias("recency_days"),
            (lit(as_of_day) - col("_first_day")).alias("tenure_days"),
            (col("monetary_total") / col("orders").cast(DataType::Float64)).alias("monetary_avg"),
        ])
        .with_column(
            when(col("frequency").gt(lit(0i64)))
                .then(
                    (col("_last_day") - col("_first_day")).cast(DataType::Float64)
                        / col("frequency").cast(DataType::Float64),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("mean_days_between"),
        )
        .select([
            col("customer_id"),
            col("first_order_at"),
            col("last_order_at"),
            col("orders"),
            col("purchase_days").cast(DataType::Int64),
            col("frequency"),
            col("recency_days"),
            col("tenure_days"),
            col("monetary_total"),
            col("monetary_avg"),
            col("mean_days_between"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::DAY_US;

    fn ts(days: &[f64]) -> Column {
        let v: Vec<i64> = days.iter().map(|d| (d * DAY_US as f64) as i64).collect();
        Series::new("created_at".into(), v)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
            .unwrap()
            .into()
    }

    #[test]
    fn hand_computed_features() {
        // a: days 0.1, 0.9 (same day), 4.5, 10.2 -> 3 purchase days; b: one order on day 7.
        let orders = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ["a", "a", "a", "a", "b"]),
            ts(&[0.1, 0.9, 4.5, 10.2, 7.0]),
            Column::new("net_base".into(), [10.0, 20.0, 30.0, 40.0, 99.0]),
        ])
        .unwrap();
        let f = customer_features(orders.lazy(), 12 * DAY_US + 5).collect().unwrap();
        let i64s = |c: &str| f.column(c).unwrap().i64().unwrap().iter().collect::<Vec<_>>();
        let f64s = |c: &str| f.column(c).unwrap().f64().unwrap().iter().collect::<Vec<_>>();
        assert_eq!(i64s("orders"), vec![Some(4), Some(1)]);
        assert_eq!(i64s("purchase_days"), vec![Some(3), Some(1)]);
        assert_eq!(i64s("frequency"), vec![Some(2), Some(0)]);
        assert_eq!(i64s("recency_days"), vec![Some(2), Some(5)]);
        assert_eq!(i64s("tenure_days"), vec![Some(12), Some(5)]);
        assert_eq!(f64s("monetary_total"), vec![Some(100.0), Some(99.0)]);
        assert_eq!(f64s("monetary_avg"), vec![Some(25.0), Some(99.0)]);
        assert_eq!(f64s("mean_days_between"), vec![Some(5.0), None]);
    }

    #[test]
    fn features_move_with_the_time_zone() {
        // 2024-01-31 23:30 UTC and 2024-02-01 10:00 UTC: two UTC days, one Shanghai day
        // (1 February, 07:30 and 18:00 local). as_of = 2024-02-10 00:00 in each zone.
        let t1 = 19_753 * DAY_US + 23 * 3_600_000_000 + 1_800_000_000;
        let t2 = 19_754 * DAY_US + 10 * 3_600_000_000;
        let cust = ["a", "a"];
        let orders = crate::clv::summary::orders_frame(cust, vec![t1, t2], vec![10.0, 5.0]).unwrap();
        let sh = Calendar::new("Asia/Shanghai").unwrap();
        let feb10 = 19_763;
        let get = |cal: &Calendar, as_of: i64| {
            let f = customer_features_in(orders.clone().lazy(), as_of, cal).collect().unwrap();
            let g = |c: &str| f.column(c).unwrap().i64().unwrap().get(0).unwrap();
            (g("purchase_days"), g("frequency"), g("recency_days"), g("tenure_days"))
        };
        assert_eq!(get(&Calendar::utc(), feb10 * DAY_US), (2, 1, 9, 10));
        assert_eq!(get(&sh, sh.midnight(feb10)), (1, 0, 9, 9));
    }
}
