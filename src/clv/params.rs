//! `[clv]` configuration and its checked form.
//!
//! ## Parameters
//! | key | default | meaning |
//! |---|---|---|
//! | `model` | `"bgnbd"` | purchase model: `bgnbd`, `pareto_nbd`, `mbgnbd` (continuous time), `bgbb` (discrete opportunities, see `bgbb_period`), or `auto` (fit bgnbd, pareto_nbd and mbgnbd; keep the lowest holdout MAE, or the best BIC without a holdout); spend is always Gamma-Gamma |
//! | `time_unit` | `"weeks"` | unit of t_x, T and α for the continuous-time models: `days` or `weeks` (= days / 7) |
//! | `bgbb_period` | `"month"` | BG/BB's purchase opportunity: calendar `year`, `quarter` or `month` (UTC) |
//! | `calibration_end` | none | last day (YYYY-MM-DD, UTC) of the calibration period; see below |
//! | `holdout_days` | 91 | with no `calibration_end`, the last this many days are held out for validation |
//! | `horizons_days` | [90, 365] | horizons of expected purchases and CLV, in days |
//! | `discount_rate_annual` | 0.10 | yearly discount rate of CLV (0 = undiscounted) |
//! | `margin` | 1.0 | share of revenue that is profit; CLV = margin × discounted expected revenue |
//! | `churn_tiers` | [0.3, 0.7] | increasing thresholds on churn risk = 1 − P(alive) |
//! | `churn_tier_names` | ["low", "medium", "high"] | one name per tier (thresholds + 1) |
//!
//! With `calibration_end` the model is fitted on purchases up to that day, customers are scored
//! as of that day, and later purchases validate it. Without it, the last `holdout_days` are held
//! out to validate a calibration fit, and the scores come from a refit on all data.

use serde::{Deserialize, Serialize};

/// `[clv]` as written in the config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClvConfig {
    /// `bgnbd` (default), `pareto_nbd`, `mbgnbd`, `bgbb` or `auto`.
    pub model: String,
    /// `days` or `weeks` (default).
    pub time_unit: String,
    /// `year`, `quarter` or `month` (default): BG/BB's opportunities.
    pub bgbb_period: String,
    /// YYYY-MM-DD; default none (hold out the last `holdout_days`).
    pub calibration_end: Option<String>,
    /// Default 91.
    pub holdout_days: i64,
    /// Default [90, 365].
    pub horizons_days: Vec<i64>,
    /// Default 0.10.
    pub discount_rate_annual: f64,
    /// Default 1.0.
    pub margin: f64,
    /// Default [0.3, 0.7].
    pub churn_tiers: Vec<f64>,
    /// Default ["low", "medium", "high"].
    pub churn_tier_names: Vec<String>,
}

impl Default for ClvConfig {
    fn default() -> Self {
        ClvConfig {
            model: "bgnbd".into(),
            time_unit: "weeks".into(),
            bgbb_period: "month".into(),
            calibration_end: None,
            holdout_days: 91,
            horizons_days: vec![90, 365],
            discount_rate_annual: 0.10,
            margin: 1.0,
            churn_tiers: vec![0.3, 0.7],
            churn_tier_names: vec!["low".into(), "medium".into(), "high".into()],
        }
    }
}

/// The purchase model (spend is always Gamma-Gamma, Fader & Hardie 2013).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClvModel {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    Mbgnbd,
    /// BG/BB (Fader, Hardie & Shang 2010), on `bgbb_period` opportunities.
    Bgbb,
    /// Fit [`ClvModel::CONTINUOUS`] and keep the best (holdout MAE, else BIC).
    Auto,
}

impl ClvModel {
    /// The continuous-time models `auto` chooses among.
    pub const CONTINUOUS: [ClvModel; 3] = [ClvModel::Bgnbd, ClvModel::ParetoNbd, ClvModel::Mbgnbd];

