//! Segment migration: who moved between RFM segments, cluster labels or churn tiers since a
//! previous run.
//!
//! ## Method
//! The previous run's `segments` table is keyed by the ids of that time. Ids merged since then
//! (`customer_merges`: `merged_id` → `customer_id`, followed through up to four hops for chains)
//! are mapped to today's id; when several previous rows land on one customer, the row whose id
//! survived wins, else the smallest previous id. Each tracked field present in both tables is
//! compared null-aware (null → value is a change); one output row per changed field.

use polars::prelude::*;

/// Fields compared, when present in both runs.
pub const TRACKED: [&str; 3] = ["segment", "cluster_label", "churn_tier"];

/// `segment_changes`: `customer_id`, `previous_id`, `field`, `from`, `to`, sorted by customer
/// and field.
///
/// ## Parameters
/// - `current`, `previous`: segments tables (`customer_id` + the tracked fields);
/// - `merges`: the lake's `customer_merges` (`merged_id`, `customer_id`);
/// - `fields`: the tracked fields present in both tables.
pub fn segment_changes(current: LazyFrame, previous: LazyFrame, merges: LazyFrame, fields: &[&str]) -> LazyFrame {
    let mut prev = previous.select(
        std::iter::once(col("customer_id").alias("previous_id"))
            .chain(fields.iter().map(|f| col(*f).cast(DataType::String).alias(format!("{f}_from"))))
            .collect::<Vec<_>>(),
    );
    prev = prev.with_column(col("previous_id").alias("now_id"));
    for _ in 0..4 {
        prev = prev
            .left_join(
                merges.clone().select([col("merged_id"), col("customer_id").alias("survivor")]),
                col("now_id"),
                col("merged_id"),
            )
            .with_column(coalesce(&[col("survivor"), col("now_id")]).alias("now_id"))
            .drop(Selector::ByName { names: ["survivor".into()].into(), strict: false });
    }
    let prev = prev
        .with_column(col("previous_id").eq(col("now_id")).alias("survived"))
        .sort_by_exprs(
            [col("now_id"), col("survived"), col("previous_id")],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .group_by([col("now_id")])
        .agg(
            std::iter::once(col("previous_id").first())
                .chain(fields.iter().map(|f| col(format!("{f}_from")).first()))
                .collect::<Vec<_>>(),
        );
    let cur = current.select(
        std::iter::once(col("customer_id"))
            .chain(fields.iter().map(|f| col(*f).cast(DataType::String).alias(format!("{f}_to"))))
            .collect::<Vec<_>>(),
    );
    let joined = cur.join(prev, [col("customer_id")], [col("now_id")], JoinArgs::new(JoinType::Inner));
    let per_field: Vec<LazyFrame> = fields
        .iter()
        .map(|f| {
            let (from, to) = (col(format!("{f}_from")), col(format!("{f}_to")));
            let changed = from.clone().eq_missing(to.clone()).not();
            joined.clone().filter(changed).select([
                col("customer_id"),
                col("previous_id"),
                lit(f.to_string()).alias("field"),
                from.alias("from"),
                to.alias("to"),
            ])
        })
        .collect();
    match concat(per_field, UnionArgs::default()) {
        Ok(lf) => lf.sort(["customer_id", "field"], SortMultipleOptions::default()),
        Err(_) => DataFrame::empty().lazy(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (customer_id, previous_id, field, from, to)
    type Change = (String, String, String, Option<String>, Option<String>);

    fn rows(lf: LazyFrame) -> Vec<Change> {
        let df = lf.collect().unwrap();
        let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
        let (a, b, c, d, e) = (s("customer_id"), s("previous_id"), s("field"), s("from"), s("to"));
        (0..df.height())
            .map(|i| {
                (
                    a.get(i).unwrap().into(),
                    b.get(i).unwrap().into(),
                    c.get(i).unwrap().into(),
                    d.get(i).map(Into::into),
                    e.get(i).map(Into::into),
                )
            })
            .collect()
    }

    #[test]
    fn changes_follow_merges_and_compare_null_aware() {
        let previous = df!(
            "customer_id" => ["A", "B", "C", "D"],
            "segment" => ["Champions", "Lost", "At Risk", "Promising"],
            "churn_tier" => [Some("low"), None, Some("high"), Some("low")]
        )
        .unwrap()
        .lazy();
        let current = df!(
            "customer_id" => ["A", "C", "D"],
            "segment" => ["At Risk", "At Risk", "Promising"],
            "churn_tier" => [Some("low"), Some("high"), Some("medium")]
        )
        .unwrap()
        .lazy();
        // B merged into C: C's own previous row wins.
        let merges = df!("merged_id" => ["B"], "customer_id" => ["C"]).unwrap().lazy();
        let got = rows(segment_changes(current, previous, merges, &["segment", "churn_tier"]));
        assert_eq!(
            got,
            vec![
                ("A".into(), "A".into(), "segment".into(), Some("Champions".into()), Some("At Risk".into())),
                ("D".into(), "D".into(), "churn_tier".into(), Some("low".into()), Some("medium".into())),
            ]
        );
    }

    #[test]
    fn a_merged_id_alone_maps_to_its_survivor() {
        let previous = df!("customer_id" => ["X"], "segment" => ["Lost"]).unwrap().lazy();
        let current = df!("customer_id" => ["Z"], "segment" => ["Champions"]).unwrap().lazy();
        // A chain: X → Y → Z.
        let merges = df!("merged_id" => ["X", "Y"], "customer_id" => ["Y", "Z"]).unwrap().lazy();
        let got = rows(segment_changes(current, previous, merges, &["segment"]));
        assert_eq!(
            got,
            vec![("Z".into(), "X".into(), "segment".into(), Some("Lost".into()), Some("Champions".into()))]
        );
    }
}
