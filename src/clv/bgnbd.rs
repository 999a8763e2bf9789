//! The BG/NBD model of purchase counts (Fader, Hardie & Lee 2005).
//!
//! ## Method
//! While alive, a customer buys at Poisson rate λ; after each repeat purchase they drop out with
//! probability p. Across customers λ ~ Gamma(r, rate α) and p ~ Beta(a, b). A customer's
//! calibration data are x repeat purchases, the time of the last one t_x and the time observed
//! T, all measured from the first purchase.
//!
//! - Likelihood (FHL 2005, eq. 6; Fader, Hardie & Lee 2007 "Implementing the BG/NBD model",
//!   brucehardie.com note 004, section 7):
//!   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^{r+x}) +
//!   δ_{x>0} B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^{r+x}),
//!   computed in logs as A₁ + A₂ + ln(e^{A₃} + δ e^{A₄}) with the larger exponent factored out,
//!   so x in the hundreds and T in the thousands do not overflow.
//! - P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^{r+x})
//!   (Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD model", note 021).
//! - E[X(t)] (FHL 2005, eq. 9) and E[Y(t) | x, t_x, T] (eq. 10): the latter is
//!   P(alive) · (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; a+b+x−1; z)],
//!   z = t/(α+T+t). Here ₂F₁ goes through Euler's transformation
//!   ₂F₁(A, B; C; z) = (1−z)^{C−A−B} ₂F₁(C−A, C−B; C; z), which turns the bracket into
//!   1 − (1−z)^{a−1} ₂F₁(a+b−1−r, a−1; a+b+x−1; z): a series whose terms fall like n^{a−r−x−2} zⁿ,
//!   fast even for large x, and which is finite at a = 1 once (a−1) is divided out
//!   (see [`super::special::hyp2f1_minus_one_over_b`]).
//! - P(at least one purchase in (T, T+t] | x, t_x, T) = P(alive) · (1 − ((α+T)/(α+T+t))^{r+x}):
//!   alive at T, λ | data ~ Gamma(r+x, α+T), and an alive customer cannot drop out before buying.
//!
//! Time is in whatever unit the data are in (days or weeks); α carries that unit.

use super::shared::model_params;
use super::special::{digamma, hyp2f1_minus_one_over_b, ln_gamma, one_minus_exp_over, sigmoid};
use serde::Serialize;

/// Terms of the ₂F₁ series before giving up (z is at most t/(α+t); far below this in practice).
const MAX_SERIES_TERMS: usize = 2_000_000;

/// BG/NBD parameters: λ ~ Gamma(r, rate α), p ~ Beta(a, b).
///
/// ## Example
/// ```
/// use custlens::clv::bgnbd::BgNbd;
/// // Fader, Hardie & Lee (2005), CDNOW, weeks.
/// let m = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/// let p = m.p_alive(2.0, 30.43, 38.86);
/// assert!(p > 0.7 && p < 0.75);
/// assert_eq!(m.p_alive(0.0, 0.0, 38.86), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

model_params!(BgNbd { r, alpha, a, b });

