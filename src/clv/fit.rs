//! Maximum-likelihood fits of BG/NBD, Pareto/NBD, MBG/NBD, BG/BB and Gamma-Gamma.
//!
//! ## Method
//! - **Data**: customers are compressed to unique rows with counts — (x, t_x, T) for the
//!   continuous-time models ([`CountData`]), (x, t_x, n) for BG/BB ([`BgBbData`]), (x, z̄) for
//!   Gamma-Gamma — and grouped by x, so the ln Γ and digamma terms that depend on x alone are
//!   computed once per distinct x per evaluation; the per-row work is a few ln/exp. Pareto/NBD's
//!   hypergeometric terms depend on (x, t) only and are computed once per distinct (x, t_x) and
//!   (x, T) pair ([`ParetoNbdData`]). Rows are summed in fixed parallel chunks (rayon), added in
//!   order: fits are reproducible.
//! - **Objective**: −ln L / n over log-parameters (every parameter is positive), with the
//!   analytic gradient of every model (chain rule: ∂/∂ln θ = θ ∂/∂θ).
//! - **Optimizer**: L-BFGS with a Moré–Thuente line search (argmin) from up to three starting
//!   points, tried in order until a run converges; a start where L-BFGS fails is retried with
//!   Nelder-Mead and polished with L-BFGS. The best likelihood wins. `converged` means the largest gradient component of −ln L / n (in log
//!   parameters) is below 1e-5 at the optimum; `iterations` are the winning run's.
//! - **Standard errors**: the observed information −H (H = Hessian of ln L in log-parameters,
//!   central differences of the analytic gradient), inverted by Cholesky; by the delta method
//!   se(θ) = θ · √((−H)⁻¹)ᵢᵢ — the same quantity lifetimes reports. None when −H is not positive
//!   definite.
//! - **Degenerate fits are errors** ([`ClvError::Degenerate`]): no usable rows, no repeat buyer, a
//!   likelihood that is not finite, or a parameter running off to 0 or ∞ (|ln θ| > 20), which
//!   means the data do not identify it.

// Small dense matrices (4×4 at most) read most clearly with index loops.
#![allow(clippy::needless_range_loop)]

use super::bgbb::{self, BgBb};
use super::bgnbd::{self, BgNbd};
use super::gamma_gamma::{self, GammaGamma};
use super::mbgnbd::MbgNbd;
use super::pareto_nbd::{self, ParetoNbd};
use super::ClvError;
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use serde::Serialize;

/// Rows per parallel chunk of a likelihood evaluation.
const CHUNK: usize = 16_384;
/// |ln θ| beyond this is a parameter running off to 0 or ∞.
const LOG_PARAM_LIMIT: f64 = 20.0;
/// Gradient (of −ln L / n in log-parameters) below which a fit counts as converged.
const GRAD_TOL: f64 = 1e-5;

/// A fitted model's parameters and diagnostics.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FitReport {
    /// Parameter names and values, in the model's order.
    pub names: Vec<&'static str>,
    pub params: Vec<f64>,
    /// Standard errors (delta method from the observed information); None when the Hessian is
    /// not negative definite.
    pub std_errors: Option<Vec<f64>>,
    /// Total log-likelihood at `params` (the paper's, constants included).
    pub log_likelihood: f64,
    pub converged: bool,
    /// Iterations of the winning optimizer run.
    pub iterations: u64,
    /// `lbfgs`, or `nelder_mead+lbfgs` when L-BFGS needed the fallback.
    pub method: &'static str,
    /// Customers the likelihood sums over.
    pub n_customers: usize,
    /// Distinct rows after compression.
    pub n_rows: usize,
}

/// A log-likelihood summed over compressed rows.
pub(crate) trait Objective: Sync {
    const MODEL: &'static str;
    const NAMES: &'static [&'static str];
    /// Customers.
    fn n(&self) -> f64;
    /// Total ln L at natural parameters; adds the gradient into `grad` when given.
    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64;
    /// Starting points (natural parameters).
    fn starts(&self) -> Vec<Vec<f64>>;
}

/// Σ row(i) and the gradients it adds, over fixed chunks of `CHUNK` rows summed in parallel and
/// then added in chunk order: the result does not depend on thread scheduling, so fits and every
/// output are bit-for-bit reproducible.
fn chunked_sum<const K: usize>(n: usize, row: impl Fn(usize, &mut [f64; K]) -> f64 + Sync) -> (f64, [f64; K]) {
    let parts: Vec<(f64, [f64; K])> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (mut ll, mut g) = (0.0, [0.0; K]);
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                ll += row(i, &mut g);
            }
            (ll, g)
        })
        .collect();
    let (mut ll, mut g) = (0.0, [0.0; K]);
    for (l, pg) in parts {
        ll += l;
        for k in 0..K {
            g[k] += pg[k];
        }
    }
    (ll, g)
}

