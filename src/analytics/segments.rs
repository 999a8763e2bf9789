//! The segments table: one row per customer, what marketing tools import.

use polars::prelude::*;

/// The segments table: every customer, with features and RFM when they have valid orders.
/// Customers without a valid order (only events, tickets, or cancelled orders) get segment `Prospect`.
pub fn segments(customers: LazyFrame, features: LazyFrame, rfm: LazyFrame, base_currency: &str) -> LazyFrame {
    customers
        .select([
            col("customer_id"),
            col("channels"),
            col("email"),
            col("phone"),
            col("name"),
            col("email_opt_in"),
            col("sms_opt_in"),
        ])
        .left_join(features, col("customer_id"), col("customer_id"))
        .left_join(
            rfm.select([
                col("customer_id"),
                col("r_score"),
                col("f_score"),
                col("m_score"),
                col("fm_score"),
                col("segment"),
            ]),
            col("customer_id"),
            col("customer_id"),
        )
        .with_columns([
            col("segment").fill_null(lit("Prospect")),
            col("orders").fill_null(lit(0i64)),
            col("monetary_total").fill_null(lit(0.0)),
            lit(base_currency.to_string()).alias("currency"),
        ])
        .select([
            col("customer_id"),
            col("segment"),
            col("r_score"),
            col("f_score"),
            col("m_score"),
            col("fm_score"),
            col("recency_days"),
            col("purchase_days"),
            col("orders"),
            col("monetary_total"),
            col("monetary_avg"),
            col("currency"),
            col("first_order_at"),
            col("last_order_at"),
            col("channels"),
            col("email"),
            col("phone"),
            col("name"),
            col("email_opt_in"),
            col("sms_opt_in"),
        ])
        .sort(["customer_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prospects_get_a_row_and_buyers_keep_their_scores() {
        let customers = df!(
            "customer_id" => ["b", "a"], "channels" => ["shop", "pos;shop"], "email" => [Some("b@x.com"), None],
            "phone" => [None::<&str>, Some("139")], "name" => [None::<&str>, None],
            "email_opt_in" => [Some(true), None], "sms_opt_in" => [None::<bool>, None]
        )
        .unwrap();
        let features =
            df!("customer_id" => ["a"], "first_order_at" => [1i64], "last_order_at" => [2i64], "orders" => [3i64],
            "purchase_days" => [2i64], "frequency" => [1i64], "recency_days" => [5i64], "tenure_days" => [9i64],
            "monetary_total" => [30.0], "monetary_avg" => [10.0], "mean_days_between" => [4.0])
            .unwrap();
        let rfm = df!("customer_id" => ["a"], "r_score" => [5i64], "f_score" => [5i64], "m_score" => [5i64],
            "fm_score" => [5i64], "segment" => ["Champions"])
        .unwrap();
        let out = segments(customers.lazy(), features.lazy(), rfm.lazy(), "CNY").collect().unwrap();
        let ids: Vec<&str> = out.column("customer_id").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(ids, ["a", "b"]);
        let seg: Vec<&str> = out.column("segment").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(seg, ["Champions", "Prospect"]);
        let orders: Vec<Option<i64>> = out.column("orders").unwrap().i64().unwrap().iter().collect();
        assert_eq!(orders, [Some(3), Some(0)]);
        assert!(out.column("r_score").unwrap().i64().unwrap().get(1).is_none());
        assert_eq!(out.column("currency").unwrap().str().unwrap().get(1), Some("CNY"));
    }
}
