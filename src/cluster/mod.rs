//! Customer clusters with readable profiles, and lifecycle stages.
//!
//! ## Method
//! 1. [`features::cluster_frame`] (pure, lazy): per customer with a valid order, the candidate
//!    features in original units.
//! 2. [`fit`] (a fitted stage, on the collected frame): transform (`ln(1 + x)` for recency,
//!    frequency, monetary and predicted CLV), drop features with no values or a constant value
//!    (with a note), impute a feature's missing values with its median (with a note), robust-scale
//!    ([`scale`]), fit k = `k_min..=k_max` (or the fixed `k`) with [`kmeans`] and choose k by the
//!    silhouette on a seeded sample ([`select`]), then profile and label the clusters in original
//!    units ([`profile`]).
//! 3. [`lifecycle::lifecycle`] (pure, lazy): each customer's stage from recency relative to their
//!    own cadence, and p_alive when the CLV stage ran.
//!
//! ## Parameters
//! `[cluster]` ([`params::ClusterConfig`]) and `[lifecycle]` ([`params::LifecycleConfig`]).
//!
//! ## Example
//! ```
//! use custlens::cluster::{fit, params::ClusterParams};
//! use polars::prelude::*;
//! // Twelve customers: six recent frequent big spenders, six lapsed one-time small spenders.
//! let n = 12;
//! let big = |i: usize| i < 6;
//! let frame = df!(
//!     "customer_id" => (0..n).map(|i| format!("c{i:02}")).collect::<Vec<_>>(),
//!     "recency_days" => (0..n).map(|i| if big(i) { 3.0 + i as f64 } else { 300.0 + i as f64 }).collect::<Vec<_>>(),
//!     "frequency" => (0..n).map(|i| if big(i) { 8.0 + (i % 3) as f64 } else { 0.0 }).collect::<Vec<_>>(),
//!     "monetary_total" => (0..n).map(|i| if big(i) { 900.0 + 10.0 * i as f64 } else { 20.0 + i as f64 }).collect::<Vec<_>>(),
//!     "tenure_days" => (0..n).map(|i| if big(i) { 700.0 } else { 300.0 + i as f64 }).collect::<Vec<_>>(),
//!     "predicted_clv" => vec![None::<f64>; n],
//!     "return_rate" => vec![0.0; n],
//!     "email_engagement" => vec![None::<f64>; n],
//! ).unwrap();
//! let p = ClusterParams::new().k_range(2, 4).check().unwrap();
//! let out = fit(&frame, &p).unwrap();
//! assert_eq!(out.model.clusters, 2);
//! assert_eq!(out.model.features.len(), 3); // recency, frequency, monetary; the rest dropped
//! let labels = out.clusters.column("label").unwrap().str().unwrap();
//! assert_eq!(labels.get(0), Some("active high-value loyal"));
//! ```

pub mod features;
pub mod kmeans;
pub mod lifecycle;
pub mod params;
pub mod profile;
pub mod scale;
pub mod select;

use kmeans::{FitOptions, Matrix};
use params::{ClusterValidParams, Feature};
use polars::prelude::*;
use profile::RawColumn;
use scale::{quantile, robust_scaling, sorted, ScaleMethod};
use serde::Serialize;

/// Why clustering did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{n} customers with a valid order; clustering needs at least {need}")]
    TooFewCustomers { n: usize, need: usize },
    #[error("no usable clustering feature: {notes}")]
    NoUsableFeatures { notes: String },
    #[error("cluster input frame: {0}")]
    Frame(String),
    #[error("clustering failed: {0}")]
    Fit(String),
}

impl ClusterError {
    /// A property of the data (too few customers, nothing to cluster on), not a failure: the
    /// pipeline skips the stage with a warning.
    pub fn is_degenerate(&self) -> bool {
        matches!(self, ClusterError::TooFewCustomers { .. } | ClusterError::NoUsableFeatures { .. })
    }
}

/// A feature the clustering used, with its scaling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureUsed {
    pub feature: &'static str,
    /// Column in `cluster_features.parquet`.
    pub column: &'static str,
    /// Column in original units it comes from.
    pub raw_column: &'static str,
    pub center: f64,
    pub scale: f64,
    pub scale_method: ScaleMethod,
    /// Customers whose missing value was replaced by the median.
    pub imputed: usize,
}

/// A feature left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureDropped {
    pub feature: &'static str,
    pub reason: String,
}

/// One row of the k selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionRow {
    pub k: usize,
    /// Non-empty clusters found (≤ k).
    pub clusters: usize,
    pub inertia: f64,
    pub silhouette: Option<f64>,
    pub selected: bool,
}

/// A cluster's centroid in scaled units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Centroid {
    pub cluster: usize,
    pub label: String,
    pub scaled: Vec<f64>,
}

