//! `[cluster]` and `[lifecycle]` configuration and their checked parameters.
//!
//! Follows linfa's pattern: [`ClusterParams`] (a builder, from the config) → [`ClusterParams::check`]
//! → [`ClusterValidParams`]; the same for [`LifecycleParams`]. One error variant per rule.

use serde::{Deserialize, Serialize};

/// Which algorithm assigns customers to clusters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// k-means: greedy k-means++ seeding and Lloyd iterations, best of `n_init` (see
    /// [`super::kmeans`]). Default.
    #[default]
    Kmeans,
    /// linfa-clustering's `KMeans` (k-means++ seeding, its own iterations, best of `n_init`),
    /// finished with Lloyd steps.
    LinfaKmeans,
    /// linfa-clustering `GaussianMixtureModel` (full covariances, EM, k-means init, best of `n_init`);
    /// customers go to their most likely component.
    Gmm,
}

/// A clustering feature. Each is computed per customer with a valid order (see [`super::features`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `ln(1 + recency_days)`.
    LogRecency,
    /// `ln(1 + frequency)` (repeat purchase days).
    LogFrequency,
    /// `ln(1 + max(monetary_total, 0))`.
    LogMonetary,
    /// `ln(1 + max(predicted CLV, 0))`, from the CLV stage's frame (`clv_column`).
    PredictedClv,
    /// Share of the customer's orders that were refunded, partly refunded or have a return ticket.
    ReturnRate,
    /// `(email opens + email clicks) / emails sent`, clipped to [0, 2]; 0 when never emailed.
    EmailEngagement,
}

impl Feature {
    /// All features, in column order.
    pub const ALL: [Feature; 6] = [
        Feature::LogRecency,
        Feature::LogFrequency,
        Feature::LogMonetary,
        Feature::PredictedClv,
        Feature::ReturnRate,
        Feature::EmailEngagement,
    ];

    /// The (transformed) column name in `cluster_features.parquet`.
    pub fn column(self) -> &'static str {
        match self {
            Feature::LogRecency => "log_recency",
            Feature::LogFrequency => "log_frequency",
            Feature::LogMonetary => "log_monetary",
            Feature::PredictedClv => "log_predicted_clv",
            Feature::ReturnRate => "return_rate",
            Feature::EmailEngagement => "email_engagement",
        }
    }

    /// The column in original units it is computed from (profiles report these).
    pub fn raw_column(self) -> &'static str {
        match self {
            Feature::LogRecency => "recency_days",
            Feature::LogFrequency => "frequency",
            Feature::LogMonetary => "monetary_total",
            Feature::PredictedClv => "predicted_clv",
            Feature::ReturnRate => "return_rate",
            Feature::EmailEngagement => "email_engagement",
        }
    }

    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Feature::LogRecency => "log_recency",
            Feature::LogFrequency => "log_frequency",
            Feature::LogMonetary => "log_monetary",
            Feature::PredictedClv => "predicted_clv",
            Feature::ReturnRate => "return_rate",
            Feature::EmailEngagement => "email_engagement",
        }
    }
}

/// `[cluster]` as written in the config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Run the cluster stage. Default true.
    pub enabled: bool,
    /// `kmeans` (default) or `gmm`.
    pub algorithm: Algorithm,
    /// Features to cluster on. Default: all six (`log_recency`, `log_frequency`, `log_monetary`,
    /// `predicted_clv`, `return_rate`, `email_engagement`); unusable ones are dropped with a note.
    pub features: Vec<Feature>,
    /// Fixed number of clusters; None (default) chooses k in `k_min..=k_max` by silhouette.
    pub k: Option<usize>,
    /// Smallest k tried. Default 2.
    pub k_min: usize,
    /// Largest k tried. Default 10.
    pub k_max: usize,
    /// Initializations per k; the lowest inertia (k-means) or highest likelihood (GMM) wins. Default 10.
    pub n_init: usize,
    /// Iterations per initialization. Default 300.
    pub max_iter: u64,
    /// Convergence: stop when the centroids' total squared move is at most this × the mean
    /// variance of the scaled features (scikit-learn's `tol`; linfa's KMeans gets the square root
    /// as its absolute tolerance, the GMM this value as its lower-bound tolerance). Default 1e-4.
    pub tolerance: f64,
    /// Seed of the initializations and the silhouette sample. Default 0.
    pub seed: u64,
    /// Customers in the seeded silhouette sample (all when fewer). Default 5000.
    pub silhouette_sample: usize,
    /// Column of the CLV stage's per-customer frame used as predicted CLV. Default `clv_365`.
    pub clv_column: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: true,
            algorithm: Algorithm::Kmeans,
            features: Feature::ALL.to_vec(),
            k: None,
            k_min: 2,
            k_max: 10,
            n_init: 10,
            max_iter: 300,
            tolerance: 1e-4,
            seed: 0,
            silhouette_sample: 5000,
            clv_column: "clv_365d".into(),
        }
    }
}

