//! Cluster profiles in original units, a canonical cluster order and readable labels.
//!
//! ## Method
//! *Profile*: per cluster, `customers`, `share` of customers, `revenue` (sum of `monetary_total`),
//! `revenue_share`, and the mean and median of every column in original units (nulls skipped;
//! null when a cluster has no value).
//!
//! *Cluster ids* are 1-based and canonical: clusters sorted by mean `monetary_total` (descending),
//! then mean `recency_days` (ascending), size (descending), mean `frequency` (descending). They
//! depend on the groups found, not on the algorithm's numbering, so a re-run that finds the same
//! groups (another seed, another thread count) gives every customer the same id.
//!
//! *Labels* are words read off the profile against the whole population (customer-level
//! quantiles `Qp` of each column), so they too depend only on the groups:
//! - lifecycle word: `new` when the cluster's median `tenure_days` ≤ Q25 of tenure; else `lapsed`
//!   when its median `recency_days` ≥ Q75 of recency; else `active` when ≤ Q25 of recency;
//! - value word: median `monetary_total` ≥ Q70 → `high-value`, ≤ Q30 → `low-spend`, else
//!   `mid-value` (so a large cluster around the population's middle is `mid-value`);
//! - frequency word (not for `new`): mean `frequency` ≥ max(1, 1.5 × population mean) → `loyal`;
//!   median 0 and mean ≤ ½ × population mean → `one-time`;
//! - modifiers: mean `return_rate` ≥ max(0.2, 2 × population mean) → `frequent returners`; mean
//!   `email_engagement` ≥ max(0.3, 2 × population mean) → `email-engaged`.
//!
//! e.g. `high-value loyal`, `new low-spend`, `lapsed high-value one-time`, `active mid-value,
//! email-engaged`. Clusters whose words coincide are told apart by the column on which their means
//! differ most (relative to its population IQR, or standard deviation when the IQR is 0): two
//! clusters get `(higher spend)` / `(lower spend)`, `(more recent)` / `(less recent)`, …; three or
//! more get `(spend rank 1 of 3)`, …, ranked by that column's mean, descending. So labels are
//! distinct.

use super::scale::{quantile, robust_scaling, sorted};

/// A column in original units, one value per customer (None = missing).
#[derive(Debug, Clone, PartialEq)]
pub struct RawColumn {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

/// Mean and median of one column within a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub column: &'static str,
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

/// One cluster's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterProfile {
    /// Canonical id, 1-based.
    pub cluster: usize,
    pub label: String,
    pub customers: usize,
    pub share: f64,
    pub revenue: f64,
    /// None when total revenue is 0.
    pub revenue_share: Option<f64>,
    pub stats: Vec<Stat>,
}

impl ClusterProfile {
    fn mean(&self, c: &str) -> Option<f64> {
        self.stats.iter().find(|s| s.column == c).and_then(|s| s.mean)
    }

    fn median(&self, c: &str) -> Option<f64> {
        self.stats.iter().find(|s| s.column == c).and_then(|s| s.median)
    }
}

fn mean_median(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let s = sorted(values);
    (Some(values.iter().sum::<f64>() / values.len() as f64), quantile(&s, 0.5))
}

/// Profiles of a partition (`labels` in `0..k`, one per customer), in canonical order, labelled;
/// and the canonical id (1-based) of each partition cluster.
///
/// `raw` must include `monetary_total`, `recency_days`, `frequency` and `tenure_days`.
pub fn profiles(raw: &[RawColumn], labels: &[usize], k: usize) -> (Vec<ClusterProfile>, Vec<usize>) {
    let n = labels.len();
    let monetary = raw.iter().find(|c| c.name == "monetary_total");
    let total_revenue: f64 = monetary.map(|c| c.values.iter().flatten().sum()).unwrap_or(0.0);
    let mut out: Vec<(usize, ClusterProfile)> = (0..k)
        .map(|j| {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == j).collect();
            let revenue: f64 = monetary.map(|c| members.iter().filter_map(|&i| c.values[i]).sum()).unwrap_or(0.0);
            let stats = raw
                .iter()
                .map(|c| {
                    let v: Vec<f64> = members.iter().filter_map(|&i| c.values[i]).filter(|x| x.is_finite()).collect();
                    let (mean, median) = mean_median(&v);
                    Stat { column: c.name, mean, median }
                })
                .collect();
            let p = ClusterProfile {
                cluster: 0,
                label: String::new(),
                customers: members.len(),
                share: members.len() as f64 / n.max(1) as f64,
                revenue,
                revenue_share: (total_revenue != 0.0).then(|| revenue / total_revenue),
                stats,
            };
            (j, p)
        })
        .collect();
    let key = |p: &ClusterProfile, c: &str| p.mean(c).unwrap_or(0.0);
    out.sort_by(|(ja, a), (jb, b)| {
        key(b, "monetary_total")
            .total_cmp(&key(a, "monetary_total"))
            .then(key(a, "recency_days").total_cmp(&key(b, "recency_days")))
            .then(b.customers.cmp(&a.customers))
            .then(key(b, "frequency").total_cmp(&key(a, "frequency")))
            .then(ja.cmp(jb))
    });
    let mut ids = vec![0; k];
    for (rank, (j, p)) in out.iter_mut().enumerate() {
        p.cluster = rank + 1;
        ids[*j] = rank + 1;
    }
    let mut profs: Vec<ClusterProfile> = out.into_iter().map(|(_, p)| p).collect();
    let reference = Reference::new(raw);
    let names = label_all(&profs, &reference);
    for (p, l) in profs.iter_mut().zip(names) {
        p.label = l;
    }
    (profs, ids)
}

