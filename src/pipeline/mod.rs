//! The pipeline: scans the lake, runs the analyses, collects, writes `out/` and the manifest.
//!
//! ## Method
//! 1. *prepare*: scan `orders` and `customers`; find the orders' currencies and the default
//!    `as_of` (the midnight, in `[analysis] timezone`, after the latest valid order) — the only
//!    collects outside stages. Every day below is a local day of that calendar
//!    ([`analytics::calendar`]).
//! 2. *features*: [`analytics::features::customer_features`] over [`analytics::valid_orders`].
//! 3. *rfm*: [`analytics::rfm::rfm`] over the collected features.
//! 4. *clv*: purchase model (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB or the best by holdout) +
//!    Gamma-Gamma fit, scores and holdout validation ([`crate::clv`], glue in `pipeline/clv.rs`);
//!    without a spend model the monetary columns are null and the manifest carries a warning.
//! 5. *cluster*: lifecycle stages and customer clusters ([`crate::cluster`]; glue in `cluster.rs`),
//!    with predicted CLV and P(alive) when the CLV stage succeeded.
//! 6. *basket*: [`crate::basket`] over the valid orders' lines: itemsets, rules, recommendations;
//!    skipped with `[basket] enabled = false`.
//! 7. *business*: sales trends, cohorts and headline KPIs ([`crate::business`]; glue in
//!    `business.rs`); skipped with `[business] enabled = false`.
//! 8. *segments*: [`analytics::segments::segments`], every customer joined with features, RFM,
//!    cluster and lifecycle stage, P(alive), churn tier and CLV, recommendations, and return,
//!    complaint and refund counts.
//! 9. *marketing*: the trigger rules over the segments table → `actions`, one audience per action,
//!    their sizes, and (with `previous`) `segment_changes` ([`crate::marketing`]; `marketing.rs`).
//! 10. *write*: output tables in parallel (each atomic), then `manifest.json` last, so a manifest
//!     always describes a complete `out/` (with `warnings`: what a stage could not do).
//!
//! Only this module calls `collect`. Later stages (CLV models, baskets, clusters) hang off the
//! collected features and run side by side with rayon.

mod basket;
mod business;
mod cluster;
mod clv;
mod marketing;

