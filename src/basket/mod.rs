//! Market-basket analysis: frequent itemsets (parallel FP-growth), association rules with the
//! full metric set, and next-best-product recommendations.
//!
//! ## Method
//! 1. [`transactions::basket_rows`] (pure, lazy): canonical orders + lines (+ catalog) →
//!    distinct (basket, customer, item) rows; the pipeline collects them.
//! 2. [`fit`] (the fitted stage) codes the rows ([`transactions::BasketData`]), mines frequent
//!    itemsets with [`fpgrowth::frequent_itemsets`] (Han, Pei & Yin 2000), derives
//!    [`rules::rules`] with support, confidence, lift, leverage, conviction, Zhang's metric,
//!    Jaccard, Kulczynski and certainty factor, and ranks items per customer with
//!    [`recommend::recommend`]. It returns the output tables.
//!
//! ## Parameters
//! `[basket]`, see [`params::BasketConfig`] (thresholds, basket and item definitions, filters,
//! rule options, recommendations).
//!
//! ## Outputs
//! - `itemsets`: `items` (list of text, ascending), `length`, `count`, `support`, `closed`,
//!   `maximal`; sorted by length, then count descending, then items.
//! - `rules`: `antecedent`, `consequent` (lists of text), `count` (baskets with both),
//!   `support`, `antecedent_support`, `consequent_support`, `confidence`, `lift`, `leverage`,
//!   `conviction` (null when infinite), `conviction_infinite`, `zhang`, `jaccard`,
//!   `kulczynski`, `certainty`; in the order of [`rules::rule_order`].
//! - `recommendations`: `customer_id`, `rank` (1 = best), `item`, `score`, and the rule behind
//!   it (`antecedent`, `consequent`, `confidence`, `lift`); sorted by customer and rank.
//! - per customer, `recommended_items`: the recommended items in rank order joined by ", ", for
//!   the segments table.

pub mod fpgrowth;
pub mod params;
pub mod recommend;
pub mod rules;
pub mod transactions;

pub use params::{BasketConfig, BasketParams, BasketParamsError, BasketValidParams};

use polars::prelude::*;
use std::collections::HashMap;
use transactions::{BasketData, Transactions};

/// Basket-stage failures.
#[derive(Debug, thiserror::Error)]
pub enum BasketError {
    #[error("basket rows: {0}")]
    Frame(#[from] PolarsError),
}

/// What [`fit`] found, in numbers (for logs and the bench).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct BasketSummary {
    pub baskets: u64,
    pub items: u64,
    pub min_count: u64,
    pub itemsets: u64,
    pub rules: u64,
    pub customers_with_recommendations: u64,
}

/// The basket stage's tables (see the module docs for their columns).
#[derive(Debug, Clone)]
pub struct BasketTables {
    pub itemsets: DataFrame,
    pub rules: DataFrame,
    pub recommendations: DataFrame,
    /// `customer_id`, `recommended_items`: one row per customer with a recommendation.
    pub by_customer: DataFrame,
    pub summary: BasketSummary,
}

