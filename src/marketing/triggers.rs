//! Marketing triggers: who gets which message today, on which channel, with what.
//!
//! ## Method
//! Each action is a rule over the canonical tables at `as_of` (windows in `[triggers]`):
//!
//! | action | rule | kind |
//! |---|---|---|
//! | `welcome` | exactly one valid order, the first within `welcome_days` | marketing |
//! | `abandoned_cart` | an `add_to_cart` / `begin_checkout` event between `cart_lookback_hours` and `cart_wait_hours` ago, and no order (any status) created after it; the product is the latest cart SKU | marketing |
//! | `unpaid_reminder` | an order still `pending_payment`, created between `unpaid_max_days` and `unpaid_after_hours` ago | service |
//! | `shipping_care` | an order `shipped` (not yet completed) within `care_days` | service |
//! | `review_request` | an order completed (else shipped) between `review_after_days + review_window_days` and `review_after_days` ago | service |
//! | `vip_care` | RFM segment Champions, or predicted CLV at least its (1 − `vip_top_share`) quantile (linear interpolation) | marketing |
//! | `win_back` | churn risk ≥ `win_back_churn_risk` and past spend ≥ the `win_back_value_quantile` of buyers' spend; without a churn model, RFM segments At Risk and Cannot Lose Them | marketing |
//! | `holiday_offer` | a configured holiday within `holiday_lead_days` after `as_of`, for every buyer | marketing |
//!
//! A birthday offer needs a birth date, which no canonical table carries yet, so there is none.
//!
//! **Channels and consent.** Each action tries its channels in order (`[triggers.channels]`;
//! default email then SMS, SMS first for the unpaid reminder). Marketing actions need an explicit
//! opt-in (`email_opt_in` / `sms_opt_in` true, which already folds in unsubscribes and profile
//! exports); service actions about the customer's own order need only the absence of an opt-out.
//! Email also needs no `bounce` event within `bounce_block_days`. A customer no channel allows
//! gets no action. The contact written is the one of the chosen channel only.
//!
//! ## Example
//! See the unit tests: one hand-built case per action.

use super::params::{TriggerValidParams, ACTIONS, SERVICE_ACTIONS};
use crate::analytics::DAY_US;
use polars::prelude::*;

const HOUR_US: i64 = 3_600_000_000;

/// The inputs of [`actions`].
///
/// - `people`: one row per customer: `customer_id`, `segment`, `orders`, `monetary_total`,
///   `first_order_at`, `email`, `phone`, `name`, `email_opt_in`, `sms_opt_in`, and the model
///   columns `churn_risk`, `clv` (f64) and `recommended` (the top recommended item) — null where
///   the stage did not run;
/// - `orders`, `events`: the lake's tables (customer ids resolved).
pub struct TriggerInputs {
    pub people: LazyFrame,
    pub orders: LazyFrame,
    pub events: LazyFrame,
}

fn us(c: &str) -> Expr {
    col(c).cast(DataType::Int64)
}

/// One candidate table per action: customer_id, action, reason, product.
fn candidate(lf: LazyFrame, action: &str, reason: Expr, product: Expr) -> LazyFrame {
    lf.select([
        col("customer_id"),
        lit(action.to_string()).alias("action"),
        reason.cast(DataType::String).alias("reason"),
        product.cast(DataType::String).alias("product"),
    ])
}

/// One row per customer: their latest qualifying order.
fn latest_order(lf: LazyFrame) -> LazyFrame {
    lf.sort(["at", "order_id"], SortMultipleOptions::default().with_order_descending(true))
        .group_by([col("customer_id")])
        .agg([col("order_id").first(), col("at").first()])
}

fn welcome(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let since = as_of - p.c.welcome_days * DAY_US;
    let lf = i.people.clone().filter(col("orders").eq(lit(1i64)).and(us("first_order_at").gt_eq(lit(since))));
    candidate(lf, "welcome", lit("first order"), col("recommended"))
}

