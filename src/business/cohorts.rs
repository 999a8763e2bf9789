//! `cohorts.parquet`: acquisition cohorts by month and their activity in the months since.
//!
//! ## Method
//! A customer's cohort is the month of their first valid order ([`super::first_orders`]);
//! `months_since` is the month of a valid order minus the cohort month (0 = the acquisition
//! month). Per cohort (× first-order channel with `cohort_by = "channel"`, beside `all`) and
//! months since, from 0 to the month holding the last instant before `as_of`:
//! `cohort_size` (customers acquired), `active_customers` (distinct customers with a valid order
//! that month), `retention` = active ÷ size, `orders`, `revenue` (Σ net), and
//! `cumulative_revenue_per_customer` = revenue of months 0..=k ÷ size. A month without orders is
//! a row of zeros; `complete` marks months that end on or before `as_of`.

use super::params::{BusinessValidParams, CohortBy, Grain};
use super::periods::period_index;
use super::{first_orders, money, ratio};
use polars::prelude::*;

/// The cohorts table; see the module docs. `orders`: [`super::order_frame`]; `months`:
/// [`super::periods::period_table`] of the month grain. Sorted by channel (`all` first),
/// cohort month, months since.
pub fn cohorts(orders: LazyFrame, months: LazyFrame, p: &BusinessValidParams) -> PolarsResult<LazyFrame> {
    let month = |c: &str| period_index(Grain::Month, col(c));
    let first = first_orders(orders.clone()).with_column(month("_first_day").alias("_c"));
    let active = orders
        .filter(col("valid"))
        .join(first.clone(), [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .with_column(month("day").alias("_m"));
    let views = |lf: LazyFrame| -> PolarsResult<LazyFrame> {
        let mut v = vec![lf.clone().with_column(lit("all").alias("_channel"))];
        if p.cohort_by() == CohortBy::Channel {
            v.push(lf.with_column(col("_first_channel").alias("_channel")));
        }
        concat(v, UnionArgs::default())
    };
    let sizes =
        views(first)?.group_by([col("_channel"), col("_c")]).agg([len().cast(DataType::Int64).alias("cohort_size")]);
    let activity = views(active)?.group_by([col("_channel"), col("_c"), col("_m")]).agg([
        col("customer_id").n_unique().cast(DataType::Int64).alias("active_customers"),
        len().cast(DataType::Int64).alias("orders"),
        money(col("net").sum()).alias("revenue"),
    ]);
    let month_rows = months.clone().select([col("_p").alias("_m"), col("complete"), lit(1i32).alias("_k")]);
    let key = || [col("_channel"), col("_c"), col("_m")];
    let grid = sizes
        .with_column(lit(1i32).alias("_k"))
        .join(month_rows, [col("_k")], [col("_k")], JoinArgs::new(JoinType::Inner))
        .filter(col("_m").gt_eq(col("_c")))
        .join(activity, key(), key(), JoinArgs::new(JoinType::Left))
        .with_columns([
            col("active_customers").fill_null(lit(0i64)),
            col("orders").fill_null(lit(0i64)),
            col("revenue").fill_null(lit(0.0)),
        ]);
    // Σ revenue of months _c..=_m: each month's revenue joined to the months at or after it.
    let earlier =
        grid.clone().select([col("_channel"), col("_c"), col("_m").alias("_m2"), col("revenue").alias("_r2")]);
    let cumulative = grid
        .clone()
        .select([col("_channel"), col("_c"), col("_m")])
        .join(earlier, [col("_channel"), col("_c")], [col("_channel"), col("_c")], JoinArgs::new(JoinType::Inner))
        .filter(col("_m2").lt_eq(col("_m")))
        .group_by(key())
        .agg([money(col("_r2").sum()).alias("_cum")]);
    let starts = months.select([col("_p").alias("_c"), col("period_start").alias("cohort_month")]);
    Ok(grid
        .join(cumulative, key(), key(), JoinArgs::new(JoinType::Left))
        .join(starts, [col("_c")], [col("_c")], JoinArgs::new(JoinType::Left))
        .sort_by_exprs(
            [col("_channel").neq(lit("all")), col("_channel"), col("_c"), col("_m")],
            SortMultipleOptions::default(),
        )
        .select([
            col("_channel").alias("channel"),
            col("cohort_month"),
            (col("_m") - col("_c")).alias("months_since"),
            col("cohort_size"),
            col("active_customers"),
            ratio(col("active_customers"), col("cohort_size")).alias("retention"),
            col("orders"),
            col("revenue"),
            ratio(col("_cum"), col("cohort_size")).alias("cumulative_revenue_per_customer"),
            col("complete"),
        ]))
}

#[cfg(test)]
#[path = "cohorts_tests.rs"]
mod tests;
