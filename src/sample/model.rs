//! The generative model behind `custlens gen`: who buys, when, how much, and what.
//!
//! ## Method
//! Each person is simulated alone from their own random stream (`seed`, person index), so the
//! output does not depend on how persons are split across threads.
//!
//! - **Timing: BG/NBD** (Fader, Hardie & Lee 2005). λ ~ Gamma(r, rate α) purchases per day,
//!   p ~ Beta(a, b). The first purchase is at acquisition (uniform over the first
//!   `acquisition_share` of the window); while alive, inter-purchase times are Exp(λ); after each
//!   *repeat* purchase the person becomes inactive with probability p (never at acquisition).
//! - **Spend: Gamma-Gamma** (Fader & Hardie 2013). ν ~ Gamma(q, rate γ) per person; each
//!   transaction's value z ~ Gamma(p, rate ν), in the base currency (CNY). The order's lines are
//!   priced so they add up to z (catalog prices scaled per order, rounded to cents).
//! - **Types** are labels derived from the draws (λ above or below its mean r/α; mean spend
//!   p/ν above or below its mean pγ/(q−1)), so BG/NBD and Gamma-Gamma hold exactly for the whole
//!   population while types still differ in rate and spend; types also set basket preferences
//!   (see [`super::baskets`]) and email/SMS engagement.
//! - **Noise orders** that are not purchases (unpaid orders that time out, cancellations, full
//!   refunds) are added around purchases; they never enter the purchase log.

use super::baskets::{BasketModel, Line};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Exp, Gamma};
use serde::{Deserialize, Serialize};

/// BG/NBD parameters; rates per **day**.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl Default for BgNbdParams {
    fn default() -> Self {
        BgNbdParams { r: 0.75, alpha: 40.0, a: 0.8, b: 2.5 }
    }
}

/// Gamma-Gamma spend parameters, in base-currency units (CNY).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GammaGammaParams {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl Default for GammaGammaParams {
    fn default() -> Self {
        GammaGammaParams { p: 6.0, q: 4.0, gamma: 150.0 }
    }
}

/// Rates of the noise that ingest must cope with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseParams {
    /// Share of order and event records written malformed (a bad date, or a missing id).
    pub malformed_rate: f64,
    /// Share of orders written again in a re-export file (duplicates).
    pub duplicate_rate: f64,
    /// Share of online-store orders whose email has a typo.
    pub email_typo_rate: f64,
    /// Share of POS receipts carrying the store's default phone instead of the member's.
    pub placeholder_phone_rate: f64,
    /// Per purchase: an extra unpaid order that times out (cancelled).
    pub unpaid_rate: f64,
    /// Per purchase: an extra order cancelled after payment.
    pub cancel_rate: f64,
    /// Per purchase: an extra order fully refunded.
    pub refund_rate: f64,
    /// Share of purchases partially refunded (they stay purchases).
    pub partial_refund_rate: f64,
}

impl Default for NoiseParams {
    fn default() -> Self {
        NoiseParams {
            malformed_rate: 0.001,
            duplicate_rate: 0.01,
            email_typo_rate: 0.01,
            placeholder_phone_rate: 0.05,
            unpaid_rate: 0.03,
            cancel_rate: 0.015,
            refund_rate: 0.02,
            partial_refund_rate: 0.02,
        }
    }
}

/// Sales channels the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Shopify,
    Taobao,
    Pos,
    WooCommerce,
    Jd,
    Pinduoduo,
    Douyin,
}

/// Number of sales channels.
pub const N_CHANNELS: usize = 7;

impl Channel {
    pub const ALL: [Channel; N_CHANNELS] = [
        Channel::Shopify,
        Channel::Taobao,
        Channel::Pos,
        Channel::WooCommerce,
        Channel::Jd,
        Channel::Pinduoduo,
        Channel::Douyin,
    ];

    /// The source name in the lake.
    pub fn source(self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::Taobao => "taobao",
            Channel::Pos => "pos",
            Channel::WooCommerce => "woocommerce",
            Channel::Jd => "jd",
            Channel::Pinduoduo => "pinduoduo",
            Channel::Douyin => "douyin",
        }
    }

    /// The export carries an order status (POS receipts do not), so noise orders can happen there.
    pub fn has_status(self) -> bool {
        self != Channel::Pos
    }

    /// The export can show a partial refund (a refund amount on an order that stays a purchase).
    pub fn partial_refunds(self) -> bool {
        matches!(self, Channel::Shopify | Channel::Taobao | Channel::WooCommerce)
    }

    /// Pinduoduo orders hold one product: only single-line baskets are bought there.
    pub fn single_product(self) -> bool {
        self == Channel::Pinduoduo
    }

    /// Units of the base currency (CNY) per unit of the channel's currency: the online stores sell in USD.
    pub fn rate(self) -> f64 {
        match self {
            Channel::Shopify | Channel::WooCommerce => super::formats::USD_RATE,
            _ => 1.0,
        }
    }
}

