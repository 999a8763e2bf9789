//! The command line: clap arguments → validated config → library calls.
//!
//! Only this module (and `main`) knows clap; every error maps to an exit code:
//! 0 success, 1 data or IO error, 2 usage error (bad flags, config or mapping).

use crate::bench::{self, BenchError, BenchSettings, Scale};
use crate::config::{Config, ConfigError};
use crate::ingest::{self, IngestError, IngestOptions, IngestReport};
use crate::pipeline::{self, AnalyzeSettings, PipelineError};
use crate::sample::{self, SampleConfig, SampleError};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// custlens: customer analytics for multichannel e-commerce CRM.
#[derive(Debug, Parser)]
#[command(name = "custlens", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (TOML). Default: ./custlens.toml if present; for `run`/`ingest` without
    /// --input, data/sample/custlens.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key, e.g. --set rfm.monetary=average (repeatable).
    #[arg(long = "set", global = true, value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Debug logs on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read exports into the canonical lake.
    Ingest(IngestArgs),
    /// Compute features, RFM and segments from the lake into out/.
    Analyze(AnalyzeArgs),
    /// Ingest, then analyze.
    Run(RunArgs),
    /// Write seeded sample exports (the bundled data/sample was made with the defaults).
    Gen(GenArgs),
    /// Generate data (cached), ingest and analyze it; print per-stage time, rows/s and peak RSS.
    Bench(BenchArgs),
    /// Erase a person from the lake and out/, and keep them out of later ingests (prints what it removed).
    Forget(ForgetArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "who")]
pub struct ForgetWho {
    /// The customer id (`C…`).
    #[arg(long, value_name = "ID", group = "who")]
    pub customer: Option<String>,
    /// An email of theirs.
    #[arg(long, value_name = "EMAIL", group = "who")]
    pub email: Option<String>,
    /// A phone of theirs (with country code, or read in `[identity] default_phone_region`).
    #[arg(long, value_name = "PHONE", group = "who")]
    pub phone: Option<String>,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub who: ForgetWho,
    /// Lake folder (default: `[paths] lake`, else lake/).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Output folder to clean too (default: `[paths] out`, else out/; skipped when absent).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Input files or folders (default: the config's `[[sources]]`).
    #[arg(long = "input", short = 'i', value_name = "PATH", num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Lake folder (default: `[paths] lake`, else lake/).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Format of every --input: `canonical` (headers are canonical column names).
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,
    /// Mapping file (TOML) for every --input.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Stop at the first rejected row, naming file, line and column.
    #[arg(long)]
    pub strict: bool,
}

/// The flags of `analyze` that `run` shares.
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Output folder (default: `[paths] out`, else out/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Analysis instant, RFC 3339 (as given) or YYYY-MM-DD (midnight in `[analysis] timezone`).
    /// Default: the midnight after the latest valid order.
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,
    /// Emails and phones in every output as SHA-256 of the normalized value; names dropped.
    #[arg(long)]
    pub pseudonymize: bool,
    /// A previous run's output folder: write `segment_changes` (who moved between segments,
    /// cluster labels and churn tiers since then).
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// Last day of the CLV calibration period (YYYY-MM-DD, UTC); overrides `[clv] calibration_end`.
    #[arg(long, value_name = "DATE")]
    pub calibration_end: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Lake folder (default: `[paths] lake`, else lake/).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "data/sample")]
    pub out: PathBuf,
    /// Number of simulated people.
    #[arg(long, default_value_t = SampleConfig::default().customers)]
    pub customers: usize,
    /// Random seed.
    #[arg(long, default_value_t = SampleConfig::default().seed)]
    pub seed: u64,
    /// First day of the simulated window (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub start: Option<chrono::NaiveDate>,
    /// Last day of the simulated window (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub end: Option<chrono::NaiveDate>,
    /// Model parameters (TOML: `[bgnbd]`, `[spend]`, `[noise]`, `rules`, ...); see data/README.md.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Simulated customers (default: as --scale s).
    #[arg(long, conflicts_with = "scale")]
    pub customers: Option<usize>,
    /// Preset size: s, m or l = 10k, 100k or 1M customers.
    #[arg(long, value_name = "s|m|l")]
    pub scale: Option<Scale>,
    /// Random seed of the generated data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the results as JSON (machine, parameters, stages) to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Cache folder for generated data. Default: ${XDG_CACHE_HOME:-$HOME/.cache}/custlens/bench.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Keep the lake and out/ in the data's cache folder instead of a temporary folder.
    #[arg(long)]
    pub keep: bool,
    /// `pipeline` (gen, ingest, analyze; the default) or `ingest` (Shopify and GBK Taobao exports
    /// converted to canonical Parquet next to polars' bare CSV → Parquet of the same file).
    #[arg(long, value_enum, default_value_t = Suite::Pipeline)]
    pub suite: Suite,
    /// `--suite ingest`: rows per format.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Internal: run one `--suite ingest` conversion (JSON) and print its measurements.
    #[arg(long, hide = true)]
    pub step: Option<String>,
}

