//! Ingest: source exports → canonical rows → the lake, with row accounting and rejects.
//!
//! ## Method
//! For each input file, in the order given: read it in parts of ~8 MB cut at record boundaries
//! ([`stream`]; hashing it with SHA-256 on the way), decode each part to UTF-8 and read its records
//! with their physical line numbers, convert them through the file's mapping into units
//! (orders with lines, item groups, products, events, tickets) — a window of parts in parallel —
//! and merge the units into the lake in file order:
//! a unit identical to one given earlier in this ingest is a *duplicate*; one that is not in the
//! lake is *new*; one equal to the stored version is *unchanged*; one that differs *updated*
//! (replaces it — also when the earlier version came from an earlier file of the same ingest, so
//! the last file given wins whether files are ingested together or one by one). Every record is counted once: `rows_read = new + updated + unchanged +
//! duplicate + rejected`. Then identities are resolved over the whole lake and every table is
//! rewritten atomically. With `strict`, the first reject stops the ingest before anything is written.
//!
//! Only this module (with `config::mapping`) knows channel-specific columns.

pub mod adapters;
pub mod parse;
pub mod read;
pub mod rows;
pub mod stream;

use crate::config::mapping::{Encoding, FileKind, Mapping, MappingError, MappingFile};
use crate::config::{Config, SourceConfig, Spill};
use crate::identity;
use crate::lake::records::{FileEntry, Item, Reject};
use crate::lake::{Lake, LakeError};
use crate::schema::Table;
use rows::{Unit, UnitData};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Ingest failures. Each names the file (and line/column where there is one) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("{path}:{line}: {column}{reason} (--strict stops at the first rejected row; fix the row or drop --strict to send it to the rejects table)", column = .column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default())]
    Strict { path: String, line: i64, column: Option<String>, reason: String },
    #[error("no format for {path}: its header is not canonical; pass --format canonical, --mapping FILE.toml, or add a [[sources]] entry with `mapping = ...` in custlens.toml")]
    NoFormat { path: String },
    #[error(
        "unknown format `{name}`: available formats are canonical, {}; or give --mapping FILE.toml",
        adapters::names()
    )]
    UnknownFormat { name: String },
    #[error("no input files: {message}")]
    NoInput { message: String },
    #[error(transparent)]
    Lake(#[from] LakeError),
}

impl IngestError {
    /// True when the user must change how custlens is called (exit code 2), not the data.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            IngestError::Mapping(_)
                | IngestError::NoFormat { .. }
                | IngestError::UnknownFormat { .. }
                | IngestError::NoInput { .. }
        )
    }
}

/// How to read one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// Headers are canonical column names.
    Canonical,
    /// A mapping file.
    Mapping(PathBuf),
    /// A built-in adapter, by name.
    Adapter(&'static str),
    /// Decide from the header: a built-in adapter's signature, else canonical headers.
    Detect,
}

/// A `format` name: `canonical` or an adapter, in any letter case.
pub fn named_format(name: &str) -> Option<Format> {
    if name.trim().eq_ignore_ascii_case("canonical") {
        return Some(Format::Canonical);
    }
    adapters::by_name(name).map(|a| Format::Adapter(a.name))
}

/// One input file and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    pub path: PathBuf,
    pub format: Format,
    pub timezone: Option<String>,
    pub phone_region: Option<String>,
    pub channel: Option<String>,
    pub store: Option<String>,
    /// Worksheet of an Excel workbook (else the mapping's `sheet`, else the first).
    pub sheet: Option<String>,
}

impl InputSpec {
    /// A file read in `format`, with no per-source overrides.
    pub fn new(path: PathBuf, format: Format) -> InputSpec {
        InputSpec { path, format, timezone: None, phone_region: None, channel: None, store: None, sheet: None }
    }
}

/// Ingest settings.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Stop at the first reject.
    pub strict: bool,
    /// Identity resolution settings (`[identity]`).
    pub identity: identity::IdentityConfig,
    /// Currency of canonical files without a `currency` column (the config's `[currency] base`).
    pub default_currency: Option<String>,
    /// Bytes per part of a text file (default [`stream::PART_BYTES`]); results do not depend on it.
    pub part_bytes: Option<usize>,
    /// Whether the lake's big tables are spilled to disk (`[ingest] spill`); results do not
    /// depend on it.
    pub spill: Spill,
}

/// What an ingest did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    /// Row accounting per file, in input order.
    pub files: Vec<FileEntry>,
    /// Rows written per lake table.
    pub tables: Vec<(String, usize)>,
}

/// Expands files and folders (sorted, skipping hidden files, `.toml` and `.md`) into input specs.
///
/// `format` (`--format`) and `mapping` (`--mapping`) apply to every CLI input; with no CLI inputs
/// the config's `[[sources]]` are used, paths relative to the config file. A CLI input, or a file
/// in a CLI folder, that `[[sources]]` lists is read as its entry says (unless `--format` or
/// `--mapping` is given).
pub fn plan_inputs(
    cfg: &Config,
    inputs: &[PathBuf],
    format: Option<&str>,
    mapping: Option<&Path>,
) -> Result<Vec<InputSpec>, IngestError> {
    let cli_format = match (format, mapping) {
        (_, Some(m)) => Some(Format::Mapping(m.to_path_buf())),
        (Some(name), None) => {
            Some(named_format(name).ok_or_else(|| IngestError::UnknownFormat { name: name.to_string() })?)
        }
        (None, None) => None,
    };
    let sources: Vec<SourceConfig> = if inputs.is_empty() {
        cfg.sources.clone()
    } else {
        inputs
            .iter()
            .map(|p| SourceConfig {
                path: p.clone(),
                format: None,
                mapping: None,
                timezone: None,
                phone_region: None,
                channel: None,
                store: None,
                sheet: None,
            })
            .collect()
    };
    if sources.is_empty() {
        return Err(IngestError::NoInput { message: "pass --input PATH or list [[sources]] in custlens.toml".into() });
    }
    let configured = |s: &SourceConfig| -> Result<Format, IngestError> {
        Ok(match (&s.mapping, s.format.as_deref()) {
            (Some(m), _) => Format::Mapping(cfg.resolve(m)),
            (None, Some(name)) => {
                named_format(name).ok_or_else(|| IngestError::UnknownFormat { name: name.to_string() })?
            }
            (None, None) => Format::Detect,
        })
    };
    let listed = |p: &Path| cfg.sources.iter().find(|c| same_path(&cfg.resolve(&c.path), p));
    let mut specs = Vec::new();
    for s in &sources {
        let from_cfg = inputs.is_empty();
        let path = if from_cfg { cfg.resolve(&s.path) } else { s.path.clone() };
        for file in expand(&path)? {
            // A CLI input (or a file in a CLI folder) listed in [[sources]] is read the way the
            // config says: its format or mapping, time zone, phone region, channel, store, sheet.
            let s = match from_cfg {
                true => s,
                false => listed(&path).or_else(|| listed(&file)).unwrap_or(s),
            };
            let format = match &cli_format {
                Some(f) => f.clone(),
                None => configured(s)?,
            };
            specs.push(InputSpec {
                path: file,
                format,
                timezone: s.timezone.clone(),
                phone_region: s.phone_region.clone(),
                channel: s.channel.clone(),
                store: s.store.clone(),
                sheet: s.sheet.clone(),
            });
        }
    }
    Ok(specs)
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn expand(path: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let io = |e: std::io::Error| IngestError::Io { path: path.display().to_string(), message: e.to_string() };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let skip = name.starts_with('.') || name.ends_with(".toml") || name.ends_with(".md") || p.is_dir();
        if !skip {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(IngestError::NoInput { message: format!("folder {} has no data files", path.display()) });
    }
    Ok(files)
}

/// Ingests the inputs into the lake at `lake_dir`.
pub fn ingest(specs: &[InputSpec], lake_dir: &Path, opts: &IngestOptions) -> Result<IngestReport, IngestError> {
    let t = std::time::Instant::now();
    let mut lake = load_lake(lake_dir, opts.spill)?;
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), spilled = lake.is_spilled(), "lake loaded");
    let mut merger = Merger::new(&mut lake);
    let mut report = IngestReport::default();
    let erased: HashSet<(String, String)> =
        lake.tombstones.iter().map(|t| (t.key_type.clone(), t.key_sha256.clone())).collect();
    for spec in specs {
        let t = std::time::Instant::now();
        let entry = ingest_file(spec, opts, lake_dir, &mut lake, &mut merger, &erased)?;
        crate::bench::rss::debug_memory!(file = %spec.path.display(), seconds = t.elapsed().as_secs_f64(), "read, converted and merged");
        report.files.push(entry);
    }
    // Memory short: what the merge freed, its indexes, identity's work and the row groups written
    // go back to the OS as soon as they are freed (`src/memory.rs`).
    let _prompt = lake.is_spilled().then(crate::memory::return_freed_memory_promptly);
    merger.apply_items(&mut lake);
    // Only the given ids are needed from here: free the merge indexes before identity and writing.
    let given = std::mem::take(&mut merger.given);
    drop(merger);
    let t = std::time::Instant::now();
    identity::resolve(&mut lake, &given, &opts.identity).map_err(|e| LakeError::spill(lake_dir, e))?;
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), "identities resolved");
    let t = std::time::Instant::now();
    let written = lake.write_releasing(lake_dir)?;
    crate::bench::rss::debug_memory!(seconds = t.elapsed().as_secs_f64(), "lake written");
    report.tables = written.into_iter().map(|(t, n)| (t.name().to_string(), n)).collect();
    Ok(report)
}

