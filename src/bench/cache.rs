//! Generated benchmark data, cached on disk by its parameters.
//!
//! ## Method
//! Data for (customers, seed, [`GENERATOR_VERSION`]) lives in `<root>/c<customers>-s<seed>-<hash>/`,
//! where `<hash>` is the first 16 hex digits of the SHA-256 of the three parameters, so a new
//! generator version never reuses old data. The folder holds `data/` (the exports and their
//! `custlens.toml`, written by [`crate::sample::generate`]) and `complete.json`, the completion
//! marker. Generation happens in a temporary folder under `<root>`; the marker is written last and
//! the folder is then renamed into place, so an interrupted generation leaves no folder that looks
//! complete and is redone by the next run. A folder without a readable marker that matches its
//! parameters is removed and generated again.

use super::BenchError;
use crate::sample::{self, SampleConfig, GENERATOR_VERSION};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Name of the completion marker inside a cache entry.
pub const MARKER: &str = "complete.json";

/// The completion marker: what was generated and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub customers: usize,
    pub seed: u64,
    pub generator_version: String,
    /// Seconds the generation took when it ran.
    pub seconds: f64,
}

/// Generated data, ready to ingest.
#[derive(Debug, Clone)]
pub struct CachedData {
    /// The cache entry (`<root>/c<customers>-s<seed>-<hash>/`).
    pub entry: PathBuf,
    /// The exports and their `custlens.toml`.
    pub data: PathBuf,
    /// True when the data was already there; false when this call generated it.
    pub cached: bool,
    /// Seconds this call took (the lookup when cached, the generation otherwise).
    pub seconds: f64,
    /// Seconds the generation took when it ran.
    pub generated_seconds: f64,
}

impl CachedData {
    /// The generated `custlens.toml` (its `[[sources]]` list every export).
    pub fn config_path(&self) -> PathBuf {
        self.data.join("custlens.toml")
    }
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/custlens/bench` (an empty variable counts as unset).
pub fn default_cache_dir() -> Result<PathBuf, BenchError> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .map(|c| c.join("custlens").join("bench"))
        .ok_or(BenchError::NoCacheDir)
}

/// The cache entry's folder name for these parameters: `c<customers>-s<seed>-<16 hex digits>`.
pub fn cache_key(customers: usize, seed: u64, generator_version: &str) -> String {
    let digest = Sha256::digest(format!("customers={customers}\nseed={seed}\ngenerator={generator_version}\n"));
    format!("c{customers}-s{seed}-{}", crate::ingest::rows::hex(&digest[..8]))
}

/// Returns the data for (customers, seed) under `root`, generating it when the cache has no
/// complete entry.
///
/// ## Method
/// See the module docs. `customers` and `seed` go into
/// `SampleConfig { customers, seed, ..SampleConfig::default() }`.
pub fn ensure_data(root: &Path, customers: usize, seed: u64) -> Result<CachedData, BenchError> {
    let started = Instant::now();
    let entry = root.join(cache_key(customers, seed, GENERATOR_VERSION));
    let wanted = |m: &Marker| m.customers == customers && m.seed == seed && m.generator_version == GENERATOR_VERSION;
    let done = |marker: Marker, cached: bool, started: Instant| CachedData {
        data: entry.join("data"),
        entry: entry.clone(),
        cached,
        seconds: started.elapsed().as_secs_f64(),
        generated_seconds: marker.seconds,
    };
    if let Some(m) = read_marker(&entry).filter(wanted) {
        tracing::info!(entry = %entry.display(), "bench data cached");
        return Ok(done(m, true, started));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BenchError::Io { path, source }
    };
    std::fs::create_dir_all(root).map_err(io(root))?;
    tracing::info!(customers, seed, entry = %entry.display(), "generating bench data");
    let tmp = tempfile::Builder::new().prefix(".gen-").tempdir_in(root).map_err(io(root))?;
    let sc = SampleConfig { customers, seed, ..SampleConfig::default() };
    sample::generate(&sc, &tmp.path().join("data"))?;
    let marker = Marker {
        customers,
        seed,
        generator_version: GENERATOR_VERSION.into(),
        seconds: started.elapsed().as_secs_f64(),
    };
    crate::output::json(&tmp.path().join(MARKER), &marker)?;
    if entry.exists() {
        // An entry without a usable marker: an older layout or a copy; never half of ours.
        std::fs::remove_dir_all(&entry).map_err(io(&entry))?;
    }
    let tmp = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp, &entry) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another process may have put the same data in place meanwhile.
        match read_marker(&entry).filter(wanted) {
            Some(m) => return Ok(done(m, true, started)),
            None => return Err(BenchError::Io { path: entry, source: e }),
        }
    }
    Ok(done(marker, false, started))
}

fn read_marker(entry: &Path) -> Option<Marker> {
    let text = std::fs::read_to_string(entry.join(MARKER)).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_every_parameter() {
        let k = cache_key(100, 1, "v1");
        assert_eq!(k, cache_key(100, 1, "v1"));
        assert!(k.starts_with("c100-s1-") && k.len() == "c100-s1-".len() + 16, "{k}");
        assert_ne!(k, cache_key(101, 1, "v1"));
        assert_ne!(k, cache_key(100, 2, "v1"));
        assert_ne!(k, cache_key(100, 1, "v2"));
    }

    #[test]
    fn reuses_complete_entries_and_redoes_incomplete_ones() {
        let root = tempfile::tempdir().unwrap();
        let first = ensure_data(root.path(), 40, 3).unwrap();
        assert!(!first.cached);
        assert!(first.config_path().exists());
        assert!(first.entry.join(MARKER).exists());
        let second = ensure_data(root.path(), 40, 3).unwrap();
        assert!(second.cached);
        assert_eq!(second.entry, first.entry);
        assert_eq!(second.generated_seconds, first.generated_seconds);
        // An interrupted generation (no marker) is redone, not reused.
        std::fs::remove_file(first.entry.join(MARKER)).unwrap();
        let third = ensure_data(root.path(), 40, 3).unwrap();
        assert!(!third.cached);
        assert!(third.config_path().exists());
        // No temporary folders are left behind.
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }
}
