//! `[triggers]`: the windows and thresholds of the marketing triggers, checked before use.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A dated occasion for `holiday_offer` (e.g. `{ name = "Singles' Day", date = "2024-11-11" }`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// `[triggers]` as written in `custlens.toml`; every key has a default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TriggerConfig {
    /// `welcome`: a first valid order within this many days. Default 7.
    pub welcome_days: i64,
    /// `abandoned_cart`: a cart add or checkout start at least this many hours old… Default 1.
    pub cart_wait_hours: i64,
    /// …and at most this many hours old, with no order since. Default 72.
    pub cart_lookback_hours: i64,
    /// `unpaid_reminder`: a `pending_payment` order older than this many hours… Default 24.
    pub unpaid_after_hours: i64,
    /// …and younger than this many days. Default 7.
    pub unpaid_max_days: i64,
    /// `shipping_care`: an order shipped within this many days and not yet completed. Default 3.
    pub care_days: i64,
    /// `review_request`: an order delivered (completed, else shipped) this many days ago… Default 7.
    pub review_after_days: i64,
    /// …within a window of this many days. Default 7.
    pub review_window_days: i64,
    /// `vip_care`: Champions, or this top share of customers by predicted CLV. Default 0.05.
    pub vip_top_share: f64,
    /// `win_back`: churn risk at least this… Default 0.7.
    pub win_back_churn_risk: f64,
    /// …and past spend at least this quantile of buyers' spend. Default 0.5.
    pub win_back_value_quantile: f64,
    /// A `bounce` event within this many days blocks the email channel. Default 90.
    pub bounce_block_days: i64,
    /// `holiday_offer`: buyers get it this many days before each holiday. Default 14.
    pub holiday_lead_days: i64,
    pub holidays: Vec<Holiday>,
    /// Action → channels in order of preference (`email`, `sms`); defaults in [`default_channels`].
    pub channels: BTreeMap<String, Vec<String>>,
    /// Action → offer text for the audience file; defaults in [`default_offers`].
    pub offers: BTreeMap<String, String>,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        TriggerConfig {
            welcome_days: 7,
            cart_wait_hours: 1,
            cart_lookback_hours: 72,
            unpaid_after_hours: 24,
            unpaid_max_days: 7,
            care_days: 3,
            review_after_days: 7,
            review_window_days: 7,
            vip_top_share: 0.05,
            win_back_churn_risk: 0.7,
            win_back_value_quantile: 0.5,
            bounce_block_days: 90,
            holiday_lead_days: 14,
            holidays: Vec::new(),
            channels: BTreeMap::new(),
            offers: BTreeMap::new(),
        }
    }
}

/// Every action, in output order.
pub const ACTIONS: [&str; 8] = [
    "welcome",
    "abandoned_cart",
    "unpaid_reminder",
    "shipping_care",
    "review_request",
    "vip_care",
    "win_back",
    "holiday_offer",
];

/// Service messages about an order the customer placed: they need no marketing opt-in, only the
/// absence of an opt-out. Every other action is marketing and needs an explicit opt-in.
pub const SERVICE_ACTIONS: [&str; 3] = ["unpaid_reminder", "shipping_care", "review_request"];

/// Default channel preference per action: SMS first for the unpaid reminder (it is urgent),
/// email first for the rest.
pub fn default_channels(action: &str) -> Vec<String> {
    let order: &[&str] = if action == "unpaid_reminder" { &["sms", "email"] } else { &["email", "sms"] };
    order.iter().map(|s| s.to_string()).collect()
}

/// Default offer text per action.
pub fn default_offers(action: &str) -> &'static str {
    match action {
        "welcome" => "10% off the second order",
        "abandoned_cart" => "free shipping on this cart",
        "unpaid_reminder" => "complete your payment",
        "shipping_care" => "tracking and care tips",
        "review_request" => "review for loyalty points",
        "vip_care" => "early access to new arrivals",
        "win_back" => "15% come-back voucher",
        _ => "seasonal offer",
    }
}

