//! Choosing k: the silhouette on a seeded sample, over a range of k.
//!
//! ## Method
//! Silhouette (Rousseeuw 1987): for customer i in cluster A, `a(i)` = mean distance to the other
//! members of A, `b(i)` = the smallest mean distance to the members of another cluster,
//! `s(i) = (b − a) / max(a, b)`, and `s(i) = 0` when A has one member (or a = b = 0); the score
//! is the mean of `s(i)`. Distances are Euclidean in the scaled feature space. Only clusters
//! present in the sample count, as in scikit-learn's `silhouette_score(sample_size=…)`.
//!
//! Written here rather than taken from `linfa::metrics::SilhouetteScore` because linfa's gives a
//! singleton cluster's member `s = 1` instead of 0 (scikit-learn and Rousseeuw give 0), allocates a
//! vector per pair of points and runs on one thread; this one runs the customers in parallel and
//! sums in a fixed order, so it is reproducible and matches scikit-learn to rounding.
//!
//! For each k the partition is fitted on all customers; the silhouette is computed on one seeded
//! sample of `silhouette_sample` customers (the same sample for every k), in one pass over the
//! sample's pairs for all k ([`silhouettes`]), O(sample² · (d + number of k)). The chosen
//! k has the highest silhouette (the smallest k on ties).

use super::kmeans::{fit, sq_dist, FitOptions, Matrix, Partition};
use rand::SeedableRng;
use rayon::prelude::*;

/// Mean silhouette of rows `idx` of `x`, where `labels[i]` (in `0..k`) is row i's cluster.
/// None where scikit-learn refuses: fewer than 2, or more than `idx.len() − 1`, clusters in the sample.
///
/// ## Example
/// ```
/// use custlens::cluster::{kmeans::Matrix, select::silhouette};
/// // {0, 1} and {4}: a = 1 for both, b = 4 and 3: s = 3/4, 2/3, and 0 for the singleton.
/// let s = silhouette(Matrix::new(&[0.0, 1.0, 4.0], 1), &[0, 0, 1], &[0, 1, 2], 2).unwrap();
/// assert!((s - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
/// ```
pub fn silhouette(x: Matrix, labels: &[usize], idx: &[usize], k: usize) -> Option<f64> {
    silhouettes(x, &[(labels, k)], idx)[0]
}

