//! Special functions for the CLV likelihoods: ln Γ, digamma, and the Gauss hypergeometric series
//! that the BG/NBD conditional expectation needs.
//!
//! `ln Γ` is libm's `lgamma_r` (musl's, within a few ulp for x > 0). Digamma is written here
//! because no dependency the project already builds has one (statrs would add nalgebra-sized
//! build time for a 20-line function): recurrence up to x ≥ 10, then the asymptotic series with
//! Bernoulli numbers, which is accurate to ~1e-16 relative there (Abramowitz & Stegun 6.3.18).

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma_r(x).0
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Digamma ψ(x) = d/dx ln Γ(x), for x > 0.
///
/// ## Method
/// ψ(x) = ψ(x + n) − Σ_{k<n} 1/(x + k) with x + n ≥ 10, then
/// ψ(y) ≈ ln y − 1/(2y) − Σ_{k=1}^{7} B_{2k} / (2k y^{2k}).
pub fn digamma(x: f64) -> f64 {
    let mut y = x;
    let mut acc = 0.0;
    while y < 10.0 {
        acc -= 1.0 / y;
        y += 1.0;
    }
    let y2 = 1.0 / (y * y);
    // B2/2, B4/4, ..., B14/14 with alternating signs folded in (Horner in 1/y²).
    let series = y2
        * (1.0 / 12.0
            - y2 * (1.0 / 120.0
                - y2 * (1.0 / 252.0 - y2 * (1.0 / 240.0 - y2 * (1.0 / 132.0 - y2 * (691.0 / 32760.0 - y2 / 12.0))))));
    acc + y.ln() - 0.5 / y - series
}

/// Σ_{n≥1} (a)_n (b+1)_{n−1} / ((c)_n n!) · z^n, i.e. (₂F₁(a, b; c; z) − 1) / b without dividing
/// by b (finite as b → 0), for 0 ≤ z < 1 and c > 0. Returns None when the series has not
/// converged after `max_terms` terms.
///
/// ## Method
/// Since (b)_n = b (b+1)_{n−1}: term recurrence t_{n+1} = t_n · (a + n)(b + n) / ((c + n)(n + 1)) · z,
/// with t_1 = a z / c;
/// stops when a term is below 1e-17 of the sum and the terms are decreasing.
pub fn hyp2f1_minus_one_over_b(a: f64, b: f64, c: f64, z: f64, max_terms: usize) -> Option<f64> {
    if z == 0.0 {
        return Some(0.0);
    }
    let mut term = a * z / c;
    let mut sum = term;
    for n in 1..max_terms {
        let nf = n as f64;
        // (a)_{n+1}/(a)_n = a + n; (b+1)_n/(b+1)_{n−1} = b + n; (c)_{n+1}/(c)_n = c + n.
        let next = term * (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        sum += next;
        if next.abs() <= 1e-17 * sum.abs() && next.abs() <= term.abs() {
            return Some(sum);
        }
        term = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_known_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-15);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-14);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-15);
        // ln Γ(1001) = ln 1000!, no overflow.
        let lf: f64 = (1..=1000).map(|k| (k as f64).ln()).sum();
        assert!((ln_gamma(1001.0) - lf).abs() / lf < 1e-14);
    }

    #[test]
    fn digamma_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-15);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-14);
        // ψ(n) = H_{n−1} − γ.
        let h: f64 = (1..100).map(|k| 1.0 / k as f64).sum();
        assert!((digamma(100.0) - (h - euler)).abs() < 1e-14);
        // Against a central difference of ln Γ.
        for &x in &[0.05f64, 0.3, 2.7, 17.0, 450.5] {
            let h = 1e-5 * x.max(1.0);
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((digamma(x) - fd).abs() < 1e-7 * (1.0 + fd.abs()), "x={x}");
        }
    }

    #[test]
    fn hypergeometric_series_against_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z, so with b = 1: (F − 1)/1.
        for &z in &[0.1, 0.5, 0.9] {
            let want = -(1.0f64 - z).ln() / z - 1.0;
            let got = hyp2f1_minus_one_over_b(1.0, 1.0, 2.0, z, 100_000).unwrap();
            assert!((got - want).abs() < 1e-14 * want.abs().max(1.0), "z={z}: {got} vs {want}");
        }
        // ₂F₁(a, b; b; z) = (1 − z)^(−a): (F − 1)/b.
        let (a, b, z) = (0.7, 2.5, 0.6);
        let want = ((1.0f64 - z).powf(-a) - 1.0) / b;
        let got = hyp2f1_minus_one_over_b(a, b, b, z, 100_000).unwrap();
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        assert!(hyp2f1_minus_one_over_b(1.0, 1.0, 2.0, 0.999_999, 10).is_none());
    }
}