/// Why `[triggers]` cannot be used: one variant per rule, each naming its key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TriggerParamsError {
    #[error("triggers.{key} must be at least 1 (got {value})")]
    NotPositive { key: &'static str, value: i64 },
    #[error("triggers.cart_lookback_hours ({lookback}) must be greater than cart_wait_hours ({wait})")]
    CartWindow { wait: i64, lookback: i64 },
    #[error("triggers.{key} must be in (0, 1] (got {value})")]
    Share { key: &'static str, value: f64 },
    #[error("triggers.holidays: `{date}` of `{name}` is not a YYYY-MM-DD date")]
    HolidayDate { name: String, date: String },
    #[error("triggers.channels.{action}: `{channel}` is not a channel; use email or sms (and name an action among {actions})")]
    Channel { action: String, channel: String, actions: String },
    #[error("triggers.offers.{action}: not an action; use one of {actions}")]
    OfferAction { action: String, actions: String },
}

impl TriggerParamsError {
    /// The config key the error is about, for messages that name `triggers.<key>`.
    pub fn key(&self) -> String {
        match self {
            TriggerParamsError::NotPositive { key, .. } | TriggerParamsError::Share { key, .. } => key.to_string(),
            TriggerParamsError::CartWindow { .. } => "cart_lookback_hours".into(),
            TriggerParamsError::HolidayDate { .. } => "holidays".into(),
            TriggerParamsError::Channel { action, .. } => format!("channels.{action}"),
            TriggerParamsError::OfferAction { action, .. } => format!("offers.{action}"),
        }
    }
}

/// Unchecked trigger parameters (linfa style: build, then [`TriggerParams::check`]).
#[derive(Debug, Clone, Default)]
pub struct TriggerParams(TriggerConfig);

/// Checked trigger parameters: the only form the trigger rules accept.
#[derive(Debug, Clone)]
pub struct TriggerValidParams {
    pub(crate) c: TriggerConfig,
    /// Holidays as UTC day numbers.
    pub(crate) holidays: Vec<(String, i64)>,
}

impl TriggerParams {
    pub fn from_config(c: &TriggerConfig) -> Self {
        TriggerParams(c.clone())
    }

    /// Checks every rule; the first broken one is returned.
    pub fn check(self) -> Result<TriggerValidParams, TriggerParamsError> {
        let c = self.0;
        for (key, value) in [
            ("welcome_days", c.welcome_days),
            ("cart_wait_hours", c.cart_wait_hours),
            ("cart_lookback_hours", c.cart_lookback_hours),
            ("unpaid_after_hours", c.unpaid_after_hours),
            ("unpaid_max_days", c.unpaid_max_days),
            ("care_days", c.care_days),
            ("review_after_days", c.review_after_days),
            ("review_window_days", c.review_window_days),
            ("bounce_block_days", c.bounce_block_days),
            ("holiday_lead_days", c.holiday_lead_days),
        ] {
            if value < 1 {
                return Err(TriggerParamsError::NotPositive { key, value });
            }
        }
        if c.cart_lookback_hours <= c.cart_wait_hours {
            return Err(TriggerParamsError::CartWindow { wait: c.cart_wait_hours, lookback: c.cart_lookback_hours });
        }
        for (key, value) in [
            ("vip_top_share", c.vip_top_share),
            ("win_back_churn_risk", c.win_back_churn_risk),
            ("win_back_value_quantile", c.win_back_value_quantile),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(TriggerParamsError::Share { key, value });
            }
        }
        let actions = ACTIONS.join(", ");
        for (action, chans) in &c.channels {
            let bad = chans.iter().find(|ch| !["email", "sms"].contains(&ch.as_str()));
            if !ACTIONS.contains(&action.as_str()) || chans.is_empty() || bad.is_some() {
                return Err(TriggerParamsError::Channel {
                    action: action.clone(),
                    channel: bad.cloned().unwrap_or_default(),
                    actions,
                });
            }
        }
        if let Some(a) = c.offers.keys().find(|a| !ACTIONS.contains(&a.as_str())) {
            return Err(TriggerParamsError::OfferAction { action: a.clone(), actions });
        }
        let mut holidays = Vec::new();
        for h in &c.holidays {
            let day = chrono::NaiveDate::parse_from_str(&h.date, "%Y-%m-%d")
                .map_err(|_| TriggerParamsError::HolidayDate { name: h.name.clone(), date: h.date.clone() })?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            holidays.push((h.name.clone(), (day - epoch).num_days()));
        }
        Ok(TriggerValidParams { c, holidays })
    }
}

impl TriggerValidParams {
    /// Channels of `action`, in order of preference.
    pub fn channels(&self, action: &str) -> Vec<String> {
        self.c.channels.get(action).cloned().unwrap_or_else(|| default_channels(action))
    }

    /// Offer text of `action`.
    pub fn offer(&self, action: &str) -> String {
        self.c.offers.get(action).cloned().unwrap_or_else(|| default_offers(action).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut TriggerConfig)) -> Result<TriggerValidParams, TriggerParamsError> {
        let mut c = TriggerConfig::default();
        f(&mut c);
        TriggerParams::from_config(&c).check()
    }

    #[test]
    fn defaults_check() {
        let p = with(|_| {}).unwrap();
        assert_eq!(p.channels("unpaid_reminder"), ["sms", "email"]);
        assert_eq!(p.channels("welcome"), ["email", "sms"]);
    }

    #[test]
    fn windows_must_be_positive() {
        let e = with(|c| c.care_days = 0).unwrap_err();
        assert_eq!(e, TriggerParamsError::NotPositive { key: "care_days", value: 0 });
        assert_eq!(e.key(), "care_days");
    }

    #[test]
    fn cart_lookback_must_exceed_wait() {
        let e = with(|c| c.cart_lookback_hours = 1).unwrap_err();
        assert!(matches!(e, TriggerParamsError::CartWindow { wait: 1, lookback: 1 }));
    }

    #[test]
    fn shares_must_be_fractions() {
        let e = with(|c| c.vip_top_share = 1.5).unwrap_err();
        assert!(matches!(e, TriggerParamsError::Share { key: "vip_top_share", .. }));
        assert!(with(|c| c.win_back_churn_risk = f64::NAN).is_err());
    }

    #[test]
    fn holiday_dates_must_parse() {
        let e = with(|c| c.holidays = vec![Holiday { name: "x".into(), date: "11/11".into() }]).unwrap_err();
        assert!(matches!(e, TriggerParamsError::HolidayDate { .. }));
        let ok = with(|c| c.holidays = vec![Holiday { name: "x".into(), date: "1970-01-03".into() }]).unwrap();
        assert_eq!(ok.holidays, vec![("x".to_string(), 2)]);
    }

    #[test]
    fn channels_must_be_known() {
        let e = with(|c| {
            c.channels.insert("welcome".into(), vec!["fax".into()]);
        })
        .unwrap_err();
        assert!(matches!(&e, TriggerParamsError::Channel { channel, .. } if channel == "fax"));
        assert!(with(|c| {
            c.channels.insert("welcom".into(), vec!["email".into()]);
        })
        .is_err());
    }

    #[test]
    fn offers_must_name_an_action() {
        let e = with(|c| {
            c.offers.insert("birthday".into(), "cake".into());
        })
        .unwrap_err();
        assert_eq!(e.key(), "offers.birthday");
    }
}