/// Whether a tombstone covers one of the unit's identifiers (see [`crate::forget`]).
fn is_erased(unit: &Unit, erased: &HashSet<(String, String)>) -> bool {
    let hit = |kind: &str, key: &str| erased.contains(&(kind.to_string(), crate::forget::tombstone_hash(kind, key)));
    let person = |source: &str, key: Option<&str>, id: Option<&str>, email: Option<&str>, phone: Option<&str>| {
        key.is_some_and(|k| hit("member_id", &format!("{source}:{}", k.trim())))
            || id.is_some_and(|k| hit("customer_id", k))
            || email.is_some_and(|e| hit("email", e))
            || phone.is_some_and(|p| hit("phone", p))
    };
    // Every record kind names its person with the same five fields.
    macro_rules! person {
        ($r:expr) => {
            person(
                &$r.source,
                $r.customer_key.as_deref(),
                $r.customer_id.as_deref(),
                $r.email.as_deref(),
                $r.phone.as_deref(),
            )
        };
    }
    match &unit.data {
        UnitData::Order(o, _) => hit("order", &o.order_id) || person!(o),
        UnitData::Items(_) => hit("order", &unit.key),
        UnitData::Event(e) => person!(e),
        UnitData::Ticket(t) => t.order_id.as_ref().is_some_and(|o| hit("order", o)) || person!(t),
        UnitData::Profile(p) => person!(p),
        UnitData::Product(_) => false,
    }
}

/// Reads one file in parts (see [`stream`]), converts the parts in parallel and merges their
/// units into the lake in file order; returns the file's row accounting.
fn ingest_file(
    spec: &InputSpec,
    opts: &IngestOptions,
    lake_dir: &Path,
    lake: &mut Lake,
    merger: &mut Merger,
    erased: &HashSet<(String, String)>,
) -> Result<FileEntry, IngestError> {
    let shown = spec.path.display().to_string();
    let file_err = |message: String| IngestError::File { path: shown.clone(), message };
    let (mut mapping, body) = open_source(spec, opts)?;
    merger.begin_file();
    apply_overrides(&mut mapping, spec)?;
    if mapping.region.is_none() {
        mapping.region = opts.identity.region();
    }
    let phones = rows::PhoneCache::default();
    let mut merge = FileMerge {
        entry: FileEntry {
            path: shown.clone(),
            format: mapping.name.clone(),
            table: mapping.table.name().to_string(),
            ..Default::default()
        },
        rejects: Vec::new(),
        grouped: rows::grouped_by_order(&mapping),
        file_keys: HashSet::new(),
        strict: opts.strict,
        erased,
    };
    match body {
        Body::Whole { table, sha256 } => {
            merge.entry.sha256 = sha256;
            let window = convert_window(&mapping, vec![table], &shown, &phones, true);
            merge.merge_window(&mapping, window, lake, merger)?;
        }
        Body::Text { mut reader, first } => {
            let estimated = estimated_records(&spec.path, &first);
            make_room(&shown, memory_rows(mapping.table, estimated * 2 / 3), lake, opts.spill, lake_dir)?;
            if lake.is_spilled() && opts.part_bytes.is_none() {
                reader.parts.set_target(stream::spilled_part_bytes(crate::bench::rss::available_mb()));
            }
            merger.reserve(lake, &mapping, estimated).map_err(|e| LakeError::spill(lake_dir, e))?;
            // Reading, decoding and converting run a window ahead of merging, which stays in
            // file order on this thread (the lake is not shared).
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Window, IngestError>>(1);
            let sha256 = std::thread::scope(|scope| -> Result<String, IngestError> {
                let producer = scope.spawn(|| produce_windows(*reader, first, &mapping, &phones, &shown, tx));
                for window in rx {
                    merge.merge_window(&mapping, window?, lake, merger)?;
                }
                producer.join().unwrap_or_else(|_| Err(file_err("reading the file failed".into())))
            })?;
            merge.entry.sha256 = sha256;
        }
    }
    rows::warn_phones_without_region(&mapping, &shown, phones.without_region());
    let FileMerge { mut entry, mut rejects, .. } = merge;
    rejects.sort_by_key(|r| r.line);
    entry.rejected = rejects.len() as i64;
    debug_assert_eq!(entry.rows_read, entry.new + entry.updated + entry.unchanged + entry.duplicate + entry.rejected);
    tracing::info!(
        file = %entry.path, table = %entry.table, rows = entry.rows_read, new = entry.new, updated = entry.updated,
        unchanged = entry.unchanged, duplicate = entry.duplicate, rejected = entry.rejected, "ingested"
    );
    lake.rejects.retain(|r| r.source_file != entry.path);
    lake.rejects.extend(rejects);
    lake.files.retain(|f| f.path != entry.path);
    lake.files.push(entry.clone());
    Ok(entry)
}

/// Memory an ingest holds per lake row, from the peak RSS of the 10M-row benchmarks (3.6 GB for
/// 10M Taobao orders, 3.1 GB for 10M Shopify lines; `benches/README.md`), rounded up: the lake
/// is held as typed rows while merging and resolving identities.
const LAKE_BYTES_PER_ROW: u64 = 380;

/// Lake rows a row of `table` counts as in the memory estimate. A profile is usually a customer
/// of its own: besides its row, identity resolution holds its identifiers and builds its customer
/// and identities (5M profiles of 5M customers peaked at 4.8 GB in memory: ~1 000 bytes each).
fn memory_rows(table: Table, rows: usize) -> usize {
    match table {
        Table::Profiles => rows.saturating_mul(3),
        _ => rows,
    }
}

/// The lake tables whose rows the memory estimate counts (the others are small, or built from them).
const COUNTED: [Table; 5] = [Table::Orders, Table::OrderItems, Table::Events, Table::Profiles, Table::Tickets];

/// The memory (MB) an ingest of `rows` more rows into a lake of `lake_rows` probably needs, when
/// it exceeds `available_mb`.
fn memory_shortfall(rows: usize, lake_rows: usize, available_mb: u64) -> Option<u64> {
    let needed_mb = (rows + lake_rows) as u64 * LAKE_BYTES_PER_ROW / (1 << 20);
    (needed_mb > available_mb).then_some(needed_mb)
}

/// Before a file is read (of `rows` rows, as [`memory_rows`] counts them): when the lake will
/// probably not fit in the memory available, spills
/// its big tables to disk ([`Lake::spill`], `[ingest] spill = "auto"`), or warns
/// (`spill = "never"`: a run that would end killed by the OS minutes later says so at its start).
fn make_room(path: &str, rows: usize, lake: &mut Lake, spill: Spill, lake_dir: &Path) -> Result<(), IngestError> {
    if lake.is_spilled() {
        return Ok(());
    }
    let lake_rows = COUNTED.iter().map(|&t| memory_rows(t, lake.len(t))).sum();
    let Some(available_mb) = crate::bench::rss::available_mb() else { return Ok(()) };
    let Some(needed_mb) = memory_shortfall(rows, lake_rows, available_mb) else { return Ok(()) };
    if spill == Spill::Never {
        tracing::warn!(
            file = %path,
            estimated_rows = rows,
            lake_rows,
            needed_mb,
            available_mb,
            "this ingest probably needs more memory than is available: the lake is held in memory while it is merged and its identities resolved (about {LAKE_BYTES_PER_ROW} bytes per row); set [ingest] spill = \"auto\" or run it on a machine with more memory"
        );
        return Ok(());
    }
    tracing::info!(
        file = %path,
        estimated_rows = rows,
        lake_rows,
        needed_mb,
        available_mb,
        dir = %lake_dir.display(),
        "the lake will not fit in memory: its orders, lines, events, profiles, customers and identities are spilled to disk-backed storage in the lake folder"
    );
    Ok(lake.spill(lake_dir)?)
}

/// Loads the lake, its big tables spilled to disk when `spill` says so (for `auto`: when their
/// rows alone would not fit in the memory available).
fn load_lake(dir: &Path, spill: Spill) -> Result<Lake, IngestError> {
    let now = match spill {
        Spill::Always => true,
        Spill::Never => false,
        Spill::Auto => {
            let rows: usize = crate::lake::row_counts(dir)?
                .into_iter()
                .filter_map(|(name, n)| COUNTED.iter().find(|t| t.name() == name).map(|&t| memory_rows(t, n)))
                .sum();
            crate::bench::rss::available_mb().is_some_and(|mb| memory_shortfall(rows, 0, mb).is_some())
        }
    };
    if now {
        tracing::info!(dir = %dir.display(), "the lake's orders, lines, events, profiles, customers and identities are spilled to disk-backed storage in the lake folder");
        return Ok(Lake::load_spilled(dir, dir)?);
    }
    Ok(Lake::load(dir)?)
}

