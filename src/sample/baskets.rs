//! Baskets with planted association rules whose expected support and confidence are known exactly.
//!
//! ## Method
//! For a customer of type `k`, each product `i` enters the basket independently with probability
//! `π[k][i]` (Zipf-like popularity times the type's category preference, scaled so the mean base
//! size is `mean_size`); an empty draw is replaced by one product drawn with weights `π[k]`.
//! Then each planted rule `X → y` fires: when all of `X` is in the basket and `y` is not, `y` is
//! added with probability `c`. Rules use disjoint products, and no consequent is an antecedent, so
//! with `P0 = Π(1 − π_i)`, `S = Σ π_i` and `f_i = P0 π_i / S` (the fallback picking `i`):
//!
//! - one-item antecedent: `P(x) = π_x + f_x`, `P(x ∧ y) = π_x π_y + (π_x + f_x − π_x π_y) c`,
//!   `P(y) = π_y + f_y + (π_x + f_x − π_x π_y) c`;
//! - two-item antecedent: `P(x1 ∧ x2) = π1 π2`, `P(x1 ∧ x2 ∧ y) = π1 π2 (π_y + (1 − π_y) c)`,
//!   `P(y) = π_y + f_y + π1 π2 (1 − π_y) c`.
//!
//! Over a population the expectation is the mixture with the realized share of baskets per
//! type; [`BasketModel::rule_truth`] computes it. Quantities (1, 2 or 3 units) do not affect support.

use super::model::Kind;
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A basket line: a catalog index and units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub product: usize,
    pub qty: i64,
}

/// A planted rule as configured: SKUs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlantedRule {
    /// One or two SKUs.
    pub antecedent: Vec<String>,
    pub consequent: String,
    /// Probability that the consequent is added when the antecedent is in the basket.
    pub confidence: f64,
}

/// The default planted rules (catalog SKUs).
pub fn default_rules() -> Vec<PlantedRule> {
    let r = |a: &[&str], c: &str, conf: f64| PlantedRule {
        antecedent: a.iter().map(|s| s.to_string()).collect(),
        consequent: c.into(),
        confidence: conf,
    };
    vec![
        r(&["SKU-1001"], "SKU-1006", 0.5),
        r(&["SKU-1008"], "SKU-1009", 0.45),
        r(&["SKU-1039"], "SKU-1040", 0.4),
        r(&["SKU-1015", "SKU-1016"], "SKU-1019", 0.6),
    ]
}

#[derive(Debug, Clone)]
struct Rule {
    ante: Vec<usize>,
    cons: usize,
    c: f64,
}

/// Expected support and confidence of a planted rule over the generated valid baskets.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTruth {
    pub antecedent: Vec<String>,
    pub consequent: String,
    pub planted_confidence: f64,
    pub support: f64,
    pub antecedent_support: f64,
    pub consequent_support: f64,
    pub confidence: f64,
    pub lift: f64,
    /// Baskets the expectation is over (valid orders that reach the lake).
    pub baskets: u64,
    /// Binomial standard error of the support: sqrt(s(1 − s)/n).
    pub support_se: f64,
}

/// The basket model for every customer type.
#[derive(Debug, Clone)]
pub struct BasketModel {
    skus: Vec<String>,
    /// π per type and product.
    pi: Vec<Vec<f64>>,
    fallback: Vec<WeightedIndex<f64>>,
    rules: Vec<Rule>,
}

/// Category preference of each type (multiplies popularity).
fn preference(kind: Kind, category: &str) -> f64 {
    match (kind, category) {
        (Kind::LoyalHighValue, "Bedding" | "Decor") => 1.8,
        (Kind::LoyalRegular, "Kitchen" | "Tableware") => 1.6,
        (Kind::OccasionalBigSpender, "Bedding" | "Storage") => 1.7,
        (Kind::OccasionalBargain, "Bath" | "Tableware") => 1.7,
        _ => 1.0,
    }
}

