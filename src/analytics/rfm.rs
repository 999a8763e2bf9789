//! RFM scores and segments.
//!
//! ## Method
//! Each of R (recency, fewer days is better), F (purchase days) and M (net spend: total, or
//! average per order with `monetary = "average"`) is scored 1–5 by quintiles of rank:
//! `score = floor(5 · (rank − 1) / n) + 1`, where `rank` is the *minimum* rank among equal values
//! (1 = worst) and `n` the number of customers with a purchase. Equal values always get equal
//! scores. When many customers tie (most bought once), the tie takes the score of its lowest
//! rank and the quintiles above it stay **empty** rather than being re-spread: with 70 % one-time
//! buyers, F is 1 for all of them and 4–5 for the rest, and no one has F = 2 or 3.
//!
//! Segments come from R and FM = round-half-up((F + M) / 2); rules are tried in order and the
//! first match wins. The default grid (R down, FM across):
//!
//! | R \ FM | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | New Customers | Potential Loyalists | Potential Loyalists | Champions | Champions |
//! | 4 | Promising | Potential Loyalists | Potential Loyalists | Champions | Champions |
//! | 3 | About to Sleep | Need Attention | Loyal Customers | Loyal Customers | Loyal Customers |
//! | 2 | Hibernating | Hibernating | At Risk | At Risk | At Risk |
//! | 1 | Lost | Lost | At Risk | Cannot Lose Them | Cannot Lose Them |
//!
//! ## Parameters
//! `[rfm] monetary = "total" | "average"`; `[[rfm.segments]]` with `name`, `r = [..]`,
//! `fm = [..]` replaces the grid; every one of the 25 cells must be covered.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// Which spend M scores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Monetary {
    /// Total net spend.
    #[default]
    Total,
    /// Average net spend per order.
    Average,
}

/// One segment rule: a name and the R and FM scores it covers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub name: String,
    pub r: Vec<u8>,
    pub fm: Vec<u8>,
}

fn rule(name: &str, r: &[u8], fm: &[u8]) -> SegmentRule {
    SegmentRule { name: name.into(), r: r.to_vec(), fm: fm.to_vec() }
}

/// The default segment grid, in matching order.
pub fn default_segments() -> Vec<SegmentRule> {
    vec![
        rule("Champions", &[4, 5], &[4, 5]),
        rule("Cannot Lose Them", &[1], &[4, 5]),
        rule("At Risk", &[1, 2], &[3, 4, 5]),
        rule("Loyal Customers", &[3], &[3, 4, 5]),
        rule("Potential Loyalists", &[4, 5], &[2, 3]),
        rule("New Customers", &[5], &[1]),
        rule("Promising", &[4], &[1]),
        rule("Need Attention", &[3], &[2]),
        rule("About to Sleep", &[3], &[1]),
        rule("Hibernating", &[2], &[1, 2]),
        rule("Lost", &[1], &[1, 2]),
    ]
}

/// `[rfm]` as written in the config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RfmConfig {
    /// `total` (default) or `average`.
    pub monetary: Monetary,
    /// Segment rules in matching order; default [`default_segments`].
    pub segments: Vec<SegmentRule>,
}

impl Default for RfmConfig {
    fn default() -> Self {
        RfmConfig { monetary: Monetary::Total, segments: default_segments() }
    }
}

/// Unchecked RFM parameters (a builder); [`RfmParams::check`] gives [`RfmValidParams`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RfmParams(RfmConfig);

/// Why RFM parameters are unusable; one variant per rule.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RfmParamsError {
    #[error("segment rule {index} has an empty name")]
    EmptySegmentName { index: usize },
    #[error("segment `{segment}` uses score {score}; scores run 1 to 5")]
    ScoreOutOfRange { segment: String, score: u8 },
    #[error("no segment covers R={r}, FM={fm}; every one of the 25 cells needs a segment")]
    UncoveredCell { r: u8, fm: u8 },
}

impl RfmParamsError {
    /// The config key under `[rfm]` at fault.
    pub fn key(&self) -> &'static str {
        "segments"
    }
}

/// Checked RFM parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RfmValidParams {
    monetary: Monetary,
    /// Segment name per (R−1, FM−1) cell: the first matching rule.
    grid: [[String; 5]; 5],
}

impl RfmParams {
    pub fn new() -> Self {
        RfmParams::default()
    }

    pub fn from_config(c: &RfmConfig) -> Self {
        RfmParams(c.clone())
    }

    pub fn monetary(mut self, m: Monetary) -> Self {
        self.0.monetary = m;
        self
    }

    pub fn segments(mut self, s: Vec<SegmentRule>) -> Self {
        self.0.segments = s;
        self
    }

