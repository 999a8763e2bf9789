//! CLV end to end through the CLI: `custlens run` on the bundled sample and on generated data
//! writes out/clv.parquet, out/clv_validation.parquet and out/models/clv.json.

mod common;

use chrono::Datelike;
use common::{copy_dir, custlens, ok, read, repo};
use polars::prelude::*;
use std::path::Path;

/// Checks the three CLV outputs under `out` (BG/NBD) and returns the model document.
fn check_outputs(out: &Path, time_unit: &str) -> serde_json::Value {
    check_model_outputs(out, time_unit, "bgnbd", &["r", "alpha", "a", "b"])
}

/// Checks the three CLV outputs under `out` for `model` with parameters `names`.
fn check_model_outputs(out: &Path, time_unit: &str, model: &str, param_names: &[&str]) -> serde_json::Value {
    let clv = read(&out.join("clv.parquet"));
    let want = [
        "customer_id",
        "x",
        "t_x",
        "T",
        "p_alive",
        "churn_risk",
        "churn_tier",
        "expected_purchases_90d",
        "expected_purchases_365d",
        "expected_aov",
        "clv_90d",
        "clv_365d",
        "next_purchase_date",
    ];
    let names: Vec<&str> = clv.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, want);
    assert!(clv.height() > 100);
    assert_eq!(clv.column("next_purchase_date").unwrap().dtype(), &DataType::Date);
    for c in clv.columns() {
        if c.name() != "next_purchase_date" {
            assert_eq!(c.null_count(), 0, "nulls in {}", c.name());
        }
        if let Ok(f) = c.f64() {
            assert!(f.iter().flatten().all(|v| v.is_finite()), "non-finite value in {}", c.name());
        }
    }
    let pa = clv.column("p_alive").unwrap().f64().unwrap();
    assert!(pa.iter().flatten().all(|v| (0.0..=1.0).contains(&v)));

    let v = read(&out.join("clv_validation.parquet"));
    let names: Vec<&str> = v.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["section", "key", "label", "customers", "actual", "predicted", "abs_error"]);
    let sections: Vec<&str> = v.column("section").unwrap().str().unwrap().iter().flatten().collect();
    for s in ["frequency", "tracking", "mae"] {
        assert!(sections.contains(&s), "no {s} rows");
    }
    for c in ["actual", "predicted", "abs_error"] {
        assert!(v.column(c).unwrap().f64().unwrap().iter().flatten().all(|x| x.is_finite()));
    }

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("models/clv.json")).unwrap()).unwrap();
    assert_eq!(m["model"], model);
    assert_eq!(m["time_unit"], time_unit);
    assert_eq!(m["n_customers"].as_u64().unwrap() as usize, clv.height());
    assert_eq!(m["params"].as_object().unwrap().len(), param_names.len());
    for k in param_names {
        assert!(m["params"][k].as_f64().unwrap() > 0.0 && m["std_errors"][k].as_f64().unwrap() > 0.0, "{k}");
    }
    assert!(m["log_likelihood"].as_f64().unwrap() < 0.0);
    assert_eq!(m["converged"], true);
    assert_eq!(m["spend_model"]["model"], "gamma_gamma");
    for k in ["p", "q", "gamma"] {
        assert!(m["spend_model"]["params"][k].as_f64().unwrap() > 0.0, "{k}");
    }
    assert!(m["spend_model"]["log_likelihood"].as_f64().unwrap().is_finite());
    assert!(m["validation"]["mae_tracking"].as_f64().unwrap().is_finite());

    let seg = read(&out.join("segments.parquet"));
    for c in ["p_alive", "churn_tier", "clv_90d", "clv_365d"] {
        assert!(seg.column(c).is_ok(), "segments lacks {c}");
    }
    m
}