/// An [`Objective::ll_grad`] over `n` rows by [`chunked_sum`]: `row(i, g)` returns row i's
/// weighted ln L and, when `g` is given (a gradient was asked for), adds its weighted gradient
/// into it; the total gradient is copied into `grad`.
fn chunked_ll_grad<const K: usize>(
    n: usize,
    grad: Option<&mut [f64]>,
    row: impl Fn(usize, Option<&mut [f64; K]>) -> f64 + Sync,
) -> f64 {
    let want_grad = grad.is_some();
    let (ll, g) = chunked_sum::<K>(n, |i, g| row(i, want_grad.then_some(g)));
    if let Some(out) = grad {
        out.copy_from_slice(&g);
    }
    ll
}

// ---------------------------------------------------------------------------------------------
// Continuous-time data (BG/NBD, MBG/NBD, Pareto/NBD)

/// The name part 1 gave [`CountData`].
pub type BgNbdData = CountData;

/// Continuous-time input compressed to unique (x, t_x, T) rows with counts, grouped by x: what
/// BG/NBD, MBG/NBD and (through [`ParetoNbdData`]) Pareto/NBD fit.
#[derive(Debug, Clone)]
pub struct CountData {
    /// Distinct x values; `group` indexes them.
    xs: Vec<f64>,
    group: Vec<u32>,
    /// Indexes into `tx_vals` / `t_vals` (distinct values, tabulated once per evaluation).
    t_x: Vec<u32>,
    t: Vec<u32>,
    tx_vals: Vec<f64>,
    t_vals: Vec<f64>,
    w: Vec<f64>,
    n: f64,
    n_customers: usize,
    mean_t: f64,
    repeat_buyers: usize,
}

impl CountData {
    /// Compresses per-customer (x, t_x, T) in one time unit; errors name BG/NBD.
    pub fn new(x: &[f64], t_x: &[f64], t: &[f64]) -> Result<CountData, ClvError> {
        CountData::for_model("bgnbd", x, t_x, t)
    }

    /// Compresses per-customer (x, t_x, T) in one time unit; `model` names the model in errors.
    ///
    /// Errors when a row is not a valid summary (x a non-negative whole number, 0 ≤ t_x ≤ T,
    /// t_x = 0 when x = 0, all finite) or there is nothing to fit.
    pub fn for_model(model: &'static str, x: &[f64], t_x: &[f64], t: &[f64]) -> Result<CountData, ClvError> {
        if x.len() != t_x.len() || x.len() != t.len() {
            return Err(ClvError::InvalidSummary { row: 0, reason: "x, t_x and T differ in length".into() });
        }
        let mut keys: Vec<(u64, u64, u64)> = Vec::with_capacity(x.len());
        for (i, ((&xi, &txi), &ti)) in x.iter().zip(t_x).zip(t).enumerate() {
            let ok = xi.is_finite() && xi >= 0.0 && xi.fract() == 0.0 && txi.is_finite() && ti.is_finite();
            if !ok || txi < 0.0 || txi > ti || (xi == 0.0 && txi != 0.0) {
                return Err(ClvError::InvalidSummary {
                    row: i,
                    reason: format!(
                        "x = {xi}, t_x = {txi}, T = {ti}: need whole x ≥ 0, 0 ≤ t_x ≤ T, t_x = 0 when x = 0"
                    ),
                });
            }
            // +0.0 so that −0.0 and 0.0 compress together.
            keys.push((xi as u64, (txi + 0.0).to_bits(), (ti + 0.0).to_bits()));
        }
        if keys.is_empty() {
            return Err(ClvError::Degenerate { model, reason: "no customers to fit".into() });
        }
        keys.par_sort_unstable();
        let mut d = CountData {
            xs: Vec::new(),
            group: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            tx_vals: Vec::new(),
            t_vals: Vec::new(),
            w: Vec::new(),
            n: keys.len() as f64,
            n_customers: keys.len(),
            mean_t: 0.0,
            repeat_buyers: 0,
        };
        let mut sum_t = 0.0;
        let mut prev: Option<(u64, u64, u64)> = None;
        let (mut tx_index, mut t_index) = (std::collections::HashMap::new(), std::collections::HashMap::new());
        let intern = |index: &mut std::collections::HashMap<u64, u32>, vals: &mut Vec<f64>, bits: u64| {
            *index.entry(bits).or_insert_with(|| {
                vals.push(f64::from_bits(bits));
                (vals.len() - 1) as u32
            })
        };
        for k in keys {
            let tv = f64::from_bits(k.2);
            sum_t += tv;
            if k.0 > 0 {
                d.repeat_buyers += 1;
            }
            if prev == Some(k) {
                if let Some(w) = d.w.last_mut() {
                    *w += 1.0;
                }
                continue;
            }
            let xf = k.0 as f64;
            if d.xs.last() != Some(&xf) {
                d.xs.push(xf);
            }
            d.group.push((d.xs.len() - 1) as u32);
            let (ix, it) = (intern(&mut tx_index, &mut d.tx_vals, k.1), intern(&mut t_index, &mut d.t_vals, k.2));
            d.t_x.push(ix);
            d.t.push(it);
            d.w.push(1.0);
            prev = Some(k);
        }
        d.mean_t = sum_t / d.n;
        if d.repeat_buyers == 0 {
            return Err(ClvError::Degenerate {
                model,
                reason: "no customer has a repeat purchase, so the dropout process cannot be estimated".into(),
            });
        }
        if d.mean_t <= 0.0 {
            return Err(ClvError::Degenerate {
                model,
                reason: "every customer was first seen at the end of the calibration period (T = 0)".into(),
            });
        }
        Ok(d)
    }

