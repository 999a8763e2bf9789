//! Business tables: how the business moves, period by period, on the run's calendar.
//!
//! ## Method
//! Every table is a pure function of one *order frame* ([`order_frame`]): each order created
//! before `as_of` (any status) with its local day ([`crate::analytics::calendar`]), whether it is
//! valid as `customer_features` defines it ([`crate::analytics::is_valid`]), and its amounts in
//! the base currency:
//! - `net` — net amount (gross − discount − refund) of a valid order, else 0: *revenue*;
//! - `gross` — gross amount of any order: *GMV*; of valid orders only: *paid revenue*;
//! - `refund` — refund amount of any order: *refunded amount*;
//! - `units` — quantity of a valid order's lines (line amounts are not read).
//!
//! A customer's *first order* is their earliest valid order (ties by `order_id`): its day, channel
//! and store. Tables: [`trends::trends`] (per grain, period, channel, store), [`cohorts::cohorts`]
//! (per acquisition month and months since), [`kpis`] (the latest complete month and the last
//! 30 days, against the period before and a year earlier). Periods: [`periods`].
//!
//! Nothing here collects; `pipeline/business.rs` does.

pub mod cohorts;
pub mod kpis;
pub mod params;
pub mod periods;
pub mod trends;

pub use params::{BusinessConfig, BusinessParams, BusinessParamsError, BusinessValidParams, CohortBy, Grain};

use crate::analytics::{base_rate, calendar::Calendar, is_valid};
use polars::prelude::*;

/// The store key of orders without a store, in rows split by store.
pub const NO_STORE: &str = "(none)";

/// The order frame every business table reads: one row per order created before `as_of_us`, with
/// `order_id`, `customer_id`, `channel`, `store` (`(none)` when missing), `created_at`, `day`
/// (local day number, Int64), `valid` (Boolean), `net`, `gross`, `refund` (Float64, base currency;
/// `net` is 0 for an order that is not valid) and `units` (Int64, the quantity of a valid order's
/// lines, 0 otherwise).
///
/// `rates`: currency → base units per unit, as for [`crate::analytics::valid_orders`].
pub fn order_frame(
    orders: LazyFrame,
    items: LazyFrame,
    as_of_us: i64,
    rates: &[(String, f64)],
    cal: &Calendar,
) -> LazyFrame {
    let units = items.group_by([col("order_id")]).agg([col("quantity").cast(DataType::Int64).sum().alias("_units")]);
    let rate = base_rate(rates);
    orders
        .filter(col("created_at").cast(DataType::Int64).lt(lit(as_of_us)))
        .select([
            col("order_id"),
            col("customer_id"),
            col("channel"),
            col("store").fill_null(lit(NO_STORE)).alias("store"),
            col("created_at"),
            cal.day(col("created_at")).alias("day"),
            is_valid(as_of_us).alias("valid"),
            (col("net_amount") * rate.clone()).alias("_net"),
            (col("gross_amount") * rate.clone()).alias("gross"),
            (col("refund_amount") * rate).alias("refund"),
        ])
        .join(units, [col("order_id")], [col("order_id")], JoinArgs::new(JoinType::Left))
        .with_columns([
            when(col("valid")).then(col("_net")).otherwise(lit(0.0)).alias("net"),
            when(col("valid")).then(col("_units").fill_null(lit(0i64))).otherwise(lit(0i64)).alias("units"),
        ])
        .select([
            col("order_id"),
            col("customer_id"),
            col("channel"),
            col("store"),
            col("created_at"),
            col("day"),
            col("valid"),
            col("net"),
            col("gross"),
            col("refund"),
            col("units"),
        ])
}

/// Each customer's first valid order: `customer_id`, `_first_day`, `_first_channel`,
/// `_first_store` (earliest `created_at`, ties by `order_id`).
pub fn first_orders(order_frame: LazyFrame) -> LazyFrame {
    // Sorted first, so that `first()` (the group's first row in frame order) is the earliest; a
    // sort inside the aggregation would take polars' slow per-group path.
    order_frame
        .filter(col("valid"))
        .sort(["customer_id", "created_at", "order_id"], SortMultipleOptions::default())
        .group_by([col("customer_id")])
        .agg([
            col("day").first().alias("_first_day"),
            col("channel").first().alias("_first_channel"),
            col("store").first().alias("_first_store"),
        ])
}

/// A money sum rounded to 1e-6 base units: polars adds a group's values in an order that varies
/// from run to run, and the last bits with it; rounded, the same input gives the same bytes.
pub fn money(sum: Expr) -> Expr {
    sum.round(6, RoundMode::HalfAwayFromZero)
}

/// `cur / base − 1`, null when the base is null or zero (never inf or NaN).
pub fn change(cur: Expr, base: Expr) -> Expr {
    let base = base.cast(DataType::Float64);
    when(base.clone().is_not_null().and(base.clone().neq(lit(0.0))))
        .then(cur.cast(DataType::Float64) / base - lit(1.0))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// `num / den`, null when `den` is zero.
pub fn ratio(num: Expr, den: Expr) -> Expr {
    let den = den.cast(DataType::Float64);
    when(den.clone().neq(lit(0.0))).then(num.cast(DataType::Float64) / den).otherwise(lit(NULL).cast(DataType::Float64))
}

#[cfg(test)]
pub(crate) mod testdata;
