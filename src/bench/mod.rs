//! The benchmark harness behind `custlens bench`: generate (cached), ingest, analyze, and report
//! per-stage wall time, rows/s and peak RSS.
//!
//! ## Method
//! 1. *gen*: [`cache::ensure_data`] returns the seeded sample exports for (customers, seed),
//!    generating them only when the cache has no complete entry (the stage is then marked
//!    `cached`, its seconds are the lookup's, and `generated_seconds` the original generation's).
//! 2. *ingest*: every export listed in the generated `custlens.toml` into a fresh lake (a temp
//!    folder, or `<entry>/lake` with `keep`).
//! 3. the analysis stages, as [`crate::pipeline::analyze`] times them in its manifest (`prepare`,
//!    `features`, `rfm`, `segments`, `write`, and whatever stages it gains later).
//!
//! Each stage reports wall seconds, rows and rows/s, and peak RSS from the OS ([`rss`]): the
//! high-water mark is reset before the stage where the OS allows it ([`RssMode`]).
//!
//! Rows are the stage's input, labelled by `rows_unit`: `gen` the simulated customers; `ingest`
//! the rows read from the exports (sum of `rows_read`); `prepare` and `features` the orders in the
//! lake; `rfm` the buyers (customers with a valid order, the rows of `customer_features`);
//! `segments` the customers in the lake; `write` the rows of every output table; a stage not
//! listed here, the orders in the lake.
//!
//! Speed is measured here and in `benches/`, never asserted in tests.

pub mod cache;
pub mod ingest_speed;
pub mod rss;

pub use cache::{cache_key, default_cache_dir, ensure_data, CachedData};
pub use rss::{current_rss_mb, peak_rss_mb, reset_peak_rss, RssMode};

use crate::config::{Config, ConfigError};
use crate::ingest::{self, IngestError, IngestOptions};
use crate::output::OutputError;
use crate::pipeline::{self, AnalyzeSettings, PipelineError};
use crate::sample::{SampleError, GENERATOR_VERSION};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Benchmark failures.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("no cache folder: neither XDG_CACHE_HOME nor HOME is set; pass --cache DIR")]
    NoCacheDir,
    #[error("bench: {0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("generating bench data: {0}")]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl BenchError {
    /// True when the user must change how custlens is called (exit code 2), not the data.
    pub fn is_usage(&self) -> bool {
        match self {
            BenchError::NoCacheDir | BenchError::Invalid(_) | BenchError::Config(_) => true,
            BenchError::Ingest(e) => e.is_usage(),
            BenchError::Pipeline(PipelineError::Config { .. }) => true,
            _ => false,
        }
    }
}

/// Preset sizes: `s`, `m`, `l` = 10k, 100k, 1M customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    S,
    M,
    L,
}

impl Scale {
    /// Every preset, smallest first.
    pub const ALL: [Scale; 3] = [Scale::S, Scale::M, Scale::L];

    /// Simulated customers at this scale.
    pub fn customers(self) -> usize {
        match self {
            Scale::S => 10_000,
            Scale::M => 100_000,
            Scale::L => 1_000_000,
        }
    }

    /// `s`, `m` or `l`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::S => "s",
            Scale::M => "m",
            Scale::L => "l",
        }
    }
}

impl std::str::FromStr for Scale {
    type Err = String;

    fn from_str(s: &str) -> Result<Scale, String> {
        Scale::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not a scale; use s (10k customers), m (100k) or l (1M)"))
    }
}

/// What to benchmark.
///
/// ## Parameters
/// - `customers`, `seed`: the generated data (`SampleConfig { customers, seed, .. }`).
/// - `scale`: the preset `customers` came from, for the report only.
/// - `cache`: cache root (see [`default_cache_dir`]).
/// - `keep`: ingest into `<entry>/lake` and analyze into `<entry>/out` (replaced on each run)
///   instead of a temporary folder removed afterwards.
/// - `overrides`: `section.key=value` applied to the generated `custlens.toml` (as `--set`).
/// - `command`: the command line, for the manifest.
#[derive(Debug, Clone)]
pub struct BenchSettings {
    pub customers: usize,
    pub seed: u64,
    pub scale: Option<Scale>,
    pub cache: PathBuf,
    pub keep: bool,
    pub overrides: Vec<String>,
    pub command: String,
}

