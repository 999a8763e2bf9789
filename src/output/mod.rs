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
pub const SCHEMA_VERSION: u32 = 1;

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

/// Replaces the text columns `cols` by salted SHA-256 hashes (first 32 hex digits); nulls stay null.
///
/// ## Example
/// ```
/// use custlens::output::pseudonymize;
/// use polars::prelude::*;
/// let mut df = df!("email" => [Some("a@x.com"), None]).unwrap();
/// pseudonymize(&mut df, "salt", &["email"]).unwrap();
/// let v = df.column("email").unwrap().str().unwrap().get(0).unwrap().to_string();
/// assert_eq!(v.len(), 32);
/// assert!(df.column("email").unwrap().str().unwrap().get(1).is_none());
/// ```
pub fn pseudonymize(df: &mut DataFrame, salt: &str, cols: &[&str]) -> Result<(), OutputError> {
    let ferr = |e: PolarsError| OutputError::Frame { what: "pseudonymized columns".into(), message: e.to_string() };
    for c in cols {
        let Ok(column) = df.column(c) else { continue };
        let hashed: Vec<Option<String>> = column
            .str()
            .map_err(ferr)?
            .iter()
            .map(|v| {
                v.map(|s| {
                    let mut h = Sha256::new();
                    h.update(salt.as_bytes());
                    h.update([0x1f]);
                    h.update(s.as_bytes());
                    hex(&h.finalize()[..16])
                })
            })
            .collect();
        df.with_column(Column::new((*c).into(), hashed)).map_err(ferr)?;
    }
    Ok(())
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
}
