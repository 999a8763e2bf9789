//! `custlens bench` through the binary: table on stdout, JSON file, cache reuse.
//!
//! Correctness only (stages present, counts positive, cache reused); speed is never asserted here.

mod common;
use common::{custlens, ok};
use std::path::Path;

fn bench(dir: &Path, json: &Path, cache: &Path) -> (String, serde_json::Value) {
    let o = custlens(
        dir,
        &["bench", "--customers", "300", "--json", json.to_str().unwrap(), "--cache", cache.to_str().unwrap()],
    );
    ok(&o);
    let table = String::from_utf8(o.stdout).unwrap();
    let doc = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (table, doc)
}

fn gen_stage(doc: &serde_json::Value) -> &serde_json::Value {
    doc["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "gen").expect("gen stage")
}

#[test]
fn bench_prints_a_table_writes_json_and_reuses_its_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let json = tmp.path().join("bench.json");

    let (table, doc) = bench(tmp.path(), &json, &cache);
    let header = table.lines().next().unwrap();
    for col in ["stage", "rows", "seconds", "rows/s", "peak MB"] {
        assert!(header.contains(col), "header {header:?}");
    }
    for stage in ["gen", "ingest", "features", "rfm", "segments"] {
        assert!(table.lines().any(|l| l.starts_with(stage)), "{stage} in\n{table}");
    }
    let stages = doc["stages"].as_array().unwrap();
    assert!(stages.len() >= 6, "{stages:?}");
    for s in stages {
        assert!(s["seconds"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(s["rows"].as_u64().unwrap() > 0, "{s}");
        assert!(s["rows_unit"].is_string(), "{s}");
    }
    assert_eq!(gen_stage(&doc)["cached"], false);
    assert_eq!(doc["parameters"]["customers"], 300);
    assert_eq!(doc["parameters"]["seed"], 1);
    assert!(doc["machine"]["nproc"].as_u64().unwrap() >= 1);
    assert!(["per_stage", "process", "unavailable"].contains(&doc["rss_mode"].as_str().unwrap()));
    if cfg!(target_os = "linux") {
        assert!(stages.iter().all(|s| s["peak_rss_mb"].as_f64().unwrap() > 0.0), "{stages:?}");
        assert!(doc["machine"]["total_memory_mb"].as_f64().unwrap() > 0.0);
    }
    let ingest = stages.iter().find(|s| s["stage"] == "ingest").unwrap();
    let lake_orders = doc["lake_rows"].as_array().unwrap().iter().find(|r| r[0] == "orders").unwrap()[1].as_u64();
    assert!(lake_orders.unwrap() > 0);
    assert!(ingest["rows"].as_u64() >= lake_orders, "input rows ≥ orders: {ingest}");

    let (table2, doc2) = bench(tmp.path(), &json, &cache);
    assert_eq!(gen_stage(&doc2)["cached"], true);
    assert!(table2.lines().any(|l| l.starts_with("gen (cached)")), "{table2}");
    assert_eq!(doc2["stages"][1]["rows"], ingest["rows"], "same data");
}

#[test]
fn scale_and_customers_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custlens(tmp.path(), &["bench", "--scale", "s", "--customers", "10"]);
    assert_eq!(o.status.code(), Some(2));
    let o = custlens(tmp.path(), &["bench", "--scale", "xl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("s (10k customers)"));
}