    /// Distinct (x, t_x, T) rows.
    pub fn rows(&self) -> usize {
        self.w.len()
    }

    /// Customers.
    pub fn customers(&self) -> usize {
        self.n_customers
    }

    /// Total BG/NBD ln L at `m`.
    pub fn log_likelihood(&self, m: &BgNbd) -> f64 {
        self.ll_grad(&m.to_vec(), None)
    }

    /// Total MBG/NBD ln L at `m`.
    pub fn log_likelihood_mbgnbd(&self, m: &MbgNbd) -> f64 {
        MbgObjective(self).ll_grad(&m.to_vec(), None)
    }

    /// BG/NBD-family ln L and gradient; `k` = 0 (BG/NBD) or 1 (MBG/NBD).
    fn bg_family_ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>, k: f64) -> f64 {
        let m = BgNbd::from_slice(params);
        let terms: Vec<bgnbd::XTerms> = self.xs.iter().map(|&x| bgnbd::XTerms::with_shift(&m, x, k)).collect();
        let table = |vals: &[f64]| -> Vec<(f64, f64)> {
            vals.par_iter().with_min_len(CHUNK).map(|v| ((m.alpha + v).ln(), 1.0 / (m.alpha + v))).collect()
        };
        let (tx_tab, t_tab) = (table(&self.tx_vals), table(&self.t_vals));
        chunked_ll_grad::<4>(self.w.len(), grad, |i, g| {
            let gi = self.group[i] as usize;
            let (lt, ltx) = (t_tab[self.t[i] as usize], tx_tab[self.t_x[i] as usize]);
            self.w[i] * bgnbd::row_core(&m, &terms[gi], self.xs[gi], lt, ltx, g.map(|g| (g, self.w[i])))
        })
    }

    fn bg_starts(&self) -> Vec<Vec<f64>> {
        let s = self.mean_t;
        vec![
            vec![1.0, s, 1.0, 1.0],
            vec![0.25, 0.1 * s, 0.8, 2.5],
            vec![0.1f64.exp(), 0.1f64.exp() * 2.0 * s, 1.1, 1.1],
        ]
    }
}

/// MBG/NBD over [`CountData`].
struct MbgObjective<'a>(&'a CountData);

impl Objective for MbgObjective<'_> {
    const MODEL: &'static str = "mbgnbd";
    const NAMES: &'static [&'static str] = &MbgNbd::NAMES;

    fn n(&self) -> f64 {
        self.0.n
    }

    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64 {
        self.0.bg_family_ll_grad(params, grad, 1.0)
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        self.0.bg_starts()
    }
}

impl Objective for CountData {
    const MODEL: &'static str = "bgnbd";
    const NAMES: &'static [&'static str] = &BgNbd::NAMES;

    fn n(&self) -> f64 {
        self.n
    }

    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64 {
        self.bg_family_ll_grad(params, grad, 0.0)
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        self.bg_starts()
    }
}

// ---------------------------------------------------------------------------------------------
// Pareto/NBD data

/// Pareto/NBD input: [`CountData`] plus its distinct (x, t) pairs, where t is a t_x or a T —
/// the hypergeometric term F(x, t) is computed once per pair per evaluation.
#[derive(Debug, Clone)]
pub struct ParetoNbdData<'a> {
    data: &'a CountData,
    /// Distinct (x, t) pairs.
    pairs: Vec<(f64, f64)>,
    /// Per row: the pair of (x, t_x) and of (x, T).
    row_tx: Vec<u32>,
    row_t: Vec<u32>,
}

