//! Helpers shared by the CLV correctness tests (tests/clv.rs, tests/clv_models.rs): fixture
//! readers and the checks of a fit against Python `lifetimes` or against the true parameters.

#![allow(dead_code)]

use custlens::clv::fit::FitReport;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// tests/fixtures/clv.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clv")
}

/// Columns of a CSV fixture by header name, as f64 (non-numeric cells → NaN).
pub fn csv_columns(name: &str) -> HashMap<String, Vec<f64>> {
    let mut r = csv::Reader::from_path(fixtures().join(name)).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut cols: HashMap<String, Vec<f64>> = headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for rec in r.records() {
        let rec = rec.unwrap();
        for (h, v) in headers.iter().zip(rec.iter()) {
            cols.get_mut(h).unwrap().push(v.parse().unwrap_or(f64::NAN));
        }
    }
    cols
}

/// A JSON fixture.
pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

/// Relative difference of `a` from `b`.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// The values of `names` in a JSON object, in that order.
pub fn params(v: &serde_json::Value, names: &[&str]) -> Vec<f64> {
    names.iter().map(|n| v[*n].as_f64().unwrap()).collect()
}

/// `v` rounded to `d` decimals.
pub fn round(v: f64, d: i32) -> f64 {
    (v * 10f64.powi(d)).round() / 10f64.powi(d)
}

/// Checks a fit against lifetimes' parameters and its log-likelihood (at its params, on the
/// unscaled data, summed): converged, parameters to 1e-3, ours at lifetimes' parameters
/// (`ll_at_theirs`) equal to `lt_ll` within `ll_tol`, and ours at our optimum no lower.
pub fn check_fit(
    label: &str,
    names: &[&str],
    rep: &FitReport,
    want: &[f64],
    lt_ll: f64,
    ll_at_theirs: f64,
    ll_tol: f64,
) {
    assert!(rep.converged, "{label}: {rep:?}");
    for i in 0..want.len() {
        assert!(rel(rep.params[i], want[i]) < 1e-3, "{label} {}: {} vs lifetimes {}", names[i], rep.params[i], want[i]);
    }
    assert!(rel(ll_at_theirs, lt_ll) < ll_tol, "{label}: ln L at lifetimes' params {ll_at_theirs} vs {lt_ll}");
    assert!(rep.log_likelihood >= lt_ll - 1e-6, "{label}: {} < {lt_ll}", rep.log_likelihood);
}

/// Standard errors within 2 % of lifetimes' (`lt`, a JSON object by parameter name): the same
/// delta-method quantity, numerical Hessians on both sides.
pub fn check_std_errors(label: &str, names: &[&str], rep: &FitReport, lt: &serde_json::Value) {
    let se = rep.std_errors.clone().unwrap_or_else(|| panic!("{label}: no standard errors"));
    let lt_se = params(lt, names);
    for i in 0..names.len() {
        assert!(rel(se[i], lt_se[i]) < 0.02, "{label} se {}: {} vs {}", names[i], se[i], lt_se[i]);
    }
}

/// |estimate − truth| < 4 standard errors for every parameter.
pub fn recovered(label: &str, names: &[&str], rep: &FitReport, truth: &[f64]) {
    let se = rep.std_errors.clone().unwrap_or_else(|| panic!("{label}: no standard errors"));
    for i in 0..truth.len() {
        let z = (rep.params[i] - truth[i]) / se[i];
        assert!(
            z.abs() < 4.0,
            "{label} {}: {:.4} vs true {} (se {:.4}, z = {z:.2})",
            names[i],
            rep.params[i],
            truth[i],
            se[i]
        );
    }
}
