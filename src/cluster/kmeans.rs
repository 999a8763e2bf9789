//! Partitioning a scaled feature matrix: k-means or a Gaussian mixture.
//!
//! ## Method
//! *k-means* (`algorithm = "kmeans"`, the default; Lloyd 1982): `n_init` runs, each seeded from
//! (`seed`, k, run) and run in parallel; the run with the lowest inertia is kept (the first on
//! ties). A run seeds with greedy k-means++ ([`kmeans_plusplus`]; Arthur & Vassilvitskii 2007, as
//! scikit-learn does it), then iterates Lloyd steps ([`lloyd`]: assign each point to the nearest
//! centroid, the first on ties; move each centroid to its members' mean) until no assignment
//! changes or the centroids' total squared move is at most `tolerance` × the mean variance of the
//! features (scikit-learn's `tol`), at most `max_iter` times. Centroids are the clusters' means and labels the nearest centroid.
//!
//! *linfa* (`algorithm = "linfa_kmeans"`): linfa-clustering's `KMeans` (plain k-means++ seeding,
//! `n_runs = n_init`, its own iterations), finished with [`lloyd`]. Not the default: on the
//! committed scikit-learn fixture (`tests/fixtures/cluster/`) its best of 10 runs was up to 3.6 %
//! above scikit-learn's best of 10 (k = 3; 2.2 % at k = 8, 1.8 % at k = 7), outside the 1 % the
//! issue asks, where greedy seeding stays within 0.4 % for every k = 2..10; its update step treats
//! the old centroid as one more member of its cluster ("m_k-means"), so centroids are not the
//! means until it converges; and its per-row ndarray views make an iteration ~6× slower than a
//! loop over a row-major slice in the unoptimized test build (release figures in
//! `benches/README.md`).
//!
//! *GMM* (`algorithm = "gmm"`): linfa-clustering's `GaussianMixtureModel` (full covariances, EM,
//! k-means initialization, `n_init` runs, highest lower bound kept); each customer goes to its most
//! likely component. Its inertia is computed the same way around each cluster's mean.
//!
//! Inertia is scikit-learn's: the sum over customers of the squared Euclidean distance to their
//! cluster's centroid. Clusters left empty are removed and the rest renumbered, so a partition may
//! have fewer than k clusters when the data has fewer distinct points.
//!
//! Everything is seeded (ChaCha8) and independent of the thread count: runs and points are
//! processed in parallel but every sum is taken in row order.

use super::params::Algorithm;
use ndarray::Array2;
use rand::SeedableRng;
use rayon::prelude::*;

/// A partition of the rows of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Cluster of each row, `0..k`.
    pub labels: Vec<usize>,
    /// Row-major `k × d` centroids (the members' means).
    pub centroids: Vec<f64>,
    /// Number of clusters (non-empty).
    pub k: usize,
    /// Sum of squared distances of rows to their centroid.
    pub inertia: f64,
}

/// A row-major `n × d` matrix.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub data: &'a [f64],
    pub d: usize,
}

impl<'a> Matrix<'a> {
    pub fn new(data: &'a [f64], d: usize) -> Self {
        debug_assert!(d > 0 && data.len() % d == 0);
        Matrix { data, d }
    }

    pub fn n(&self) -> usize {
        self.data.len().checked_div(self.d).unwrap_or(0)
    }

    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    fn to_ndarray(self) -> Result<Array2<f64>, String> {
        Array2::from_shape_vec((self.n(), self.d), self.data.to_vec()).map_err(|e| e.to_string())
    }
}

/// Squared Euclidean distance (a plain loop: in the unoptimized test build it is ~3× faster than
/// an iterator chain, and the same in release).
#[inline]
#[allow(clippy::needless_range_loop)]
pub fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for t in 0..a.len().min(b.len()) {
        let z = a[t] - b[t];
        s += z * z;
    }
    s
}