impl BasketModel {
    /// Builds the model. `popularity[i]` > 0 is product i's weight; `categories[i]` its category.
    pub fn new(
        skus: &[String],
        categories: &[&str],
        popularity: &[f64],
        mean_size: f64,
        rules: &[PlantedRule],
    ) -> Result<BasketModel, String> {
        if !(mean_size > 0.0 && mean_size < skus.len() as f64 / 2.0) {
            return Err(format!("basket mean_size {mean_size} must be in (0, {})", skus.len() / 2));
        }
        let index =
            |s: &str| skus.iter().position(|k| k == s).ok_or_else(|| format!("planted rule uses unknown SKU {s}"));
        let mut used = std::collections::BTreeSet::new();
        let mut checked = Vec::new();
        for r in rules {
            if r.antecedent.is_empty() || r.antecedent.len() > 2 {
                return Err(format!("planted rule → {}: the antecedent needs one or two SKUs", r.consequent));
            }
            if !(0.0..=1.0).contains(&r.confidence) {
                return Err(format!("planted rule → {}: confidence {} is not in [0, 1]", r.consequent, r.confidence));
            }
            let ante = r.antecedent.iter().map(|s| index(s)).collect::<Result<Vec<_>, _>>()?;
            let cons = index(&r.consequent)?;
            for &i in ante.iter().chain([&cons]) {
                if !used.insert(i) {
                    return Err(format!("planted rules must use disjoint products; {} appears twice", skus[i]));
                }
            }
            checked.push(Rule { ante, cons, c: r.confidence });
        }
        let mut pi = Vec::new();
        let mut fallback = Vec::new();
        for kind in Kind::ALL {
            let w: Vec<f64> = popularity.iter().zip(categories).map(|(p, c)| p * preference(kind, c)).collect();
            let p = scale_to(&w, mean_size);
            fallback.push(WeightedIndex::new(&p).map_err(|e| e.to_string())?);
            pi.push(p);
        }
        Ok(BasketModel { skus: skus.to_vec(), pi, fallback, rules: checked })
    }

    /// Draws a basket for a customer of type `kind`; lines in catalog order.
    pub fn basket(&self, kind: Kind, rng: &mut ChaCha8Rng) -> Vec<Line> {
        let pi = &self.pi[kind.index()];
        let mut inside = vec![false; pi.len()];
        let mut any = false;
        for (i, p) in pi.iter().enumerate() {
            if rng.gen::<f64>() < *p {
                inside[i] = true;
                any = true;
            }
        }
        if !any {
            inside[self.fallback[kind.index()].sample(rng)] = true;
        }
        for r in &self.rules {
            if r.ante.iter().all(|&a| inside[a]) && !inside[r.cons] && rng.gen::<f64>() < r.c {
                inside[r.cons] = true;
            }
        }
        inside
            .iter()
            .enumerate()
            .filter(|(_, x)| **x)
            .map(|(product, _)| {
                let u: f64 = rng.gen();
                Line {
                    product,
                    qty: if u < 0.8 {
                        1
                    } else if u < 0.95 {
                        2
                    } else {
                        3
                    },
                }
            })
            .collect()
    }

    /// (P(antecedent), P(antecedent ∧ consequent), P(consequent)) for one type.
    fn probabilities(&self, r: &Rule, kind: Kind) -> (f64, f64, f64) {
        let pi = &self.pi[kind.index()];
        let p0: f64 = pi.iter().map(|p| 1.0 - p).product();
        let s: f64 = pi.iter().sum();
        let f = |i: usize| p0 * pi[i] / s;
        let py = pi[r.cons];
        match r.ante[..] {
            [x] => {
                let px = pi[x] + f(x);
                let x_not_y = px - pi[x] * py;
                (px, pi[x] * py + x_not_y * r.c, py + f(r.cons) + x_not_y * r.c)
            }
            [x1, x2] => {
                let both = pi[x1] * pi[x2];
                (both, both * (py + (1.0 - py) * r.c), py + f(r.cons) + both * (1.0 - py) * r.c)
            }
            _ => (0.0, 0.0, 0.0),
        }
    }

    /// Expected metrics of every planted rule given the number of valid baskets per type.
    pub fn rule_truth(&self, baskets_per_kind: &[u64; 4]) -> Vec<RuleTruth> {
        let n: u64 = baskets_per_kind.iter().sum();
        let w = |k: Kind| if n == 0 { 0.0 } else { baskets_per_kind[k.index()] as f64 / n as f64 };
        self.rules
            .iter()
            .map(|r| {
                let (mut pa, mut pab, mut pb) = (0.0, 0.0, 0.0);
                for kind in Kind::ALL {
                    let (a, ab, b) = self.probabilities(r, kind);
                    pa += w(kind) * a;
                    pab += w(kind) * ab;
                    pb += w(kind) * b;
                }
                let confidence = if pa > 0.0 { pab / pa } else { 0.0 };
                RuleTruth {
                    antecedent: r.ante.iter().map(|&i| self.skus[i].clone()).collect(),
                    consequent: self.skus[r.cons].clone(),
                    planted_confidence: r.c,
                    support: pab,
                    antecedent_support: pa,
                    consequent_support: pb,
                    confidence,
                    lift: if pb > 0.0 { confidence / pb } else { 0.0 },
                    baskets: n,
                    support_se: if n > 0 { (pab * (1.0 - pab) / n as f64).sqrt() } else { 0.0 },
                }
            })
            .collect()
    }
}

