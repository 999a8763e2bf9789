//! The cluster and lifecycle stages through the `custlens` binary, on the bundled sample.

mod common;
use common::{custlens, ok, read, repo};
use polars::prelude::*;
use std::collections::BTreeSet;

fn names(df: &DataFrame) -> Vec<String> {
    df.get_column_names().iter().map(|s| s.to_string()).collect()
}

fn assert_no_nan(df: &DataFrame, what: &str) {
    for c in df.columns() {
        if let Ok(v) = c.f64() {
            assert!(v.iter().flatten().all(f64::is_finite), "{what}.{} has NaN or infinity", c.name());
        }
    }
}

#[test]
fn sample_run_writes_clusters_profiles_and_lifecycle() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = repo().join("data/sample/custlens.toml");
    let o = custlens(tmp.path(), &["run", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out"]);
    ok(&o);
    let out = tmp.path().join("out");
    let features = read(&out.join("cluster_features.parquet"));
    let selection = read(&out.join("cluster_selection.parquet"));
    let clusters = read(&out.join("clusters.parquet"));
    let profiles = read(&out.join("cluster_profiles.parquet"));
    let lifecycle = read(&out.join("lifecycle.parquet"));
    let segments = read(&out.join("segments.parquet"));
    let buyers = read(&out.join("customer_features.parquet")).height();

    // cluster_features: customer_id + the scaled columns used, predicted CLV from the CLV stage.
    assert_eq!(features.height(), buyers);
    let cols = names(&features);
    assert_eq!(cols[0], "customer_id");
    assert!(cols.contains(&"log_recency".to_string()) && cols.contains(&"log_predicted_clv".to_string()), "{cols:?}");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cluster_model.json")).unwrap()).unwrap();
    let dropped = model["dropped"].as_array().cloned().unwrap_or_default();
    assert!(dropped.iter().all(|d| d["feature"] != "predicted_clv"), "{dropped:?}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("feature predicted_clv dropped"));

    // cluster_selection: k = 2..10, exactly one selected, inertia decreasing.
    assert_eq!(names(&selection), ["k", "clusters", "inertia", "silhouette", "selected"]);
    let ks: Vec<i64> = selection.column("k").unwrap().i64().unwrap().iter().flatten().collect();
    assert_eq!(ks, (2..=10).collect::<Vec<_>>());
    assert_eq!(selection.column("selected").unwrap().bool().unwrap().sum(), Some(1));

    // clusters: one row per buyer, labels distinct per cluster and one cluster per label.
    assert_eq!(names(&clusters), ["customer_id", "cluster", "label"]);
    assert_eq!(clusters.height(), buyers);
    let k = profiles.height();
    assert!(k >= 2);
    let labels: BTreeSet<&str> = profiles.column("label").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(labels.len(), k, "labels not distinct: {labels:?}");
    let ids: Vec<i64> = profiles.column("cluster").unwrap().i64().unwrap().iter().flatten().collect();
    assert_eq!(ids, (1..=k as i64).collect::<Vec<_>>());
    let pairs = clusters
        .clone()
        .lazy()
        .select([col("cluster"), col("label")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .unwrap();
    assert_eq!(pairs.height(), k);

    // profiles: shares add up; means and medians in original units; no NaN anywhere.
    let pcols = names(&profiles);
    for c in ["customers", "share", "revenue", "revenue_share", "mean_monetary_total", "median_recency_days"] {
        assert!(pcols.contains(&c.to_string()), "{c} missing from {pcols:?}");
    }
    let share: f64 = profiles.column("share").unwrap().f64().unwrap().sum().unwrap();
    assert!((share - 1.0).abs() < 1e-9);
    let sizes: i64 = profiles.column("customers").unwrap().i64().unwrap().sum().unwrap();
    assert_eq!(sizes as usize, buyers);
    for (df, what) in
        [(&features, "cluster_features"), (&selection, "selection"), (&profiles, "profiles"), (&lifecycle, "lifecycle")]
    {
        assert_no_nan(df, what);
    }

    // lifecycle: every buyer has one of the five stages.
    assert_eq!(lifecycle.height(), buyers);
    let stages: BTreeSet<&str> = lifecycle.column("lifecycle_stage").unwrap().str().unwrap().iter().flatten().collect();
    assert!(stages.iter().all(|s| ["new", "active", "at_risk", "dormant", "lost"].contains(s)), "{stages:?}");
    assert!(stages.len() >= 3, "{stages:?}");

    // segments: cluster, label and stage for buyers; null for prospects.
    let seg = segments
        .lazy()
        .select([
            col("segment"),
            col("cluster").is_null().alias("no_cluster"),
            col("cluster_label").is_null().alias("no_label"),
            col("lifecycle_stage").is_null().alias("no_stage"),
        ])
        .collect()
        .unwrap();
    let prospect: Vec<bool> =
        seg.column("segment").unwrap().str().unwrap().iter().map(|s| s == Some("Prospect")).collect();
    for c in ["no_cluster", "no_label", "no_stage"] {
        let v: Vec<bool> = seg.column(c).unwrap().bool().unwrap().iter().map(|b| b.unwrap()).collect();
        assert_eq!(v, prospect, "{c}");
    }
}

#[test]
fn bad_cluster_config_is_a_usage_error_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custlens(tmp.path(), &["analyze", "--set", "cluster.k_max=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cluster.k_max"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = custlens(tmp.path(), &["analyze", "--set", "lifecycle.lost_ratio=2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("lifecycle."));
}
