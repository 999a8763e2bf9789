//! The Pareto/NBD model of purchase counts (Schmittlein, Morrison & Colombo 1987, "Counting Your
//! Customers: Who Are They and What Will They Do Next?", *Management Science* 33(1); in the
//! formulation of Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related
//! Expressions", brucehardie.com note 009, and Fader, Hardie & Lee 2005, "Counting Your Customers
//! the Easy Way", *Marketing Science* 24(2), which reports the CDNOW fit).
//!
//! ## Method
//! While alive a customer buys at Poisson rate λ; the lifetime is Exp(μ). Across customers
//! λ ~ Gamma(r, rate α) and μ ~ Gamma(s, rate β), independent.
//!
//! - **Likelihood** (note 009, eq. 18–20). Given (λ, μ), L = λ^x e^{−(λ+μ)T} + λ^x μ ∫_{t_x}^T
//!   e^{−(λ+μ)y} dy; mixing over the gammas,
//!   L = Γ(r+x) α^r β^s / Γ(r) · [(α+T)^{−(r+x)} (β+T)^{−s} + s (F(t_x) − F(T))], with
//!   F(t) = ∫_t^∞ (α+y)^{−(r+x)} (β+y)^{−(s+1)} dy
//!   = (α+t)^{−(r+s+x)}/(r+s+x) · ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+t)) for α ≥ β (the paper's
//!   A₀ is (r+s+x)(F(t_x) − F(T))); for α < β the roles of (α, r+x) and (β, s+1) swap.
//! - **Evaluating F stably in every region.** Write F = ∫_t^∞ (M+y)^{−p} (m+y)^{−b} dy with
//!   M = max(α, β) (exponent p) and m = min(α, β) (exponent b), z = (M−m)/(M+t) ∈ [0, 1). Euler's
//!   transformation gives F = (M+t)^{−p} (m+t)^{1−b} / (p+b−1) · ₂F₁(1, p; p+b; z), whose series
//!   has positive terms at most zⁿ (no overflow for x in the hundreds, unlike the untransformed
//!   series whose terms grow like ((M+t)/(m+t))^b) and a rigorous tail bound
//!   ([`super::special::ln_hyp2f1_one`]). When it converges slowly — z near 1, i.e. t small and
//!   α, β far apart, with a small b — F is split at y₁ = M − 2m (where z = 1/2):
//!   ∫_{y₁}^∞ by the same series at z = 1/2, and ∫_t^{y₁} by adaptive Gauss–Kronrod quadrature
//!   in w = ln((m+y)/(m+t)), where the integrand is smooth, log-concave, and free of the
//!   near-singularity at z = 1. Both branches (α ≥ β, α < β) go through the same code with the
//!   roles swapped. The values are checked against 50-digit mpmath references
//!   (`tests/fixtures/clv/make_pareto_reference.py`).
//! - **Gradient: analytic.** ∂ ln F / ∂(p, b, M, m) come from the same series (Σ tₙ hₙ with
//!   hₙ = Σ_{k<n} 1/(e+k) for the parameters, Σ n tₙ / z for z) or, on the quadrature piece,
//!   from integrating −ln(M+y), −ln(m+y), −p/(M+y), −b/(m+y) times the integrand on the same
//!   nodes. Numeric differences would cost 8 more likelihood passes per gradient and lose
//!   half the digits that the fit's convergence test and the Hessian (itself a difference of
//!   gradients) rely on.
//! - **Compression.** F depends on (x, t) only: a likelihood evaluation computes it once per
//!   distinct (x, t_x) and (x, T) pair — far fewer than customers or even (x, t_x, T) rows.
//! - P(alive | x, t_x, T) = (α+T)^{−(r+x)} (β+T)^{−s} / [(α+T)^{−(r+x)} (β+T)^{−s} + s(F(t_x) − F(T))]
//!   (note 009, eq. 36–37).
//! - E[Y(t) | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^{s−1}]
//!   (note 009, eq. 41; the s → 1 limit is (r+x)(β+T)/(α+T) · ln((β+T+t)/(β+T))), and
//!   E[X(t)] = rβ/(α(s−1)) · [1 − (β/(β+t))^{s−1}] (eq. 27).
//! - P(at least one purchase in (T, T+t] | x, t_x, T) = P(alive) · (1 − Q(t)), Q(t) =
//!   ((α+T)/(α+T+t))^{r+x} ((β+T)/(β+T+t))^s + s (α+T)^{r+x} (β+T)^s (F(T) − F(T+t)): given alive
//!   at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T), and no purchase happens if the customer
//!   dies first.

