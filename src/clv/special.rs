//! Special functions for the CLV likelihoods: ln Γ, digamma, the Gauss hypergeometric series
//! that the BG/NBD conditional expectation and the Pareto/NBD likelihood need, and adaptive
//! Gauss–Kronrod quadrature (Pareto/NBD's slowly converging region).
//!
//! `ln Γ` is libm's `lgamma_r` (musl's, within a few ulp for x > 0). Digamma is written here
//! because no dependency the project already builds has one (statrs would add nalgebra-sized
//! build time for a 20-line function): recurrence up to x ≥ 10, then the asymptotic series with
//! Bernoulli numbers, which is accurate to ~1e-16 relative there (Abramowitz & Stegun 6.3.18).

// Small fixed-size arrays read most clearly with index loops.
#![allow(clippy::needless_range_loop)]

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

/// ln ₂F₁(1, e; f; z) = ln Σ_{n≥0} (e)_n/(f)_n zⁿ and its partial derivatives
/// (∂/∂e, ∂/∂f, ∂/∂z of the logarithm), for 0 < e < f and 0 ≤ z < 1. None when the series has
/// not converged after `max_terms` terms.
///
/// ## Method
/// Every term is positive and at most zⁿ (the ratio (e+n)/(f+n)·z increases towards z), so the
/// sum is between 1 and 1/(1−z) — no overflow whatever e and f — and the tail after term n is at
/// most tₙ·z/(1−z). With hₙ = Σ_{k<n} 1/(e+k) (and likewise for f), ∂tₙ/∂e = tₙ hₙ^e,
/// ∂tₙ/∂f = −tₙ hₙ^f and ∂tₙ/∂z = n tₙ/z are accumulated in the same loop. The loop stops when
/// tₙ (n + 1 + hₙ^e + hₙ^f)/(1−z)² — a bound on the tail of every sum — is below 1e-17 of the
/// sum: for z ≤ 0.9 that is at most ~460 terms.
pub fn ln_hyp2f1_one(e: f64, f: f64, z: f64, max_terms: usize) -> Option<(f64, [f64; 3])> {
    if z <= 0.0 {
        return Some((0.0, [0.0, 0.0, e / f]));
    }
    let inv_tail = 1.0 / ((1.0 - z) * (1.0 - z));
    let (mut sum, mut se, mut sf, mut sz) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut term, mut he, mut hf) = (1.0f64, 0.0f64, 0.0f64);
    for n in 0..max_terms {
        let nf = n as f64;
        he += 1.0 / (e + nf);
        hf += 1.0 / (f + nf);
        term *= (e + nf) / (f + nf) * z;
        let n1 = nf + 1.0;
        sum += term;
        se += term * he;
        sf += term * hf;
        sz += term * n1;
        if term * (n1 + 1.0 + he + hf) * inv_tail <= 1e-17 * sum {
            return Some((sum.ln(), [se / sum, -sf / sum, sz / (z * sum)]));
        }
    }
    None
}

/// Gauss–Kronrod 7–15 nodes on [−1, 1] (QUADPACK's qk15): Kronrod abscissae (positive half),
/// their weights, and the 7-point Gauss weights of the odd-indexed abscissae.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];
const WG: [f64; 4] =
    [0.129_484_966_168_869_7, 0.279_705_391_489_276_7, 0.381_830_050_505_118_9, 0.417_959_183_673_469_4];

/// One Gauss–Kronrod 7–15 panel of a vector integrand: (Kronrod estimate, |Kronrod − Gauss| of
/// component 0).
fn gk15<const K: usize>(f: &impl Fn(f64) -> [f64; K], a: f64, b: f64) -> ([f64; K], f64) {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    let mut k = [0.0; K];
    let mut g0 = 0.0;
    let mid = f(c);
    for j in 0..K {
        k[j] = WGK[7] * mid[j];
    }
    g0 += WG[3] * mid[0];
    for i in 0..7 {
        let (lo, hi) = (f(c - h * XGK[i]), f(c + h * XGK[i]));
        for j in 0..K {
            k[j] += WGK[i] * (lo[j] + hi[j]);
        }
        if i % 2 == 1 {
            g0 += WG[i / 2] * (lo[0] + hi[0]);
        }
    }
    for v in k.iter_mut() {
        *v *= h;
    }
    let err = (k[0] - g0 * h).abs();
    (k, err)
}

