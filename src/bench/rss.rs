//! Peak resident set size (RSS) from the OS, per stage.
//!
//! ## Method
//! Linux keeps a per-process high-water mark of resident memory, `VmHWM` in `/proc/self/status`.
//! Writing `5` to `/proc/self/clear_refs` resets it to the current RSS, so
//! `reset_peak_rss(); stage(); peak_rss_mb()` gives the peak RSS while the stage ran (including
//! what the process already held when it started). Where the reset is not permitted, `VmHWM` is
//! the peak since the process started ([`RssMode::Process`]). Other systems report nothing.
//!
//! Threads share the address space, so two stages running at once see each other's memory and
//! resets; the pipeline runs its stages one after the other.

use serde::Serialize;

/// What a peak-RSS number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RssMode {
    /// The high-water mark was reset before each stage: peak RSS during the stage.
    PerStage,
    /// The reset was not permitted: peak RSS of the process since it started.
    Process,
    /// No peak RSS on this system (`peak_rss_mb` is null).
    Unavailable,
}

impl RssMode {
    /// Finds out which mode applies here, by trying a reset (which also resets the high-water mark).
    pub fn detect() -> RssMode {
        match (reset_peak_rss(), peak_rss_mb()) {
            (_, None) => RssMode::Unavailable,
            (true, Some(_)) => RssMode::PerStage,
            (false, Some(_)) => RssMode::Process,
        }
    }

    /// `per_stage`, `process` or `unavailable`, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RssMode::PerStage => "per_stage",
            RssMode::Process => "process",
            RssMode::Unavailable => "unavailable",
        }
    }
}

/// Resets the process's peak-RSS high-water mark to its current RSS; false when not permitted
/// (or not on Linux).
///
/// ## Method
/// Writes `5` to `/proc/self/clear_refs` (Linux ≥ 4.0). This affects the whole process.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Peak resident memory of the process in MB (2^20 bytes) since the last [`reset_peak_rss`] (or
/// since it started); None where the OS does not say.
///
/// ## Method
/// `VmHWM` from `/proc/self/status` (Linux).
pub fn peak_rss_mb() -> Option<f64> {
    status_kb("VmHWM:").map(|kb| kb as f64 / 1024.0)
}

/// Current resident memory of the process in MB; None where the OS does not say.
///
/// ## Method
/// `VmRSS` from `/proc/self/status` (Linux).
pub fn current_rss_mb() -> Option<f64> {
    status_kb("VmRSS:").map(|kb| kb as f64 / 1024.0)
}

/// Current and peak resident memory in whole MB, for the debug logs of long phases (ingest,
/// identity); 0 where the OS does not say.
pub fn for_log() -> (f64, f64) {
    (current_rss_mb().unwrap_or(0.0).round(), peak_rss_mb().unwrap_or(0.0).round())
}

/// Memory the system can give without swapping (`MemAvailable` of `/proc/meminfo`), in MB; None
/// where the OS does not say.
pub fn available_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    kb_field(&text, "MemAvailable:").map(|kb| kb / 1024)
}

/// A `kB` field of `/proc/self/status`.
fn status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    kb_field(&text, field)
}

/// Reads `Field:   123 kB` out of a `/proc` text file.
pub(crate) fn kb_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kb_fields() {
        let text = "Name:\tx\nVmHWM:\t  204800 kB\nVmRSS:\t    1000 kB\n";
        assert_eq!(kb_field(text, "VmHWM:"), Some(204_800));
        assert_eq!(kb_field(text, "VmRSS:"), Some(1000));
        assert_eq!(kb_field(text, "VmSwap:"), None);
    }

    /// A correctness test (does the number follow memory use), not a timing test.
    #[cfg(target_os = "linux")]
    #[test]
    fn peak_rss_grows_after_touching_200_mb() {
        let mode = RssMode::detect();
        assert_ne!(mode, RssMode::Unavailable);
        let before = current_rss_mb().expect("VmRSS on Linux");
        reset_peak_rss();
        assert!(peak_rss_mb().is_some());
        let mb = 200;
        // Touch every page so it becomes resident (an untouched allocation may not count).
        let mut v = vec![0u8; mb << 20];
        for i in (0..v.len()).step_by(4096) {
            v[i] = (i % 251) as u8 + 1;
        }
        let peak = peak_rss_mb().expect("VmHWM on Linux");
        assert!(std::hint::black_box(&v).iter().step_by(4096).all(|&b| b > 0));
        // Other tests in this process may allocate or free meanwhile; a wide margin keeps this exact
        // in what it checks: the 200 MB show up in the peak.
        assert!(peak >= before + 0.75 * mb as f64, "peak {peak:.1} MB, RSS before {before:.1} MB");
        drop(v);
        if mode == RssMode::PerStage {
            assert!(reset_peak_rss());
            let after = peak_rss_mb().expect("VmHWM on Linux");
            assert!(after < peak, "reset lowers the peak: {after:.1} MB after, {peak:.1} MB before");
        }
    }
}