/// Records a text file probably holds, from its size and its first part's records (generously:
/// reserved capacity that is never used costs address space, not memory).
fn estimated_records(path: &Path, first: &read::RawTable) -> usize {
    let size = std::fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0);
    let n = first.records.len();
    let bytes: usize = first.records.iter().map(|r| r.raw.len() + 1).sum();
    if n == 0 || bytes == 0 {
        return 0;
    }
    // Decoded text (UTF-8) is longer than GBK or Shift-JIS bytes: lean high.
    (size / (bytes / n).max(1)).saturating_mul(3) / 2
}

/// Moves each table's trailing order (the rows sharing its last order id) to the front of the next
/// table, and the last table's into `carry` for the next window unless the file is `done`; so an
/// order whose rows straddle two parts is converted whole.
fn hand_on_trailing_orders(
    m: &Mapping,
    tables: &mut [read::RawTable],
    carry: &mut Vec<read::RawRecord>,
    done: bool,
) -> Result<(), String> {
    let n = tables.len();
    for (i, table) in tables.iter_mut().enumerate() {
        if !carry.is_empty() {
            let rest = std::mem::take(&mut table.records);
            table.records = std::mem::take(carry);
            table.records.extend(rest);
        }
        if done && i + 1 == n {
            break;
        }
        let start = rows::trailing_group(m, table)?;
        *carry = table.records.split_off(start);
    }
    Ok(())
}

/// The state of merging one file's parts.
struct FileMerge<'e> {
    entry: FileEntry,
    rejects: Vec<Reject>,
    /// Units group rows by order id (see [`rows::grouped_by_order`]).
    grouped: bool,
    /// Keys of order lines this file gave so far (grouped `order_items` files; orders are tracked
    /// by the merger).
    file_keys: HashSet<String>,
    strict: bool,
    erased: &'e HashSet<(String, String)>,
}

/// Parts read and converted, in file order.
type Window = Vec<ConvertedPart>;

/// A converted part, with what the merge still needs of its records.
struct ConvertedPart {
    /// The part's records: without their cells, and only in a file grouped by order (whose
    /// merge can reject a unit and then quotes its lines' raw text); none in any other file.
    table: read::RawTable,
    /// Records read (the count before `table.records` was emptied).
    records: usize,
    converted: Result<rows::Converted, String>,
}

/// Converts a window of parts in parallel (`first_window`: it holds the file's first part), and
/// frees each part's cells as soon as it is converted: the parsed cells of a window of JSONL are
/// a hundred megabytes, held while the window waits for the merge and while it is merged.
fn convert_window(
    m: &Mapping,
    tables: Vec<read::RawTable>,
    path: &str,
    phones: &rows::PhoneCache,
    first_window: bool,
) -> Window {
    use rayon::prelude::*;
    let keep_raw = rows::grouped_by_order(m);
    tables
        .into_par_iter()
        .enumerate()
        .map(|(i, mut table)| {
            let converted = rows::convert_part(m, &table, path, phones, first_window && i == 0);
            let records = table.records.len();
            if keep_raw {
                table.records.iter_mut().for_each(|r| r.fields = Default::default());
            } else {
                table.records = Vec::new();
            }
            table.cell_issues = Default::default();
            ConvertedPart { table, records, converted }
        })
        .collect()
}

/// Reads a text file's parts in windows (two per thread), decodes and reads them in parallel,
/// hands trailing orders on, converts them, and sends each window to the merging thread;
/// returns the file's SHA-256. Stops early when the receiver is gone (the merge failed).
///
/// The file is read and cut into parts on a thread of its own, a window ahead: the cut scans
/// every byte on one thread, so it runs beside the parallel conversion instead of stalling it.
fn produce_windows(
    reader: TextReader,
    first: read::RawTable,
    m: &Mapping,
    phones: &rows::PhoneCache,
    shown: &str,
    tx: std::sync::mpsc::SyncSender<Result<Window, IngestError>>,
) -> Result<String, IngestError> {
    let file_err = |message: String| IngestError::File { path: shown.to_string(), message };
    let size = 2 * rayon::current_num_threads().max(1);
    let TextReader { parts, mut text } = reader;
    let grouped = rows::grouped_by_order(m) && text.kind != FileKind::Jsonl;
    std::thread::scope(|scope| {
        let (part_tx, part_rx) = std::sync::mpsc::sync_channel::<std::io::Result<stream::Part>>(size);
        let reading = scope.spawn(move || read_parts(parts, part_tx));
        let mut pending = vec![first];
        let mut carry: Vec<read::RawRecord> = Vec::new();
        let mut first_window = true;
        loop {
            let mut window_parts = Vec::new();
            let mut done = false;
            while pending.len() + window_parts.len() < size {
                match part_rx.recv() {
                    Ok(Ok(p)) => window_parts.push(p),
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(IngestError::Io { path: shown.to_string(), message: e.to_string() }));
                        return Ok(String::new());
                    }
                    Err(_) => {
                        done = true;
                        break;
                    }
                }
            }
            let window = text.parse(window_parts, m).map_err(file_err).and_then(|tables| {
                pending.extend(tables);
                if pending.is_empty() && !carry.is_empty() {
                    pending.push(read::RawTable { headers: text.headers.clone(), ..Default::default() });
                }
                if grouped {
                    hand_on_trailing_orders(m, &mut pending, &mut carry, done).map_err(file_err)?;
                }
                Ok(convert_window(m, std::mem::take(&mut pending), shown, phones, first_window))
            });
            first_window = false;
            let failed = window.is_err();
            if tx.send(window).is_err() || failed || done {
                break;
            }
        }
        // A reader still sending stops at its next part.
        drop(part_rx);
        reading.join().map_err(|_| file_err("reading the file failed".into()))
    })
}

/// Sends a file's parts in order, then returns its SHA-256 (after a read error or once the
/// receiver is gone, the hash of what was read).
fn read_parts(
    mut parts: stream::Parts<Box<dyn std::io::Read + Send>>,
    tx: std::sync::mpsc::SyncSender<std::io::Result<stream::Part>>,
) -> String {
    loop {
        match parts.next_part() {
            Ok(Some(p)) => {
                if tx.send(Ok(p)).is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(e));
                break;
            }
        }
    }
    parts.sha256()
}

impl FileMerge<'_> {
    /// Merges a converted window's units into the lake, in order, with row accounting.
    fn merge_window(
        &mut self,
        m: &Mapping,
        window: Window,
        lake: &mut Lake,
        merger: &mut Merger,
    ) -> Result<(), IngestError> {
        let path = self.entry.path.clone();
        for ConvertedPart { table, records, converted } in window {
            let c = converted.map_err(|message| IngestError::File { path: path.clone(), message })?;
            self.entry.rows_read += (records + table.rejects.len()) as i64;
            let mut rejects: Vec<Reject> = table
                .rejects
                .iter()
                .map(|r| Reject {
                    source_file: path.clone(),
                    line: r.line as i64,
                    column: None,
                    raw: r.raw.clone(),
                    reason: r.reason.clone(),
                })
                .collect();
            rejects.extend(c.rejects);
            if self.strict {
                if let Some(r) = rejects.iter().min_by_key(|r| r.line) {
                    return Err(IngestError::Strict {
                        path: r.source_file.clone(),
                        line: r.line,
                        column: r.column.clone(),
                        reason: r.reason.clone(),
                    });
                }
            }
            for unit in c.units {
                if !self.erased.is_empty() && is_erased(&unit, self.erased) {
                    // An erased customer's record: rejected without its text (it is their PII).
                    rejects.extend(unit.lines.iter().map(|&line| Reject {
                        source_file: path.clone(),
                        line: line as i64,
                        column: None,
                        raw: "<withheld: erased customer>".into(),
                        reason: "erased: a `custlens forget` tombstone covers this record's customer".into(),
                    }));
                    continue;
                }
                if self.grouped && merger.repeated_in_file(lake, &unit, &mut self.file_keys) {
                    // Rows of an order seen in an earlier part, with other orders between: an
                    // order's lines are read together only when they are (nearly) contiguous.
                    rejects.extend(unit.lines.iter().map(|&line| Reject {
                        source_file: path.clone(),
                        line: line as i64,
                        column: m.source_column("order_id").map(|c| c.trim().to_string()),
                        raw: raw_text(&table, line),
                        reason: format!(
                            "more rows of order {} after other orders' rows; list each order's rows together (sort the export by order) and ingest it again",
                            unit.id()
                        ),
                    }));
                    continue;
                }
                merger.merge(lake, unit, &mut self.entry);
            }
            self.rejects.extend(rejects);
        }
        Ok(())
    }
}

/// The raw text of the record at `line` in a part.
fn raw_text(table: &read::RawTable, line: u64) -> String {
    match table.records.binary_search_by_key(&line, |r| r.line) {
        Ok(i) => table.records[i].raw.clone(),
        Err(_) => String::new(),
    }
}

