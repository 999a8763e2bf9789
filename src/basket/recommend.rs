//! Next-best-product recommendations from association rules.
//!
//! ## Method
//! For each customer, with `H` the items they ever bought (over the same orders as the baskets):
//! every rule `A → C` with `A ⊆ H` and `C ∩ H = ∅` proposes each item of `C` with the rule's
//! score (the configured metric, default confidence × lift; with margin weighting times the
//! item's unit margin, items without a known margin dropped). An item keeps its best rule (the
//! highest score; on a tie the rule first in the rules' output order). Items are ranked by score
//! descending, then by item name; the first `top_n` are kept. Rules are indexed by the first
//! item of their antecedent, so a customer only looks at rules that can apply to them; customers
//! are processed in parallel.

use super::params::ScoreMetric;
use super::rules::{Metrics, Rule};
use super::transactions::Transactions;
use rayon::prelude::*;

/// One recommended item for a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Item code.
    pub item: u32,
    pub score: f64,
    /// Index of the rule (in the slice given to [`recommend`]) that gave the score.
    pub rule: usize,
}

/// The metric value used as a score (before margin weighting).
pub fn score_of(m: &Metrics, s: ScoreMetric) -> f64 {
    match s {
        ScoreMetric::ConfidenceLift => m.confidence * m.lift,
        ScoreMetric::Confidence => m.confidence,
        ScoreMetric::Lift => m.lift,
        ScoreMetric::Leverage => m.leverage,
        ScoreMetric::Zhang => m.zhang,
        ScoreMetric::Jaccard => m.jaccard,
        ScoreMetric::Kulczynski => m.kulczynski,
        ScoreMetric::Certainty => m.certainty,
    }
}