/// Unchecked cluster parameters (a builder); [`ClusterParams::check`] gives [`ClusterValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterParams(ClusterConfig);

/// Why cluster parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClusterParamsError {
    #[error("no features selected; list at least one of log_recency, log_frequency, log_monetary, predicted_clv, return_rate, email_engagement")]
    NoFeatures,
    #[error("feature `{0}` is listed twice")]
    DuplicateFeature(&'static str),
    #[error("k = {0}: need at least 2 clusters")]
    KTooSmall(usize),
    #[error("k_min = {0}: need at least 2 clusters")]
    KMinTooSmall(usize),
    #[error("k_max = {k_max} is below k_min = {k_min}")]
    KRange { k_min: usize, k_max: usize },
    #[error("n_init must be at least 1")]
    NInit,
    #[error("max_iter must be at least 1")]
    MaxIter,
    #[error("tolerance = {0}: must be a finite number > 0")]
    Tolerance(f64),
    #[error("silhouette_sample = {0}: need at least 3 customers")]
    SilhouetteSample(usize),
    #[error("clv_column is empty")]
    ClvColumn,
}

impl ClusterParamsError {
    /// The config key under `[cluster]` at fault.
    pub fn key(&self) -> &'static str {
        match self {
            ClusterParamsError::NoFeatures | ClusterParamsError::DuplicateFeature(_) => "features",
            ClusterParamsError::KTooSmall(_) => "k",
            ClusterParamsError::KMinTooSmall(_) => "k_min",
            ClusterParamsError::KRange { .. } => "k_max",
            ClusterParamsError::NInit => "n_init",
            ClusterParamsError::MaxIter => "max_iter",
            ClusterParamsError::Tolerance(_) => "tolerance",
            ClusterParamsError::SilhouetteSample(_) => "silhouette_sample",
            ClusterParamsError::ClvColumn => "clv_column",
        }
    }
}

/// Checked cluster parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterValidParams {
    pub(crate) enabled: bool,
    pub(crate) algorithm: Algorithm,
    pub(crate) features: Vec<Feature>,
    /// The k values to try, ascending (one value when `k` is fixed).
    pub(crate) ks: Vec<usize>,
    pub(crate) n_init: usize,
    pub(crate) max_iter: u64,
    pub(crate) tolerance: f64,
    pub(crate) seed: u64,
    pub(crate) silhouette_sample: usize,
    pub(crate) clv_column: String,
}

impl ClusterParams {
    pub fn new() -> Self {
        ClusterParams::default()
    }

    pub fn from_config(c: &ClusterConfig) -> Self {
        ClusterParams(c.clone())
    }

    pub fn algorithm(mut self, a: Algorithm) -> Self {
        self.0.algorithm = a;
        self
    }

    pub fn features(mut self, f: Vec<Feature>) -> Self {
        self.0.features = f;
        self
    }

    pub fn k(mut self, k: Option<usize>) -> Self {
        self.0.k = k;
        self
    }

    pub fn k_range(mut self, k_min: usize, k_max: usize) -> Self {
        self.0.k_min = k_min;
        self.0.k_max = k_max;
        self
    }

    pub fn n_init(mut self, n: usize) -> Self {
        self.0.n_init = n;
        self
    }

    pub fn max_iter(mut self, n: u64) -> Self {
        self.0.max_iter = n;
        self
    }

    pub fn tolerance(mut self, t: f64) -> Self {
        self.0.tolerance = t;
        self
    }