#[test]
fn run_on_the_bundled_sample_writes_clv_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/sample"), &tmp.path().join("data/sample"));
    ok(&custlens(tmp.path(), &["run"]));
    let m = check_outputs(&tmp.path().join("out"), "weeks");
    // No calibration_end: the last 91 days validate a calibration fit; scores are as of the last day.
    assert_eq!(m["calibration_end"], "2024-12-31");
    assert_eq!(m["validation"]["calibration_end"], "2024-10-01");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap()).unwrap();
    let stages: Vec<&str> =
        manifest["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert!(stages.contains(&"clv"), "{stages:?}");

    // --calibration-end on analyze: fit and score as of that day, validate on the rest.
    let o = custlens(
        tmp.path(),
        &[
            "analyze",
            "--config",
            "data/sample/custlens.toml",
            "--calibration-end",
            "2024-06-30",
            "--set",
            "clv.time_unit=days",
        ],
    );
    ok(&o);
    let m = check_outputs(&tmp.path().join("out"), "days");
    assert_eq!(m["calibration_end"], "2024-06-30");
    assert_eq!(m["validation"]["holdout_days"], 184);

    // A bad date is a usage error naming the key.
    let o =
        custlens(tmp.path(), &["analyze", "--config", "data/sample/custlens.toml", "--calibration-end", "2024-02-30"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("clv.calibration_end"));
}

#[test]
fn run_on_generated_data_writes_clv_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&custlens(tmp.path(), &["gen", "--customers", "3000", "--seed", "5", "--out", "gen"]));
    ok(&custlens(tmp.path(), &["run", "--config", "gen/custlens.toml", "--lake", "lake", "--out", "out"]));
    let m = check_outputs(&tmp.path().join("out"), "weeks");
    // λ is a rate: in weeks α is the generator's daily α = 40 divided by 7 (≈ 5.7); a wide margin at this size.
    let alpha = m["params"]["alpha"].as_f64().unwrap();
    assert!((3.0..9.0).contains(&alpha), "alpha = {alpha}");
}

#[test]
fn too_little_data_skips_clv_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("o.csv");
    std::fs::write(
        &csv,
        "order_id,customer_id,created_at,net_amount,status,currency\no1,c1,2024-01-10T10:00:00Z,10.0,completed,USD\no2,c2,2024-02-10T10:00:00Z,12.0,completed,USD\n",
    )
    .unwrap();
    let o = custlens(
        tmp.path(),
        &["run", "--input", csv.to_str().unwrap(), "--format", "canonical", "--lake", "lake", "--out", "out"],
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("clv skipped") && err.contains("bgnbd"), "{err}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/models/clv.json")).unwrap()).unwrap();
    assert!(m["error"].as_str().unwrap().contains("repeat purchase"), "{m}");
    assert!(!tmp.path().join("out/clv.parquet").exists());
    assert!(tmp.path().join("out/segments.parquet").exists());
}