/// Runs an ingest-bench conversion in a fresh process of this binary, so its peak RSS is its own.
fn measure_in_child(step: &bench::ingest_speed::Step) -> Result<bench::ingest_speed::Conversion, BenchError> {
    let exe = std::env::current_exe().map_err(|source| BenchError::Io { path: "current executable".into(), source })?;
    let arg = serde_json::to_string(step).map_err(|e| BenchError::Invalid(e.to_string()))?;
    let out = std::process::Command::new(&exe)
        .args(["bench", "--step", &arg])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| BenchError::Io { path: exe.clone(), source })?;
    if !out.status.success() {
        return Err(BenchError::Invalid(format!("the {:?} step failed ({})", step.tool, out.status)));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| BenchError::Invalid(format!("the {:?} step's report: {e}", step.tool)))
}

/// A benchmark suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    Pipeline,
    Ingest,
}

/// Every failure the CLI reports.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Bench(#[from] BenchError),
    #[error(transparent)]
    Forget(#[from] crate::forget::ForgetError),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// 1 for data and IO errors, 2 for usage errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_) | CliError::Usage(_) => 2,
            CliError::Ingest(e) if e.is_usage() => 2,
            CliError::Bench(e) if e.is_usage() => 2,
            CliError::Pipeline(e) if e.is_usage() => 2,
            CliError::Forget(crate::forget::ForgetError::BadKey { .. }) => 2,
            _ => 1,
        }
    }
}

const SAMPLE_CONFIG: &str = "data/sample/custlens.toml";

/// Which config file applies: --config; else ./custlens.toml; else, for a run or ingest with no
/// --input, the bundled sample's config.
fn config_path(global: &GlobalArgs, wants_sample: bool) -> Option<PathBuf> {
    if let Some(p) = &global.config {
        return Some(p.clone());
    }
    if Path::new("custlens.toml").exists() {
        return Some("custlens.toml".into());
    }
    (wants_sample && Path::new(SAMPLE_CONFIG).exists()).then(|| SAMPLE_CONFIG.into())
}

fn parse_as_of(cli: Option<&str>, cfg: &Config) -> Result<Option<i64>, CliError> {
    // A date is a midnight of the run's calendar; Config::load has checked the zone.
    let tz = cfg.analysis.calendar().map_err(CliError::Usage)?.tz();
    match cli {
        Some(a) => {
            crate::ingest::parse::parse_as_of(a, tz).map(Some).map_err(|m| CliError::Usage(format!("--as-of: {m}")))
        }
        None => Ok(cfg
            .analysis
            .as_of
            .as_deref()
            .map(|a| crate::ingest::parse::parse_as_of(a, tz))
            .transpose()
            .map_err(CliError::Usage)?),
    }
}

