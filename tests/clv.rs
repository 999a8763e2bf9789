//! CLV correctness: published CDNOW results, equality with Python `lifetimes` 0.11.3 (fixtures made
//! by tests/fixtures/clv/make_fixture.py), and parameter recovery on the generator's purchase log.

#![allow(clippy::needless_range_loop)]

mod clv_common;

use clv_common::{check_fit, check_std_errors, csv_columns, fixtures, json, params, recovered, rel, round};
use custlens::analytics::DAY_US;
use custlens::clv::bgnbd::BgNbd;
use custlens::clv::fit::{fit_bgnbd, fit_gamma_gamma, BgNbdData, GammaGammaData};
use custlens::clv::gamma_gamma::GammaGamma;
use custlens::clv::summary::{orders_frame, summary};
use polars::prelude::*;

struct Case {
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    spend: Vec<f64>,
}

fn cdnow() -> Case {
    let c = csv_columns("cdnow_summary.csv");
    Case { x: c["x"].clone(), t_x: c["t_x"].clone(), t: c["T"].clone(), spend: c["zbar"].clone() }
}

fn generated() -> Case {
    let c = csv_columns("gen_summary.csv");
    Case { x: c["x"].clone(), t_x: c["t_x"].clone(), t: c["T"].clone(), spend: c["spend"].clone() }
}