/// How a file's records come: a workbook read whole, or a text file in parts.
enum Body {
    Whole {
        table: read::RawTable,
        sha256: String,
    },
    /// The reader boxed: its parts' decoder would make every `Body` large.
    Text {
        reader: Box<TextReader>,
        first: read::RawTable,
    },
}

/// A text export read in parts.
struct TextReader {
    parts: stream::Parts<Box<dyn std::io::Read + Send>>,
    text: TextFormat,
}

/// How a text export's parts are decoded and read.
struct TextFormat {
    kind: FileKind,
    delimiter: Option<u8>,
    encoding: Encoding,
    /// The encoding an `auto` file turned out to be, once a part with non-ASCII bytes decided it.
    settled: Option<Encoding>,
    /// The header (CSV/TSV) or the first part's keys (JSONL).
    headers: Vec<String>,
}

impl TextFormat {
    /// Decodes and reads parts in parallel (after the first part, whose header it keeps).
    fn parse(&mut self, parts: Vec<stream::Part>, m: &Mapping) -> Result<Vec<read::RawTable>, String> {
        use rayon::prelude::*;
        let encodings: Vec<Encoding> = parts
            .iter()
            .map(|p| {
                if self.settled.is_none() {
                    self.settled = read::settle_encoding(self.encoding, &p.bytes);
                }
                // An all-ASCII part reads the same in every encoding.
                self.settled.unwrap_or(Encoding::Fixed(encoding_rs::UTF_8))
            })
            .collect();
        let (kind, delimiter, headers) = (self.kind, self.delimiter, self.headers.as_slice());
        parts
            .into_par_iter()
            .zip(encodings)
            .map(|(p, enc)| {
                thread_local! {
                    /// The decoded text of this thread's last part: its memory serves the next.
                    static TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
                }
                let mut t = TEXT.with_borrow_mut(|buf| {
                    let text = match read::decode_into(&p.bytes, enc, p.first_line, buf)? {
                        Some(text) => text,
                        None => buf.as_str(),
                    };
                    read::read_part(text, kind, delimiter, Some(headers), p.first_line)
                })?;
                if kind == FileKind::Jsonl {
                    pad_mapped_columns(&mut t, m);
                }
                Ok(t)
            })
            .collect()
    }

    /// Reads the first part, whose first line is the header (an empty file gives the header error).
    fn first(
        &mut self,
        parts: &mut stream::Parts<Box<dyn std::io::Read + Send>>,
        path: &str,
    ) -> Result<read::RawTable, IngestError> {
        let io = |e: std::io::Error| IngestError::Io { path: path.to_string(), message: e.to_string() };
        let file_err = |message: String| IngestError::File { path: path.to_string(), message };
        let p = parts.next_part().map_err(io)?.unwrap_or(stream::Part { bytes: Vec::new(), first_line: 1 });
        if self.settled.is_none() {
            self.settled = read::settle_encoding(self.encoding, &p.bytes);
        }
        let enc = self.settled.unwrap_or(Encoding::Fixed(encoding_rs::UTF_8));
        let text = read::decode_at(&p.bytes, enc, 1).map_err(file_err)?;
        let t = read::read_part(&text, self.kind, self.delimiter, None, 1).map_err(file_err)?;
        self.headers = t.headers.clone();
        Ok(t)
    }
}

/// A later JSONL part lacks keys no record in it has: add the mapped ones as empty columns, so its
/// records read as they would in the whole file (an empty cell) instead of failing the header check.
fn pad_mapped_columns(t: &mut read::RawTable, m: &Mapping) {
    let wanted = m.file.columns.values().chain(m.file.concat.values().flatten());
    let absent: Vec<String> = wanted.filter(|c| t.index(c).is_none()).map(|c| c.trim().to_string()).collect();
    for name in absent {
        t.headers.push(name);
        t.records.iter_mut().for_each(|r| r.fields.push(""));
    }
}

/// Opens a file: decides its mapping (given, detected from the header, or canonical) and how its
/// records come (a workbook whole, a text file in parts, with the first part read).
fn open_source(spec: &InputSpec, opts: &IngestOptions) -> Result<(Mapping, Body), IngestError> {
    use std::io::Read;
    let shown = spec.path.display().to_string();
    let io = |e: std::io::Error| IngestError::Io { path: shown.clone(), message: e.to_string() };
    let file_err = |message: String| IngestError::File { path: shown.clone(), message };
    let mut file = std::fs::File::open(&spec.path).map_err(io)?;
    let part_bytes = opts.part_bytes.unwrap_or(stream::PART_BYTES).max(1);
    let mut head = Vec::with_capacity(part_bytes);
    // At least the first line (for detection) and a workbook's signature.
    (&mut file).take(part_bytes.max(64 << 10) as u64).read_to_end(&mut head).map_err(io)?;
    let mut mapping = match &spec.format {
        Format::Mapping(p) => Some(MappingFile::load(p)?),
        Format::Adapter(name) => adapters::by_name(name).map(|a| a.mapping()).transpose()?,
        _ => None,
    };
    let detect = mapping.is_none() && spec.format == Format::Detect;
    if let Some(kind) = read::workbook_kind(&head) {
        let mut bytes = head;
        file.read_to_end(&mut bytes).map_err(io)?;
        let sheet = spec.sheet.as_deref().or(mapping.as_ref().and_then(|m| m.file.sheet.as_deref()));
        let table = read::read_workbook(&bytes, kind, sheet).map_err(file_err)?;
        if let Some(a) = detect.then(|| adapters::detect(&table.headers)).flatten() {
            tracing::info!(file = %shown, adapter = a.name, "format detected");
            mapping = Some(a.mapping()?);
        }
        let mapping = settle_mapping(mapping, spec, &table.headers, opts)?;
        let sha256 = rows::hex(&Sha256::digest(&bytes));
        return Ok((mapping, Body::Whole { table, sha256 }));
    }
    not_a_workbook(&spec.path).map_err(file_err)?;
    if let Some(a) = detect.then(|| header_adapter(&head)).flatten() {
        tracing::info!(file = %shown, adapter = a.name, "format detected");
        mapping = Some(a.mapping()?);
    }
    let (kind, delimiter, encoding) = match &mapping {
        Some(m) => (
            m.file.format.unwrap_or_else(|| FileKind::from_path(&spec.path)),
            m.file.delimiter.as_ref().and_then(|d| d.bytes().next()),
            m.file.encoding,
        ),
        None => (FileKind::from_path(&spec.path), None, Encoding::default()),
    };
    let sep = delimiter.unwrap_or(if kind == FileKind::Tsv { b'\t' } else { b',' });
    let src: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(head).chain(file));
    let mut parts = stream::Parts::new(src, kind, sep, part_bytes);
    let encoding = match encoding {
        // UTF-16 and ISO-2022-JP: decoded to UTF-8 as read, since their bytes cannot be cut at
        // line feeds.
        Encoding::Fixed(enc) if !enc.is_ascii_compatible() => {
            parts = parts.decoding(enc);
            Encoding::Fixed(encoding_rs::UTF_8)
        }
        e => e,
    };
    let mut text = TextFormat { kind, delimiter, encoding, settled: None, headers: Vec::new() };
    let first = text.first(&mut parts, &shown)?;
    let reader = TextReader { parts, text };
    let mapping = settle_mapping(mapping, spec, &first.headers, opts)?;
    Ok((mapping, Body::Text { reader: Box::new(reader), first }))
}

/// The mapping a file is read with: the given or detected one, else canonical headers.
fn settle_mapping(
    mapping: Option<Mapping>,
    spec: &InputSpec,
    headers: &[String],
    opts: &IngestOptions,
) -> Result<Mapping, IngestError> {
    let shown = spec.path.display().to_string();
    let default_currency = opts.default_currency.as_deref();
    let m = match (mapping, &spec.format) {
        (Some(m), _) => return Ok(m),
        (None, Format::Canonical) => Mapping::canonical(&shown, headers, default_currency)?,
        (None, _) => Mapping::canonical(&shown, headers, default_currency)
            .map_err(|_| IngestError::NoFormat { path: shown.clone() })?,
    };
    if m.table == Table::Orders
        && default_currency.is_none()
        && m.file.currency.as_deref() == Some(crate::schema::NO_CURRENCY)
    {
        tracing::info!(file = %shown, "no currency column and no `[currency] base`: amounts taken as they are, in one unnamed currency (XXX)");
    }
    Ok(m)
}