#[test]
fn every_model_writes_the_outputs_and_auto_writes_its_candidates() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data/sample"), &tmp.path().join("data/sample"));
    ok(&custlens(tmp.path(), &["run"]));
    let analyze = |model: &str, extra: &[&str]| {
        let set = format!("clv.model={model}");
        let mut args = vec!["analyze", "--config", "data/sample/custlens.toml", "--set", set.as_str()];
        args.extend_from_slice(extra);
        ok(&custlens(tmp.path(), &args));
    };
    let out = tmp.path().join("out");
    let candidates = out.join("models/clv_candidates.json");

    analyze("pareto_nbd", &[]);
    let m = check_model_outputs(&out, "weeks", "pareto_nbd", &["r", "alpha", "s", "beta"]);
    assert_eq!(m["validation"]["calibration_fit"]["model"], "pareto_nbd");
    assert!(!candidates.exists());

    analyze("mbgnbd", &[]);
    let m = check_model_outputs(&out, "weeks", "mbgnbd", &["r", "alpha", "a", "b"]);
    // MBG/NBD lets one-time buyers be gone: some have P(alive) < 1.
    let clv = read(&out.join("clv.parquet"));
    let x = clv.column("x").unwrap().i64().unwrap();
    let pa = clv.column("p_alive").unwrap().f64().unwrap();
    assert!(x.iter().zip(pa.iter()).any(|(x, p)| x == Some(0) && p.unwrap() < 0.99));
    assert!(m["log_likelihood"].as_f64().unwrap() < 0.0);

    // BG/BB on calendar quarters: the calibration ends on a quarter's last day.
    analyze("bgbb", &["--set", "clv.bgbb_period=quarter", "--calibration-end", "2024-08-15"]);
    let m = check_model_outputs(&out, "quarter", "bgbb", &["alpha", "beta", "gamma", "delta"]);
    assert_eq!(m["calibration_end"], "2024-06-30");
    let clv = read(&out.join("clv.parquet"));
    let (x, t_x, n) = (
        clv.column("x").unwrap().i64().unwrap(),
        clv.column("t_x").unwrap().f64().unwrap(),
        clv.column("T").unwrap().f64().unwrap(),
    );
    for i in 0..clv.height() {
        let (x, t_x, n) = (x.get(i).unwrap() as f64, t_x.get(i).unwrap(), n.get(i).unwrap());
        assert!(x <= t_x && t_x <= n && n.fract() == 0.0, "({x}, {t_x}, {n})");
    }
    let dates = clv.column("next_purchase_date").unwrap().cast(&DataType::Int32).unwrap();
    // Next-purchase dates are quarter ends.
    for d in dates.i32().unwrap().iter().flatten() {
        let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d as i64);
        let next = date + chrono::Duration::days(1);
        assert!(next.day0() == 0 && next.month0() % 3 == 0, "{date}");
    }

    analyze("auto", &[]);
    let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&candidates).unwrap()).unwrap();
    assert_eq!(c["criterion"], "holdout_mae_frequency_bins");
    let list = c["candidates"].as_array().unwrap();
    let models: Vec<&str> = list.iter().map(|k| k["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["bgnbd", "pareto_nbd", "mbgnbd"]);
    let chosen = c["chosen"].as_str().unwrap();
    let best = list
        .iter()
        .min_by(|a, b| {
            let mae = |k: &serde_json::Value| k["validation"]["mae_frequency_bins"].as_f64().unwrap();
            mae(a).total_cmp(&mae(b))
        })
        .unwrap();
    assert_eq!(best["model"], chosen);
    for k in list {
        assert!(k["calibration_fit"]["bic"].as_f64().unwrap().is_finite());
        assert_eq!(k["chosen"], k["model"] == chosen);
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("models/clv.json")).unwrap()).unwrap();
    assert_eq!(m["model"], chosen);
    assert_eq!(best["full_fit"]["params"], m["params"]);

    // No holdout (calibration end = the last day): the choice falls back to BIC.
    analyze("auto", &["--calibration-end", "2024-12-31"]);
    let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&candidates).unwrap()).unwrap();
    assert_eq!(c["criterion"], "bic");
    let list = c["candidates"].as_array().unwrap();
    let bic = |k: &serde_json::Value| k["calibration_fit"]["bic"].as_f64().unwrap();
    let best = list.iter().min_by(|a, b| bic(a).total_cmp(&bic(b))).unwrap();
    assert_eq!(best["model"], c["chosen"]);
}

/// Canonical orders of `n` customers, drawn with a seeded RNG: first purchase in 2023–mid 2024,
/// then repeat purchases at exponential gaps (whole days, at most one order a day) with a
/// per-purchase chance of dropping out, until 2024-12-31; every customer has an email and opted
/// in to marketing email. Every order costs `price` (a
/// fixed-price subscription box), or with `price = None` each customer has their own typical
/// amount (10–80) and each order varies around it.
fn subscription_orders(n: usize, seed: u64, price: Option<f64>) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let last = 730; // 2024-12-31
    let mut csv = String::from("order_id,customer_id,created_at,net_amount,status,currency,email,email_opt_in\n");
    let mut k = 0;
    for c in 0..n {
        let mean_gap: f64 = rng.gen_range(15.0..120.0);
        let drop: f64 = rng.gen_range(0.05..0.4);
        let typical: f64 = rng.gen_range(10.0..80.0);
        let mut day = rng.gen_range(0..547);
        loop {
            let date = start + chrono::Duration::days(day);
            let amount = price.unwrap_or_else(|| typical * rng.gen_range(0.5..1.5));
            let hour = rng.gen_range(8..20);
            k += 1;
            csv.push_str(&format!(
                "o{k},c{c:04},{date}T{hour:02}:00:00Z,{amount:.2},completed,USD,c{c:04}@example.com,true\n"
            ));
            if rng.gen::<f64>() < drop {
                break;
            }
            day += (-mean_gap * (1.0 - rng.gen::<f64>()).ln()).ceil().max(1.0) as i64;
            if day > last {
                break;
            }
        }
    }
    csv
}