fn abandoned_cart(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let (from, to) = (as_of - p.c.cart_lookback_hours * HOUR_US, as_of - p.c.cart_wait_hours * HOUR_US);
    let carts = i
        .events
        .clone()
        .filter(
            col("event_type")
                .eq(lit("add_to_cart"))
                .or(col("event_type").eq(lit("begin_checkout")))
                .and(us("ts").gt_eq(lit(from)))
                .and(us("ts").lt_eq(lit(to))),
        )
        .select([col("customer_id"), us("ts").alias("cart_at"), col("sku")])
        .sort(["cart_at"], SortMultipleOptions::default())
        .group_by([col("customer_id")])
        .agg([col("cart_at").max(), col("sku").drop_nulls().last().alias("cart_sku")]);
    let last_order =
        i.orders
            .clone()
            .filter(us("created_at").lt(lit(as_of)))
            .group_by([col("customer_id")])
            .agg([us("created_at").max().alias("last_order")]);
    let lf = carts
        .left_join(last_order, col("customer_id"), col("customer_id"))
        .filter(col("last_order").is_null().or(col("last_order").lt(col("cart_at"))));
    candidate(lf, "abandoned_cart", lit("cart without an order"), col("cart_sku"))
}

fn order_rule(i: &TriggerInputs, action: &str, keep: Expr, at: Expr) -> LazyFrame {
    let lf = i.orders.clone().filter(keep).with_column(at.alias("at"));
    let lf = latest_order(lf.select([col("customer_id"), col("order_id"), col("at")]));
    candidate(lf, action, col("order_id"), lit(NULL))
}

fn unpaid(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let (from, to) = (as_of - p.c.unpaid_max_days * DAY_US, as_of - p.c.unpaid_after_hours * HOUR_US);
    let created = us("created_at");
    let keep =
        col("status").eq(lit("pending_payment")).and(created.clone().gt_eq(lit(from))).and(created.lt_eq(lit(to)));
    order_rule(i, "unpaid_reminder", keep, us("created_at"))
}

fn shipping_care(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let shipped = us("shipped_at");
    let keep = col("status")
        .eq(lit("shipped"))
        .and(shipped.clone().gt_eq(lit(as_of - p.c.care_days * DAY_US)))
        .and(shipped.lt(lit(as_of)));
    order_rule(i, "shipping_care", keep, us("shipped_at"))
}

fn review(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let to = as_of - p.c.review_after_days * DAY_US;
    let from = to - p.c.review_window_days * DAY_US;
    let delivered = when(col("status").eq(lit("completed")))
        .then(coalesce(&[us("completed_at"), us("shipped_at"), us("created_at")]))
        .otherwise(us("shipped_at"));
    let keep = col("status")
        .eq(lit("completed"))
        .or(col("status").eq(lit("shipped")))
        .and(delivered.clone().gt_eq(lit(from)))
        .and(delivered.clone().lt(lit(to)));
    order_rule(i, "review_request", keep, delivered)
}

fn vip(i: &TriggerInputs, p: &TriggerValidParams) -> LazyFrame {
    let cut = col("clv").quantile(lit(1.0 - p.c.vip_top_share), QuantileMethod::Linear);
    let top = col("clv").is_not_null().and(col("clv").gt_eq(cut)).and(col("clv").gt(lit(0.0)));
    let reason = when(col("segment").eq(lit("Champions"))).then(lit("Champions")).otherwise(lit("top predicted CLV"));
    let lf = i.people.clone().filter(col("segment").eq(lit("Champions")).or(top));
    candidate(lf, "vip_care", reason, col("recommended"))
}

fn win_back(i: &TriggerInputs, p: &TriggerValidParams) -> LazyFrame {
    let buyers = col("orders").gt(lit(0i64));
    let value_cut =
        col("monetary_total").filter(buyers.clone()).quantile(lit(p.c.win_back_value_quantile), QuantileMethod::Linear);
    let modelled = col("churn_risk")
        .is_not_null()
        .and(col("churn_risk").gt_eq(lit(p.c.win_back_churn_risk)))
        .and(col("monetary_total").gt_eq(value_cut));
    let by_rfm = col("churn_risk")
        .is_null()
        .and(col("segment").eq(lit("At Risk")).or(col("segment").eq(lit("Cannot Lose Them"))));
    let reason =
        when(col("churn_risk").is_null()).then(col("segment")).otherwise(lit("high churn risk, high past value"));
    let lf = i.people.clone().filter(buyers.and(modelled.or(by_rfm)));
    candidate(lf, "win_back", reason, col("recommended"))
}

