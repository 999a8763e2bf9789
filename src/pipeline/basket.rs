//! The basket stage: collect basket rows from the lake, mine, recommend; join recommendations
//! into `segments`.

use super::{stage_err, Outputs, PipelineError};
use crate::basket::{self, transactions::basket_rows, BasketTables, BasketValidParams};
use crate::lake;
use crate::schema::Table;
use polars::prelude::*;
use std::path::Path;

/// Collects the basket rows and the catalog, then fits (see [`crate::basket::fit`]).
pub(super) fn run(
    lake_dir: &Path,
    orders: LazyFrame,
    as_of: i64,
    p: &BasketValidParams,
) -> Result<BasketTables, PipelineError> {
    let items = lake::scan(lake_dir, Table::OrderItems)?;
    let products = lake::scan(lake_dir, Table::Products)?;
    let rows = basket_rows(orders, items, products.clone(), as_of, p).collect().map_err(stage_err("basket"))?;
    let products =
        if p.margin_weighted() { products.collect().map_err(stage_err("basket"))? } else { DataFrame::empty() };
    let t = basket::fit(&rows, &products, p)
        .map_err(|e| PipelineError::Stage { stage: "basket", message: e.to_string() })?;
    let s = &t.summary;
    tracing::info!(
        baskets = s.baskets,
        items = s.items,
        min_count = s.min_count,
        itemsets = s.itemsets,
        rules = s.rules,
        customers_with_recommendations = s.customers_with_recommendations,
        "basket stage"
    );
    Ok(t)
}

/// `segments` with a `recommended_items` column (null for customers without a recommendation).
pub(super) fn join_segments(seg: DataFrame, t: &BasketTables) -> Result<DataFrame, PipelineError> {
    seg.lazy()
        .left_join(t.by_customer.clone().lazy(), col("customer_id"), col("customer_id"))
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .map_err(stage_err("basket"))
}

/// Adds `itemsets`, `rules` and `recommendations` (Parquet only: list columns have no CSV form).
pub(super) fn add_outputs(outputs: &mut Outputs, t: BasketTables) {
    outputs.table("itemsets", t.itemsets, false);
    outputs.table("rules", t.rules, false);
    outputs.table("recommendations", t.recommendations, false);
}