use crate::analytics::{self, calendar::Calendar, features::customer_features_in, rfm, AnalyticsError};
use crate::config::Config;
use crate::ingest::IngestReport;
use crate::lake::{self, records::FileEntry, LakeError};
use crate::output::{self, Manifest, OutputError, StageTime, SCHEMA_VERSION};
use crate::schema::Table;
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Pipeline failures.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Analytics(#[from] AnalyticsError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("stage `{stage}` failed: {message}")]
    Stage { stage: &'static str, message: String },
    #[error("the lake at {lake} has no valid orders (paid, shipped or completed){hint}")]
    NoOrders { lake: PathBuf, hint: String },
    #[error("config key `{key}`: {message}")]
    Config { key: String, message: String },
    /// An error a config would have prevented, on a lake whose files came from a folder that has
    /// its own `custlens.toml`, not the config in use.
    #[error("{error}; the lake's files come from a folder with its own config, not the one in use: {}", pass_config(.configs))]
    ConfigNotUsed { error: Box<PipelineError>, configs: Vec<PathBuf> },
}

/// `pass --config A/custlens.toml` (`, or --config B/custlens.toml` for each other one).
fn pass_config(configs: &[PathBuf]) -> String {
    let flags: Vec<String> = configs.iter().map(|c| format!("--config {}", c.display())).collect();
    format!("pass {}", flags.join(", or "))
}

impl PipelineError {
    /// True when the user must change how custlens is called (a config key), not the data.
    pub fn is_usage(&self) -> bool {
        match self {
            PipelineError::Config { .. } => true,
            PipelineError::ConfigNotUsed { error, .. } => error.is_usage(),
            _ => false,
        }
    }
}

/// Where and how to analyze.
#[derive(Debug, Clone)]
pub struct AnalyzeSettings {
    pub lake: PathBuf,
    pub out: PathBuf,
    /// µs since the epoch, UTC; None → the day after the latest valid order.
    pub as_of: Option<i64>,
    /// The command line, for the manifest.
    pub command: String,
    /// A previous run's output folder: `segment_changes` compares its `segments` with today's.
    pub previous: Option<PathBuf>,
}

/// What `analyze` wrote.
#[derive(Debug, Clone)]
pub struct AnalyzeReport {
    pub manifest: Manifest,
}

struct Timer {
    stages: Vec<StageTime>,
}

impl Timer {
    fn run<T>(
        &mut self,
        stage: &'static str,
        f: impl FnOnce() -> Result<T, PipelineError>,
    ) -> Result<T, PipelineError> {
        crate::bench::reset_peak_rss();
        let t = Instant::now();
        let out = f()?;
        let seconds = t.elapsed().as_secs_f64();
        let peak_rss_mb = crate::bench::peak_rss_mb();
        let peak_mb = peak_rss_mb.map(|p| format!("{p:.1}")).unwrap_or_default();
        tracing::info!(stage, seconds = format!("{seconds:.3}"), peak_mb, "stage done");
        self.stages.push(StageTime { stage: stage.into(), seconds, peak_rss_mb });
        Ok(out)
    }
}

fn stage_err(stage: &'static str) -> impl Fn(PolarsError) -> PipelineError {
    move |e| PipelineError::Stage { stage, message: e.to_string() }
}

/// Base currency and conversion rates (including the base at 1.0) for the orders' currencies.
fn rates(cfg: &Config, currencies: &[String]) -> Result<(String, Vec<(String, f64)>), PipelineError> {
    let base = match (&cfg.currency.base, currencies) {
        (Some(b), _) => b.clone(),
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(PipelineError::Config {
                key: "currency.base".into(),
                message: format!(
                    "orders use several currencies ({}); pass the --config you ingested with, or set `[currency] base = \"...\"` and `rates`, e.g. --set currency.base={} --set currency.rates.{}=RATE",
                    currencies.join(", "),
                    currencies[0],
                    currencies.get(1).map(String::as_str).unwrap_or("XXX")
                ),
            })
        }
    };
    let mut out = vec![(base.clone(), 1.0)];
    for c in currencies.iter().filter(|c| **c != base) {
        let r = cfg
            .currency
            .rates
            .get(c)
            .ok_or_else(|| AnalyticsError::MissingRate { currency: c.clone(), base: base.clone() })?;
        out.push((c.clone(), *r));
    }
    Ok((base, out))
}

/// Points `e` at the `custlens.toml` beside the lake's input files when there is one and it is
/// not the config in use (a `custlens gen` folder ingested without `--config`).
fn with_unused_config(e: PipelineError, cfg: &Config, lake_dir: &Path) -> PipelineError {
    let files = lake::load_files(lake_dir).unwrap_or_default();
    let configs = cfg.unused_configs_beside(files.iter().map(|f| Path::new(f.path.as_str())));
    if configs.is_empty() {
        e
    } else {
        PipelineError::ConfigNotUsed { error: Box::new(e), configs }
    }
}

/// Orders in `XXX` (files that name no currency, read without `[currency] base`) beside a
/// named currency (of other orders, or `[currency] base`): an error that says what to set, unless
/// `[currency] rates` prices `XXX`.
fn unnamed_currency(cfg: &Config, currencies: &[String]) -> Result<(), PipelineError> {
    let none = crate::schema::NO_CURRENCY;
    let (base, rates) = (cfg.currency.base.as_deref(), &cfg.currency.rates);
    if !currencies.iter().any(|c| c == none) || base == Some(none) || rates.contains_key(none) {
        return Ok(());
    }
    match base.or(currencies.iter().map(String::as_str).find(|c| *c != none)) {
        None => Ok(()),
        Some(named) => Err(PipelineError::Config {
            key: "currency.base".into(),
            message: format!(
                "orders in {none} (files with no currency column, ingested without `[currency] base`) cannot be converted to {named}: set `[currency] base = \"{named}\"` (the currency of files with no currency column) and ingest those files again, or say what {none} is worth: --set currency.base={named} --set currency.rates.{none}=RATE"
            ),
        }),
    }
}