/// The adapter whose signature the first line carries. Only the header is decoded here (UTF-8,
/// else GB18030, lossily), so a file in another encoding is still recognised and then read
/// strictly in the adapter's own encoding.
fn header_adapter(bytes: &[u8]) -> Option<&'static adapters::Adapter> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let end = bytes.iter().position(|b| *b == b'\n').unwrap_or(bytes.len());
    let line = &bytes[..end];
    if line.trim_ascii_start().starts_with(b"{") {
        // JSONL: the first object's (flattened) keys are the header.
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(line) else {
            return None;
        };
        let mut flat = Vec::new();
        for (k, v) in map {
            read::flatten(k, v, &mut flat);
        }
        let headers: Vec<String> = flat.into_iter().map(|(k, _)| k).collect();
        return adapters::detect(&headers);
    }
    let text = match std::str::from_utf8(line) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(line).0.into_owned(),
    };
    let sep = if text.contains('\t') { '\t' } else { ',' };
    let headers: Vec<String> = text.split(sep).map(|h| h.trim().trim_matches('"').trim().to_string()).collect();
    adapters::detect(&headers)
}

/// Reads bytes through a mapping exactly as ingest does (decode, read, convert) without touching a
/// lake: for fuzzing and property tests. Returns (records read, records accounted for by units and
/// rejects); the two are equal for every input that reads at all.
///
/// Workbooks (`.xlsx`/`.xls` bytes) are read as ingest reads them, so the same entry point fuzzes both.
pub fn dry_run(bytes: &[u8], m: &Mapping) -> Result<(usize, usize), String> {
    let table = read_with(bytes, m, Path::new("input"), None)?;
    let c = rows::convert(m, &table, "input")?;
    let accounted = c.units.iter().map(|u| u.lines.len()).sum::<usize>() + c.rejects.len() + table.rejects.len();
    Ok((table.records.len() + table.rejects.len(), accounted))
}

/// Decodes and reads a file the way a mapping says (encoding, syntax, delimiter); an Excel
/// workbook is read from its sheet (`sheet`, else the mapping's, else the first).
fn read_with(bytes: &[u8], m: &Mapping, path: &Path, sheet: Option<&str>) -> Result<read::RawTable, String> {
    if let Some(kind) = read::workbook_kind(bytes) {
        return read::read_workbook(bytes, kind, sheet.or(m.file.sheet.as_deref()));
    }
    not_a_workbook(path)?;
    let kind = m.file.format.unwrap_or_else(|| FileKind::from_path(path));
    let delimiter = m.file.delimiter.as_ref().and_then(|d| d.bytes().next());
    let text = read::decode(bytes, m.file.encoding)?;
    read::read_text(&text, kind, delimiter)
}

/// An `.xlsx`/`.xls` name on bytes that are not a workbook: say so rather than read it as text.
fn not_a_workbook(path: &Path) -> Result<(), String> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx" | "xlsm" | "xls") => Err(format!(
            "named .{} but not an Excel workbook (.xlsx/.xls): re-export it, or rename it if it is CSV",
            ext.unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

fn apply_overrides(m: &mut Mapping, spec: &InputSpec) -> Result<(), IngestError> {
    if spec.timezone.is_none() && spec.phone_region.is_none() && spec.channel.is_none() && spec.store.is_none() {
        return Ok(());
    }
    let mut file = m.file.clone();
    if let Some(tz) = &spec.timezone {
        file.timezone = Some(tz.clone());
    }
    if let Some(r) = &spec.phone_region {
        file.phone_region = Some(r.clone());
    }
    if let Some(c) = &spec.channel {
        file.channel = Some(c.clone());
    }
    if let Some(s) = &spec.store {
        file.store = Some(s.clone());
    }
    let name = m.name.clone();
    *m = file.check(&name)?;
    m.name = name;
    Ok(())
}

/// Merges units into the lake and counts what happened to each record.
struct Merger {
    seen: rustc_hash::FxHashSet<(Table, String)>,
    /// Stored orders by `order_id`.
    orders: IdIndex,
    /// Per stored order (by index): given by an input of this ingest already.
    orders_given: Vec<bool>,
    /// Per stored order (by index): the number of the last file that gave it (0: none).
    orders_file: Vec<u32>,
    /// The number of the file being merged (from 1).
    file_no: u32,
    products: rustc_hash::FxHashMap<String, usize>,
    /// Stored profiles by `profile_id`.
    profiles: IdIndex,
    /// Per stored profile (by index): given by an input of this ingest already.
    profiles_given: Vec<bool>,
    /// Stored events by `event_id`.
    events: IdIndex,
    /// Per stored event (by index): given by an input of this ingest already.
    events_given: Vec<bool>,
    tickets: rustc_hash::FxHashMap<String, usize>,
    /// Each order's lines as one run of `lake.items` (`(start, len)`, `len > 0`), found through
    /// `item_index` by the `order_id` of the run's first line. Replaced lines stay in
    /// `lake.items` until [`Merger::apply_items`] drops the runs listed in `items_replaced`.
    item_runs: Vec<(u32, u32)>,
    /// The runs (as its rows) by order id.
    item_index: IdIndex,
    items_replaced: Vec<(u32, u32)>,
    /// Customer ids given by inputs (canonical files), kept as is by identity resolution.
    given: HashSet<String>,
}

/// The rows of a big table (orders, profiles, events) found by their id, with no copy of the ids
/// (at 10M orders a copy is a gigabyte): row numbers, hashed by the id of the row they point at,
/// and each row's 64-bit id hash. A lookup reads a stored row only when the hashes agree, and the
/// index grows without reading any: a spilled table's rows are on disk, where every needless read
/// of a row is a page read. 4 bytes a slot and 8 a row: a table of 10M events takes 170 MB, where
/// a map from their 128-bit ids took 400 MB.
#[derive(Default)]
struct IdIndex {
    rows: hashbrown::HashTable<u32>,
    /// Per row: the hash of its id.
    hashes: Vec<u64>,
}

impl IdIndex {
    /// The index of a table of `n` rows, row `i`'s id hashing to `hash_of(i)`, `same(i, j)` telling
    /// whether rows `i` and `j` have one id. A table holds each id once; if an edited lake repeats
    /// one, the id finds its last row.
    fn new(n: usize, hash_of: impl Fn(usize) -> u64, same: impl Fn(usize, usize) -> bool) -> IdIndex {
        let mut index = IdIndex { rows: hashbrown::HashTable::with_capacity(n), hashes: Vec::with_capacity(n) };
        for i in 0..n {
            let h = hash_of(i);
            index.hashes.push(h);
            let hashes = &index.hashes;
            match index.rows.entry(h, |&j| hashes[j as usize] == h && same(i, j as usize), |&j| hashes[j as usize]) {
                hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = i as u32,
                hashbrown::hash_table::Entry::Vacant(e) => {
                    e.insert(i as u32);
                }
            }
        }
        index
    }

    /// The row whose id hashes to `h` and for which `is` holds.
    fn find(&self, h: u64, is: impl Fn(usize) -> bool) -> Option<usize> {
        let hashes = &self.hashes;
        self.rows.find(h, |&i| hashes[i as usize] == h && is(i as usize)).map(|&i| i as usize)
    }

    /// The row whose id hashes to `h` and for which `is` holds (`Ok`); without one, adds the
    /// table's next row for that id (`Err`: its number).
    fn find_or_push(&mut self, h: u64, is: impl Fn(usize) -> bool) -> Result<usize, usize> {
        let hashes = &self.hashes;
        let entry = self.rows.entry(h, |&i| hashes[i as usize] == h && is(i as usize), |&i| hashes[i as usize]);
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => Ok(*e.get() as usize),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let i = self.hashes.len();
                e.insert(i as u32);
                self.hashes.push(h);
                Err(i)
            }
        }
    }

    /// Adds the table's next row, whose id (hashing to `h`) is not in the index.
    fn push_new(&mut self, h: u64) {
        let i = self.hashes.len() as u32;
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.rows.insert_unique(h, i, |&j| hashes[j as usize]);
    }

    /// Makes room for `n` more rows.
    fn reserve(&mut self, n: usize) {
        let hashes = &self.hashes;
        self.rows.reserve(n, |&j| hashes[j as usize]);
        self.hashes.reserve(n);
    }
}

