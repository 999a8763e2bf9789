//! Integration tests through the `custlens` binary.

mod common;
use common::{copy_dir, custlens, ok, read, repo, truth};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn run_sample(dir: &Path) -> Output {
    let cfg = repo().join("data/sample/custlens.toml");
    custlens(dir, &["run", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out"])
}

fn int(v: &serde_json::Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[test]
fn sample_run_writes_tables_with_row_accounting_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_sample(tmp.path());
    ok(&o);
    let out = tmp.path().join("out");
    let lake = tmp.path().join("lake");
    for t in ["orders", "order_items", "products", "customers", "identities", "events", "tickets", "rejects", "files"] {
        assert!(lake.join(t).join("part-0.parquet").exists(), "lake table {t}");
    }
    let seg = read(&out.join("segments.parquet"));
    let customers = read(&lake.join("customers/part-0.parquet"));
    let features = read(&out.join("customer_features.parquet"));
    let rfm = read(&out.join("rfm.parquet"));
    assert_eq!(seg.height(), customers.height(), "one segment row per customer");
    assert_eq!(rfm.height(), features.height());
    assert!(features.height() > 300, "buyers: {}", features.height());
    let orders = read(&lake.join("orders/part-0.parquet"));
    assert!((1000..=5000).contains(&orders.height()), "orders: {}", orders.height());
    // Repeat buyers and people on several channels exist.
    let freq = features.column("frequency").unwrap().i64().unwrap();
    assert!(freq.iter().flatten().filter(|f| *f > 0).count() > 100);
    let channels = seg.column("channels").unwrap().str().unwrap();
    assert!(channels.iter().flatten().filter(|c| c.contains(';')).count() > 50);

    let m = manifest(&out);
    let files = m["ingested"].as_array().unwrap();
    assert_eq!(files.len(), 21, "{files:?}");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("data/sample/truth/params.json")).unwrap()).unwrap();
    let mut rejected = 0;
    for f in files {
        assert_eq!(
            int(f, "rows_read"),
            int(f, "new") + int(f, "updated") + int(f, "unchanged") + int(f, "duplicate") + int(f, "rejected"),
            "{f}"
        );
        assert_eq!(int(f, "updated") + int(f, "unchanged"), 0, "first run into an empty lake: {f}");
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
        // Exactly the planted malformed rows are rejected, exactly the re-exported rows are duplicates.
        let name = f["path"].as_str().unwrap().rsplit('/').next().unwrap();
        if let Some(t) = truth["counts"]["files"].get(name) {
            assert_eq!(int(f, "rows_read"), int(t, "rows"), "{name}");
            assert_eq!(int(f, "rejected"), int(t, "rejected_rows"), "{name}");
            assert_eq!(int(f, "duplicate"), int(t, "duplicate_rows"), "{name}");
        }
        rejected += int(f, "rejected");
    }
    let rejects = read(&lake.join("rejects/part-0.parquet"));
    assert_eq!(rejects.height() as i64, rejected);
    assert!(rejected > 0, "the sample carries planted malformed rows");
    let outputs: Vec<(String, i64)> = serde_json::from_value(m["outputs"].clone()).unwrap();
    assert!(outputs.contains(&("segments".into(), seg.height() as i64)));
    assert!(m["stages"].as_array().unwrap().len() >= 4);

    // A second run over the same lake: every row unchanged, byte-identical segment tables.
    let first_pq = std::fs::read(out.join("segments.parquet")).unwrap();
    let first_csv = std::fs::read(out.join("segments.csv")).unwrap();
    ok(&run_sample(tmp.path()));
    let m2 = manifest(&out);
    for f in m2["ingested"].as_array().unwrap() {
        assert_eq!(int(f, "new") + int(f, "updated"), 0, "{f}");
        assert_eq!(int(f, "unchanged") + int(f, "duplicate") + int(f, "rejected"), int(f, "rows_read"), "{f}");
    }
    assert!(first_pq == std::fs::read(out.join("segments.parquet")).unwrap(), "segments.parquet differs");
    assert!(first_csv == std::fs::read(out.join("segments.csv")).unwrap(), "segments.csv differs");
    assert_eq!(read(&lake.join("rejects/part-0.parquet")).height() as i64, rejected, "rejects not doubled");
}

const HEADER: &str = "order_id,customer_id,created_at,net_amount,status,currency";

fn canonical_file(dir: &Path, name: &str, rows: &[&str]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    p
}

