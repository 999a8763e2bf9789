//! TEMPORARY placeholder until the generator lands (replaced by the real module).
use std::path::Path;
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("io error at {path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
}
pub struct SampleConfig { pub customers: usize, pub seed: u64, pub start: chrono::NaiveDate, pub end: chrono::NaiveDate }
impl Default for SampleConfig { fn default() -> Self { SampleConfig { customers: 600, seed: 42, start: chrono::NaiveDate::from_ymd_opt(2023,1,1).unwrap(), end: chrono::NaiveDate::from_ymd_opt(2024,12,31).unwrap() } } }
#[derive(Debug, serde::Serialize)]
pub struct SampleSummary {}
pub fn generate(_cfg: &SampleConfig, _out: &Path) -> Result<SampleSummary, SampleError> { Ok(SampleSummary{}) }