/// Latent customer types (the truth for clustering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LoyalHighValue,
    LoyalRegular,
    OccasionalBigSpender,
    OccasionalBargain,
}

impl Kind {
    pub const ALL: [Kind; 4] =
        [Kind::LoyalHighValue, Kind::LoyalRegular, Kind::OccasionalBigSpender, Kind::OccasionalBargain];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::LoyalHighValue => "loyal_high_value",
            Kind::LoyalRegular => "loyal_regular",
            Kind::OccasionalBigSpender => "occasional_big_spender",
            Kind::OccasionalBargain => "occasional_bargain",
        }
    }

    /// Email open, click-after-open and unsubscribe probabilities per campaign; SMS click.
    pub fn engagement(self) -> (f64, f64, f64, f64) {
        match self {
            Kind::LoyalHighValue => (0.55, 0.35, 0.002, 0.12),
            Kind::LoyalRegular => (0.35, 0.2, 0.005, 0.06),
            Kind::OccasionalBigSpender => (0.2, 0.15, 0.01, 0.04),
            Kind::OccasionalBargain => (0.1, 0.1, 0.03, 0.02),
        }
    }

    /// Probability that an order gets a complaint ticket.
    pub fn complaint_rate(self) -> f64 {
        match self {
            Kind::LoyalHighValue => 0.01,
            Kind::LoyalRegular => 0.02,
            Kind::OccasionalBigSpender => 0.04,
            Kind::OccasionalBargain => 0.05,
        }
    }
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Placed in the last day of the window, not paid yet.
    Pending,
    /// Never paid; timed out and closed.
    Unpaid,
    Cancelled,
    Refunded,
    Paid,
    Shipped,
    Completed,
    PartialRefund,
}

impl Fate {
    /// Counts as a purchase (and is in the purchase log).
    pub fn is_purchase(self) -> bool {
        matches!(self, Fate::Paid | Fate::Shipped | Fate::Completed | Fate::PartialRefund)
    }
}

/// One simulated order.
#[derive(Debug, Clone)]
pub struct SimOrder {
    /// The person's order number (0-based, in time order).
    pub seq: usize,
    pub channel: Channel,
    /// Days since the window start (China time), fractional.
    pub day: f64,
    pub lines: Vec<Line>,
    /// Gamma-Gamma draw in base currency (purchases; noise orders draw too).
    pub z: f64,
    pub fate: Fate,
    /// Days between placing and shipping.
    pub ship_after_days: f64,
}

/// One simulated person with their latent draws and orders (sorted by time).
#[derive(Debug, Clone)]
pub struct SimPerson {
    pub index: usize,
    pub kind: Kind,
    pub lambda: f64,
    pub p: f64,
    pub nu: f64,
    /// Still active at the window end.
    pub alive: bool,
    pub acquired_day: f64,
    /// Preferred first.
    pub channels: Vec<Channel>,
    pub orders: Vec<SimOrder>,
}

impl SimPerson {
    /// Number of repeat purchases in the BG/NBD process (purchases minus the first).
    pub fn repeat_purchases(&self) -> usize {
        self.orders.iter().filter(|o| o.fate.is_purchase()).count().saturating_sub(1)
    }
}

/// Everything the simulation needs, checked.
#[derive(Debug, Clone)]
pub struct Model {
    pub bgnbd: BgNbdParams,
    pub spend: GammaGammaParams,
    pub noise: NoiseParams,
    pub days: f64,
    pub acquisition_share: f64,
    /// Weights of the channels, in [`Channel::ALL`] order, as a person's channels.
    pub channel_weights: [f64; N_CHANNELS],
    /// P(1, 2, 3 channels).
    pub channels_per_person: [f64; 3],
    pub baskets: BasketModel,
}

/// Random stream of one person: the seed's ChaCha8 on stream `index + 1` (stream 0 is the world's).
pub fn person_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(index as u64 + 1);
    r
}

impl Model {
    /// Mean λ and mean spend, the thresholds of the type labels.
    fn thresholds(&self) -> (f64, f64) {
        let g = &self.spend;
        (self.bgnbd.r / self.bgnbd.alpha, g.p * g.gamma / (g.q - 1.0))
    }

