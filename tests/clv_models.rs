//! CLV part 2 correctness: Pareto/NBD, MBG/NBD and BG/BB against Python `lifetimes` 0.11.3 and
//! 50-digit mpmath (fixtures made by tests/fixtures/clv/make_fixture_part2.py), the published
//! CDNOW (Pareto/NBD) and donations (BG/BB) fits, and parameter recovery on data simulated from
//! each model.

#![allow(clippy::needless_range_loop)]

mod clv_common;

use clv_common::{check_fit, check_std_errors, csv_columns, json, params, recovered, rel, round};
use custlens::clv::bgbb::BgBb;
use custlens::clv::fit::{fit_bgbb, fit_mbgnbd, fit_pareto_nbd, BgBbData, CountData, ParetoNbdData};
use custlens::clv::gamma_gamma::GammaGamma;
use custlens::clv::mbgnbd::MbgNbd;
use custlens::clv::pareto_nbd::ParetoNbd;
use custlens::clv::score::SummaryColumns;
use custlens::clv::simulate::{simulate_bgbb, simulate_model, CountProcess};
use custlens::clv::TimeUnit;

/// (x, t_x, T) of a summary fixture.
fn summary(name: &str) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let c = csv_columns(&format!("{name}_summary.csv"));
    (c["x"].clone(), c["t_x"].clone(), c["T"].clone())
}

#[test]
fn pareto_hypergeometric_term_matches_mpmath_in_every_region() {
    let c = csv_columns("pareto_reference.csv");
    let n = c["x"].len();
    assert!(n > 250);
    let mut worst = (0.0f64, 0usize);
    let mut near_one = 0;
    for i in 0..n {
        let m = ParetoNbd { r: c["r"][i], alpha: c["alpha"][i], s: c["s"][i], beta: c["beta"][i] };
        let (x, t, want) = (c["x"][i], c["t"][i], c["ln_f"][i]);
        let got = m.ln_f(x, t).unwrap_or_else(|| panic!("{m:?} x={x} t={t}: no value"));
        let err = (got - want).abs() / want.abs().max(1.0);
        if err > worst.0 {
            worst = (err, i);
        }
        if c["z"][i] > 0.99 {
            near_one += 1;
        }
        assert!(err < 1e-12, "{m:?} x={x} t={t} z={}: ln F {got} vs mpmath {want} ({err:.1e})", c["z"][i]);
    }
    assert!(near_one > 20, "the grid must cover z near 1");
    eprintln!("worst relative error of ln F: {:.2e} (row {})", worst.0, worst.1);

    let c = csv_columns("pareto_reference_ll.csv");
    for i in 0..c["x"].len() {
        let m = ParetoNbd { r: c["r"][i], alpha: c["alpha"][i], s: c["s"][i], beta: c["beta"][i] };
        let (x, t_x, t) = (c["x"][i], c["t_x"][i], c["T"][i]);
        let ll = m.log_likelihood(x, t_x, t);
        assert!(
            (ll - c["ll"][i]).abs() < 1e-11 * c["ll"][i].abs().max(1.0),
            "{m:?} ({x},{t_x},{t}): {ll} vs {}",
            c["ll"][i]
        );
        let pa = m.p_alive(x, t_x, t).unwrap();
        // P(alive) = 1/(1 + e^d): its absolute error follows that of ln F.
        assert!((pa - c["p_alive"][i]).abs() < 1e-10, "{m:?} ({x},{t_x},{t}): {pa} vs {}", c["p_alive"][i]);
    }
}

#[test]
fn cdnow_reproduces_the_published_pareto_nbd_fit() {
    // Fader, Hardie & Lee (2005), CDNOW, 39 weeks: r = 0.553, α = 10.578, s = 0.606, β = 11.669,
    // LL = −9595.0.
    let (x, t_x, t) = summary("cdnow");
    let data = CountData::for_model("pareto_nbd", &x, &t_x, &t).unwrap();
    let (m, rep) = fit_pareto_nbd(&ParetoNbdData::new(&data)).unwrap();
    assert!(rep.converged, "{rep:?}");
    // The maximum likelihood estimate is β = 11.6679 (lifetimes, polished to a 1e-10 gradient,
    // gets the same); the paper's solver stopped 0.0011 away. Every parameter agrees with the
    // published table in all three decimals but β's last (to 1e-4 relative).
    assert_eq!([round(m.r, 3), round(m.alpha, 3), round(m.s, 3)], [0.553, 10.578, 0.606]);
    assert!(rel(m.beta, 11.669) < 1e-4, "beta {:.5}", m.beta);
    assert_eq!(round(rep.log_likelihood, 1), -9595.0);
}