/// One stage's measurements.
#[derive(Debug, Clone, Serialize)]
pub struct StageResult {
    pub stage: String,
    /// Rows the stage took in, in `rows_unit` (see the module docs).
    pub rows: u64,
    pub rows_unit: String,
    pub seconds: f64,
    /// `rows / seconds`; null when `seconds` is 0 and for a cached `gen`.
    pub rows_per_second: Option<f64>,
    /// Peak RSS during the stage in MB (see `rss_mode`); null where the OS does not say.
    pub peak_rss_mb: Option<f64>,
    /// `gen` only: true when the data came from the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    /// `gen` only: seconds the generation took when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_seconds: Option<f64>,
}

impl StageResult {
    fn new(stage: &str, rows: u64, rows_unit: &str, seconds: f64, peak_rss_mb: Option<f64>) -> StageResult {
        StageResult {
            stage: stage.into(),
            rows,
            rows_unit: rows_unit.into(),
            seconds,
            rows_per_second: (seconds > 0.0).then(|| rows as f64 / seconds),
            peak_rss_mb,
            cached: None,
            generated_seconds: None,
        }
    }
}

/// The machine the benchmark ran on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may use (`std::thread::available_parallelism`, as `nproc`).
    pub nproc: usize,
    /// `MemTotal` from `/proc/meminfo`, in MB.
    pub total_memory_mb: Option<f64>,
    /// The first `model name` in `/proc/cpuinfo`.
    pub cpu: Option<String>,
    pub os: String,
    pub arch: String,
}

impl Machine {
    /// Reads the machine's description from the OS.
    pub fn detect() -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            total_memory_mb: rss::kb_field(&meminfo, "MemTotal:").map(|kb| kb as f64 / 1024.0),
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|v| v.split_once(':'))
                .map(|(_, v)| v.trim().to_string()),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
        }
    }
}

/// The parameters of a run, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct BenchParameters {
    pub customers: usize,
    pub seed: u64,
    pub scale: Option<String>,
    pub keep: bool,
    pub overrides: Vec<String>,
    pub cache: PathBuf,
    /// The cache entry holding the generated data (and with `keep`, `lake/` and `out/`).
    pub cache_entry: PathBuf,
}

/// Everything `custlens bench` measured: the JSON document of `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub custlens_version: String,
    pub generator_version: String,
    /// `release` or `debug` (debug-build timings are not meaningful).
    pub build_profile: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub machine: Machine,
    pub parameters: BenchParameters,
    /// What `peak_rss_mb` means: `per_stage`, `process` (peak since the process started; the
    /// reset was not permitted) or `unavailable`.
    pub rss_mode: RssMode,
    pub stages: Vec<StageResult>,
    /// Rows per lake table after ingest.
    pub lake_rows: Vec<(String, usize)>,
    /// Rows per output table.
    pub outputs: Vec<(String, usize)>,
    /// Seconds of the whole run, gen included.
    pub wall_seconds: f64,
}

