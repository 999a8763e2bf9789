//! The run configuration: `custlens.toml` plus `--set section.key=value` overrides.
//!
//! ## Method
//! The file is parsed to a TOML table, each `--set` override is written into it (the value is read
//! as TOML, falling back to a plain string), and the result is deserialized with unknown keys
//! rejected. Relative paths in `[[sources]]` and `[paths]` resolve against the config file's folder.
//! Every error names the file (or `--set`), the key, and where possible line and column.
//!
//! ## Example
//! ```
//! use custlens::config::Config;
//! let cfg = Config::from_str_with_overrides("[rfm]\nmonetary = \"total\"\n", None, &["rfm.monetary=average".into()]).unwrap();
//! assert_eq!(cfg.rfm.monetary, custlens::analytics::rfm::Monetary::Average);
//! ```

pub mod encoding;
pub mod mapping;

use crate::analytics::rfm::RfmConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use mapping::{Mapping, MappingError};

/// Why the configuration cannot be used. Every variant names the file or key and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("--set {key}=…: expected section.key=value, e.g. --set rfm.monetary=average")]
    BadOverride { key: String },
    #[error("config key `{key}` in {path}: {message}")]
    Invalid { path: String, key: String, message: String },
}

/// Where the lake and the outputs live. Paths set in a config file resolve against its folder;
/// the defaults `lake/` and `out/` are relative to the current directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    /// Folder of canonical Parquet tables. Default `lake`.
    pub lake: Option<PathBuf>,
    /// Folder of analysis outputs. Default `out`.
    pub out: Option<PathBuf>,
}

/// One input: a file or a folder of files, with how to read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// File or folder, relative to the config file.
    pub path: PathBuf,
    /// `canonical` or a built-in adapter (`shopify`, `taobao-orders`, `jd`, `douyin`, … — the list
    /// is `ingest::adapters::ADAPTERS`); ignored when `mapping` is given; default: detected from the header.
    #[serde(default)]
    pub format: Option<String>,
    /// Mapping file, relative to the config file.
    #[serde(default)]
    pub mapping: Option<PathBuf>,
    /// Overrides the mapping's time zone (IANA name, e.g. `Asia/Shanghai`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Overrides the mapping's phone region (ISO 3166-1 alpha-2, e.g. `CN`) for phones without a
    /// country code.
    #[serde(default)]
    pub phone_region: Option<String>,
    /// Overrides the mapping's channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Overrides the mapping's store.
    #[serde(default)]
    pub store: Option<String>,
    /// Worksheet of an Excel workbook to read (overrides the mapping's `sheet`). Default: the first.
    #[serde(default)]
    pub sheet: Option<String>,
}

/// `[ingest]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Stop at the first rejected row instead of writing it to `rejects`. Default false.
    pub strict: bool,
    /// Where the lake's big tables are held while ingest merges and resolves them. Default `auto`.
    pub spill: Spill,
}

/// `[ingest] spill`: whether ingest holds the lake's orders, lines, customers and identities in
/// memory or spills them to disk-backed storage in the lake folder ([`crate::lake::store`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Spill {
    /// Spill when the lake's estimated rows would not fit in the memory available (checked
    /// before the lake is loaded and before each text file is read).
    #[default]
    Auto,
    /// Always spill (the same lake; slower while everything fits in memory).
    Always,
    /// Never spill (a lake larger than memory ends with the OS killing the run; a warning says so
    /// at the start).
    Never,
}

/// `[analysis]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Analysis date (RFC 3339, taken as given, or `YYYY-MM-DD`, midnight in `timezone`).
    /// Default: the midnight after the latest valid order.
    pub as_of: Option<String>,
    /// IANA time zone whose midnights bound the run's days (features, RFM, CLV summaries,
    /// business periods), e.g. `Asia/Shanghai`. Default `UTC`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl AnalysisConfig {
    /// The run's calendar (UTC when `timezone` is not set).
    pub fn calendar(&self) -> Result<crate::analytics::calendar::Calendar, String> {
        crate::analytics::calendar::Calendar::new(self.timezone.as_deref().unwrap_or("UTC"))
    }
}

/// `[currency]`: how amounts in several currencies are added up.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CurrencyConfig {
    /// Currency of monetary outputs. Default: the orders' currency when they all share one.
    pub base: Option<String>,
    /// Units of `base` per unit of each other currency, e.g. `rates = { CNY = 0.14 }`.
    pub rates: std::collections::BTreeMap<String, f64>,
}

