//! The BG/BB model of discrete purchase opportunities (Fader, Hardie & Shang 2010,
//! "Customer-Base Analysis in a Discrete-Time Noncontractual Setting", *Marketing Science*
//! 29(6)).
//!
//! ## Method
//! Time is a sequence of purchase opportunities (a yearly campaign, a monthly drop; here calendar
//! periods, `[clv] bgbb_period`). While alive, a customer buys at each opportunity with
//! probability p; before each opportunity an alive customer dies with probability θ. Across
//! customers p ~ Beta(α, β) and θ ~ Beta(γ, δ). A customer's data after the acquisition
//! period are x purchases in n opportunities, the last at opportunity t_x (0 when x = 0).
//!
//! - Likelihood (FHS 2010, eq. 5):
//!   L = B(α+x, β+n−x)/B(α, β) · B(γ, δ+n)/B(γ, δ)
//!   plus Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α, β) · B(γ+1, δ+t_x+i)/B(γ, δ):
//!   alive through n, or died right after opportunity t_x + i. The sum's terms follow by ratios
//!   (B(a, b+1) = B(a, b) · b/(a+b)), in logs with the largest term factored out; the gradient
//!   is analytic (digamma differences, also updated by recurrence along the sum).
//! - P(alive at opportunity n+1 | x, t_x, n) = B(α+x, β+n−x)/B(α, β) · B(γ, δ+n+1)/B(γ, δ) / L
//!   (eq. 11).
//! - E[purchases in the next n* opportunities | x, t_x, n] (eq. 13)
//!   = B(α+x+1, β+n−x)/B(α, β) / L · Σ_{j=1}^{n*} B(γ, δ+n+j)/B(γ, δ), written as a finite sum
//!   (telescoping the paper's Γ-ratio difference) so that γ = 1 needs no special case. It equals
//!   P(alive at n+1) · (α+x)/(α+β+n) · Σ_j B(γ, δ+n+j)/B(γ, δ+n+1), a function of (x, n) times
//!   P(alive). A fractional n* interpolates linearly between whole opportunities.
//! - P(at least one purchase in the next k opportunities | x, t_x, n)
//!   = Σ_{j=1}^{k} B(α+x+1, β+n−x+j−1)/B(α, β) · B(γ, δ+n+j)/B(γ, δ) / L (the first purchase at
//!   n+j: alive through n+j, no purchase at n+1..n+j−1).

use super::shared::model_params;
use super::special::{digamma, ln_beta};
use serde::Serialize;

/// BG/BB parameters: p ~ Beta(α, β) (purchase), θ ~ Beta(γ, δ) (dropout).
///
/// ## Example
/// ```
/// use custlens::clv::bgbb::BgBb;
/// // Fader, Hardie & Shang (2010), donations, 6 opportunities.
/// let m = BgBb { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };
/// let p = m.p_alive(6.0, 6.0, 6.0);
/// assert!(p > 0.8 && p < 1.0);
/// assert!(m.p_alive(1.0, 1.0, 6.0) < 0.2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgBb {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

model_params!(BgBb { alpha, beta, gamma, delta });

impl BgBb {
    /// ln L for one customer (eq. 5, no constant dropped).
    pub fn log_likelihood(&self, x: f64, t_x: f64, n: f64) -> f64 {
        row_ll_grad(self, &Consts::new(self), x, t_x, n, None)
    }

    /// ln of the "alive through n" term of L.
    fn ln_alive_term(&self, c: &Consts, x: f64, n: f64, ahead: f64) -> f64 {
        ln_beta(self.alpha + x, self.beta + n - x) - c.lb_ab + ln_beta(self.gamma, self.delta + n + ahead) - c.lb_gd
    }

    /// P(alive at opportunity n+1 | x, t_x, n) (eq. 11).
    pub fn p_alive(&self, x: f64, t_x: f64, n: f64) -> f64 {
        let c = Consts::new(self);
        let ll = row_ll_grad(self, &c, x, t_x, n, None);
        (self.ln_alive_term(&c, x, n, 1.0) - ll).exp().min(1.0)
    }

