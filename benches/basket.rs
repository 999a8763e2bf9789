//! Basket mining: FP-growth + rules over generator-like baskets.
//!
//! - `cargo bench --bench basket`: criterion, 100 000 baskets in memory (itemsets; itemsets + rules;
//!   recommendations for 20 000 customers).
//! - `cargo bench --bench basket -- --write N FILE [--seed S] [--skus K] [--mean-size M]`: writes N
//!   seeded baskets in the FIMI text format (one basket per line, SKUs separated by spaces), the
//!   input `benches/compare/baskets.sh` gives custlens, pyFIM and mlxtend alike.
//! - `cargo bench --bench basket -- --mine FILE [--min-support S] [--min-confidence C]`: one timed
//!   run on that file (read, itemsets, rules), as JSON on stdout: seconds per section and the
//!   process's peak RSS. Threads: rayon's default (all CPUs), or `RAYON_NUM_THREADS`.
//!
//! Baskets come from the generator's basket model ([`custlens::sample::baskets::BasketModel`]):
//! by default 40 SKUs with Zipf-like popularity, mean size 1.6 and the four default planted
//! rules, customer types in turn — the distribution `custlens gen` writes, without ingest.

use criterion::{BenchmarkId, Criterion, Throughput};
use custlens::basket::fpgrowth::frequent_itemsets;
use custlens::basket::params::ScoreMetric;
use custlens::basket::recommend::recommend;
use custlens::basket::rules::{rules, RuleOptions};
use custlens::basket::transactions::Transactions;
use custlens::sample::baskets::{default_rules, BasketModel};
use custlens::sample::model::Kind;
use rand::SeedableRng;
use std::io::Write;
use std::time::Instant;

// The allocator of the custlens binary (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CATEGORIES: [&str; 8] = ["Kitchen", "Tableware", "Bedding", "Bath", "Decor", "Storage", "Kitchen", "Decor"];

fn model(skus: usize, mean_size: f64) -> BasketModel {
    let names: Vec<String> = (0..skus).map(|i| format!("SKU-{}", 1001 + i)).collect();
    let cats: Vec<&str> = (0..skus).map(|i| CATEGORIES[i % CATEGORIES.len()]).collect();
    let popularity: Vec<f64> = (0..skus).map(|i| 1.0 / ((i + 1) as f64).powf(1.1)).collect();
    let rules = if skus >= 40 { default_rules() } else { Vec::new() };
    BasketModel::new(&names, &cats, &popularity, mean_size, &rules).expect("valid bench basket model")
}

/// `n` baskets as SKU-name lists.
fn baskets(n: usize, seed: u64, skus: usize, mean_size: f64) -> Vec<Vec<usize>> {
    let m = model(skus, mean_size);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|i| m.basket(Kind::ALL[i % 4], &mut rng).iter().map(|l| l.product).collect()).collect()
}

fn transactions(n: usize) -> Transactions {
    let names: Vec<String> = (0..40).map(|i| format!("SKU-{}", 1001 + i)).collect();
    let b = baskets(n, 1, 40, 1.6);
    let mut offsets = vec![0];
    let mut items = Vec::new();
    for basket in &b {
        items.extend(basket.iter().map(|&i| i as u32));
        offsets.push(items.len());
    }
    Transactions::from_csr(names, offsets, items).expect("consistent CSR")
}

fn criterion_benches() {
    let mut c = Criterion::default().configure_from_args();
    let n = 100_000;
    let tx = transactions(n);
    let min_count = (0.01 * n as f64).ceil() as u64;
    let mut g = c.benchmark_group("basket");
    g.sample_size(20);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("itemsets", n), &tx, |b, tx| b.iter(|| frequent_itemsets(tx, min_count, 10)));
    let opts = RuleOptions { min_confidence: 0.1, ..Default::default() };
    g.bench_with_input(BenchmarkId::new("itemsets+rules", n), &tx, |b, tx| {
        b.iter(|| rules(&frequent_itemsets(tx, min_count, 10), &opts))
    });
    // Recommendations: customers' histories = 5 baskets each.
    let found = rules(&frequent_itemsets(&tx, min_count, 10), &opts);
    let mut offsets = vec![0];
    let mut items = Vec::new();
    for c in 0..n / 5 {
        for b in 0..5 {
            items.extend_from_slice(tx.basket(c * 5 + b));
        }
        offsets.push(items.len());
    }
    let history = Transactions::from_csr(tx.names().to_vec(), offsets, items).expect("consistent CSR");
    g.throughput(Throughput::Elements((n / 5) as u64));
    g.bench_with_input(BenchmarkId::new("recommend", n / 5), &history, |b, h| {
        b.iter(|| recommend(h, &found, ScoreMetric::ConfidenceLift, 5, None))
    });
    g.finish();
    c.final_summary();
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad value for {name}: {v}")))
        .unwrap_or(default)
}

fn write_file(args: &[String], i: usize) {
    let n: usize = args.get(i + 1).and_then(|v| v.parse().ok()).expect("--write N FILE");
    let path = args.get(i + 2).expect("--write N FILE");
    let (seed, skus, mean) =
        (arg(args, "--seed", 1u64), arg(args, "--skus", 40usize), arg(args, "--mean-size", 1.6f64));
    let m = model(skus, mean);
    let names: Vec<String> = (0..skus).map(|i| format!("SKU-{}", 1001 + i)).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create the baskets file"));
    for k in 0..n {
        let b = m.basket(Kind::ALL[k % 4], &mut rng);
        let line: Vec<&str> = b.iter().map(|l| names[l.product].as_str()).collect();
        writeln!(out, "{}", line.join(" ")).expect("write");
    }
    out.flush().expect("flush");
    eprintln!("wrote {n} baskets to {path}");
}

fn mine_file(args: &[String], i: usize) {
    let path = args.get(i + 1).expect("--mine FILE");
    let min_support: f64 = arg(args, "--min-support", 0.01);
    let min_confidence: f64 = arg(args, "--min-confidence", 0.1);
    let max_len: usize = arg(args, "--max-len", 10);
    let t = Instant::now();
    let text = std::fs::read_to_string(path).expect("read the baskets file");
    let tx = Transactions::from_text(&text);
    drop(text);
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let min_count = custlens::basket::params::Threshold::Support(min_support).min_count(tx.len() as u64);
    let found = frequent_itemsets(&tx, min_count, max_len);
    let mine = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = rules(&found, &RuleOptions { min_confidence, ..Default::default() });
    let rule_s = t.elapsed().as_secs_f64();
    if let Some(out) = args.iter().position(|a| a == "--itemsets-out").and_then(|k| args.get(k + 1)) {
        let rows: Vec<serde_json::Value> = found
            .sets
            .iter()
            .zip(&found.counts)
            .map(|(s, c)| serde_json::json!({"items": s.iter().map(|&x| tx.name(x)).collect::<Vec<_>>(), "count": c}))
            .collect();
        std::fs::write(out, serde_json::to_string(&rows).expect("json")).expect("write itemsets");
    }
    let report = serde_json::json!({
        "baskets": tx.len(),
        "pairs": tx.pairs(),
        "items": tx.n_items(),
        "min_count": min_count,
        "itemsets": found.len(),
        "rules": r.len(),
        "threads": rayon::current_num_threads(),
        "seconds": {"read": read, "itemsets": mine, "rules": rule_s, "total": read + mine + rule_s},
        "peak_rss_mb": custlens::bench::peak_rss_mb(),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        write_file(&args, i);
    } else if let Some(i) = args.iter().position(|a| a == "--mine") {
        mine_file(&args, i);
    } else {
        criterion_benches();
    }
}