fn pareto_and_mbg_equal_lifetimes(name: &str) {
    let r = json(&format!("{name}_part2_lifetimes.json"));
    let (x, t_x, t) = summary(name);
    let data = CountData::for_model("pareto_nbd", &x, &t_x, &t).unwrap();
    let pd = ParetoNbdData::new(&data);
    let (_, prep) = fit_pareto_nbd(&pd).unwrap();
    let pwant = params(&r["pareto_nbd"]["params"], &ParetoNbd::NAMES);
    let pm = ParetoNbd::from_slice(&pwant);
    let lt = r["pareto_nbd"]["log_likelihood"].as_f64().unwrap();
    // lifetimes evaluates ₂F₁ with scipy (Cephes), itself accurate to ~1e-13 here.
    check_fit(&format!("{name} pareto_nbd"), &ParetoNbd::NAMES, &prep, &pwant, lt, pd.log_likelihood(&pm), 1e-11);

    let (_, mrep) = fit_mbgnbd(&data).unwrap();
    let mwant = params(&r["mbgnbd"]["params"], &MbgNbd::NAMES);
    let mm = MbgNbd::from_slice(&mwant);
    let lt = r["mbgnbd"]["log_likelihood"].as_f64().unwrap();
    check_fit(&format!("{name} mbgnbd"), &MbgNbd::NAMES, &mrep, &mwant, lt, data.log_likelihood_mbgnbd(&mm), 1e-12);
    check_std_errors(&format!("{name} mbgnbd"), &MbgNbd::NAMES, &mrep, &r["mbgnbd"]["std_errors"]);

    // Per-customer values at lifetimes' params, to 1e-9.
    let scores = csv_columns(&format!("{name}_part2_scores.csv"));
    let horizons: Vec<f64> = r["horizons"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for i in 0..x.len() {
        let (xi, txi, ti) = (x[i], t_x[i], t[i]);
        let pa = pm.p_alive(xi, txi, ti).unwrap();
        assert!(
            rel(pa, scores["pnbd_p_alive"][i]) < 1e-9,
            "{name} row {i} pareto p_alive {pa} vs {}",
            scores["pnbd_p_alive"][i]
        );
        let pa = mm.p_alive(xi, txi, ti);
        assert!(
            rel(pa, scores["mbg_p_alive"][i]) < 1e-9,
            "{name} row {i} mbg p_alive {pa} vs {}",
            scores["mbg_p_alive"][i]
        );
        for h in &horizons {
            let want = scores[&format!("pnbd_cond_exp_{h}")][i];
            let got = pm.conditional_expected_purchases(*h, xi, txi, ti).unwrap();
            assert!(rel(got, want) < 1e-9, "{name} row {i} pareto E[Y({h})]: {got} vs {want}");
            let want = scores[&format!("mbg_cond_exp_{h}")][i];
            let got = mm.conditional_expected_purchases(*h, xi, txi, ti).unwrap();
            assert!(rel(got, want) < 1e-9, "{name} row {i} mbg E[Y({h})]: {got} vs {want}");
        }
    }
    let grid = csv_columns(&format!("{name}_part2_expected.csv"));
    for k in 0..grid["t"].len() {
        let tt = grid["t"][k];
        assert!(rel(pm.expected_purchases(tt).unwrap(), grid["pnbd"][k]) < 1e-9, "{name} pareto E[X({tt})]");
        assert!(rel(mm.expected_purchases(tt).unwrap(), grid["mbg"][k]) < 1e-9, "{name} mbg E[X({tt})]");
    }
}

#[test]
fn cdnow_pareto_nbd_and_mbgnbd_equal_lifetimes() {
    pareto_and_mbg_equal_lifetimes("cdnow");
}

#[test]
fn generated_data_pareto_nbd_and_mbgnbd_equal_lifetimes() {
    pareto_and_mbg_equal_lifetimes("gen");
}

fn bgbb_equals_lifetimes(key: &str, r: &serde_json::Value, data: &BgBbData) -> BgBb {
    let r = &r[key];
    let (m, rep) = fit_bgbb(data).unwrap();
    assert_eq!(data.customers() as u64, r["n_customers"].as_u64().unwrap());
    let want = params(&r["params"], &BgBb::NAMES);
    let lm = BgBb::from_slice(&want);
    let exact = r["log_likelihood"].as_f64().unwrap();
    check_fit(&format!("{key} bgbb"), &BgBb::NAMES, &rep, &want, exact, data.log_likelihood(&lm), 1e-12);
    // lifetimes adds 1e-15 inside a logarithm of its likelihood; it still agrees closely.
    assert!(rel(data.log_likelihood(&lm), r["log_likelihood_lifetimes"].as_f64().unwrap()) < 1e-9);
    check_std_errors(&format!("{key} bgbb"), &BgBb::NAMES, &rep, &r["std_errors"]);
    for row in r["rows"].as_array().unwrap() {
        let (x, t_x, n) = (row["x"].as_f64().unwrap(), row["t_x"].as_f64().unwrap(), row["n"].as_f64().unwrap());
        let pa = lm.p_alive(x, t_x, n);
        assert!(
            rel(pa, row["p_alive"].as_f64().unwrap()) < 1e-9,
            "{key} ({x},{t_x},{n}) p_alive {pa} vs {}",
            row["p_alive"]
        );
        for k in [1.0, 2.0, 5.0, 10.0] {
            let want = row[&format!("cond_exp_{k}")].as_f64().unwrap();
            let got = lm.conditional_expected_purchases(k, x, t_x, n).unwrap();
            assert!(rel(got, want) < 1e-9, "{key} ({x},{t_x},{n}) E[{k}]: {got} vs {want}");
        }
    }
    m
}

/// The donations data expanded to one row per donor.
fn donations() -> BgBbData {
    let c = csv_columns("donations.csv");
    let (mut x, mut t_x, mut n) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..c["weights"].len() {
        for _ in 0..c["weights"][i] as usize {
            x.push(c["frequency"][i]);
            t_x.push(c["recency"][i]);
            n.push(c["periods"][i]);
        }
    }
    BgBbData::new(&x, &t_x, &n).unwrap()
}

#[test]
fn donations_reproduce_the_published_bgbb_fit_and_equal_lifetimes() {
    let r = json("bgbb_lifetimes.json");
    let data = donations();
    // Fader, Hardie & Shang (2010): 11 104 donors, 6 opportunities; α = 1.204, β = 0.750,
    // γ = 0.657, δ = 2.783, LL = −33 225.6.
    assert_eq!(data.customers(), 11_104);
    let m = bgbb_equals_lifetimes("donations", &r, &data);
    assert_eq!(
        [round(m.alpha, 3), round(m.beta, 3), round(m.gamma, 3), round(m.delta, 3)],
        [1.204, 0.750, 0.657, 2.783]
    );
    assert_eq!(round(data.log_likelihood(&m), 1), -33_225.6);

    let c = csv_columns("bgbb_sim.csv");
    let sim = BgBbData::new(&c["x"], &c["t_x"], &c["n"]).unwrap();
    bgbb_equals_lifetimes("bgbb_sim", &r, &sim);
}

#[test]
fn parameters_are_recovered_from_simulated_customers() {
    let g = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
    // Pareto/NBD, per day; summaries from the day-merging simulation (as from orders), in weeks.
    // A modest purchase rate: at high daily rates same-day purchases merge (as in real orders),
    // which the continuous-time model does not know about and which biases r and α upwards.
    let truth = ParetoNbd { r: 0.55, alpha: 40.0, s: 0.6, beta: 80.0 };
    let sim = simulate_model(20_000, 21, 730, &CountProcess::ParetoNbd(truth), &g, false).unwrap();
    let cols = SummaryColumns::from_frame(&sim.summary, TimeUnit::Days).unwrap();
    let data = CountData::for_model("pareto_nbd", &cols.x, &cols.t_x, &cols.t).unwrap();
    let (_, rep) = fit_pareto_nbd(&ParetoNbdData::new(&data)).unwrap();
    recovered("pareto_nbd", &ParetoNbd::NAMES, &rep, &truth.to_vec());

    let truth = MbgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
    let sim = simulate_model(20_000, 22, 730, &CountProcess::MbgNbd(truth), &g, false).unwrap();
    let cols = SummaryColumns::from_frame(&sim.summary, TimeUnit::Days).unwrap();
    let (_, rep) = fit_mbgnbd(&CountData::for_model("mbgnbd", &cols.x, &cols.t_x, &cols.t).unwrap()).unwrap();
    recovered("mbgnbd", &MbgNbd::NAMES, &rep, &truth.to_vec());

    let truth = BgBb { alpha: 1.2, beta: 0.75, gamma: 0.66, delta: 2.8 };
    let s = simulate_bgbb(20_000, 23, &[4, 6, 8, 12], &truth).unwrap();
    let col =
        |c: &str| -> Vec<f64> { s.column(c).unwrap().i64().unwrap().into_no_null_iter().map(|v| v as f64).collect() };
    let (_, rep) = fit_bgbb(&BgBbData::new(&col("x"), &col("t_x"), &col("n")).unwrap()).unwrap();
    recovered("bgbb", &BgBb::NAMES, &rep, &truth.to_vec());
}
