//! Seeded simulation of BG/NBD, Pareto/NBD or MBG/NBD + Gamma-Gamma customers, and of BG/BB
//! cohorts, for benchmarks and tests: a summary table directly (millions of customers in
//! seconds) and, optionally, the orders behind it.
//!
//! ## Method
//! Customer i is acquired on a day uniform in [0, days); λ ~ Gamma(r, rate α) per day,
//! ν ~ Gamma(q, rate γ). From the acquisition instant (a uniform time within the day), purchases
//! follow at Exp(λ) gaps while alive:
//! - BG/NBD: p ~ Beta(a, b); after each repeat purchase the customer drops out with probability p;
//! - MBG/NBD: the same, and also right after the first purchase;
//! - Pareto/NBD: μ ~ Gamma(s, rate β); the customer dies after an Exp(μ) lifetime.
//!
//! Each purchase is worth Gamma(p_s, rate ν). Purchases are counted by day exactly as
//! [`super::summary::summary`] does (same-day purchases merge, values add up), with the
//! calibration end on day `days − 1`.
//!
//! BG/BB ([`simulate_bgbb`]): p ~ Beta(α, β), θ ~ Beta(γ, δ); before each of a customer's n
//! opportunities an alive customer dies with probability θ, and an alive one buys with
//! probability p (Fader, Hardie & Shang 2010).

use super::bgbb::BgBb;
use super::bgnbd::BgNbd;
use super::gamma_gamma::GammaGamma;
use super::mbgnbd::MbgNbd;
use super::pareto_nbd::ParetoNbd;
use crate::analytics::DAY_US;
use polars::prelude::*;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Exp, Gamma};

/// A simulated summary (the columns of [`super::summary::summary`], `customer_id` an Int64) and,
/// when asked for, the orders (`customer_id`, `created_at`, `net_base`) from day 0 = 2020-01-01.
pub struct Simulated {
    pub summary: DataFrame,
    pub orders: Option<DataFrame>,
}

/// Simulates `n` customers over `days` days; `bgnbd` rates are per day.
///
/// ## Example
/// ```
/// use custlens::clv::{bgnbd::BgNbd, gamma_gamma::GammaGamma, simulate::simulate};
/// let s = simulate(1000, 7, 365, &BgNbd { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 },
///                  &GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 }, true).unwrap();
/// assert_eq!(s.summary.height(), 1000);
/// assert!(s.orders.unwrap().height() >= 1000);
/// ```
pub fn simulate(
    n: usize,
    seed: u64,
    days: i64,
    bgnbd: &BgNbd,
    spend: &GammaGamma,
    with_orders: bool,
) -> PolarsResult<Simulated> {
    simulate_model(n, seed, days, &CountProcess::BgNbd(*bgnbd), spend, with_orders)
}

/// The purchase process of [`simulate_model`]; rates per day.
#[derive(Debug, Clone, Copy)]
pub enum CountProcess {
    BgNbd(BgNbd),
    ParetoNbd(ParetoNbd),
    MbgNbd(MbgNbd),
}