    pub fn as_str(self) -> &'static str {
        match self {
            ClvModel::Bgnbd => "bgnbd",
            ClvModel::ParetoNbd => "pareto_nbd",
            ClvModel::Mbgnbd => "mbgnbd",
            ClvModel::Bgbb => "bgbb",
            ClvModel::Auto => "auto",
        }
    }
}

/// BG/BB's purchase opportunity: a calendar period (UTC). Periods are numbered so that
/// consecutive periods differ by one: a year is its number, a quarter `year·4 + q` (q = 0..3),
/// a month `year·12 + m` (m = 0..11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BgbbPeriod {
    Year,
    Quarter,
    Month,
}

/// Day number (days since 1970-01-01) of a date.
fn day_number(d: chrono::NaiveDate) -> i64 {
    d.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

impl BgbbPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BgbbPeriod::Year => "year",
            BgbbPeriod::Quarter => "quarter",
            BgbbPeriod::Month => "month",
        }
    }

    /// Months per period.
    pub fn months(self) -> i64 {
        match self {
            BgbbPeriod::Year => 12,
            BgbbPeriod::Quarter => 3,
            BgbbPeriod::Month => 1,
        }
    }

    /// Mean days per period (365.2425 / periods per year): converts horizons in days.
    pub fn mean_days(self) -> f64 {
        365.2425 * self.months() as f64 / 12.0
    }

    /// The period of a UTC day number.
    pub fn of_day(self, day: i64) -> i64 {
        use chrono::Datelike;
        let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(day);
        let months = d.year() as i64 * 12 + d.month0() as i64;
        months.div_euclid(self.months())
    }

    /// The first UTC day number of a period.
    pub fn first_day(self, period: i64) -> i64 {
        let months = period * self.months();
        chrono::NaiveDate::from_ymd_opt(months.div_euclid(12) as i32, months.rem_euclid(12) as u32 + 1, 1)
            .map(day_number)
            .unwrap_or(i64::MAX / 4)
    }

    /// The last UTC day number of a period.
    pub fn last_day(self, period: i64) -> i64 {
        self.first_day(period + 1) - 1
    }

    /// The last whole period ending on or before `day`.
    pub fn last_complete(self, day: i64) -> i64 {
        let p = self.of_day(day);
        if self.last_day(p) == day {
            p
        } else {
            p - 1
        }
    }
}

/// The unit of t_x, T and α.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Days,
    Weeks,
}

impl TimeUnit {
    /// Days in one unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
        }
    }
}

/// Unchecked CLV parameters (a builder); [`ClvParams::check`] gives [`ClvValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClvParams(ClvConfig);

/// Why CLV parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClvParamsError {
    #[error("model `{0}` is not available; use `bgnbd`, `pareto_nbd`, `mbgnbd`, `bgbb` or `auto`")]
    UnknownModel(String),
    #[error("time_unit `{0}`: use `days` or `weeks`")]
    UnknownTimeUnit(String),
    #[error("bgbb_period `{0}`: use `year`, `quarter` or `month`")]
    UnknownBgbbPeriod(String),
    #[error("calibration_end `{0}` is not a date (YYYY-MM-DD)")]
    BadCalibrationEnd(String),
    #[error("holdout_days = {0}: must be at least 1")]
    HoldoutDays(i64),
    #[error("horizons_days {0:?}: give at least one horizon, each between 1 and 36500 days")]
    Horizons(Vec<i64>),
    #[error("discount_rate_annual = {0}: must be a finite rate between 0 and 10 (0.1 = 10 %)")]
    DiscountRate(f64),
    #[error("margin = {0}: must be in (0, 1] (a share of revenue)")]
    Margin(f64),
    #[error("churn_tiers {0:?}: thresholds must increase strictly and lie strictly between 0 and 1")]
    ChurnTiers(Vec<f64>),
    #[error("churn_tier_names {names:?}: need {want} distinct non-empty names (one more than churn_tiers)")]
    ChurnTierNames { names: Vec<String>, want: usize },
}

