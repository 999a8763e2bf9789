//! One interface over the four purchase models, so that scoring, validation and model choice
//! are written once.
//!
//! ## Method
//! Every model's conditional expectation factors as E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) ·
//! E[Y(t) | alive, x, T] — the second factor depends on (x, T) only (for BG/BB, (x, n)). The
//! stage computes it once per distinct pair. For BG/BB, "time" is in opportunities (calendar
//! periods): t_x and T are period counts and fractional opportunities interpolate linearly.

use super::bgbb::BgBb;
use super::bgnbd::BgNbd;
use super::fit::{fit_bgbb, fit_bgnbd, fit_mbgnbd, fit_pareto_nbd, BgBbData, CountData, FitReport, ParetoNbdData};
use super::mbgnbd::MbgNbd;
use super::params::{BgbbPeriod, ClvModel, TimeUnit};
use super::ClvError;
use serde::Serialize;

/// A fitted purchase model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum PurchaseModel {
    BgNbd(BgNbd),
    ParetoNbd(super::pareto_nbd::ParetoNbd),
    MbgNbd(MbgNbd),
    BgBb(BgBb),
}

impl PurchaseModel {
    /// The `[clv] model` value.
    pub fn name(&self) -> &'static str {
        match self {
            PurchaseModel::BgNbd(_) => "bgnbd",
            PurchaseModel::ParetoNbd(_) => "pareto_nbd",
            PurchaseModel::MbgNbd(_) => "mbgnbd",
            PurchaseModel::BgBb(_) => "bgbb",
        }
    }

    /// Parameter names and values.
    pub fn params(&self) -> (&'static [&'static str], Vec<f64>) {
        match self {
            PurchaseModel::BgNbd(m) => (&BgNbd::NAMES, m.to_vec()),
            PurchaseModel::ParetoNbd(m) => (&super::pareto_nbd::ParetoNbd::NAMES, m.to_vec()),
            PurchaseModel::MbgNbd(m) => (&MbgNbd::NAMES, m.to_vec()),
            PurchaseModel::BgBb(m) => (&BgBb::NAMES, m.to_vec()),
        }
    }

    /// P(alive | x, t_x, T) (BG/BB: alive at the next opportunity); None when the numerics fail.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let p = match self {
            PurchaseModel::BgNbd(m) => m.p_alive(x, t_x, t),
            PurchaseModel::ParetoNbd(m) => m.p_alive(x, t_x, t)?,
            PurchaseModel::MbgNbd(m) => m.p_alive(x, t_x, t),
            PurchaseModel::BgBb(m) => m.p_alive(x, t_x, t),
        };
        p.is_finite().then_some(p.clamp(0.0, 1.0))
    }

    /// E[Y(t) | alive, x, T], t in model time units (BG/BB: opportunities, fractional allowed).
    pub fn expected_if_alive(&self, t: f64, x: f64, big_t: f64) -> Option<f64> {
        match self {
            PurchaseModel::BgNbd(m) => m.expected_if_alive(t, x, big_t),
            PurchaseModel::ParetoNbd(m) => m.expected_if_alive(t, x, big_t),
            PurchaseModel::MbgNbd(m) => m.expected_if_alive(t, x, big_t),
            PurchaseModel::BgBb(m) => m.expected_if_alive(t, x, big_t),
        }
    }

    /// E[Y(t) | x, t_x, T].
    pub fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        Some(self.p_alive(x, t_x, big_t)? * self.expected_if_alive(t, x, big_t)?)
    }

    /// Model time until P(at least one purchase) reaches `prob` (BG/BB: the whole number of
    /// opportunities); None when it never does or lies beyond `max_t`.
    pub fn time_to_purchase_probability(&self, prob: f64, x: f64, t_x: f64, big_t: f64, max_t: f64) -> Option<f64> {
        let t = match self {
            PurchaseModel::BgNbd(m) => m.time_to_purchase_probability(prob, x, t_x, big_t)?,
            PurchaseModel::ParetoNbd(m) => m.time_to_purchase_probability(prob, x, t_x, big_t, max_t)?,
            PurchaseModel::MbgNbd(m) => m.time_to_purchase_probability(prob, x, t_x, big_t)?,
            PurchaseModel::BgBb(m) => {
                let max_k = max_t.ceil().clamp(1.0, 1e6) as usize;
                m.periods_to_purchase_probability(prob, x, t_x, big_t, max_k)? as f64
            }
        };
        (t <= max_t).then_some(t)
    }
}