/// `[output]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Replace emails and phones in every output by the SHA-256 of the normalized value (the form
    /// ad platforms match on) and drop names. Default false (`--pseudonymize` sets it).
    pub pseudonymize: bool,
    /// Optional salt: hashes become SHA-256(salt ‖ value), stable for joins but no longer
    /// matchable by ad platforms. Never written to the manifest.
    pub salt: Option<String>,
    /// Also write `segments.csv`. Default true.
    pub csv: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig { pseudonymize: false, salt: None, csv: true }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub paths: PathsConfig,
    pub ingest: IngestConfig,
    pub analysis: AnalysisConfig,
    pub rfm: RfmConfig,
    pub basket: crate::basket::BasketConfig,
    pub currency: CurrencyConfig,
    pub identity: crate::identity::IdentityConfig,
    pub clv: crate::clv::ClvConfig,
    pub output: OutputConfig,
    pub cluster: crate::cluster::params::ClusterConfig,
    pub lifecycle: crate::cluster::params::LifecycleConfig,
    pub triggers: crate::marketing::TriggerConfig,
    pub business: crate::business::BusinessConfig,
    pub sources: Vec<SourceConfig>,
    /// Folder the config file is in; relative paths resolve against it. Not a config key.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the config came from, for messages. Not a config key.
    #[serde(skip)]
    pub origin: String,
    /// The config file read, if any. Not a config key.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Config {
    /// Loads a config file (or the defaults when `path` is None) and applies `--set` overrides.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
        match path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?;
                let mut cfg = Config::from_str_with_overrides(&text, Some(p), overrides)?;
                cfg.base_dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                cfg.file = Some(p.to_path_buf());
                Ok(cfg)
            }
            None => Config::from_str_with_overrides("", None, overrides),
        }
    }

    /// Parses config text; `path` is used in messages only.
    pub fn from_str_with_overrides(
        text: &str,
        path: Option<&Path>,
        overrides: &[String],
    ) -> Result<Config, ConfigError> {
        let origin = path.map(|p| p.display().to_string()).unwrap_or_else(|| "<defaults>".into());
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse { path: origin.clone(), message: e.to_string() })?;
        for arg in overrides {
            apply_override(&mut table, arg)?;
        }
        let mut cfg: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
            let origin = if overrides.is_empty() { origin.clone() } else { format!("{origin} (with --set)") };
            ConfigError::Parse { path: origin, message: e.message().to_string() }
        })?;
        cfg.origin = origin;
        cfg.validate()?;
        Ok(cfg)
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid { path: self.origin.clone(), key: key.into(), message: message.into() }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.output.salt.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(self.invalid("output.salt", "an empty salt: remove the key, or give a secret non-empty one"));
        }
        let cal = self.analysis.calendar().map_err(|m| self.invalid("analysis.timezone", m))?;
        if let Some(a) = &self.analysis.as_of {
            crate::ingest::parse::parse_as_of(a, cal.tz()).map_err(|m| self.invalid("analysis.as_of", m))?;
        }
        crate::business::BusinessParams::from_config(&self.business)
            .check()
            .map_err(|e| self.invalid(&format!("business.{}", e.key()), e.to_string()))?;
        crate::analytics::rfm::RfmParams::from_config(&self.rfm)
            .check()
            .map_err(|e| self.invalid(&format!("rfm.{}", e.key()), e.to_string()))?;
        crate::basket::BasketParams::from_config(&self.basket)
            .check()
            .map_err(|e| self.invalid(&format!("basket.{}", e.key()), e.to_string()))?;
        for (cur, rate) in &self.currency.rates {
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(
                    self.invalid(&format!("currency.rates.{cur}"), format!("rate {rate} must be a positive number"))
                );
            }
        }
        self.identity.check().map_err(|m| self.invalid("identity.default_phone_region", m))?;
        crate::marketing::TriggerParams::from_config(&self.triggers)
            .check()
            .map_err(|e| self.invalid(&format!("triggers.{}", e.key()), e.to_string()))?;
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(r) = s.phone_region.as_deref().filter(|r| crate::identity::phone_region(r).is_none()) {
                return Err(self.invalid(
                    &format!("sources[{i}].phone_region"),
                    format!("`{r}` is not an ISO 3166-1 alpha-2 region code, e.g. CN, US, GB"),
                ));
            }
            if let (Some(f), None) = (s.format.as_deref(), &s.mapping) {
                let known = crate::ingest::named_format(f).is_some();
                if !known {
                    return Err(self.invalid(
                        &format!("sources[{i}].format"),
                        format!(
                            "`{f}` is not a format; use canonical, {}, or give `mapping = \"file.toml\"`",
                            crate::ingest::adapters::names()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The lake folder: `[paths] lake` or `lake/`.
    pub fn lake_dir(&self) -> PathBuf {
        self.paths.lake.as_deref().map(|p| self.resolve(p)).unwrap_or_else(|| "lake".into())
    }

    /// The output folder: `[paths] out` or `out/`.
    pub fn out_dir(&self) -> PathBuf {
        self.paths.out.as_deref().map(|p| self.resolve(p)).unwrap_or_else(|| "out".into())
    }

    /// The `custlens.toml` files in the folders of `files` that are not this config, sorted, each
    /// once: folders that carry their own config (the generator writes one beside its exports) but
    /// are read without it, so its mappings, `[currency]` rates and `[identity]` settings do not
    /// apply.
    pub fn unused_configs_beside<'a>(&self, files: impl IntoIterator<Item = &'a Path>) -> Vec<PathBuf> {
        let folders: std::collections::BTreeSet<&Path> =
            files.into_iter().map(|f| f.parent().unwrap_or(Path::new(""))).collect();
        let in_use = self.file.as_deref().and_then(|f| f.canonicalize().ok());
        folders
            .into_iter()
            .map(|d| d.join("custlens.toml"))
            .filter(|c| c.is_file() && c.canonicalize().ok() != in_use)
            .collect()
    }

    /// Resolves a path from the config against its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() || self.base_dir.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), ConfigError> {
    // The value is not echoed: it may be a secret (output.salt).
    let bad = || ConfigError::BadOverride { key: arg.split_once('=').map_or(arg, |(k, _)| k).trim().to_string() };
    let (key, value) = arg.split_once('=').ok_or_else(bad)?;
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let value = value.trim();
    let parsed: toml::Value = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(bad)?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_file() {
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.lake_dir(), PathBuf::from("lake"));
        assert!(c.output.csv);
    }

    #[test]
    fn override_sets_nested_key_and_parses_types() {
        let c =
            Config::from_str_with_overrides("", None, &["output.csv=false".into(), "analysis.as_of=2024-01-01".into()])
                .unwrap();
        assert!(!c.output.csv);
        assert_eq!(c.analysis.as_of.as_deref(), Some("2024-01-01"));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_str_with_overrides("[rfm]\nmonetry = \"total\"\n", None, &[]).unwrap_err().to_string();
        assert!(err.contains("monetry"), "{err}");
    }

    #[test]
    fn bad_override_syntax() {
        let err = Config::from_str_with_overrides("", None, &["rfm".into()]).unwrap_err();
        assert!(matches!(err, ConfigError::BadOverride { .. }));
    }

    #[test]
    fn pseudonymize_needs_no_salt_but_an_empty_one_is_an_error() {
        Config::from_str_with_overrides("[output]\npseudonymize = true\n", None, &[]).unwrap();
        let err = Config::from_str_with_overrides("[output]\nsalt = \" \"\n", None, &[]).unwrap_err().to_string();
        assert!(err.contains("output.salt"), "{err}");
    }

    #[test]
    fn bad_phone_region_names_key() {
        let err =
            Config::from_str_with_overrides("", None, &["identity.default_phone_region=China".into()]).unwrap_err();
        assert!(err.to_string().contains("identity.default_phone_region"), "{err}");
        let src = "[[sources]]\npath = \"x.csv\"\nphone_region = \"ZZ\"\n";
        let err = Config::from_str_with_overrides(src, None, &[]).unwrap_err();
        assert!(err.to_string().contains("sources[0].phone_region"), "{err}");
    }

    #[test]
    fn basket_rules_name_their_key() {
        let err = Config::from_str_with_overrides("[basket]\nmin_support = 0.1\nmin_count = 5\n", None, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("basket.min_support") && err.contains("not both"), "{err}");
    }

    #[test]
    fn unused_configs_are_those_beside_the_files_but_not_in_use() {
        let tmp = tempfile::tempdir().unwrap();
        let (gen, plain) = (tmp.path().join("gen"), tmp.path().join("plain"));
        for d in [&gen, &plain] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(gen.join("custlens.toml"), "").unwrap();
        std::fs::write(plain.join("other.toml"), "").unwrap();
        let files = [gen.join("a.csv"), gen.join("b.jsonl"), plain.join("c.csv")];
        let paths = || files.iter().map(PathBuf::as_path);
        let none = Config::load(None, &[]).unwrap();
        assert_eq!(none.unused_configs_beside(paths()), vec![gen.join("custlens.toml")], "once, for its folder");
        let other = Config::load(Some(&plain.join("other.toml")), &[]).unwrap();
        assert_eq!(other.unused_configs_beside(paths()), vec![gen.join("custlens.toml")]);
        // The same file by another spelling is the config in use.
        let own = Config::load(Some(&plain.join("../gen/custlens.toml")), &[]).unwrap();
        assert!(own.unused_configs_beside(paths()).is_empty());
        assert!(none.unused_configs_beside([plain.join("c.csv").as_path()]).is_empty());
    }

    #[test]
    fn bad_timezone_names_key() {
        let err = Config::from_str_with_overrides("", None, &["analysis.timezone=Asia/Shanghia".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("analysis.timezone") && err.contains("IANA"), "{err}");
        let c = Config::from_str_with_overrides("[analysis]\ntimezone = \"Asia/Shanghai\"\n", None, &[]).unwrap();
        assert_eq!(c.analysis.calendar().unwrap().tz(), chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn business_rules_name_their_key() {
        let err = Config::from_str_with_overrides("[business]\ngrains = []\n", None, &[]).unwrap_err().to_string();
        assert!(err.contains("business.grains"), "{err}");
        let err = Config::from_str_with_overrides("", None, &["business.grain=[\"day\"]".into()]).unwrap_err();
        assert!(err.to_string().contains("grain"), "{err}");
    }

    #[test]
    fn bad_as_of_names_key() {
        let err =
            Config::from_str_with_overrides("", None, &["analysis.as_of=yesterday".into()]).unwrap_err().to_string();
        assert!(err.contains("analysis.as_of"), "{err}");
    }
}