/// Simulates `n` customers over `days` days from any continuous-time model (see the module docs).
///
/// ## Example
/// ```
/// use custlens::clv::{pareto_nbd::ParetoNbd, gamma_gamma::GammaGamma, simulate::{simulate_model, CountProcess}};
/// let m = CountProcess::ParetoNbd(ParetoNbd { r: 0.55, alpha: 10.0, s: 0.6, beta: 80.0 });
/// let s = simulate_model(500, 3, 365, &m, &GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 }, false).unwrap();
/// assert_eq!(s.summary.height(), 500);
/// ```
pub fn simulate_model(
    n: usize,
    seed: u64,
    days: i64,
    model: &CountProcess,
    spend: &GammaGamma,
    with_orders: bool,
) -> PolarsResult<Simulated> {
    let err = |e: rand_distr::GammaError| PolarsError::ComputeError(e.to_string().into());
    let berr = |e: rand_distr::BetaError| PolarsError::ComputeError(e.to_string().into());
    let (r, alpha) = match model {
        CountProcess::BgNbd(m) => (m.r, m.alpha),
        CountProcess::ParetoNbd(m) => (m.r, m.alpha),
        CountProcess::MbgNbd(m) => (m.r, m.alpha),
    };
    let lam = Gamma::new(r, 1.0 / alpha).map_err(err)?;
    // The dropout probability's Beta (BG/NBD, MBG/NBD) or the death rate's Gamma (Pareto/NBD).
    let (drop, death) = match model {
        CountProcess::BgNbd(m) => (Some(Beta::new(m.a, m.b).map_err(berr)?), None),
        CountProcess::MbgNbd(m) => (Some(Beta::new(m.a, m.b).map_err(berr)?), None),
        CountProcess::ParetoNbd(m) => (None, Some(Gamma::new(m.s, 1.0 / m.beta).map_err(err)?)),
    };
    let drop_at_start = matches!(model, CountProcess::MbgNbd(_));
    let nu = Gamma::new(spend.q, 1.0 / spend.gamma).map_err(err)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let end = days - 1;
    let (mut first, mut xs, mut txs, mut ts, mut sp) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut o_id, mut o_ts, mut o_v) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let d0 = rng.gen_range(0..days);
        let start = d0 as f64 + rng.gen::<f64>();
        let l: f64 = lam.sample(&mut rng).max(1e-300);
        let p: f64 = match &drop {
            Some(d) => d.sample(&mut rng),
            None => 0.0,
        };
        let mu: f64 = match &death {
            Some(d) => d.sample(&mut rng).max(1e-300),
            None => 0.0,
        };
        let v: f64 = nu.sample(&mut rng).max(1e-300);
        let value = Gamma::new(spend.p, 1.0 / v).map_err(err)?;
        let gap = Exp::new(l).map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        let (mut t, mut last_day, mut x, mut repeat_total, mut day_value) = (start, d0, 0i64, 0.0, 0.0);
        let mut purchase = |t: f64, val: f64| {
            if with_orders {
                o_id.push(i as i64);
                o_ts.push((t * DAY_US as f64) as i64);
                o_v.push(val);
            }
        };
        let z0: f64 = value.sample(&mut rng);
        purchase(start, z0);
        // Pareto/NBD: the instant of death; the others: never (they drop out by coin).
        let death_at = if death.is_some() {
            start + Exp::new(mu).map_err(|e| PolarsError::ComputeError(e.to_string().into()))?.sample(&mut rng)
        } else {
            f64::INFINITY
        };
        let gone_at_start = drop_at_start && rng.gen::<f64>() < p;
        if !gone_at_start {
            loop {
                t += gap.sample(&mut rng);
                if t >= (end + 1) as f64 || t >= death_at {
                    break;
                }
                let z: f64 = value.sample(&mut rng);
                purchase(t, z);
                let day = t.floor() as i64;
                if day != last_day {
                    if x > 0 {
                        repeat_total += day_value;
                    }
                    x += 1;
                    last_day = day;
                    day_value = z;
                } else {
                    day_value += z;
                }
                if drop.is_some() && rng.gen::<f64>() < p {
                    break;
                }
            }
        }
        if x > 0 {
            repeat_total += day_value;
        }
        first.push(d0);
        xs.push(x);
        txs.push(last_day - d0);
        ts.push(end - d0);
        sp.push((x > 0).then(|| repeat_total / x as f64));
    }
    let summary = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), (0..n as i64).collect::<Vec<i64>>()),
        Column::new("first_day".into(), first),
        Column::new("x".into(), xs),
        Column::new("t_x_days".into(), txs),
        Column::new("T_days".into(), ts),
        Column::new("spend".into(), sp),
    ])?;
    let day0 = 18_262 * DAY_US; // 2020-01-01
    let orders = if with_orders {
        let ts: Vec<i64> = o_ts.into_iter().map(|t| t + day0).collect();
        Some(super::summary::orders_frame(o_id, ts, o_v)?)
    } else {
        None
    };
    Ok(Simulated { summary, orders })
}

/// Simulates a BG/BB summary: `n` customers, customer i observed for `opportunities[i %
/// opportunities.len()]` opportunities after acquisition. Columns `x`, `t_x`, `n` (Int64).
///
/// ## Example
/// ```
/// use custlens::clv::{bgbb::BgBb, simulate::simulate_bgbb};
/// let m = BgBb { alpha: 1.2, beta: 0.75, gamma: 0.66, delta: 2.8 };
/// let s = simulate_bgbb(1000, 1, &[6], &m).unwrap();
/// assert_eq!(s.height(), 1000);
/// ```
pub fn simulate_bgbb(n: usize, seed: u64, opportunities: &[u32], m: &BgBb) -> PolarsResult<DataFrame> {
    let berr = |e: rand_distr::BetaError| PolarsError::ComputeError(e.to_string().into());
    let buy = Beta::new(m.alpha, m.beta).map_err(berr)?;
    let die = Beta::new(m.gamma, m.delta).map_err(berr)?;
    if opportunities.is_empty() {
        return Err(PolarsError::ComputeError("no opportunity counts".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut xs, mut txs, mut ns) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let opp = opportunities[i % opportunities.len()] as i64;
        let (p, theta): (f64, f64) = (buy.sample(&mut rng), die.sample(&mut rng));
        let (mut x, mut t_x) = (0i64, 0i64);
        for j in 1..=opp {
            if rng.gen::<f64>() < theta {
                break;
            }
            if rng.gen::<f64>() < p {
                x += 1;
                t_x = j;
            }
        }
        xs.push(x);
        txs.push(t_x);
        ns.push(opp);
    }
    DataFrame::new_infer_height(vec![
        Column::new("x".into(), xs),
        Column::new("t_x".into(), txs),
        Column::new("n".into(), ns),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::summary::summary;

    #[test]
    fn simulated_summary_is_the_summary_of_its_orders() {
        let m = BgNbd { r: 2.0, alpha: 10.0, a: 0.8, b: 2.5 };
        let g = GammaGamma { p: 6.0, q: 4.0, gamma: 150.0 };
        let s = simulate(300, 3, 200, &m, &g, true).unwrap();
        let from_orders = summary(s.orders.unwrap().lazy(), 18_262 + 199).collect().unwrap();
        for c in ["customer_id", "x", "t_x_days", "T_days"] {
            assert!(s.summary.column(c).unwrap().equals(from_orders.column(c).unwrap()), "{c}");
        }
        let (a, b) =
            (s.summary.column("spend").unwrap().f64().unwrap(), from_orders.column("spend").unwrap().f64().unwrap());
        for (x, y) in a.iter().zip(b.iter()) {
            match (x, y) {
                (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-6, "{x} vs {y}"),
                (None, None) => {}
                _ => panic!("{x:?} vs {y:?}"),
            }
        }
    }
}