/// Top `top_n` recommendations per customer of `history` (one "basket" per customer).
///
/// ## Parameters
/// - `rules`: in their output order (ties between rules go to the earlier one).
/// - `margin`: unit margin per item code when margin weighting is on.
///
/// ## Example
/// ```
/// use custlens::basket::{fpgrowth::frequent_itemsets, rules::{rules, RuleOptions}, transactions::Transactions};
/// use custlens::basket::{params::ScoreMetric, recommend::recommend};
/// let tx = Transactions::from_baskets(&[vec!["a", "b"], vec!["a", "b"], vec!["a", "c"], vec!["b"]]);
/// let r = rules(&frequent_itemsets(&tx, 1, 10), &RuleOptions::default());
/// // A customer who bought only "a" gets b (a → b: confidence 2/3) before c (1/3).
/// let history = Transactions::from_baskets(&[vec!["a", "b", "c"], vec!["a"]]);
/// let recs = recommend(&history, &r, ScoreMetric::Confidence, 5, None);
/// assert!(recs[0].is_empty());
/// let items: Vec<&str> = recs[1].iter().map(|x| history.name(x.item)).collect();
/// assert_eq!(items, ["b", "c"]);
/// ```
pub fn recommend(
    history: &Transactions,
    rules: &[Rule],
    score: ScoreMetric,
    top_n: usize,
    margin: Option<&[Option<f64>]>,
) -> Vec<Vec<Recommendation>> {
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); history.n_items()];
    for (k, r) in rules.iter().enumerate() {
        if let Some(&first) = r.antecedent.first() {
            if let Some(v) = by_first.get_mut(first as usize) {
                v.push(k);
            }
        }
    }
    let scores: Vec<f64> = rules.iter().map(|r| score_of(&r.metrics, score)).collect();
    (0..history.len())
        .into_par_iter()
        .map(|c| {
            let h = history.basket(c);
            let has = |x: &u32| h.binary_search(x).is_ok();
            let mut cands: Vec<Recommendation> = Vec::new();
            for first in h {
                for &k in &by_first[*first as usize] {
                    let r = &rules[k];
                    if !r.antecedent.iter().all(has) || r.consequent.iter().any(has) {
                        continue;
                    }
                    for &y in &r.consequent {
                        let s = match margin {
                            Some(m) => match m.get(y as usize).copied().flatten() {
                                Some(w) => scores[k] * w,
                                None => continue,
                            },
                            None => scores[k],
                        };
                        match cands.iter_mut().find(|x| x.item == y) {
                            Some(x) => {
                                if s > x.score || (s == x.score && k < x.rule) {
                                    *x = Recommendation { item: y, score: s, rule: k };
                                }
                            }
                            None => cands.push(Recommendation { item: y, score: s, rule: k }),
                        }
                    }
                }
            }
            cands.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
            cands.truncate(top_n);
            cands
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basket::fpgrowth::frequent_itemsets;
    use crate::basket::rules::{rules, RuleOptions};

    fn setup() -> (Transactions, Vec<Rule>) {
        let tx = Transactions::from_baskets(&[
            vec!["a", "b"],
            vec!["a", "b"],
            vec!["a", "b", "c"],
            vec!["a", "c"],
            vec!["c", "d"],
            vec!["d"],
        ]);
        (tx.clone(), rules(&frequent_itemsets(&tx, 1, 10), &RuleOptions::default()))
    }

    #[test]
    fn best_rule_per_item_ranked_and_cut() {
        let (_, r) = setup();
        // Customer bought a only: a → b conf 3/4, lift (3/4)/(3/6) = 1.5 → 1.125;
        // a → c conf 2/4, lift (1/2)/(3/6) = 1 → 0.5. d is never with a: no rule a → d.
        let history = Transactions::from_baskets(&[vec!["a", "d"], vec!["a"], vec!["a", "b", "c", "d"]]);
        let recs = recommend(&history, &r, ScoreMetric::ConfidenceLift, 5, None);
        let named = |c: usize| recs[c].iter().map(|x| (history.name(x.item).to_string(), x.score)).collect::<Vec<_>>();
        assert_eq!(named(1), [("b".to_string(), 1.125), ("c".to_string(), 0.5)]);
        // With d too: {a,d} → ? none frequent together except via c: d → c conf 1/2, lift 1 → 0.5;
        // c keeps the best of a → c (0.5) and d → c (0.5): a tie, the earlier rule wins.
        let c0 = &recs[0];
        assert_eq!(c0.iter().map(|x| history.name(x.item)).collect::<Vec<_>>(), ["b", "c"]);
        assert!(recs[2].is_empty(), "bought everything");
        let top1 = recommend(&history, &r, ScoreMetric::ConfidenceLift, 1, None);
        assert_eq!(top1[1].len(), 1);
    }

    #[test]
    fn margin_weighting_reorders_and_drops_unknown() {
        let (_, r) = setup();
        let history = Transactions::from_baskets(&[vec!["a"], vec!["b", "c", "d"]]);
        // Codes follow names a, b, c, d: margins b 1.0, c 4.0, d unknown.
        let margin = vec![Some(1.0), Some(1.0), Some(4.0), None];
        let recs = recommend(&history, &r, ScoreMetric::ConfidenceLift, 5, Some(&margin));
        let items: Vec<&str> = recs[0].iter().map(|x| history.name(x.item)).collect();
        assert_eq!(items, ["c", "b"]); // c: 0.5 × 4 = 2 > b: 1.125 × 1
        assert!((recs[0][0].score - 2.0).abs() < 1e-12);
    }

    #[test]
    fn every_metric_scores() {
        let m = Metrics::from_counts(10, 3, 4, 5);
        for (s, want) in [
            (ScoreMetric::ConfidenceLift, 0.75 * 1.5),
            (ScoreMetric::Confidence, 0.75),
            (ScoreMetric::Lift, 1.5),
            (ScoreMetric::Leverage, 0.1),
            (ScoreMetric::Jaccard, 0.5),
            (ScoreMetric::Kulczynski, 0.675),
            (ScoreMetric::Certainty, 0.5),
            (ScoreMetric::Zhang, 0.1 / 0.18),
        ] {
            assert!((score_of(&m, s) - want).abs() < 1e-12, "{s:?}");
        }
    }
}
