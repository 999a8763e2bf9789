//! What marketing teams act on: trigger rules (who gets which message today, on which channel)
//! and the audience files their email and SMS tools import.
//!
//! Pure functions over LazyFrames like the analyses; the pipeline collects and writes.

pub mod audiences;
pub mod migration;
pub mod params;
pub mod triggers;

pub use params::{TriggerConfig, TriggerParams, TriggerParamsError, TriggerValidParams, ACTIONS};
