//! Analyses: pure functions from canonical LazyFrames and checked params to LazyFrames.
//!
//! Nothing here reads or writes files or calls `collect`: the pipeline does both. Dates are
//! counted in whole UTC days (`day = floor(µs / 86 400 000 000)`), so "same-day orders" and
//! recency are the same on every machine.

pub mod calendar;
pub mod features;
pub mod rfm;
pub mod segments;

use crate::schema::OrderStatus;
use polars::prelude::*;

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// Analysis-level failures.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("orders use currency `{currency}` but `[currency]` has no rate for it; add `--set currency.rates.{currency}=RATE` (units of {base} per 1 {currency})")]
    MissingRate { currency: String, base: String },
}

/// The UTC day number of a timestamp column.
pub fn day_of(c: Expr) -> Expr {
    c.cast(DataType::Int64).floor_div(lit(DAY_US))
}

/// Orders that count as purchases at `as_of_us`: paid, shipped or completed, not fully refunded
/// (`refund_amount > 0` with `net_amount <= 0`), created before `as_of_us`; plus `net_base`,
/// the net amount converted to the base currency with `rates` (currency → base units per unit).
///
/// ## Example
/// ```
/// use custlens::analytics::valid_orders;
/// use polars::prelude::*;
/// let ts = Series::new("created_at".into(), [0i64, 1]).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let df = DataFrame::new_infer_height(vec![
///     Column::new("status".into(), ["completed", "cancelled"]),
///     ts.into(),
///     Column::new("refund_amount".into(), [0.0, 0.0]),
///     Column::new("net_amount".into(), [10.0, 5.0]),
///     Column::new("currency".into(), ["USD", "USD"]),
/// ]).unwrap();
/// let out = valid_orders(df.lazy(), 10, &[("USD".into(), 1.0)]).collect().unwrap();
/// assert_eq!(out.height(), 1);
/// ```
pub fn valid_orders(orders: LazyFrame, as_of_us: i64, rates: &[(String, f64)]) -> LazyFrame {
    orders.filter(is_valid(as_of_us)).with_column((col("net_amount") * base_rate(rates)).alias("net_base"))
}

/// Whether an order counts as a purchase at `as_of_us` (the filter of [`valid_orders`]).
pub fn is_valid(as_of_us: i64) -> Expr {
    let purchase: Vec<&str> = OrderStatus::ALL.iter().filter(|s| s.is_purchase()).map(|s| s.as_str()).collect();
    let is_purchase = purchase.iter().map(|s| col("status").eq(lit(*s))).reduce(|a, b| a.or(b)).unwrap_or(lit(false));
    let fully_refunded = col("refund_amount").gt(lit(0.0)).and(col("net_amount").lt_eq(lit(0.0)));
    is_purchase.and(fully_refunded.not()).and(col("created_at").cast(DataType::Int64).lt(lit(as_of_us)))
}

/// Base-currency units per unit of the order's `currency` (null for a currency not in `rates`).
pub fn base_rate(rates: &[(String, f64)]) -> Expr {
    let mut rate = lit(NULL).cast(DataType::Float64);
    for (cur, r) in rates.iter().rev() {
        rate = when(col("currency").eq(lit(cur.as_str()))).then(lit(*r)).otherwise(rate);
    }
    rate
}
