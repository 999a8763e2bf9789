//! `trends.parquet`: sales per grain × period × channel (× store), with month-on-month and
//! year-on-year changes.
//!
//! ## Method
//! Over the [order frame](super::order_frame), for each grain every order gets its period index
//! ([`super::periods`]), and so do its customer's first valid order and the first valid order
//! the customer placed on another channel than this order's. Each order then counts on up to three
//! rows: `all` channels, its channel, and with `by_store` its (channel, store). One group-by gives,
//! per row, with *valid* orders only unless said otherwise:
//! - `orders`, `revenue` (Σ net), `units`, `paid_revenue` (Σ gross), and over *all* orders `gmv`
//!   (Σ gross) and `refunded_amount` (Σ refund);
//! - `customers` (distinct), `new_customers` (first valid order ever in this period; on a channel
//!   or store row, that first order was on that channel or store), `returning_customers` (first
//!   valid order before the period) and their revenue `new_revenue`, `returning_revenue`;
//!   `cross_channel_customers` (had a valid order on another channel before the period's end;
//!   null on `all` rows).
//!
//! The rows are then laid on the dense grid of every period from the first order's to the one
//! holding the last instant before `as_of`, × every channel (and store) seen: a period without
//! orders is a row of zeros. Ratios (`aov`, `repeat_rate`, `revenue_share`) are null where their
//! denominator is 0; changes are relative (`0.12` = +12 %) against the previous period and the
//! year-earlier period of the same grain, channel and store, null when that base is 0 or outside
//! the data.

use super::params::{BusinessValidParams, Grain};
use super::periods::period_index;
use super::{change, first_orders, money, ratio};
use polars::prelude::*;

/// Internal store key of rows not split by store (null in the output).
const ANY_STORE: &str = "";