/// How model time maps to calendar days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBase {
    /// The unit of the continuous-time models.
    pub unit: TimeUnit,
    /// Some for BG/BB: model time is in these periods.
    pub period: Option<BgbbPeriod>,
    /// UTC day number of the calibration end (for BG/BB, the last day of a period).
    pub calibration_end_day: i64,
}

impl TimeBase {
    /// Days per model time unit (BG/BB: the mean period length).
    pub fn unit_days(&self) -> f64 {
        match self.period {
            Some(p) => p.mean_days(),
            None => self.unit.days(),
        }
    }

    /// Days per discounting step: 30 (monthly, as lifetimes) or one BG/BB period.
    pub fn step_days(&self) -> f64 {
        match self.period {
            Some(p) => p.mean_days(),
            None => 30.0,
        }
    }

    /// `time_unit` in the outputs: `days`/`weeks`, or BG/BB's period.
    pub fn unit_name(&self) -> &'static str {
        match self.period {
            Some(p) => p.as_str(),
            None => self.unit.as_str(),
        }
    }

    /// The UTC day by which `t` model units after the calibration end have passed: the next
    /// whole day (at least one day later), or for BG/BB the last day of the t-th period after.
    pub fn day_after(&self, t: f64) -> i64 {
        match self.period {
            Some(p) => p.last_day(p.of_day(self.calibration_end_day) + t.round() as i64),
            None => self.calibration_end_day + ((t * self.unit.days()).ceil() as i64).max(1),
        }
    }
}

/// Fits one purchase model on a summary (x, t_x, T in model time units).
pub fn fit_purchase(kind: ClvModel, x: &[f64], t_x: &[f64], t: &[f64]) -> Result<(PurchaseModel, FitReport), ClvError> {
    match kind {
        ClvModel::Bgnbd => fit_bgnbd(&CountData::new(x, t_x, t)?).map(|(m, r)| (PurchaseModel::BgNbd(m), r)),
        ClvModel::Mbgnbd => {
            fit_mbgnbd(&CountData::for_model("mbgnbd", x, t_x, t)?).map(|(m, r)| (PurchaseModel::MbgNbd(m), r))
        }
        ClvModel::ParetoNbd => {
            let d = CountData::for_model("pareto_nbd", x, t_x, t)?;
            fit_pareto_nbd(&ParetoNbdData::new(&d)).map(|(m, r)| (PurchaseModel::ParetoNbd(m), r))
        }
        ClvModel::Bgbb => fit_bgbb(&BgBbData::new(x, t_x, t)?).map(|(m, r)| (PurchaseModel::BgBb(m), r)),
        ClvModel::Auto => {
            Err(ClvError::Degenerate { model: "auto", reason: "auto is a choice among models, not a model".into() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_base_days() {
        let b = TimeBase { unit: TimeUnit::Weeks, period: None, calibration_end_day: 100 };
        assert_eq!(b.day_after(0.01), 101);
        assert_eq!(b.day_after(2.0), 114);
        // 1970-03-31 is day 89; two months later ends on 1970-05-31 (day 150).
        let m = TimeBase { unit: TimeUnit::Weeks, period: Some(BgbbPeriod::Month), calibration_end_day: 89 };
        assert_eq!(m.day_after(2.0), 150);
        assert_eq!(m.unit_name(), "month");
    }
}