/// Issue 33, part 3: when every repeat buyer spends the same, Gamma-Gamma cannot be fitted; the
/// purchase model's P(alive), churn tiers and expected purchases are still written, the money
/// is null, and `models/clv.json` and the manifest say why.
#[test]
fn constant_spend_keeps_p_alive_and_churn_tiers_with_null_clv_and_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("orders.csv");
    std::fs::write(&csv, subscription_orders(400, 33, Some(19.9))).unwrap();
    let o = custlens(
        tmp.path(),
        &["run", "--input", csv.to_str().unwrap(), "--format", "canonical", "--lake", "lake", "--out", "out"],
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("clv spend model skipped") && err.contains("same mean spend"), "{err}");
    let out = tmp.path().join("out");
    let money = ["expected_aov", "clv_90d", "clv_365d"];

    let check = |model: &str| -> serde_json::Value {
        let clv = read(&out.join("clv.parquet"));
        let names: Vec<&str> = clv.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "customer_id",
                "x",
                "t_x",
                "T",
                "p_alive",
                "churn_risk",
                "churn_tier",
                "expected_purchases_90d",
                "expected_purchases_365d",
                "expected_aov",
                "clv_90d",
                "clv_365d",
                "next_purchase_date",
            ]
        );
        assert_eq!(clv.height(), 400);
        for c in ["p_alive", "churn_risk", "expected_purchases_90d", "expected_purchases_365d"] {
            let v = clv.column(c).unwrap().f64().unwrap();
            assert_eq!(v.null_count(), 0, "nulls in {c}");
            assert!(v.iter().flatten().all(|v| v.is_finite() && v >= 0.0), "{c}");
        }
        let pa = clv.column("p_alive").unwrap().f64().unwrap();
        assert!(pa.iter().flatten().all(|v| (0.0..=1.0).contains(&v)));
        // The churn model tells customers apart: some are probably gone, some probably alive.
        assert!(pa.iter().flatten().any(|v| v < 0.2) && pa.iter().flatten().any(|v| v > 0.6));
        let tiers = clv.column("churn_tier").unwrap().str().unwrap();
        assert_eq!(tiers.null_count(), 0);
        assert!(tiers.iter().flatten().all(|t| ["low", "medium", "high"].contains(&t)));
        for c in money {
            let col = clv.column(c).unwrap();
            assert_eq!(col.dtype(), &DataType::Float64, "{c}");
            assert_eq!(col.null_count(), clv.height(), "{c} has values");
        }

        let seg = read(&out.join("segments.parquet"));
        assert_eq!(seg.column("p_alive").unwrap().null_count(), 0);
        assert_eq!(seg.column("churn_tier").unwrap().null_count(), 0);
        for c in ["clv_90d", "clv_365d"] {
            assert_eq!(seg.column(c).unwrap().dtype(), &DataType::Float64);
            assert_eq!(seg.column(c).unwrap().null_count(), seg.height(), "{c}");
        }
        // Triggers ran on the null CLV: VIPs are Champions only (no one has a predicted CLV to be
        // top in), and win-back still reads the churn model.
        let actions = read(&out.join("actions.parquet"));
        let reasons_of = |action: &str| -> Vec<String> {
            let a = actions.column("action").unwrap().str().unwrap();
            let r = actions.column("reason").unwrap().str().unwrap();
            (0..actions.height()).filter(|&i| a.get(i) == Some(action)).map(|i| r.get(i).unwrap().into()).collect()
        };
        let vip = reasons_of("vip_care");
        assert!(!vip.is_empty() && vip.iter().all(|r| r == "Champions"), "{vip:?}");
        let win_back = reasons_of("win_back");
        assert!(win_back.iter().any(|r| r == "high churn risk, high past value"), "{win_back:?}");
        assert_eq!(read(&out.join("audiences/vip_care.parquet")).height(), vip.len());
        let v = read(&out.join("clv_validation.parquet"));
        let sections: Vec<&str> = v.column("section").unwrap().str().unwrap().iter().flatten().collect();
        assert!(sections.contains(&"frequency") && sections.contains(&"mae"));

        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("models/clv.json")).unwrap()).unwrap();
        assert_eq!(m["model"], model);
        assert!(m.get("error").is_none(), "{m}");
        assert_eq!(m["n_customers"], 400);
        assert_eq!(m["params"].as_object().unwrap().len(), 4);
        for (k, v) in m["params"].as_object().unwrap() {
            assert!(v.as_f64().unwrap() > 0.0, "{k}");
        }
        assert!(m["log_likelihood"].as_f64().unwrap() < 0.0);
        assert!(m["validation"]["mae_frequency_bins"].as_f64().unwrap().is_finite());
        let spend_error = m["spend_model"]["error"].as_str().unwrap();
        assert!(spend_error.contains("gamma_gamma") && spend_error.contains("same mean spend"), "{m}");
        assert!(m["spend_model"].get("params").is_none());
        let warnings = m["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].as_str().unwrap().contains(spend_error));

        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["warnings"], m["warnings"]);
        m
    };
    check("bgnbd");

    // Model choice works on the purchase models alone; the chosen one is scored as above.
    ok(&custlens(tmp.path(), &["analyze", "--lake", "lake", "--out", "out", "--set", "clv.model=auto"]));
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("models/clv_candidates.json")).unwrap()).unwrap();
    assert_eq!(c["criterion"], "holdout_mae_frequency_bins");
    let chosen = c["chosen"].as_str().unwrap();
    let m = check(chosen);
    let best = c["candidates"].as_array().unwrap().iter().find(|k| k["chosen"] == true).unwrap();
    assert_eq!(best["full_fit"]["params"], m["params"]);
}

