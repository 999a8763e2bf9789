//! `[basket]`: what a basket is, which itemsets and rules to keep, how to recommend.
//!
//! [`BasketConfig`] is the section as written; [`BasketParams`] the builder;
//! [`BasketParams::check`] gives [`BasketValidParams`] or one [`BasketParamsError`] per broken rule.

use serde::{Deserialize, Serialize};

/// What one basket (transaction) is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BasketBy {
    /// One basket per order (default).
    #[default]
    Order,
    /// One basket per customer: everything they ever bought.
    Customer,
}

/// What an item is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemLevel {
    /// The line's SKU (default); lines without one are skipped.
    #[default]
    Sku,
    /// The product title: the catalog's `product_name` for the SKU, else the line's own title.
    Product,
    /// The catalog `category` of the line's SKU; lines whose SKU has no category are skipped.
    Category,
}

impl ItemLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemLevel::Sku => "sku",
            ItemLevel::Product => "product",
            ItemLevel::Category => "category",
        }
    }
}

/// Which frequent itemsets `itemsets.parquet` lists (rules always use all of them).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemsetFilter {
    /// Every frequent itemset (default).
    #[default]
    All,
    /// Closed: no proper superset has the same count.
    Closed,
    /// Maximal: no proper superset is frequent.
    Maximal,
}

/// The metric recommendations are ranked by.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMetric {
    /// confidence × lift (default).
    #[default]
    ConfidenceLift,
    Confidence,
    Lift,
    Leverage,
    Zhang,
    Jaccard,
    Kulczynski,
    Certainty,
}

/// `[basket]` as written in the config. Every key has a default; see each field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BasketConfig {
    /// Run the basket stage. Default true.
    pub enabled: bool,
    /// Minimum support as a fraction of baskets, in (0, 1]. Give this or `min_count`, not both;
    /// default 0.01 when neither is given.
    pub min_support: Option<f64>,
    /// Minimum support as a number of baskets (≥ 1), instead of `min_support`.
    pub min_count: Option<u64>,
    /// Longest itemset mined, 1 to 64. Default 10.
    pub max_len: usize,
    /// Rules need confidence ≥ this, in [0, 1]. Default 0.1.
    pub min_confidence: f64,
    /// Rules need lift ≥ this (≥ 0). Default 0 (no filter).
    pub min_lift: f64,
    /// Keep only the first N rules in the output order (lift, then confidence, then support,
    /// all descending; then antecedent and consequent ascending). Default: all.
    pub max_rules: Option<usize>,
    /// `order` (default) or `customer`.
    pub basket_by: BasketBy,
    /// `sku` (default), `product` or `category`.
    pub item: ItemLevel,
    /// Keep only these items (exact values, or a prefix ending in `*`). Default: all.
    pub include: Vec<String>,
    /// Drop these items (exact values, or a prefix ending in `*`); applied after `include`.
    pub exclude: Vec<String>,
    /// Only valid orders (paid, shipped or completed, not fully refunded) make baskets. Default
    /// true; false takes every order, cancelled and unpaid ones included.
    pub valid_only: bool,
    /// Drop a rule when a rule with the same consequent and a strict subset of its antecedent has
    /// at least its confidence. Default false.
    pub prune_redundant: bool,
    /// Allow consequents of several items. Default false (single-item consequents, as arules).
    pub multi_consequent: bool,
    /// `all` (default), `closed` or `maximal` itemsets in `itemsets.parquet`.
    pub itemsets: ItemsetFilter,
    /// Recommendations per customer, ≥ 1. Default 5.
    pub top_n: usize,
    /// The metric recommendations are ranked by. Default `confidence_lift`.
    pub score: ScoreMetric,
    /// Multiply the score by the item's unit margin (catalog price − cost, at least 0); items
    /// without a known margin are not recommended. Needs `item = "sku"`. Default false.
    pub margin_weighted: bool,
}

impl Default for BasketConfig {
    fn default() -> Self {
        BasketConfig {
            enabled: true,
            min_support: None,
            min_count: None,
            max_len: 10,
            min_confidence: 0.1,
            min_lift: 0.0,
            max_rules: None,
            basket_by: BasketBy::Order,
            item: ItemLevel::Sku,
            include: Vec::new(),
            exclude: Vec::new(),
            valid_only: true,
            prune_redundant: false,
            multi_consequent: false,
            itemsets: ItemsetFilter::All,
            top_n: 5,
            score: ScoreMetric::ConfidenceLift,
            margin_weighted: false,
        }
    }
}

/// Default minimum support when neither `min_support` nor `min_count` is given.
pub const DEFAULT_MIN_SUPPORT: f64 = 0.01;

/// The support threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A fraction of baskets.
    Support(f64),
    /// A number of baskets.
    Count(u64),
}