/// The hash of an order id in the merge indexes (and in `rows`' grouping of line-item rows).
fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl Merger {
    fn new(lake: &mut Lake) -> Merger {
        let index = |keys: Vec<&String>| keys.into_iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        // A written lake lists each order's lines together; anything else is grouped here (a
        // stable sort keeps each order's lines in their order).
        if !lake.items.is_sorted_by(|a, b| a.order_id <= b.order_id) {
            lake.items.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        }
        let mut merger = Merger {
            seen: Default::default(),
            orders: IdIndex::new(
                lake.orders.len(),
                |i| id_hash(&lake.orders[i].order_id),
                |i, j| lake.orders[i].order_id == lake.orders[j].order_id,
            ),
            orders_given: vec![false; lake.orders.len()],
            orders_file: vec![0; lake.orders.len()],
            file_no: 0,
            products: index(lake.products.iter().map(|p| &p.sku).collect()),
            profiles: IdIndex::new(
                lake.profiles.len(),
                |i| id_hash(&lake.profiles[i].profile_id),
                |i, j| lake.profiles[i].profile_id == lake.profiles[j].profile_id,
            ),
            profiles_given: vec![false; lake.profiles.len()],
            events: IdIndex::new(
                lake.events.len(),
                |i| lake.events[i].event_id.hash64(),
                |i, j| lake.events[i].event_id == lake.events[j].event_id,
            ),
            events_given: vec![false; lake.events.len()],
            tickets: index(lake.tickets.iter().map(|t| &t.ticket_id).collect()),
            item_runs: Vec::new(),
            item_index: IdIndex::default(),
            items_replaced: Vec::new(),
            given: HashSet::new(),
        };
        let mut start = 0;
        while start < lake.items.len() {
            let id = &lake.items[start].order_id;
            let len = lake.items[start..].iter().take_while(|it| it.order_id == *id).count();
            merger.set_item_run(&lake.items, id, (start as u32, len as u32));
            start += len;
        }
        merger
    }

    /// The stored index of an order id.
    fn order_index(&self, lake: &Lake, id: &str) -> Option<usize> {
        self.orders.find(id_hash(id), |i| lake.orders[i].order_id == id)
    }

    /// The stored lines of an order id.
    fn item_run<'l>(&self, items: &'l [Item], id: &str) -> Option<&'l [Item]> {
        let runs = &self.item_runs;
        self.item_index.find(id_hash(id), |r| items[runs[r].0 as usize].order_id == id).map(|r| {
            let (start, len) = runs[r];
            &items[start as usize..(start + len) as usize]
        })
    }

    /// Points the order id at a run of `items` (which must start with a line of that order).
    fn set_item_run(&mut self, items: &[Item], id: &str, run: (u32, u32)) {
        let runs = &self.item_runs;
        match self.item_index.find_or_push(id_hash(id), |r| items[runs[r].0 as usize].order_id == id) {
            Ok(r) => {
                self.items_replaced.push(self.item_runs[r]);
                self.item_runs[r] = run;
            }
            Err(_) => self.item_runs.push(run),
        }
    }

    /// Stores an order's lines (not empty, all of one order), replacing the lines it had (kept in
    /// place until `apply_items`).
    fn replace_items(&mut self, lake: &mut Lake, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        let start = lake.items.len();
        let len = items.len() as u32;
        lake.items.extend(items);
        self.set_item_run(&lake.items, &lake.items[start].order_id, (start as u32, len));
    }

    fn merge(&mut self, lake: &mut Lake, unit: Unit, entry: &mut FileEntry) {
        let n = unit.lines.len() as i64;
        let table = match &unit.data {
            UnitData::Order(..) => Table::Orders,
            UnitData::Items(_) => Table::OrderItems,
            UnitData::Product(_) => Table::Products,
            UnitData::Profile(_) => Table::Profiles,
            UnitData::Event(_) => Table::Events,
            UnitData::Ticket(_) => Table::Tickets,
        };
        let stored = match &unit.data {
            UnitData::Order(o, _) => self.order_index(lake, &o.order_id),
            UnitData::Profile(p) => {
                self.profiles.find(id_hash(&p.profile_id), |i| lake.profiles[i].profile_id == p.profile_id)
            }
            UnitData::Event(e) => self.events.find(e.event_id.hash64(), |i| lake.events[i].event_id == e.event_id),
            _ => None,
        };
        // Seen earlier in this ingest: identical content is a duplicate; a different version (a
        // later export with a newer status or refund) replaces it and counts as updated.
        let again = match (&unit.data, stored) {
            // The big tables keep the flag beside their index instead of a second key set.
            (UnitData::Order(..), Some(i)) => {
                self.orders_file[i] = self.file_no;
                std::mem::replace(&mut self.orders_given[i], true)
            }
            (UnitData::Profile(_), Some(i)) => std::mem::replace(&mut self.profiles_given[i], true),
            (UnitData::Event(_), Some(i)) => std::mem::replace(&mut self.events_given[i], true),
            (UnitData::Order(..) | UnitData::Profile(_) | UnitData::Event(_), None) => false,
            _ => !self.seen.insert((table, unit.key.clone())),
        };
        let given = match &unit.data {
            UnitData::Order(o, _) => o.customer_id.as_ref().map(|c| c.to_string()),
            UnitData::Event(e) => e.customer_id.as_ref().map(|c| c.to_string()),
            UnitData::Profile(p) => p.customer_id.as_ref().map(|c| c.to_string()),
            UnitData::Ticket(t) => t.customer_id.clone(),
            _ => None,
        };
        self.given.extend(given);
        let outcome = match unit.data {
            UnitData::Order(mut order, items) => {
                let items_same =
                    items.is_empty() || self.item_run(&lake.items, &order.order_id).is_some_and(|s| *s == items);
                let outcome = match stored {
                    None => {
                        self.orders.push_new(id_hash(&order.order_id));
                        lake.orders.push(order);
                        self.orders_given.push(true);
                        self.orders_file.push(self.file_no);
                        Outcome::New
                    }
                    Some(i) => {
                        let stored = &lake.orders[i];
                        if order.customer_id.is_none() {
                            order.customer_id = stored.customer_id.clone();
                        }
                        if order == *stored && items_same {
                            Outcome::Unchanged
                        } else {
                            lake.orders.set(i, order);
                            Outcome::Updated
                        }
                    }
                };
                if !items_same {
                    self.replace_items(lake, items);
                }
                outcome
            }
            UnitData::Items(items) => match self.item_run(&lake.items, &unit.key) {
                Some(stored) if *stored == items => Outcome::Unchanged,
                stored => {
                    let o = if stored.is_some() { Outcome::Updated } else { Outcome::New };
                    self.replace_items(lake, items);
                    o
                }
            },
            UnitData::Product(p) => upsert(&mut self.products, &mut lake.products, unit.key, p),
            UnitData::Profile(mut p) => match stored {
                None => {
                    self.profiles.push_new(id_hash(&p.profile_id));
                    lake.profiles.push(p);
                    self.profiles_given.push(true);
                    Outcome::New
                }
                Some(i) => {
                    if p.customer_id.is_none() {
                        p.customer_id = lake.profiles[i].customer_id.clone();
                    }
                    if p == lake.profiles[i] {
                        Outcome::Unchanged
                    } else {
                        lake.profiles.set(i, p);
                        Outcome::Updated
                    }
                }
            },
            UnitData::Ticket(mut t) => {
                if let Some(&i) = self.tickets.get(&unit.key) {
                    if t.customer_id.is_none() {
                        t.customer_id = lake.tickets[i].customer_id.clone();
                    }
                }
                upsert(&mut self.tickets, &mut lake.tickets, unit.key, t)
            }
            UnitData::Event(e) => match stored {
                None => {
                    self.events.push_new(e.event_id.hash64());
                    lake.events.push(e);
                    self.events_given.push(true);
                    Outcome::New
                }
                // An event's id is a hash of all its fields: the same id is the same event.
                Some(_) => Outcome::Unchanged,
            },
        };
        match outcome {
            Outcome::Unchanged if again => entry.duplicate += n,
            Outcome::New => entry.new += n,
            Outcome::Updated => entry.updated += n,
            Outcome::Unchanged => entry.unchanged += n,
        }
    }

    /// Makes room for about `n` more records of the mapping's table (and, for a line-item file,
    /// as many lines) at once: growing a multi-gigabyte vector or map by doubling copies it, and
    /// the copy is what sets the peak memory (at 10M line items a gigabyte).
    fn reserve(&mut self, lake: &mut Lake, m: &Mapping, n: usize) -> std::io::Result<()> {
        let table = m.table;
        if table == Table::Orders {
            if m.file.grain == crate::config::mapping::Grain::LineItem {
                lake.items.try_reserve(n)?;
            }
            lake.orders.try_reserve(n)?;
            self.orders.reserve(n);
            self.orders_given.reserve(n);
            self.orders_file.reserve(n);
        } else if table == Table::OrderItems {
            lake.items.try_reserve(n)?;
        } else if table == Table::Events {
            lake.events.try_reserve(n)?;
            self.events.reserve(n);
            self.events_given.reserve(n);
        } else if table == Table::Profiles {
            lake.profiles.try_reserve(n)?;
            self.profiles.reserve(n);
            self.profiles_given.reserve(n);
        }
        Ok(())
    }

    /// Starts merging the next file.
    fn begin_file(&mut self) {
        self.file_no += 1;
    }

    /// Whether the current file gave this unit's key before (orders by their stored index, other
    /// grouped units through `file_keys`, the file's own set).
    fn repeated_in_file(&self, lake: &Lake, unit: &Unit, file_keys: &mut HashSet<String>) -> bool {
        match &unit.data {
            UnitData::Order(o, _) => {
                self.order_index(lake, &o.order_id).is_some_and(|i| self.orders_file[i] == self.file_no)
            }
            _ => !file_keys.insert(unit.key.clone()),
        }
    }

    /// Drops the lines replaced in this ingest from the lake's lines.
    fn apply_items(&mut self, lake: &mut Lake) {
        if self.items_replaced.is_empty() {
            return;
        }
        let mut dead = vec![false; lake.items.len()];
        for &(start, len) in &self.items_replaced {
            dead[start as usize..(start + len) as usize].fill(true);
        }
        let mut i = 0;
        lake.items.retain(|_| {
            i += 1;
            !dead[i - 1]
        });
    }
}