impl<'a> ParetoNbdData<'a> {
    pub fn new(data: &'a CountData) -> ParetoNbdData<'a> {
        let mut index: std::collections::HashMap<(u32, u64), u32> = std::collections::HashMap::new();
        let mut pairs: Vec<(f64, f64)> = Vec::new();
        let mut pair = |g: u32, t: f64| {
            *index.entry((g, t.to_bits())).or_insert_with(|| {
                pairs.push((data.xs[g as usize], t));
                (pairs.len() - 1) as u32
            })
        };
        let mut row_tx = Vec::with_capacity(data.w.len());
        let mut row_t = Vec::with_capacity(data.w.len());
        for i in 0..data.w.len() {
            let g = data.group[i];
            row_tx.push(pair(g, data.tx_vals[data.t_x[i] as usize]));
            row_t.push(pair(g, data.t_vals[data.t[i] as usize]));
        }
        ParetoNbdData { data, pairs, row_tx, row_t }
    }

    /// Distinct (x, t) pairs whose F an evaluation computes.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// Total ln L at `m` (NaN when F cannot be evaluated).
    pub fn log_likelihood(&self, m: &ParetoNbd) -> f64 {
        self.ll_grad(&m.to_vec(), None)
    }
}

impl Objective for ParetoNbdData<'_> {
    const MODEL: &'static str = "pareto_nbd";
    const NAMES: &'static [&'static str] = &ParetoNbd::NAMES;

    fn n(&self) -> f64 {
        self.data.n
    }

    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let m = ParetoNbd::from_slice(params);
        let d = self.data;
        let terms: Vec<pareto_nbd::XTerms> = d.xs.iter().map(|&x| pareto_nbd::XTerms::new(&m, x)).collect();
        let tails: Option<Vec<pareto_nbd::Tail>> =
            self.pairs.par_iter().with_min_len(256).map(|&(x, t)| m.tail(x, t)).collect();
        let Some(tails) = tails else {
            return f64::NAN;
        };
        let tt: Vec<pareto_nbd::TTerms> =
            d.t_vals.par_iter().with_min_len(CHUNK).map(|&t| pareto_nbd::TTerms::new(&m, t)).collect();
        chunked_ll_grad::<4>(d.w.len(), grad, |i, g| {
            let gr = g.map(|g| (g, d.w[i]));
            let (ftx, ft) = (&tails[self.row_tx[i] as usize], &tails[self.row_t[i] as usize]);
            d.w[i] * pareto_nbd::row_ll_grad(&m, &terms[d.group[i] as usize], tt[d.t[i] as usize], ftx, ft, gr)
        })
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        let s = self.data.mean_t;
        vec![vec![0.5, 0.3 * s, 0.5, 0.3 * s], vec![1.0, s, 1.0, s], vec![0.25, 0.1 * s, 1.0, 3.0 * s]]
    }
}

// ---------------------------------------------------------------------------------------------
// BG/BB data

/// BG/BB input: per-customer (x, t_x, n) in whole opportunities, compressed to unique rows with
/// counts.
#[derive(Debug, Clone)]
pub struct BgBbData {
    rows: Vec<(f64, f64, f64)>,
    w: Vec<f64>,
    n_customers: usize,
}

impl BgBbData {
    /// Errors when a row is not a valid BG/BB summary (whole numbers with 0 ≤ x ≤ t_x ≤ n,
    /// x = 0 exactly when t_x = 0, t_x ≥ x) or the data cannot identify the model.
    pub fn new(x: &[f64], t_x: &[f64], n: &[f64]) -> Result<BgBbData, ClvError> {
        if x.len() != t_x.len() || x.len() != n.len() {
            return Err(ClvError::InvalidSummary { row: 0, reason: "x, t_x and n differ in length".into() });
        }
        let mut keys: Vec<(u32, u32, u32)> = Vec::with_capacity(x.len());
        for (i, ((&xi, &ti), &ni)) in x.iter().zip(t_x).zip(n).enumerate() {
            let whole = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e9;
            if !(whole(xi) && whole(ti) && whole(ni)) || xi > ti || ti > ni || ((xi == 0.0) != (ti == 0.0)) {
                return Err(ClvError::InvalidSummary {
                    row: i,
                    reason: format!(
                        "x = {xi}, t_x = {ti}, n = {ni}: need whole numbers with x ≤ t_x ≤ n and t_x = 0 exactly when x = 0"
                    ),
                });
            }
            keys.push((xi as u32, ti as u32, ni as u32));
        }
        if keys.is_empty() {
            return Err(ClvError::Degenerate { model: "bgbb", reason: "no customers to fit".into() });
        }
        if keys.iter().all(|k| k.0 == 0) {
            return Err(ClvError::Degenerate {
                model: "bgbb",
                reason: "no customer bought after the acquisition period, so the purchase and dropout processes cannot be estimated".into(),
            });
        }
        if keys.iter().all(|k| k.2 <= 1) {
            return Err(ClvError::Degenerate {
                model: "bgbb",
                reason: "every customer had at most one purchase opportunity after the acquisition period".into(),
            });
        }
        let n_customers = keys.len();
        keys.par_sort_unstable();
        let (mut rows, mut w): (Vec<(f64, f64, f64)>, Vec<f64>) = (Vec::new(), Vec::new());
        let mut prev = None;
        for k in keys {
            if prev == Some(k) {
                if let Some(l) = w.last_mut() {
                    *l += 1.0;
                }
                continue;
            }
            rows.push((k.0 as f64, k.1 as f64, k.2 as f64));
            w.push(1.0);
            prev = Some(k);
        }
        Ok(BgBbData { rows, w, n_customers })
    }

    /// Distinct (x, t_x, n) rows.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Customers.
    pub fn customers(&self) -> usize {
        self.n_customers
    }

    /// Total ln L at `m`.
    pub fn log_likelihood(&self, m: &BgBb) -> f64 {
        self.ll_grad(&m.to_vec(), None)
    }
}

impl Objective for BgBbData {
    const MODEL: &'static str = "bgbb";
    const NAMES: &'static [&'static str] = &BgBb::NAMES;

    fn n(&self) -> f64 {
        self.n_customers as f64
    }

    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let m = BgBb::from_slice(params);
        let c = bgbb::Consts::new(&m);
        chunked_ll_grad::<4>(self.rows.len(), grad, |i, g| {
            let (x, t_x, n) = self.rows[i];
            self.w[i] * bgbb::row_ll_grad(&m, &c, x, t_x, n, g.map(|g| (g, self.w[i])))
        })
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 0.5, 0.5, 2.0], vec![2.0, 1.0, 0.3, 3.0]]
    }
}

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma data