/// `π_i = min(0.6, k · w_i)` with `k` found by bisection so that `Σ π_i = target`.
fn scale_to(w: &[f64], target: f64) -> Vec<f64> {
    let at = |k: f64| w.iter().map(|x| (k * x).min(0.6)).collect::<Vec<_>>();
    let sum = |k: f64| at(k).iter().sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while sum(hi) < target && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if sum(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(rules: &[PlantedRule]) -> BasketModel {
        let skus: Vec<String> = (0..12).map(|i| format!("S{i}")).collect();
        let cats = ["Kitchen", "Bedding", "Bath", "Decor"].repeat(3);
        let pop: Vec<f64> = (1..=12).map(|r| 1.0 / r as f64).collect();
        BasketModel::new(&skus, &cats, &pop, 1.2, rules).unwrap()
    }

    fn rules() -> Vec<PlantedRule> {
        vec![
            PlantedRule { antecedent: vec!["S0".into()], consequent: "S5".into(), confidence: 0.5 },
            PlantedRule { antecedent: vec!["S1".into(), "S2".into()], consequent: "S7".into(), confidence: 0.7 },
        ]
    }

    #[test]
    fn simulated_rule_metrics_match_the_exact_expectation() {
        let m = model(&rules());
        let n = 200_000u64;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut a, mut ab, mut b) = ([0u64; 2], [0u64; 2], [0u64; 2]);
        let mut per_kind = [0u64; 4];
        for i in 0..n {
            let kind = Kind::ALL[(i % 4) as usize];
            per_kind[kind.index()] += 1;
            let basket: Vec<usize> = m.basket(kind, &mut rng).iter().map(|l| l.product).collect();
            for (j, r) in m.rules.iter().enumerate() {
                let has_a = r.ante.iter().all(|x| basket.contains(x));
                let has_b = basket.contains(&r.cons);
                a[j] += has_a as u64;
                b[j] += has_b as u64;
                ab[j] += (has_a && has_b) as u64;
            }
        }
        for (j, t) in m.rule_truth(&per_kind).iter().enumerate() {
            let within = |count: u64, p: f64, what: &str| {
                let se = (p * (1.0 - p) / n as f64).sqrt();
                let got = count as f64 / n as f64;
                assert!((got - p).abs() < 4.0 * se, "rule {j} {what}: {got} vs {p} (se {se})");
            };
            within(ab[j], t.support, "support");
            within(a[j], t.antecedent_support, "antecedent support");
            within(b[j], t.consequent_support, "consequent support");
        }
    }

    #[test]
    fn baskets_are_never_empty_and_mean_size_is_near_target() {
        let m = model(&[]);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let sizes: Vec<usize> = (0..20_000).map(|_| m.basket(Kind::LoyalRegular, &mut rng).len()).collect();
        assert!(sizes.iter().all(|s| *s > 0));
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!((1.2..1.6).contains(&mean), "{mean}");
    }

    #[test]
    fn rules_must_be_disjoint_and_known() {
        let mut r = rules();
        r[1].consequent = "S5".into();
        assert!(BasketModel::new(&["S0".into(), "S5".into()], &["a", "b"], &[1.0, 1.0], 0.5, &r).is_err());
        let skus: Vec<String> = (0..12).map(|i| format!("S{i}")).collect();
        let cats = ["x"; 12];
        let err = BasketModel::new(&skus, &cats, &[1.0; 12], 1.0, &r).unwrap_err();
        assert!(err.contains("disjoint"), "{err}");
        let unknown = vec![PlantedRule { antecedent: vec!["nope".into()], consequent: "S1".into(), confidence: 0.5 }];
        assert!(BasketModel::new(&skus, &cats, &[1.0; 12], 1.0, &unknown).unwrap_err().contains("unknown SKU"));
    }
}
