//! The business tables through the CLI: an independent check on generated data, the calendar
//! (the default zone changes nothing; a Shanghai run moves as_of and days), the stage switch.

mod common;
use common::{copy_dir, custlens, ok, read, repo};
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c).unwrap().str().unwrap().iter().map(|s| s.map(str::to_string)).collect()
}

fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
    df.column(c).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().iter().collect()
}

fn i64s(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
    df.column(c).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().iter().collect()
}

/// A Date or Datetime column as (year, month) of its UTC calendar.
fn months(df: &DataFrame, c: &str) -> Vec<(i32, u32)> {
    use chrono::Datelike;
    let col = df.column(c).unwrap();
    let us: Vec<i64> = match col.dtype() {
        DataType::Date => col
            .cast(&DataType::Int32)
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .map(|d| d.unwrap() as i64 * 86_400_000_000)
            .collect(),
        _ => col.cast(&DataType::Int64).unwrap().i64().unwrap().iter().map(|t| t.unwrap()).collect(),
    };
    us.iter()
        .map(|t| {
            let d = chrono::DateTime::from_timestamp_micros(*t).unwrap();
            (d.year(), d.month())
        })
        .collect()
}

fn month_index((y, m): (i32, u32)) -> i64 {
    y as i64 * 12 + m as i64 - 1
}

/// Monthly revenue per channel, new customers per month and channel, and cohort retention from
/// plain loops over the lake's orders (no group-by), against `trends` and `cohorts`.
#[test]
fn generated_data_tables_equal_plain_loops() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    // 3000 customers: about 10 s in the dev profile.
    ok(&custlens(p, &["gen", "--customers", "3000", "--seed", "5", "--out", "g"]));
    ok(&custlens(p, &["run", "--config", "g/custlens.toml", "--lake", "lake", "--out", "out"]));
    let m = manifest(&p.join("out"));
    let as_of = chrono::DateTime::parse_from_rfc3339(m["as_of"].as_str().unwrap()).unwrap().timestamp_micros();
    let cur = &m["parameters"]["currency"];
    let base = cur["base"].as_str().unwrap().to_string();
    let mut rates: HashMap<String, f64> =
        cur["rates"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_f64().unwrap())).collect();
    rates.insert(base, 1.0);

    let o = read(&p.join("lake/orders/part-0.parquet"));
    let (ids, cust, chan, status, cur) =
        (strs(&o, "order_id"), strs(&o, "customer_id"), strs(&o, "channel"), strs(&o, "status"), strs(&o, "currency"));
    let (refund, net) = (f64s(&o, "refund_amount"), f64s(&o, "net_amount"));
    let created = i64s(&o, "created_at");
    let month = months(&o, "created_at");

    // Valid orders: paid/shipped/completed, not fully refunded, before as_of.
    let mut revenue: BTreeMap<(i64, String), f64> = BTreeMap::new();
    let mut first: HashMap<String, (i64, String, String)> = HashMap::new(); // customer → (created, order_id, channel)
    let mut valid = Vec::new();
    for i in 0..o.height() {
        let st = status[i].as_deref().unwrap();
        let ok_status = matches!(st, "paid" | "shipped" | "completed");
        let fully_refunded = refund[i].unwrap() > 0.0 && net[i].unwrap() <= 0.0;
        if !ok_status || fully_refunded || created[i].unwrap() >= as_of {
            continue;
        }
        valid.push(i);
        let v = net[i].unwrap() * rates[cur[i].as_deref().unwrap()];
        let mi = month_index(month[i]);
        *revenue.entry((mi, "all".into())).or_default() += v;
        *revenue.entry((mi, chan[i].clone().unwrap())).or_default() += v;
        let c = cust[i].clone().unwrap();
        let key = (created[i].unwrap(), ids[i].clone().unwrap(), chan[i].clone().unwrap());
        match first.get(&c) {
            Some(f) if (f.0, &f.1) <= (key.0, &key.1) => {}
            _ => {
                first.insert(c, key);
            }
        }
    }
    assert!(valid.len() > 1000, "{} valid orders", valid.len());
    let cohort_of = |c: &str| {
        let t = first[c].0;
        let d = chrono::DateTime::from_timestamp_micros(t).unwrap();
        use chrono::Datelike;
        month_index((d.year(), d.month()))
    };
    let mut new_customers: BTreeMap<(i64, String), i64> = BTreeMap::new();
    let mut size: BTreeMap<i64, i64> = BTreeMap::new();
    for (c, f) in &first {
        let mi = cohort_of(c);
        *new_customers.entry((mi, "all".into())).or_default() += 1;
        *new_customers.entry((mi, f.2.clone())).or_default() += 1;
        *size.entry(mi).or_default() += 1;
    }
    let mut active: BTreeMap<(i64, i64), BTreeSet<String>> = BTreeMap::new();
    for &i in &valid {
        let c = cust[i].clone().unwrap();
        let k = (cohort_of(&c), month_index(month[i]) - cohort_of(&c));
        active.entry(k).or_default().insert(c);
    }

    // trends, month grain.
    let t = read(&p.join("out/trends.parquet"));
    let t = t.lazy().filter(col("grain").eq(lit("month"))).collect().unwrap();
    let (tm, tch, trev, tnew) =
        (months(&t, "period_start"), strs(&t, "channel"), f64s(&t, "revenue"), i64s(&t, "new_customers"));
    let mut seen = 0;
    for k in 0..t.height() {
        let key = (month_index(tm[k]), tch[k].clone().unwrap());
        let want = revenue.get(&key).copied().unwrap_or(0.0);
        let got = trev[k].unwrap();
        assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "{key:?}: revenue {got} vs {want}");
        assert_eq!(tnew[k].unwrap(), new_customers.get(&key).copied().unwrap_or(0), "{key:?}: new customers");
        seen += usize::from(want != 0.0);
    }
    assert_eq!(seen, revenue.len(), "every (month, channel) with revenue has a row");

    // cohorts, channel all.
    let c = read(&p.join("out/cohorts.parquet"));
    let c = c.lazy().filter(col("channel").eq(lit("all"))).collect().unwrap();
    let (cm, ks, sz, act, ret) = (
        months(&c, "cohort_month"),
        i64s(&c, "months_since"),
        i64s(&c, "cohort_size"),
        i64s(&c, "active_customers"),
        f64s(&c, "retention"),
    );
    for r in 0..c.height() {
        let (ci, k) = (month_index(cm[r]), ks[r].unwrap());
        let n = size[&ci];
        let a = active.get(&(ci, k)).map_or(0, |s| s.len() as i64);
        assert_eq!((sz[r].unwrap(), act[r].unwrap()), (n, a), "cohort {ci} month {k}");
        assert!((ret[r].unwrap() - a as f64 / n as f64).abs() < 1e-12);
    }
    let rows_with_activity = active.len();
    let nonzero = act.iter().filter(|a| a.unwrap() > 0).count();
    assert_eq!(nonzero, rows_with_activity);
    assert_eq!(m["stages"].as_array().unwrap().iter().filter(|s| s["stage"] == "business").count(), 1);
}