/// Generates (or reuses) the data, ingests it, analyzes it and measures every stage.
///
/// ## Method
/// See the module docs. Logs go to stderr through `tracing`; nothing is printed.
pub fn run(s: &BenchSettings) -> Result<BenchReport, BenchError> {
    if s.customers == 0 {
        return Err(BenchError::Invalid("--customers must be at least 1".into()));
    }
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let rss_mode = RssMode::detect();
    if cfg!(debug_assertions) {
        tracing::warn!("debug build: timings are not representative; use `cargo run --release -- bench`");
    }
    if rss_mode == RssMode::Process {
        tracing::warn!("cannot reset the peak-RSS mark (/proc/self/clear_refs); peak MB is the process's peak so far");
    }
    let mut stages = Vec::new();

    let (data, peak) = measured(|| ensure_data(&s.cache, s.customers, s.seed))?;
    let mut gen = StageResult::new("gen", s.customers as u64, "customers", data.seconds, peak);
    if data.cached {
        gen.rows_per_second = None; // a lookup, not a generation
    }
    gen.cached = Some(data.cached);
    gen.generated_seconds = Some(data.generated_seconds);
    log_stage(&gen);
    stages.push(gen);

    let cfg = Config::load(Some(&data.config_path()), &s.overrides)?;
    let tmp;
    let (lake, out) = if s.keep {
        let (lake, out) = (data.entry.join("lake"), data.entry.join("out"));
        for d in [&lake, &out] {
            if d.exists() {
                std::fs::remove_dir_all(d).map_err(|source| BenchError::Io { path: d.clone(), source })?;
            }
        }
        (lake, out)
    } else {
        tmp = tempfile::Builder::new()
            .prefix("custlens-bench-")
            .tempdir()
            .map_err(|source| BenchError::Io { path: std::env::temp_dir(), source })?;
        (tmp.path().join("lake"), tmp.path().join("out"))
    };

    let t = Instant::now();
    let (report, peak) = measured(|| -> Result<_, BenchError> {
        let specs = ingest::plan_inputs(&cfg, &[], None, None)?;
        Ok(ingest::ingest(
            &specs,
            &lake,
            &IngestOptions {
                strict: cfg.ingest.strict,
                identity: cfg.identity.clone(),
                default_currency: cfg.currency.base.clone(),
                spill: cfg.ingest.spill,
                ..Default::default()
            },
        )?)
    })?;
    let rows_read: i64 = report.files.iter().map(|f| f.rows_read).sum();
    let ing = StageResult::new("ingest", rows_read.max(0) as u64, "input rows", t.elapsed().as_secs_f64(), peak);
    log_stage(&ing);
    stages.push(ing);

    let tz = cfg.analysis.calendar().map_err(|m| BenchError::Invalid(format!("analysis.timezone: {m}")))?.tz();
    let as_of = cfg
        .analysis
        .as_of
        .as_deref()
        .map(|a| crate::ingest::parse::parse_as_of(a, tz))
        .transpose()
        .map_err(|m| BenchError::Invalid(format!("analysis.as_of: {m}")))?;
    let settings =
        AnalyzeSettings { lake: lake.clone(), out: out.clone(), as_of, command: s.command.clone(), previous: None };
    let m = pipeline::analyze(&cfg, &settings, Some(&report))?.manifest;
    let count = |list: &[(String, usize)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, c)| *c as u64).unwrap_or(0)
    };
    let orders = count(&m.lake_rows, "orders");
    for st in &m.stages {
        let (rows, unit) = match st.stage.as_str() {
            "rfm" | "cluster" => (count(&m.outputs, "customer_features"), "buyers"),
            "segments" => (count(&m.lake_rows, "customers"), "customers"),
            "write" => (m.outputs.iter().map(|(_, c)| *c as u64).sum(), "output rows"),
            _ => (orders, "orders"),
        };
        // The pipeline logged these stages already.
        stages.push(StageResult::new(&st.stage, rows, unit, st.seconds, st.peak_rss_mb));
    }

    Ok(BenchReport {
        custlens_version: env!("CARGO_PKG_VERSION").into(),
        generator_version: GENERATOR_VERSION.into(),
        build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
        started_at,
        machine: Machine::detect(),
        parameters: BenchParameters {
            customers: s.customers,
            seed: s.seed,
            scale: s.scale.map(|c| c.as_str().to_string()),
            keep: s.keep,
            overrides: s.overrides.clone(),
            cache: s.cache.clone(),
            cache_entry: data.entry.clone(),
        },
        rss_mode,
        stages,
        lake_rows: m.lake_rows,
        outputs: m.outputs,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Runs `f` between a peak-RSS reset and a peak-RSS read.
fn measured<T, E>(f: impl FnOnce() -> Result<T, E>) -> Result<(T, Option<f64>), E> {
    reset_peak_rss();
    let out = f()?;
    Ok((out, peak_rss_mb()))
}

fn log_stage(r: &StageResult) {
    tracing::info!(
        stage = %r.stage,
        rows = r.rows,
        seconds = format!("{:.3}", r.seconds),
        peak_mb = r.peak_rss_mb.map(|p| format!("{p:.1}")).unwrap_or_default(),
        "bench stage"
    );
}

/// Writes the report as pretty JSON, atomically.
pub fn write_json(path: &Path, report: &impl Serialize) -> Result<(), BenchError> {
    Ok(crate::output::json(path, report)?)
}

/// The report as an aligned text table: stage, rows, unit, seconds, rows/s, peak MB (one line
/// per stage, a header first, `-` for a missing value). A cached `gen` shows as `gen (cached)`.
pub fn render_table(r: &BenchReport) -> String {
    let header = ["stage", "rows", "unit", "seconds", "rows/s", "peak MB"];
    let left = [true, false, true, false, false, false];
    let mut rows: Vec<[String; 6]> = vec![header.map(String::from)];
    for s in &r.stages {
        let name = if s.cached == Some(true) { format!("{} (cached)", s.stage) } else { s.stage.clone() };
        rows.push([
            name,
            s.rows.to_string(),
            s.rows_unit.clone(),
            format!("{:.3}", s.seconds),
            s.rows_per_second.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into()),
            s.peak_rss_mb.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .zip(left)
            .map(|((c, &w), l)| if l { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_parse_and_map_to_customers() {
        assert_eq!("s".parse::<Scale>().unwrap().customers(), 10_000);
        assert_eq!("M".parse::<Scale>().unwrap().customers(), 100_000);
        assert_eq!("l".parse::<Scale>().unwrap().customers(), 1_000_000);
        let e = "xl".parse::<Scale>().unwrap_err();
        assert!(e.contains("s (10k customers)"), "{e}");
    }

    #[test]
    fn stage_rate_is_null_without_time() {
        let r = StageResult::new("x", 100, "orders", 0.0, None);
        assert_eq!(r.rows_per_second, None);
        let r = StageResult::new("x", 100, "orders", 2.0, Some(1.0));
        assert_eq!(r.rows_per_second, Some(50.0));
    }

    #[test]
    fn machine_reports_cpus_and_memory() {
        let m = Machine::detect();
        assert!(m.nproc >= 1);
        if cfg!(target_os = "linux") {
            assert!(m.total_memory_mb.unwrap_or(0.0) > 0.0);
        }
    }

    #[test]
    fn runs_every_stage_on_a_small_sample_and_renders_an_aligned_table() {
        let cache = tempfile::tempdir().unwrap();
        let s = BenchSettings {
            customers: 60,
            seed: 5,
            scale: None,
            cache: cache.path().to_path_buf(),
            keep: true,
            overrides: vec![],
            command: "test".into(),
        };
        let r = run(&s).unwrap();
        let names: Vec<&str> = r.stages.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(&names[..3], ["gen", "ingest", "prepare"]);
        for want in ["features", "rfm", "segments", "write"] {
            assert!(names.contains(&want), "{names:?}");
        }
        assert!(r.stages.iter().all(|s| s.rows > 0 && s.seconds >= 0.0), "{:?}", r.stages);
        assert_eq!(r.stages[0].cached, Some(false));
        assert!(r.stages[1..].iter().all(|s| s.cached.is_none()));
        let entry = &r.parameters.cache_entry;
        assert!(entry.join("lake/orders/part-0.parquet").exists() && entry.join("out/manifest.json").exists());

        let again = run(&s).unwrap();
        assert_eq!(again.stages[0].cached, Some(true));
        assert_eq!(again.stages[1].rows, r.stages[1].rows, "same data, same input rows");

        let table = render_table(&again);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), again.stages.len() + 1);
        assert!(lines[0].starts_with("stage") && lines[0].ends_with("peak MB"), "{table}");
        assert!(lines[1].starts_with("gen (cached)"), "{table}");
        // The last column is right-aligned, so aligned lines all have the same width.
        assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()), "{table}");
    }
}
