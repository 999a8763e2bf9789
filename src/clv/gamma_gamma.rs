//! The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model
//! of Monetary Value", brucehardie.com note 025; after Colombo & Jiang 1999).
//!
//! ## Method
//! A customer's transaction values are Gamma(p, rate ν); across customers ν ~ Gamma(q, rate γ).
//! Fitted on repeat buyers only, from x (repeat purchases) and z̄ (their mean value):
//!
//! - ln f(z̄ | x) = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln z̄ + px ln x
//!   − (px+q) ln(γ + x z̄) (the note's eq. 3, every constant kept, as lifetimes computes it);
//! - E[Z | x, z̄] = p (γ + x z̄) / (px + q − 1), a weighted mean of the population mean
//!   p γ / (q − 1) and z̄ (eq. 5); customers without a repeat purchase get the population mean.
//!
//! The model assumes spend is independent of purchase frequency; [`crate::clv::fit`] reports the
//! Pearson correlation between x and z̄ over the fitted customers so that can be checked.

use super::shared::model_params;
use super::special::{digamma, ln_gamma};
use serde::Serialize;

/// Gamma-Gamma parameters.
///
/// ## Example
/// ```
/// use custlens::clv::gamma_gamma::GammaGamma;
/// // Fader & Hardie (2013), CDNOW.
/// let m = GammaGamma { p: 6.25, q: 3.74, gamma: 15.44 };
/// assert!((m.population_mean().unwrap() - 6.25 * 15.44 / 2.74).abs() < 1e-12);
/// // Two repeat purchases averaging 22.35 shrink towards the population mean.
/// let e = m.conditional_expected_spend(2.0, 22.35).unwrap();
/// assert!(e > 22.35 && e < m.population_mean().unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

model_params!(GammaGamma { p, q, gamma });

impl GammaGamma {
    /// ln f(z̄ | x) for one repeat buyer (x ≥ 1, z̄ > 0).
    pub fn log_likelihood(&self, x: f64, zbar: f64) -> f64 {
        row_ll_grad(self, &XTerms::new(self, x), x, zbar.ln(), x * zbar, None)
    }

    /// Mean spend per transaction in the population, p γ / (q − 1); None when q ≤ 1 (infinite).
    pub fn population_mean(&self) -> Option<f64> {
        (self.q > 1.0).then(|| self.p * self.gamma / (self.q - 1.0))
    }

    /// E[Z | x, z̄]; the population mean when x = 0. None when it is infinite.
    pub fn conditional_expected_spend(&self, x: f64, zbar: f64) -> Option<f64> {
        if x <= 0.0 {
            return self.population_mean();
        }
        let d = self.p * x + self.q - 1.0;
        (d > 0.0).then(|| self.p * (self.gamma + x * zbar) / d)
    }
}

/// Per-x parts of ln f and its gradient.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XTerms {
    /// ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + px ln x.
    c: f64,
    /// ψ(px+q) − ψ(px).
    d_pxq_px: f64,
    /// ψ(px+q) − ψ(q).
    d_pxq_q: f64,
    ln_x: f64,
    ln_gamma_param: f64,
}

impl XTerms {
    pub(crate) fn new(m: &GammaGamma, x: f64) -> XTerms {
        let (p, q, g) = (m.p, m.q, m.gamma);
        let px = p * x;
        let dpxq = digamma(px + q);
        XTerms {
            c: ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q) + q * g.ln() + px * x.ln(),
            d_pxq_px: dpxq - digamma(px),
            d_pxq_q: dpxq - digamma(q),
            ln_x: x.ln(),
            ln_gamma_param: g.ln(),
        }
    }
}

/// ln f of one (x, z̄) given ln z̄ and x z̄; adds w·∂/∂(p, q, γ) into `grad` when given.
#[inline]
pub(crate) fn row_ll_grad(
    m: &GammaGamma,
    c: &XTerms,
    x: f64,
    ln_zbar: f64,
    x_zbar: f64,
    grad: Option<(&mut [f64; 3], f64)>,
) -> f64 {
    let (p, q, g) = (m.p, m.q, m.gamma);
    let px = p * x;
    let l = (g + x_zbar).ln();
    let ll = c.c + (px - 1.0) * ln_zbar - (px + q) * l;
    if let Some((gr, w)) = grad {
        gr[0] += w * x * (c.d_pxq_px + ln_zbar + c.ln_x - l);
        gr[1] += w * (c.d_pxq_q + c.ln_gamma_param - l);
        gr[2] += w * (q / g - (px + q) / (g + x_zbar));
    }
    ll
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::shared::assert_gradient_matches;

    #[test]
    fn log_likelihood_matches_the_density() {
        // f(z̄|x) = Γ(px+q)/(Γ(px)Γ(q)) · γ^q z̄^{px−1} x^{px} / (γ + x z̄)^{px+q}, in plain arithmetic.
        let m = GammaGamma { p: 2.0, q: 3.0, gamma: 4.0 };
        let (x, z): (f64, f64) = (2.0, 5.0);
        let g = |v: f64| ln_gamma(v).exp();
        let px = m.p * x;
        let f = g(px + m.q) / (g(px) * g(m.q)) * m.gamma.powf(m.q) * z.powf(px - 1.0) * x.powf(px)
            / (m.gamma + x * z).powf(px + m.q);
        assert!((m.log_likelihood(x, z) - f.ln()).abs() < 1e-12);
        // Γ(7)/(Γ(4)Γ(3)) = 720/12 = 60; 4^3 · 5^3 · 2^4 / 14^7.
        let hand = 60.0 * 64.0 * 125.0 * 16.0 / 14f64.powi(7);
        assert!((f - hand).abs() < 1e-15);
    }

    #[test]
    fn conditional_spend_hand_computed() {
        let m = GammaGamma { p: 2.0, q: 3.0, gamma: 4.0 };
        // p(γ + x z̄)/(px + q − 1) = 2 · (4 + 10)/(4 + 2) = 14/3.
        assert!((m.conditional_expected_spend(2.0, 5.0).unwrap() - 14.0 / 3.0).abs() < 1e-15);
        assert_eq!(m.conditional_expected_spend(0.0, 0.0), Some(4.0));
        assert_eq!(GammaGamma { q: 0.9, ..m }.population_mean(), None);
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let m = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
        for &(x, z) in &[(1.0, 80.0), (3.0, 230.5), (150.0, 12.0)] {
            let mut gr = [0.0; 3];
            row_ll_grad(&m, &XTerms::new(&m, x), x, f64::ln(z), x * z, Some((&mut gr, 1.0)));
            let ll = |p: &[f64]| GammaGamma::from_slice(p).log_likelihood(x, z);
            assert_gradient_matches(&format!("x={x}"), &m.to_vec(), &gr, ll, 1e-6);
        }
    }
}