    pub fn seed(mut self, s: u64) -> Self {
        self.0.seed = s;
        self
    }

    pub fn silhouette_sample(mut self, n: usize) -> Self {
        self.0.silhouette_sample = n;
        self
    }

    pub fn clv_column(mut self, c: &str) -> Self {
        self.0.clv_column = c.into();
        self
    }

    /// Checks every rule.
    pub fn check(self) -> Result<ClusterValidParams, ClusterParamsError> {
        let c = self.0;
        if c.features.is_empty() {
            return Err(ClusterParamsError::NoFeatures);
        }
        for (i, f) in c.features.iter().enumerate() {
            if c.features[..i].contains(f) {
                return Err(ClusterParamsError::DuplicateFeature(f.name()));
            }
        }
        let ks = match c.k {
            Some(k) if k < 2 => return Err(ClusterParamsError::KTooSmall(k)),
            Some(k) => vec![k],
            None => {
                if c.k_min < 2 {
                    return Err(ClusterParamsError::KMinTooSmall(c.k_min));
                }
                if c.k_max < c.k_min {
                    return Err(ClusterParamsError::KRange { k_min: c.k_min, k_max: c.k_max });
                }
                (c.k_min..=c.k_max).collect()
            }
        };
        if c.n_init == 0 {
            return Err(ClusterParamsError::NInit);
        }
        if c.max_iter == 0 {
            return Err(ClusterParamsError::MaxIter);
        }
        if !(c.tolerance.is_finite() && c.tolerance > 0.0) {
            return Err(ClusterParamsError::Tolerance(c.tolerance));
        }
        if c.silhouette_sample < 3 {
            return Err(ClusterParamsError::SilhouetteSample(c.silhouette_sample));
        }
        if c.clv_column.trim().is_empty() {
            return Err(ClusterParamsError::ClvColumn);
        }
        let mut features = c.features;
        features.sort();
        Ok(ClusterValidParams {
            enabled: c.enabled,
            algorithm: c.algorithm,
            features,
            ks,
            n_init: c.n_init,
            max_iter: c.max_iter,
            tolerance: c.tolerance,
            seed: c.seed,
            silhouette_sample: c.silhouette_sample,
            clv_column: c.clv_column,
        })
    }
}

impl ClusterValidParams {
    /// Whether the stage runs.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The selected features, in canonical order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The k values tried, ascending.
    pub fn ks(&self) -> &[usize] {
        &self.ks
    }

    /// The CLV frame's column used as predicted CLV.
    pub fn clv_column(&self) -> &str {
        &self.clv_column
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// `[lifecycle]` as written in the config: thresholds of the lifecycle stages (see [`super::lifecycle`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleConfig {
    /// A customer whose first purchase is at most this many days before `as_of` is `new`. Default 30.
    pub new_days: i64,
    /// Smallest cadence (days between purchases) used, so two purchases on consecutive days do not
    /// make a customer `lost` a week later. Default 7.
    pub min_cadence_days: f64,
    /// Cadence when no customer bought on two days (no typical cadence). Default 90.
    pub fallback_cadence_days: f64,
    /// `active` while recency ≤ `at_risk_ratio` × cadence. Default 1.5.
    pub at_risk_ratio: f64,
    /// `at_risk` while recency ≤ `dormant_ratio` × cadence. Default 3.
    pub dormant_ratio: f64,
    /// `dormant` while recency ≤ `lost_ratio` × cadence, `lost` beyond. Default 6.
    pub lost_ratio: f64,
    /// With the CLV frame: an `active` customer with p_alive below this is `at_risk`. Default 0.5.
    pub at_risk_p_alive: f64,
    /// With the CLV frame: a customer (not `new`) with p_alive below this is `lost`. Default 0.1.
    pub lost_p_alive: f64,
    /// Column of the CLV frame with the probability of being alive. Default `p_alive`.
    pub p_alive_column: String,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            new_days: 30,
            min_cadence_days: 7.0,
            fallback_cadence_days: 90.0,
            at_risk_ratio: 1.5,
            dormant_ratio: 3.0,
            lost_ratio: 6.0,
            at_risk_p_alive: 0.5,
            lost_p_alive: 0.1,
            p_alive_column: "p_alive".into(),
        }
    }
}

