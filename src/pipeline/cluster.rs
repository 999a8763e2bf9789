//! Glue of the cluster and lifecycle stages: checked params, the input frames from the lake,
//! the collects, the fitted stage, and the columns they add to `segments`.
//!
//! Outputs: `cluster_features`, `cluster_selection`, `clusters`, `cluster_profiles`,
//! `cluster_model.json` (when clustering ran) and `lifecycle` (always); `segments` gains
//! `cluster`, `cluster_label` and `lifecycle_stage`. Too few customers or no usable feature skips
//! clustering with a warning (the cluster columns of `segments` are then null); any other
//! failure fails the run.

use super::{stage_err, PipelineError};
use crate::cluster::{
    self,
    features::{cluster_frame, email_engagement, return_rates},
    lifecycle::lifecycle,
    params::{ClusterParams, ClusterValidParams, LifecycleParams, LifecycleValidParams},
};
use crate::config::Config;
use crate::lake::{self, LakeError};
use crate::schema::Table;
use polars::prelude::*;
use std::path::Path;

/// Checked `[cluster]` and `[lifecycle]`.
pub(super) struct Params {
    cluster: ClusterValidParams,
    lifecycle: LifecycleValidParams,
}

pub(super) fn params(cfg: &Config) -> Result<Params, PipelineError> {
    let cluster = ClusterParams::from_config(&cfg.cluster)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("cluster.{}", e.key()), message: e.to_string() })?;
    let lifecycle = LifecycleParams::from_config(&cfg.lifecycle)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("lifecycle.{}", e.key()), message: e.to_string() })?;
    Ok(Params { cluster, lifecycle })
}

/// What the stages produced.
pub(super) struct Stage {
    /// (output name, table), in writing order.
    pub tables: Vec<(&'static str, DataFrame)>,
    /// `cluster_model.json`, when clustering ran.
    pub model: Option<serde_json::Value>,
    /// `customer_id`, `cluster`, `cluster_label`, `lifecycle_stage`: joined into `segments`.
    pub per_customer: DataFrame,
}

/// A lake table, or None when it was never written.
fn scan_optional(lake_dir: &Path, t: Table) -> Result<Option<LazyFrame>, PipelineError> {
    match lake::scan(lake_dir, t) {
        Ok(lf) => Ok(Some(lf)),
        Err(LakeError::Missing { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Lifecycle stages and, when enabled, clusters of the customers in `features`.
///
/// `clv`: the CLV stage's per-customer frame (`customer_id`, `[cluster] clv_column`,
/// `[lifecycle] p_alive_column`), when it ran.
pub(super) fn run(
    p: &Params,
    lake_dir: &Path,
    orders: LazyFrame,
    features: &DataFrame,
    clv: Option<&DataFrame>,
    as_of: i64,
) -> Result<Stage, PipelineError> {
    let err = stage_err("cluster");
    let life =
        lifecycle(features.clone().lazy(), clv.map(|c| c.clone().lazy()), &p.lifecycle).collect().map_err(&err)?;
    let mut tables = Vec::new();
    let mut model = None;
    let mut assigned: Option<DataFrame> = None;
    if p.cluster.enabled() {
        let tickets = scan_optional(lake_dir, Table::Tickets)?;
        let events = scan_optional(lake_dir, Table::Events)?;
        let frame = cluster_frame(
            features.clone().lazy(),
            return_rates(orders, tickets, as_of),
            events.map(|e| email_engagement(e, as_of)),
            clv.map(|c| c.clone().lazy()),
            p.cluster.clv_column(),
        )
        .collect()
        .map_err(&err)?;
        match cluster::fit(&frame, &p.cluster) {
            Ok(fit) => {
                for note in &fit.model.notes {
                    tracing::info!(note = note.as_str(), "cluster");
                }
                let chosen = fit.model.selection.iter().find(|s| s.selected);
                tracing::info!(
                    k = fit.model.k,
                    clusters = fit.model.clusters,
                    silhouette = chosen.and_then(|s| s.silhouette).map(|s| format!("{s:.3}")).unwrap_or_default(),
                    features = fit.model.features.iter().map(|f| f.feature).collect::<Vec<_>>().join(","),
                    "clusters chosen"
                );
                model = Some(
                    serde_json::to_value(&fit.model)
                        .map_err(|e| PipelineError::Stage { stage: "cluster", message: e.to_string() })?,
                );
                assigned = Some(fit.clusters.clone());
                tables.push(("cluster_features", fit.features));
                tables.push(("cluster_selection", fit.selection));
                tables.push(("clusters", fit.clusters));
                tables.push(("cluster_profiles", fit.profiles));
            }
            Err(e) if e.is_degenerate() => tracing::warn!(reason = e.to_string(), "clustering skipped"),
            Err(e) => return Err(PipelineError::Stage { stage: "cluster", message: e.to_string() }),
        }
    }
    let mut per = life.clone().lazy().select([col("customer_id"), col("lifecycle_stage")]);
    per = match assigned {
        Some(a) => per.left_join(
            a.lazy().select([col("customer_id"), col("cluster"), col("label").alias("cluster_label")]),
            col("customer_id"),
            col("customer_id"),
        ),
        None => per.with_columns([
            lit(NULL).cast(DataType::Int64).alias("cluster"),
            lit(NULL).cast(DataType::String).alias("cluster_label"),
        ]),
    };
    let per_customer = per
        .select([col("customer_id"), col("cluster"), col("cluster_label"), col("lifecycle_stage")])
        .collect()
        .map_err(&err)?;
    tables.push(("lifecycle", life));
    Ok(Stage { tables, model, per_customer })
}

/// `segments` with `cluster`, `cluster_label` and `lifecycle_stage` (null for prospects), sorted by `customer_id`.
pub(super) fn join_segments(segments: LazyFrame, per_customer: &DataFrame) -> LazyFrame {
    segments
        .left_join(per_customer.clone().lazy(), col("customer_id"), col("customer_id"))
        .sort(["customer_id"], SortMultipleOptions::default())
}
