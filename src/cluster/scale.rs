//! Robust scaling of one feature column.
//!
//! ## Method
//! `scaled = (x − median) / IQR`, with `IQR = Q3 − Q1` and quantiles by linear interpolation
//! between order statistics (numpy's default and scikit-learn's `RobustScaler`: position
//! `(n − 1)·q`). When the IQR is 0 — common for customer data, e.g. `log_frequency` when more than
//! three quarters of customers bought once, or `return_rate` when most never returned anything —
//! the scale falls back to the population standard deviation (ddof 0), so the minority that
//! differs still counts instead of being blown up by a tiny scale (scikit-learn would use 1,
//! which ignores the feature's units). When the standard deviation is 0 too the feature is
//! constant and carries no information: [`robust_scaling`] returns None and the stage drops it.

use serde::Serialize;

/// How a feature's scale was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMethod {
    /// Interquartile range.
    Iqr,
    /// Standard deviation (the IQR was 0).
    Std,
}

/// Center and scale of one feature: `scaled = (x − center) / scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scaling {
    pub center: f64,
    pub scale: f64,
    pub method: ScaleMethod,
}

impl Scaling {
    pub fn apply(&self, x: f64) -> f64 {
        (x - self.center) / self.scale
    }
}

/// Quantile `q` ∈ [0, 1] of ascending-sorted finite values by linear interpolation; None when empty.
///
/// ## Example
/// ```
/// use custlens::cluster::scale::quantile;
/// assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), Some(1.75));
/// ```
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Ascending copy of finite values (NaN and infinities left out).
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Robust scaling of a column of finite values; None when it is empty or constant.
///
/// ## Example
/// ```
/// use custlens::cluster::scale::{robust_scaling, ScaleMethod};
/// let s = robust_scaling(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
/// assert_eq!((s.center, s.scale, s.method), (3.0, 2.0, ScaleMethod::Iqr));
/// ```
pub fn robust_scaling(values: &[f64]) -> Option<Scaling> {
    let s = sorted(values);
    let center = quantile(&s, 0.5)?;
    let iqr = quantile(&s, 0.75)? - quantile(&s, 0.25)?;
    if iqr > 0.0 {
        return Some(Scaling { center, scale: iqr, method: ScaleMethod::Iqr });
    }
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let std = (s.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
    (std > 0.0).then_some(Scaling { center, scale: std, method: ScaleMethod::Std })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([3, 1, 4, 1, 5], [0, .25, .5, .75, 1]) = 1, 1, 3, 4, 5
        let s = sorted(&[3.0, 1.0, 4.0, 1.0, 5.0]);
        let q: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|&q| quantile(&s, q).unwrap()).collect();
        assert_eq!(q, [1.0, 1.0, 3.0, 4.0, 5.0]);
        // numpy.quantile([1, 2, 3, 4, 5, 6], .25) = 2.25; .5 = 3.5
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(quantile(&s, 0.25), Some(2.25));
        assert_eq!(quantile(&s, 0.5), Some(3.5));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn iqr_scaling_by_hand() {
        // median 3.5, Q1 2.25, Q3 4.75 -> IQR 2.5; 6 -> (6 - 3.5) / 2.5 = 1
        let s = robust_scaling(&[6.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((s.center, s.scale, s.method), (3.5, 2.5, ScaleMethod::Iqr));
        assert_eq!(s.apply(6.0), 1.0);
    }

    #[test]
    fn zero_iqr_falls_back_to_std() {
        // 0,0,0,0,0,0,0,4: Q1 = Q3 = 0; mean 0.5, var = (7·0.25 + 12.25) / 8 = 1.75
        let s = robust_scaling(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0]).unwrap();
        assert_eq!(s.method, ScaleMethod::Std);
        assert_eq!(s.center, 0.0);
        assert!((s.scale - 1.75f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_or_empty_is_none() {
        assert_eq!(robust_scaling(&[2.0, 2.0, 2.0]), None);
        assert_eq!(robust_scaling(&[]), None);
        assert_eq!(robust_scaling(&[f64::NAN]), None);
    }
}