/// Mines the collected basket rows and recommends.
///
/// ## Parameters
/// - `rows`: [`transactions::basket_rows`], collected.
/// - `products`: the canonical `products` table (for margins; read only with `margin_weighted`).
/// - `p`: checked `[basket]` parameters.
///
/// ## Example
/// ```
/// use custlens::basket::{fit, BasketParams};
/// use polars::prelude::*;
/// let rows = df!("basket" => ["o1", "o1", "o2", "o2", "o3"], "customer_id" => ["c1", "c1", "c2", "c2", "c3"],
///     "item" => ["tea", "cup", "tea", "cup", "tea"]).unwrap();
/// let products = df!("sku" => ["tea"], "price" => [Some(5.0)], "cost" => [Some(2.0)]).unwrap();
/// let t = fit(&rows, &products, &BasketParams::new().min_count(Some(2)).check().unwrap()).unwrap();
/// assert_eq!(t.summary.itemsets, 3); // tea, cup, {cup, tea}
/// assert_eq!(t.summary.rules, 2);    // tea → cup, cup → tea
/// // c3 bought tea only: cup is recommended.
/// assert_eq!(t.by_customer.column("recommended_items").unwrap().str().unwrap().get(0), Some("cup"));
/// ```
pub fn fit(rows: &DataFrame, products: &DataFrame, p: &BasketValidParams) -> Result<BasketTables, BasketError> {
    let data = BasketData::from_rows(rows)?;
    let tx = &data.baskets;
    let n = tx.len() as u64;
    let min_count = p.threshold().min_count(n);
    let found = fpgrowth::frequent_itemsets(tx, min_count, p.max_len());
    let opts = rules::RuleOptions {
        min_confidence: p.min_confidence(),
        min_lift: p.min_lift(),
        multi_consequent: p.multi_consequent(),
        prune_redundant: p.prune_redundant(),
        max_rules: p.max_rules(),
    };
    let rules = rules::rules(&found, &opts);
    let margin = if p.margin_weighted() { Some(margins(products, tx)?) } else { None };
    let recs = recommend::recommend(&data.history, &rules, p.score(), p.top_n(), margin.as_deref());
    let summary = BasketSummary {
        baskets: n,
        items: tx.n_items() as u64,
        min_count,
        itemsets: found.len() as u64,
        rules: rules.len() as u64,
        customers_with_recommendations: recs.iter().filter(|r| !r.is_empty()).count() as u64,
    };
    Ok(BasketTables {
        itemsets: itemsets_frame(tx, &found, p.itemsets())?,
        rules: rules_frame(tx, &rules)?,
        recommendations: recommendations_frame(&data, &rules, &recs)?,
        by_customer: by_customer_frame(&data, &recs)?,
        summary,
    })
}

/// Unit margin (price − cost, at least 0) per item code, from the catalog by SKU.
fn margins(products: &DataFrame, tx: &Transactions) -> PolarsResult<Vec<Option<f64>>> {
    let sku = products.column("sku")?.str()?;
    let price = products.column("price")?.cast(&DataType::Float64)?;
    let cost = products.column("cost")?.cast(&DataType::Float64)?;
    let (price, cost) = (price.f64()?, cost.f64()?);
    let mut by_sku: HashMap<&str, f64> = HashMap::new();
    for ((s, p), c) in sku.iter().zip(price.iter()).zip(cost.iter()) {
        if let (Some(s), Some(p), Some(c)) = (s, p, c) {
            if p.is_finite() && c.is_finite() {
                by_sku.insert(s, (p - c).max(0.0));
            }
        }
    }
    Ok(tx.names().iter().map(|n| by_sku.get(n.as_str()).copied()).collect())
}

fn list_column<'a>(name: &str, lists: impl Iterator<Item = &'a [u32]>, tx: &Transactions, len: usize) -> Column {
    let mut b = ListStringChunkedBuilder::new(name.into(), len, len * 2);
    for l in lists {
        b.append_values_iter(l.iter().map(|&i| tx.name(i)));
    }
    b.finish().into_series().into_column()
}

fn itemsets_frame(tx: &Transactions, f: &fpgrowth::Itemsets, keep: params::ItemsetFilter) -> PolarsResult<DataFrame> {
    let flags = f.closed_maximal();
    let mut order: Vec<usize> = (0..f.len())
        .filter(|&k| match keep {
            params::ItemsetFilter::All => true,
            params::ItemsetFilter::Closed => flags[k].0,
            params::ItemsetFilter::Maximal => flags[k].1,
        })
        .collect();
    order.sort_by(|&a, &b| {
        f.sets[a]
            .len()
            .cmp(&f.sets[b].len())
            .then(f.counts[b].cmp(&f.counts[a]))
            .then_with(|| f.sets[a].cmp(&f.sets[b]))
    });
    let n = f.baskets.max(1) as f64;
    DataFrame::new_infer_height(vec![
        list_column("items", order.iter().map(|&k| f.sets[k].as_slice()), tx, order.len()),
        Column::new("length".into(), order.iter().map(|&k| f.sets[k].len() as i64).collect::<Vec<_>>()),
        Column::new("count".into(), order.iter().map(|&k| f.counts[k] as i64).collect::<Vec<_>>()),
        Column::new("support".into(), order.iter().map(|&k| f.counts[k] as f64 / n).collect::<Vec<_>>()),
        Column::new("closed".into(), order.iter().map(|&k| flags[k].0).collect::<Vec<_>>()),
        Column::new("maximal".into(), order.iter().map(|&k| flags[k].1).collect::<Vec<_>>()),
    ])
}