/// Gamma-Gamma input: repeat buyers' (x, z̄), grouped by x.
#[derive(Debug, Clone)]
pub struct GammaGammaData {
    xs: Vec<f64>,
    group: Vec<u32>,
    ln_z: Vec<f64>,
    x_z: Vec<f64>,
    n_customers: usize,
    mean_z: f64,
    /// Pearson correlation of x and z̄ (the model assumes it is near zero); None when undefined.
    pub corr_frequency_spend: Option<f64>,
}

impl GammaGammaData {
    /// Keeps customers with x ≥ 1 and a positive, finite z̄ (the others have no spend to model).
    pub fn new(x: &[f64], zbar: &[f64]) -> Result<GammaGammaData, ClvError> {
        let mut rows: Vec<(u64, f64)> = x
            .iter()
            .zip(zbar)
            .filter(|(&x, &z)| x >= 1.0 && x.fract() == 0.0 && z.is_finite() && z > 0.0)
            .map(|(&x, &z)| (x as u64, z))
            .collect();
        if rows.len() < 2 {
            return Err(ClvError::Degenerate {
                model: "gamma_gamma",
                reason: format!("{} repeat buyer(s) with a positive spend; at least 2 are needed", rows.len()),
            });
        }
        rows.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let first = rows[0].1;
        if rows.iter().all(|r| r.1 == first) {
            return Err(ClvError::Degenerate {
                model: "gamma_gamma",
                reason: "every repeat buyer has the same mean spend; spend variation cannot be estimated".into(),
            });
        }
        let n = rows.len() as f64;
        let (mx, mz) = (rows.iter().map(|r| r.0 as f64).sum::<f64>() / n, rows.iter().map(|r| r.1).sum::<f64>() / n);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for r in &rows {
            let (dx, dz) = (r.0 as f64 - mx, r.1 - mz);
            sxy += dx * dz;
            sxx += dx * dx;
            syy += dz * dz;
        }
        let corr = (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt());
        let mut d = GammaGammaData {
            xs: Vec::new(),
            group: Vec::with_capacity(rows.len()),
            ln_z: Vec::with_capacity(rows.len()),
            x_z: Vec::with_capacity(rows.len()),
            n_customers: rows.len(),
            mean_z: mz,
            corr_frequency_spend: corr,
        };
        for (x, z) in rows {
            let xf = x as f64;
            if d.xs.last() != Some(&xf) {
                d.xs.push(xf);
            }
            d.group.push((d.xs.len() - 1) as u32);
            d.ln_z.push(z.ln());
            d.x_z.push(xf * z);
        }
        Ok(d)
    }

    /// Customers in the fit.
    pub fn customers(&self) -> usize {
        self.n_customers
    }

    /// Total ln L at `m`.
    pub fn log_likelihood(&self, m: &GammaGamma) -> f64 {
        self.ll_grad(&m.to_vec(), None)
    }
}

impl Objective for GammaGammaData {
    const MODEL: &'static str = "gamma_gamma";
    const NAMES: &'static [&'static str] = &GammaGamma::NAMES;

    fn n(&self) -> f64 {
        self.n_customers as f64
    }

    fn ll_grad(&self, params: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let m = GammaGamma::from_slice(params);
        let terms: Vec<gamma_gamma::XTerms> = self.xs.iter().map(|&x| gamma_gamma::XTerms::new(&m, x)).collect();
        chunked_ll_grad::<3>(self.ln_z.len(), grad, |i, g| {
            let gi = self.group[i] as usize;
            gamma_gamma::row_ll_grad(&m, &terms[gi], self.xs[gi], self.ln_z[i], self.x_z[i], g.map(|g| (g, 1.0)))
        })
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        let m = self.mean_z;
        vec![vec![1.0, 2.0, m], vec![5.0, 4.0, 0.6 * m], vec![0.1f64.exp(), 0.1f64.exp(), 0.1f64.exp()]]
    }
}

// ---------------------------------------------------------------------------------------------
// The optimizer

/// −ln L / n over log-parameters, for argmin.
struct Problem<'a, O: Objective> {
    obj: &'a O,
    /// Nelder-Mead compares values only: a non-finite point is +∞ there, an error for L-BFGS.
    lenient: bool,
    /// The last (θ, gradient) a cost evaluation computed along the way: L-BFGS asks for the
    /// gradient at the point it just costed, and one pass over the rows gives both.
    cache: std::sync::Mutex<Option<(Vec<f64>, Vec<f64>)>>,
}

impl<'a, O: Objective> Problem<'a, O> {
    fn new(obj: &'a O, lenient: bool) -> Self {
        Problem { obj, lenient, cache: std::sync::Mutex::new(None) }
    }

    /// −ln L / n and its gradient in log-parameters.
    fn eval(&self, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
        let p = Self::natural(theta)?;
        let mut g = vec![0.0; p.len()];
        let n = self.obj.n();
        let ll = self.obj.ll_grad(&p, Some(&mut g));
        let grad: Vec<f64> = g.iter().zip(&p).map(|(gi, pi)| -gi * pi / n).collect();
        Some((-ll / n, grad))
    }
}