impl BgNbd {
    /// ln L for one customer (the paper's likelihood, no constant dropped).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let c = XTerms::new(self, x);
        row_ll_grad(self, &c, x, t_x, t, None)
    }

    /// P(alive | x, t_x, T); 1 for customers without a repeat purchase.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        self.p_alive_given_dropout_odds((self.a / (self.b + x - 1.0)).ln(), x, t_x, t)
    }

    /// 1 / (1 + e^d), d = `ln_odds` + (r+x) ln((α+T)/(α+t_x)): P(alive) of the BG/NBD family, whose
    /// models differ only in the odds of having dropped out after the last purchase (BG/NBD:
    /// a/(b+x−1); MBG/NBD: a/(b+x)).
    pub(crate) fn p_alive_given_dropout_odds(&self, ln_odds: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let log_div = ln_odds + (self.r + x) * ((self.alpha + t) / (self.alpha + t_x)).ln();
        sigmoid(-log_div)
    }

    /// E[Y(t)] for a customer with x repeat purchases observed for T, *given alive at T*:
    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))].
    /// None when the hypergeometric series does not converge.
    pub fn expected_if_alive(&self, t: f64, x: f64, big_t: f64) -> Option<f64> {
        if t <= 0.0 {
            return Some(0.0);
        }
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let l = ((alpha + big_t) / (alpha + big_t + t)).ln(); // ln(1 − z) ≤ 0
        let z = t / (alpha + big_t + t);
        let am1 = a - 1.0;
        // [1 − (1−z)^{a−1}] / (a−1), continuous at a = 1 (→ −ln(1−z)).
        let e1 = one_minus_exp_over(am1, l);
        let s = hyp2f1_minus_one_over_b(a + b - 1.0 - r, am1, a + b + x - 1.0, z, MAX_SERIES_TERMS)?;
        let v = (a + b + x - 1.0) * (e1 - (am1 * l).exp() * s);
        v.is_finite().then_some(v.max(0.0))
    }

    /// E[X(t)]: expected repeat purchases in (0, t] of a customer just acquired (FHL 2005, eq. 9).
    pub fn expected_purchases(&self, t: f64) -> Option<f64> {
        self.expected_if_alive(t, 0.0, 0.0)
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] (FHL 2005, eq. 10).
    pub fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        Some(self.p_alive(x, t_x, big_t) * self.expected_if_alive(t, x, big_t)?)
    }

    /// P(at least one purchase in (T, T+t] | x, t_x, T).
    pub fn prob_any_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        self.p_alive(x, t_x, big_t) * self.any_purchase_if_alive(t, x, big_t)
    }

    /// P(at least one purchase in (T, T+t] | alive at T) = 1 − ((α+T)/(α+T+t))^{r+x}, for every
    /// model of the BG/NBD family (an alive customer drops out only right after a purchase).
    pub(crate) fn any_purchase_if_alive(&self, t: f64, x: f64, big_t: f64) -> f64 {
        let none_if_alive = ((self.r + x) * ((self.alpha + big_t) / (self.alpha + big_t + t)).ln()).exp();
        1.0 - none_if_alive
    }

    /// The t at which P(at least one purchase in (T, T+t]) reaches `prob`; None when it never
    /// does (it tends to P(alive) as t grows).
    pub fn time_to_purchase_probability(&self, prob: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        self.time_to_purchase_probability_given(self.p_alive(x, t_x, big_t), prob, x, big_t)
    }

    /// [`BgNbd::time_to_purchase_probability`] given P(alive) = `pa`: the BG/NBD family solves
    /// `pa` · [`BgNbd::any_purchase_if_alive`] = `prob` in closed form.
    pub(crate) fn time_to_purchase_probability_given(&self, pa: f64, prob: f64, x: f64, big_t: f64) -> Option<f64> {
        if !(prob > 0.0 && prob < pa) {
            return None;
        }
        // ((α+T)/(α+T+t))^{r+x} = 1 − prob/P(alive).
        let k = (1.0 - prob / pa).ln() / (self.r + x); // < 0
        let t = (self.alpha + big_t) * (-k).exp_m1();
        (t.is_finite() && t >= 0.0).then_some(t)
    }
}

/// The parts of ln L and its gradient that depend only on x (shared by every customer with the
/// same x during one likelihood evaluation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct XTerms {
    /// A₁ + A₂ = ln Γ(r+x) − ln Γ(r) + r ln α + ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x).
    a12: f64,
    /// ln a − ln(b+x−1) (x > 0).
    c4: f64,
    /// ∂(A₁+A₂)/∂r without the ln α: ψ(r+x) − ψ(r).
    d_r: f64,
    /// ∂(A₁+A₂)/∂a = ψ(a+b) − ψ(a+b+x).
    d_a: f64,
    /// ∂(A₁+A₂)/∂b = ψ(a+b) + ψ(b+x) − ψ(b) − ψ(a+b+x).
    d_b: f64,
    ln_alpha: f64,
    r_over_alpha: f64,
    inv_a: f64,
    /// 1/(b+x−1) for x > 0, else 0.
    inv_bx1: f64,
    /// Whether the customer can have dropped out (BG/NBD: after a repeat purchase, x > 0;
    /// MBG/NBD: always, also right after the first purchase).
    drops: bool,
}

impl XTerms {
    pub(crate) fn new(m: &BgNbd, x: f64) -> XTerms {
        XTerms::with_shift(m, x, 0.0)
    }

