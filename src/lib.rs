//! custlens: customer analytics for multichannel e-commerce CRM.
//!
//! Data flows one way (see ARCHITECTURE.md):
//!
//! ```text
//! exports (CSV/TSV/JSONL, UTF-8/GBK) --ingest--> lake/ (canonical zstd Parquet)
//!     --scan--> LazyFrames --analytics--> features, RFM, segments --pipeline--> out/ + manifest.json
//! ```
//!
//! - [`schema`]: canonical tables, one place for names, dtypes, nullability; validation.
//! - [`config`]: `custlens.toml`, `--set` overrides, mapping files.
//! - [`ingest`]: decoding, reading, mapping to canonical rows, rejects, row accounting.
//! - [`identity`]: one `customer_id` per person across sources.
//! - [`lake`]: canonical tables on disk, atomic writes.
//! - [`analytics`]: pure LazyFrame → LazyFrame analyses; the run's calendar (time zone of its days).
//! - [`business`]: business tables: sales trends (MoM, YoY), cohorts, headline KPIs.
//! - [`clv`](mod@clv): churn risk and lifetime value (BG/NBD, Gamma-Gamma): summaries, fits, scores, validation.
//! - [`basket`]: market-basket analysis: parallel FP-growth, association rules, recommendations.
//! - [`cluster`]: customer clusters (k-means, silhouette-chosen k, labelled profiles) and lifecycle stages.
//! - [`pipeline`]: the only place that collects; runs stages, writes outputs and the manifest.
//! - [`output`]: atomic output files, pseudonymization, manifest.
//! - [`sample`]: the seeded generator of the bundled sample exports.
//! - [`memory`]: how soon the allocator returns freed memory (at once while a spilled lake's identities are resolved).
//! - [`bench`](mod@bench): the `custlens bench` harness: cached generated data, per-stage time, rows/s, peak RSS.
//! - [`cli`]: clap arguments and exit codes.

pub mod analytics;
pub mod basket;
pub mod bench;
pub mod business;
pub mod cli;
pub mod cluster;
pub mod clv;
pub mod config;
pub mod forget;
pub mod identity;
pub mod ingest;
pub mod lake;
pub mod marketing;
pub mod memory;
pub mod output;
pub mod pipeline;
pub mod sample;
pub mod schema;