impl Threshold {
    /// The smallest basket count that meets the threshold among `n` baskets (at least 1):
    /// `ceil(s · n)` for a fraction `s`, with a relative tolerance of 1e-12 so that a product
    /// like 0.07 × 100 = 7.000000000000001 counts as 7.
    pub fn min_count(self, n: u64) -> u64 {
        match self {
            Threshold::Count(c) => c.max(1),
            Threshold::Support(s) => {
                let x = s * n as f64;
                let c = (x * (1.0 - 1e-12)).ceil();
                (c as u64).max(1)
            }
        }
    }
}

/// Unchecked basket parameters (a builder); [`BasketParams::check`] gives [`BasketValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BasketParams(BasketConfig);

/// Why basket parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BasketParamsError {
    #[error("give min_support or min_count, not both")]
    BothThresholds,
    #[error("min_support {0} must be in (0, 1]")]
    MinSupportRange(f64),
    #[error("min_count must be at least 1")]
    MinCountZero,
    #[error("max_len {0} must be between 1 and 64")]
    MaxLenRange(usize),
    #[error("min_confidence {0} must be in [0, 1]")]
    MinConfidenceRange(f64),
    #[error("min_lift {0} must be a number ≥ 0")]
    MinLiftRange(f64),
    #[error("max_rules must be at least 1 (leave it out to keep every rule)")]
    MaxRulesZero,
    #[error("top_n must be at least 1")]
    TopNZero,
    #[error("an empty pattern in `{0}`; give item values or prefixes ending in `*`")]
    EmptyPattern(&'static str),
    #[error("margin_weighted needs item = \"sku\" (margins are per SKU); item is `{0}`")]
    MarginNeedsSku(&'static str),
}

impl BasketParamsError {
    /// The config key under `[basket]` at fault.
    pub fn key(&self) -> &'static str {
        match self {
            BasketParamsError::BothThresholds | BasketParamsError::MinSupportRange(_) => "min_support",
            BasketParamsError::MinCountZero => "min_count",
            BasketParamsError::MaxLenRange(_) => "max_len",
            BasketParamsError::MinConfidenceRange(_) => "min_confidence",
            BasketParamsError::MinLiftRange(_) => "min_lift",
            BasketParamsError::MaxRulesZero => "max_rules",
            BasketParamsError::TopNZero => "top_n",
            BasketParamsError::EmptyPattern(k) => k,
            BasketParamsError::MarginNeedsSku(_) => "margin_weighted",
        }
    }
}

/// Checked basket parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct BasketValidParams {
    cfg: BasketConfig,
    threshold: Threshold,
}

macro_rules! setter {
    ($name:ident, $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        pub fn $name(mut self, v: $ty) -> Self {
            self.0.$name = v;
            self
        }
    };
}

impl BasketParams {
    pub fn new() -> Self {
        BasketParams::default()
    }

    pub fn from_config(c: &BasketConfig) -> Self {
        BasketParams(c.clone())
    }

    setter!(min_support, Option<f64>);
    setter!(min_count, Option<u64>);
    setter!(max_len, usize);
    setter!(min_confidence, f64);
    setter!(min_lift, f64);
    setter!(max_rules, Option<usize>);
    setter!(basket_by, BasketBy);
    setter!(item, ItemLevel);
    setter!(include, Vec<String>);
    setter!(exclude, Vec<String>);
    setter!(valid_only, bool);
    setter!(prune_redundant, bool);
    setter!(multi_consequent, bool);
    setter!(itemsets, ItemsetFilter);
    setter!(top_n, usize);
    setter!(score, ScoreMetric);
    setter!(margin_weighted, bool);

    /// Checks every rule.
    pub fn check(self) -> Result<BasketValidParams, BasketParamsError> {
        let c = self.0;
        let threshold = match (c.min_support, c.min_count) {
            (Some(_), Some(_)) => return Err(BasketParamsError::BothThresholds),
            (Some(s), None) if !(s > 0.0 && s <= 1.0) => return Err(BasketParamsError::MinSupportRange(s)),
            (Some(s), None) => Threshold::Support(s),
            (None, Some(0)) => return Err(BasketParamsError::MinCountZero),
            (None, Some(n)) => Threshold::Count(n),
            (None, None) => Threshold::Support(DEFAULT_MIN_SUPPORT),
        };
        if !(1..=64).contains(&c.max_len) {
            return Err(BasketParamsError::MaxLenRange(c.max_len));
        }
        if !(0.0..=1.0).contains(&c.min_confidence) {
            return Err(BasketParamsError::MinConfidenceRange(c.min_confidence));
        }
        if !(c.min_lift.is_finite() && c.min_lift >= 0.0) {
            return Err(BasketParamsError::MinLiftRange(c.min_lift));
        }
        if c.max_rules == Some(0) {
            return Err(BasketParamsError::MaxRulesZero);
        }
        if c.top_n == 0 {
            return Err(BasketParamsError::TopNZero);
        }
        for (key, list) in [("include", &c.include), ("exclude", &c.exclude)] {
            if list.iter().any(|p| p.trim_end_matches('*').is_empty()) {
                return Err(BasketParamsError::EmptyPattern(key));
            }
        }
        if c.margin_weighted && c.item != ItemLevel::Sku {
            return Err(BasketParamsError::MarginNeedsSku(c.item.as_str()));
        }
        Ok(BasketValidParams { cfg: c, threshold })
    }
}