    /// Simulates person `index` from `rng`.
    pub fn person(&self, index: usize, rng: &mut ChaCha8Rng) -> SimPerson {
        let b = &self.bgnbd;
        let lambda = draw_gamma(rng, b.r, b.alpha);
        let p = Beta::new(b.a, b.b).map_or(0.5, |d| d.sample(rng));
        let nu = draw_gamma(rng, self.spend.q, self.spend.gamma);
        let (mean_lambda, mean_spend) = self.thresholds();
        let kind = match (lambda > mean_lambda, self.spend.p / nu > mean_spend) {
            (true, true) => Kind::LoyalHighValue,
            (true, false) => Kind::LoyalRegular,
            (false, true) => Kind::OccasionalBigSpender,
            (false, false) => Kind::OccasionalBargain,
        };
        let acquired_day = rng.gen_range(0.0..self.days * self.acquisition_share);
        let channels = self.pick_channels(rng);
        let (times, alive) = purchase_times(lambda, p, acquired_day, self.days, rng);
        let mut orders = Vec::with_capacity(times.len() + 2);
        for day in times {
            orders.push(self.order(kind, nu, &channels, day, true, rng));
            let n = &self.noise;
            for (rate, fate) in
                [(n.unpaid_rate, Fate::Unpaid), (n.cancel_rate, Fate::Cancelled), (n.refund_rate, Fate::Refunded)]
            {
                // POS exports have no status: noise orders happen online only.
                if rng.gen_bool(rate.clamp(0.0, 1.0)) && channels.iter().any(|c| c.has_status()) {
                    let extra = (day + rng.gen_range(-30.0..30.0)).clamp(0.0, self.days - 1e-6);
                    let mut o = self.order(kind, nu, &channels, extra, false, rng);
                    o.fate = match fate {
                        Fate::Unpaid if self.days - extra < 1.0 => Fate::Pending,
                        f => f,
                    };
                    orders.push(o);
                }
            }
        }
        orders.sort_by(|a, b| a.day.total_cmp(&b.day));
        for (i, o) in orders.iter_mut().enumerate() {
            o.seq = i;
        }
        SimPerson { index, kind, lambda, p, nu, alive, acquired_day, channels, orders }
    }

    fn pick_channels(&self, rng: &mut ChaCha8Rng) -> Vec<Channel> {
        let n = WeightedIndex::new(self.channels_per_person).map_or(1, |d| d.sample(rng) + 1);
        let mut pool: Vec<(Channel, f64)> = Channel::ALL.into_iter().zip(self.channel_weights).collect();
        let mut out = Vec::with_capacity(n + 1);
        // Pinduoduo sells single products: its buyers also buy elsewhere (multi-product baskets go there).
        while out.len() < n || out.iter().all(|c: &Channel| c.single_product()) {
            let Ok(d) = WeightedIndex::new(pool.iter().map(|c| c.1)) else { break };
            out.push(pool.remove(d.sample(rng)).0);
        }
        out
    }

    fn order(
        &self,
        kind: Kind,
        nu: f64,
        channels: &[Channel],
        day: f64,
        purchase: bool,
        rng: &mut ChaCha8Rng,
    ) -> SimOrder {
        // The basket first: a multi-product basket is never bought where orders hold one product.
        let mut lines = self.baskets.basket(kind, rng);
        let fits = |c: &Channel, n: usize| (purchase || c.has_status()) && (n == 1 || !c.single_product());
        let mut pool: Vec<Channel> = channels.iter().copied().filter(|c| fits(c, lines.len())).collect();
        if pool.is_empty() {
            // Only a noise order of a Pinduoduo and POS shopper gets here (every shopper has a channel
            // that takes multi-product baskets): it is cut to one product (noise baskets are never mined).
            lines.truncate(1);
            pool = channels.iter().copied().filter(|c| fits(c, 1)).collect();
        }
        let channel = match pool.split_first() {
            Some((first, rest)) if rest.is_empty() || rng.gen_bool(0.6) => *first,
            Some((_, rest)) => rest[rng.gen_range(0..rest.len())],
            None => Channel::Shopify,
        };
        let z = draw_gamma(rng, self.spend.p, nu);
        let ship_after_days = rng.gen_range(0.3..3.0);
        let fate = if !purchase {
            Fate::Cancelled
        } else if channel.partial_refunds()
            && rng.gen_bool(self.noise.partial_refund_rate.clamp(0.0, 1.0))
            && day + ship_after_days + 3.0 < self.days
        {
            Fate::PartialRefund
        } else if channel == Channel::Pos || day + ship_after_days + 7.0 < self.days {
            Fate::Completed
        } else if day + ship_after_days < self.days {
            Fate::Shipped
        } else {
            Fate::Paid
        };
        SimOrder { seq: 0, channel, day, lines, z, fate, ship_after_days }
    }
}

/// Gamma with shape `k` and **rate** `rate` (rand_distr takes a scale).
fn draw_gamma(rng: &mut ChaCha8Rng, k: f64, rate: f64) -> f64 {
    Gamma::new(k, 1.0 / rate).map_or(k / rate, |g| g.sample(rng)).max(f64::MIN_POSITIVE)
}