/// The fitted clustering, for `cluster_model.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterModel {
    pub algorithm: params::Algorithm,
    /// The chosen k.
    pub k: usize,
    /// Clusters found at that k.
    pub clusters: usize,
    pub seed: u64,
    pub n_init: usize,
    pub customers: usize,
    pub silhouette_sample: usize,
    pub features: Vec<FeatureUsed>,
    pub dropped: Vec<FeatureDropped>,
    /// Everything worth knowing about the run (dropped and imputed features, failed k).
    pub notes: Vec<String>,
    pub selection: Vec<SelectionRow>,
    pub centroids: Vec<Centroid>,
}

/// The fitted stage's outputs.
#[derive(Debug, Clone)]
pub struct ClusterFit {
    pub model: ClusterModel,
    /// `customer_id` + the scaled columns used.
    pub features: DataFrame,
    /// `k`, `clusters`, `inertia`, `silhouette`, `selected`.
    pub selection: DataFrame,
    /// `customer_id`, `cluster`, `label`.
    pub clusters: DataFrame,
    /// `cluster`, `label`, `customers`, `share`, `revenue`, `revenue_share`, `mean_<c>`, `median_<c>`.
    pub profiles: DataFrame,
}

/// Columns of the input frame in original units (see [`features::cluster_frame`]).
const RAW: [&str; 7] =
    ["recency_days", "frequency", "monetary_total", "tenure_days", "predicted_clv", "return_rate", "email_engagement"];

fn ln1p_pos(x: f64) -> f64 {
    x.max(0.0).ln_1p()
}

impl Feature {
    /// From original units to the clustered value.
    pub fn transform(self, x: f64) -> f64 {
        match self {
            Feature::LogRecency | Feature::LogFrequency | Feature::LogMonetary | Feature::PredictedClv => ln1p_pos(x),
            Feature::ReturnRate | Feature::EmailEngagement => x,
        }
    }

    fn missing_reason(self) -> &'static str {
        match self {
            Feature::PredictedClv => {
                "no predicted CLV (the CLV stage's output was not given or has no value for these customers)"
            }
            Feature::EmailEngagement => "no events table",
            _ => "no values",
        }
    }
}

