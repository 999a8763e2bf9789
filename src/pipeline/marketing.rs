//! The marketing stage's glue: service counts into `segments`, the trigger rules over the
//! finished segments table, one audience table per action, and segment migration against a
//! previous run.

use super::{stage_err, Outputs, PipelineError};
use crate::lake;
use crate::marketing::{audiences, migration, triggers, TriggerValidParams};
use crate::schema::Table;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// What the stage produced.
pub(super) struct Marketing {
    pub actions: DataFrame,
    pub audiences: Vec<(&'static str, DataFrame)>,
    pub summary: DataFrame,
    pub changes: Option<DataFrame>,
}

/// Per customer: `returns` and `complaints` (tickets of those kinds) and `refunded_orders`
/// (orders with a refund), joined into `segments` (0 when none).
pub(super) fn join_service_counts(seg: DataFrame, lake_dir: &Path) -> Result<DataFrame, PipelineError> {
    let err = stage_err("segments");
    let tickets = lake::scan(lake_dir, Table::Tickets)?
        .filter(col("customer_id").is_not_null())
        .group_by([col("customer_id")])
        .agg([
            col("kind")
                .eq(lit("return"))
                .or(col("kind").eq(lit("exchange")))
                .sum()
                .cast(DataType::Int64)
                .alias("returns"),
            col("kind").eq(lit("complaint")).sum().cast(DataType::Int64).alias("complaints"),
        ]);
    let refunds = lake::scan(lake_dir, Table::Orders)?
        .filter(col("refund_amount").gt(lit(0.0)).and(col("customer_id").is_not_null()))
        .group_by([col("customer_id")])
        .agg([len().cast(DataType::Int64).alias("refunded_orders")]);
    seg.lazy()
        .left_join(tickets, col("customer_id"), col("customer_id"))
        .left_join(refunds, col("customer_id"), col("customer_id"))
        .with_columns([
            col("returns").fill_null(lit(0i64)),
            col("complaints").fill_null(lit(0i64)),
            col("refunded_orders").fill_null(lit(0i64)),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .map_err(err)
}

/// The trigger rules' view of a customer: the segments table with the model columns the rules
/// read (`churn_risk` = 1 − `p_alive`, `clv` = the longest-horizon CLV, `recommended` = the top
/// recommended item), null where the stage did not run.
fn people(seg: &DataFrame) -> LazyFrame {
    let has = |c: &str| seg.column(c).is_ok();
    let clv_col = seg
        .get_column_names()
        .iter()
        .filter_map(|n| n.strip_prefix("clv_").and_then(|h| h.strip_suffix('d')).and_then(|h| h.parse::<i64>().ok()))
        .max()
        .map(|h| format!("clv_{h}d"));
    let churn = if has("p_alive") { lit(1.0) - col("p_alive") } else { lit(NULL).cast(DataType::Float64) };
    let clv = match clv_col {
        Some(c) => col(c.as_str()).cast(DataType::Float64),
        None => lit(NULL).cast(DataType::Float64),
    };
    let rec = if has("recommended_items") {
        col("recommended_items").str().split(lit(", ")).list().first()
    } else {
        lit(NULL).cast(DataType::String)
    };
    seg.clone().lazy().with_columns([churn.alias("churn_risk"), clv.alias("clv"), rec.alias("recommended")])
}

/// Runs the triggers over the finished segments table and builds the audiences; with a
/// `previous` output folder, the segment changes since then.
pub(super) fn run(
    p: &TriggerValidParams,
    lake_dir: &Path,
    seg: &DataFrame,
    as_of: i64,
    previous: Option<&Path>,
) -> Result<Marketing, PipelineError> {
    let err = stage_err("marketing");
    let inputs = triggers::TriggerInputs {
        people: people(seg),
        orders: lake::scan(lake_dir, Table::Orders)?,
        events: lake::scan(lake_dir, Table::Events)?,
    };
    let actions = triggers::actions(&inputs, p, as_of).and_then(|lf| lf.collect()).map_err(&err)?;
    let lazy = actions.clone().lazy();
    let mut files = Vec::new();
    for (name, lf) in audiences::audiences(&lazy) {
        files.push((name, lf.collect().map_err(&err)?));
    }
    let summary = audiences::summary(lazy).collect().map_err(&err)?;
    let changes = match previous {
        Some(dir) => Some(segment_changes(seg, dir, lake_dir)?),
        None => None,
    };
    Ok(Marketing { actions, audiences: files, summary, changes })
}

fn segment_changes(seg: &DataFrame, dir: &Path, lake_dir: &Path) -> Result<DataFrame, PipelineError> {
    let path = dir.join("segments.parquet");
    let file = std::fs::File::open(&path).map_err(|e| PipelineError::Stage {
        stage: "marketing",
        message: format!("--previous: cannot read {}: {e}; give the out/ folder of an earlier run", path.display()),
    })?;
    let previous = ParquetReader::new(file).finish().map_err(stage_err("marketing"))?;
    let fields: Vec<&str> =
        migration::TRACKED.iter().copied().filter(|f| seg.column(f).is_ok() && previous.column(f).is_ok()).collect();
    let merges = lake::scan(lake_dir, Table::CustomerMerges)?;
    migration::segment_changes(seg.clone().lazy(), previous.lazy(), merges, &fields)
        .collect()
        .map_err(stage_err("marketing"))
}

/// `segments` with `actions`: the actions due for the customer, `, `-joined (null when none).
pub(super) fn join_actions(seg: DataFrame, actions: &DataFrame) -> Result<DataFrame, PipelineError> {
    let err = stage_err("marketing");
    let ids = actions.column("customer_id").and_then(|c| c.str().cloned()).map_err(&err)?;
    let names = actions.column("action").and_then(|c| c.str().cloned()).map_err(&err)?;
    let mut per: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, a) in ids.iter().zip(names.iter()) {
        if let (Some(id), Some(a)) = (id, a) {
            per.entry(id).or_default().push(a);
        }
    }
    let joined = df!(
        "customer_id" => per.keys().copied().collect::<Vec<_>>(),
        "actions" => per.values().map(|v| v.join(", ")).collect::<Vec<_>>()
    )
    .map_err(&err)?;
    seg.lazy()
        .left_join(joined.lazy(), col("customer_id"), col("customer_id"))
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .map_err(err)
}

/// Adds `actions`, `audiences/<action>` (Parquet + CSV), `audience_summary` and
/// `segment_changes`.
pub(super) fn add_outputs(outputs: &mut Outputs, m: Marketing, csv: bool) {
    outputs.table("actions", m.actions, false);
    for (name, df) in m.audiences {
        outputs.table(&format!("audiences/{name}"), df, csv);
    }
    outputs.table("audience_summary", m.summary, false);
    if let Some(c) = m.changes {
        outputs.table("segment_changes", c, false);
    }
}