use super::shared::model_params;
use super::special::{digamma, integrate_gk, ln_gamma, ln_hyp2f1_one, one_minus_exp_over, sigmoid};
use serde::Serialize;

/// Series terms before switching to quadrature (z ≤ 0.9 never needs more than ~460).
const SERIES_TERMS: usize = 800;

/// Pareto/NBD parameters: λ ~ Gamma(r, rate α), μ ~ Gamma(s, rate β).
///
/// ## Example
/// ```
/// use custlens::clv::pareto_nbd::ParetoNbd;
/// // Fader, Hardie & Lee (2005), CDNOW, weeks.
/// let m = ParetoNbd { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
/// let p = m.p_alive(2.0, 30.43, 38.86).unwrap();
/// assert!(p > 0.0 && p < 1.0);
/// // A more recent last purchase means more likely alive.
/// assert!(m.p_alive(2.0, 38.0, 38.86).unwrap() > p);
/// assert!(m.log_likelihood(0.0, 0.0, 38.86).is_finite());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// ln F(x, t) and ∂ ln F / ∂(r, α, s, β).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tail {
    pub ln: f64,
    pub d: [f64; 4],
}

model_params!(ParetoNbd { r, alpha, s, beta });

impl ParetoNbd {
    /// ln F(x, t), F(t) = ∫_t^∞ (α+y)^{−(r+x)} (β+y)^{−(s+1)} dy, with its gradient; None when
    /// neither the series nor the quadrature converges (not seen in practice).
    pub(crate) fn tail(&self, x: f64, t: f64) -> Option<Tail> {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        if alpha >= beta {
            // M = α (exponent p = r+x), m = β (exponent b = s+1).
            let (ln, d) = general_tail(r + x, s + 1.0, alpha, beta, t)?;
            Some(Tail { ln, d: [d[0], d[2], d[1], d[3]] })
        } else {
            // M = β (exponent p = s+1), m = α (exponent b = r+x).
            let (ln, d) = general_tail(s + 1.0, r + x, beta, alpha, t)?;
            Some(Tail { ln, d: [d[1], d[3], d[0], d[2]] })
        }
    }

    /// ln F(x, t) alone (the public, tested form of the hypergeometric term).
    ///
    /// F(t) = ∫_t^∞ (α+y)^{−(r+x)} (β+y)^{−(s+1)} dy = (α+t)^{−(r+s+x)}/(r+s+x) ·
    /// ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+t)) for α ≥ β. None when the numerics fail.
    pub fn ln_f(&self, x: f64, t: f64) -> Option<f64> {
        self.tail(x, t).map(|t| t.ln)
    }