impl<O: Objective> Problem<'_, O> {
    fn natural(theta: &[f64]) -> Option<Vec<f64>> {
        theta
            .iter()
            .all(|t| t.is_finite() && t.abs() <= 2.0 * LOG_PARAM_LIMIT)
            .then(|| theta.iter().map(|t| t.exp()).collect())
    }
}

impl<O: Objective> CostFunction for Problem<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let v = if self.lenient {
            Self::natural(theta).map(|p| -self.obj.ll_grad(&p, None) / self.obj.n())
        } else {
            self.eval(theta).map(|(c, g)| {
                if let Ok(mut cache) = self.cache.lock() {
                    *cache = Some((theta.clone(), g));
                }
                c
            })
        };
        match v {
            Some(c) if c.is_finite() => Ok(c),
            _ if self.lenient => Ok(f64::INFINITY),
            _ => Err(argmin::core::Error::msg("log-likelihood is not finite")),
        }
    }
}

impl<O: Objective> Gradient for Problem<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let cached =
            self.cache.lock().ok().and_then(|c| c.as_ref().filter(|(t, _)| t == theta).map(|(_, g)| g.clone()));
        let out = match cached {
            Some(g) => g,
            None => self.eval(theta).ok_or_else(|| argmin::core::Error::msg("parameter out of range"))?.1,
        };
        if out.iter().all(|v| v.is_finite()) {
            Ok(out)
        } else {
            Err(argmin::core::Error::msg("gradient is not finite"))
        }
    }
}

struct Run {
    theta: Vec<f64>,
    cost: f64,
    iterations: u64,
}

fn lbfgs<O: Objective>(obj: &O, theta0: Vec<f64>) -> Option<Run> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-10)
        .ok()?
        .with_tolerance_cost(1e-15)
        .ok()?;
    let res = Executor::new(Problem::new(obj, false), solver)
        .configure(|s| s.param(theta0).max_iters(500))
        .timer(false)
        .run()
        .ok()?;
    let st = res.state();
    if matches!(st.get_termination_reason(), Some(TerminationReason::SolverExit(_))) && !st.get_best_cost().is_finite()
    {
        return None;
    }
    let theta = st.get_best_param()?.clone();
    let cost = st.get_best_cost();
    cost.is_finite().then_some(Run { theta, cost, iterations: st.get_iter() })
}

fn nelder_mead<O: Objective>(obj: &O, theta0: &[f64]) -> Option<Run> {
    let mut simplex = vec![theta0.to_vec()];
    for i in 0..theta0.len() {
        let mut v = theta0.to_vec();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12).ok()?;
    let res =
        Executor::new(Problem::new(obj, true), solver).configure(|s| s.max_iters(5000)).timer(false).run().ok()?;
    let st = res.state();
    let cost = st.get_best_cost();
    Some(Run { theta: st.get_best_param()?.clone(), cost, iterations: st.get_iter() }).filter(|_| cost.is_finite())
}

