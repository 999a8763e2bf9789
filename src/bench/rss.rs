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

/// Current resident memory, its anonymous part (`RssAnon`: heap and stacks, not the pages of
/// mapped files such as a spilled lake's, which the kernel can write back and drop) and peak
/// resident memory in whole MB, for the debug logs of long phases (ingest, identity); 0 where the
/// OS does not say.
pub fn for_log() -> (f64, f64, f64) {
    // One read of `/proc/self/status` for the three fields.
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mb = |field| kb_field(&text, field).map_or(0.0, |kb| (kb as f64 / 1024.0).round());
    (mb("VmRSS:"), mb("RssAnon:"), mb("VmHWM:"))
}

/// A `tracing::debug!` event with the memory figures of [`for_log`] (`rss_mb`, `anon_mb`,
/// `peak_rss_mb`) among its fields, for the end of a long phase; takes `debug!`'s fields and
/// message.
macro_rules! debug_memory {
    ($($fields:tt)*) => {{
        let (rss_mb, anon_mb, peak_rss_mb) = $crate::bench::rss::for_log();
        ::tracing::debug!(rss_mb, anon_mb, peak_rss_mb, $($fields)*)
    }};
}
pub(crate) use debug_memory;

/// Memory the process can still use without swapping, in MB: the system's `MemAvailable`
/// (`/proc/meminfo`), or less when the process's memory cgroup (a container's, a job's) has a
/// limit closer to its usage; None where the OS does not say.
pub fn available_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let system = kb_field(&text, "MemAvailable:")? / 1024;
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    Some(cgroup_room_mb(&cgroups, |path| std::fs::read_to_string(path).ok()).map_or(system, |c| c.min(system)))
}

/// The least room (limit − usage, in MB) of the memory cgroups that hold the process and their
/// ancestors, from `/proc/self/cgroup` (cgroup v1 `N:memory:/path`, or v2 `0::/path`) and the
/// files under `/sys/fs/cgroup` (`read` reads one); None without a limit. Usage counts the page
/// cache too; its inactive file pages (`memory.stat`), which the kernel drops first, are not
/// counted (as `docker stats` does).
fn cgroup_room_mb(proc_cgroup: &str, read: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let number = |path: String| read(&path).and_then(|t| t.trim().parse::<u64>().ok());
    let (v1, v2) = proc_cgroup.lines().fold((None, None), |(v1, v2), line| {
        let mut f = line.splitn(3, ':');
        match (f.next(), f.next(), f.next()) {
            (_, Some(c), Some(p)) if c.split(',').any(|c| c == "memory") => (Some(p), v2),
            (Some("0"), Some(""), Some(p)) => (v1, Some(p)),
            _ => (v1, v2),
        }
    });
    // (cgroup folder, its path, limit file, usage file); a v1 limit of "no limit" is a huge number.
    let (root, path, limit, usage, inactive) = match (v1, v2) {
        (Some(p), _) => {
            ("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        }
        (None, Some(p)) => ("/sys/fs/cgroup", p, "memory.max", "memory.current", "inactive_file"),
        (None, None) => return None,
    };
    let mut room: Option<u64> = None;
    let mut at = path.trim_end_matches('/');
    loop {
        let dir = format!("{root}{at}");
        if let (Some(l), Some(u)) = (number(format!("{dir}/{limit}")), number(format!("{dir}/{usage}"))) {
            if l < 1 << 60 {
                let stat = read(&format!("{dir}/memory.stat")).unwrap_or_default();
                let cache = stat
                    .lines()
                    .find_map(|line| line.strip_prefix(inactive)?.strip_prefix(' ')?.trim().parse::<u64>().ok());
                let r = l.saturating_sub(u.saturating_sub(cache.unwrap_or(0))) >> 20;
                room = Some(room.map_or(r, |x| x.min(r)));
            }
        }
        match at.rfind('/') {
            Some(i) => at = &at[..i],
            None => break,
        }
    }
    room
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
    fn cgroup_room_is_the_least_of_the_limits_on_the_way_up() {
        let files = |files: &'static [(&'static str, &'static str)]| {
            move |p: &str| files.iter().find(|(f, _)| *f == p).map(|(_, t)| t.to_string())
        };
        // v1: the job's own limit (1 GB, 400 MB used) under an unlimited parent.
        let v1 = "12:pids:/\n4:memory:/jobs/a\n0::/\n";
        let read = files(&[
            ("/sys/fs/cgroup/memory/jobs/a/memory.limit_in_bytes", "1073741824\n"),
            ("/sys/fs/cgroup/memory/jobs/a/memory.usage_in_bytes", "524288000\n"),
            // 100 MB of the usage is inactive page cache.
            (
                "/sys/fs/cgroup/memory/jobs/a/memory.stat",
                "cache 200000000\ninactive_file 1\ntotal_inactive_file 104857600\n",
            ),
            ("/sys/fs/cgroup/memory/jobs/memory.limit_in_bytes", "9223372036854771712\n"),
            ("/sys/fs/cgroup/memory/jobs/memory.usage_in_bytes", "419430400\n"),
        ]);
        assert_eq!(cgroup_room_mb(v1, read), Some(624));
        // v2: a parent's limit is tighter than the leaf's `max`.
        let v2 = "0::/user/job\n";
        let read = files(&[
            ("/sys/fs/cgroup/user/job/memory.max", "max\n"),
            ("/sys/fs/cgroup/user/job/memory.current", "104857600\n"),
            ("/sys/fs/cgroup/user/memory.max", "314572800\n"),
            ("/sys/fs/cgroup/user/memory.current", "209715200\n"),
        ]);
        assert_eq!(cgroup_room_mb(v2, read), Some(100));
        // No limits anywhere, or no memory cgroup.
        assert_eq!(cgroup_room_mb("0::/\n", |_: &str| Some("max".into())), None);
        assert_eq!(cgroup_room_mb("", |_: &str| None), None);
    }

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