    /// Σ_{j=1}^{k} B(γ, δ+n+j)/B(γ, δ+n+1) for k = 1..=`max_k` (entry k−1), by ratios
    /// B(γ, d+1)/B(γ, d) = d/(γ+d).
    fn survival_sums(&self, n: f64, max_k: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(max_k);
        let (mut term, mut acc) = (1.0, 0.0);
        for j in 1..=max_k {
            if j > 1 {
                let d = self.delta + n + (j - 1) as f64;
                term *= d / (self.gamma + d);
            }
            acc += term;
            out.push(acc);
        }
        out
    }

    /// Expected purchases in the next `n_star` opportunities given alive at n+1 (a function of
    /// (x, n) only): (α+x)/(α+β+n) · Σ_{j=1}^{n*} B(γ, δ+n+j)/B(γ, δ+n+1); fractional n*
    /// interpolates linearly. Conditional expectation = P(alive) × this.
    pub fn expected_if_alive(&self, n_star: f64, x: f64, n: f64) -> Option<f64> {
        if n_star.is_nan() || n_star <= 0.0 {
            return Some(0.0);
        }
        let whole = n_star.floor();
        let k = whole as usize + 1;
        if k > 10_000_000 {
            return None;
        }
        let sums = self.survival_sums(n, k);
        let lo = if whole >= 1.0 { sums[whole as usize - 1] } else { 0.0 };
        let hi = sums[k - 1];
        let v = (self.alpha + x) / (self.alpha + self.beta + n) * (lo + (n_star - whole) * (hi - lo));
        v.is_finite().then_some(v)
    }

    /// E[X(n, n+n*) | x, t_x, n]: expected purchases in the next n* opportunities (eq. 13).
    pub fn conditional_expected_purchases(&self, n_star: f64, x: f64, t_x: f64, n: f64) -> Option<f64> {
        Some(self.p_alive(x, t_x, n) * self.expected_if_alive(n_star, x, n)?)
    }

    /// E[X(n)]: expected purchases in the first n opportunities of a customer just acquired
    /// (eq. 7's mean): α/(α+β) · Σ_{j=1}^{n} B(γ, δ+j)/B(γ, δ).
    pub fn expected_purchases(&self, n: f64) -> Option<f64> {
        // P(alive at 1 | 0, 0, 0) = δ/(γ+δ); the sums start at B(γ, δ+1).
        Some(self.delta / (self.gamma + self.delta) * self.expected_if_alive(n, 0.0, 0.0)?)
    }

    /// P(at least one purchase in the next k opportunities | x, t_x, n), for k = 1..=`max_k`
    /// (entry k−1).
    pub fn prob_any_purchase(&self, max_k: usize, x: f64, t_x: f64, n: f64) -> Vec<f64> {
        let c = Consts::new(self);
        let ll = row_ll_grad(self, &c, x, t_x, n, None);
        // j = 1: B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L.
        let mut ln_term = ln_beta(self.alpha + x + 1.0, self.beta + n - x) - c.lb_ab
            + ln_beta(self.gamma, self.delta + n + 1.0)
            - c.lb_gd
            - ll;
        let mut acc = 0.0;
        let mut out = Vec::with_capacity(max_k);
        for j in 1..=max_k {
            if j > 1 {
                let jf = (j - 1) as f64;
                // β+n−x+j−2 → +1 and δ+n+j−1 → +1.
                let b_arg = self.beta + n - x + jf - 1.0;
                let d_arg = self.delta + n + jf;
                ln_term += (b_arg / (self.alpha + x + 1.0 + b_arg)).ln() + (d_arg / (self.gamma + d_arg)).ln();
            }
            acc += ln_term.exp();
            out.push(acc.min(1.0));
        }
        out
    }

    /// The first k ≥ 1 such that P(at least one purchase in the next k opportunities) ≥ `prob`,
    /// searching up to `max_k`; None when it is not reached.
    pub fn periods_to_purchase_probability(&self, prob: f64, x: f64, t_x: f64, n: f64, max_k: usize) -> Option<usize> {
        if self.p_alive(x, t_x, n) <= prob {
            return None;
        }
        self.prob_any_purchase(max_k, x, t_x, n).iter().position(|p| *p >= prob).map(|i| i + 1)
    }
}