/// Unchecked lifecycle parameters; [`LifecycleParams::check`] gives [`LifecycleValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LifecycleParams(LifecycleConfig);

/// Why lifecycle parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LifecycleParamsError {
    #[error("new_days = {0}: must be ≥ 0")]
    NewDays(i64),
    #[error("min_cadence_days = {0}: must be a finite number > 0")]
    MinCadence(f64),
    #[error("fallback_cadence_days = {0}: must be a finite number > 0")]
    FallbackCadence(f64),
    #[error("ratios must be finite and increase: 0 < at_risk_ratio ({at_risk}) < dormant_ratio ({dormant}) < lost_ratio ({lost})")]
    Ratios { at_risk: f64, dormant: f64, lost: f64 },
    #[error("p_alive thresholds must satisfy 0 ≤ lost_p_alive ({lost}) ≤ at_risk_p_alive ({at_risk}) ≤ 1")]
    PAlive { lost: f64, at_risk: f64 },
    #[error("p_alive_column is empty")]
    PAliveColumn,
}

impl LifecycleParamsError {
    /// The config key under `[lifecycle]` at fault.
    pub fn key(&self) -> &'static str {
        match self {
            LifecycleParamsError::NewDays(_) => "new_days",
            LifecycleParamsError::MinCadence(_) => "min_cadence_days",
            LifecycleParamsError::FallbackCadence(_) => "fallback_cadence_days",
            LifecycleParamsError::Ratios { .. } => "dormant_ratio",
            LifecycleParamsError::PAlive { .. } => "at_risk_p_alive",
            LifecycleParamsError::PAliveColumn => "p_alive_column",
        }
    }
}

/// Checked lifecycle parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleValidParams(pub(crate) LifecycleConfig);

impl LifecycleParams {
    pub fn new() -> Self {
        LifecycleParams::default()
    }

    pub fn from_config(c: &LifecycleConfig) -> Self {
        LifecycleParams(c.clone())
    }

    pub fn new_days(mut self, d: i64) -> Self {
        self.0.new_days = d;
        self
    }

    pub fn min_cadence_days(mut self, d: f64) -> Self {
        self.0.min_cadence_days = d;
        self
    }

    pub fn fallback_cadence_days(mut self, d: f64) -> Self {
        self.0.fallback_cadence_days = d;
        self
    }

    pub fn ratios(mut self, at_risk: f64, dormant: f64, lost: f64) -> Self {
        self.0.at_risk_ratio = at_risk;
        self.0.dormant_ratio = dormant;
        self.0.lost_ratio = lost;
        self
    }

    pub fn p_alive(mut self, at_risk: f64, lost: f64) -> Self {
        self.0.at_risk_p_alive = at_risk;
        self.0.lost_p_alive = lost;
        self
    }

    pub fn p_alive_column(mut self, c: &str) -> Self {
        self.0.p_alive_column = c.into();
        self
    }

    /// Checks every rule.
    pub fn check(self) -> Result<LifecycleValidParams, LifecycleParamsError> {
        let c = self.0;
        if c.new_days < 0 {
            return Err(LifecycleParamsError::NewDays(c.new_days));
        }
        if !(c.min_cadence_days.is_finite() && c.min_cadence_days > 0.0) {
            return Err(LifecycleParamsError::MinCadence(c.min_cadence_days));
        }
        if !(c.fallback_cadence_days.is_finite() && c.fallback_cadence_days > 0.0) {
            return Err(LifecycleParamsError::FallbackCadence(c.fallback_cadence_days));
        }
        let (a, d, l) = (c.at_risk_ratio, c.dormant_ratio, c.lost_ratio);
        if !(a.is_finite() && d.is_finite() && l.is_finite() && 0.0 < a && a < d && d < l) {
            return Err(LifecycleParamsError::Ratios { at_risk: a, dormant: d, lost: l });
        }
        let (pa, pl) = (c.at_risk_p_alive, c.lost_p_alive);
        if !(0.0 <= pl && pl <= pa && pa <= 1.0) {
            return Err(LifecycleParamsError::PAlive { lost: pl, at_risk: pa });
        }
        if c.p_alive_column.trim().is_empty() {
            return Err(LifecycleParamsError::PAliveColumn);
        }
        Ok(LifecycleValidParams(c))
    }
}

