//! CLV benchmarks: `cargo bench --bench clv`.
//!
//! Data: [`custlens::clv::simulate::simulate`] — BG/NBD (r 0.75, α 40 per day, a 0.8, b 2.5) and
//! Gamma-Gamma (p 6, q 4, γ 150) customers acquired uniformly over 730 days, seed 1, simulated
//! directly as a summary table (and, for the summary benchmark, as orders).
//!
//! Sizes: 100k and 1M customers; 10M as well with `CUSTLENS_BENCH_LARGE=1`.
//! Groups (10 samples each, flat sampling; throughput in customers per second):
//! - `clv_fit_score`: from the in-memory summary DataFrame (x, t_x, T, spend) to the scored
//!   `clv` table: columns → BG/NBD fit → Gamma-Gamma fit → scores for horizons 90 and 365 days
//!   (weeks, 10 % discount) — the target (1M in under 2 s on 2 cores);
//! - `clv_fit`: both fits alone; `clv_score`: scoring alone, at the fitted parameters;
//! - `clv_summary`: the summary from orders ([`custlens::clv::summary::summary`], collected),
//!   100k and 1M only.
//!
//! `CUSTLENS_CLV_DUMP=DIR` also writes each size's summary as `DIR/clv-summary-N.csv`
//! (customer_id, x, t_x_days, T_days, spend) for `benches/compare/tools/clv_lifetimes.py --summary`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use custlens::clv::bgnbd::BgNbd;
use custlens::clv::gamma_gamma::GammaGamma;
use custlens::clv::score::{fit, score, SummaryColumns};
use custlens::clv::simulate::simulate;
use custlens::clv::summary::summary;
use custlens::clv::{ClvParams, TimeUnit};
use polars::prelude::*;
use std::time::Duration;

const M: BgNbd = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
const G: GammaGamma = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };

fn sizes() -> Vec<usize> {
    let mut s = vec![100_000, 1_000_000];
    if std::env::var("CUSTLENS_BENCH_LARGE").is_ok_and(|v| v == "1") {
        s.push(10_000_000);
    }
    s
}

fn bench(c: &mut Criterion) {
    if std::env::var("RUST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).try_init();
    }
    let p = ClvParams::new().check().expect("default [clv]");
    let unit = TimeUnit::Weeks;
    for n in sizes() {
        let with_orders = n <= 1_000_000;
        let sim = simulate(n, 1, 730, &M, &G, with_orders).expect("simulate");
        let df = sim.summary;
        if let Ok(dir) = std::env::var("CUSTLENS_CLV_DUMP") {
            let path = std::path::Path::new(&dir).join(format!("clv-summary-{n}.csv"));
            let mut out = df.clone();
            CsvWriter::new(std::fs::File::create(&path).expect("dump file")).finish(&mut out).expect("dump");
        }
        let cols = SummaryColumns::from_frame(&df, unit).expect("columns");
        let t0 = std::time::Instant::now();
        let fitted = fit(&cols, unit, 729).expect("fit");
        eprintln!("clv bench n={n}: first fit {:.3} s", t0.elapsed().as_secs_f64());
        eprintln!(
            "clv bench n={n}: distinct (x,t_x,T) rows {}, bgnbd {:?} ({} iterations, {}, converged {}), gamma_gamma {:?} ({} iterations, {})",
            fitted.bgnbd_report.n_rows,
            fitted.bgnbd,
            fitted.bgnbd_report.iterations,
            fitted.bgnbd_report.method,
            fitted.bgnbd_report.converged,
            fitted.spend,
            fitted.spend_report.iterations,
            fitted.spend_report.method
        );
        let mut g = c.benchmark_group("clv_fit_score");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit_score", n), &df, |b, df| {
            b.iter(|| {
                let cols = SummaryColumns::from_frame(df, unit).expect("columns");
                let f = fit(&cols, unit, 729).expect("fit");
                score(df, &cols, &f, &p).expect("score")
            })
        });
        g.finish();
        let mut g = c.benchmark_group("clv_fit");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit", n), &cols, |b, cols| b.iter(|| fit(cols, unit, 729).expect("fit")));
        g.finish();
        let mut g = c.benchmark_group("clv_score");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("score", n), &df, |b, df| {
            b.iter(|| score(df, &cols, &fitted, &p).expect("score"))
        });
        g.finish();
        if let Some(orders) = sim.orders {
            let mut g = c.benchmark_group("clv_summary");
            g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
            g.throughput(Throughput::Elements(n as u64));
            eprintln!("clv bench n={n}: {} orders", orders.height());
            g.bench_with_input(BenchmarkId::new("summary", n), &orders, |b, o| {
                b.iter(|| summary(o.clone().lazy(), 18_262 + 729).collect().expect("summary"))
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
