//! Per-stage benchmarks on generated sample data: `cargo bench --bench stages`.
//!
//! Sizes: 10k and 100k simulated customers; 1M as well only with `CUSTLENS_BENCH_LARGE=1`
//! (generation and each ingest then take minutes), so a default `cargo bench` finishes in minutes.
//! Seed fixed at 1 (as `custlens bench`). Ids are `BenchmarkId::new(stage, customers)` in a group
//! named after the stage, e.g. `ingest/ingest/10000`; filter with `cargo bench --bench stages -- segments`.
//!
//! Data per size is generated once, into the same cache as `custlens bench`
//! (`${XDG_CACHE_HOME:-$HOME/.cache}/custlens/bench/`, or `CUSTLENS_BENCH_CACHE`), only when a
//! benchmark of that size runs. A size's setup then ingests it once and runs the pipeline once
//! (for `as_of` and the base currency) and keeps the lake's tables in memory.
//!
//! Groups (10 samples each, flat sampling: one iteration per sample for the long ones; throughput
//! in simulated customers per second, whatever the stage's rows):
//! - `ingest`: every export of the generated `custlens.toml` into a fresh lake.
//! - `features_rfm`: valid orders → features → RFM, through the library functions on the
//!   collected `orders` table.
//! - `segments`: customers joined with features and RFM.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use custlens::analytics::{features::customer_features, rfm, segments::segments, valid_orders};
use custlens::bench;
use custlens::config::Config;
use custlens::ingest::{self, IngestOptions, InputSpec};
use custlens::lake;
use custlens::pipeline::{self, AnalyzeSettings};
use custlens::schema::Table;
use polars::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

const SEED: u64 = 1;

fn sizes() -> Vec<usize> {
    let mut s = vec![10_000, 100_000];
    if std::env::var("CUSTLENS_BENCH_LARGE").is_ok_and(|v| v == "1") {
        s.push(1_000_000);
    }
    s
}

/// One size's data, ingested and analyzed once.
struct Fixture {
    specs: Vec<InputSpec>,
    opts: IngestOptions,
    as_of: i64,
    base: String,
    rates: Vec<(String, f64)>,
    params: rfm::RfmValidParams,
    orders: DataFrame,
    customers: DataFrame,
    features: DataFrame,
    rfm: DataFrame,
    _work: tempfile::TempDir,
}

fn fixture(customers: usize) -> Fixture {
    let cache = std::env::var_os("CUSTLENS_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| bench::default_cache_dir().expect("a cache folder (set CUSTLENS_BENCH_CACHE)"));
    let data = bench::ensure_data(&cache, customers, SEED).expect("bench data");
    let cfg = Config::load(Some(&data.config_path()), &[]).expect("generated config");
    let specs = ingest::plan_inputs(&cfg, &[], None, None).expect("inputs");
    let opts = IngestOptions { strict: false, ..Default::default() };
    let work = tempfile::tempdir().expect("temp folder");
    let lake_dir = work.path().join("lake");
    let report = ingest::ingest(&specs, &lake_dir, &opts).expect("ingest");
    let settings = AnalyzeSettings {
        lake: lake_dir.clone(),
        out: work.path().join("out"),
        as_of: None,
        command: "bench".into(),
        previous: None,
    };
    let manifest = pipeline::analyze(&cfg, &settings, Some(&report)).expect("analyze").manifest;
    let as_of = ingest::parse::parse_as_of(&manifest.as_of, chrono_tz::UTC).expect("manifest as_of");
    let base = manifest.base_currency.clone();
    let mut rates = vec![(base.clone(), 1.0)];
    rates.extend(cfg.currency.rates.iter().filter(|(c, _)| **c != base).map(|(c, r)| (c.clone(), *r)));
    let params = rfm::RfmParams::from_config(&cfg.rfm).check().expect("rfm params");
    let collect = |t| lake::scan(&lake_dir, t).expect("lake table").collect().expect("collect");
    let orders = collect(Table::Orders);
    let customers_df = collect(Table::Customers);
    let features = customer_features(valid_orders(orders.clone().lazy(), as_of, &rates), as_of).collect().unwrap();
    let rfm_df = rfm::rfm(features.clone().lazy(), &params).collect().unwrap();
    Fixture {
        specs,
        opts,
        as_of,
        base,
        rates,
        params,
        orders,
        customers: customers_df,
        features,
        rfm: rfm_df,
        _work: work,
    }
}

/// Fixtures built on first use, so a filtered run only generates the sizes it needs.
#[derive(Default)]
struct Fixtures(RefCell<BTreeMap<usize, Rc<Fixture>>>);

impl Fixtures {
    fn get(&self, customers: usize) -> Rc<Fixture> {
        self.0.borrow_mut().entry(customers).or_insert_with(|| Rc::new(fixture(customers))).clone()
    }
}

fn stages(c: &mut Criterion) {
    let fx = Fixtures::default();
    let group = |c: &mut Criterion, name: &'static str, body: &dyn Fn(&mut criterion::Bencher, &Fixture)| {
        let mut g = c.benchmark_group(name);
        g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
        for n in sizes() {
            // Throughput in simulated customers, known before the fixture (built in the closure,
            // which only runs when the id passes the filter).
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(BenchmarkId::new(name, n), |b| body(b, &fx.get(n)));
        }
        g.finish();
    };
    group(c, "ingest", &|b, f| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp folder"),
            |dir| {
                ingest::ingest(&f.specs, &dir.path().join("lake"), &f.opts).expect("ingest");
                dir // removed outside the timed section
            },
            BatchSize::PerIteration,
        )
    });
    group(c, "features_rfm", &|b, f| {
        b.iter(|| {
            let feats = customer_features(valid_orders(f.orders.clone().lazy(), f.as_of, &f.rates), f.as_of)
                .collect()
                .expect("features");
            rfm::rfm(feats.lazy(), &f.params).collect().expect("rfm")
        })
    });
    group(c, "segments", &|b, f| {
        b.iter(|| {
            segments(f.customers.clone().lazy(), f.features.clone().lazy(), f.rfm.clone().lazy(), &f.base)
                .collect()
                .expect("segments")
        })
    });
}

criterion_group!(benches, stages);
criterion_main!(benches);