    /// Checks every rule and resolves the grid.
    pub fn check(self) -> Result<RfmValidParams, RfmParamsError> {
        let mut grid: [[Option<String>; 5]; 5] = Default::default();
        for (index, s) in self.0.segments.iter().enumerate() {
            if s.name.trim().is_empty() {
                return Err(RfmParamsError::EmptySegmentName { index });
            }
            for &score in s.r.iter().chain(&s.fm) {
                if !(1..=5).contains(&score) {
                    return Err(RfmParamsError::ScoreOutOfRange { segment: s.name.clone(), score });
                }
            }
            for &r in &s.r {
                for &fm in &s.fm {
                    let cell = &mut grid[r as usize - 1][fm as usize - 1];
                    if cell.is_none() {
                        *cell = Some(s.name.clone());
                    }
                }
            }
        }
        let mut out: [[String; 5]; 5] = Default::default();
        for r in 0..5 {
            for fm in 0..5 {
                out[r][fm] =
                    grid[r][fm].clone().ok_or(RfmParamsError::UncoveredCell { r: r as u8 + 1, fm: fm as u8 + 1 })?;
            }
        }
        Ok(RfmValidParams { monetary: self.0.monetary, grid: out })
    }
}

impl RfmValidParams {
    /// The segment of a cell (scores 1–5).
    pub fn segment(&self, r: u8, fm: u8) -> &str {
        &self.grid[r as usize - 1][fm as usize - 1]
    }
}

/// Quintile score of a column: `floor(5 · (min-rank − 1) / n) + 1`, in exact integer arithmetic.
fn quintile(e: Expr, descending: bool) -> Expr {
    let rank = e.rank(RankOptions { method: RankMethod::Min, descending }, None).cast(DataType::Int64);
    ((rank - lit(1i64)) * lit(5i64)).floor_div(len().cast(DataType::Int64)) + lit(1i64)
}