    /// ln L for one customer (note 009 eq. 18, constants included); NaN when F cannot be
    /// evaluated.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let c = XTerms::new(self, x);
        match (self.tail(x, t_x), self.tail(x, t)) {
            (Some(ftx), Some(ft)) => row_ll_grad(self, &c, TTerms::new(self, t), &ftx, &ft, None),
            _ => f64::NAN,
        }
    }

    /// ln of the "alive at T" and "died in (t_x, T]" terms of L without the common factor.
    fn parts(&self, x: f64, t_x: f64, t: f64) -> Option<(f64, f64)> {
        let ln1 = -(self.r + x) * (self.alpha + t).ln() - self.s * (self.beta + t).ln();
        let (ftx, ft) = (self.tail(x, t_x)?, self.tail(x, t)?);
        Some((ln1, self.s.ln() + ln_diff(ftx.ln, ft.ln)))
    }

    /// P(alive | x, t_x, T); None when F cannot be evaluated.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let (ln1, ln2) = self.parts(x, t_x, t)?;
        Some(sigmoid(ln1 - ln2))
    }

    /// E[Y(t)] for a customer with x repeat purchases observed for T, given alive at T:
    /// (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^{s−1}].
    pub fn expected_if_alive(&self, t: f64, x: f64, big_t: f64) -> Option<f64> {
        if t <= 0.0 {
            return Some(0.0);
        }
        let bt = self.beta + big_t;
        let l = -(t / bt).ln_1p(); // ln((β+T)/(β+T+t)) < 0
        let sm1 = self.s - 1.0;
        let bracket = one_minus_exp_over(sm1, l);
        let v = (self.r + x) * bt / (self.alpha + big_t) * bracket;
        (v.is_finite() && v >= 0.0).then_some(v)
    }

    /// E[X(t)]: expected repeat purchases in (0, t] of a customer just acquired (note 009, eq. 27).
    pub fn expected_purchases(&self, t: f64) -> Option<f64> {
        self.expected_if_alive(t, 0.0, 0.0)
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] (note 009, eq. 41).
    pub fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        Some(self.p_alive(x, t_x, big_t)? * self.expected_if_alive(t, x, big_t)?)
    }

    /// 1 − Q(t): P(at least one purchase in (T, T+t] | alive at T), with ln F(x, T) given.
    fn any_if_alive(&self, t: f64, x: f64, big_t: f64, ln_ft: f64) -> Option<f64> {
        let (at, bt) = (self.alpha + big_t, self.beta + big_t);
        let survive = ((self.r + x) * -(t / at).ln_1p() + self.s * -(t / bt).ln_1p()).exp();
        let lnc = self.s.ln() + (self.r + x) * at.ln() + self.s * bt.ln();
        let ln_later = self.tail(x, big_t + t)?.ln;
        let die_first = (lnc + ln_ft).exp() - (lnc + ln_later).exp();
        Some((1.0 - survive - die_first).clamp(0.0, 1.0))
    }

    /// P(at least one purchase in (T, T+t] | x, t_x, T).
    pub fn prob_any_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> Option<f64> {
        let ln_ft = self.tail(x, big_t)?.ln;
        Some(self.p_alive(x, t_x, big_t)? * self.any_if_alive(t, x, big_t, ln_ft)?)
    }

    /// The t at which P(at least one purchase in (T, T+t]) reaches `prob`; None when it never
    /// does (its limit is P(alive) · P(the next purchase comes before death)) or lies beyond
    /// `max_t`.
    ///
    /// ## Method
    /// Newton's method from t = 0 on the concave, increasing P(any purchase by t), whose
    /// derivative is the closed-form density P(alive) · (r+x)/(α+T+t) · ((α+T)/(α+T+t))^{r+x}
    /// ((β+T)/(β+T+t))^s: the iterates increase monotonically to the root.
    pub fn time_to_purchase_probability(&self, prob: f64, x: f64, t_x: f64, big_t: f64, max_t: f64) -> Option<f64> {
        let pa = self.p_alive(x, t_x, big_t)?;
        if !(prob > 0.0 && prob < pa) {
            return None;
        }
        let goal = prob / pa;
        let ln_ft = self.tail(x, big_t)?.ln;
        let (at, bt) = (self.alpha + big_t, self.beta + big_t);
        let lnc = self.s.ln() + (self.r + x) * at.ln() + self.s * bt.ln();
        // The limit as t → ∞: 1 − P(death before the next purchase).
        if goal >= 1.0 - (lnc + ln_ft).exp() {
            return None;
        }
        let mut t = 0.0;
        for _ in 0..200 {
            let f = self.any_if_alive(t, x, big_t, ln_ft)?;
            let dens = (self.r + x) / (at + t) * ((self.r + x) * -(t / at).ln_1p() + self.s * -(t / bt).ln_1p()).exp();
            let step = (goal - f) / dens;
            if !step.is_finite() {
                return None;
            }
            t += step.max(0.0);
            if t > max_t {
                return None;
            }
            if step.abs() <= 1e-12 * (1.0 + t) {
                return Some(t);
            }
        }
        None
    }
}

/// ln(e^a − e^b) for a ≥ b (−∞ when equal).
fn ln_diff(a: f64, b: f64) -> f64 {
    if b >= a {
        f64::NEG_INFINITY
    } else {
        a + (-(b - a).exp_m1()).ln()
    }
}

/// ln ∫_t^∞ (M+y)^{−p} (m+y)^{−b} dy (M ≥ m > 0; p, b > 0) and its derivatives with respect to
/// (p, b, M, m); see the module docs.
pub(crate) fn general_tail(p: f64, b: f64, big_m: f64, m: f64, t: f64) -> Option<(f64, [f64; 4])> {
    tail_series(p, b, big_m, m, t, SERIES_TERMS).or_else(|| tail_quadrature(p, b, big_m, m, t))
}