const CFG: &str = "data/sample/custlens.toml";

fn sample(dir: &Path) {
    copy_dir(&repo().join("data/sample"), &dir.join("data/sample"));
}

fn frame_eq(a: &Path, b: &Path, name: &str) {
    let (x, y) = (read(&a.join(name)), read(&b.join(name)));
    assert!(x.equals_missing(&y), "{name} differs");
}

#[test]
fn the_default_zone_changes_nothing_and_a_zero_offset_zone_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    sample(p);
    ok(&custlens(p, &["run", "--out", "a"]));
    // Etc/UTC goes through the per-row offset path; its days must be the UTC days.
    ok(&custlens(p, &["run", "--out", "b", "--set", "analysis.timezone=Etc/UTC"]));
    for f in ["customer_features.parquet", "rfm.parquet", "clv.parquet", "trends.parquet", "cohorts.parquet"] {
        frame_eq(&p.join("a"), &p.join("b"), f);
    }
    let (ma, mb) = (manifest(&p.join("a")), manifest(&p.join("b")));
    assert_eq!(ma["as_of"], mb["as_of"]);
    // Without the key, the manifest's parameters show no time zone (as before the calendar).
    assert!(ma["parameters"]["analysis"].get("timezone").is_none());
}

#[test]
fn a_shanghai_run_takes_dates_as_shanghai_midnights() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    sample(p);
    let tz = ["--set", "analysis.timezone=Asia/Shanghai"];
    ok(&custlens(p, &[&["run", "--out", "sh", "--as-of", "2024-12-01"][..], &tz].concat()));
    let m = manifest(&p.join("sh"));
    assert_eq!(m["as_of"], "2024-11-30T16:00:00+00:00");
    let k: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.join("sh/kpis.json")).unwrap()).unwrap();
    assert_eq!(k["timezone"], "Asia/Shanghai");
    assert_eq!(k["month"]["start"], "2024-11-01");
    // An RFC 3339 as_of is taken as given.
    ok(&custlens(
        p,
        &[&["analyze", "--config", CFG, "--lake", "lake", "--out", "sh2", "--as-of", "2024-12-01T00:00:00Z"][..], &tz]
            .concat(),
    ));
    assert_eq!(manifest(&p.join("sh2"))["as_of"], "2024-12-01T00:00:00+00:00");
    // A zone that does not exist is refused, naming the key.
    let o = custlens(
        p,
        &["analyze", "--config", CFG, "--lake", "lake", "--out", "x", "--set", "analysis.timezone=Asia/Shangai"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("analysis.timezone"));
}

#[test]
fn the_stage_can_be_switched_off_and_params_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    sample(p);
    ok(&custlens(p, &["run", "--out", "o", "--set", "business.grains=[\"month\"]", "--set", "business.by_store=true"]));
    let t = read(&p.join("o/trends.parquet"));
    assert!(strs(&t, "grain").iter().all(|g| g.as_deref() == Some("month")));
    assert!(strs(&t, "store").iter().any(Option::is_some));
    ok(&custlens(p, &["analyze", "--config", CFG, "--lake", "lake", "--out", "o", "--set", "business.enabled=false"]));
    for f in ["trends.parquet", "cohorts.parquet", "kpis.json"] {
        assert!(!p.join("o").join(f).exists(), "{f} left from the previous run");
    }
    assert!(!manifest(&p.join("o"))["stages"].as_array().unwrap().iter().any(|s| s["stage"] == "business"));
    let o = custlens(
        p,
        &["analyze", "--config", CFG, "--lake", "lake", "--out", "o", "--set", "business.grains=[\"week\", \"week\"]"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("business.grains"), "{}", String::from_utf8_lossy(&o.stderr));
}