fn do_ingest(cfg: &Config, a: &IngestArgs) -> Result<IngestReport, CliError> {
    let specs = ingest::plan_inputs(cfg, &a.input, a.format.as_deref(), a.mapping.as_deref())?;
    if !a.input.is_empty() {
        // An --input folder with its own config (a `custlens gen` folder): said once per config.
        let in_use = cfg.file.as_ref().map_or_else(|| "none".to_string(), |f| f.display().to_string());
        for unused in cfg.unused_configs_beside(specs.iter().map(|s| s.path.as_path())) {
            tracing::warn!(
                "{} is not the config in use ({in_use}): the files beside it are read without its mappings, [currency] rates and [identity] settings; to read them as it says, pass --config {}",
                unused.display(),
                unused.display()
            );
        }
    }
    let lake = a.lake.clone().unwrap_or_else(|| cfg.lake_dir());
    let opts = IngestOptions {
        strict: a.strict || cfg.ingest.strict,
        identity: cfg.identity.clone(),
        default_currency: cfg.currency.base.clone(),
        spill: cfg.ingest.spill,
        ..Default::default()
    };
    tracing::info!(files = specs.len(), lake = %lake.display(), "ingest");
    let report = ingest::ingest(&specs, &lake, &opts)?;
    let t = pipeline::totals(&report.files);
    tracing::info!(
        rows = t.rows_read,
        new = t.new,
        updated = t.updated,
        unchanged = t.unchanged,
        duplicate = t.duplicate,
        rejected = t.rejected,
        "ingest done"
    );
    if t.rejected > 0 {
        tracing::warn!(
            "{} rows rejected; see {}/rejects/part-0.parquet (file, line, column, reason)",
            t.rejected,
            lake.display()
        );
    }
    Ok(report)
}

fn do_analyze(cfg: &Config, lake: PathBuf, a: AnalysisArgs, ingest: Option<&IngestReport>) -> Result<(), CliError> {
    let settings = AnalyzeSettings {
        lake,
        out: a.out.unwrap_or_else(|| cfg.out_dir()),
        as_of: parse_as_of(a.as_of.as_deref(), cfg)?,
        command: command_line(),
        previous: a.previous,
    };
    let report = pipeline::analyze(cfg, &settings, ingest)?;
    let m = &report.manifest;
    tracing::info!(out = %settings.out.display(), as_of = %m.as_of, outputs = ?m.outputs, "analyze done");
    Ok(())
}