fn good_rows() -> Vec<String> {
    (1..=8).map(|i| format!("o{i},c{},2024-0{}-10T10:00:00Z,{}.50,completed,USD", i % 3, 1 + i % 6, 10 * i)).collect()
}

#[test]
fn bad_date_on_line_7_is_a_reject_and_strict_stops_there() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[5] = "o6,c1,2024-02-30 10:00,12.00,completed,USD".into(); // header is line 1, so this is line 7
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let f = canonical_file(tmp.path(), "bad.csv", &refs);
    let o =
        custlens(tmp.path(), &["ingest", "--input", f.to_str().unwrap(), "--format", "canonical", "--lake", "lake"]);
    ok(&o);
    let rejects = read(&tmp.path().join("lake/rejects/part-0.parquet"));
    assert_eq!(rejects.height(), 1);
    assert_eq!(rejects.column("line").unwrap().i64().unwrap().get(0), Some(7));
    assert_eq!(rejects.column("column").unwrap().str().unwrap().get(0), Some("created_at"));
    assert!(rejects.column("raw").unwrap().str().unwrap().get(0).unwrap().starts_with("o6,c1,2024-02-30"));
    assert_eq!(read(&tmp.path().join("lake/orders/part-0.parquet")).height(), 7);

    let o = custlens(
        tmp.path(),
        &["ingest", "--input", f.to_str().unwrap(), "--format", "canonical", "--lake", "strict-lake", "--strict"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.csv:7"), "{err}");
    assert!(err.contains("created_at"), "{err}");
    assert!(!tmp.path().join("strict-lake/orders").exists(), "strict writes nothing");
}

#[test]
fn overlapping_exports_count_duplicates_and_reingest_counts_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = good_rows();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let a = canonical_file(tmp.path(), "a.csv", &refs[..5]);
    let b = canonical_file(tmp.path(), "b.csv", &refs[3..]);
    let o = custlens(
        tmp.path(),
        &[
            "run",
            "--input",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "canonical",
            "--lake",
            "lake",
            "--out",
            "out",
        ],
    );
    ok(&o);
    let m = manifest(&tmp.path().join("out"));
    let f = &m["ingested"][1];
    assert_eq!((int(f, "rows_read"), int(f, "new"), int(f, "duplicate")), (5, 3, 2), "{f}");
    // Change one amount and re-ingest: one updated, the rest unchanged.
    let mut changed = rows.clone();
    changed[0] = changed[0].replace("10.50", "11.50");
    let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
    let c = canonical_file(tmp.path(), "c.csv", &refs);
    ok(&custlens(
        tmp.path(),
        &["run", "--input", c.to_str().unwrap(), "--format", "canonical", "--lake", "lake", "--out", "out"],
    ));
    let f = &manifest(&tmp.path().join("out"))["ingested"][0];
    assert_eq!((int(f, "updated"), int(f, "unchanged"), int(f, "new")), (1, 7, 0), "{f}");
    // Given customer ids are kept.
    let seg = read(&tmp.path().join("out/segments.parquet"));
    let ids: Vec<&str> = seg.column("customer_id").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(ids, ["c0", "c1", "c2"]);
}

