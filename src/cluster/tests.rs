//! Stage-level tests of [`super::fit`]: feature handling, label stability, and agreement with
//! scikit-learn on the committed fixture (`tests/fixtures/cluster/`).

use super::params::{Algorithm, ClusterParams, Feature};
use super::*;
use kmeans::FitOptions;
use rand::{Rng, SeedableRng};

/// Three planted groups of customers (loyal big spenders, new small spenders, lapsed one-timers)
/// with seeded noise; `n` per group.
fn planted(n: usize, seed: u64) -> DataFrame {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut id, mut rec, mut freq, mut mon, mut ten, mut ret, mut eng) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for g in 0..3 {
        for i in 0..n {
            id.push(format!("c{g}{i:05}"));
            let (r, f, m, t) = match g {
                0 => (rng.gen_range(1.0..20.0), rng.gen_range(6.0..12.0), rng.gen_range(800.0..1500.0), 700.0),
                1 => (rng.gen_range(1.0..15.0), 0.0, rng.gen_range(10.0..40.0), rng.gen_range(1.0..15.0)),
                _ => (rng.gen_range(300.0..600.0), 0.0, rng.gen_range(30.0..90.0), rng.gen_range(300.0..600.0)),
            };
            rec.push(r);
            freq.push(f);
            mon.push(m);
            ten.push(t);
            ret.push([0.05, 0.0, 0.3][g] + rng.gen_range(0.0..0.05));
            eng.push(if g == 0 { rng.gen_range(0.5..1.5) } else { rng.gen_range(0.0..0.3) });
        }
    }
    let m = id.len();
    df!(
        "customer_id" => id, "recency_days" => rec, "frequency" => freq, "monetary_total" => mon,
        "tenure_days" => ten, "predicted_clv" => vec![None::<f64>; m], "return_rate" => ret, "email_engagement" => eng
    )
    .unwrap()
}

fn labels(f: &ClusterFit) -> Vec<(String, i64, String)> {
    let id = f.clusters.column("customer_id").unwrap().str().unwrap().clone();
    let c = f.clusters.column("cluster").unwrap().i64().unwrap().clone();
    let l = f.clusters.column("label").unwrap().str().unwrap().clone();
    (0..f.clusters.height()).map(|i| (id.get(i).unwrap().into(), c.get(i).unwrap(), l.get(i).unwrap().into())).collect()
}

#[test]
fn planted_groups_are_found_with_k_chosen_by_silhouette() {
    let f = fit(&planted(100, 1), &ClusterParams::new().check().unwrap()).unwrap();
    assert_eq!(f.model.k, 3, "{:?}", f.model.selection);
    assert_eq!(f.selection.height(), 9);
    let l = labels(&f);
    for g in 0..3 {
        let group: Vec<_> = l.iter().filter(|(id, _, _)| id.starts_with(&format!("c{g}"))).collect();
        assert!(group.iter().all(|x| x.1 == group[0].1), "group {g} split");
    }
    let names: Vec<&str> = (0..3).map(|i| f.profiles.column("label").unwrap().str().unwrap().get(i).unwrap()).collect();
    assert_eq!(names[0], "high-value loyal, email-engaged");
    assert!(names[1].starts_with("lapsed"), "{names:?}");
    assert!(names[2].starts_with("new low-spend"), "{names:?}");
    // predicted_clv had no values.
    assert_eq!(f.model.dropped.len(), 1);
    assert_eq!(f.model.dropped[0].feature, "predicted_clv");
    assert_eq!(f.features.width(), 1 + 5);
}

#[test]
fn another_seed_finding_the_same_groups_gives_the_same_ids_and_labels() {
    let frame = planted(80, 2);
    let a = fit(&frame, &ClusterParams::new().k(Some(3)).seed(1).check().unwrap()).unwrap();
    let b = fit(&frame, &ClusterParams::new().k(Some(3)).seed(99).n_init(3).check().unwrap()).unwrap();
    assert_eq!(labels(&a), labels(&b));
    let distinct: std::collections::BTreeSet<_> = labels(&a).into_iter().map(|x| x.2).collect();
    assert_eq!(distinct.len(), 3);
}

#[test]
fn constant_features_are_dropped_and_partial_ones_imputed() {
    let mut frame = planted(20, 3);
    let n = frame.height();
    frame.with_column(Column::new("return_rate".into(), vec![0.0; n])).unwrap();
    let clv: Vec<Option<f64>> = (0..n).map(|i| (i % 2 == 0).then_some(i as f64)).collect();
    frame.with_column(Column::new("predicted_clv".into(), clv)).unwrap();
    let f = fit(&frame, &ClusterParams::new().k(Some(3)).check().unwrap()).unwrap();
    assert_eq!(f.model.dropped.iter().map(|d| d.feature).collect::<Vec<_>>(), ["return_rate"]);
    let clv = f.model.features.iter().find(|u| u.feature == "predicted_clv").unwrap();
    assert_eq!(clv.imputed, n / 2);
    assert!(f.model.notes.iter().any(|n| n.contains("imputed")));
    for c in f.features.columns().iter().skip(1) {
        assert_eq!(c.f64().unwrap().null_count(), 0);
        assert!(c.f64().unwrap().iter().flatten().all(f64::is_finite));
    }
}

