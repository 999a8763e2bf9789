//! Churn risk and customer lifetime value: BG/NBD purchase counts with Gamma-Gamma spend.
//!
//! ## Method
//! 1. [`summary`]: per customer x, t_x, T and mean repeat spend from valid orders (a pure
//!    LazyFrame function; same-day orders are one purchase).
//! 2. [`fit`]: maximum likelihood for [`bgnbd::BgNbd`] (Fader, Hardie & Lee 2005, "Counting Your
//!    Customers the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2))
//!    and [`gamma_gamma::GammaGamma`] (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary
//!    Value"), over compressed rows, with standard errors and convergence status.
//! 3. [`score`]: P(alive), churn risk and tier, expected purchases, expected order value,
//!    discounted CLV per horizon, and the expected next purchase date for every customer.
//! 4. [`validation`]: the calibration fit against the holdout period (frequency bins and weekly
//!    cumulative tracking, with MAE).
//!
//! The pipeline (`src/pipeline/clv.rs`) collects the summaries and calls the fitted stage; nothing
//! here does IO.
//!
//! ## Parameters
//! See [`params`] (`[clv]` in the config).

pub mod bgbb;
pub mod bgnbd;
pub mod fit;
pub mod gamma_gamma;
pub mod mbgnbd;
pub mod model;
pub mod params;
pub mod pareto_nbd;
pub mod score;
pub mod simulate;
pub mod special;
pub mod summary;
pub mod validation;

pub use params::{BgbbPeriod, ClvConfig, ClvModel, ClvParams, ClvParamsError, ClvValidParams, TimeUnit};

/// CLV failures. Every message names the model and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ClvError {
    #[error("clv summary row {row}: {reason}")]
    InvalidSummary { row: usize, reason: String },
    #[error("{model}: cannot fit: {reason}")]
    Degenerate { model: &'static str, reason: String },
    #[error("{model}: numerical failure computing {what}")]
    Numerical { model: &'static str, what: String },
    #[error("clv: {0}")]
    Frame(String),
}
