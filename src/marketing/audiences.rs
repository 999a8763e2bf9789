//! Audience files: one table per action with the columns mass-mail and SMS tools import.

use super::params::ACTIONS;
use polars::prelude::*;

/// Columns of every audience file, in order.
pub const AUDIENCE_COLUMNS: [&str; 8] =
    ["customer_id", "channel", "email", "phone", "name", "segment", "suggested_product", "suggested_offer"];

/// The audience of each action (every action, possibly empty), from the [`super::triggers::actions`]
/// table: (action, frame with [`AUDIENCE_COLUMNS`]).
pub fn audiences(actions: &LazyFrame) -> Vec<(&'static str, LazyFrame)> {
    ACTIONS
        .iter()
        .map(|a| {
            let lf = actions
                .clone()
                .filter(col("action").eq(lit(*a)))
                .select(AUDIENCE_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>());
            (*a, lf)
        })
        .collect()
}

/// Audience sizes per action and channel: action, channel, customers (zero rows included for
/// every action and channel).
pub fn summary(actions: LazyFrame) -> LazyFrame {
    let counts =
        actions.group_by([col("action"), col("channel")]).agg([len().cast(DataType::Int64).alias("customers")]);
    let (mut all_a, mut all_c, mut order) = (Vec::new(), Vec::new(), Vec::new());
    for a in ACTIONS {
        for c in ["email", "sms"] {
            all_a.push(a);
            all_c.push(c);
            order.push(order.len() as i64);
        }
    }
    let grid = df!("action" => all_a, "channel" => all_c, "order" => order)
        .map(|d| d.lazy())
        .unwrap_or_else(|_| DataFrame::empty().lazy());
    grid.join(counts, [col("action"), col("channel")], [col("action"), col("channel")], JoinArgs::new(JoinType::Left))
        .with_column(col("customers").fill_null(lit(0i64)))
        .sort(["order"], SortMultipleOptions::default())
        .select([col("action"), col("channel"), col("customers")])
}