fn f64_values(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, ClusterError> {
    let c = frame.column(name).map_err(|e| ClusterError::Frame(e.to_string()))?;
    let c = c.cast(&DataType::Float64).map_err(|e| ClusterError::Frame(e.to_string()))?;
    let ca = c.f64().map_err(|e| ClusterError::Frame(e.to_string()))?;
    Ok(ca.iter().map(|v| v.filter(|x| x.is_finite())).collect())
}

/// Clusters the customers of `frame` (from [`features::cluster_frame`]); see the module docs.
pub fn fit(frame: &DataFrame, p: &ClusterValidParams) -> Result<ClusterFit, ClusterError> {
    let ferr = |e: PolarsError| ClusterError::Frame(e.to_string());
    let n = frame.height();
    let ids = frame.column("customer_id").map_err(ferr)?.clone();
    let mut raw: Vec<RawColumn> = Vec::new();
    for name in RAW {
        raw.push(RawColumn { name, values: f64_values(frame, name)? });
    }
    let raw_of = |name: &str| raw.iter().find(|c| c.name == name).map(|c| &c.values);

    // Transform, drop, impute, scale.
    let mut used: Vec<FeatureUsed> = Vec::new();
    let mut dropped: Vec<FeatureDropped> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for &f in p.features() {
        let values =
            raw_of(f.raw_column()).ok_or_else(|| ClusterError::Frame(format!("no column {}", f.raw_column())))?;
        let t: Vec<Option<f64>> = values.iter().map(|v| v.map(|x| f.transform(x))).collect();
        let present: Vec<f64> = t.iter().flatten().copied().collect();
        if present.is_empty() {
            dropped.push(FeatureDropped { feature: f.name(), reason: f.missing_reason().into() });
            notes.push(format!("feature {} dropped: {}", f.name(), f.missing_reason()));
            continue;
        }
        let Some(scaling) = robust_scaling(&present) else {
            let reason = format!(
                "constant ({} = {} for every customer)",
                f.raw_column(),
                values.iter().flatten().next().copied().unwrap_or(0.0)
            );
            notes.push(format!("feature {} dropped: {reason}", f.name()));
            dropped.push(FeatureDropped { feature: f.name(), reason });
            continue;
        };
        let imputed = n - present.len();
        let fill = quantile(&sorted(&present), 0.5).unwrap_or(0.0);
        if imputed > 0 {
            notes.push(format!(
                "feature {}: {imputed} of {n} customers have no value; imputed with the median",
                f.name()
            ));
        }
        columns.push(t.iter().map(|v| scaling.apply(v.unwrap_or(fill))).collect());
        used.push(FeatureUsed {
            feature: f.name(),
            column: f.column(),
            raw_column: f.raw_column(),
            center: scaling.center,
            scale: scaling.scale,
            scale_method: scaling.method,
            imputed,
        });
    }
    if used.is_empty() {
        return Err(ClusterError::NoUsableFeatures { notes: notes.join("; ") });
    }
    let ks: Vec<usize> = p.ks.iter().copied().filter(|&k| k < n).collect();
    if ks.is_empty() {
        return Err(ClusterError::TooFewCustomers { n, need: p.ks[0] + 1 });
    }
    if ks.len() < p.ks.len() {
        notes.push(format!("k above {} not tried: {n} customers", n - 1));
    }
    let d = used.len();
    let data: Vec<f64> = (0..n).flat_map(|i| columns.iter().map(move |c| c[i])).collect();
    let x = Matrix::new(&data, d);
    let o = FitOptions {
        algorithm: p.algorithm,
        n_init: p.n_init,
        max_iter: p.max_iter,
        tolerance: p.tolerance,
        seed: p.seed,
    };
    let (cands, best, failures) = select::select(x, &ks, &o, p.silhouette_sample);
    notes.extend(failures.iter().cloned());
    let chosen = cands.get(best).ok_or_else(|| ClusterError::Fit(failures.join("; ")))?;

    // Profiles in original units: the four purchase columns and any other column with values.
    let prof_raw: Vec<RawColumn> = raw
        .iter()
        .filter(|c| {
            matches!(c.name, "recency_days" | "frequency" | "monetary_total" | "tenure_days")
                || c.values.iter().any(Option::is_some)
        })
        .cloned()
        .collect();
    let part = &chosen.partition;
    let (profs, canon) = profile::profiles(&prof_raw, &part.labels, part.k);
    let label_of = |id: usize| profs[id - 1].label.clone();

    let selection: Vec<SelectionRow> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| SelectionRow {
            k: c.k,
            clusters: c.partition.k,
            inertia: c.partition.inertia,
            silhouette: c.silhouette,
            selected: i == best,
        })
        .collect();
    let mut centroids: Vec<Centroid> = (0..part.k)
        .map(|j| Centroid {
            cluster: canon[j],
            label: label_of(canon[j]),
            scaled: part.centroids[j * d..(j + 1) * d].to_vec(),
        })
        .collect();
    centroids.sort_by_key(|c| c.cluster);

    // Tables.
    let mut fcols = vec![ids.clone()];
    for (u, c) in used.iter().zip(&columns) {
        fcols.push(Column::new(u.column.into(), c.clone()));
    }
    let features_df = DataFrame::new_infer_height(fcols).map_err(ferr)?;
    let cluster_ids: Vec<i64> = part.labels.iter().map(|&l| canon[l] as i64).collect();
    let labels: Vec<String> = part.labels.iter().map(|&l| label_of(canon[l])).collect();
    let clusters_df = DataFrame::new_infer_height(vec![
        ids,
        Column::new("cluster".into(), cluster_ids),
        Column::new("label".into(), labels),
    ])
    .map_err(ferr)?;
    let selection_df = DataFrame::new_infer_height(vec![
        Column::new("k".into(), selection.iter().map(|s| s.k as i64).collect::<Vec<_>>()),
        Column::new("clusters".into(), selection.iter().map(|s| s.clusters as i64).collect::<Vec<_>>()),
        Column::new("inertia".into(), selection.iter().map(|s| s.inertia).collect::<Vec<_>>()),
        Column::new("silhouette".into(), selection.iter().map(|s| s.silhouette).collect::<Vec<_>>()),
        Column::new("selected".into(), selection.iter().map(|s| s.selected).collect::<Vec<_>>()),
    ])
    .map_err(ferr)?;
    let mut pcols = vec![
        Column::new("cluster".into(), profs.iter().map(|p| p.cluster as i64).collect::<Vec<_>>()),
        Column::new("label".into(), profs.iter().map(|p| p.label.clone()).collect::<Vec<_>>()),
        Column::new("customers".into(), profs.iter().map(|p| p.customers as i64).collect::<Vec<_>>()),
        Column::new("share".into(), profs.iter().map(|p| p.share).collect::<Vec<_>>()),
        Column::new("revenue".into(), profs.iter().map(|p| p.revenue).collect::<Vec<_>>()),
        Column::new("revenue_share".into(), profs.iter().map(|p| p.revenue_share).collect::<Vec<_>>()),
    ];
    for (ci, c) in prof_raw.iter().enumerate() {
        pcols.push(Column::new(
            format!("mean_{}", c.name).into(),
            profs.iter().map(|p| p.stats[ci].mean).collect::<Vec<_>>(),
        ));
        pcols.push(Column::new(
            format!("median_{}", c.name).into(),
            profs.iter().map(|p| p.stats[ci].median).collect::<Vec<_>>(),
        ));
    }
    let profiles_df = DataFrame::new_infer_height(pcols).map_err(ferr)?;

    let model = ClusterModel {
        algorithm: p.algorithm,
        k: chosen.k,
        clusters: part.k,
        seed: p.seed,
        n_init: p.n_init,
        customers: n,
        silhouette_sample: p.silhouette_sample.min(n),
        features: used,
        dropped,
        notes,
        selection,
        centroids,
    };
    Ok(ClusterFit {
        model,
        features: features_df,
        selection: selection_df,
        clusters: clusters_df,
        profiles: profiles_df,
    })
}

#[cfg(test)]
mod tests;