/// The seeded generator of one fit (`run` 0 for GMM, which runs its `n_init` itself).
fn rng(seed: u64, k: usize, run: usize) -> rand_chacha::ChaCha8Rng {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    r.set_stream(run as u64);
    r
}

/// Options of one fit.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub algorithm: Algorithm,
    pub n_init: usize,
    pub max_iter: u64,
    pub tolerance: f64,
    pub seed: u64,
}

/// Fits k clusters to `x` (needs `n ≥ k`); see the module docs.
pub fn fit(x: Matrix, k: usize, o: &FitOptions) -> Result<Partition, String> {
    use linfa::traits::{Fit, Predict};
    if k == 0 || x.n() < k {
        return Err(format!("cannot make {k} clusters of {} customers", x.n()));
    }
    let shift_tol = o.tolerance * mean_variance(x);
    match o.algorithm {
        Algorithm::Kmeans => {
            let runs: Vec<Partition> = (0..o.n_init)
                .into_par_iter()
                .map(|run| {
                    let seeds = kmeans_plusplus(x, k, &mut rng(o.seed, k, run));
                    lloyd(x, seeds, k, o.max_iter, shift_tol)
                })
                .collect();
            let mut best: Option<Partition> = None;
            for p in runs {
                if best.as_ref().is_none_or(|b| p.inertia < b.inertia) {
                    best = Some(p);
                }
            }
            best.ok_or_else(|| "no run".to_string())
        }
        Algorithm::LinfaKmeans => {
            let records = x.to_ndarray()?;
            let ds = linfa::DatasetBase::from(records.view());
            let model = linfa_clustering::KMeans::params_with_rng(k, rng(o.seed, k, 0))
                .init_method(linfa_clustering::KMeansInit::KMeansPlusPlus)
                .n_runs(o.n_init)
                .max_n_iterations(o.max_iter)
                .tolerance(shift_tol.sqrt().max(f64::MIN_POSITIVE))
                .fit(&ds)
                .map_err(|e| e.to_string())?;
            let start: Vec<f64> = model.centroids().iter().copied().collect();
            Ok(lloyd(x, start, k, o.max_iter, shift_tol))
        }
        Algorithm::Gmm => {
            let records = x.to_ndarray()?;
            let ds = linfa::DatasetBase::from(records.view());
            let model = linfa_clustering::GaussianMixtureModel::params_with_rng(k, rng(o.seed, k, 0))
                .n_runs(o.n_init as u64)
                .max_n_iterations(o.max_iter)
                .tolerance(o.tolerance)
                .fit(&ds)
                .map_err(|e| e.to_string())?;
            let labels: Vec<usize> = model.predict(&records).to_vec();
            Ok(from_labels(x, &labels, k))
        }
    }
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with scikit-learn's greedy variant): the
/// first seed uniformly at random; each next one drawn with probability proportional to the squared
/// distance to the nearest seed so far, `2 + ⌊ln k⌋` candidates per step, keeping the candidate
/// that most lowers the sum of squared distances (the first on ties). Row-major `k × d` seeds.
pub fn kmeans_plusplus(x: Matrix, k: usize, rng: &mut impl rand::Rng) -> Vec<f64> {
    let (n, d) = (x.n(), x.d);
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut seeds = Vec::with_capacity(k * d);
    let first = rng.gen_range(0..n);
    seeds.extend_from_slice(x.row(first));
    let mut closest: Vec<f64> =
        (0..n).into_par_iter().with_min_len(4096).map(|i| sq_dist(x.row(i), x.row(first))).collect();
    for _ in 1..k {
        // Candidates by inverse-CDF sampling on the cumulative squared distances.
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0;
        for &c in &closest {
            acc += c;
            cum.push(acc);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                if acc <= 0.0 {
                    return rng.gen_range(0..n);
                }
                let u = rng.gen::<f64>() * acc;
                cum.partition_point(|&c| c <= u).min(n - 1)
            })
            .collect();
        let mut best: Option<(usize, f64, Vec<f64>)> = None;
        for &c in &candidates {
            let next: Vec<f64> = (0..n)
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| closest[i].min(sq_dist(x.row(i), x.row(c))))
                .collect();
            let pot: f64 = next.iter().sum();
            if best.as_ref().is_none_or(|b| pot < b.1) {
                best = Some((c, pot, next));
            }
        }
        if let Some((c, _, next)) = best {
            seeds.extend_from_slice(x.row(c));
            closest = next;
        }
    }
    seeds
}

