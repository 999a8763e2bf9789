//! Association rules `A → C` from frequent itemsets, with the usual interestingness metrics.
//!
//! ## Method
//! For every frequent itemset `Z` with at least two items, each split into a non-empty
//! antecedent `A` and consequent `C = Z \ A` is a candidate; by default `C` is a single item (the
//! arules convention), with `multi_consequent` every non-empty proper subset. Counts of `A` and
//! `C` come from the itemsets themselves (every subset of a frequent itemset is frequent), so
//! the metrics are exact. With `n` baskets, `s(X) = count(X) / n`:
//!
//! | metric | definition |
//! |---|---|
//! | support | `s(A ∪ C)` — of the whole rule (pyFIM's default is the antecedent's) |
//! | confidence | `s(A ∪ C) / s(A)` |
//! | lift | `confidence / s(C)` (Brin et al. 1997) |
//! | leverage | `s(A ∪ C) − s(A) s(C)` (Piatetsky-Shapiro 1991) |
//! | conviction | `(1 − s(C)) / (1 − confidence)`; infinite at confidence 1: written null, `conviction_infinite` true (Brin et al. 1997) |
//! | zhang | `leverage / max(s(A ∪ C)(1 − s(A)), s(A)(s(C) − s(A ∪ C)))`, 0 when the denominator is 0 (Zhang 2000; the form of Tan, Kumar & Srivastava 2004 and mlxtend) |
//! | jaccard | `s(A ∪ C) / (s(A) + s(C) − s(A ∪ C))` |
//! | kulczynski | `(s(A ∪ C)/s(A) + s(A ∪ C)/s(C)) / 2` (Wu, Chen & Han 2010) |
//! | certainty | `(confidence − s(C)) / (1 − s(C))` when confidence > s(C); `(confidence − s(C)) / s(C)` when below; 0 when equal (Berzal et al. 2002; mlxtend 0.25 uses the first form for both signs) |
//!
//! Rules must meet `min_confidence` and `min_lift`. With `prune_redundant`, a rule is dropped
//! when a rule with the same consequent and a strict, non-empty subset of its antecedent has a
//! confidence at least as high (compared exactly, on counts). Output order: lift, confidence,
//! support (all descending), then antecedent and consequent (ascending item lists); `max_rules`
//! keeps the first rules in that order.
//!
//! ## References
//! - S. Brin, R. Motwani, J. D. Ullman, S. Tsur (1997). Dynamic itemset counting and implication
//!   rules for market basket data. SIGMOD, 255–264.
//! - G. Piatetsky-Shapiro (1991). Discovery, analysis, and presentation of strong rules. In
//!   *Knowledge Discovery in Databases*, 229–248.
//! - T. Zhang (2000). Association rules. PAKDD, LNCS 1805, 245–256.
//! - P.-N. Tan, V. Kumar, J. Srivastava (2004). Selecting the right objective measure for
//!   association analysis. *Information Systems* 29(4), 293–313.
//! - T. Wu, Y. Chen, J. Han (2010). Re-examination of interestingness measures in pattern mining:
//!   a unified framework. *Data Mining and Knowledge Discovery* 21(3), 371–397.
//! - F. Berzal, I. Blanco, D. Sánchez, M.-A. Vila (2002). Measuring the accuracy and interest of
//!   association rules: a new framework. *Intelligent Data Analysis* 6(3), 221–235.

use super::fpgrowth::Itemsets;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Every metric of one rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub support: f64,
    pub antecedent_support: f64,
    pub consequent_support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub leverage: f64,
    /// None when confidence is 1 (infinite conviction).
    pub conviction: Option<f64>,
    pub zhang: f64,
    pub jaccard: f64,
    pub kulczynski: f64,
    pub certainty: f64,
}