    /// k = 0: BG/NBD. k = 1: MBG/NBD (Batislam, Denizel & Filiztekin 2007), whose likelihood is
    /// BG/NBD's with B(a, b+x) → B(a, b+x+1), (b+x−1) → (b+x), and the dropout term present for
    /// every x (see [`super::mbgnbd`]).
    pub(crate) fn with_shift(m: &BgNbd, x: f64, k: f64) -> XTerms {
        let (r, alpha, a, b) = (m.r, m.alpha, m.a, m.b);
        let a12 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) + ln_gamma(b + x + k)
            - ln_gamma(b)
            - ln_gamma(a + b + x + k);
        let drops = x > 0.0 || k > 0.0;
        let c4 = if drops { a.ln() - (b + x - 1.0 + k).ln() } else { f64::NEG_INFINITY };
        let (pab, pabx) = (digamma(a + b), digamma(a + b + x + k));
        XTerms {
            a12,
            c4,
            d_r: digamma(r + x) - digamma(r),
            d_a: pab - pabx,
            d_b: pab + digamma(b + x + k) - digamma(b) - pabx,
            ln_alpha: alpha.ln(),
            r_over_alpha: r / alpha,
            inv_a: 1.0 / a,
            inv_bx1: if drops { 1.0 / (b + x - 1.0 + k) } else { 0.0 },
            drops,
        }
    }
}

/// ln L of one (x, t_x, T) and, when `grad` is given, adds w·∂lnL/∂(r, α, a, b) into it.
#[inline]
pub(crate) fn row_ll_grad(m: &BgNbd, c: &XTerms, x: f64, t_x: f64, t: f64, grad: Option<(&mut [f64; 4], f64)>) -> f64 {
    let at = (m.alpha + t, m.alpha + t_x);
    row_core(m, c, x, (at.0.ln(), 1.0 / at.0), (at.1.ln(), 1.0 / at.1), grad)
}