/// Default `as_of`: the local midnight after the latest valid order.
fn default_as_of(orders: LazyFrame, lake_dir: &Path, cal: &Calendar) -> Result<i64, PipelineError> {
    let latest = analytics::valid_orders(orders, i64::MAX, &[])
        .select([col("created_at").cast(DataType::Int64).max().alias("m")])
        .collect()
        .map_err(stage_err("prepare"))?;
    let m = latest.column("m").and_then(|c| c.i64().map(|c| c.get(0))).map_err(stage_err("prepare"))?;
    let m = m.ok_or_else(|| PipelineError::NoOrders {
        lake: lake_dir.to_path_buf(),
        hint: "; check the rejects table and the status mapping".into(),
    })?;
    Ok(cal.midnight(cal.day_of(m) + 1))
}

/// The currencies of the orders whose amounts are converted: purchases (cancelled and fully
/// refunded orders need no rate, whatever their currency), at any date.
fn currencies(orders: LazyFrame) -> Result<Vec<String>, PipelineError> {
    let df = analytics::valid_orders(orders, i64::MAX, &[])
        .select([col("currency").unique().sort(SortOptions::default())])
        .collect()
        .map_err(stage_err("prepare"))?;
    let c = df.column("currency").and_then(|c| c.str().cloned()).map_err(stage_err("prepare"))?;
    Ok(c.iter().flatten().map(str::to_string).collect())
}