/// Population quantiles and means the label words compare against.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    columns: Vec<(&'static str, Vec<f64>, f64, Option<f64>)>, // name, sorted values, mean, spread
}

impl Reference {
    pub fn new(raw: &[RawColumn]) -> Self {
        let columns = raw
            .iter()
            .map(|c| {
                let v: Vec<f64> = c.values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
                let mean = if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
                let spread = robust_scaling(&v).map(|s| s.scale);
                (c.name, sorted(&v), mean, spread)
            })
            .collect();
        Reference { columns }
    }

    fn q(&self, c: &str, q: f64) -> Option<f64> {
        self.columns.iter().find(|x| x.0 == c).and_then(|x| quantile(&x.1, q))
    }

    fn mean(&self, c: &str) -> Option<f64> {
        self.columns.iter().find(|x| x.0 == c && !x.1.is_empty()).map(|x| x.2)
    }

    fn spread(&self, c: &str) -> Option<f64> {
        self.columns.iter().find(|x| x.0 == c).and_then(|x| x.3)
    }
}

/// The base label of one profile (before disambiguation).
pub fn base_label(p: &ClusterProfile, r: &Reference) -> String {
    let le = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(a), Some(b)) if a <= b);
    let ge = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(a), Some(b)) if a >= b);
    let mut words: Vec<&str> = Vec::new();
    let is_new = le(p.median("tenure_days"), r.q("tenure_days", 0.25));
    if is_new {
        words.push("new");
    } else if ge(p.median("recency_days"), r.q("recency_days", 0.75)) {
        words.push("lapsed");
    } else if le(p.median("recency_days"), r.q("recency_days", 0.25)) {
        words.push("active");
    }
    let m = p.median("monetary_total");
    words.push(if ge(m, r.q("monetary_total", 0.7)) {
        "high-value"
    } else if le(m, r.q("monetary_total", 0.3)) {
        "low-spend"
    } else {
        "mid-value"
    });
    if !is_new {
        if let (Some(f), Some(pf)) = (p.mean("frequency"), r.mean("frequency")) {
            if f >= (1.5 * pf).max(1.0) {
                words.push("loyal");
            } else if pf > 0.0 && p.median("frequency") == Some(0.0) && f <= 0.5 * pf {
                words.push("one-time");
            }
        }
    }
    let mut label = words.join(" ");
    let mut modifiers = Vec::new();
    if let (Some(v), Some(pv)) = (p.mean("return_rate"), r.mean("return_rate")) {
        if v >= (2.0 * pv).max(0.2) {
            modifiers.push("frequent returners");
        }
    }
    if let (Some(v), Some(pv)) = (p.mean("email_engagement"), r.mean("email_engagement")) {
        if v >= (2.0 * pv).max(0.3) {
            modifiers.push("email-engaged");
        }
    }
    for m in modifiers {
        label.push_str(", ");
        label.push_str(m);
    }
    label
}

/// (column, short name, word for the higher mean, word for the lower mean), in tie-break order.
const CONTRASTS: &[(&str, &str, &str, &str)] = &[
    ("monetary_total", "spend", "higher spend", "lower spend"),
    ("recency_days", "recency", "less recent", "more recent"),
    ("frequency", "frequency", "more frequent", "less frequent"),
    ("tenure_days", "tenure", "longer-standing", "newer"),
    ("predicted_clv", "CLV", "higher CLV", "lower CLV"),
    ("return_rate", "returns", "more returns", "fewer returns"),
    ("email_engagement", "engagement", "more engaged", "less engaged"),
];