fn rules_frame(tx: &Transactions, rules: &[rules::Rule]) -> PolarsResult<DataFrame> {
    let f = |name: &str, get: fn(&rules::Metrics) -> f64| {
        Column::new(name.into(), rules.iter().map(|r| get(&r.metrics)).collect::<Vec<_>>())
    };
    DataFrame::new_infer_height(vec![
        list_column("antecedent", rules.iter().map(|r| r.antecedent.as_slice()), tx, rules.len()),
        list_column("consequent", rules.iter().map(|r| r.consequent.as_slice()), tx, rules.len()),
        Column::new("count".into(), rules.iter().map(|r| r.count as i64).collect::<Vec<_>>()),
        f("support", |m| m.support),
        f("antecedent_support", |m| m.antecedent_support),
        f("consequent_support", |m| m.consequent_support),
        f("confidence", |m| m.confidence),
        f("lift", |m| m.lift),
        f("leverage", |m| m.leverage),
        Column::new("conviction".into(), rules.iter().map(|r| r.metrics.conviction).collect::<Vec<_>>()),
        Column::new(
            "conviction_infinite".into(),
            rules.iter().map(|r| r.metrics.conviction.is_none()).collect::<Vec<_>>(),
        ),
        f("zhang", |m| m.zhang),
        f("jaccard", |m| m.jaccard),
        f("kulczynski", |m| m.kulczynski),
        f("certainty", |m| m.certainty),
    ])
}

fn recommendations_frame(
    data: &BasketData,
    rules: &[rules::Rule],
    recs: &[Vec<recommend::Recommendation>],
) -> PolarsResult<DataFrame> {
    let tx = &data.history;
    let flat: Vec<(usize, usize, &recommend::Recommendation)> =
        recs.iter().enumerate().flat_map(|(c, v)| v.iter().enumerate().map(move |(k, r)| (c, k, r))).collect();
    let rule = |x: &recommend::Recommendation| &rules[x.rule];
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), flat.iter().map(|(c, _, _)| data.customers[*c].as_str()).collect::<Vec<_>>()),
        Column::new("rank".into(), flat.iter().map(|(_, k, _)| *k as i64 + 1).collect::<Vec<_>>()),
        Column::new("item".into(), flat.iter().map(|(_, _, r)| tx.name(r.item)).collect::<Vec<_>>()),
        Column::new("score".into(), flat.iter().map(|(_, _, r)| r.score).collect::<Vec<_>>()),
        list_column("antecedent", flat.iter().map(|(_, _, r)| rule(r).antecedent.as_slice()), tx, flat.len()),
        list_column("consequent", flat.iter().map(|(_, _, r)| rule(r).consequent.as_slice()), tx, flat.len()),
        Column::new("confidence".into(), flat.iter().map(|(_, _, r)| rule(r).metrics.confidence).collect::<Vec<_>>()),
        Column::new("lift".into(), flat.iter().map(|(_, _, r)| rule(r).metrics.lift).collect::<Vec<_>>()),
    ])
}