/// Runs every analysis over the lake and writes `out/`.
pub fn analyze(
    cfg: &Config,
    s: &AnalyzeSettings,
    ingest: Option<&IngestReport>,
) -> Result<AnalyzeReport, PipelineError> {
    let started = Instant::now();
    let mut timer = Timer { stages: Vec::new() };
    let rfm_params = rfm::RfmParams::from_config(&cfg.rfm)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("rfm.{}", e.key()), message: e.to_string() })?;
    let clv_params = crate::clv::ClvParams::from_config(&cfg.clv)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("clv.{}", e.key()), message: e.to_string() })?;
    let basket_params = crate::basket::BasketParams::from_config(&cfg.basket)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("basket.{}", e.key()), message: e.to_string() })?;
    let cluster_params = cluster::params(cfg)?;
    let business_params = crate::business::BusinessParams::from_config(&cfg.business)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("business.{}", e.key()), message: e.to_string() })?;
    let cal = cfg
        .analysis
        .calendar()
        .map_err(|message| PipelineError::Config { key: "analysis.timezone".into(), message })?;
    let trigger_params = crate::marketing::TriggerParams::from_config(&cfg.triggers)
        .check()
        .map_err(|e| PipelineError::Config { key: format!("triggers.{}", e.key()), message: e.to_string() })?;
    let orders = lake::scan(&s.lake, Table::Orders)?;
    let customers = lake::scan(&s.lake, Table::Customers)?;
    let (as_of, base, rates) = timer.run("prepare", || {
        let as_of = match s.as_of {
            Some(a) => a,
            None => default_as_of(orders.clone(), &s.lake, &cal)?,
        };
        let currencies = currencies(orders.clone())?;
        if currencies.is_empty() {
            // Only with `--as-of` (else `default_as_of` said so): not a currency problem.
            let hint = "; check the rejects table and the status mapping".into();
            return Err(PipelineError::NoOrders { lake: s.lake.clone(), hint });
        }
        let (base, rates) = unnamed_currency(cfg, &currencies)
            .and_then(|()| rates(cfg, &currencies))
            .map_err(|e| with_unused_config(e, cfg, &s.lake))?;
        Ok((as_of, base, rates))
    })?;
    let features = timer.run("features", || {
        customer_features_in(analytics::valid_orders(orders.clone(), as_of, &rates), as_of, &cal)
            .collect()
            .map_err(stage_err("features"))
    })?;
    if features.height() == 0 {
        return Err(PipelineError::NoOrders { lake: s.lake.clone(), hint: " before as_of".into() });
    }
    let rfm_df =
        timer.run("rfm", || rfm::rfm(features.clone().lazy(), &rfm_params).collect().map_err(stage_err("rfm")))?;
    // CLV's summaries count UTC days of wall-clock times: local days of the calendar.
    let clv_result = timer.run("clv", || {
        let valid = cal.wall_clock(analytics::valid_orders(orders.clone(), as_of, &rates));
        clv::run(valid, as_of + cal.offset_us(as_of), &clv_params)
    })?;
    let clv_frame = match &clv_result {
        clv::ClvResult::Done { clv, .. } => Some(clv),
        clv::ClvResult::Failed { .. } => None,
    };
    let clusters =
        timer.run("cluster", || cluster::run(&cluster_params, &s.lake, orders.clone(), &features, clv_frame, as_of))?;
    let baskets = match basket_params.enabled() {
        true => Some(timer.run("basket", || basket::run(&s.lake, orders.clone(), as_of, &basket_params))?),
        false => None,
    };
    let business = match business_params.enabled() {
        true => Some(
            timer.run("business", || business::run(&s.lake, orders.clone(), as_of, &rates, &cal, &business_params))?,
        ),
        false => None,
    };
    let seg = timer.run("segments", || {
        let seg =
            analytics::segments::segments(customers.clone(), features.clone().lazy(), rfm_df.clone().lazy(), &base);
        let mut df = cluster::join_segments(seg, &clusters.per_customer).collect().map_err(stage_err("segments"))?;
        if let Some(c) = clv_frame {
            df = clv::join_segments(df, c)?;
        }
        if let Some(t) = &baskets {
            df = basket::join_segments(df, t)?;
        }
        marketing::join_service_counts(df, &s.lake)
    })?;
    let market =
        timer.run("marketing", || marketing::run(&trigger_params, &s.lake, &seg, as_of, s.previous.as_deref()))?;
    let seg = marketing::join_actions(seg, &market.actions)?;
    let mut outputs = Outputs::default();
    outputs.table("customer_features", features, false);
    outputs.table("rfm", rfm_df, false);
    outputs.table("segments", seg, cfg.output.csv);
    marketing::add_outputs(&mut outputs, market, cfg.output.csv);
    if let Some(t) = baskets {
        basket::add_outputs(&mut outputs, t);
    }
    match business {
        Some(t) => business::add_outputs(&mut outputs, t, &base),
        None => business::FILES.iter().for_each(|f| {
            let _ = std::fs::remove_file(s.out.join(f));
        }),
    }
    for (name, df) in clusters.tables {
        outputs.table(name, df, false);
    }
    if let Some(model) = clusters.model {
        outputs.json("cluster_model", model);
    }
    let out = &s.out;
    let mut warnings: Vec<String> = Vec::new();
    let clv_candidates = match clv_result {
        clv::ClvResult::Done { clv, validation, model, candidates, warnings: w } => {
            outputs.table("clv", clv, false);
            outputs.table("clv_validation", validation, false);
            outputs.json("models/clv", model);
            warnings.extend(w);
            candidates
        }
        clv::ClvResult::Failed { model, candidates, warning } => {
            outputs.json("models/clv", model);
            for stale in ["clv.parquet", "clv_validation.parquet"] {
                let _ = std::fs::remove_file(out.join(stale));
            }
            warnings.push(warning);
            candidates
        }
    };
    match clv_candidates {
        Some(c) => outputs.json("models/clv_candidates", c),
        None => {
            let _ = std::fs::remove_file(out.join("models/clv_candidates.json"));
        }
    }
    if cfg.output.pseudonymize {
        outputs.pseudonymize(cfg.output.salt.as_deref())?;
    }
    let written = outputs.summary();
    timer.run("write", || outputs.write(out))?;
    let manifest = Manifest {
        engine: "custlens".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version: SCHEMA_VERSION,
        command: s.command.clone(),
        as_of: chrono::DateTime::from_timestamp_micros(as_of).map(|d| d.to_rfc3339()).unwrap_or_default(),
        base_currency: base,
        ingested: ingest.map(|r| r.files.clone()).unwrap_or_default(),
        lake_files: lake::load_files(&s.lake)?,
        lake_rows: lake::row_counts(&s.lake)?,
        parameters: parameters(cfg),
        outputs: written,
        stages: timer.stages,
        wall_seconds: started.elapsed().as_secs_f64(),
        warnings,
    };
    output::json(&out.join("manifest.json"), &manifest)?;
    Ok(AnalyzeReport { manifest })
}

/// The tables a run writes: name (file stem under `out/`, may contain a `/`), frame, and whether a
/// CSV copy goes beside the Parquet file. Written in parallel, each atomically.
#[derive(Default)]
struct Outputs {
    tables: Vec<(String, DataFrame, bool)>,
    json: Vec<(String, serde_json::Value)>,
}