impl ClvParamsError {
    /// The config key under `[clv]` at fault.
    pub fn key(&self) -> &'static str {
        match self {
            ClvParamsError::UnknownModel(_) => "model",
            ClvParamsError::UnknownTimeUnit(_) => "time_unit",
            ClvParamsError::UnknownBgbbPeriod(_) => "bgbb_period",
            ClvParamsError::BadCalibrationEnd(_) => "calibration_end",
            ClvParamsError::HoldoutDays(_) => "holdout_days",
            ClvParamsError::Horizons(_) => "horizons_days",
            ClvParamsError::DiscountRate(_) => "discount_rate_annual",
            ClvParamsError::Margin(_) => "margin",
            ClvParamsError::ChurnTiers(_) => "churn_tiers",
            ClvParamsError::ChurnTierNames { .. } => "churn_tier_names",
        }
    }
}

/// Checked CLV parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ClvValidParams {
    pub model: ClvModel,
    pub time_unit: TimeUnit,
    pub bgbb_period: BgbbPeriod,
    pub calibration_end: Option<chrono::NaiveDate>,
    pub holdout_days: i64,
    /// Sorted, distinct.
    pub horizons_days: Vec<i64>,
    pub discount_rate_annual: f64,
    pub margin: f64,
    pub churn_tiers: Vec<f64>,
    pub churn_tier_names: Vec<String>,
}

impl ClvParams {
    pub fn new() -> Self {
        ClvParams::default()
    }

    pub fn from_config(c: &ClvConfig) -> Self {
        ClvParams(c.clone())
    }

    pub fn model(mut self, m: &str) -> Self {
        self.0.model = m.into();
        self
    }

    pub fn time_unit(mut self, u: &str) -> Self {
        self.0.time_unit = u.into();
        self
    }

    pub fn bgbb_period(mut self, p: &str) -> Self {
        self.0.bgbb_period = p.into();
        self
    }

    /// YYYY-MM-DD (e.g. from `--calibration-end`).
    pub fn calibration_end(mut self, d: Option<String>) -> Self {
        self.0.calibration_end = d;
        self
    }

    pub fn holdout_days(mut self, d: i64) -> Self {
        self.0.holdout_days = d;
        self
    }

    pub fn horizons_days(mut self, h: Vec<i64>) -> Self {
        self.0.horizons_days = h;
        self
    }

    pub fn discount_rate_annual(mut self, r: f64) -> Self {
        self.0.discount_rate_annual = r;
        self
    }

    pub fn margin(mut self, m: f64) -> Self {
        self.0.margin = m;
        self
    }

    pub fn churn_tiers(mut self, thresholds: Vec<f64>, names: Vec<String>) -> Self {
        self.0.churn_tiers = thresholds;
        self.0.churn_tier_names = names;
        self
    }