/// BG/NBD purchase days from acquisition to the window end; and whether still alive at the end.
pub fn purchase_times(lambda: f64, p: f64, start: f64, end: f64, rng: &mut ChaCha8Rng) -> (Vec<f64>, bool) {
    let mut out = vec![start];
    let Ok(gap) = Exp::new(lambda) else { return (out, true) };
    let mut t = start;
    loop {
        t += gap.sample(rng);
        if t >= end {
            return (out, true);
        }
        out.push(t);
        if rng.gen_bool(p.clamp(0.0, 1.0)) {
            return (out, false);
        }
    }
}

/// Mean and variance of the number of repeat purchases in a span `t` after acquisition, given
/// λ and p: X = min(N, G) with N ~ Poisson(λt) and G ~ Geometric(p) on 1, 2, …, so
/// `E[X] = Σ_k P(N ≥ k)(1 − p)^(k−1)` and `E[X²] = Σ_k (2k − 1) P(N ≥ k)(1 − p)^(k−1)`.
/// (Its closed form is the BG/NBD individual-level expectation (1 − e^(−λpt))/p for the mean.)
pub fn repeat_moments(lambda: f64, p: f64, t: f64) -> (f64, f64) {
    let mu = lambda * t;
    let (mut pmf, mut cdf) = ((-mu).exp(), 0.0);
    let (mut m1, mut m2) = (0.0, 0.0);
    for k in 1..1_000_000usize {
        cdf += pmf; // P(N <= k - 1)
        pmf *= mu / k as f64;
        let tail = (1.0 - cdf).max(0.0);
        let s = tail * (1.0 - p).powi(k as i32 - 1);
        m1 += s;
        m2 += (2 * k - 1) as f64 * s;
        if (tail < 1e-14 || s < 1e-16) && k as f64 > mu {
            break;
        }
    }
    (m1, m2 - m1 * m1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_purchases_match_the_bgnbd_expectation() {
        // Given each person's true λ and p, repeat purchases in (acquisition, end] have the mean and
        // variance of min(Poisson(λt), Geometric(p)); the total must be within 4 standard deviations.
        let model = BgNbdParams::default();
        let (mut observed, mut expected, mut var) = (0.0, 0.0, 0.0);
        for i in 0..20_000 {
            let mut rng = person_rng(11, i);
            let lambda = draw_gamma(&mut rng, model.r, model.alpha);
            let p = Beta::new(model.a, model.b).unwrap().sample(&mut rng);
            let start = rng.gen_range(0.0..700.0);
            let (times, _) = purchase_times(lambda, p, start, 730.0, &mut rng);
            let (m, v) = repeat_moments(lambda, p, 730.0 - start);
            observed += (times.len() - 1) as f64;
            expected += m;
            var += v;
        }
        let z = (observed - expected) / var.sqrt();
        assert!(z.abs() < 4.0, "observed {observed}, expected {expected}, z = {z:.2}");
    }

    #[test]
    fn moments_hand_checked() {
        // p = 1: at most one repeat purchase, E[X] = P(N >= 1) = 1 − e^{−μ}.
        let (m, v) = repeat_moments(0.1, 1.0, 10.0);
        let q = 1.0 - (-1.0f64).exp();
        assert!((m - q).abs() < 1e-12 && (v - q * (1.0 - q)).abs() < 1e-12);
        // p → 0: Poisson mean and variance.
        let (m, v) = repeat_moments(0.2, 1e-12, 10.0);
        assert!((m - 2.0).abs() < 1e-6 && (v - 2.0).abs() < 1e-5);
    }

    #[test]
    fn latent_draws_follow_their_priors() {
        let (b, g) = (BgNbdParams::default(), GammaGammaParams::default());
        let n = 40_000;
        let (mut sl, mut sp, mut snu) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let mut rng = person_rng(5, i);
            sl += draw_gamma(&mut rng, b.r, b.alpha);
            sp += Beta::new(b.a, b.b).unwrap().sample(&mut rng);
            snu += draw_gamma(&mut rng, g.q, g.gamma);
        }
        let n = n as f64;
        // Means within 4 standard errors: Gamma(k, rate θ) has variance k/θ²; Beta(a, b) ab/((a+b)²(a+b+1)).
        let check = |mean: f64, want: f64, var: f64, what: &str| {
            let se = (var / n).sqrt();
            assert!((mean - want).abs() < 4.0 * se, "{what}: {mean} vs {want} (se {se})");
        };
        check(sl / n, b.r / b.alpha, b.r / b.alpha.powi(2), "lambda");
        let ab = b.a + b.b;
        check(sp / n, b.a / ab, b.a * b.b / (ab * ab * (ab + 1.0)), "p");
        check(snu / n, g.q / g.gamma, g.q / g.gamma.powi(2), "nu");
    }
}