impl Metrics {
    /// The metrics of `A → C` from counts: `n` baskets, `ac` containing `A ∪ C`, `a` containing
    /// `A`, `c` containing `C`. Needs `0 < ac ≤ min(a, c)` and `max(a, c) ≤ n`.
    ///
    /// ## Example
    /// ```
    /// use custlens::basket::rules::Metrics;
    /// // 10 baskets: A in 4, C in 5, both in 2.
    /// let m = Metrics::from_counts(10, 2, 4, 5);
    /// assert_eq!((m.support, m.confidence, m.lift), (0.2, 0.5, 1.0));
    /// assert_eq!(m.conviction, Some(1.0));
    /// ```
    pub fn from_counts(n: u64, ac: u64, a: u64, c: u64) -> Metrics {
        let nf = n as f64;
        let (s_ac, s_a, s_c) = (ac as f64 / nf, a as f64 / nf, c as f64 / nf);
        let confidence = ac as f64 / a as f64;
        let lift = confidence / s_c;
        let leverage = s_ac - s_a * s_c;
        let conviction = if ac == a { None } else { Some((1.0 - s_c) / (1.0 - confidence)) };
        let den = (s_ac * (1.0 - s_a)).max(s_a * (s_c - s_ac));
        let zhang = if den == 0.0 { 0.0 } else { leverage / den };
        let jaccard = ac as f64 / (a + c - ac) as f64;
        let kulczynski = (ac as f64 / a as f64 + ac as f64 / c as f64) / 2.0;
        let certainty = match confidence.partial_cmp(&s_c) {
            Some(Ordering::Greater) => (confidence - s_c) / (1.0 - s_c),
            Some(Ordering::Less) => (confidence - s_c) / s_c,
            _ => 0.0,
        };
        Metrics {
            support: s_ac,
            antecedent_support: s_a,
            consequent_support: s_c,
            confidence,
            lift,
            leverage,
            conviction,
            zhang,
            jaccard,
            kulczynski,
            certainty,
        }
    }
}

/// One rule: item codes (sorted), counts and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub antecedent: Vec<u32>,
    pub consequent: Vec<u32>,
    /// Baskets containing antecedent and consequent.
    pub count: u64,
    pub antecedent_count: u64,
    pub consequent_count: u64,
    pub metrics: Metrics,
}

/// How rules are generated and filtered (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleOptions {
    pub min_confidence: f64,
    pub min_lift: f64,
    pub multi_consequent: bool,
    pub prune_redundant: bool,
    pub max_rules: Option<usize>,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            min_confidence: 0.0,
            min_lift: 0.0,
            multi_consequent: false,
            prune_redundant: false,
            max_rules: None,
        }
    }
}

fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i] < b[j]) {
            out.push(a[i]);
            i += 1;
        } else {
            if i < a.len() && a[i] == b[j] {
                i += 1;
            }
            out.push(b[j]);
            j += 1;
        }
    }
    out
}

/// The rules of `itemsets` (which must hold every frequent subset of each itemset, as
/// [`super::fpgrowth::frequent_itemsets`] gives), filtered, pruned, sorted and cut per `o`.
///
/// ## Example
/// ```
/// use custlens::basket::{fpgrowth::frequent_itemsets, rules::{rules, RuleOptions}, transactions::Transactions};
/// let tx = Transactions::from_baskets(&[vec!["a", "b"], vec!["a", "b"], vec!["a"], vec!["b", "c"]]);
/// let r = rules(&frequent_itemsets(&tx, 2, 10), &RuleOptions::default());
/// // b → a: 2 of the 3 baskets with b have a; a → b: 2 of 3 too; same lift, so by antecedent.
/// assert_eq!(r.len(), 2);
/// assert_eq!((tx.name(r[0].antecedent[0]), r[0].metrics.confidence), ("a", 2.0 / 3.0));
/// ```
pub fn rules(itemsets: &Itemsets, o: &RuleOptions) -> Vec<Rule> {
    let index = itemsets.index();
    let n = itemsets.baskets;
    let count = |s: &[u32]| index.get(s).copied();
    let mut out: Vec<Rule> = (0..itemsets.len())
        .into_par_iter()
        .filter(|&k| itemsets.sets[k].len() >= 2)
        .flat_map_iter(|k| {
            let z = &itemsets.sets[k];
            let cz = itemsets.counts[k];
            let len = z.len();
            let mut found = Vec::new();
            // Consequent masks: single items, or every non-empty proper subset.
            let masks: Vec<u64> = if o.multi_consequent {
                (1..(1u64 << len) - 1).collect()
            } else {
                (0..len).map(|i| 1u64 << i).collect()
            };
            for mask in masks {
                let (mut a, mut c) = (Vec::with_capacity(len), Vec::with_capacity(len));
                for (i, &x) in z.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        c.push(x)
                    } else {
                        a.push(x)
                    }
                }
                let (Some(ca), Some(cc)) = (count(&a), count(&c)) else { continue };
                let m = Metrics::from_counts(n, cz, ca, cc);
                if m.confidence < o.min_confidence || m.lift < o.min_lift {
                    continue;
                }
                if o.prune_redundant && redundant(&a, &c, cz, ca, &count) {
                    continue;
                }
                found.push(Rule {
                    antecedent: a,
                    consequent: c,
                    count: cz,
                    antecedent_count: ca,
                    consequent_count: cc,
                    metrics: m,
                });
            }
            found
        })
        .collect();
    out.par_sort_unstable_by(rule_order);
    if let Some(k) = o.max_rules {
        out.truncate(k);
    }
    out
}