impl Outputs {
    fn table(&mut self, name: &str, df: DataFrame, with_csv: bool) {
        self.tables.push((name.to_string(), df, with_csv));
    }

    /// A JSON document (e.g. a fitted model) at `out/<name>.json`.
    fn json(&mut self, name: &str, value: serde_json::Value) {
        self.json.push((name.to_string(), value));
    }

    /// Pseudonymizes contacts in every table (see [`output::pseudonymize`]).
    fn pseudonymize(&mut self, salt: Option<&str>) -> Result<(), PipelineError> {
        for (_, df, _) in &mut self.tables {
            output::pseudonymize(df, salt)?;
        }
        Ok(())
    }

    /// (name, rows) per table, for the manifest.
    fn summary(&self) -> Vec<(String, usize)> {
        self.tables.iter().map(|(n, df, _)| (n.clone(), df.height())).collect()
    }

    fn write(self, out: &Path) -> Result<(), PipelineError> {
        use rayon::prelude::*;
        let mut jobs: Vec<(PathBuf, DataFrame, bool)> = Vec::new();
        for (name, df, with_csv) in self.tables {
            if with_csv {
                jobs.push((out.join(format!("{name}.csv")), df.clone(), true));
            }
            jobs.push((out.join(format!("{name}.parquet")), df, false));
        }
        jobs.into_par_iter().try_for_each(|(path, mut df, is_csv)| {
            if is_csv {
                output::csv(&path, &mut df)
            } else {
                output::parquet(&path, &mut df)
            }
        })?;
        self.json.into_par_iter().try_for_each(|(name, v)| output::json(&out.join(format!("{name}.json")), &v))?;
        Ok(())
    }
}

/// The effective configuration for the manifest, with the pseudonymization salt redacted.
fn parameters(cfg: &Config) -> serde_json::Value {
    let mut shown = cfg.clone();
    if shown.output.salt.is_some() {
        shown.output.salt = Some("<redacted>".into());
    }
    serde_json::to_value(&shown).unwrap_or(serde_json::Value::Null)
}

/// Sum of a files list, for logs and tests.
pub fn totals(files: &[FileEntry]) -> FileEntry {
    files.iter().fold(FileEntry::default(), |mut t, f| {
        t.rows_read += f.rows_read;
        t.new += f.new;
        t.updated += f.updated;
        t.unchanged += f.unchanged;
        t.duplicate += f.duplicate;
        t.rejected += f.rejected;
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(base: Option<&str>, rates: &[(&str, f64)]) -> Config {
        let mut c = Config::default();
        c.currency.base = base.map(str::to_string);
        c.currency.rates = rates.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        c
    }

    fn cur(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unnamed_currency_alone_is_the_base() {
        assert!(unnamed_currency(&cfg(None, &[]), &cur(&["XXX"])).is_ok());
        assert_eq!(
            rates(&cfg(None, &[]), &cur(&["XXX"])).unwrap(),
            ("XXX".to_string(), vec![("XXX".to_string(), 1.0)])
        );
        assert!(unnamed_currency(&cfg(None, &[]), &cur(&["EUR", "USD"])).is_ok(), "rates() says what to set");
    }

    #[test]
    fn unnamed_currency_with_a_named_one_says_what_to_set() {
        for (c, named) in [(cfg(None, &[]), "EUR"), (cfg(Some("USD"), &[("EUR", 0.9)]), "USD")] {
            let err = unnamed_currency(&c, &cur(&["EUR", "XXX"])).unwrap_err().to_string();
            assert!(err.starts_with("config key `currency.base`"), "{err}");
            assert!(err.contains(&format!("[currency] base = \"{named}\"")), "{err}");
            assert!(err.contains(&format!("--set currency.base={named} --set currency.rates.XXX=RATE")), "{err}");
        }
        // A base set at analyze time over a lake in XXX only.
        assert!(unnamed_currency(&cfg(Some("EUR"), &[]), &cur(&["XXX"])).is_err());
        // Said what XXX is worth, or XXX made the base: converted as any currency.
        assert!(unnamed_currency(&cfg(Some("EUR"), &[("XXX", 1.0)]), &cur(&["EUR", "XXX"])).is_ok());
        assert!(unnamed_currency(&cfg(Some("XXX"), &[("EUR", 1.1)]), &cur(&["EUR", "XXX"])).is_ok());
    }
}
