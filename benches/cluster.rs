//! The cluster stage over synthetic customers: `cargo bench --bench cluster`.
//!
//! - `kmeans_k5`: one k-means fit, k = 5, 10 initializations, on the scaled matrix;
//! - `linfa_kmeans_k5`: the same with linfa-clustering's own iterations (`n_runs(10)`, 300
//!   iterations, tolerance 1e-4), for comparison with custlens' Lloyd iterations;
//! - `silhouette_5000`: the silhouette of a 5 000-customer sample;
//! - `stage`: the whole fitted stage with defaults (scaling, k = 2..10 each with 10
//!   initializations, silhouette per k, profiles and labels).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use custlens::cluster::{
    fit,
    kmeans::{self, FitOptions, Matrix},
    params::{Algorithm, ClusterParams},
    select,
};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma, LogNormal};

/// Customers shaped like the generator's: gamma-distributed purchase rates, lognormal spend.
pub fn frame(n: usize) -> DataFrame {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let lam = Gamma::new(0.7, 1.0 / 40.0).unwrap();
    let spend = LogNormal::new(4.0, 0.8).unwrap();
    let (mut id, mut rec, mut freq, mut mon, mut ten, mut ret, mut eng) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let tenure = rng.gen_range(1.0..730.0f64);
        let f = (lam.sample(&mut rng) * tenure).floor().min(60.0);
        let recency = if f > 0.0 { rng.gen_range(0.0..tenure) } else { tenure };
        id.push(format!("C{i:09}"));
        rec.push(recency.floor());
        freq.push(f);
        mon.push(spend.sample(&mut rng) * (f + 1.0));
        ten.push(tenure.floor());
        ret.push(if rng.gen_bool(0.15) { rng.gen_range(0.1..1.0) } else { 0.0 });
        eng.push(if rng.gen_bool(0.6) { rng.gen_range(0.0..1.2) } else { 0.0 });
    }
    df!("customer_id" => id, "recency_days" => rec, "frequency" => freq, "monetary_total" => mon,
        "tenure_days" => ten, "predicted_clv" => vec![None::<f64>; n], "return_rate" => ret, "email_engagement" => eng)
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10);
    for &n in &[10_000usize, 100_000] {
        let df = frame(n);
        let scaled = fit(&df, &ClusterParams::new().k(Some(2)).n_init(1).check().unwrap()).unwrap().features;
        let cols: Vec<Vec<f64>> =
            scaled.columns()[1..].iter().map(|c| c.f64().unwrap().iter().map(|v| v.unwrap()).collect()).collect();
        let d = cols.len();
        let data: Vec<f64> = (0..n).flat_map(|i| cols.iter().map(move |c| c[i])).collect();
        let x = Matrix::new(&data, d);
        let o = FitOptions { algorithm: Algorithm::Kmeans, n_init: 10, max_iter: 300, tolerance: 1e-4, seed: 0 };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("kmeans_k5", n), &x, |b, x| b.iter(|| kmeans::fit(*x, 5, &o).unwrap()));
        let records = ndarray::Array2::from_shape_vec((n, d), data.clone()).unwrap();
        g.bench_with_input(BenchmarkId::new("linfa_kmeans_k5", n), &records, |b, r| {
            use linfa::traits::Fit;
            b.iter(|| {
                let ds = linfa::DatasetBase::from(r.view());
                linfa_clustering::KMeans::params_with_rng(5, rand_chacha::ChaCha8Rng::seed_from_u64(0))
                    .n_runs(10)
                    .max_n_iterations(300)
                    .tolerance(1e-4)
                    .fit(&ds)
                    .unwrap()
            })
        });
        let labels = kmeans::fit(x, 5, &o).unwrap().labels;
        let idx = select::sample(n, 5000, 0);
        g.bench_with_input(BenchmarkId::new("silhouette_5000", n), &x, |b, x| {
            b.iter(|| select::silhouette(*x, &labels, &idx, 5))
        });
        let p = ClusterParams::new().check().unwrap();
        g.bench_with_input(BenchmarkId::new("stage", n), &df, |b, df| b.iter(|| fit(df, &p).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