impl LifecycleValidParams {
    /// The CLV frame's column with p_alive.
    pub fn p_alive_column(&self) -> &str {
        &self.0.p_alive_column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check() {
        let p = ClusterParams::new().check().unwrap();
        assert_eq!(p.ks(), (2..=10).collect::<Vec<_>>());
        assert_eq!(p.features().len(), 6);
        assert!(LifecycleParams::new().check().is_ok());
    }

    #[test]
    fn fixed_k_is_the_only_k() {
        assert_eq!(ClusterParams::new().k(Some(4)).check().unwrap().ks(), [4]);
    }

    #[test]
    fn no_features() {
        assert_eq!(ClusterParams::new().features(vec![]).check(), Err(ClusterParamsError::NoFeatures));
    }

    #[test]
    fn duplicate_feature() {
        let e = ClusterParams::new().features(vec![Feature::ReturnRate, Feature::ReturnRate]).check();
        assert_eq!(e, Err(ClusterParamsError::DuplicateFeature("return_rate")));
    }

    #[test]
    fn k_too_small() {
        assert_eq!(ClusterParams::new().k(Some(1)).check(), Err(ClusterParamsError::KTooSmall(1)));
    }

    #[test]
    fn k_min_too_small() {
        assert_eq!(ClusterParams::new().k_range(1, 5).check(), Err(ClusterParamsError::KMinTooSmall(1)));
    }

    #[test]
    fn k_range_reversed() {
        assert_eq!(ClusterParams::new().k_range(5, 3).check(), Err(ClusterParamsError::KRange { k_min: 5, k_max: 3 }));
    }

    #[test]
    fn n_init_zero() {
        assert_eq!(ClusterParams::new().n_init(0).check(), Err(ClusterParamsError::NInit));
    }

    #[test]
    fn max_iter_zero() {
        assert_eq!(ClusterParams::new().max_iter(0).check(), Err(ClusterParamsError::MaxIter));
    }

    #[test]
    fn tolerance_not_positive() {
        assert_eq!(ClusterParams::new().tolerance(0.0).check(), Err(ClusterParamsError::Tolerance(0.0)));
        assert!(ClusterParams::new().tolerance(f64::NAN).check().is_err());
    }

    #[test]
    fn silhouette_sample_too_small() {
        assert_eq!(ClusterParams::new().silhouette_sample(2).check(), Err(ClusterParamsError::SilhouetteSample(2)));
    }

    #[test]
    fn clv_column_empty() {
        assert_eq!(ClusterParams::new().clv_column(" ").check(), Err(ClusterParamsError::ClvColumn));
    }

    #[test]
    fn lifecycle_new_days_negative() {
        assert_eq!(LifecycleParams::new().new_days(-1).check(), Err(LifecycleParamsError::NewDays(-1)));
    }

    #[test]
    fn lifecycle_min_cadence_not_positive() {
        assert_eq!(LifecycleParams::new().min_cadence_days(0.0).check(), Err(LifecycleParamsError::MinCadence(0.0)));
    }

    #[test]
    fn lifecycle_fallback_cadence_not_positive() {
        let e = LifecycleParams::new().fallback_cadence_days(-1.0).check();
        assert_eq!(e, Err(LifecycleParamsError::FallbackCadence(-1.0)));
    }

    #[test]
    fn lifecycle_ratios_must_increase() {
        let e = LifecycleParams::new().ratios(2.0, 2.0, 6.0).check();
        assert_eq!(e, Err(LifecycleParamsError::Ratios { at_risk: 2.0, dormant: 2.0, lost: 6.0 }));
    }

    #[test]
    fn lifecycle_p_alive_order() {
        let e = LifecycleParams::new().p_alive(0.2, 0.3).check();
        assert_eq!(e, Err(LifecycleParamsError::PAlive { lost: 0.3, at_risk: 0.2 }));
    }

    #[test]
    fn lifecycle_p_alive_column_empty() {
        assert_eq!(LifecycleParams::new().p_alive_column("").check(), Err(LifecycleParamsError::PAliveColumn));
    }
}
