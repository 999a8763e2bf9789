//! The segments table, actions and audiences through the CLI, on the sample and on generated data.

mod common;
use common::{custlens, ok, read, repo};
use polars::prelude::*;
use std::path::Path;

/// The documented segments columns and dtypes (schema_version 2).
const SEGMENT_COLUMNS: [(&str, &str); 32] = [
    ("customer_id", "str"),
    ("segment", "str"),
    ("r_score", "i64"),
    ("f_score", "i64"),
    ("m_score", "i64"),
    ("fm_score", "i64"),
    ("recency_days", "i64"),
    ("purchase_days", "i64"),
    ("orders", "i64"),
    ("monetary_total", "f64"),
    ("monetary_avg", "f64"),
    ("currency", "str"),
    ("first_order_at", "datetime[μs, UTC]"),
    ("last_order_at", "datetime[μs, UTC]"),
    ("channels", "str"),
    ("email", "str"),
    ("phone", "str"),
    ("name", "str"),
    ("email_opt_in", "bool"),
    ("sms_opt_in", "bool"),
    ("cluster", "i64"),
    ("cluster_label", "str"),
    ("lifecycle_stage", "str"),
    ("p_alive", "f64"),
    ("churn_tier", "str"),
    ("clv_90d", "f64"),
    ("clv_365d", "f64"),
    ("recommended_items", "str"),
    ("returns", "i64"),
    ("complaints", "i64"),
    ("refunded_orders", "i64"),
    ("actions", "str"),
];

fn check_out(out: &Path) {
    let seg = read(&out.join("segments.parquet"));
    let got: Vec<(String, String)> = seg.schema().iter().map(|(n, d)| (n.to_string(), d.to_string())).collect();
    let want: Vec<(String, String)> = SEGMENT_COLUMNS.iter().map(|(n, d)| (n.to_string(), d.to_string())).collect();
    assert_eq!(got, want);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["schema_version"], 2);
    // One audience per action, Parquet and CSV, with the columns mail tools import.
    let summary = read(&out.join("audience_summary.parquet"));
    assert_eq!(summary.height(), 16);
    let actions = read(&out.join("actions.parquet"));
    for a in [
        "welcome",
        "abandoned_cart",
        "unpaid_reminder",
        "shipping_care",
        "review_request",
        "vip_care",
        "win_back",
        "holiday_offer",
    ] {
        let aud = read(&out.join(format!("audiences/{a}.parquet")));
        let cols: Vec<String> = aud.get_column_names().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            cols,
            ["customer_id", "channel", "email", "phone", "name", "segment", "suggested_product", "suggested_offer"]
        );
        assert!(out.join(format!("audiences/{a}.csv")).exists());
        // A contact only for the channel, and only with consent for marketing messages.
        let ch = aud.column("channel").unwrap().str().unwrap().clone();
        let (em, ph) =
            (aud.column("email").unwrap().str().unwrap().clone(), aud.column("phone").unwrap().str().unwrap().clone());
        for i in 0..aud.height() {
            match ch.get(i) {
                Some("email") => assert!(em.get(i).is_some() && ph.get(i).is_none()),
                Some("sms") => assert!(ph.get(i).is_some() && em.get(i).is_none()),
                other => panic!("channel {other:?}"),
            }
        }
        let n = actions.column("action").unwrap().str().unwrap().iter().filter(|x| *x == Some(a)).count();
        assert_eq!(aud.height(), n);
    }
    // Marketing actions reach only opted-in customers.
    let marketing = actions
        .clone()
        .lazy()
        .filter(
            col("action")
                .is_in(lit(Series::new("a".into(), ["vip_care", "win_back", "welcome", "abandoned_cart"])), false),
        )
        .join(seg.clone().lazy(), [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .collect()
        .unwrap();
    let ok_consent = marketing
        .clone()
        .lazy()
        .filter(
            (col("channel").eq(lit("email")).and(col("email_opt_in").eq(lit(true))))
                .or(col("channel").eq(lit("sms")).and(col("sms_opt_in").eq(lit(true)))),
        )
        .collect()
        .unwrap()
        .height();
    assert_eq!(ok_consent, marketing.height());
    assert!(actions.height() > 0);
}

#[test]
fn sample_run_writes_segments_actions_audiences_and_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let cfg = repo().join("data/sample/custlens.toml");
    ok(&custlens(p, &["run", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out"]));
    check_out(&p.join("out"));
    // Against itself, nobody moved; against a run 120 days earlier, some did.
    let o = custlens(
        p,
        &["analyze", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "out2", "--previous", "out"],
    );
    ok(&o);
    assert_eq!(read(&p.join("out2/segment_changes.parquet")).height(), 0);
    ok(&custlens(
        p,
        &["analyze", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "early", "--as-of", "2024-09-01"],
    ));
    ok(&custlens(
        p,
        &["analyze", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "late", "--previous", "early"],
    ));
    let changes = read(&p.join("late/segment_changes.parquet"));
    assert!(changes.height() > 0);
    let fields: Vec<&str> = changes.column("field").unwrap().str().unwrap().iter().flatten().collect();
    assert!(fields.contains(&"segment") && fields.contains(&"churn_tier"), "{fields:?}");
    let o = custlens(
        p,
        &["analyze", "--config", cfg.to_str().unwrap(), "--lake", "lake", "--out", "x", "--previous", "nowhere"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--previous"));
}

#[test]
fn generated_data_run_writes_segments_and_audiences() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    ok(&custlens(p, &["gen", "--customers", "1500", "--seed", "3", "--out", "g"]));
    ok(&custlens(p, &["run", "--config", "g/custlens.toml", "--lake", "lake", "--out", "out"]));
    check_out(&p.join("out"));
}