/// F = (M+t)^{−p} (m+t)^{1−b} / (p+b−1) · ₂F₁(1, p; p+b; z), z = (M−m)/(M+t).
fn tail_series(p: f64, b: f64, big_m: f64, m: f64, t: f64, max_terms: usize) -> Option<(f64, [f64; 4])> {
    let (a, bb) = (big_m + t, m + t);
    let z = (big_m - m) / a;
    let c = p + b - 1.0;
    let (ln_phi, d) = ln_hyp2f1_one(p, p + b, z, max_terms)?;
    let (la, lb) = (a.ln(), bb.ln());
    let ln = -p * la + (1.0 - b) * lb - c.ln() + ln_phi;
    let grad =
        [-la - 1.0 / c + d[0] + d[1], -lb - 1.0 / c + d[1], -p / a + d[2] * bb / (a * a), (1.0 - b) / bb - d[2] / a];
    ln.is_finite().then_some((ln, grad))
}

/// F split at y₁ = M − 2m: the series beyond (z = 1/2 there) plus Gauss–Kronrod on [t, y₁].
fn tail_quadrature(p: f64, b: f64, big_m: f64, m: f64, t: f64) -> Option<(f64, [f64; 4])> {
    let y1 = big_m - 2.0 * m;
    if y1.is_nan() || y1 <= t {
        return None;
    }
    let (ln_tail, d_tail) = tail_series(p, b, big_m, m, y1, SERIES_TERMS)?;
    let gap = big_m - m;
    let bt = m + t;
    let lb = bt.ln();
    let w_max = (gap / bt).ln();
    // ln of the integrand in w (dy = (m+y) dw): g(w) = (1−b) ln(m+y) − p ln(M+y), concave in w,
    // largest at w*. The integrand is computed relative to it as
    // g(w) − g(w*) = (1−b)(w − w*) − p ln1p((m+t)(e^w − e^{w*}) / (M+y*)), which keeps full
    // relative precision even when p ln(M+y) is in the thousands (x in the hundreds).
    let w_star = if b < 1.0 { ((1.0 - b) * gap / ((p + b - 1.0) * bt)).ln() } else { 0.0 };
    let w_star = if w_star.is_finite() { w_star.clamp(0.0, w_max) } else { 0.0 };
    let (e_star, big_star) = (w_star.exp(), gap + bt * w_star.exp());
    let g_max = (1.0 - b) * (lb + w_star) - p * big_star.ln();
    let f = |w: f64| {
        let my = bt * w.exp();
        let big = gap + my;
        let rise = bt * (w.exp() - e_star) / big_star;
        let v = ((1.0 - b) * (w - w_star) - p * rise.ln_1p()).exp();
        [v, -v * big.ln(), -v * (lb + w), -v * p / big, -v * b / my]
    };
    let panels = (w_max.ceil() as usize).clamp(1, 64);
    let q = integrate_gk(f, 0.0, w_max, panels, 1e-14, 600)?;
    if q[0].is_nan() || q[0] <= 0.0 {
        return None;
    }
    let ln_q = g_max + q[0].ln();
    let top = ln_q.max(ln_tail);
    let (wq, wt) = ((ln_q - top).exp(), (ln_tail - top).exp());
    let total = wq + wt;
    let grad = std::array::from_fn(|k| (wq * q[k + 1] / q[0] + wt * d_tail[k]) / total);
    Some((top + total.ln(), grad))
}

/// The parts of ln L and its gradient that depend only on x.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XTerms {
    /// ln Γ(r+x) − ln Γ(r) + r ln α + s ln β.
    ln_k: f64,
    /// ∂/∂(r, α, s, β) of `ln_k`.
    d_k: [f64; 4],
    rx: f64,
    ln_s: f64,
}

impl XTerms {
    pub(crate) fn new(m: &ParetoNbd, x: f64) -> XTerms {
        let (r, alpha, s, beta) = (m.r, m.alpha, m.s, m.beta);
        XTerms {
            ln_k: ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln(),
            d_k: [digamma(r + x) - digamma(r) + alpha.ln(), r / alpha, beta.ln(), s / beta],
            rx: r + x,
            ln_s: s.ln(),
        }
    }
}

/// ln(α+T), ln(β+T), 1/(α+T), 1/(β+T) of one T.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TTerms {
    la: f64,
    lb: f64,
    ia: f64,
    ib: f64,
}

impl TTerms {
    pub(crate) fn new(m: &ParetoNbd, t: f64) -> TTerms {
        let (a, b) = (m.alpha + t, m.beta + t);
        TTerms { la: a.ln(), lb: b.ln(), ia: 1.0 / a, ib: 1.0 / b }
    }

