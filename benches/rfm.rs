//! Features + RFM over synthetic orders: `cargo bench --bench rfm`.
//!
//! Throughput of the two first analyses, end to end through polars (valid-order filter,
//! group-by with distinct purchase days, quintile ranks, segment grid).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use custlens::analytics::{features::customer_features, rfm, valid_orders, DAY_US};
use polars::prelude::*;
use rand::{Rng, SeedableRng};

fn orders(n_orders: usize, n_customers: usize) -> DataFrame {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let ids: Vec<String> = (0..n_orders).map(|_| format!("c{}", rng.gen_range(0..n_customers))).collect();
    let ts: Vec<i64> = (0..n_orders).map(|_| rng.gen_range(0..730) * DAY_US + rng.gen_range(0..DAY_US)).collect();
    let net: Vec<f64> = (0..n_orders).map(|_| rng.gen_range(5.0..500.0)).collect();
    let status: Vec<&str> = (0..n_orders).map(|i| if i % 20 == 0 { "cancelled" } else { "completed" }).collect();
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), ids),
        Series::new("created_at".into(), ts)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
            .unwrap()
            .into(),
        Column::new("net_amount".into(), net),
        Column::new("refund_amount".into(), vec![0.0; n_orders]),
        Column::new("status".into(), status),
        Column::new("currency".into(), vec!["USD"; n_orders]),
    ])
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let params = rfm::RfmParams::new().check().unwrap();
    let mut g = c.benchmark_group("features_rfm");
    g.sample_size(10);
    for &n in &[100_000usize, 1_000_000] {
        let df = orders(n, n / 5);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("orders", n), &df, |b, df| {
            b.iter(|| {
                let as_of = 731 * DAY_US;
                let f = customer_features(valid_orders(df.clone().lazy(), as_of, &[("USD".into(), 1.0)]), as_of)
                    .collect()
                    .unwrap();
                rfm::rfm(f.lazy(), &params).collect().unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