/// The trends table; see the module docs. `orders`: [`super::order_frame`]; `periods`:
/// [`super::periods::period_table`] over the grains of `p`. Sorted by grain (day, week, month),
/// `period_start`, `all` first, then channel and store.
pub fn trends(orders: LazyFrame, periods: LazyFrame, p: &BusinessValidParams) -> PolarsResult<LazyFrame> {
    let first = first_orders(orders.clone());
    let other = other_channel_first_day(orders.clone());
    let x = orders.join(first, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Left)).join(
        other,
        [col("customer_id"), col("channel")],
        [col("customer_id"), col("channel")],
        JoinArgs::new(JoinType::Left),
    );
    let per_grain: Vec<LazyFrame> = p
        .grains()
        .iter()
        .map(|&g| {
            x.clone().with_columns([
                lit(g.as_str()).alias("grain"),
                period_index(g, col("day")).alias("_p"),
                period_index(g, col("_first_day")).alias("_pf"),
                period_index(g, col("_other_first_day")).alias("_po"),
            ])
        })
        .collect();
    let xg = concat(per_grain, UnionArgs::default())?;
    let valid = || col("valid");
    let returning = || valid().and(col("_pf").lt(col("_p")));
    let first_here = || valid().and(col("_pf").eq(col("_p")));
    let cross = || valid().and(col("_po").lt_eq(col("_p"))).fill_null(lit(false));
    let mut views = vec![
        xg.clone().with_columns([
            lit("all").alias("_channel"),
            lit(ANY_STORE).alias("_store"),
            first_here().alias("_new"),
            lit(false).alias("_cross"),
        ]),
        xg.clone().with_columns([
            col("channel").alias("_channel"),
            lit(ANY_STORE).alias("_store"),
            first_here().and(col("_first_channel").eq(col("channel"))).alias("_new"),
            cross().alias("_cross"),
        ]),
    ];
    if p.by_store() {
        views.push(
            xg.with_columns([
                col("channel").alias("_channel"),
                col("store").alias("_store"),
                first_here()
                    .and(col("_first_channel").eq(col("channel")))
                    .and(col("_first_store").eq(col("store")))
                    .alias("_new"),
                cross().alias("_cross"),
            ]),
        );
    }
    let rows = concat(views, UnionArgs::default())?.with_column(returning().alias("_ret"));
    // Two plain group-bys instead of filtered aggregations (which take polars' slow per-group
    // path): per (row, customer) the sums and whether they are a customer, new, returning or
    // cross-channel there; then per row the sums of both.
    let flag = |c: Expr| c.cast(DataType::Int64).max();
    let only = |c: Expr, v: &str| when(c).then(col(v)).otherwise(lit(0.0));
    let per_customer =
        rows.group_by([col("grain"), col("_p"), col("_channel"), col("_store"), col("customer_id")]).agg([
            valid().cast(DataType::Int64).sum().alias("orders"),
            col("net").sum().alias("revenue"),
            only(col("_new"), "net").sum().alias("new_revenue"),
            only(col("_ret"), "net").sum().alias("returning_revenue"),
            col("units").sum().alias("units"),
            col("gross").sum().alias("gmv"),
            only(valid(), "gross").sum().alias("paid_revenue"),
            col("refund").sum().alias("refunded_amount"),
            flag(valid()).alias("customers"),
            flag(col("_new")).alias("new_customers"),
            flag(col("_ret")).alias("returning_customers"),
            flag(col("_cross")).alias("cross_channel_customers"),
        ]);
    let summed = [
        "orders",
        "revenue",
        "new_revenue",
        "returning_revenue",
        "units",
        "gmv",
        "paid_revenue",
        "refunded_amount",
        "customers",
        "new_customers",
        "returning_customers",
        "cross_channel_customers",
    ];
    let agg = per_customer.group_by([col("grain"), col("_p"), col("_channel"), col("_store")]).agg(
        summed
            .iter()
            .map(|c| match *c {
                "revenue" | "new_revenue" | "returning_revenue" | "gmv" | "paid_revenue" | "refunded_amount" => {
                    money(col(*c).sum())
                }
                _ => col(*c).sum(),
            })
            .collect::<Vec<_>>(),
    );
    let grid = periods.with_column(lit(1i32).alias("_k")).join(
        keys(x, p.by_store())?.with_column(lit(1i32).alias("_k")),
        [col("_k")],
        [col("_k")],
        JoinArgs::new(JoinType::Inner),
    );
    let ints = ["orders", "customers", "new_customers", "returning_customers", "units", "cross_channel_customers"];
    let floats = ["revenue", "new_revenue", "returning_revenue", "gmv", "paid_revenue", "refunded_amount"];
    let key = || [col("grain"), col("_p"), col("_channel"), col("_store")];
    let filled = grid.join(agg, key(), key(), JoinArgs::new(JoinType::Left)).with_columns(
        ints.iter()
            .map(|c| col(*c).fill_null(lit(0i64)))
            .chain(floats.iter().map(|c| col(*c).fill_null(lit(0.0))))
            .collect::<Vec<_>>(),
    );
    let all_revenue = filled.clone().filter(col("_channel").eq(lit("all"))).select([
        col("grain"),
        col("_p"),
        col("revenue").alias("_all_revenue"),
    ]);
    let base = |name: &str| {
        filled.clone().select([
            col("grain"),
            col("_channel"),
            col("_store"),
            col("_p").alias(format!("_{name}").as_str()),
            col("revenue").alias(format!("_revenue_{name}").as_str()),
            col("orders").alias(format!("_orders_{name}").as_str()),
            col("customers").alias(format!("_customers_{name}").as_str()),
        ])
    };
    let on = |name: &str| [col("grain"), col("_channel"), col("_store"), col(format!("_{name}").as_str())];
    Ok(filled
        .clone()
        .join(all_revenue, [col("grain"), col("_p")], [col("grain"), col("_p")], JoinArgs::new(JoinType::Left))
        .join(base("prev"), on("prev"), on("prev"), JoinArgs::new(JoinType::Left))
        .join(base("yoy"), on("yoy"), on("yoy"), JoinArgs::new(JoinType::Left))
        .with_column(
            when(col("grain").eq(lit(Grain::Day.as_str())))
                .then(lit(0i32))
                .when(col("grain").eq(lit(Grain::Week.as_str())))
                .then(lit(1i32))
                .otherwise(lit(2i32))
                .alias("_g"),
        )
        .sort_by_exprs(
            [col("_g"), col("period_start"), col("_channel").neq(lit("all")), col("_channel"), col("_store")],
            SortMultipleOptions::default(),
        )
        .select([
            col("grain"),
            col("period_start"),
            col("_channel").alias("channel"),
            when(col("_store").eq(lit(ANY_STORE)))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("_store"))
                .alias("store"),
            col("orders"),
            col("customers"),
            col("new_customers"),
            col("returning_customers"),
            col("revenue"),
            col("new_revenue"),
            col("returning_revenue"),
            ratio(col("revenue"), col("orders")).alias("aov"),
            col("units"),
            col("gmv"),
            col("paid_revenue"),
            col("refunded_amount"),
            ratio(col("returning_customers"), col("customers")).alias("repeat_rate"),
            ratio(col("revenue"), col("_all_revenue")).alias("revenue_share"),
            when(col("_channel").eq(lit("all")))
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("cross_channel_customers"))
                .alias("cross_channel_customers"),
            col("complete"),
            change(col("revenue"), col("_revenue_prev")).alias("revenue_mom"),
            change(col("orders"), col("_orders_prev")).alias("orders_mom"),
            change(col("customers"), col("_customers_prev")).alias("customers_mom"),
            change(col("revenue"), col("_revenue_yoy")).alias("revenue_yoy"),
            change(col("orders"), col("_orders_yoy")).alias("orders_yoy"),
            change(col("customers"), col("_customers_yoy")).alias("customers_yoy"),
        ]))
}

/// Per (customer, channel) of a valid order, the day of the customer's first valid order on any
/// other channel: `customer_id`, `channel`, `_other_first_day` (absent when none).
fn other_channel_first_day(orders: LazyFrame) -> LazyFrame {
    let per_channel =
        orders.filter(col("valid")).group_by([col("customer_id"), col("channel")]).agg([col("day").min().alias("_f")]);
    let others = per_channel.clone().select([col("customer_id"), col("channel").alias("_ch2"), col("_f").alias("_f2")]);
    per_channel
        .join(others, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .filter(col("channel").neq(col("_ch2")))
        .group_by([col("customer_id"), col("channel")])
        .agg([col("_f2").min().alias("_other_first_day")])
}

/// The row keys (`_channel`, `_store`): `all`, every channel, and with `by_store` every (channel,
/// store) of the orders.
fn keys(orders: LazyFrame, by_store: bool) -> PolarsResult<LazyFrame> {
    let all = DataFrame::new_infer_height(vec![
        Column::new("_channel".into(), ["all"]),
        Column::new("_store".into(), [ANY_STORE]),
    ])?
    .lazy();
    let channels = orders.clone().select([col("channel").alias("_channel")]).unique(None, UniqueKeepStrategy::Any);
    let mut parts = vec![all, channels.with_column(lit(ANY_STORE).alias("_store"))];
    if by_store {
        parts.push(
            orders
                .select([col("channel").alias("_channel"), col("store").alias("_store")])
                .unique(None, UniqueKeepStrategy::Any),
        );
    }
    concat(parts, UnionArgs::default())
}

#[cfg(test)]
#[path = "trends_tests.rs"]
mod tests;
