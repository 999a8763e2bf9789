//! Outputs: atomic Parquet/CSV/JSON files under `out/`, pseudonymization, the manifest.

use crate::ingest::rows::hex;
use crate::lake::records::FileEntry;
use crate::lake::{write_atomic, write_parquet, LakeError};
use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Output failures, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Write(#[from] LakeError),
    #[error("cannot prepare {what}: {message}")]
    Frame { what: String, message: String },
}

/// The version of the output layout (columns and dtypes of every output table).
pub const SCHEMA_VERSION: u32 = 2;

/// Writes `df` as zstd Parquet, atomically.
pub fn parquet(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    Ok(write_parquet(path, df)?)
}

/// Writes `df` as CSV with a header (floats with 4 decimals, timestamps RFC 3339), atomically.
pub fn csv(path: &Path, df: &mut DataFrame) -> Result<(), OutputError> {
    Ok(write_atomic(path, |f| {
        CsvWriter::new(f)
            .include_header(true)
            .with_float_precision(Some(4))
            .with_datetime_format(Some("%Y-%m-%dT%H:%M:%SZ".into()))
            .finish(df)
            .map_err(|e| e.to_string())
    })?)
}

/// Writes a value as pretty JSON, atomically.
pub fn json<T: Serialize>(path: &Path, value: &T) -> Result<(), OutputError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| OutputError::Frame { what: path.display().to_string(), message: e.to_string() })?;
    Ok(write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).and_then(|_| f.write_all(b"\n")).map_err(|e| e.to_string())
    })?)
}

/// Pseudonymizes contacts in place: `email` and `phone` become the SHA-256 (64 hex digits) of
/// the normalized value — the lake already holds emails lower-cased and phones in E.164 — the
/// form ad platforms accept for customer matching; `name` becomes null. With a `salt`, the hash
/// is of `salt` + U+001F + value instead (stable joins across runs, but no longer matchable by ad
/// platforms). Missing columns are skipped; nulls stay null.
///
/// ## Example
/// ```
/// use custlens::output::pseudonymize;
/// use polars::prelude::*;
/// let mut df = df!("email" => [Some("a@x.com"), None], "name" => [Some("Ann"), None]).unwrap();
/// pseudonymize(&mut df, None).unwrap();
/// let v = df.column("email").unwrap().str().unwrap().get(0).unwrap().to_string();
/// assert_eq!(v, "478abec7430569163161dfea8513b8ce89d05f559456a26e945c66e1fe55a29d"); // sha256("a@x.com")
/// assert!(df.column("email").unwrap().str().unwrap().get(1).is_none());
/// assert!(df.column("name").unwrap().str().unwrap().get(0).is_none());
/// ```
pub fn pseudonymize(df: &mut DataFrame, salt: Option<&str>) -> Result<(), OutputError> {
    let ferr = |e: PolarsError| OutputError::Frame { what: "pseudonymized columns".into(), message: e.to_string() };
    for c in ["email", "phone"] {
        let Ok(column) = df.column(c) else { continue };
        let hashed: Vec<Option<String>> =
            column.str().map_err(ferr)?.iter().map(|v| v.map(|s| contact_hash(s, salt))).collect();
        df.with_column(Column::new(c.into(), hashed)).map_err(ferr)?;
    }
    if df.column("name").is_ok() {
        let n = df.height();
        df.with_column(Column::full_null("name".into(), n, &DataType::String)).map_err(ferr)?;
    }
    Ok(())
}

/// SHA-256 (hex) of a normalized contact, salted when a salt is given.
pub fn contact_hash(value: &str, salt: Option<&str>) -> String {
    let mut h = Sha256::new();
    if let Some(s) = salt {
        h.update(s.as_bytes());
        h.update([0x1f]);
    }
    h.update(value.as_bytes());
    hex(&h.finalize())
}

/// Time spent in one pipeline stage, and the memory it peaked at.
#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
    /// Peak resident memory of the process during the stage, in MB, from the OS (see
    /// [`crate::bench::rss`]); the peak since the process started where the OS does not allow a
    /// reset, null where it does not say.
    pub peak_rss_mb: Option<f64>,
}

/// `manifest.json`: what produced `out/`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub engine: String,
    pub version: String,
    pub schema_version: u32,
    pub command: String,
    pub as_of: String,
    pub base_currency: String,
    /// Files of this run's ingest (empty for `analyze` alone).
    pub ingested: Vec<FileEntry>,
    /// Every file the lake holds, with the accounting of its latest ingest.
    pub lake_files: Vec<FileEntry>,
    pub lake_rows: Vec<(String, usize)>,
    pub parameters: serde_json::Value,
    pub outputs: Vec<(String, usize)>,
    pub stages: Vec<StageTime>,
    pub wall_seconds: f64,
    /// What a stage could not do and what the run did instead (e.g. a CLV spend model that
    /// could not be fitted: monetary columns null); empty when nothing went amiss.
    pub warnings: Vec<String>,
}