/// A purchase model that cannot be fitted is a manifest warning too; a normal run has none.
#[test]
fn skipped_clv_is_a_manifest_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("o.csv");
    std::fs::write(
        &csv,
        "order_id,customer_id,created_at,net_amount,status,currency\no1,c1,2024-01-10T10:00:00Z,10.0,completed,USD\no2,c2,2024-02-10T10:00:00Z,12.0,completed,USD\n",
    )
    .unwrap();
    let args = ["run", "--input", csv.to_str().unwrap(), "--format", "canonical", "--lake", "lake", "--out", "out"];
    ok(&custlens(tmp.path(), &args));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap()).unwrap();
    let w = manifest["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].as_str().unwrap().starts_with("clv: not fitted (bgnbd: cannot fit"), "{w:?}");

    // The same customers at varied amounts: both models fit, no warning.
    std::fs::write(&csv, subscription_orders(400, 33, None)).unwrap();
    ok(&custlens(
        tmp.path(),
        &["run", "--input", csv.to_str().unwrap(), "--format", "canonical", "--lake", "lake2", "--out", "out2"],
    ));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out2/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["warnings"], serde_json::json!([]));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out2/models/clv.json")).unwrap()).unwrap();
    assert_eq!(m["warnings"], serde_json::json!([]));
    assert!(m["spend_model"]["params"]["p"].as_f64().unwrap() > 0.0);
    assert_eq!(read(&tmp.path().join("out2/clv.parquet")).column("clv_365d").unwrap().null_count(), 0);
}
