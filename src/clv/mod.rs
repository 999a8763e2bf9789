//! Churn risk and customer lifetime value: buy-till-you-die purchase models with Gamma-Gamma
//! spend.
//!
//! ## Method
//! 1. [`summary`]: per customer x, t_x, T and mean repeat spend from valid orders (a pure
//!    LazyFrame function; same-day orders are one purchase), or for BG/BB the same per calendar
//!    period ([`summary::bgbb_summary`]).
//! 2. [`fit`]: maximum likelihood over compressed rows, with standard errors and convergence
//!    status, for
//!    - [`bgnbd::BgNbd`] (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way: An
//!      Alternative to the Pareto/NBD Model", *Marketing Science* 24(2));
//!    - [`pareto_nbd::ParetoNbd`] (Schmittlein, Morrison & Colombo 1987, *Management Science*
//!      33(1); Fader & Hardie 2005, brucehardie.com note 009);
//!    - [`mbgnbd::MbgNbd`] (Batislam, Denizel & Filiztekin 2007, *IJRM* 24(3));
//!    - [`bgbb::BgBb`] (Fader, Hardie & Shang 2010, *Marketing Science* 29(6)), on discrete
//!      purchase opportunities;
//!    - [`gamma_gamma::GammaGamma`] (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary
//!      Value").
//! 3. [`score`]: P(alive), churn risk and tier, expected purchases, expected order value,
//!    discounted CLV per horizon, and the expected next purchase date for every customer, through
//!    one interface over the purchase models ([`model::PurchaseModel`]).
//! 4. [`validation`]: the calibration fit against the holdout period (frequency bins and weekly
//!    — BG/BB: per period — cumulative tracking, with MAE), which also drives `model = "auto"`.
//!
//! The pipeline (`src/pipeline/clv.rs`) collects the summaries, calls the fitted stage and
//! chooses the model; nothing here does IO.
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
mod shared;
pub mod simulate;
pub mod special;
pub mod summary;
pub mod validation;

pub use params::{BgbbPeriod, ClvConfig, ClvModel, ClvParams, ClvParamsError, ClvValidParams, TimeUnit};

/// CLV failures. Every message names the model and the reason.
#[derive(Debug, Clone, thiserror::Error)]
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