/// [`row_ll_grad`] given (ln(α+T), 1/(α+T)) and (ln(α+t_x), 1/(α+t_x)), which the fit tabulates
/// once per distinct T and t_x per evaluation.
#[inline]
pub(crate) fn row_core(
    m: &BgNbd,
    c: &XTerms,
    x: f64,
    (l_t, inv_t): (f64, f64),
    (l_tx, inv_tx): (f64, f64),
    grad: Option<(&mut [f64; 4], f64)>,
) -> f64 {
    let rx = m.r + x;
    let a3 = -rx * l_t;
    // ln(e^{A3} + e^{A4}) = max + ln1p(e^{−|A3−A4|}); w4 = e^{A4} / (e^{A3} + e^{A4}).
    let (ll, w4) = if c.drops {
        let a4 = c.c4 - rx * l_tx;
        let d = a4 - a3;
        let e = (-d.abs()).exp();
        if d > 0.0 {
            (c.a12 + a4 + e.ln_1p(), 1.0 / (1.0 + e))
        } else {
            (c.a12 + a3 + e.ln_1p(), e / (1.0 + e))
        }
    } else {
        (c.a12 + a3, 0.0)
    };
    if let Some((g, w)) = grad {
        let w3 = 1.0 - w4;
        g[0] += w * (c.d_r + c.ln_alpha - w3 * l_t - w4 * l_tx);
        g[1] += w * (c.r_over_alpha - rx * (w3 * inv_t + w4 * inv_tx));
        g[2] += w * (c.d_a + w4 * c.inv_a);
        g[3] += w * (c.d_b - w4 * c.inv_bx1);
    }
    ll
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::shared::assert_gradient_matches;

    const M: BgNbd = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

    /// The likelihood written directly from FHL (2005) eq. 6, with Γ and B in plain arithmetic.
    fn naive_likelihood(m: &BgNbd, x: u32, t_x: f64, t: f64) -> f64 {
        let g = |v: f64| ln_gamma(v).exp();
        let beta = |p: f64, q: f64| g(p) * g(q) / g(p + q);
        let xf = x as f64;
        let common = g(m.r + xf) * m.alpha.powf(m.r) / g(m.r);
        let mut l = beta(m.a, m.b + xf) / beta(m.a, m.b) * common / (m.alpha + t).powf(m.r + xf);
        if x > 0 {
            l += beta(m.a + 1.0, m.b + xf - 1.0) / beta(m.a, m.b) * common / (m.alpha + t_x).powf(m.r + xf);
        }
        l
    }

    #[test]
    fn log_likelihood_matches_the_formula_on_small_cases() {
        for &(x, t_x, t) in &[(0u32, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (5, 12.0, 20.0), (0, 0.0, 0.0)] {
            let want = naive_likelihood(&M, x, t_x, t).ln();
            let got = M.log_likelihood(x as f64, t_x, t);
            assert!((got - want).abs() < 1e-12, "({x}, {t_x}, {t}): {got} vs {want}");
        }
    }

    #[test]
    fn log_likelihood_has_no_overflow_at_large_x_and_t() {
        let m = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let ll = m.log_likelihood(400.0, 2999.0, 3000.0);
        assert!(ll.is_finite() && ll < 0.0, "{ll}");
        let pa = m.p_alive(400.0, 100.0, 3000.0);
        assert!(pa.is_finite() && (0.0..=1.0).contains(&pa));
        let e = m.conditional_expected_purchases(365.0, 400.0, 2999.0, 3000.0).unwrap();
        assert!(e.is_finite() && e > 0.0, "{e}");
    }

    #[test]
    fn p_alive_hand_computed() {
        // x = 1, t_x = 1, T = 3: 1 / (1 + a/b · ((α+3)/(α+1))^{r+1}).
        let m = BgNbd { r: 1.0, alpha: 1.0, a: 1.0, b: 2.0 };
        let want = 1.0 / (1.0 + 0.5 * 2f64.powi(2));
        assert!((m.p_alive(1.0, 1.0, 3.0) - want).abs() < 1e-15);
    }

    #[test]
    fn expected_purchases_matches_direct_hypergeometric_formula() {
        // E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))] with a plain series.
        let m = BgNbd { r: 0.5, alpha: 3.0, a: 1.7, b: 2.2 };
        let t = 2.0;
        let z = t / (m.alpha + t);
        let (mut term, mut f) = (1.0, 1.0);
        for n in 0..2000 {
            let nf = n as f64;
            term *= (m.r + nf) * (m.b + nf) / ((m.a + m.b - 1.0 + nf) * (nf + 1.0)) * z;
            f += term;
        }
        let want = (m.a + m.b - 1.0) / (m.a - 1.0) * (1.0 - (m.alpha / (m.alpha + t)).powf(m.r) * f);
        let got = m.expected_purchases(t).unwrap();
        assert!((got - want).abs() < 1e-13 * want, "{got} vs {want}");
        // a = 1 exactly is finite and between its neighbours.
        let at = |a: f64| BgNbd { a, ..m }.expected_purchases(t).unwrap();
        let (lo, mid, hi) = (at(1.0 - 1e-6), at(1.0), at(1.0 + 1e-6));
        assert!((mid - lo).abs() < 1e-5 && (mid - hi).abs() < 1e-5, "{lo} {mid} {hi}");
    }

    #[test]
    fn conditional_expectation_for_a_fresh_customer_is_the_unconditional_one() {
        let m = BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 };
        let a = m.conditional_expected_purchases(90.0, 0.0, 0.0, 0.0).unwrap();
        assert!((a - m.expected_purchases(90.0).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn next_purchase_time_solves_its_probability() {
        let (x, t_x, t) = (4.0, 30.0, 35.0);
        let pa = M.p_alive(x, t_x, t);
        assert!(pa > 0.5);
        let s = M.time_to_purchase_probability(0.5, x, t_x, t).unwrap();
        assert!((M.prob_any_purchase(s, x, t_x, t) - 0.5).abs() < 1e-12);
        // A customer whose P(alive) is below one half never reaches it.
        assert!(M.time_to_purchase_probability(0.5, 4.0, 1.0, 35.0).is_none());
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let m = BgNbd { r: 0.6, alpha: 7.0, a: 0.9, b: 2.1 };
        for &(x, t_x, t) in &[(0.0, 0.0, 30.0), (3.0, 20.0, 30.0), (120.0, 299.0, 300.0), (1.0, 0.5, 0.5)] {
            let mut g = [0.0; 4];
            row_ll_grad(&m, &XTerms::new(&m, x), x, t_x, t, Some((&mut g, 1.0)));
            let ll = |p: &[f64]| BgNbd::from_slice(p).log_likelihood(x, t_x, t);
            assert_gradient_matches(&format!("x={x}"), &m.to_vec(), &g, ll, 1e-6);
        }
    }
}