/// Distinct labels for profiles in canonical order (see the module docs).
pub fn label_all(profs: &[ClusterProfile], r: &Reference) -> Vec<String> {
    let base: Vec<String> = profs.iter().map(|p| base_label(p, r)).collect();
    let mut out = base.clone();
    let mut done = vec![false; profs.len()];
    for i in 0..profs.len() {
        if done[i] {
            continue;
        }
        let group: Vec<usize> = (i..profs.len()).filter(|&j| base[j] == base[i]).collect();
        for &j in &group {
            done[j] = true;
        }
        if group.len() < 2 {
            continue;
        }
        // The contrast column where the group's means are most spread, in population units.
        let spread_of = |c: &str| -> f64 {
            let means: Vec<f64> = group.iter().filter_map(|&j| profs[j].mean(c)).collect();
            if means.len() < group.len() {
                return -1.0;
            }
            let (lo, hi) = means.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &m| (l.min(m), h.max(m)));
            (hi - lo) / r.spread(c).unwrap_or(1.0)
        };
        let (col, short, higher, lower) = CONTRASTS
            .iter()
            .copied()
            .fold((None, -1.0), |(best, bs), c| {
                let s = spread_of(c.0);
                if s > bs {
                    (Some(c), s)
                } else {
                    (best, bs)
                }
            })
            .0
            .unwrap_or(CONTRASTS[0]);
        let mut ranked = group.clone();
        ranked.sort_by(|&a, &b| {
            let (ma, mb) = (profs[a].mean(col).unwrap_or(0.0), profs[b].mean(col).unwrap_or(0.0));
            mb.total_cmp(&ma).then(a.cmp(&b))
        });
        let m = ranked.len();
        for (rank, &j) in ranked.iter().enumerate() {
            let suffix = if m == 2 {
                if rank == 0 { higher } else { lower }.to_string()
            } else {
                format!("{short} rank {} of {m}", rank + 1)
            };
            out[j] = format!("{} ({suffix})", base[j]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &'static str, v: &[f64]) -> RawColumn {
        RawColumn { name, values: v.iter().map(|&x| Some(x)).collect() }
    }

    /// Six customers in three groups: loyal big spenders, new small spenders, lapsed one-timers.
    fn six() -> Vec<RawColumn> {
        vec![
            col("recency_days", &[5.0, 7.0, 2.0, 3.0, 400.0, 500.0]),
            col("frequency", &[6.0, 8.0, 0.0, 0.0, 0.0, 0.0]),
            col("monetary_total", &[900.0, 1100.0, 20.0, 30.0, 60.0, 40.0]),
            col("tenure_days", &[700.0, 650.0, 2.0, 3.0, 400.0, 500.0]),
        ]
    }

    #[test]
    fn profile_stats_by_hand() {
        let (p, ids) = profiles(&six(), &[2, 2, 0, 0, 1, 1], 3);
        // Canonical order by mean spend: {0,1} (1000), {4,5} (50), {2,3} (25).
        assert_eq!(ids, [3, 2, 1]);
        assert_eq!(p[0].customers, 2);
        assert_eq!(p[0].revenue, 2000.0);
        assert_eq!(p[0].revenue_share, Some(2000.0 / 2150.0));
        assert_eq!(p[0].share, 2.0 / 6.0);
        let m = p[0].stats.iter().find(|s| s.column == "frequency").unwrap();
        assert_eq!((m.mean, m.median), (Some(7.0), Some(7.0)));
        let r = p[1].stats.iter().find(|s| s.column == "recency_days").unwrap();
        assert_eq!((r.mean, r.median), (Some(450.0), Some(450.0)));
    }

    #[test]
    fn readable_labels_from_the_profile() {
        let (p, _) = profiles(&six(), &[0, 0, 1, 1, 2, 2], 3);
        let labels: Vec<&str> = p.iter().map(|p| p.label.as_str()).collect();
        // population: tenure Q25 = 102.25 (new below), recency Q75 = 301.75 (lapsed above),
        // recency Q25 = 3.5; spend Q30 = 35, Q70 = 480; frequency mean 7/3.
        assert_eq!(labels, ["high-value loyal", "lapsed mid-value one-time", "new low-spend"]);
    }

    #[test]
    fn labels_do_not_depend_on_numbering() {
        let (a, _) = profiles(&six(), &[0, 0, 1, 1, 2, 2], 3);
        let (b, _) = profiles(&six(), &[1, 1, 2, 2, 0, 0], 3);
        assert_eq!(a, b);
    }

    fn mk(spend: f64, recency: f64) -> ClusterProfile {
        ClusterProfile {
            cluster: 0,
            label: String::new(),
            customers: 1,
            share: 0.0,
            revenue: 0.0,
            revenue_share: None,
            stats: vec![
                Stat { column: "monetary_total", mean: Some(spend), median: Some(5.0) },
                Stat { column: "recency_days", mean: Some(recency), median: Some(100.0) },
                Stat { column: "tenure_days", mean: Some(300.0), median: Some(300.0) },
                Stat { column: "frequency", mean: Some(1.0), median: Some(1.0) },
            ],
        }
    }

    #[test]
    fn equal_words_are_told_apart_by_the_most_different_column() {
        // Against six(): recency IQR 298.25, spend IQR 657.5. Means differ by 200 days (0.67 IQR)
        // and by 10 in spend (0.015 IQR): recency tells them apart.
        let r = Reference::new(&six());
        let l = label_all(&[mk(20.0, 100.0), mk(10.0, 300.0)], &r);
        assert_eq!(l, ["low-spend (more recent)", "low-spend (less recent)"]);
    }

    #[test]
    fn three_equal_bases_get_ranks() {
        let r = Reference::new(&six());
        let l = label_all(&[mk(3.0, 100.0), mk(9.0, 100.0), mk(6.0, 100.0)], &r);
        assert_eq!(
            l,
            ["low-spend (spend rank 3 of 3)", "low-spend (spend rank 1 of 3)", "low-spend (spend rank 2 of 3)"]
        );
    }
}