/// The output order: lift, confidence, support descending; antecedent, consequent ascending.
pub fn rule_order(x: &Rule, y: &Rule) -> Ordering {
    y.metrics
        .lift
        .total_cmp(&x.metrics.lift)
        .then_with(|| y.metrics.confidence.total_cmp(&x.metrics.confidence))
        .then_with(|| y.count.cmp(&x.count))
        .then_with(|| x.antecedent.cmp(&y.antecedent))
        .then_with(|| x.consequent.cmp(&y.consequent))
}

/// True when some non-empty strict subset `A'` of `a` has `conf(A' → c) ≥ conf(a → c)`, i.e.
/// `count(A' ∪ c) · count(a) ≥ count(a ∪ c) · count(A')`.
fn redundant(a: &[u32], c: &[u32], c_ac: u64, c_a: u64, count: &dyn Fn(&[u32]) -> Option<u64>) -> bool {
    let len = a.len();
    if len < 2 {
        return false;
    }
    let mut sub = Vec::with_capacity(len);
    for mask in 1..(1u64 << len) - 1 {
        sub.clear();
        sub.extend((0..len).filter(|i| mask & (1 << i) != 0).map(|i| a[i]));
        let (Some(cs), Some(csc)) = (count(&sub), count(&union(&sub, c))) else { continue };
        if csc as u128 * c_a as u128 >= c_ac as u128 * cs as u128 {
            return true;
        }
    }
    false
}