#[test]
fn degenerate_inputs_are_clear_errors() {
    let frame = planted(1, 4).head(Some(2));
    let e = fit(&frame, &ClusterParams::new().check().unwrap()).unwrap_err();
    assert!(matches!(e, ClusterError::TooFewCustomers { n: 2, need: 3 }), "{e}");
    let e =
        fit(&planted(5, 4), &ClusterParams::new().features(vec![Feature::PredictedClv]).check().unwrap()).unwrap_err();
    assert!(e.is_degenerate(), "{e}");
}

#[test]
fn gmm_finds_the_planted_groups() {
    let f = fit(&planted(60, 5), &ClusterParams::new().algorithm(Algorithm::Gmm).k(Some(3)).check().unwrap()).unwrap();
    assert_eq!(f.model.clusters, 3);
    let l = labels(&f);
    for g in 0..3 {
        let group: Vec<_> = l.iter().filter(|(id, _, _)| id.starts_with(&format!("c{g}"))).collect();
        assert!(group.iter().all(|x| x.1 == group[0].1), "group {g} split");
    }
}

#[test]
fn profiles_have_no_nan() {
    let f = fit(&planted(30, 6), &ClusterParams::new().check().unwrap()).unwrap();
    for c in f.profiles.columns() {
        if let Ok(v) = c.f64() {
            assert!(v.iter().flatten().all(f64::is_finite), "{}", c.name());
        }
    }
    let share: f64 = f.profiles.column("share").unwrap().f64().unwrap().sum().unwrap();
    assert!((share - 1.0).abs() < 1e-12);
}

/// `tests/fixtures/cluster/<name>` as rows of numbers (header skipped).
fn fixture(name: &str) -> Vec<Vec<f64>> {
    let path = format!("{}/tests/fixtures/cluster/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap_or(f64::NAN)).collect()).collect()
}

fn fixture_matrix() -> (Vec<f64>, usize) {
    let rows = fixture("features.csv");
    let d = rows[0].len();
    (rows.concat(), d)
}

#[test]
fn inertia_within_one_percent_of_scikit_learn() {
    let (data, d) = fixture_matrix();
    let x = kmeans::Matrix::new(&data, d);
    let o = FitOptions { algorithm: Algorithm::Kmeans, n_init: 10, max_iter: 300, tolerance: 1e-4, seed: 0 };
    let mut worst: f64 = 0.0;
    for row in fixture("kmeans.csv") {
        let (k, sk) = (row[0] as usize, row[1]);
        let ours = kmeans::fit(x, k, &o).unwrap().inertia;
        worst = worst.max(ours / sk);
    }
    assert!(worst <= 1.01, "worst ratio {worst}");
}

/// Prints custlens' inertia ÷ scikit-learn's per k: at seed 0 with the default and with linfa's
/// KMeans, and the spread of the default over seeds 0..20 (compare with scikit-learn's over its
/// random_state in `tests/fixtures/cluster/README.md`):
/// `cargo test --lib inertia_across_seeds -- --ignored --nocapture`.
#[test]
#[ignore]
fn inertia_across_seeds() {
    let (data, d) = fixture_matrix();
    let x = kmeans::Matrix::new(&data, d);
    let o = FitOptions { algorithm: Algorithm::Kmeans, n_init: 10, max_iter: 300, tolerance: 1e-4, seed: 0 };
    for row in fixture("kmeans.csv") {
        let (k, sk) = (row[0] as usize, row[1]);
        let linfa = kmeans::fit(x, k, &FitOptions { algorithm: Algorithm::LinfaKmeans, ..o }).unwrap().inertia / sk;
        let r: Vec<f64> =
            (0..20).map(|seed| kmeans::fit(x, k, &FitOptions { seed, ..o }).unwrap().inertia / sk).collect();
        let worst = r.iter().copied().fold(0.0, f64::max);
        let over = r.iter().filter(|&&v| v > 1.01).count();
        eprintln!(
            "k = {k}: seed 0 {:.4}, linfa seed 0 {linfa:.4}; seeds 0..20 worst {worst:.4}, over 1%: {over}/20",
            r[0]
        );
    }
}

#[test]
fn silhouette_equals_scikit_learn() {
    let (data, d) = fixture_matrix();
    let x = kmeans::Matrix::new(&data, d);
    let labels = fixture("silhouette.csv");
    let scores = fixture("silhouette_scores.csv");
    let all: Vec<usize> = (0..labels.len()).collect();
    for (j, score) in scores.iter().enumerate() {
        let l: Vec<usize> = labels.iter().map(|r| r[j] as usize).collect();
        let k = l.iter().max().unwrap() + 1;
        let ours = select::silhouette(x, &l, &all, k).unwrap();
        assert!((ours - score[1]).abs() < 1e-9, "labelling {j}: custlens {ours} vs scikit-learn {}", score[1]);
    }
}