/// Index of the nearest centroid (first on ties) and the squared distance to it.
fn nearest(row: &[f64], centroids: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.chunks_exact(d).enumerate() {
        let dist = sq_dist(row, c);
        if dist < best.1 {
            best = (j, dist);
        }
    }
    best
}

/// Members' means, in row order; an empty cluster keeps `previous`.
fn means(x: Matrix, labels: &[usize], k: usize, previous: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let d = x.d;
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (s, v) in sums[l * d..(l + 1) * d].iter_mut().zip(x.row(i)) {
            *s += v;
        }
    }
    for j in 0..k {
        for t in 0..d {
            sums[j * d + t] = if counts[j] > 0 { sums[j * d + t] / counts[j] as f64 } else { previous[j * d + t] };
        }
    }
    (sums, counts)
}

/// Mean over features of the population variance: the unit of `tolerance` (as scikit-learn's `tol`).
pub fn mean_variance(x: Matrix) -> f64 {
    let (n, d) = (x.n(), x.d);
    if n == 0 {
        return 0.0;
    }
    let mut total = 0.0;
    for t in 0..d {
        let mean = (0..n).map(|i| x.row(i)[t]).sum::<f64>() / n as f64;
        total += (0..n).map(|i| (x.row(i)[t] - mean).powi(2)).sum::<f64>() / n as f64;
    }
    total / d as f64
}

/// Lloyd steps from `centroids` until no label changes or the centroids' total squared move is at
/// most `shift_tol` (at most `max_iter` steps); labels are then the nearest centroid.
pub fn lloyd(x: Matrix, mut centroids: Vec<f64>, k: usize, max_iter: u64, shift_tol: f64) -> Partition {
    let d = x.d;
    let assign = |c: &[f64]| -> Vec<usize> {
        (0..x.n()).into_par_iter().with_min_len(4096).map(|i| nearest(x.row(i), c, d).0).collect()
    };
    let mut labels = assign(&centroids);
    for _ in 0..max_iter {
        let next_centroids = means(x, &labels, k, &centroids).0;
        let shift = sq_dist(&next_centroids, &centroids);
        centroids = next_centroids;
        let next = assign(&centroids);
        let stable = next == labels;
        labels = next;
        if stable || shift <= shift_tol {
            break;
        }
    }
    from_labels(x, &labels, k)
}