/// Every rule by enumeration over all itemsets (brute force, for tests): `rules` without pruning
/// or sorting shortcuts, over counts taken straight from the baskets.
#[doc(hidden)]
pub fn brute_force(
    tx: &super::transactions::Transactions,
    min_count: u64,
    max_len: usize,
    o: &RuleOptions,
) -> Vec<Rule> {
    let f = super::fpgrowth::brute_force(tx, 1, max_len);
    let cnt = |s: &[u32]| (0..tx.len()).filter(|&b| s.iter().all(|i| tx.basket(b).contains(i))).count() as u64;
    let all: HashMap<Vec<u32>, u64> = f.sets.iter().cloned().zip(f.counts.iter().copied()).collect();
    let mut out = Vec::new();
    for z in all.keys().filter(|z| z.len() >= 2 && cnt(z) >= min_count.max(1)) {
        let len = z.len();
        for mask in 1..(1u64 << len) - 1 {
            let c: Vec<u32> = (0..len).filter(|i| mask & (1 << i) != 0).map(|i| z[i]).collect();
            let a: Vec<u32> = (0..len).filter(|i| mask & (1 << i) == 0).map(|i| z[i]).collect();
            if !o.multi_consequent && c.len() != 1 {
                continue;
            }
            let m = Metrics::from_counts(tx.len() as u64, cnt(z), cnt(&a), cnt(&c));
            if m.confidence < o.min_confidence || m.lift < o.min_lift {
                continue;
            }
            if o.prune_redundant {
                // Any strict non-empty subset of a with at least the confidence.
                let better = (1..(1u64 << a.len()) - 1).any(|sm| {
                    let s: Vec<u32> = (0..a.len()).filter(|i| sm & (1 << i) != 0).map(|i| a[i]).collect();
                    let sc = union(&s, &c);
                    cnt(&sc) as f64 / cnt(&s) as f64 >= cnt(z) as f64 / cnt(&a) as f64
                });
                if better {
                    continue;
                }
            }
            out.push(Rule {
                antecedent: a.clone(),
                consequent: c.clone(),
                count: cnt(z),
                antecedent_count: cnt(&a),
                consequent_count: cnt(&c),
                metrics: m,
            });
        }
    }
    out.sort_by(rule_order);
    if let Some(k) = o.max_rules {
        out.truncate(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basket::fpgrowth::frequent_itemsets;
    use crate::basket::transactions::Transactions;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// 10 baskets; A in 4, C in 5, A∪C in 3 — every metric by hand.
    #[test]
    fn hand_computed_metrics() {
        let m = Metrics::from_counts(10, 3, 4, 5);
        assert!(close(m.support, 0.3) && close(m.antecedent_support, 0.4) && close(m.consequent_support, 0.5));
        assert!(close(m.confidence, 0.75));
        assert!(close(m.lift, 1.5)); // 0.75 / 0.5
        assert!(close(m.leverage, 0.1)); // 0.3 − 0.4·0.5
        assert!(close(m.conviction.unwrap(), 2.0)); // (1 − 0.5) / (1 − 0.75)
                                                    // zhang: 0.1 / max(0.3·0.6, 0.4·(0.5 − 0.3)) = 0.1 / 0.18
        assert!(close(m.zhang, 0.1 / 0.18));
        assert!(close(m.jaccard, 0.5)); // 3 / (4 + 5 − 3)
        assert!(close(m.kulczynski, (0.75 + 0.6) / 2.0));
        assert!(close(m.certainty, 0.5)); // (0.75 − 0.5) / (1 − 0.5)
    }

    #[test]
    fn negative_association_and_edge_cases() {
        // 10 baskets; A in 5, C in 8, both in 3: confidence 0.6 < s(C) = 0.8.
        let m = Metrics::from_counts(10, 3, 5, 8);
        assert!(close(m.lift, 0.75) && close(m.leverage, -0.1));
        assert!(close(m.certainty, (0.6 - 0.8) / 0.8)); // −0.25 (Berzal's negative branch)
                                                        // zhang: −0.1 / max(0.3·0.5, 0.5·(0.8 − 0.3)) = −0.1 / 0.25
        assert!(close(m.zhang, -0.4));
        // Confidence 1: infinite conviction → None.
        let m = Metrics::from_counts(10, 4, 4, 6);
        assert_eq!(m.conviction, None);
        assert!(close(m.certainty, 1.0));
        // A in every basket: zhang's denominator is 0 → 0; leverage 0; certainty 0 (conf = s(C)).
        let m = Metrics::from_counts(5, 3, 5, 3);
        assert_eq!((m.zhang, m.certainty), (0.0, 0.0));
        assert!(close(m.leverage, 0.0));
    }

    #[test]
    fn single_and_multi_consequents_and_pruning() {
        let tx = Transactions::from_baskets(&[
            vec!["a", "b", "c"],
            vec!["a", "b", "c"],
            vec!["a", "b"],
            vec!["a", "c"],
            vec!["b"],
        ]);
        let f = frequent_itemsets(&tx, 1, 10);
        let single = rules(&f, &RuleOptions::default());
        assert!(single.iter().all(|r| r.consequent.len() == 1 && !r.antecedent.is_empty()));
        // {a,b,c}: 3 single-consequent rules; 3 pairs × 2 directions.
        assert_eq!(single.len(), 9);
        let multi = rules(&f, &RuleOptions { multi_consequent: true, ..Default::default() });
        assert_eq!(multi.len(), 12); // + {a}→{b,c}, {b}→{a,c}, {c}→{a,b}
                                     // {a,b} → c has confidence 2/3; a → c has 3/4 ≥ 2/3: redundant. b → c: 2/4.
        let pruned = rules(&f, &RuleOptions { prune_redundant: true, ..Default::default() });
        let names = |r: &Rule| {
            (
                r.antecedent.iter().map(|&i| tx.name(i)).collect::<String>(),
                r.consequent.iter().map(|&i| tx.name(i)).collect::<String>(),
            )
        };
        let got: Vec<_> = pruned.iter().map(names).collect();
        assert!(!got.contains(&("ab".into(), "c".into())), "{got:?}");
        // {b,c} → a: confidence 1, better than b → a (3/4) and c → a (1): c → a ties, so dropped.
        assert!(!got.contains(&("bc".into(), "a".into())), "{got:?}");
        // {a,c} → b: 2/3 vs a → b 3/4: dropped.
        assert_eq!(got.len(), 6);
        let cut = rules(&f, &RuleOptions { max_rules: Some(2), ..Default::default() });
        assert_eq!(cut, single[..2].to_vec());
        let filtered = rules(&f, &RuleOptions { min_confidence: 0.9, ..Default::default() });
        assert!(filtered.iter().all(|r| r.metrics.confidence >= 0.9));
        let lifted = rules(&f, &RuleOptions { min_lift: 1.01, ..Default::default() });
        assert!(lifted.iter().all(|r| r.metrics.lift >= 1.01));
    }

    fn arb_baskets() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(0u8..7, 1..5), 1..30)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]
        #[test]
        fn equals_brute_force(baskets in arb_baskets(), min_count in 1u64..4, max_len in 2usize..5,
                              multi in any::<bool>(), prune in any::<bool>(), min_conf in 0.0f64..0.8,
                              min_lift in 0.0f64..1.5, max_rules in prop::option::of(1usize..10)) {
            let named: Vec<Vec<String>> = baskets.iter().map(|b| b.iter().map(|i| format!("i{i}")).collect()).collect();
            let tx = Transactions::from_baskets(&named);
            let o = RuleOptions { min_confidence: min_conf, min_lift, multi_consequent: multi, prune_redundant: prune, max_rules };
            let got = rules(&frequent_itemsets(&tx, min_count, max_len), &o);
            let want = brute_force(&tx, min_count, max_len, &o);
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                prop_assert_eq!((&g.antecedent, &g.consequent, g.count, g.antecedent_count, g.consequent_count),
                                (&w.antecedent, &w.consequent, w.count, w.antecedent_count, w.consequent_count));
                prop_assert_eq!(g.metrics, w.metrics);
            }
        }
    }
}