/// [`silhouette`] of several labellings (`(labels, k)`) of the same rows at once: each distance
/// between two sampled rows is computed once and added to every labelling's sums, in the same
/// order as for one labelling, so the results are bit-identical to [`silhouette`]'s.
pub fn silhouettes(x: Matrix, labellings: &[(&[usize], usize)], idx: &[usize]) -> Vec<Option<f64>> {
    let offsets: Vec<usize> = labellings
        .iter()
        .scan(0, |acc, (_, k)| {
            let o = *acc;
            *acc += k;
            Some(o)
        })
        .collect();
    let width: usize = labellings.iter().map(|(_, k)| k).sum();
    let mut counts = vec![0usize; width];
    for (l, (labels, _)) in labellings.iter().enumerate() {
        for &i in idx {
            counts[offsets[l] + labels[i]] += 1;
        }
    }
    let defined: Vec<bool> = labellings
        .iter()
        .enumerate()
        .map(|(l, (_, k))| {
            let present = counts[offsets[l]..offsets[l] + k].iter().filter(|&&c| c > 0).count();
            present >= 2 && present < idx.len()
        })
        .collect();
    // Per sampled row, s(i) for every labelling.
    let per_row: Vec<Vec<f64>> = idx
        .par_iter()
        .with_min_len(16)
        .map(|&i| {
            let mut sums = vec![0.0; width];
            let xi = x.row(i);
            for &j in idx {
                let dist = sq_dist(xi, x.row(j)).sqrt();
                for (l, (labels, _)) in labellings.iter().enumerate() {
                    sums[offsets[l] + labels[j]] += dist;
                }
            }
            labellings
                .iter()
                .enumerate()
                .map(|(l, (labels, k))| {
                    let (o, own) = (offsets[l], labels[i]);
                    if counts[o + own] == 1 {
                        return 0.0;
                    }
                    let a = sums[o + own] / (counts[o + own] - 1) as f64;
                    let b = (0..*k)
                        .filter(|&c| c != own && counts[o + c] > 0)
                        .map(|c| sums[o + c] / counts[o + c] as f64)
                        .fold(f64::INFINITY, f64::min);
                    let m = a.max(b);
                    if m > 0.0 {
                        (b - a) / m
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    (0..labellings.len())
        .map(|l| defined[l].then(|| per_row.iter().map(|r| r[l]).sum::<f64>() / idx.len() as f64))
        .collect()
}

/// The seeded sample of at most `m` of `n` row indices, ascending.
pub fn sample(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v = rand::seq::index::sample(&mut rng, n, m).into_vec();
    v.sort_unstable();
    v
}

/// One k tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub k: usize,
    pub partition: Partition,
    /// None when undefined (see [`silhouette`]).
    pub silhouette: Option<f64>,
}

/// Fits every k in `ks`; returns the candidates, the index of the chosen one, and a message per
/// k whose fit failed (left out; e.g. a GMM that did not converge).
pub fn select(
    x: Matrix,
    ks: &[usize],
    o: &FitOptions,
    silhouette_sample: usize,
) -> (Vec<Candidate>, usize, Vec<String>) {
    let idx = sample(x.n(), silhouette_sample, o.seed);
    let mut out = Vec::with_capacity(ks.len());
    let mut failures = Vec::new();
    for &k in ks {
        match fit(x, k, o) {
            Ok(partition) => out.push(Candidate { k, partition, silhouette: None }),
            Err(e) => failures.push(format!("k = {k} left out: {e}")),
        }
    }
    let labellings: Vec<(&[usize], usize)> =
        out.iter().map(|c| (c.partition.labels.as_slice(), c.partition.k)).collect();
    let scores = silhouettes(x, &labellings, &idx);
    for (c, s) in out.iter_mut().zip(scores) {
        c.silhouette = s;
    }
    let best = out
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.silhouette.map(|s| (i, s)))
        .fold(None, |best: Option<(usize, f64)>, (i, s)| match best {
            Some((_, bs)) if bs >= s => best,
            _ => Some((i, s)),
        })
        .map(|(i, _)| i)
        .unwrap_or(0);
    (out, best, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::params::Algorithm;

    #[test]
    fn silhouette_by_hand_in_two_dimensions() {
        // A = {(0,0), (0,2)}, B = {(3,0)}; B is a singleton -> 0.
        // (0,0): a = 2, b = 3 -> 1/3.  (0,2): a = 2, b = sqrt(13) -> (sqrt13 − 2)/sqrt13.
        let x = [0.0, 0.0, 0.0, 2.0, 3.0, 0.0];
        let s = silhouette(Matrix::new(&x, 2), &[0, 0, 1], &[0, 1, 2], 2).unwrap();
        let r13 = 13f64.sqrt();
        assert!((s - (1.0 / 3.0 + (r13 - 2.0) / r13) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn silhouette_undefined_for_one_cluster_or_all_singletons() {
        let x = [0.0, 1.0, 2.0];
        assert_eq!(silhouette(Matrix::new(&x, 1), &[0, 0, 0], &[0, 1, 2], 1), None);
        assert_eq!(silhouette(Matrix::new(&x, 1), &[0, 1, 2], &[0, 1, 2], 3), None);
    }

    #[test]
    fn coincident_points_score_zero_not_nan() {
        // a = b = 0 for every point.
        let x = [1.0, 1.0, 1.0, 1.0];
        assert_eq!(silhouette(Matrix::new(&x, 1), &[0, 0, 1, 1], &[0, 1, 2, 3], 2), Some(0.0));
    }

    #[test]
    fn several_labellings_at_once_equal_one_at_a_time() {
        let x: Vec<f64> = (0..60).map(|i| ((i * 31) % 17) as f64 / 3.0).collect();
        let m = Matrix::new(&x, 2);
        let a: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let b: Vec<usize> = (0..30).map(|i| usize::from(x[2 * i] > 2.5)).collect();
        let c = vec![0usize; 30];
        let idx: Vec<usize> = (0..30).step_by(2).collect();
        let all = silhouettes(m, &[(&a, 3), (&b, 2), (&c, 1)], &idx);
        assert_eq!(all, [silhouette(m, &a, &idx, 3), silhouette(m, &b, &idx, 2), None]);
        assert!(all[0].is_some() && all[1].is_some());
    }

    #[test]
    fn sample_is_seeded_sorted_and_complete_when_small() {
        assert_eq!(sample(5, 10, 1), [0, 1, 2, 3, 4]);
        let a = sample(1000, 10, 1);
        assert_eq!(a, sample(1000, 10, 1));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(a, sample(1000, 10, 2));
    }

    #[test]
    fn three_blobs_choose_three() {
        let mut x = Vec::new();
        for c in [0.0, 20.0, 40.0] {
            for i in 0..30 {
                x.push(c + (i % 6) as f64 * 0.5);
                x.push((i / 6) as f64 * 0.5);
            }
        }
        let o = FitOptions { algorithm: Algorithm::Kmeans, n_init: 5, max_iter: 100, tolerance: 1e-6, seed: 0 };
        let (cands, best, failures) = select(Matrix::new(&x, 2), &[2, 3, 4, 5], &o, 1000);
        assert!(failures.is_empty());
        assert_eq!(cands[best].k, 3);
        assert!(cands.windows(2).all(|w| w[0].partition.inertia >= w[1].partition.inertia - 1e-9));
    }
}