/// RFM scores and segment per customer.
///
/// Input: [`super::features::customer_features`] (needs `customer_id`, `recency_days`,
/// `purchase_days`, `monetary_total`, `monetary_avg`). Output: `customer_id`, `recency_days`,
/// `purchase_days`, `monetary`, `r_score`, `f_score`, `m_score`, `fm_score`, `segment`, sorted by `customer_id`.
///
/// ## Example
/// ```
/// use custlens::analytics::rfm::{rfm, RfmParams};
/// use polars::prelude::*;
/// let f = df!("customer_id" => ["a", "b"], "recency_days" => [1i64, 90], "purchase_days" => [4i64, 1],
///             "monetary_total" => [400.0, 20.0], "monetary_avg" => [100.0, 20.0]).unwrap();
/// let out = rfm(f.lazy(), &RfmParams::new().check().unwrap()).collect().unwrap();
/// let seg: Vec<_> = out.column("segment").unwrap().str().unwrap().iter().flatten().collect();
/// // With two customers the better one lands in the third quintile: floor(5 · 1 / 2) + 1 = 3.
/// assert_eq!(seg, ["Loyal Customers", "Lost"]);
/// ```
pub fn rfm(features: LazyFrame, p: &RfmValidParams) -> LazyFrame {
    let monetary = match p.monetary {
        Monetary::Total => col("monetary_total"),
        Monetary::Average => col("monetary_avg"),
    };
    let mut segment = lit(NULL).cast(DataType::String);
    for r in (1..=5u8).rev() {
        for fm in (1..=5u8).rev() {
            let cell = col("r_score").eq(lit(r as i64)).and(col("fm_score").eq(lit(fm as i64)));
            segment = when(cell).then(lit(p.segment(r, fm).to_string())).otherwise(segment);
        }
    }
    features
        .select([col("customer_id"), col("recency_days"), col("purchase_days"), monetary.alias("monetary")])
        .with_columns([
            quintile(col("recency_days"), true).alias("r_score"),
            quintile(col("purchase_days"), false).alias("f_score"),
            quintile(col("monetary"), false).alias("m_score"),
        ])
        .with_column((col("f_score") + col("m_score") + lit(1i64)).floor_div(lit(2i64)).alias("fm_score"))
        .with_column(segment.alias("segment"))
        .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten customers, scores and segments computed by hand (see the comments).
    fn ten() -> DataFrame {
        df!(
            "customer_id" =>    ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
            "recency_days" =>   [1i64, 1, 5, 10, 10, 30, 60, 90, 200, 365],
            "purchase_days" =>  [5i64, 3, 3, 2, 1, 1, 1, 2, 1, 4],
            "monetary_total" => [500.0, 300.0, 250.0, 200.0, 50.0, 80.0, 40.0, 120.0, 30.0, 400.0],
            "monetary_avg" =>   [100.0, 100.0, 83.3, 100.0, 50.0, 80.0, 40.0, 60.0, 30.0, 100.0],
        )
        .unwrap()
    }

    fn ints(df: &DataFrame, c: &str) -> Vec<i64> {
        df.column(c).unwrap().i64().unwrap().iter().map(Option::unwrap).collect()
    }

    #[test]
    fn hand_computed_ten_customers_with_ties() {
        let out = rfm(ten().lazy(), &RfmParams::new().check().unwrap()).collect().unwrap();
        // R: min-ranks by recency descending: j1 i2 h3 g4 f5 d,e6 c8 a,b9 -> floor(5(rank-1)/10)+1.
        assert_eq!(ints(&out, "r_score"), vec![5, 5, 4, 3, 3, 3, 2, 2, 1, 1]);
        // F: 1-day ties (e,f,g,i) rank 1 -> 1; 2 (d,h) rank 5 -> 3; 3 (b,c) rank 7 -> 4; j rank 9, a rank 10 -> 5.
        assert_eq!(ints(&out, "f_score"), vec![5, 4, 4, 3, 1, 1, 1, 3, 1, 5]);
        // M: ranks i1 g2 e3 f4 h5 d6 c7 b8 j9 a10.
        assert_eq!(ints(&out, "m_score"), vec![5, 4, 4, 3, 2, 2, 1, 3, 1, 5]);
        // FM = round half up ((F+M)/2): e = (1+2)/2 = 1.5 -> 2.
        assert_eq!(ints(&out, "fm_score"), vec![5, 4, 4, 3, 2, 2, 1, 3, 1, 5]);
        let seg: Vec<&str> = out.column("segment").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(
            seg,
            [
                "Champions",
                "Champions",
                "Champions",
                "Loyal Customers",
                "Need Attention",
                "Need Attention",
                "Hibernating",
                "At Risk",
                "Lost",
                "Cannot Lose Them"
            ]
        );
    }

    #[test]
    fn monetary_average_changes_m() {
        let p = RfmParams::new().monetary(Monetary::Average).check().unwrap();
        let out = rfm(ten().lazy(), &p).collect().unwrap();
        // avg: i30 g40 e50 h60 f80 c83.3 then a,b,d,j tie at 100 (rank 7 -> 4).
        assert_eq!(ints(&out, "m_score"), vec![4, 4, 3, 4, 2, 3, 1, 2, 1, 4]);
    }

    #[test]
    fn default_grid_covers_every_cell_as_documented() {
        let p = RfmParams::new().check().unwrap();
        let rows = [
            ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
            ["Promising", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
            ["About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers", "Loyal Customers"],
            ["Hibernating", "Hibernating", "At Risk", "At Risk", "At Risk"],
            ["Lost", "Lost", "At Risk", "Cannot Lose Them", "Cannot Lose Them"],
        ];
        for (i, row) in rows.iter().enumerate() {
            for (j, name) in row.iter().enumerate() {
                assert_eq!(p.segment(5 - i as u8, j as u8 + 1), *name, "R{} FM{}", 5 - i, j + 1);
            }
        }
    }

    #[test]
    fn uncovered_cell_is_an_error() {
        let err =
            RfmParams::new().segments(vec![rule("All but one", &[1, 2, 3, 4], &[1, 2, 3, 4, 5])]).check().unwrap_err();
        assert_eq!(err, RfmParamsError::UncoveredCell { r: 5, fm: 1 });
    }

    #[test]
    fn score_out_of_range_is_an_error() {
        let err = RfmParams::new().segments(vec![rule("x", &[0], &[1])]).check().unwrap_err();
        assert_eq!(err, RfmParamsError::ScoreOutOfRange { segment: "x".into(), score: 0 });
    }

    #[test]
    fn empty_name_is_an_error() {
        let err = RfmParams::new().segments(vec![rule(" ", &[1], &[1])]).check().unwrap_err();
        assert_eq!(err, RfmParamsError::EmptySegmentName { index: 0 });
    }

    #[test]
    fn all_one_time_buyers_share_f1() {
        let f = df!("customer_id" => ["a", "b", "c"], "recency_days" => [1i64, 2, 3], "purchase_days" => [1i64, 1, 1],
            "monetary_total" => [1.0, 1.0, 1.0], "monetary_avg" => [1.0, 1.0, 1.0])
        .unwrap();
        let out = rfm(f.lazy(), &RfmParams::new().check().unwrap()).collect().unwrap();
        assert_eq!(ints(&out, "f_score"), vec![1, 1, 1]);
        assert_eq!(ints(&out, "m_score"), vec![1, 1, 1]);
    }
}