/// Fits both models and checks them against lifetimes' fit of the same summary.
fn equal_to_lifetimes(case: &Case, fixture: &str) {
    let r = json(&format!("{fixture}_lifetimes.json"));
    let data = BgNbdData::new(&case.x, &case.t_x, &case.t).unwrap();
    let (_, rep) = fit_bgnbd(&data).unwrap();
    let want = params(&r["bgnbd"]["params"], &BgNbd::NAMES);
    // Log-likelihood: lifetimes' function on unscaled data, summed, at lifetimes' params; ours at
    // the same params must agree, and ours at our optimum may only be higher.
    let lt_ll = r["bgnbd"]["log_likelihood"].as_f64().unwrap();
    let at_theirs = data.log_likelihood(&BgNbd::from_slice(&want));
    check_fit(&format!("{fixture} bgnbd"), &BgNbd::NAMES, &rep, &want, lt_ll, at_theirs, 1e-12);
    check_std_errors(&format!("{fixture} bgnbd"), &BgNbd::NAMES, &rep, &r["bgnbd"]["std_errors"]);

    let gg = GammaGammaData::new(&case.x, &case.spend).unwrap();
    assert_eq!(gg.customers() as u64, r["gamma_gamma"]["n_customers"].as_u64().unwrap());
    let (_, grep) = fit_gamma_gamma(&gg).unwrap();
    let gwant = params(&r["gamma_gamma"]["params"], &GammaGamma::NAMES);
    let lt_gll = r["gamma_gamma"]["log_likelihood"].as_f64().unwrap();
    let g_at_theirs = gg.log_likelihood(&GammaGamma::from_slice(&gwant));
    check_fit(&format!("{fixture} gamma_gamma"), &GammaGamma::NAMES, &grep, &gwant, lt_gll, g_at_theirs, 1e-12);
    let corr = gg.corr_frequency_spend.unwrap();
    assert!((corr - r["gamma_gamma"]["corr_frequency_spend"].as_f64().unwrap()).abs() < 1e-12);

    // Per-customer values at lifetimes' params, to 1e-9.
    let lm = BgNbd::from_slice(&want);
    let lg = GammaGamma::from_slice(&gwant);
    let scores = csv_columns(&format!("{fixture}_lifetimes_scores.csv"));
    let horizons: Vec<f64> = r["horizons"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for i in 0..case.x.len() {
        let (x, t_x, t) = (case.x[i], case.t_x[i], case.t[i]);
        let pa = lm.p_alive(x, t_x, t);
        assert!(rel(pa, scores["p_alive"][i]) < 1e-9, "{fixture} row {i} p_alive {pa} vs {}", scores["p_alive"][i]);
        for h in &horizons {
            let want = scores[&format!("cond_exp_{h}")][i];
            let got = lm.conditional_expected_purchases(*h, x, t_x, t).unwrap();
            assert!(rel(got, want) < 1e-9, "{fixture} row {i} E[Y({h})]: {got} vs {want}");
        }
        let spend = if x > 0.0 { case.spend[i] } else { 0.0 };
        let got = lg.conditional_expected_spend(x, spend).unwrap();
        assert!(rel(got, scores["exp_avg_spend"][i]) < 1e-9, "{fixture} row {i} spend {got}");
    }
    let grid = csv_columns(&format!("{fixture}_lifetimes_expected.csv"));
    for (t, want) in grid["t"].iter().zip(&grid["expected"]) {
        let got = lm.expected_purchases(*t).unwrap();
        assert!(rel(got, *want) < 1e-9, "{fixture} E[X({t})]: {got} vs {want}");
    }
}

#[test]
fn cdnow_equals_lifetimes() {
    equal_to_lifetimes(&cdnow(), "cdnow");
}

#[test]
fn generated_data_equals_lifetimes() {
    equal_to_lifetimes(&generated(), "gen");
}

#[test]
fn cdnow_reproduces_the_published_tables() {
    // Fader, Hardie & Lee (2005), 2357 CDNOW customers, 39 weeks: r = 0.243, α = 4.414,
    // a = 0.793, b = 2.426, LL = −9582.4.
    let c = cdnow();
    let data = BgNbdData::new(&c.x, &c.t_x, &c.t).unwrap();
    assert_eq!(data.customers(), 2357);
    let (m, rep) = fit_bgnbd(&data).unwrap();
    assert_eq!([round(m.r, 3), round(m.alpha, 3), round(m.a, 3), round(m.b, 3)], [0.243, 4.414, 0.793, 2.426]);
    assert_eq!(round(rep.log_likelihood, 1), -9582.4);
    // Fader & Hardie (2013), 946 repeat buyers: p = 6.25, q = 3.74, γ = 15.44.
    let gg = GammaGammaData::new(&c.x, &c.spend).unwrap();
    assert_eq!(gg.customers(), 946);
    let (g, _) = fit_gamma_gamma(&gg).unwrap();
    assert_eq!([round(g.p, 2), round(g.q, 2)], [6.25, 3.74]);
    assert!((g.gamma - 15.44).abs() < 0.01, "γ = {}", g.gamma);
}

/// Orders of the CDNOW sample transactions (master id, sample id = the summary ID, yyyymmdd, CDs, dollars).
fn cdnow_orders() -> DataFrame {
    let text = std::fs::read_to_string(fixtures().join("cdnow_sample.txt")).unwrap();
    let (mut ids, mut ts, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let d = chrono::NaiveDate::parse_from_str(f[2], "%Y%m%d").unwrap();
        ids.push(f[1].trim_start_matches('0').to_string());
        ts.push(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros());
        v.push(f[4].parse::<f64>().unwrap());
    }
    orders_frame(ids, ts, v).unwrap()
}

#[test]
fn summary_of_cdnow_transactions_is_the_published_summary() {
    // Calibration: 1997-01-01 .. 1997-09-30 (39 weeks); weeks = days / 7.
    let cal_end = chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
    let cal_end_day = cal_end.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros() / DAY_US;
    let s = summary(cdnow_orders().lazy(), cal_end_day).collect().unwrap();
    let want = csv_columns("cdnow_summary.csv");
    assert_eq!(s.height(), want["ID"].len());
    let ids: Vec<f64> =
        s.column("customer_id").unwrap().str().unwrap().iter().map(|v| v.unwrap().parse().unwrap()).collect();
    let by_id: std::collections::HashMap<i64, usize> =
        want["ID"].iter().enumerate().map(|(i, id)| (*id as i64, i)).collect();
    let x = s.column("x").unwrap().i64().unwrap();
    let tx = s.column("t_x_days").unwrap().i64().unwrap();
    let t = s.column("T_days").unwrap().i64().unwrap();
    let spend = s.column("spend").unwrap().f64().unwrap();
    for (i, id) in ids.iter().enumerate() {
        let j = by_id[&(*id as i64)];
        assert_eq!(x.get(i).unwrap() as f64, want["x"][j], "customer {id}");
        let weeks = |d: i64| ((d as f64 / 7.0) * 100.0).round() / 100.0;
        assert!((weeks(tx.get(i).unwrap()) - want["t_x"][j]).abs() < 1e-9, "customer {id} t_x");
        assert!((weeks(t.get(i).unwrap()) - want["T"][j]).abs() < 1e-9, "customer {id} T");
        // The published zbar has two decimals (half-cent means round either way).
        let z = spend.get(i).unwrap_or(0.0);
        assert!((z - want["zbar"][j]).abs() <= 0.005 + 1e-9, "customer {id} zbar {z} vs {}", want["zbar"][j]);
    }
}

#[test]
fn parameters_are_recovered_from_the_generators_purchase_log() {
    use custlens::sample::{generate, SampleConfig};
    let dir = tempfile::tempdir().unwrap();
    let cfg = SampleConfig { customers: 20_000, seed: 11, ..SampleConfig::default() };
    generate(&cfg, dir.path()).unwrap();
    let mut r = csv::Reader::from_path(dir.path().join("truth/purchases.csv")).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (ci, ti, vi) = (col("person_id"), col("ts"), col("net_base"));
    let (mut ids, mut ts, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for rec in r.records() {
        let rec = rec.unwrap();
        ids.push(rec[ci].to_string());
        ts.push(chrono::DateTime::parse_from_rfc3339(&rec[ti]).unwrap().timestamp_micros());
        v.push(rec[vi].parse::<f64>().unwrap());
    }
    let orders = orders_frame(ids, ts, v).unwrap();
    // The window ends at midnight China time on cfg.end, i.e. 16:00 UTC that day.
    let end_day = cfg.end.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros() / DAY_US;
    let s = summary(orders.lazy(), end_day).collect().unwrap();
    let cols = custlens::clv::score::SummaryColumns::from_frame(&s, custlens::clv::TimeUnit::Days).unwrap();
    let (_, rep) = fit_bgnbd(&BgNbdData::new(&cols.x, &cols.t_x, &cols.t).unwrap()).unwrap();
    let truth = cfg.params.bgnbd;
    recovered("bgnbd", &BgNbd::NAMES, &rep, &[truth.r, truth.alpha, truth.a, truth.b]);
    let (_, grep) = fit_gamma_gamma(&GammaGammaData::new(&cols.x, &cols.spend).unwrap()).unwrap();
    let gt = cfg.params.spend;
    recovered("gamma_gamma", &GammaGamma::NAMES, &grep, &[gt.p, gt.q, gt.gamma]);
}