fn by_customer_frame(data: &BasketData, recs: &[Vec<recommend::Recommendation>]) -> PolarsResult<DataFrame> {
    let (mut ids, mut items) = (Vec::new(), Vec::new());
    for (c, v) in recs.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
        ids.push(data.customers[c].as_str());
        items.push(v.iter().map(|r| data.history.name(r.item)).collect::<Vec<_>>().join(", "));
    }
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        Column::new("recommended_items".into(), items),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> DataFrame {
        df!(
            "basket" => ["o1", "o1", "o2", "o2", "o3", "o4", "o4"],
            "customer_id" => ["c1", "c1", "c2", "c2", "c3", "c4", "c4"],
            "item" => ["A", "B", "A", "B", "A", "C", "A"]
        )
        .unwrap()
    }

    fn products() -> DataFrame {
        df!("sku" => ["A", "B", "C"], "price" => [Some(10.0), Some(8.0), None], "cost" => [Some(4.0), Some(3.0), Some(1.0)]).unwrap()
    }

    #[test]
    fn tables_have_the_documented_columns_and_order() {
        let p = BasketParams::new().min_count(Some(1)).check().unwrap();
        let t = fit(&rows(), &products(), &p).unwrap();
        let names = |df: &DataFrame| df.get_column_names().iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&t.itemsets), ["items", "length", "count", "support", "closed", "maximal"]);
        assert_eq!(t.rules.width(), 15);
        assert_eq!(names(&t.recommendations)[..4], ["customer_id", "rank", "item", "score"]);
        // Itemsets: A:4, B:2, C:1, AB:2, AC:1 → by length, count desc, items.
        let counts: Vec<i64> = t.itemsets.column("count").unwrap().i64().unwrap().iter().flatten().collect();
        assert_eq!(counts, [4, 2, 1, 2, 1]);
        assert_eq!(t.summary.baskets, 4);
        // Rule B → A has confidence 1: conviction null, flagged.
        let conv = t.rules.column("conviction").unwrap().f64().unwrap();
        let inf = t.rules.column("conviction_infinite").unwrap().bool().unwrap();
        for k in 0..t.rules.height() {
            assert_eq!(conv.get(k).is_none(), inf.get(k).unwrap());
        }
        assert!(inf.iter().any(|x| x == Some(true)));
        // c3 bought A only: B (A → B conf 1/2, lift 1) and C (A → C conf 1/4, lift 1).
        let recs = &t.by_customer;
        let ids: Vec<&str> = recs.column("customer_id").unwrap().str().unwrap().iter().flatten().collect();
        let items: Vec<&str> = recs.column("recommended_items").unwrap().str().unwrap().iter().flatten().collect();
        let c3 = ids.iter().position(|c| *c == "c3").unwrap();
        assert_eq!(items[c3], "B, C");
    }

    #[test]
    fn margin_weighting_uses_catalog_margins() {
        let p = BasketParams::new().min_count(Some(1)).margin_weighted(true).check().unwrap();
        let t = fit(&rows(), &products(), &p).unwrap();
        // C has no price: never recommended; B's score is 0.5 × 1 × (8 − 3).
        let items: Vec<&str> = t.recommendations.column("item").unwrap().str().unwrap().iter().flatten().collect();
        assert!(!items.contains(&"C"), "{items:?}");
        let c3 =
            t.recommendations.column("customer_id").unwrap().str().unwrap().iter().flatten().position(|c| c == "c3");
        let s = t.recommendations.column("score").unwrap().f64().unwrap().get(c3.unwrap()).unwrap();
        assert!((s - 2.5).abs() < 1e-12, "{s}");
    }

    #[test]
    fn closed_filter_and_empty_input() {
        let p = BasketParams::new().min_count(Some(1)).itemsets(params::ItemsetFilter::Maximal).check().unwrap();
        let t = fit(&rows(), &products(), &p).unwrap();
        assert_eq!(t.itemsets.height(), 2); // AB, AC
        let empty = rows().head(Some(0));
        let t = fit(&empty, &products(), &BasketParams::new().check().unwrap()).unwrap();
        assert_eq!((t.itemsets.height(), t.rules.height(), t.recommendations.height()), (0, 0, 0));
        assert_eq!(t.rules.width(), 15);
    }
}