/// Maximizes ln L from every start; see the module docs.
pub(crate) fn maximize<O: Objective>(obj: &O, n_rows: usize) -> Result<FitReport, ClvError> {
    let model = O::MODEL;
    let mut best: Option<(Run, &'static str)> = None;
    for start in obj.starts() {
        let theta0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
        let run = match lbfgs(obj, theta0.clone()) {
            Some(r) => Some((r, "lbfgs")),
            None => nelder_mead(obj, &theta0).map(|nm| {
                let iters = nm.iterations;
                match lbfgs(obj, nm.theta.clone()) {
                    Some(mut r) if r.cost <= nm.cost => {
                        r.iterations += iters;
                        (r, "nelder_mead+lbfgs")
                    }
                    _ => (nm, "nelder_mead"),
                }
            }),
        };
        match &run {
            Some((r, how)) => {
                tracing::debug!(model, ?start, method = how, iterations = r.iterations, cost = r.cost, "fit start")
            }
            None => tracing::debug!(model, ?start, "fit start failed"),
        }
        if let Some((r, how)) = run {
            if best.as_ref().is_none_or(|(b, _)| r.cost < b.cost) {
                best = Some((r, how));
            }
        }
        // The starts are fallbacks: stop at the first run that reaches the gradient tolerance.
        if best.as_ref().is_some_and(|(b, _)| grad_max(obj, &b.theta) < GRAD_TOL) {
            break;
        }
    }
    let (run, method) = best.ok_or_else(|| ClvError::Degenerate {
        model,
        reason: "the log-likelihood could not be evaluated at any starting point".into(),
    })?;
    for (name, t) in O::NAMES.iter().zip(&run.theta) {
        if t.abs() > LOG_PARAM_LIMIT {
            let dir = if *t > 0.0 { "infinity" } else { "zero" };
            return Err(ClvError::Degenerate {
                model,
                reason: format!(
                    "parameter {name} runs off to {dir} ({:.3e}); the data do not identify it (too few customers or repeat purchases?)",
                    t.exp()
                ),
            });
        }
    }
    let params: Vec<f64> = run.theta.iter().map(|t| t.exp()).collect();
    let mut g = vec![0.0; params.len()];
    let ll = obj.ll_grad(&params, Some(&mut g));
    if !ll.is_finite() {
        return Err(ClvError::Degenerate { model, reason: "the log-likelihood at the optimum is not finite".into() });
    }
    let n = obj.n();
    let grad_max = g.iter().zip(&params).map(|(gi, p)| (gi * p / n).abs()).fold(0.0, f64::max);
    Ok(FitReport {
        names: O::NAMES.to_vec(),
        std_errors: std_errors(obj, &run.theta),
        params,
        log_likelihood: ll,
        converged: grad_max < GRAD_TOL,
        iterations: run.iterations,
        method,
        n_customers: n as usize,
        n_rows,
    })
}

/// Largest |∂(−ln L / n)/∂ ln θᵢ| at θ (∞ when it cannot be evaluated).
fn grad_max<O: Objective>(obj: &O, theta: &[f64]) -> f64 {
    let p: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    let mut g = vec![0.0; p.len()];
    let ll = obj.ll_grad(&p, Some(&mut g));
    if !ll.is_finite() {
        return f64::INFINITY;
    }
    g.iter().zip(&p).map(|(gi, pi)| (gi * pi / obj.n()).abs()).fold(0.0, f64::max)
}

/// Standard errors from the observed information in log-parameters (delta method).
fn std_errors<O: Objective>(obj: &O, theta: &[f64]) -> Option<Vec<f64>> {
    let k = theta.len();
    let grad_at = |th: &[f64]| {
        let p: Vec<f64> = th.iter().map(|t| t.exp()).collect();
        let mut g = vec![0.0; k];
        obj.ll_grad(&p, Some(&mut g));
        g.iter().zip(&p).map(|(gi, pi)| gi * pi).collect::<Vec<f64>>()
    };
    let h = 1e-4;
    let mut info = vec![vec![0.0; k]; k];
    for j in 0..k {
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[j] += h;
        dn[j] -= h;
        let (gu, gd) = (grad_at(&up), grad_at(&dn));
        for i in 0..k {
            info[i][j] = -(gu[i] - gd[i]) / (2.0 * h);
        }
    }
    for i in 0..k {
        for j in 0..i {
            let s = 0.5 * (info[i][j] + info[j][i]);
            info[i][j] = s;
            info[j][i] = s;
        }
    }
    let inv = spd_inverse(&info)?;
    let se: Vec<f64> = (0..k).map(|i| theta[i].exp() * inv[i][i].sqrt()).collect();
    se.iter().all(|v| v.is_finite()).then_some(se)
}

/// Inverse of a symmetric positive-definite matrix by Cholesky; None when it is not SPD.
fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = a.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|m| l[i][m] * l[j][m]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // Solve L Lᵀ X = I column by column.
    let mut inv = vec![vec![0.0; k]; k];
    for c in 0..k {
        let mut y = vec![0.0; k];
        for i in 0..k {
            let rhs = if i == c { 1.0 } else { 0.0 };
            y[i] = (rhs - (0..i).map(|m| l[i][m] * y[m]).sum::<f64>()) / l[i][i];
        }
        for i in (0..k).rev() {
            inv[i][c] = (y[i] - (i + 1..k).map(|m| l[m][i] * inv[m][c]).sum::<f64>()) / l[i][i];
        }
    }
    Some(inv)
}

/// Fits BG/NBD by maximum likelihood.
///
/// ## Example
/// ```
/// use custlens::clv::fit::{fit_bgnbd, BgNbdData};
/// // Three customers' (x, t_x, T) in weeks.
/// let data = BgNbdData::new(&[0.0, 2.0, 5.0, 1.0], &[0.0, 20.0, 30.0, 3.0], &[39.0, 38.0, 35.0, 39.0]).unwrap();
/// let (model, report) = fit_bgnbd(&data).unwrap();
/// assert!(report.log_likelihood.is_finite() && model.r > 0.0);
/// ```
pub fn fit_bgnbd(data: &BgNbdData) -> Result<(BgNbd, FitReport), ClvError> {
    let rep = maximize(data, data.rows())?;
    Ok((BgNbd::from_slice(&rep.params), rep))
}

/// Fits Pareto/NBD by maximum likelihood.
///
/// ## Example
/// ```
/// use custlens::clv::fit::{fit_pareto_nbd, CountData, ParetoNbdData};
/// use custlens::clv::{gamma_gamma::GammaGamma, pareto_nbd::ParetoNbd, score::SummaryColumns, TimeUnit};
/// use custlens::clv::simulate::{simulate_model, CountProcess};
/// let truth = ParetoNbd { r: 0.55, alpha: 40.0, s: 0.6, beta: 80.0 };
/// let spend = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
/// let sim = simulate_model(3000, 1, 730, &CountProcess::ParetoNbd(truth), &spend, false).unwrap();
/// let c = SummaryColumns::from_frame(&sim.summary, TimeUnit::Days).unwrap();
/// let data = CountData::for_model("pareto_nbd", &c.x, &c.t_x, &c.t).unwrap();
/// let (model, report) = fit_pareto_nbd(&ParetoNbdData::new(&data)).unwrap();
/// assert!(report.converged && (model.r - 0.55).abs() < 0.15);
/// ```
pub fn fit_pareto_nbd(data: &ParetoNbdData) -> Result<(ParetoNbd, FitReport), ClvError> {
    let rep = maximize(data, data.data.rows())?;
    Ok((ParetoNbd::from_slice(&rep.params), rep))
}