    /// Checks every rule.
    pub fn check(self) -> Result<ClvValidParams, ClvParamsError> {
        let c = self.0;
        let model = match c.model.trim().to_ascii_lowercase().as_str() {
            "bgnbd" | "bg/nbd" | "bg_nbd" => ClvModel::Bgnbd,
            "pareto_nbd" | "pareto/nbd" | "paretonbd" | "pnbd" => ClvModel::ParetoNbd,
            "mbgnbd" | "mbg/nbd" | "mbg_nbd" => ClvModel::Mbgnbd,
            "bgbb" | "bg/bb" | "bg_bb" => ClvModel::Bgbb,
            "auto" => ClvModel::Auto,
            _ => return Err(ClvParamsError::UnknownModel(c.model)),
        };
        let bgbb_period = match c.bgbb_period.trim().to_ascii_lowercase().as_str() {
            "year" | "years" | "yearly" => BgbbPeriod::Year,
            "quarter" | "quarters" | "quarterly" => BgbbPeriod::Quarter,
            "month" | "months" | "monthly" => BgbbPeriod::Month,
            _ => return Err(ClvParamsError::UnknownBgbbPeriod(c.bgbb_period)),
        };
        let time_unit = match c.time_unit.trim().to_ascii_lowercase().as_str() {
            "days" | "day" => TimeUnit::Days,
            "weeks" | "week" => TimeUnit::Weeks,
            _ => return Err(ClvParamsError::UnknownTimeUnit(c.time_unit)),
        };
        let calibration_end = match &c.calibration_end {
            None => None,
            Some(s) => Some(
                chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| ClvParamsError::BadCalibrationEnd(s.clone()))?,
            ),
        };
        if c.holdout_days < 1 {
            return Err(ClvParamsError::HoldoutDays(c.holdout_days));
        }
        if c.horizons_days.is_empty() || c.horizons_days.iter().any(|h| !(1..=36_500).contains(h)) {
            return Err(ClvParamsError::Horizons(c.horizons_days));
        }
        let mut horizons_days = c.horizons_days.clone();
        horizons_days.sort_unstable();
        horizons_days.dedup();
        if !(c.discount_rate_annual.is_finite() && (0.0..=10.0).contains(&c.discount_rate_annual)) {
            return Err(ClvParamsError::DiscountRate(c.discount_rate_annual));
        }
        if !(c.margin > 0.0 && c.margin <= 1.0) {
            return Err(ClvParamsError::Margin(c.margin));
        }
        let t = &c.churn_tiers;
        if t.iter().any(|v| !(*v > 0.0 && *v < 1.0)) || t.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ClvParamsError::ChurnTiers(c.churn_tiers));
        }
        let names = &c.churn_tier_names;
        let distinct = names.iter().collect::<std::collections::BTreeSet<_>>().len() == names.len();
        if names.len() != t.len() + 1 || !distinct || names.iter().any(|n| n.trim().is_empty()) {
            return Err(ClvParamsError::ChurnTierNames { names: c.churn_tier_names, want: t.len() + 1 });
        }
        Ok(ClvValidParams {
            model,
            time_unit,
            bgbb_period,
            calibration_end,
            holdout_days: c.holdout_days,
            horizons_days,
            discount_rate_annual: c.discount_rate_annual,
            margin: c.margin,
            churn_tiers: c.churn_tiers,
            churn_tier_names: c.churn_tier_names,
        })
    }
}