/// ln B(α, β) and ln B(γ, δ) and their digammas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Consts {
    lb_ab: f64,
    lb_gd: f64,
    psi_a: f64,
    psi_b: f64,
    psi_ab: f64,
    psi_g: f64,
    psi_d: f64,
    psi_gd: f64,
    psi_g1: f64,
}

impl Consts {
    pub(crate) fn new(m: &BgBb) -> Consts {
        Consts {
            lb_ab: ln_beta(m.alpha, m.beta),
            lb_gd: ln_beta(m.gamma, m.delta),
            psi_a: digamma(m.alpha),
            psi_b: digamma(m.beta),
            psi_ab: digamma(m.alpha + m.beta),
            psi_g: digamma(m.gamma),
            psi_d: digamma(m.delta),
            psi_gd: digamma(m.gamma + m.delta),
            psi_g1: digamma(m.gamma + 1.0),
        }
    }
}

/// ln L of one (x, t_x, n); adds w·∂lnL/∂(α, β, γ, δ) into `grad` when given.
pub(crate) fn row_ll_grad(m: &BgBb, c: &Consts, x: f64, t_x: f64, n: f64, grad: Option<(&mut [f64; 4], f64)>) -> f64 {
    let (al, be, ga, de) = (m.alpha, m.beta, m.gamma, m.delta);
    let want = grad.is_some();
    // Alive through n.
    let ln_u = ln_beta(al + x, be + n - x) - c.lb_ab + ln_beta(ga, de + n) - c.lb_gd;
    let terms = (n - t_x).max(0.0) as usize;
    // Died after opportunity t_x + i, i = 0..terms.
    let mut ln_v = ln_beta(al + x, be + t_x - x) - c.lb_ab + ln_beta(ga + 1.0, de + t_x) - c.lb_gd;
    // The sum's terms decrease in i; it is empty when t_x = n.
    let top = if terms > 0 { ln_u.max(ln_v) } else { ln_u };
    let psi_ax = if want { digamma(al + x) } else { 0.0 };
    let mut acc = (ln_u - top).exp();
    let mut g = [0.0; 4];
    if want {
        let (d1, d2, d3) = (digamma(al + be + n), digamma(de + n), digamma(ga + de + n));
        g = [
            acc * (psi_ax - d1 - c.psi_a + c.psi_ab),
            acc * (digamma(be + n - x) - d1 - c.psi_b + c.psi_ab),
            acc * (c.psi_gd - d3),
            acc * (d2 - d3 - c.psi_d + c.psi_gd),
        ];
    }
    // Running digammas of the sum's terms: ψ(α+β+t_x+i), ψ(β+t_x−x+i), ψ(δ+t_x+i), ψ(γ+δ+t_x+i+1).
    let (mut p1, mut p2, mut p3, mut p4) = if want && terms > 0 {
        (digamma(al + be + t_x), digamma(be + t_x - x), digamma(de + t_x), digamma(ga + de + t_x + 1.0))
    } else {
        (0.0, 0.0, 0.0, 0.0)
    };
    for i in 0..terms {
        let fi = i as f64;
        if i > 0 {
            let (u1, u2, u3, u4) =
                (al + be + t_x + fi - 1.0, be + t_x - x + fi - 1.0, de + t_x + fi - 1.0, ga + de + t_x + fi);
            ln_v += (u2 / u1).ln() + (u3 / u4).ln();
            if want {
                p1 += 1.0 / u1;
                p2 += 1.0 / u2;
                p3 += 1.0 / u3;
                p4 += 1.0 / u4;
            }
        }
        let v = (ln_v - top).exp();
        acc += v;
        if want {
            g[0] += v * (psi_ax - p1 - c.psi_a + c.psi_ab);
            g[1] += v * (p2 - p1 - c.psi_b + c.psi_ab);
            g[2] += v * (c.psi_g1 - p4 - c.psi_g + c.psi_gd);
            g[3] += v * (p3 - p4 - c.psi_d + c.psi_gd);
        }
    }
    if let Some((out, w)) = grad {
        for k in 0..4 {
            out[k] += w * g[k] / acc;
        }
    }
    top + acc.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::shared::assert_gradient_matches;

    const M: BgBb = BgBb { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };

    fn naive(m: &BgBb, x: u32, t_x: u32, n: u32) -> f64 {
        let b = |p: f64, q: f64| ln_beta(p, q).exp();
        let (xf, tf, nf) = (x as f64, t_x as f64, n as f64);
        let (bab, bgd) = (b(m.alpha, m.beta), b(m.gamma, m.delta));
        let mut l = b(m.alpha + xf, m.beta + nf - xf) / bab * b(m.gamma, m.delta + nf) / bgd;
        for i in 0..(n - t_x) {
            let i = i as f64;
            l += b(m.alpha + xf, m.beta + tf - xf + i) / bab * b(m.gamma + 1.0, m.delta + tf + i) / bgd;
        }
        l
    }

    #[test]
    fn likelihood_matches_the_formula_and_sums_to_one() {
        for &(x, t_x, n) in &[(0u32, 0u32, 6u32), (1, 1, 6), (3, 5, 6), (6, 6, 6), (0, 0, 0), (10, 40, 60)] {
            let want = naive(&M, x, t_x, n).ln();
            let got = M.log_likelihood(x as f64, t_x as f64, n as f64);
            assert!((got - want).abs() < 1e-12, "({x},{t_x},{n}): {got} vs {want}");
        }
        // Over every possible (x, t_x) of n = 4 opportunities (weighted by the number of
        // purchase strings giving it: C(t_x − 1, x − 1)), the probabilities sum to one.
        let binom = |n: u32, k: u32| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
        let mut total = naive(&M, 0, 0, 4);
        for t_x in 1..=4 {
            for x in 1..=t_x {
                total += binom(t_x - 1, x - 1) * naive(&M, x, t_x, 4);
            }
        }
        assert!((total - 1.0).abs() < 1e-13, "{total}");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for &(x, t_x, n) in &[(0.0, 0.0, 6.0), (2.0, 4.0, 6.0), (6.0, 6.0, 6.0), (5.0, 12.0, 30.0)] {
            let mut g = [0.0; 4];
            row_ll_grad(&M, &Consts::new(&M), x, t_x, n, Some((&mut g, 1.0)));
            let ll = |p: &[f64]| BgBb::from_slice(p).log_likelihood(x, t_x, n);
            assert_gradient_matches(&format!("({x},{t_x},{n})"), &M.to_vec(), &g, ll, 1e-7);
        }
    }

    #[test]
    fn expectations_match_the_papers_closed_form() {
        // Eq. 13 with Γ ratios.
        let (x, t_x, n, k) = (3.0, 5.0, 6.0, 5.0);
        let lg = crate::clv::special::ln_gamma;
        let (al, be, ga, de) = (M.alpha, M.beta, M.gamma, M.delta);
        let l = M.log_likelihood(x, t_x, n).exp();
        let want = 1.0 / l * (ln_beta(al + x + 1.0, be + n - x) - ln_beta(al, be)).exp() * de / (ga - 1.0)
            * (lg(ga + de) - lg(1.0 + de)).exp()
            * ((lg(1.0 + de + n) - lg(ga + de + n)).exp() - (lg(1.0 + de + n + k) - lg(ga + de + n + k)).exp());
        let got = M.conditional_expected_purchases(k, x, t_x, n).unwrap();
        assert!((got - want).abs() < 1e-13 * want, "{got} vs {want}");
        // Half an opportunity is half of the first.
        let one = M.conditional_expected_purchases(1.0, x, t_x, n).unwrap();
        assert!((M.conditional_expected_purchases(0.5, x, t_x, n).unwrap() - 0.5 * one).abs() < 1e-15);
        // P(any in 1) = expected purchases in 1 (at most one per opportunity).
        assert!((M.prob_any_purchase(1, x, t_x, n)[0] - one).abs() < 1e-13);
        let k = M.periods_to_purchase_probability(0.5, 6.0, 6.0, 6.0, 100).unwrap();
        let p = M.prob_any_purchase(k, 6.0, 6.0, 6.0);
        assert!(p[k - 1] >= 0.5 && (k == 1 || p[k - 2] < 0.5));
    }
}