#[test]
fn usage_errors_exit_2_with_the_key_named() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custlens(tmp.path(), &["analyze", "--set", "rfm.monetary=median"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("median"));
    let o = custlens(tmp.path(), &["analyze", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let o = custlens(tmp.path(), &["ingest", "--input", "x.csv", "--format", "shopify-ish"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shopify-ish"));
    let bad = tmp.path().join("m.toml");
    std::fs::write(&bad, "table = \"orders\"\nsource = \"x\"\ncurrency = \"USD\"\n[columns]\norder_id = \"id\"\ncreated_at = \"t\"\nemail = \"e\"\nnet = \"n\"\n").unwrap();
    let data = canonical_file(tmp.path(), "d.csv", &[]);
    let o = custlens(tmp.path(), &["ingest", "--input", data.to_str().unwrap(), "--mapping", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("m.toml") && err.contains("columns.net"), "{err}");
}

#[test]
fn analyze_on_an_empty_lake_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custlens(tmp.path(), &["analyze", "--lake", "nowhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("custlens ingest"));
}

#[test]
fn pseudonymized_outputs_hide_contacts() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = repo().join("data/sample/custlens.toml");
    let o = custlens(
        tmp.path(),
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--lake",
            "lake",
            "--out",
            "out",
            "--set",
            "output.pseudonymize=true",
            "--set",
            "output.salt = s3cret",
        ],
    );
    ok(&o);
    let seg = read(&tmp.path().join("out/segments.parquet"));
    let emails: Vec<&str> = seg.column("email").unwrap().str().unwrap().iter().flatten().collect();
    assert!(!emails.is_empty());
    assert!(emails.iter().all(|e| !e.contains('@') && e.len() == 64));
    let manifest_text = std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap();
    assert!(!manifest_text.contains("s3cret"), "salt must not reach the manifest");
    let log = String::from_utf8_lossy(&o.stderr);
    let customers = read(&tmp.path().join("lake/customers/part-0.parquet"));
    for e in customers.column("email").unwrap().str().unwrap().iter().flatten().take(50) {
        assert!(!log.contains(e), "PII in logs: {e}");
    }
}

#[test]
fn segment_summary_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&run_sample(tmp.path()));
    let seg = read(&tmp.path().join("out/segments.parquet"));
    let summary = seg
        .lazy()
        .group_by([col("segment")])
        .agg([
            len().alias("customers"),
            col("monetary_total").sum().round(2, RoundMode::HalfAwayFromZero).alias("revenue"),
            col("recency_days").mean().round(1, RoundMode::HalfAwayFromZero).alias("mean_recency_days"),
        ])
        .sort(["segment"], SortMultipleOptions::default())
        .collect()
        .unwrap();
    let mut text = String::new();
    for i in 0..summary.height() {
        let row = summary.get_row(i).unwrap();
        text.push_str(&format!("{}\n", row.0.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")));
    }
    insta::assert_snapshot!(text);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn run_without_arguments_uses_the_bundled_sample() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/sample"), &tmp.path().join("data/sample"));
    let o = custlens(tmp.path(), &["run"]);
    ok(&o);
    for f in ["customer_features.parquet", "rfm.parquet", "segments.parquet", "segments.csv", "manifest.json"] {
        assert!(tmp.path().join("out").join(f).exists(), "{f}");
    }
    assert!(tmp.path().join("lake/orders/part-0.parquet").exists());
    let csv = std::fs::read_to_string(tmp.path().join("out/segments.csv")).unwrap();
    assert!(csv.starts_with("customer_id,segment,r_score"), "{}", &csv[..80]);
}

#[test]
fn bundled_sample_is_what_the_generator_writes() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&custlens(tmp.path(), &["gen", "--out", "gen"]));
    let bundled = repo().join("data/sample");
    let generated = tmp.path().join("gen");
    let rel = |base: &Path, v: Vec<PathBuf>| {
        v.into_iter().map(|p| p.strip_prefix(base).unwrap().to_path_buf()).collect::<Vec<_>>()
    };
    let files = rel(&bundled, files_under(&bundled));
    assert_eq!(files, rel(&generated, files_under(&generated)));
    for f in files {
        assert!(
            std::fs::read(bundled.join(&f)).unwrap() == std::fs::read(generated.join(&f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
}

#[test]
fn generated_data_ingests_with_exactly_the_planted_rejects_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    // A higher noise rate than the default so every file carries some, fixed in a params file.
    std::fs::write(p.join("params.toml"), "[noise]\nmalformed_rate = 0.01\nduplicate_rate = 0.05\n").unwrap();
    ok(&custlens(p, &["gen", "--customers", "1500", "--seed", "5", "--out", "g", "--params", "params.toml"]));
    ok(&custlens(p, &["run", "--config", "g/custlens.toml", "--lake", "lake", "--out", "out"]));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("g/truth/params.json")).unwrap()).unwrap();
    let m = manifest(&p.join("out"));
    let mut checked = 0;
    for f in m["ingested"].as_array().unwrap() {
        let name = f["path"].as_str().unwrap().rsplit('/').next().unwrap();
        let Some(t) = truth["counts"]["files"].get(name) else { continue };
        assert_eq!(int(f, "rows_read"), int(t, "rows"), "{name}");
        assert_eq!(int(f, "rejected"), int(t, "rejected_rows"), "{name}");
        assert_eq!(int(f, "duplicate"), int(t, "duplicate_rows"), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 20);
    let planted: i64 = truth["counts"]["files"].as_object().unwrap().values().map(|v| int(v, "malformed")).sum();
    assert!(planted > 10, "planted {planted}");
    // Valid orders in the lake = purchases in the clean log that reached it.
    let purchases = std::fs::read_to_string(p.join("g/truth/purchases.csv")).unwrap();
    // purchases.csv: …,in_lake,identified
    let in_lake = purchases.lines().skip(1).filter(|l| l.rsplit(',').nth(1) == Some("true")).count();
    let orders = read(&p.join("lake/orders/part-0.parquet"));
    let valid = orders
        .lazy()
        .filter(col("status").is_in(lit(Series::new("s".into(), ["paid", "shipped", "completed"])), false))
        .collect()
        .unwrap()
        .height();
    assert_eq!(valid, in_lake);
}

#[test]
fn a_later_export_with_a_new_status_wins_and_unusable_contacts_are_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let header = "order_id,email,created_at,net_amount,status,currency";
    std::fs::write(
        p.join("a.csv"),
        format!("{header}\nX,x@a.com,2024-01-01T00:00:00Z,10,paid,USD\nY,n/a,2024-01-02T00:00:00Z,5,paid,USD\n"),
    )
    .unwrap();
    std::fs::write(p.join("b.csv"), format!("{header}\nX,x@a.com,2024-01-01T00:00:00Z,10,cancelled,USD\n")).unwrap();
    let o = custlens(p, &["ingest", "--input", "a.csv", "b.csv", "--format", "canonical", "--lake", "lake"]);
    ok(&o);
    let files = read(&p.join("lake/files/part-0.parquet"));
    let col = |c: &str| files.column(c).unwrap().i64().unwrap().iter().flatten().collect::<Vec<_>>();
    // a.csv then b.csv (sorted by path): X new + Y rejected; X updated by b.csv.
    assert_eq!(
        (col("new"), col("rejected"), col("updated"), col("duplicate")),
        (vec![1, 0], vec![1, 0], vec![0, 1], vec![0, 0])
    );
    let rejects = read(&p.join("lake/rejects/part-0.parquet"));
    assert!(rejects.column("reason").unwrap().str().unwrap().get(0).unwrap().contains("usable customer identifier"));
    let orders = read(&p.join("lake/orders/part-0.parquet"));
    assert_eq!(orders.column("status").unwrap().str().unwrap().get(0), Some("cancelled"));
    // Ingesting them one by one gives the same lake.
    ok(&custlens(p, &["ingest", "--input", "a.csv", "--format", "canonical", "--lake", "lake2"]));
    ok(&custlens(p, &["ingest", "--input", "b.csv", "--format", "canonical", "--lake", "lake2"]));
    let orders2 = read(&p.join("lake2/orders/part-0.parquet"));
    assert_eq!(orders2.column("status").unwrap().str().unwrap().get(0), Some("cancelled"));
}

/// Identity resolution on generated data against the generator's truth (figures in
/// `common::truth::identity_scores`).
#[test]
fn identity_resolution_against_the_generator_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "3000", "--seed", "11", "--out", "g"]));
    ok(&custlens(p, &["ingest", "--config", "g/custlens.toml", "--lake", "lake"]));
    let s = truth::identity_scores(&p.join("g"), &p.join("lake"));
    assert!(s.found.0 as f64 > 0.95 * s.found.1 as f64, "{} of {} truth keys found", s.found.0, s.found.1);
    assert!(s.precision >= 0.99, "precision {}", s.precision);
    assert!(s.usable_recall >= 0.95, "recall over pairs sharing a usable key {}", s.usable_recall);
    assert!(s.recall >= 0.9, "all-pairs recall {}", s.recall);
}

/// Events and tickets of generated data, from every source, land on a customer that is their own
/// person and no one else, and on the customer of the person's orders whenever the row's own
/// email or phone is on one of those orders (`common::truth::landing`).
#[test]
fn generated_events_and_tickets_land_with_the_right_customers() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "1500", "--seed", "5", "--out", "g"]));
    ok(&custlens(p, &["ingest", "--config", "g/custlens.toml", "--lake", "lake"]));
    for t in ["events", "tickets"] {
        for (source, l) in truth::landing(&p.join("g"), &p.join("lake"), t) {
            assert!(
                l.known as f64 > 0.9 * l.rows as f64,
                "{t} from {source}: {} of {} rows have a truth person",
                l.known,
                l.rows
            );
            assert!(l.precision() >= 0.99 && l.linked() >= 0.99, "{t} from {source}: {} {}", l.precision(), l.linked());
        }
    }
}