/// The partition given by `labels` (`0..k`), empty clusters removed, centroids = means.
pub fn from_labels(x: Matrix, labels: &[usize], k: usize) -> Partition {
    let (centroids, counts) = means(x, labels, k, &vec![0.0; k * x.d]);
    let mut new_id = vec![usize::MAX; k];
    let mut kept = 0;
    for j in 0..k {
        if counts[j] > 0 {
            new_id[j] = kept;
            kept += 1;
        }
    }
    let labels: Vec<usize> = labels.iter().map(|&l| new_id[l]).collect();
    let centroids: Vec<f64> =
        (0..k).filter(|&j| counts[j] > 0).flat_map(|j| centroids[j * x.d..(j + 1) * x.d].to_vec()).collect();
    let inertia = labels.iter().enumerate().map(|(i, &l)| sq_dist(x.row(i), &centroids[l * x.d..(l + 1) * x.d])).sum();
    Partition { labels, centroids, k: kept, inertia }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> FitOptions {
        FitOptions { algorithm: Algorithm::Kmeans, n_init: 5, max_iter: 100, tolerance: 1e-6, seed: 3 }
    }

    /// Two tight groups on a line: {0, 1, 2} and {10, 11}.
    const LINE: [f64; 5] = [0.0, 1.0, 2.0, 10.0, 11.0];

    #[test]
    fn two_groups_by_hand() {
        let p = fit(Matrix::new(&LINE, 1), 2, &opts()).unwrap();
        assert_eq!(p.k, 2);
        assert_eq!(p.labels[0], p.labels[2]);
        assert_ne!(p.labels[0], p.labels[3]);
        // means 1 and 10.5: inertia = 1 + 0 + 1 + 0.25 + 0.25
        assert!((p.inertia - 2.5).abs() < 1e-12, "{}", p.inertia);
        let mut c = p.centroids.clone();
        c.sort_by(f64::total_cmp);
        assert_eq!(c, [1.0, 10.5]);
    }

    #[test]
    fn lloyd_reaches_the_fixed_point_from_bad_centroids() {
        let p = lloyd(Matrix::new(&LINE, 1), vec![0.0, 2.0], 2, 100, 0.0);
        assert!((p.inertia - 2.5).abs() < 1e-12);
    }

    #[test]
    fn mean_variance_by_hand() {
        // columns (0, 2) and (1, 1): variances 1 and 0 -> 0.5
        assert_eq!(mean_variance(Matrix::new(&[0.0, 1.0, 2.0, 1.0], 2)), 0.5);
    }

    #[test]
    fn empty_clusters_are_removed() {
        // Three centroids, one far from everything: its cluster empties and is dropped.
        let p = from_labels(Matrix::new(&LINE, 1), &[0, 0, 0, 2, 2], 3);
        assert_eq!(p.k, 2);
        assert_eq!(p.labels, [0, 0, 0, 1, 1]);
        assert_eq!(p.centroids, [1.0, 10.5]);
    }

    #[test]
    fn same_seed_same_partition() {
        let x: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 7.0).collect();
        let a = fit(Matrix::new(&x, 2), 4, &opts()).unwrap();
        let b = fit(Matrix::new(&x, 2), 4, &opts()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn gmm_separates_two_blobs() {
        let x: Vec<f64> = (0..40)
            .flat_map(|i| {
                let base = if i < 20 { 0.0 } else { 50.0 };
                [base + (i % 5) as f64 * 0.3, base + (i % 7) as f64 * 0.2]
            })
            .collect();
        let p = fit(Matrix::new(&x, 2), 2, &FitOptions { algorithm: Algorithm::Gmm, ..opts() }).unwrap();
        assert_eq!(p.k, 2);
        assert!(p.labels[..20].iter().all(|&l| l == p.labels[0]));
        assert!(p.labels[20..].iter().all(|&l| l == p.labels[20]));
        assert_ne!(p.labels[0], p.labels[20]);
    }

    #[test]
    fn linfa_variant_finds_the_same_two_groups() {
        let p = fit(Matrix::new(&LINE, 1), 2, &FitOptions { algorithm: Algorithm::LinfaKmeans, ..opts() }).unwrap();
        assert!((p.inertia - 2.5).abs() < 1e-12, "{}", p.inertia);
    }

    #[test]
    fn kmeans_plusplus_picks_distinct_rows_spread_out() {
        // Two far groups: the second seed lands in the group the first is not in.
        let seeds = kmeans_plusplus(Matrix::new(&LINE, 1), 2, &mut rng(0, 2, 0));
        assert_eq!(seeds.len(), 2);
        assert!((seeds[0] < 5.0) != (seeds[1] < 5.0), "{seeds:?}");
        assert!(seeds.iter().all(|s| LINE.contains(s)));
    }

    #[test]
    fn too_few_rows_is_an_error() {
        assert!(fit(Matrix::new(&[1.0], 1), 2, &opts()).is_err());
    }
}