fn holiday(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> LazyFrame {
    let today = as_of.div_euclid(DAY_US);
    let next = p.holidays.iter().filter(|(_, d)| *d > today && *d - today <= p.c.holiday_lead_days).min_by_key(|h| h.1);
    let lf = i.people.clone().filter(col("orders").gt(lit(0i64)).and(lit(next.is_some())));
    let name = next.map(|h| h.0.clone()).unwrap_or_default();
    candidate(lf, "holiday_offer", lit(name), col("recommended"))
}

/// Whether `channel` may carry `action` for each row (after the contacts join).
fn allowed(action: &str, channel: &str) -> Expr {
    let service = SERVICE_ACTIONS.contains(&action);
    let (contact, consent) = match channel {
        "email" => ("email", "email_opt_in"),
        _ => ("phone", "sms_opt_in"),
    };
    let consent = if service { col(consent).fill_null(lit(true)) } else { col(consent).fill_null(lit(false)) };
    let ok = col(contact).is_not_null().and(consent);
    if channel == "email" {
        ok.and(col("bounced").not())
    } else {
        ok
    }
}

/// Every action due at `as_of`: `customer_id`, `action`, `channel`, `reason`, `suggested_product`,
/// `suggested_offer`, `segment`, `name`, and the contact of the chosen channel (`email` or
/// `phone`, the other null). Sorted by action (in [`ACTIONS`] order) and customer.
///
/// ## Parameters
/// - `i`: people, orders and events (see [`TriggerInputs`]);
/// - `p`: checked `[triggers]`;
/// - `as_of`: µs since the epoch, UTC.
pub fn actions(i: &TriggerInputs, p: &TriggerValidParams, as_of: i64) -> PolarsResult<LazyFrame> {
    let candidates = concat(
        [
            welcome(i, p, as_of),
            abandoned_cart(i, p, as_of),
            unpaid(i, p, as_of),
            shipping_care(i, p, as_of),
            review(i, p, as_of),
            vip(i, p),
            win_back(i, p),
            holiday(i, p, as_of),
        ],
        UnionArgs::default(),
    )?;
    let bounced = i
        .events
        .clone()
        .filter(
            col("event_type")
                .eq(lit("bounce"))
                .and(us("ts").gt_eq(lit(as_of - p.c.bounce_block_days * DAY_US)))
                .and(us("ts").lt(lit(as_of))),
        )
        .group_by([col("customer_id")])
        .agg([lit(true).first().alias("bounced")]);
    let people = i.people.clone().select([
        col("customer_id"),
        col("segment"),
        col("name"),
        col("email"),
        col("phone"),
        col("email_opt_in"),
        col("sms_opt_in"),
        col("recommended"),
    ]);
    let mut channel = lit(NULL).cast(DataType::String);
    let mut offer = lit(NULL).cast(DataType::String);
    let mut rank = lit(ACTIONS.len() as i64);
    for (k, a) in ACTIONS.iter().enumerate().rev() {
        let mut pick = lit(NULL).cast(DataType::String);
        for ch in p.channels(a).iter().rev() {
            pick = when(allowed(a, ch)).then(lit(ch.clone())).otherwise(pick);
        }
        let is = col("action").eq(lit(*a));
        channel = when(is.clone()).then(pick).otherwise(channel);
        offer = when(is.clone()).then(lit(p.offer(a))).otherwise(offer);
        rank = when(is).then(lit(k as i64)).otherwise(rank);
    }
    Ok(candidates
        .join(people, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Inner))
        .left_join(bounced, col("customer_id"), col("customer_id"))
        .with_column(col("bounced").fill_null(lit(false)))
        .with_columns([channel.alias("channel"), offer.alias("suggested_offer"), rank.alias("rank")])
        .filter(col("channel").is_not_null())
        .with_columns([
            coalesce(&[col("product"), col("recommended")]).alias("suggested_product"),
            when(col("channel").eq(lit("email"))).then(col("email")).otherwise(lit(NULL)).alias("email"),
            when(col("channel").eq(lit("sms"))).then(col("phone")).otherwise(lit(NULL)).alias("phone"),
        ])
        .sort(["rank", "customer_id"], SortMultipleOptions::default())
        .select([
            col("customer_id"),
            col("action"),
            col("channel"),
            col("reason"),
            col("suggested_product"),
            col("suggested_offer"),
            col("segment"),
            col("name"),
            col("email"),
            col("phone"),
        ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketing::params::{Holiday, TriggerConfig, TriggerParams};

    const AS_OF: i64 = 100 * DAY_US;
    const H: i64 = HOUR_US;

    /// (customer, segment, orders, spend, first order, email, phone, email ok, sms ok, churn, clv)
    type P<'a> = (
        &'a str,
        &'a str,
        i64,
        f64,
        i64,
        Option<&'a str>,
        Option<&'a str>,
        Option<bool>,
        Option<bool>,
        Option<f64>,
        Option<f64>,
    );

    fn people(rows: &[P]) -> LazyFrame {
        let g = |f: &dyn Fn(&P) -> AnyValue<'static>| rows.iter().map(f).collect::<Vec<_>>();
        let s = |name: &str, v: Vec<AnyValue>| {
            Column::new(name.into(), Series::from_any_values(name.into(), &v, false).unwrap())
        };
        DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            Column::new("segment".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new("orders".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new("monetary_total".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            Column::new("first_order_at".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
            Column::new("email".into(), rows.iter().map(|r| r.5).collect::<Vec<_>>()),
            Column::new("phone".into(), rows.iter().map(|r| r.6).collect::<Vec<_>>()),
            Column::new("name".into(), rows.iter().map(|_| Some("N")).collect::<Vec<_>>()),
            Column::new("email_opt_in".into(), rows.iter().map(|r| r.7).collect::<Vec<_>>()),
            Column::new("sms_opt_in".into(), rows.iter().map(|r| r.8).collect::<Vec<_>>()),
            Column::new("churn_risk".into(), rows.iter().map(|r| r.9).collect::<Vec<_>>()),
            Column::new("clv".into(), rows.iter().map(|r| r.10).collect::<Vec<_>>()),
            s("recommended", g(&|_| AnyValue::StringOwned("REC".into()))),
        ])
        .unwrap()
        .lazy()
    }

    /// (customer, order, status, created, shipped, completed)
    type O<'a> = (&'a str, &'a str, &'a str, i64, Option<i64>, Option<i64>);

    fn orders(rows: &[O]) -> LazyFrame {
        df!(
            "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "order_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "status" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "created_at" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "shipped_at" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            "completed_at" => rows.iter().map(|r| r.5).collect::<Vec<_>>()
        )
        .unwrap()
        .lazy()
    }

    /// (customer, type, ts, sku)
    fn events(rows: &[(&str, &str, i64, Option<&str>)]) -> LazyFrame {
        df!(
            "customer_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "event_type" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "ts" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "sku" => rows.iter().map(|r| r.3).collect::<Vec<_>>()
        )
        .unwrap()
        .lazy()
    }

    /// (customer, action, channel, product) of every action due.
    fn run(i: TriggerInputs, c: TriggerConfig) -> Vec<(String, String, String, Option<String>)> {
        let p = TriggerParams::from_config(&c).check().unwrap();
        let df = actions(&i, &p, AS_OF).unwrap().collect().unwrap();
        let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
        let (a, b, ch, pr) = (s("customer_id"), s("action"), s("channel"), s("suggested_product"));
        (0..df.height())
            .map(|k| {
                let email = df.column("email").unwrap().str().unwrap().get(k).is_some();
                let phone = df.column("phone").unwrap().str().unwrap().get(k).is_some();
                // The chosen channel's contact only.
                assert_eq!((email, phone), (ch.get(k) == Some("email"), ch.get(k) == Some("sms")));
                (
                    a.get(k).unwrap().into(),
                    b.get(k).unwrap().into(),
                    ch.get(k).unwrap().into(),
                    pr.get(k).map(Into::into),
                )
            })
            .collect()
    }

    fn one(i: TriggerInputs, action: &str) -> Vec<(String, String, Option<String>)> {
        run(i, TriggerConfig::default()).into_iter().filter(|r| r.1 == action).map(|r| (r.0, r.2, r.3)).collect()
    }

    const E: Option<&str> = Some("a@x.com");
    const PH: Option<&str> = Some("+8613900000000");

    fn person<'a>(id: &'a str, segment: &'a str, orders: i64, first: i64) -> P<'a> {
        (id, segment, orders, 100.0, first, E, PH, Some(true), Some(true), None, None)
    }

    fn no_events() -> LazyFrame {
        events(&[("nobody", "page_view", 0, None)])
    }

    fn no_orders() -> LazyFrame {
        orders(&[("nobody", "o", "completed", 0, None, None)])
    }

    #[test]
    fn welcome_after_a_first_order_only() {
        let i = TriggerInputs {
            people: people(&[
                person("new", "New Customers", 1, AS_OF - 2 * DAY_US),
                person("old", "New Customers", 1, AS_OF - 20 * DAY_US),
                person("two", "Promising", 2, AS_OF - 2 * DAY_US),
            ]),
            orders: no_orders(),
            events: no_events(),
        };
        assert_eq!(one(i, "welcome"), vec![("new".into(), "email".into(), Some("REC".into()))]);
    }

    #[test]
    fn abandoned_cart_without_a_later_order() {
        let i = TriggerInputs {
            people: people(&[
                person("cart", "Promising", 1, 0),
                person("bought", "Promising", 1, 0),
                person("fresh", "Promising", 1, 0),
            ]),
            orders: orders(&[("bought", "o1", "paid", AS_OF - 2 * H, None, None)]),
            events: events(&[
                ("cart", "add_to_cart", AS_OF - 6 * H, Some("S0")),
                ("cart", "add_to_cart", AS_OF - 5 * H, Some("S1")),
                ("bought", "add_to_cart", AS_OF - 5 * H, Some("S1")),
                ("fresh", "begin_checkout", AS_OF - H / 2, None),
            ]),
        };
        assert_eq!(one(i, "abandoned_cart"), vec![("cart".into(), "email".into(), Some("S1".into()))]);
    }

    #[test]
    fn unpaid_reminder_by_sms_without_marketing_consent() {
        let mut quiet = person("quiet", "Promising", 1, 0);
        quiet.7 = None; // never asked: a service message may go
        quiet.8 = None;
        let mut opted_out = person("out", "Promising", 1, 0);
        opted_out.8 = Some(false); // no SMS: falls back to email
        let i = TriggerInputs {
            people: people(&[quiet, opted_out, person("young", "Promising", 1, 0)]),
            orders: orders(&[
                ("quiet", "o1", "pending_payment", AS_OF - 30 * H, None, None),
                ("out", "o2", "pending_payment", AS_OF - 30 * H, None, None),
                ("young", "o3", "pending_payment", AS_OF - 2 * H, None, None),
            ]),
            events: no_events(),
        };
        let got = one(i, "unpaid_reminder");
        assert_eq!(
            got,
            vec![
                ("out".into(), "email".into(), Some("REC".into())),
                ("quiet".into(), "sms".into(), Some("REC".into()))
            ]
        );
    }

    #[test]
    fn shipping_care_for_recent_shipments() {
        let i = TriggerInputs {
            people: people(&[person("s", "Promising", 1, 0), person("late", "Promising", 1, 0)]),
            orders: orders(&[
                ("s", "o1", "shipped", AS_OF - 3 * DAY_US, Some(AS_OF - DAY_US), None),
                ("late", "o2", "shipped", AS_OF - 9 * DAY_US, Some(AS_OF - 8 * DAY_US), None),
            ]),
            events: no_events(),
        };
        assert_eq!(one(i, "shipping_care"), vec![("s".into(), "email".into(), Some("REC".into()))]);
    }

    #[test]
    fn review_request_a_week_after_delivery() {
        let i = TriggerInputs {
            people: people(&[person("r", "Promising", 1, 0), person("soon", "Promising", 1, 0)]),
            orders: orders(&[
                ("r", "o1", "completed", AS_OF - 12 * DAY_US, Some(AS_OF - 11 * DAY_US), Some(AS_OF - 10 * DAY_US)),
                ("soon", "o2", "completed", AS_OF - 4 * DAY_US, None, Some(AS_OF - 2 * DAY_US)),
            ]),
            events: no_events(),
        };
        assert_eq!(one(i, "review_request"), vec![("r".into(), "email".into(), Some("REC".into()))]);
    }

    #[test]
    fn vip_care_respects_consent_and_bounces() {
        let mut no_consent = person("nc", "Champions", 5, 0);
        no_consent.7 = Some(false);
        no_consent.8 = None; // marketing needs an explicit yes
        let mut top = person("top", "Loyal Customers", 5, 0);
        top.10 = Some(1000.0);
        const IDS: [&str; 30] = [
            "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7",
            "q8", "q9", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9",
        ];
        let mut rest: Vec<P> = IDS
            .iter()
            .enumerate()
            .map(|(k, id)| {
                let mut p = person(id, "Loyal Customers", 2, 0);
                p.10 = Some(k as f64);
                p
            })
            .collect();
        rest.extend([person("champ", "Champions", 5, 0), person("bounced", "Champions", 5, 0), no_consent, top]);
        let i = TriggerInputs {
            people: people(&rest),
            orders: no_orders(),
            events: events(&[("bounced", "bounce", AS_OF - 10 * DAY_US, None)]),
        };
        let got = one(i, "vip_care");
        let who: Vec<(&str, &str)> = got.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        // 31 CLVs (0..29 and 1000): the 0.95 quantile is 28.5, so r9 (29) and top (1000) are in.
        assert_eq!(who, vec![("bounced", "sms"), ("champ", "email"), ("r9", "email"), ("top", "email")]);
    }

    #[test]
    fn win_back_needs_risk_and_value() {
        let mut risky_rich = person("rich", "Hibernating", 3, 0);
        risky_rich.3 = 500.0;
        risky_rich.9 = Some(0.9);
        let mut risky_poor = person("poor", "Hibernating", 3, 0);
        risky_poor.3 = 10.0;
        risky_poor.9 = Some(0.9);
        let mut safe = person("safe", "Hibernating", 3, 0);
        safe.3 = 600.0;
        safe.9 = Some(0.1);
        let i =
            TriggerInputs { people: people(&[risky_rich, risky_poor, safe]), orders: no_orders(), events: no_events() };
        assert_eq!(one(i, "win_back"), vec![("rich".into(), "email".into(), Some("REC".into()))]);
        // Without a churn model: the RFM segments.
        let i = TriggerInputs {
            people: people(&[person("atrisk", "At Risk", 3, 0), person("lost", "Lost", 3, 0)]),
            orders: no_orders(),
            events: no_events(),
        };
        assert_eq!(one(i, "win_back"), vec![("atrisk".into(), "email".into(), Some("REC".into()))]);
    }

    #[test]
    fn holiday_offer_before_a_configured_holiday() {
        let mk = || TriggerInputs {
            people: people(&[person("buyer", "Promising", 2, 0), person("prospect", "Prospect", 0, 0)]),
            orders: no_orders(),
            events: no_events(),
        };
        let soon = TriggerConfig {
            holidays: vec![Holiday { name: "Singles' Day".into(), date: "1970-04-15".into() }], // day 104
            ..TriggerConfig::default()
        };
        let got: Vec<_> = run(mk(), soon).into_iter().filter(|r| r.1 == "holiday_offer").map(|r| r.0).collect();
        assert_eq!(got, vec!["buyer".to_string()]);
        let far = TriggerConfig {
            holidays: vec![Holiday { name: "x".into(), date: "1970-12-01".into() }],
            ..TriggerConfig::default()
        };
        assert!(run(mk(), far).iter().all(|r| r.1 != "holiday_offer"));
    }

    #[test]
    fn audience_summary_counts_every_action_and_channel() {
        let i = TriggerInputs {
            people: people(&[person("new", "New Customers", 1, AS_OF - DAY_US)]),
            orders: no_orders(),
            events: no_events(),
        };
        let p = TriggerParams::from_config(&TriggerConfig::default()).check().unwrap();
        let acts = actions(&i, &p, AS_OF).unwrap();
        let s = crate::marketing::audiences::summary(acts.clone()).collect().unwrap();
        assert_eq!(s.height(), 16);
        let n: i64 = s.column("customers").unwrap().i64().unwrap().sum().unwrap();
        assert_eq!(n, 1);
        let files = crate::marketing::audiences::audiences(&acts);
        assert_eq!(files.len(), 8);
        assert_eq!(files[0].1.clone().collect().unwrap().height(), 1);
    }
}