/// ∫_a^b f(w) dw for a vector integrand whose first component is positive, by globally adaptive
/// Gauss–Kronrod 7–15 (the panel with the largest error estimate of component 0 is bisected)
/// until the summed error estimate is below `rel_tol` of the integral of component 0; the other
/// components ride along on the same panels. Starts from `panels` equal panels. None when
/// `max_panels` do not suffice or a value is not finite.
pub fn integrate_gk<const K: usize>(
    f: impl Fn(f64) -> [f64; K],
    a: f64,
    b: f64,
    panels: usize,
    rel_tol: f64,
    max_panels: usize,
) -> Option<[f64; K]> {
    let n0 = panels.max(1);
    let width = (b - a) / n0 as f64;
    let mut list: Vec<(f64, f64, [f64; K], f64)> = (0..n0)
        .map(|i| {
            let (lo, hi) = (a + width * i as f64, if i + 1 == n0 { b } else { a + width * (i + 1) as f64 });
            let (v, e) = gk15(&f, lo, hi);
            (lo, hi, v, e)
        })
        .collect();
    loop {
        let total: f64 = list.iter().map(|p| p.2[0]).sum();
        let err: f64 = list.iter().map(|p| p.3).sum();
        if !(total.is_finite() && err.is_finite()) {
            return None;
        }
        if err <= rel_tol * total.abs() {
            let mut out = [0.0; K];
            for p in &list {
                for j in 0..K {
                    out[j] += p.2[j];
                }
            }
            return Some(out);
        }
        if list.len() >= max_panels {
            return None;
        }
        let (i, _) = list.iter().enumerate().max_by(|x, y| x.1 .3.total_cmp(&y.1 .3))?;
        let (lo, hi, _, _) = list.swap_remove(i);
        let mid = 0.5 * (lo + hi);
        let (v1, e1) = gk15(&f, lo, mid);
        let (v2, e2) = gk15(&f, mid, hi);
        list.push((lo, mid, v1, e1));
        list.push((mid, hi, v2, e2));
    }
}

/// 1 / (1 + e^{−d}), without overflow for large |d|.
pub(crate) fn sigmoid(d: f64) -> f64 {
    if d >= 0.0 {
        1.0 / (1.0 + (-d).exp())
    } else {
        let e = d.exp();
        e / (1.0 + e)
    }
}

/// (1 − e^{k·l}) / k, continuous at k = 0 (→ −l): with l = ln(1 − z) it is [1 − (1−z)^k] / k,
/// the bracket of the BG/NBD and Pareto/NBD conditional expectations.
pub(crate) fn one_minus_exp_over(k: f64, l: f64) -> f64 {
    if k.abs() < 1e-12 {
        -l
    } else {
        -(k * l).exp_m1() / k
    }
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

    #[test]
    fn hyp2f1_one_against_closed_forms_and_its_derivatives() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z.
        for &z in &[0.0, 0.1, 0.5, 0.9] {
            let want = if z == 0.0 { 1.0 } else { -(1.0f64 - z).ln() / z };
            let (ln, _) = ln_hyp2f1_one(1.0, 2.0, z, 10_000).unwrap();
            assert!((ln.exp() - want).abs() < 1e-15 * want, "z={z}");
        }
        // ₂F₁(1, e; e; z) = 1/(1 − z) in the limit f → e (f slightly above e).
        let (ln, _) = ln_hyp2f1_one(2.5, 2.5 + 1e-13, 0.3, 10_000).unwrap();
        assert!((ln.exp() - 1.0 / 0.7).abs() < 1e-12);
        // Derivatives against central differences.
        let (e, f, z) = (0.7, 2.3, 0.8);
        let (_, d) = ln_hyp2f1_one(e, f, z, 10_000).unwrap();
        let at = |e: f64, f: f64, z: f64| ln_hyp2f1_one(e, f, z, 10_000).unwrap().0;
        let h = 1e-6;
        let fd = [
            (at(e + h, f, z) - at(e - h, f, z)) / (2.0 * h),
            (at(e, f + h, z) - at(e, f - h, z)) / (2.0 * h),
            (at(e, f, z + h) - at(e, f, z - h)) / (2.0 * h),
        ];
        for i in 0..3 {
            assert!((d[i] - fd[i]).abs() < 1e-8 * (1.0 + fd[i].abs()), "{i}: {} vs {}", d[i], fd[i]);
        }
        assert!(ln_hyp2f1_one(0.5, 1.1, 0.999_999, 1000).is_none());
    }

    #[test]
    fn gauss_kronrod_integrates_smooth_and_steep_functions() {
        // ∫_0^1 [eˣ, x²] dx.
        let v = integrate_gk(|x| [x.exp(), x * x], 0.0, 1.0, 1, 1e-14, 50).unwrap();
        assert!((v[0] - (1f64.exp() - 1.0)).abs() < 1e-15);
        assert!((v[1] - 1.0 / 3.0).abs() < 1e-15);
        // A steep exponential needs bisection: ∫_0^10 e^{−300x} dx = (1 − e^{−3000})/300.
        let v = integrate_gk(|x| [(-300.0 * x).exp()], 0.0, 10.0, 10, 1e-14, 400).unwrap();
        assert!((v[0] * 300.0 - 1.0).abs() < 1e-13, "{}", v[0] * 300.0);
    }
}