/// Fits MBG/NBD by maximum likelihood.
pub fn fit_mbgnbd(data: &CountData) -> Result<(MbgNbd, FitReport), ClvError> {
    let rep = maximize(&MbgObjective(data), data.rows())?;
    Ok((MbgNbd::from_slice(&rep.params), rep))
}

/// Fits BG/BB by maximum likelihood.
pub fn fit_bgbb(data: &BgBbData) -> Result<(BgBb, FitReport), ClvError> {
    let rep = maximize(data, data.rows())?;
    Ok((BgBb::from_slice(&rep.params), rep))
}

/// Fits Gamma-Gamma by maximum likelihood. The population mean spend must be finite (q > 1).
pub fn fit_gamma_gamma(data: &GammaGammaData) -> Result<(GammaGamma, FitReport), ClvError> {
    let rep = maximize(data, data.customers())?;
    let m = GammaGamma::from_slice(&rep.params);
    if m.population_mean().is_none() {
        return Err(ClvError::Degenerate {
            model: "gamma_gamma",
            reason: format!("q = {:.4} ≤ 1, so the mean spend per transaction would be infinite", m.q),
        });
    }
    Ok((m, rep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_counts_equal_rows_once() {
        let d =
            BgNbdData::new(&[0.0, 0.0, 1.0, 1.0, 1.0], &[0.0, 0.0, 2.0, 2.0, 3.0], &[5.0, 5.0, 5.0, 5.0, 5.0]).unwrap();
        assert_eq!((d.rows(), d.customers()), (3, 5));
        let m = BgNbd { r: 0.5, alpha: 2.0, a: 0.7, b: 1.5 };
        let want = 2.0 * m.log_likelihood(0.0, 0.0, 5.0)
            + 2.0 * m.log_likelihood(1.0, 2.0, 5.0)
            + m.log_likelihood(1.0, 3.0, 5.0);
        assert!((d.log_likelihood(&m) - want).abs() < 1e-12);
    }

    #[test]
    fn invalid_rows_and_degenerate_data_are_errors() {
        assert!(matches!(BgNbdData::new(&[1.5], &[1.0], &[2.0]), Err(ClvError::InvalidSummary { row: 0, .. })));
        assert!(matches!(
            BgNbdData::new(&[0.0, 1.0], &[0.0, 3.0], &[2.0, 2.0]),
            Err(ClvError::InvalidSummary { row: 1, .. })
        ));
        let e = BgNbdData::new(&[0.0, 0.0], &[0.0, 0.0], &[3.0, 4.0]).unwrap_err();
        assert!(e.to_string().contains("bgnbd") && e.to_string().contains("repeat"), "{e}");
        let e = GammaGammaData::new(&[1.0, 2.0], &[5.0, 5.0]).unwrap_err();
        assert!(e.to_string().contains("gamma_gamma"), "{e}");
    }

    #[test]
    fn spd_inverse_of_a_small_matrix() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = spd_inverse(&a).unwrap();
        // det 8: [[3, −2], [−2, 4]] / 8.
        let want = [[0.375, -0.25], [-0.25, 0.5]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - want[i][j]).abs() < 1e-15);
            }
        }
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }

    #[test]
    fn objective_gradient_matches_finite_differences_over_compressed_rows() {
        let x = [0.0, 1.0, 3.0, 3.0, 7.0, 0.0];
        let tx = [0.0, 4.0, 10.0, 10.0, 30.0, 0.0];
        let t = [12.0, 20.0, 25.0, 25.0, 31.0, 2.0];
        let d = BgNbdData::new(&x, &tx, &t).unwrap();
        let p = [0.4, 6.0, 0.9, 2.2];
        let mut g = [0.0; 4];
        d.ll_grad(&p, Some(&mut g));
        for i in 0..4 {
            let h = 1e-6 * p[i];
            let (mut up, mut dn) = (p, p);
            up[i] += h;
            dn[i] -= h;
            let fd = (d.ll_grad(&up, None) - d.ll_grad(&dn, None)) / (2.0 * h);
            assert!((g[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{i}: {} vs {fd}", g[i]);
        }
        let gg = GammaGammaData::new(&[1.0, 2.0, 5.0, 3.0], &[10.0, 25.0, 14.0, 40.0]).unwrap();
        let p = [3.0, 2.5, 20.0];
        let mut g = [0.0; 3];
        gg.ll_grad(&p, Some(&mut g));
        for i in 0..3 {
            let h = 1e-6 * p[i];
            let (mut up, mut dn) = (p, p);
            up[i] += h;
            dn[i] -= h;
            let fd = (gg.ll_grad(&up, None) - gg.ll_grad(&dn, None)) / (2.0 * h);
            assert!((g[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{i}: {} vs {fd}", g[i]);
        }
    }
}
