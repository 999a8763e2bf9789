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
//!   100k and 1M only;
//! - `clv_pareto_fit`: Pareto/NBD from the customers' (x, t_x, T) columns (compression to
//!   distinct rows and (x, t) pairs + fit) on data simulated from Pareto/NBD (r 0.55, α 40 per
//!   day, s 0.6, β 80, same acquisition window) — the target is 1M in under 5 s on
//!   2 cores; `clv_pareto_score`: scoring at the fitted parameters; `clv_mbgnbd_fit`: MBG/NBD
//!   on the BG/NBD data; `clv_bgbb_fit`: BG/BB on simulated cohorts (12 monthly opportunities).
//!
//! `CUSTLENS_CLV_DUMP=DIR` also writes each size's summary as `DIR/clv-summary-N.csv`
//! (customer_id, x, t_x_days, T_days, spend) for `benches/compare/tools/clv_lifetimes.py --summary`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use custlens::clv::bgbb::BgBb;
use custlens::clv::bgnbd::BgNbd;
use custlens::clv::fit::{fit_bgbb, fit_mbgnbd, fit_pareto_nbd, BgBbData, CountData, ParetoNbdData};
use custlens::clv::gamma_gamma::GammaGamma;
use custlens::clv::model::TimeBase;
use custlens::clv::pareto_nbd::ParetoNbd;
use custlens::clv::score::{fit, score, SummaryColumns};
use custlens::clv::simulate::{simulate, simulate_bgbb, simulate_model, CountProcess};
use custlens::clv::summary::summary;
use custlens::clv::{ClvModel, ClvParams, TimeUnit};
use polars::prelude::*;
use std::time::Duration;

const M: BgNbd = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
const G: GammaGamma = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
const P: ParetoNbd = ParetoNbd { r: 0.55, alpha: 40.0, s: 0.6, beta: 80.0 };
const BB: BgBb = BgBb { alpha: 1.2, beta: 0.75, gamma: 0.66, delta: 2.8 };
const BASE: TimeBase = TimeBase { unit: TimeUnit::Weeks, period: None, calibration_end_day: 729 };

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
        let fitted = fit(&cols, ClvModel::Bgnbd, BASE).expect("fit");
        let spend = fitted.spend.as_ref().expect("gamma-gamma fit");
        eprintln!("clv bench n={n}: first fit {:.3} s", t0.elapsed().as_secs_f64());
        eprintln!(
            "clv bench n={n}: distinct (x,t_x,T) rows {}, bgnbd {:?} ({} iterations, {}, converged {}), gamma_gamma {:?} ({} iterations, {})",
            fitted.report.n_rows,
            fitted.model,
            fitted.report.iterations,
            fitted.report.method,
            fitted.report.converged,
            spend.model,
            spend.report.iterations,
            spend.report.method
        );
        let mut g = c.benchmark_group("clv_fit_score");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit_score", n), &df, |b, df| {
            b.iter(|| {
                let cols = SummaryColumns::from_frame(df, unit).expect("columns");
                let f = fit(&cols, ClvModel::Bgnbd, BASE).expect("fit");
                score(df, &cols, &f, &p).expect("score")
            })
        });
        g.finish();
        let mut g = c.benchmark_group("clv_fit");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit", n), &cols, |b, cols| {
            b.iter(|| fit(cols, ClvModel::Bgnbd, BASE).expect("fit"))
        });
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
        let mut g = c.benchmark_group("clv_mbgnbd_fit");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit", n), &cols, |b, c| {
            b.iter(|| fit_mbgnbd(&CountData::for_model("mbgnbd", &c.x, &c.t_x, &c.t).expect("data")).expect("fit"))
        });
        g.finish();
        drop(df);
        drop(cols);

        // Pareto/NBD on its own data.
        let sim = simulate_model(n, 1, 730, &CountProcess::ParetoNbd(P), &G, false).expect("simulate");
        let pcols = SummaryColumns::from_frame(&sim.summary, unit).expect("columns");
        let t0 = std::time::Instant::now();
        let data = CountData::for_model("pareto_nbd", &pcols.x, &pcols.t_x, &pcols.t).expect("data");
        let pd = ParetoNbdData::new(&data);
        let (pm, prep) = fit_pareto_nbd(&pd).expect("pareto fit");
        eprintln!(
            "clv bench n={n}: pareto_nbd first fit {:.3} s: distinct rows {}, (x, t) pairs {}, {:?} ({} iterations, {}, converged {})",
            t0.elapsed().as_secs_f64(),
            data.rows(),
            pd.pairs(),
            pm,
            prep.iterations,
            prep.method,
            prep.converged
        );
        let mut g = c.benchmark_group("clv_pareto_fit");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fit", n), &pcols, |b, c| {
            b.iter(|| {
                let d = CountData::for_model("pareto_nbd", &c.x, &c.t_x, &c.t).expect("data");
                fit_pareto_nbd(&ParetoNbdData::new(&d)).expect("fit")
            })
        });
        g.finish();
        let pfit = fit(&pcols, ClvModel::ParetoNbd, BASE).expect("fit");
        let mut g = c.benchmark_group("clv_pareto_score");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("score", n), &sim.summary, |b, df| {
            b.iter(|| score(df, &pcols, &pfit, &p).expect("score"))
        });
        g.finish();

        // BG/BB cohorts.
        let bb = simulate_bgbb(n, 1, &[12], &BB).expect("simulate");
        let col = |c: &str| -> Vec<f64> {
            bb.column(c).expect("column").i64().expect("i64").into_no_null_iter().map(|v| v as f64).collect()
        };
        let (bx, btx, bn) = (col("x"), col("t_x"), col("n"));
        let mut g = c.benchmark_group("clv_bgbb_fit");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("fit", n), |b| {
            b.iter(|| fit_bgbb(&BgBbData::new(&bx, &btx, &bn).expect("data")).expect("fit"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