impl ClvValidParams {
    /// The tier of a churn risk: the number of thresholds at or below it picks the name.
    pub fn churn_tier(&self, risk: f64) -> &str {
        let i = self.churn_tiers.iter().filter(|t| risk >= **t).count();
        &self.churn_tier_names[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check() {
        let p = ClvParams::new().check().unwrap();
        assert_eq!(p.model, ClvModel::Bgnbd);
        assert_eq!(p.time_unit, TimeUnit::Weeks);
        assert_eq!(p.holdout_days, 91);
        assert_eq!(p.horizons_days, vec![90, 365]);
        assert_eq!(p.churn_tier(0.1), "low");
        assert_eq!(p.churn_tier(0.3), "medium");
        assert_eq!(p.churn_tier(0.95), "high");
    }

    #[test]
    fn rule_model() {
        assert_eq!(ClvParams::new().model("pareto").check().unwrap_err().key(), "model");
        for (s, m) in [
            ("pareto_nbd", ClvModel::ParetoNbd),
            ("MBGNBD", ClvModel::Mbgnbd),
            ("bgbb", ClvModel::Bgbb),
            ("auto", ClvModel::Auto),
        ] {
            assert_eq!(ClvParams::new().model(s).check().unwrap().model, m);
        }
    }

    #[test]
    fn rule_bgbb_period() {
        assert_eq!(ClvParams::new().bgbb_period("week").check().unwrap_err().key(), "bgbb_period");
        assert_eq!(ClvParams::new().bgbb_period("year").check().unwrap().bgbb_period, BgbbPeriod::Year);
    }

    #[test]
    fn calendar_periods() {
        let day = |y, m, d| day_number(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let q = BgbbPeriod::Quarter;
        assert_eq!(q.of_day(day(2024, 5, 17)), 2024 * 4 + 1);
        assert_eq!(q.first_day(2024 * 4 + 1), day(2024, 4, 1));
        assert_eq!(q.last_day(2024 * 4 + 1), day(2024, 6, 30));
        assert_eq!(q.last_complete(day(2024, 6, 30)), 2024 * 4 + 1);
        assert_eq!(q.last_complete(day(2024, 6, 29)), 2024 * 4);
        let m = BgbbPeriod::Month;
        assert_eq!(m.last_day(2024 * 12 + 1), day(2024, 2, 29));
        assert_eq!(BgbbPeriod::Year.of_day(day(1969, 12, 31)), 1969);
        assert_eq!(BgbbPeriod::Year.last_complete(day(2024, 12, 30)), 2023);
    }

    #[test]
    fn rule_time_unit() {
        assert_eq!(ClvParams::new().time_unit("months").check().unwrap_err().key(), "time_unit");
        assert_eq!(ClvParams::new().time_unit("days").check().unwrap().time_unit, TimeUnit::Days);
    }

    #[test]
    fn rule_calibration_end() {
        let e = ClvParams::new().calibration_end(Some("1997-13-01".into())).check().unwrap_err();
        assert_eq!(e.key(), "calibration_end");
        let ok = ClvParams::new().calibration_end(Some("1997-09-30".into())).check().unwrap();
        assert_eq!(ok.calibration_end, chrono::NaiveDate::from_ymd_opt(1997, 9, 30));
    }

    #[test]
    fn rule_holdout_days() {
        assert_eq!(ClvParams::new().holdout_days(0).check().unwrap_err(), ClvParamsError::HoldoutDays(0));
    }

    #[test]
    fn rule_horizons() {
        assert_eq!(ClvParams::new().horizons_days(vec![]).check().unwrap_err().key(), "horizons_days");
        assert_eq!(ClvParams::new().horizons_days(vec![0]).check().unwrap_err().key(), "horizons_days");
        assert_eq!(ClvParams::new().horizons_days(vec![365, 90, 90]).check().unwrap().horizons_days, vec![90, 365]);
    }

    #[test]
    fn rule_discount_rate() {
        assert_eq!(ClvParams::new().discount_rate_annual(-0.1).check().unwrap_err().key(), "discount_rate_annual");
        assert_eq!(ClvParams::new().discount_rate_annual(f64::NAN).check().unwrap_err().key(), "discount_rate_annual");
    }

    #[test]
    fn rule_margin() {
        assert_eq!(ClvParams::new().margin(0.0).check().unwrap_err().key(), "margin");
        assert_eq!(ClvParams::new().margin(1.5).check().unwrap_err().key(), "margin");
    }

    #[test]
    fn rule_churn_tiers() {
        let names = vec!["a".to_string(), "b".into(), "c".into()];
        assert_eq!(
            ClvParams::new().churn_tiers(vec![0.7, 0.3], names.clone()).check().unwrap_err().key(),
            "churn_tiers"
        );
        assert_eq!(ClvParams::new().churn_tiers(vec![0.0, 0.5], names).check().unwrap_err().key(), "churn_tiers");
    }

    #[test]
    fn rule_churn_tier_names() {
        let e = ClvParams::new().churn_tiers(vec![0.5], vec!["a".into(), "b".into(), "c".into()]).check().unwrap_err();
        assert_eq!(e.key(), "churn_tier_names");
        let e = ClvParams::new().churn_tiers(vec![0.5], vec!["a".into(), "a".into()]).check().unwrap_err();
        assert_eq!(e.key(), "churn_tier_names");
    }
}
