//! `[business]`: which business tables run and how they are cut.
//!
//! [`BusinessConfig`] is the section as written; [`BusinessParams`] the builder;
//! [`BusinessParams::check`] gives [`BusinessValidParams`] or one [`BusinessParamsError`] per
//! broken rule.

use serde::{Deserialize, Serialize};

/// A period length of `trends.parquet`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// Local calendar days.
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Week, Grain::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }
}

/// How `cohorts.parquet` splits acquisition cohorts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CohortBy {
    /// One cohort per month, all channels together (`channel = "all"`). Default.
    #[default]
    All,
    /// Also one cohort per month and channel of the customer's first order.
    Channel,
}

/// `[business]` as written in the config. Every key has a default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessConfig {
    /// Run the business stage (`trends`, `cohorts`, `kpis`). Default true.
    pub enabled: bool,
    /// Period lengths of `trends.parquet`: any of `day`, `week`, `month`. Default all three.
    pub grains: Vec<Grain>,
    /// Also one `trends` row per channel and store. Default false.
    pub by_store: bool,
    /// `all` (default) or `channel`: cohorts also per first-order channel.
    pub cohort_by: CohortBy,
}

impl Default for BusinessConfig {
    fn default() -> Self {
        BusinessConfig { enabled: true, grains: Grain::ALL.to_vec(), by_store: false, cohort_by: CohortBy::All }
    }
}

/// Unchecked business parameters (a builder); [`BusinessParams::check`] gives
/// [`BusinessValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BusinessParams(BusinessConfig);

/// Why business parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BusinessParamsError {
    #[error("grains is empty; give at least one of \"day\", \"week\", \"month\" (or set enabled = false)")]
    NoGrains,
    #[error("grain `{0}` is listed twice")]
    DuplicateGrain(&'static str),
}

impl BusinessParamsError {
    /// The config key under `[business]` at fault.
    pub fn key(&self) -> &'static str {
        match self {
            BusinessParamsError::NoGrains | BusinessParamsError::DuplicateGrain(_) => "grains",
        }
    }
}

/// Checked business parameters: the grains in day, week, month order.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessValidParams {
    cfg: BusinessConfig,
}

impl BusinessParams {
    pub fn new() -> Self {
        BusinessParams::default()
    }

    pub fn from_config(c: &BusinessConfig) -> Self {
        BusinessParams(c.clone())
    }

    /// Sets `enabled`.
    pub fn enabled(mut self, v: bool) -> Self {
        self.0.enabled = v;
        self
    }

    /// Sets `grains`.
    pub fn grains(mut self, v: Vec<Grain>) -> Self {
        self.0.grains = v;
        self
    }

    /// Sets `by_store`.
    pub fn by_store(mut self, v: bool) -> Self {
        self.0.by_store = v;
        self
    }

    /// Sets `cohort_by`.
    pub fn cohort_by(mut self, v: CohortBy) -> Self {
        self.0.cohort_by = v;
        self
    }

    /// Checks every rule, in the order of the keys.
    pub fn check(self) -> Result<BusinessValidParams, BusinessParamsError> {
        let mut cfg = self.0;
        if cfg.grains.is_empty() {
            return Err(BusinessParamsError::NoGrains);
        }
        let mut seen = Vec::new();
        for g in &cfg.grains {
            if seen.contains(g) {
                return Err(BusinessParamsError::DuplicateGrain(g.as_str()));
            }
            seen.push(*g);
        }
        cfg.grains.sort();
        Ok(BusinessValidParams { cfg })
    }
}

impl BusinessValidParams {
    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// The grains, in day, week, month order.
    pub fn grains(&self) -> &[Grain] {
        &self.cfg.grains
    }

    pub fn by_store(&self) -> bool {
        self.cfg.by_store
    }

    pub fn cohort_by(&self) -> CohortBy {
        self.cfg.cohort_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_sort_grains() {
        let p = BusinessParams::new().check().unwrap();
        assert!(p.enabled() && !p.by_store());
        assert_eq!(p.grains(), &Grain::ALL);
        let p = BusinessParams::new().grains(vec![Grain::Month, Grain::Day]).check().unwrap();
        assert_eq!(p.grains(), &[Grain::Day, Grain::Month]);
    }

    #[test]
    fn one_error_per_rule() {
        assert_eq!(BusinessParams::new().grains(vec![]).check(), Err(BusinessParamsError::NoGrains));
        let e = BusinessParams::new().grains(vec![Grain::Week, Grain::Week]).check().unwrap_err();
        assert_eq!(e, BusinessParamsError::DuplicateGrain("week"));
        assert_eq!(e.key(), "grains");
    }
}