/// The command line for the manifest, with every `--set output...` value redacted (the salt
/// lives there); arguments that are not UTF-8 are shown lossily instead of panicking.
fn command_line() -> String {
    let mut redact_next = false;
    std::env::args_os()
        .map(|a| {
            let a = a.to_string_lossy().into_owned();
            let is_set_value = std::mem::replace(&mut redact_next, a == "--set");
            let value = a.strip_prefix("--set=").map(str::to_string).or(is_set_value.then(|| a.clone()));
            match value {
                Some(v) if v.split_once('=').is_some_and(|(k, _)| k.trim().starts_with("output")) => {
                    let key = v.split_once('=').map(|(k, _)| k.trim()).unwrap_or_default();
                    let prefix = if a.starts_with("--set=") { "--set=" } else { "" };
                    format!("{prefix}{key}=<redacted>")
                }
                _ => a,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `--calibration-end` replaces `[clv] calibration_end` (checked with the rest of `[clv]`).
fn with_calibration_end(mut cfg: Config, date: Option<&str>) -> Config {
    if let Some(d) = date {
        cfg.clv.calibration_end = Some(d.to_string());
    }
    cfg
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let wants_sample = match &cli.command {
        Command::Run(r) => r.ingest.input.is_empty(),
        Command::Ingest(i) => i.input.is_empty(),
        _ => false,
    };
    let cfg_path = config_path(&cli.global, wants_sample);
    let mut cfg = Config::load(cfg_path.as_deref(), &cli.global.set)?;
    let analysis = match &cli.command {
        Command::Run(r) => Some(&r.analysis),
        Command::Analyze(a) => Some(&a.analysis),
        _ => None,
    };
    if analysis.is_some_and(|a| a.pseudonymize) {
        cfg.output.pseudonymize = true;
    }
    if let Some(p) = &cfg_path {
        tracing::info!(config = %p.display(), "config");
    }
    match cli.command {
        Command::Ingest(a) => do_ingest(&cfg, &a).map(|_| ()),
        Command::Analyze(a) => {
            let cfg = with_calibration_end(cfg, a.analysis.calibration_end.as_deref());
            let lake = a.lake.clone().unwrap_or_else(|| cfg.lake_dir());
            do_analyze(&cfg, lake, a.analysis, None)
        }
        Command::Run(a) => {
            let cfg = with_calibration_end(cfg, a.analysis.calibration_end.as_deref());
            // Check --as-of and [clv] before ingesting, so a typo costs nothing.
            parse_as_of(a.analysis.as_of.as_deref(), &cfg)?;
            crate::clv::ClvParams::from_config(&cfg.clv).check().map_err(|e| {
                CliError::Pipeline(PipelineError::Config { key: format!("clv.{}", e.key()), message: e.to_string() })
            })?;
            let report = do_ingest(&cfg, &a.ingest)?;
            let lake = a.ingest.lake.clone().unwrap_or_else(|| cfg.lake_dir());
            do_analyze(&cfg, lake, a.analysis, Some(&report))
        }
        Command::Gen(g) => {
            let d = SampleConfig::default();
            let params = match &g.params {
                Some(p) => sample::GenParams::load(p)?,
                None => d.params.clone(),
            };
            let sc = SampleConfig {
                customers: g.customers,
                seed: g.seed,
                start: g.start.unwrap_or(d.start),
                end: g.end.unwrap_or(d.end),
                params,
            };
            if sc.start >= sc.end {
                return Err(CliError::Usage(format!("--start {} must be before --end {}", sc.start, sc.end)));
            }
            let summary = sample::generate(&sc, &g.out)?;
            tracing::info!(
                out = %g.out.display(), persons = summary.persons, purchases = summary.purchases,
                export_rows = summary.export_rows(), events = summary.events, "sample written; truth in truth/"
            );
            Ok(())
        }
        Command::Forget(f) => {
            use crate::forget::{forget, Who};
            let who = match (f.who.customer, f.who.email, f.who.phone) {
                (Some(c), _, _) => Who::Customer(c),
                (_, Some(e), _) => Who::Email(e),
                (_, _, Some(p)) => Who::Phone(p),
                _ => return Err(CliError::Usage("give --customer, --email or --phone".into())),
            };
            let lake = f.lake.unwrap_or_else(|| cfg.lake_dir());
            let out = f.out.unwrap_or_else(|| cfg.out_dir());
            let now = chrono::Utc::now().timestamp_micros();
            let report = forget(&lake, Some(&out), &who, cfg.identity.region(), now)?;
            tracing::info!(customers = report.customers.len(), tombstones = report.tombstones, "forgotten");
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            Ok(())
        }
        Command::Bench(b) => {
            if cli.global.config.is_some() {
                tracing::warn!("bench reads the generated data's custlens.toml; --config is ignored (--set applies)");
            }
            let cache = match &b.cache {
                Some(c) => c.clone(),
                None => bench::default_cache_dir()?,
            };
            if let Some(step) = &b.step {
                // A child of `--suite ingest`: one conversion, its measurements as JSON on stdout.
                let step: bench::ingest_speed::Step = serde_json::from_str(step)
                    .map_err(|e| BenchError::Invalid(format!("--step is not a step: {e}")))?;
                let c = bench::ingest_speed::measure(&step)?;
                println!("{}", serde_json::to_string(&c).unwrap_or_default());
                return Ok(());
            }
            if b.suite == Suite::Ingest {
                let report = bench::ingest_speed::run(b.rows, b.seed, &cache, &measure_in_child)?;
                print!("{}", bench::ingest_speed::render(&report));
                if let Some(path) = &b.json {
                    bench::write_json(path, &report)?;
                }
                return Ok(());
            }
            let scale = b.scale.or(b.customers.is_none().then_some(Scale::S));
            let settings = BenchSettings {
                customers: b.customers.or(scale.map(Scale::customers)).unwrap_or_default(),
                seed: b.seed,
                scale,
                cache,
                keep: b.keep,
                overrides: cli.global.set.clone(),
                command: command_line(),
            };
            let report = bench::run(&settings)?;
            print!("{}", bench::render_table(&report));
            if let Some(path) = &b.json {
                bench::write_json(path, &report)?;
                tracing::info!(json = %path.display(), "bench results written");
            }
            Ok(())
        }
    }
}

/// Sets up logging to stderr (RUST_LOG overrides the level).
pub fn init_logging(global: &GlobalArgs) {
    let level = if global.quiet {
        "warn"
    } else if global.verbose {
        "debug"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("custlens={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
