//! The MBG/NBD model of purchase counts (Batislam, Denizel & Filiztekin 2007, "Empirical
//! validation and comparison of models for customer base analysis", *International Journal of
//! Research in Marketing* 24(3); as implemented by lifetimes' `ModifiedBetaGeoFitter`).
//!
//! ## Method
//! As BG/NBD (λ ~ Gamma(r, rate α) purchases while alive; p ~ Beta(a, b)), except that a
//! customer may also drop out right after the *first* purchase, at time 0: with x repeat
//! purchases a customer has survived x + 1 dropout chances. So customers who never came back get
//! P(alive) < 1 — BG/NBD gives them exactly 1.
//!
//! - Likelihood: L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / Γ(r) ·
//!   [(α+T)^{−(r+x)} + a/(b+x) · (α+t_x)^{−(r+x)}], computed in logs like BG/NBD (the two use
//!   the same code with a shift, see [`super::bgnbd`]).
//! - P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^{r+x}) (Batislam et al. 2007,
//!   appendix A eq. 5).
//! - E[Y(t) | x, t_x, T] = P(alive) · (a+b+x)/(a−1) ·
//!   [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))] (Wagner & Hoppe 2008) —
//!   BG/NBD's bracket with b → b+1, evaluated by the same transformed series.
//! - E[X(t)] = P(alive | 0, 0, 0) · the same bracket at x = 0, T = 0
//!   = b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))].
//! - P(at least one purchase in (T, T+t]) = P(alive) · (1 − ((α+T)/(α+T+t))^{r+x}): an alive
//!   customer drops out only right after a purchase, as in BG/NBD.

use super::bgnbd::{self, BgNbd};
use super::shared::model_params;
use serde::Serialize;

/// MBG/NBD parameters: λ ~ Gamma(r, rate α), p ~ Beta(a, b).
///
/// ## Example
/// ```
/// use custlens::clv::mbgnbd::MbgNbd;
/// let m = MbgNbd { r: 0.25, alpha: 4.4, a: 0.9, b: 2.4 };
/// // A one-time buyer may already be gone.
/// let p = m.p_alive(0.0, 0.0, 38.0);
/// assert!(p > 0.0 && p < 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MbgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

model_params!(MbgNbd { r, alpha, a, b });

impl MbgNbd {
    /// The same numbers as a [`BgNbd`] (the likelihood code is shared).
    pub(crate) fn as_bgnbd(&self) -> BgNbd {
        BgNbd { r: self.r, alpha: self.alpha, a: self.a, b: self.b }
    }

    /// ln L for one customer (constants included).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let m = self.as_bgnbd();
        let c = bgnbd::XTerms::with_shift(&m, x, 1.0);
        bgnbd::row_ll_grad(&m, &c, x, t_x, t, None)
    }

    /// P(alive | x, t_x, T), below 1 also for customers without a repeat purchase.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.as_bgnbd().p_alive_given_dropout_odds((self.a / (self.b + x)).ln(), x, t_x, t)
    }

    /// E[Y(t)] of a customer with x repeat purchases observed for T, given alive at T.
    pub fn expected_if_alive(&self, t: f64, x: f64, big_t: f64) -> Option<f64> {
        BgNbd { b: self.b + 1.0, ..self.as_bgnbd() }.expected_if_alive(t, x, big_t)
    }

    /// E[X(t)]: expected repeat purchases in (0, t] of a customer just acquired.
    pub fn expected_purchases(&self, t: f64) -> Option<f64> {
        Some(self.p_alive(0.0, 0.0, 0.0) * self.expected_if_alive(t, 0.0, 0.0)?)
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T+t].
    pub fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        Some(self.p_alive(x, t_x, big_t) * self.expected_if_alive(t, x, big_t)?)
    }

    /// P(at least one purchase in (T, T+t] | x, t_x, T).
    pub fn prob_any_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        self.p_alive(x, t_x, big_t) * self.as_bgnbd().any_purchase_if_alive(t, x, big_t)
    }

    /// The t at which P(at least one purchase in (T, T+t]) reaches `prob`; None when it never does.
    pub fn time_to_purchase_probability(&self, prob: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        self.as_bgnbd().time_to_purchase_probability_given(self.p_alive(x, t_x, big_t), prob, x, big_t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::special::ln_gamma;

    const M: MbgNbd = MbgNbd { r: 0.5, alpha: 6.0, a: 0.9, b: 2.2 };

    /// The likelihood in plain arithmetic (Batislam et al. 2007).
    fn naive(m: &MbgNbd, x: u32, t_x: f64, t: f64) -> f64 {
        let g = |v: f64| ln_gamma(v).exp();
        let beta = |p: f64, q: f64| g(p) * g(q) / g(p + q);
        let xf = x as f64;
        let common = g(m.r + xf) * m.alpha.powf(m.r) / g(m.r) * beta(m.a, m.b + xf + 1.0) / beta(m.a, m.b);
        common * ((m.alpha + t).powf(-(m.r + xf)) + m.a / (m.b + xf) * (m.alpha + t_x).powf(-(m.r + xf)))
    }

    #[test]
    fn log_likelihood_matches_the_formula() {
        for &(x, t_x, t) in &[(0u32, 0.0, 30.0), (1, 2.0, 30.0), (4, 25.0, 30.0), (0, 0.0, 0.0)] {
            let want = naive(&M, x, t_x, t).ln();
            let got = M.log_likelihood(x as f64, t_x, t);
            assert!((got - want).abs() < 1e-12, "({x}, {t_x}, {t}): {got} vs {want}");
        }
    }

    #[test]
    fn one_time_buyers_can_be_gone_and_fresh_customers_follow_the_unconditional_curve() {
        // x = 0, T = 0: P(alive) = b/(a+b), the chance of surviving the first dropout coin.
        assert!((M.p_alive(0.0, 0.0, 0.0) - 2.2 / 3.1).abs() < 1e-15);
        let e = M.expected_purchases(10.0).unwrap();
        assert!((M.conditional_expected_purchases(10.0, 0.0, 0.0, 0.0).unwrap() - e).abs() < 1e-15);
        // E[X(t)] = b/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))] with a plain series.
        let (t, z) = (10.0, 10.0 / 16.0);
        let (mut term, mut f) = (1.0, 1.0);
        for n in 0..5000 {
            let nf = n as f64;
            term *= (M.r + nf) * (M.b + 1.0 + nf) / ((M.a + M.b + nf) * (nf + 1.0)) * z;
            f += term;
        }
        let want = M.b / (M.a - 1.0) * (1.0 - (M.alpha / (M.alpha + t)).powf(M.r) * f);
        assert!((e - want).abs() < 1e-12 * want.abs(), "{e} vs {want}");
    }

    #[test]
    fn next_purchase_time_solves_its_probability() {
        let (x, t_x, t) = (3.0, 20.0, 21.0);
        let s = M.time_to_purchase_probability(0.5, x, t_x, t).unwrap();
        assert!((M.prob_any_purchase(s, x, t_x, t) - 0.5).abs() < 1e-12);
    }
}
