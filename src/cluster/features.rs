//! The per-customer frame the cluster stage works on, in original units.
//!
//! ## Method
//! One row per customer with a valid order (the rows of
//! [`crate::analytics::features::customer_features`]), with:
//! - `recency_days`, `frequency`, `monetary_total`, `tenure_days` from the customer features;
//! - `return_rate` ([`return_rates`]): share of the customer's purchase orders (status paid,
//!   shipped, completed or refunded, created before `as_of`) that were returned: status `refunded`,
//!   `refund_amount > 0`, or a `return` ticket naming the order;
//! - `email_engagement` ([`email_engagement`]): `(email_open + email_click) / email_sent` over
//!   events before `as_of`, clipped to [0, 2] (1 ≈ opens every email, 2 ≈ also clicks every one);
//!   0 for a customer who was never emailed; null for everyone when there is no events table;
//! - `predicted_clv`: the CLV stage's column `clv_column` when its frame is given, else null.
//!
//! The log transforms (`ln(1 + x)`) and scaling happen in the fitted stage
//! ([`super::fit`]), which also drops all-null and constant features with a note.
//!
//! ## Parameters
//! `as_of_us`: the analysis instant (µs, UTC); later orders, tickets and events are ignored.

use polars::prelude::*;

/// Per-customer return rate from canonical `orders` and (optionally) `tickets`.
///
/// Output: `customer_id`, `purchase_orders` (i64), `returned_orders` (i64), `return_rate` (f64).
///
/// ## Example
/// ```
/// use custlens::cluster::features::return_rates;
/// use polars::prelude::*;
/// let ts = Series::new("created_at".into(), [0i64, 1, 2, 3]).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let orders = DataFrame::new_infer_height(vec![
///     Column::new("order_id".into(), ["o1", "o2", "o3", "o4"]),
///     Column::new("customer_id".into(), ["a", "a", "a", "a"]),
///     Column::new("status".into(), ["completed", "refunded", "completed", "cancelled"]),
///     ts.into(),
///     Column::new("refund_amount".into(), [0.0, 10.0, 0.0, 0.0]),
/// ]).unwrap();
/// let r = return_rates(orders.lazy(), None, 10).collect().unwrap();
/// // o4 is cancelled (not a purchase): 1 of 3 purchase orders returned.
/// assert_eq!(r.column("return_rate").unwrap().f64().unwrap().get(0), Some(1.0 / 3.0));
/// ```
pub fn return_rates(orders: LazyFrame, tickets: Option<LazyFrame>, as_of_us: i64) -> LazyFrame {
    let purchase = ["paid", "shipped", "completed", "refunded"]
        .into_iter()
        .map(|s| col("status").eq(lit(s)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let mut o = orders.filter(purchase.and(col("created_at").cast(DataType::Int64).lt(lit(as_of_us)))).select([
        col("order_id"),
        col("customer_id"),
        col("status"),
        col("refund_amount"),
    ]);
    let mut returned = col("status").eq(lit("refunded")).or(col("refund_amount").fill_null(lit(0.0)).gt(lit(0.0)));
    if let Some(t) = tickets {
        let ticketed = t
            .filter(
                col("kind")
                    .eq(lit("return"))
                    .and(col("order_id").is_not_null())
                    .and(col("opened_at").cast(DataType::Int64).lt(lit(as_of_us))),
            )
            .select([col("order_id")])
            .unique(None, UniqueKeepStrategy::Any)
            .with_column(lit(true).alias("_return_ticket"));
        o = o.left_join(ticketed, col("order_id"), col("order_id"));
        returned = returned.or(col("_return_ticket").fill_null(lit(false)));
    }
    o.with_column(returned.alias("_returned"))
        .group_by([col("customer_id")])
        .agg([
            len().cast(DataType::Int64).alias("purchase_orders"),
            col("_returned").cast(DataType::Int64).sum().alias("returned_orders"),
        ])
        .with_column(
            (col("returned_orders").cast(DataType::Float64) / col("purchase_orders").cast(DataType::Float64))
                .alias("return_rate"),
        )
}

/// Per-customer email engagement from canonical `events`.
///
/// Output: `customer_id`, `emails_sent`, `email_opens`, `email_clicks` (i64), `email_engagement` (f64).
///
/// ## Example
/// ```
/// use custlens::cluster::features::email_engagement;
/// use polars::prelude::*;
/// let ts = Series::new("ts".into(), [0i64, 1, 2, 3]).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))).unwrap();
/// let events = DataFrame::new_infer_height(vec![
///     Column::new("customer_id".into(), ["a", "a", "a", "a"]),
///     Column::new("event_type".into(), ["email_sent", "email_sent", "email_open", "email_click"]),
///     ts.into(),
/// ]).unwrap();
/// let e = email_engagement(events.lazy(), 10).collect().unwrap();
/// assert_eq!(e.column("email_engagement").unwrap().f64().unwrap().get(0), Some(1.0));
/// ```
pub fn email_engagement(events: LazyFrame, as_of_us: i64) -> LazyFrame {
    let count = |t: &str| col("event_type").eq(lit(t)).cast(DataType::Int64).sum();
    events
        .filter(col("ts").cast(DataType::Int64).lt(lit(as_of_us)))
        .group_by([col("customer_id")])
        .agg([
            count("email_sent").alias("emails_sent"),
            count("email_open").alias("email_opens"),
            count("email_click").alias("email_clicks"),
        ])
        .with_column(
            when(col("emails_sent").gt(lit(0i64)))
                .then(
                    ((col("email_opens") + col("email_clicks")).cast(DataType::Float64)
                        / col("emails_sent").cast(DataType::Float64))
                    .clip(lit(0.0), lit(2.0)),
                )
                .otherwise(lit(0.0))
                .alias("email_engagement"),
        )
}

/// The cluster stage's input frame: one row per row of `features`, in original units.
///
/// Output columns: `customer_id`, `recency_days`, `frequency`, `monetary_total`, `tenure_days`
/// (f64), `predicted_clv` (f64; null without `clv`), `return_rate` (f64; 0 for a customer
/// without a purchase order in `returns`), `email_engagement` (f64; 0 for a customer without events,
/// all null without `engagement`), sorted by `customer_id`.
///
/// `clv` must have `customer_id` and `clv_column`; customers missing from it get null.
pub fn cluster_frame(
    features: LazyFrame,
    returns: LazyFrame,
    engagement: Option<LazyFrame>,
    clv: Option<LazyFrame>,
    clv_column: &str,
) -> LazyFrame {
    let f64c = |c: &str| col(c).cast(DataType::Float64);
    let mut lf = features
        .select([
            col("customer_id"),
            f64c("recency_days"),
            f64c("frequency"),
            f64c("monetary_total"),
            f64c("tenure_days"),
        ])
        .left_join(returns.select([col("customer_id"), col("return_rate")]), col("customer_id"), col("customer_id"))
        .with_column(col("return_rate").fill_null(lit(0.0)));
    lf = match clv {
        Some(c) => lf.left_join(
            c.select([col("customer_id"), f64c(clv_column).alias("predicted_clv")]),
            col("customer_id"),
            col("customer_id"),
        ),
        None => lf.with_column(lit(NULL).cast(DataType::Float64).alias("predicted_clv")),
    };
    lf = match engagement {
        Some(e) => lf
            .left_join(e.select([col("customer_id"), col("email_engagement")]), col("customer_id"), col("customer_id"))
            .with_column(col("email_engagement").fill_null(lit(0.0))),
        None => lf.with_column(lit(NULL).cast(DataType::Float64).alias("email_engagement")),
    };
    lf.select([
        col("customer_id"),
        col("recency_days"),
        col("frequency"),
        col("monetary_total"),
        col("tenure_days"),
        col("predicted_clv"),
        col("return_rate"),
        col("email_engagement"),
    ])
    .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(name: &str, v: &[i64]) -> Column {
        Series::new(name.into(), v.to_vec())
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
            .unwrap()
            .into()
    }

    #[test]
    fn return_rate_counts_refunds_partial_refunds_and_return_tickets() {
        // a: o1 ok, o2 partial refund, o3 return ticket, o4 pending (ignored), o5 after as_of (ignored).
        // b: o6 refunded.
        let orders = DataFrame::new_infer_height(vec![
            Column::new("order_id".into(), ["o1", "o2", "o3", "o4", "o5", "o6"]),
            Column::new("customer_id".into(), ["a", "a", "a", "a", "a", "b"]),
            Column::new("status".into(), ["completed", "shipped", "paid", "pending_payment", "completed", "refunded"]),
            ts("created_at", &[1, 2, 3, 4, 50, 5]),
            Column::new("refund_amount".into(), [0.0, 3.0, 0.0, 0.0, 9.0, 20.0]),
        ])
        .unwrap();
        let tickets = DataFrame::new_infer_height(vec![
            Column::new("order_id".into(), [Some("o3"), Some("o1"), None]),
            Column::new("kind".into(), ["return", "complaint", "return"]),
            ts("opened_at", &[6, 6, 6]),
        ])
        .unwrap();
        let r = return_rates(orders.lazy(), Some(tickets.lazy()), 10)
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()
            .unwrap();
        let rate: Vec<Option<f64>> = r.column("return_rate").unwrap().f64().unwrap().iter().collect();
        assert_eq!(rate, [Some(2.0 / 3.0), Some(1.0)]);
    }

    #[test]
    fn engagement_is_zero_without_sends_and_clipped_at_two() {
        let events = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), ["a", "a", "a", "a", "b", "c"]),
            Column::new(
                "event_type".into(),
                ["email_sent", "email_open", "email_open", "email_click", "page_view", "email_sent"],
            ),
            ts("ts", &[1, 2, 3, 4, 5, 6]),
        ])
        .unwrap();
        let e = email_engagement(events.lazy(), 10)
            .sort(["customer_id"], SortMultipleOptions::default())
            .collect()
            .unwrap();
        let v: Vec<Option<f64>> = e.column("email_engagement").unwrap().f64().unwrap().iter().collect();
        assert_eq!(v, [Some(2.0), Some(0.0), Some(0.0)]);
    }

    #[test]
    fn frame_joins_and_fills() {
        let features = df!("customer_id" => ["b", "a"], "recency_days" => [3i64, 1], "frequency" => [0i64, 2],
            "monetary_total" => [10.0, 50.0], "tenure_days" => [3i64, 40])
        .unwrap();
        let returns = df!("customer_id" => ["a"], "return_rate" => [0.5]).unwrap();
        let clv = df!("customer_id" => ["a"], "clv_365" => [120.0]).unwrap();
        let f = cluster_frame(features.lazy(), returns.lazy(), None, Some(clv.lazy()), "clv_365").collect().unwrap();
        let get = |c: &str| f.column(c).unwrap().f64().unwrap().iter().collect::<Vec<_>>();
        assert_eq!(get("return_rate"), [Some(0.5), Some(0.0)]);
        assert_eq!(get("predicted_clv"), [Some(120.0), None]);
        assert_eq!(get("email_engagement"), [None, None]);
        assert_eq!(get("frequency"), [Some(2.0), Some(0.0)]);
    }
}