enum Outcome {
    New,
    Updated,
    Unchanged,
}

fn upsert<T: PartialEq>(
    index: &mut rustc_hash::FxHashMap<String, usize>,
    rows: &mut Vec<T>,
    key: String,
    row: T,
) -> Outcome {
    match index.get(&key) {
        None => {
            index.insert(key, rows.len());
            rows.push(row);
            Outcome::New
        }
        Some(&i) if rows[i] == row => Outcome::Unchanged,
        Some(&i) => {
            rows[i] = row;
            Outcome::Updated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Ingests `specs` into a fresh lake with `part_bytes`; returns the report and every table's bytes.
    fn lake_with_parts(
        specs: &[InputSpec],
        opts: &IngestOptions,
        part_bytes: Option<usize>,
    ) -> (IngestReport, Vec<Vec<u8>>, Vec<Reject>) {
        let dir = tempfile::tempdir().unwrap();
        let r = ingest(specs, dir.path(), &IngestOptions { part_bytes, ..opts.clone() }).unwrap();
        let tables =
            Table::ALL.iter().map(|&t| std::fs::read(crate::lake::table_path(dir.path(), t)).unwrap()).collect();
        (r, tables, Lake::load(dir.path()).unwrap().rejects)
    }

    #[test]
    fn memory_shortfall_counts_the_lake_and_the_file() {
        // 10M rows at 380 bytes: 3 623 MB.
        assert_eq!(memory_shortfall(10_000_000, 0, 4_000), None);
        assert_eq!(memory_shortfall(10_000_000, 0, 3_000), Some(3_623));
        assert_eq!(memory_shortfall(5_000_000, 5_000_000, 3_000), Some(3_623));
        assert_eq!(memory_shortfall(0, 0, 0), None);
        // A customer list of 5M (a customer each) needs more than 5M orders (which share customers).
        assert_eq!(memory_shortfall(memory_rows(Table::Profiles, 5_000_000), 0, 4_000), Some(5_435));
        assert_eq!(memory_shortfall(memory_rows(Table::Orders, 5_000_000), 0, 4_000), None);
    }

    #[test]
    fn files_of_a_cli_folder_are_read_as_sources_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.csv", "b.jsonl", "c.csv", "custlens.toml"] {
            std::fs::write(dir.path().join(f), "x\n").unwrap();
        }
        let text = "[[sources]]\npath = \"a.csv\"\nformat = \"JD\"\ntimezone = \"Asia/Tokyo\"\n\n\
                    [[sources]]\npath = \"b.jsonl\"\nmapping = \"m/b.toml\"\n";
        let cfg_path = dir.path().join("custlens.toml");
        let mut cfg = Config::from_str_with_overrides(text, Some(&cfg_path), &[]).unwrap();
        cfg.base_dir = dir.path().to_path_buf();
        let plan = |format: Option<&str>| {
            plan_inputs(&cfg, &[dir.path().to_path_buf()], format, None)
                .unwrap()
                .into_iter()
                .map(|s| (s.path.file_name().unwrap().to_str().unwrap().to_string(), s.format, s.timezone))
                .collect::<Vec<_>>()
        };
        let tokyo = Some("Asia/Tokyo".to_string());
        assert_eq!(
            plan(None),
            [
                ("a.csv".to_string(), Format::Adapter("jd"), tokyo.clone()),
                ("b.jsonl".to_string(), Format::Mapping(dir.path().join("m/b.toml")), None),
                ("c.csv".to_string(), Format::Detect, None),
            ]
        );
        let forced = plan(Some("Canonical"));
        assert!(forced.iter().all(|(_, f, _)| *f == Format::Canonical), "--format wins: {forced:?}");
        assert_eq!(forced[0].2, tokyo, "the listed file keeps its time zone");
    }

    #[test]
    fn reading_in_parts_gives_the_lake_of_whole_files() {
        let cfg_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/custlens.toml");
        let cfg = Config::load(Some(&cfg_path), &[]).unwrap();
        let specs = plan_inputs(&cfg, &[], None, None).unwrap();
        let opts = IngestOptions {
            identity: cfg.identity.clone(),
            default_currency: cfg.currency.base.clone(),
            ..Default::default()
        };
        let (whole, whole_tables, whole_rejects) = lake_with_parts(&specs, &opts, None);
        assert!(whole.files.iter().all(|f| f.rows_read > 0));
        // Parts of ~300 bytes: orders straddle parts all the time, quoted line breaks too.
        for bytes in [300, 4096] {
            let (parted, tables, rejects) = lake_with_parts(&specs, &opts, Some(bytes));
            assert_eq!(parted.files, whole.files, "part size {bytes}");
            assert_eq!(rejects, whole_rejects, "part size {bytes}");
            for (i, (a, b)) in whole_tables.iter().zip(&tables).enumerate() {
                assert!(a == b, "table {} differs with parts of {bytes} bytes", Table::ALL[i].name());
            }
        }
    }

    #[test]
    fn a_sku_falls_back_to_the_next_code_with_a_value() {
        // Pinduoduo: the shop's variant code, else its product code, else the platform's 样式ID.
        let m = adapters::by_name("pinduoduo").unwrap().mapping().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pinduoduo_orders.csv");
        let text = std::fs::read_to_string(fixture).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| header.split(',').position(|h| h == name).unwrap();
        let (id, variant, product) = (at("订单号"), at("商家编码-规格维度"), at("商家编码-商品维度"));
        let mut csv = format!("{header}\n");
        for (n, blank) in [vec![], vec![variant], vec![variant, product]].into_iter().enumerate() {
            let mut cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            cells[id] = format!("{}{n}", cells[id]);
            blank.iter().for_each(|&i| cells[i].clear());
            csv.push_str(&cells.join(","));
            csv.push('\n');
        }
        let table = read_with(csv.as_bytes(), &m, Path::new("input.csv"), None).unwrap();
        let skus: Vec<Option<String>> = rows::convert(&m, &table, "input")
            .unwrap()
            .units
            .iter()
            .map(|u| match &u.data {
                UnitData::Order(_, items) => items[0].sku.as_ref().map(|s| s.to_string()),
                _ => unreachable!("an orders file"),
            })
            .collect();
        let want = ["BWB-500-W", "BWB-500", "987654321001"].map(|s| Some(s.to_string()));
        assert_eq!(skus, want);
    }

    /// The merge index finds each id's row (the last of a repeated id), also when hashes collide,
    /// and adds a row for an id it lacks.
    #[test]
    fn id_index_finds_rows_by_id() {
        let mut ids: Vec<String> = ["a", "b", "a", "c"].map(String::from).to_vec();
        // Every id hashes alike: rows are told apart by their ids alone.
        for hash in [|s: &str| id_hash(s), |_: &str| 7] {
            let mut index = IdIndex::new(ids.len(), |i| hash(&ids[i]), |i, j| ids[i] == ids[j]);
            let find = |index: &IdIndex, ids: &[String], id: &str| index.find(hash(id), |i| ids[i] == id);
            assert_eq!(find(&index, &ids, "a"), Some(2));
            assert_eq!(find(&index, &ids, "b"), Some(1));
            assert_eq!(find(&index, &ids, "d"), None);
            index.reserve(10);
            index.push_new(hash("d"));
            ids.push("d".into());
            assert_eq!(find(&index, &ids, "d"), Some(4));
            assert_eq!(find(&index, &ids, "c"), Some(3));
            assert_eq!(index.find_or_push(hash("b"), |i| ids[i] == "b"), Ok(1));
            assert_eq!(index.find_or_push(hash("e"), |i| ids[i] == "e"), Err(5));
            ids.push("e".into());
            assert_eq!(find(&index, &ids, "e"), Some(5));
            ids.truncate(4);
        }
    }

    #[test]
    fn a_spilled_lake_is_the_in_memory_lake() {
        let cfg_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/custlens.toml");
        let cfg = Config::load(Some(&cfg_path), &[]).unwrap();
        let specs = plan_inputs(&cfg, &[], None, None).unwrap();
        let opts = |spill| IngestOptions {
            identity: cfg.identity.clone(),
            default_currency: cfg.currency.base.clone(),
            spill,
            // Small parts: windows outgrow the rows reserved per file, so spilled tables grow.
            part_bytes: Some(4096),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let (memory, disk) = (dir.path().join("memory"), dir.path().join("disk"));
        let bytes = |lake: &Path| -> Vec<Vec<u8>> {
            Table::ALL.iter().map(|&t| std::fs::read(crate::lake::table_path(lake, t)).unwrap()).collect()
        };
        // A fresh lake, then the same files again onto it (loaded spilled: duplicates, updates).
        for round in ["fresh", "again"] {
            let a = ingest(&specs, &memory, &opts(Spill::Never)).unwrap();
            let b = ingest(&specs, &disk, &opts(Spill::Always)).unwrap();
            assert_eq!(a.files, b.files, "{round}");
            assert_eq!(a.tables, b.tables, "{round}");
            for (t, (x, y)) in Table::ALL.iter().zip(bytes(&memory).iter().zip(&bytes(&disk))) {
                assert!(x == y, "table {} differs when spilled ({round})", t.name());
            }
            // Spill files have no names: nothing is left in the lake folder.
            let names: Vec<_> = std::fs::read_dir(&disk).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert!(names.iter().all(|n| Table::ALL.iter().any(|t| n.to_str() == Some(t.name()))), "{names:?}");
        }
        // A lake spilled after loading (as `auto` does before a file) writes the same bytes.
        let mut lake = Lake::load(&memory).unwrap();
        lake.spill(&dir.path().join("spill")).unwrap();
        assert!(lake.is_spilled() && lake.customers.is_spilled() && !lake.orders.is_empty());
        assert!(lake.events.is_spilled() && lake.profiles.is_spilled() && !lake.events.is_empty());
        let copy = dir.path().join("copy");
        lake.write(&copy).unwrap();
        assert!(bytes(&memory) == bytes(&copy));
    }

    #[test]
    fn an_order_split_across_parts_by_other_orders_is_rejected_not_merged_wrongly() {
        let header = std::str::from_utf8(FIXTURES[0].1).unwrap().lines().next().unwrap().to_string();
        let n = header.split(',').count();
        let row = |name: &str, sku: &str| {
            let mut cells = vec![String::new(); n];
            let set = |cells: &mut Vec<String>, col: &str, v: &str| {
                let i = header.split(',').position(|h| h == col).unwrap();
                cells[i] = v.to_string();
            };
            set(&mut cells, "Name", name);
            set(&mut cells, "Email", "a@example.com");
            set(&mut cells, "Financial Status", "paid");
            set(&mut cells, "Currency", "USD");
            set(&mut cells, "Created at", "2024-01-02 10:00:00 +0000");
            set(&mut cells, "Lineitem quantity", "1");
            set(&mut cells, "Lineitem name", sku);
            set(&mut cells, "Lineitem price", "10.00");
            set(&mut cells, "Lineitem sku", sku);
            cells.join(",")
        };
        let text = format!("{header}\n{}\n{}\n{}\n", row("#1", "A"), row("#2", "B"), row("#1", "C"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.csv");
        std::fs::write(&path, &text).unwrap();
        let specs = [InputSpec::new(path, Format::Adapter("shopify"))];
        // Whole: #1 has two lines.
        let lake = dir.path().join("whole");
        let r = ingest(&specs, &lake, &IngestOptions::default()).unwrap();
        assert_eq!((r.files[0].new, r.files[0].rejected), (3, 0));
        // One record per part: #1's later row comes after #2 and is rejected with its line and reason.
        let lake = dir.path().join("parted");
        let r = ingest(&specs, &lake, &IngestOptions { part_bytes: Some(1), ..Default::default() }).unwrap();
        assert_eq!((r.files[0].new, r.files[0].rejected), (2, 1));
        let loaded = Lake::load(&lake).unwrap();
        assert_eq!(loaded.rejects[0].line, 4);
        assert!(loaded.rejects[0].reason.contains("sort the export by order"), "{}", loaded.rejects[0].reason);
        assert!(loaded.rejects[0].raw.starts_with("#1,"));
    }

    const FIXTURES: [(&str, &[u8]); 20] = [
        ("shopify", include_bytes!("../../tests/fixtures/shopify_orders.csv")),
        ("shopify-customers", include_bytes!("../../tests/fixtures/shopify_customers.csv")),
        ("shopify-customers-2022", include_bytes!("../../tests/fixtures/shopify_customers_2022.csv")),
        ("taobao-orders", include_bytes!("../../tests/fixtures/taobao_orders.csv")),
        ("taobao-items", include_bytes!("../../tests/fixtures/taobao_items.csv")),
        ("amazon", include_bytes!("../../tests/fixtures/amazon_all_orders.txt")),
        ("pos", include_bytes!("../../tests/fixtures/pos_sales.csv")),
        ("mailchimp-subscribed", include_bytes!("../../tests/fixtures/mailchimp_subscribed.csv")),
        ("mailchimp-unsubscribed", include_bytes!("../../tests/fixtures/mailchimp_unsubscribed.csv")),
        ("mailchimp-cleaned", include_bytes!("../../tests/fixtures/mailchimp_cleaned.csv")),
        ("mailchimp-activity", include_bytes!("../../tests/fixtures/mailchimp_activity.jsonl")),
        ("klaviyo", include_bytes!("../../tests/fixtures/klaviyo_events.jsonl")),
        ("ga4", include_bytes!("../../tests/fixtures/ga4_events.jsonl")),
        ("zendesk", include_bytes!("../../tests/fixtures/zendesk_tickets.csv")),
        ("freshdesk", include_bytes!("../../tests/fixtures/freshdesk_tickets.csv")),
        ("woocommerce", include_bytes!("../../tests/fixtures/woocommerce_orders.csv")),
        ("woocommerce-webtoffee", include_bytes!("../../tests/fixtures/woocommerce_webtoffee.csv")),
        ("jd", include_bytes!("../../tests/fixtures/jd_orders.csv")),
        ("pinduoduo", include_bytes!("../../tests/fixtures/pinduoduo_orders.csv")),
        ("douyin", include_bytes!("../../tests/fixtures/douyin_orders.csv")),
    ];

    /// Excel fixtures, the adapter that reads each and the sheet.
    const WORKBOOKS: [(&str, &[u8], Option<&str>); 4] = [
        ("pinduoduo", include_bytes!("../../tests/fixtures/excel/pinduoduo_orders.xlsx"), None),
        ("jd", include_bytes!("../../tests/fixtures/excel/jd_orders.xls"), None),
        ("douyin", include_bytes!("../../tests/fixtures/excel/douyin_ids.xlsx"), None),
        ("pos", include_bytes!("../../tests/fixtures/excel/two_sheets.xlsx"), Some("订单")),
    ];

    fn through_sheet(adapter: &str, bytes: &[u8], sheet: Option<&str>) -> Option<(usize, usize)> {
        let mut m = adapters::by_name(adapter).unwrap().mapping().unwrap();
        m.file.sheet = sheet.map(str::to_string);
        dry_run(bytes, &m).ok()
    }

    /// Flips, inserts and removes bytes, then maybe cuts the tail.
    fn mutate(original: &[u8], edits: Vec<(prop::sample::Index, u8, u8)>, cut: prop::sample::Index) -> Vec<u8> {
        let mut bytes = original.to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        let keep = cut.index(bytes.len() + 1);
        if keep > bytes.len() / 2 {
            bytes.truncate(keep);
        }
        bytes
    }

    #[test]
    fn workbooks_read_through_their_adapter() {
        for (name, bytes, sheet) in WORKBOOKS {
            let (read, accounted) = through_sheet(name, bytes, sheet).unwrap_or_else(|| panic!("{name}"));
            assert!(read > 0 && read == accounted, "{name}: {read} {accounted}");
        }
    }

    fn through(adapter: &str, bytes: &[u8]) -> Option<(usize, usize)> {
        dry_run(bytes, &adapters::by_name(adapter).unwrap().mapping().unwrap()).ok()
    }

    #[test]
    fn fixtures_are_detected_from_their_header_bytes() {
        for (name, bytes) in FIXTURES {
            assert_eq!(header_adapter(bytes).map(|a| a.name), Some(name));
        }
    }

    proptest! {
        /// Mutated fixtures (bytes flipped, inserted, cut) never panic, and every record read is
        /// accounted for exactly once when the file still reads.
        #[test]
        fn mutated_fixtures_never_panic(
            which in 0usize..FIXTURES.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let (name, original) = FIXTURES[which];
            let bytes = mutate(original, edits, cut);
            let _ = header_adapter(&bytes);
            if let Some((read, accounted)) = through(name, &bytes) {
                prop_assert_eq!(read, accounted);
            }
        }

        /// Arbitrary bytes through every adapter: a clean error or rows, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for a in adapters::ADAPTERS {
                let _ = through(a.name, &bytes);
            }
            let _ = header_adapter(&bytes);
        }

        /// Mutated workbooks (zip or compound-file bytes flipped, inserted, cut): calamine gives an
        /// error or cells, never a panic, and every record read is accounted for once.
        #[test]
        fn mutated_workbooks_never_panic(
            which in 0usize..WORKBOOKS.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let (name, original, sheet) = WORKBOOKS[which];
            let bytes = mutate(original, edits, cut);
            if let Some((read, accounted)) = through_sheet(name, &bytes, sheet) {
                prop_assert_eq!(read, accounted);
            }
        }

        /// Arbitrary bytes behind a workbook's magic number: a clean error, never a panic.
        #[test]
        fn arbitrary_workbook_bytes_never_panic(
            xls in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let magic: &[u8] = if xls { &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] } else { b"PK\x03\x04" };
            let bytes = [magic, &tail].concat();
            for name in ["woocommerce", "douyin", "pos"] {
                let _ = through(name, &bytes);
            }
        }
    }
}