impl BasketValidParams {
    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }
    pub fn max_len(&self) -> usize {
        self.cfg.max_len
    }
    pub fn min_confidence(&self) -> f64 {
        self.cfg.min_confidence
    }
    pub fn min_lift(&self) -> f64 {
        self.cfg.min_lift
    }
    pub fn max_rules(&self) -> Option<usize> {
        self.cfg.max_rules
    }
    pub fn basket_by(&self) -> BasketBy {
        self.cfg.basket_by
    }
    pub fn item(&self) -> ItemLevel {
        self.cfg.item
    }
    pub fn include(&self) -> &[String] {
        &self.cfg.include
    }
    pub fn exclude(&self) -> &[String] {
        &self.cfg.exclude
    }
    pub fn valid_only(&self) -> bool {
        self.cfg.valid_only
    }
    pub fn prune_redundant(&self) -> bool {
        self.cfg.prune_redundant
    }
    pub fn multi_consequent(&self) -> bool {
        self.cfg.multi_consequent
    }
    pub fn itemsets(&self) -> ItemsetFilter {
        self.cfg.itemsets
    }
    pub fn top_n(&self) -> usize {
        self.cfg.top_n
    }
    pub fn score(&self) -> ScoreMetric {
        self.cfg.score
    }
    pub fn margin_weighted(&self) -> bool {
        self.cfg.margin_weighted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: BasketParams) -> BasketParamsError {
        p.check().unwrap_err()
    }

    #[test]
    fn defaults_are_valid() {
        let p = BasketParams::new().check().unwrap();
        assert_eq!(p.threshold(), Threshold::Support(0.01));
        assert_eq!((p.max_len(), p.top_n()), (10, 5));
        assert!(p.valid_only() && !p.prune_redundant() && !p.multi_consequent());
    }

    #[test]
    fn both_thresholds() {
        assert_eq!(
            err(BasketParams::new().min_support(Some(0.1)).min_count(Some(3))),
            BasketParamsError::BothThresholds
        );
    }

    #[test]
    fn min_support_range() {
        for s in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(matches!(err(BasketParams::new().min_support(Some(s))), BasketParamsError::MinSupportRange(_)));
        }
        assert!(BasketParams::new().min_support(Some(1.0)).check().is_ok());
    }

    #[test]
    fn min_count_zero() {
        assert_eq!(err(BasketParams::new().min_count(Some(0))), BasketParamsError::MinCountZero);
        assert_eq!(BasketParams::new().min_count(Some(4)).check().unwrap().threshold(), Threshold::Count(4));
    }

    #[test]
    fn max_len_range() {
        assert_eq!(err(BasketParams::new().max_len(0)), BasketParamsError::MaxLenRange(0));
        assert_eq!(err(BasketParams::new().max_len(65)), BasketParamsError::MaxLenRange(65));
    }

    #[test]
    fn min_confidence_range() {
        assert_eq!(err(BasketParams::new().min_confidence(1.2)), BasketParamsError::MinConfidenceRange(1.2));
    }

    #[test]
    fn min_lift_range() {
        assert_eq!(err(BasketParams::new().min_lift(-1.0)), BasketParamsError::MinLiftRange(-1.0));
        assert!(matches!(err(BasketParams::new().min_lift(f64::INFINITY)), BasketParamsError::MinLiftRange(_)));
    }

    #[test]
    fn max_rules_zero() {
        assert_eq!(err(BasketParams::new().max_rules(Some(0))), BasketParamsError::MaxRulesZero);
    }

    #[test]
    fn top_n_zero() {
        assert_eq!(err(BasketParams::new().top_n(0)), BasketParamsError::TopNZero);
    }

    #[test]
    fn empty_pattern() {
        assert_eq!(err(BasketParams::new().include(vec!["*".into()])), BasketParamsError::EmptyPattern("include"));
        assert_eq!(err(BasketParams::new().exclude(vec!["".into()])).key(), "exclude");
    }

    #[test]
    fn margin_needs_sku() {
        let e = err(BasketParams::new().margin_weighted(true).item(ItemLevel::Category));
        assert_eq!(e, BasketParamsError::MarginNeedsSku("category"));
        assert_eq!(e.key(), "margin_weighted");
    }

    #[test]
    fn threshold_counts_are_exact() {
        assert_eq!(Threshold::Support(0.07).min_count(100), 7);
        assert_eq!(Threshold::Support(0.01).min_count(2474), 25);
        assert_eq!(Threshold::Support(0.5).min_count(3), 2);
        assert_eq!(Threshold::Support(1e-9).min_count(10), 1);
        assert_eq!(Threshold::Count(0).min_count(10), 1);
    }
}