    /// ∂/∂(r, α, s, β) of the "alive at T" term −(r+x) ln(α+T) − s ln(β+T) (`rx` = r+x).
    fn d_alive(&self, rx: f64, s: f64) -> [f64; 4] {
        [-self.la, -rx * self.ia, -self.lb, -s * self.ib]
    }
}

/// ln L of one (x, t_x, T) given F(x, t_x) and F(x, T); adds w·∂lnL/∂(r, α, s, β) into `grad`.
#[inline]
pub(crate) fn row_ll_grad(
    m: &ParetoNbd,
    c: &XTerms,
    tt: TTerms,
    f_tx: &Tail,
    f_t: &Tail,
    grad: Option<(&mut [f64; 4], f64)>,
) -> f64 {
    let ln1 = -c.rx * tt.la - m.s * tt.lb;
    if f_t.ln >= f_tx.ln {
        // t_x = T: nothing can have happened after the last purchase.
        if let Some((g, w)) = grad {
            let d1 = tt.d_alive(c.rx, m.s);
            for k in 0..4 {
                g[k] += w * (c.d_k[k] + d1[k]);
            }
        }
        return c.ln_k + ln1;
    }
    // With ρ = F(T)/F(t_x) and A = (alive term)/(s F(t_x)): L = K · s F(t_x) · (A + 1 − ρ), which
    // needs one exp_m1, one exp and one ln per row (this loop is the fit's hot path).
    let dl = f_t.ln - f_tx.ln; // < 0
    let om = -dl.exp_m1(); // 1 − ρ, exact even when ρ ≈ 1
    let ln_sf = c.ln_s + f_tx.ln;
    let ln_a = ln1 - ln_sf;
    // inv = 1/(A + 1 − ρ), w1 = A/(A + 1 − ρ), ln_tot = ln(A + 1 − ρ), without overflow.
    let (inv, w1, ln_tot) = if ln_a <= 0.0 {
        let a = ln_a.exp();
        let tot = a + om;
        (1.0 / tot, a / tot, tot.ln())
    } else {
        let e = (-ln_a).exp();
        let den = 1.0 + om * e;
        (e / den, 1.0 / den, ln_a + (om * e).ln_1p())
    };
    if let Some((g, w)) = grad {
        let rho = 1.0 - om;
        let d1 = tt.d_alive(c.rx, m.s);
        for k in 0..4 {
            let mut d = c.d_k[k] + w1 * d1[k] + (f_tx.d[k] - rho * f_t.d[k]) * inv;
            if k == 2 {
                d += om * inv / m.s;
            }
            g[k] += w * d;
        }
    }
    c.ln_k + ln_sf + ln_tot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::shared::assert_gradient_matches;

    const CDNOW: ParetoNbd = ParetoNbd { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };

    /// F by brute force: composite Simpson on ln-spaced y with a closed-form far tail.
    fn brute_f(m: &ParetoNbd, x: f64, t: f64) -> f64 {
        let f = |y: f64| (m.alpha + y).powf(-(m.r + x)) * (m.beta + y).powf(-(m.s + 1.0));
        // y = t + (e^u − 1) · scale, u ∈ [0, U].
        let scale = m.alpha.min(m.beta).min(1.0);
        let u_max = 60.0f64;
        let n = 600_000;
        let h = u_max / n as f64;
        let mut acc = 0.0;
        for i in 0..=n {
            let u = i as f64 * h;
            let y = t + u.exp_m1() * scale;
            let wgt = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            acc += wgt * f(y) * u.exp() * scale;
        }
        let y_end = t + u_max.exp_m1() * scale;
        acc * h / 3.0 + (y_end).powf(-(m.r + m.s + x)) / (m.r + m.s + x)
    }

    #[test]
    fn tail_matches_brute_force_in_both_branches_and_the_hard_region() {
        let cases = [
            (CDNOW, 0.0, 0.0),
            (CDNOW, 3.0, 20.0),
            (ParetoNbd { r: 0.5, alpha: 40.0, s: 0.3, beta: 0.05 }, 0.0, 0.0), // z ≈ 1, α ≫ β
            (ParetoNbd { r: 0.2, alpha: 0.05, s: 0.8, beta: 300.0 }, 0.0, 0.0), // z ≈ 1, β ≫ α
            (ParetoNbd { r: 0.2, alpha: 0.05, s: 0.8, beta: 300.0 }, 1.0, 0.5),
        ];
        for (m, x, t) in cases {
            let got = m.ln_f(x, t).unwrap();
            let want = brute_f(&m, x, t).ln();
            assert!((got - want).abs() < 1e-9 * want.abs().max(1.0), "{m:?} x={x} t={t}: {got} vs {want}");
        }
    }

    #[test]
    fn series_and_quadrature_agree_where_both_work() {
        for &(p, b, big_m, m, t) in &[
            (0.7, 1.3, 50.0, 2.0, 0.5),
            (3.5, 0.4, 200.0, 1.0, 3.0),
            (40.0, 1.6, 90.0, 3.0, 1.0),
            (1000.5, 1.3, 40.0, 0.05, 0.001),
        ] {
            let s = tail_series(p, b, big_m, m, t, 1_000_000).unwrap();
            let q = tail_quadrature(p, b, big_m, m, t).unwrap();
            assert!((s.0 - q.0).abs() < 1e-13 * s.0.abs().max(1.0), "{s:?} vs {q:?}");
            for k in 0..4 {
                assert!((s.1[k] - q.1[k]).abs() < 1e-10 * (1.0 + s.1[k].abs()), "{k}: {s:?} vs {q:?}");
            }
        }
    }

    #[test]
    fn tail_gradient_matches_finite_differences() {
        let ms = [
            CDNOW,
            ParetoNbd { r: 0.5, alpha: 40.0, s: 0.3, beta: 0.05 },
            ParetoNbd { r: 0.2, alpha: 0.05, s: 0.8, beta: 300.0 },
        ];
        for m in ms {
            for &(x, t) in &[(0.0, 0.0), (2.0, 5.0), (30.0, 60.0)] {
                let tl = m.tail(x, t).unwrap();
                let ln_f = |p: &[f64]| ParetoNbd::from_slice(p).ln_f(x, t).unwrap();
                assert_gradient_matches(&format!("{m:?} x={x} t={t}"), &m.to_vec(), &tl.d, ln_f, 1e-6);
            }
        }
    }

    #[test]
    fn row_gradient_matches_finite_differences() {
        let m = ParetoNbd { r: 0.6, alpha: 7.0, s: 0.9, beta: 12.0 };
        for &(x, t_x, t) in &[(0.0, 0.0, 30.0), (3.0, 20.0, 30.0), (60.0, 299.0, 300.0), (2.0, 30.0, 30.0)] {
            let mut g = [0.0; 4];
            let (ftx, ft) = (m.tail(x, t_x).unwrap(), m.tail(x, t).unwrap());
            row_ll_grad(&m, &XTerms::new(&m, x), TTerms::new(&m, t), &ftx, &ft, Some((&mut g, 1.0)));
            let ll = |p: &[f64]| ParetoNbd::from_slice(p).log_likelihood(x, t_x, t);
            assert_gradient_matches(&format!("x={x}"), &m.to_vec(), &g, ll, 1e-6);
        }
    }

    #[test]
    fn likelihood_is_a_probability_over_outcomes_for_x_zero_and_p_alive_limits() {
        // A customer who bought on the last day is alive; one who never came back after a long
        // time probably is not.
        assert_eq!(CDNOW.p_alive(3.0, 38.0, 38.0).unwrap(), 1.0);
        assert!(CDNOW.p_alive(3.0, 1.0, 38.0).unwrap() < 0.5);
        assert!(
            (CDNOW.conditional_expected_purchases(10.0, 0.0, 0.0, 0.0).unwrap()
                - CDNOW.expected_purchases(10.0).unwrap())
            .abs()
                < 1e-15
        );
        // s = 1 exactly is the limit of its neighbours.
        let at = |s: f64| ParetoNbd { s, ..CDNOW }.expected_purchases(52.0).unwrap();
        let (lo, mid, hi) = (at(1.0 - 1e-7), at(1.0), at(1.0 + 1e-7));
        assert!((mid - lo).abs() < 1e-6 && (mid - hi).abs() < 1e-6);
    }

    #[test]
    fn next_purchase_time_solves_its_probability() {
        let (x, t_x, t) = (4.0, 36.0, 38.0);
        let s = CDNOW.time_to_purchase_probability(0.5, x, t_x, t, 1e9).unwrap();
        assert!((CDNOW.prob_any_purchase(s, x, t_x, t).unwrap() - 0.5).abs() < 1e-10);
        assert!(CDNOW.time_to_purchase_probability(0.5, 1.0, 1.0, 38.0, 1e9).is_none());
    }
}
