//! Built-in adapters on fixtures written as the platforms write them (see tests/fixtures/README.md):
//! auto-detected from the header, canonical rows checked value by value.

mod common;
use common::{custlens, ok};
use polars::prelude::*;
use std::path::Path;

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

/// (status, gross, discount, refund, net, currency, customer_key, phone) of an order.
type Row = (String, f64, f64, f64, f64, String, Option<String>, Option<String>);

fn order(orders: &DataFrame, id: &str) -> Row {
    let i = orders
        .column("order_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .position(|v| v == Some(id))
        .unwrap_or_else(|| panic!("{id}"));
    let s = |c: &str| orders.column(c).unwrap().str().unwrap().get(i).map(str::to_string);
    let f = |c: &str| orders.column(c).unwrap().f64().unwrap().get(i).unwrap();
    (
        s("status").unwrap(),
        f("gross_amount"),
        f("discount"),
        f("refund_amount"),
        f("net_amount"),
        s("currency").unwrap(),
        s("customer_key"),
        s("phone"),
    )
}

fn created(orders: &DataFrame, id: &str) -> String {
    let i = orders.column("order_id").unwrap().str().unwrap().iter().position(|v| v == Some(id)).unwrap();
    let us = orders.column("created_at").unwrap().datetime().unwrap().physical().get(i).unwrap();
    chrono::DateTime::from_timestamp_micros(us).unwrap().to_rfc3339()
}

#[test]
fn fixtures_are_detected_and_give_canonical_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Shopify #1005 has only a national phone ('13925130165): with no region it identifies nobody.
    let o = custlens(tmp.path(), &["ingest", "--input", fixtures.to_str().unwrap(), "--lake", "no-region"]);
    ok(&o);
    let rejects = read(&tmp.path().join("no-region/rejects/part-0.parquet"));
    let reasons: Vec<&str> = rejects.column("reason").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(reasons.iter().filter(|r| r.contains("phone_region")).count(), 2, "{reasons:?}");
    assert_eq!(reasons.len(), 2, "Shopify #1005 and GA4's anonymous page view: {reasons:?}");
    let args = ["ingest", "--input", fixtures.to_str().unwrap(), "--lake", "lake"];
    let o = custlens(tmp.path(), &[&args[..], &["--set", "identity.default_phone_region=CN"]].concat());
    ok(&o);
    let lake = tmp.path().join("lake");
    let files = read(&lake.join("files/part-0.parquet"));
    let formats: Vec<(String, String)> = files
        .column("path")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .zip(files.column("format").unwrap().str().unwrap().iter())
        .map(|(p, f)| (p.unwrap().rsplit('/').next().unwrap().to_string(), f.unwrap().to_string()))
        .collect();
    assert_eq!(
        formats,
        [
            ("amazon_all_orders.txt", "amazon"),
            ("freshdesk_tickets.csv", "freshdesk"),
            ("ga4_events.jsonl", "ga4"),
            ("klaviyo_events.jsonl", "klaviyo"),
            ("mailchimp_activity.jsonl", "mailchimp-activity"),
            ("mailchimp_cleaned.csv", "mailchimp-cleaned"),
            ("mailchimp_subscribed.csv", "mailchimp-subscribed"),
            ("mailchimp_unsubscribed.csv", "mailchimp-unsubscribed"),
            ("pos_sales.csv", "pos"),
            ("shopify_customers.csv", "shopify-customers"),
            ("shopify_customers_2022.csv", "shopify-customers-2022"),
            ("shopify_orders.csv", "shopify"),
            ("taobao_items.csv", "taobao-items"),
            ("taobao_orders.csv", "taobao-orders"),
            ("zendesk_tickets.csv", "zendesk"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let rejected = files.column("rejected").unwrap().i64().unwrap().sum().unwrap();
    assert_eq!(rejected, 1, "only GA4's anonymous page view: {}", String::from_utf8_lossy(&o.stderr));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let r = |status: &str, g: f64, d: f64, rf: f64, n: f64, cur: &str, key: Option<&str>, phone: Option<&str>| -> Row {
        (status.into(), g, d, rf, n, cur.into(), key.map(Into::into), phone.map(Into::into))
    };
    // Shopify: lines summed (2 × 20 + 15), shipping and tax outside net, status from Financial + Fulfillment.
    assert_eq!(order(&orders, "shopify:#1001"), r("shipped", 55.0, 5.0, 0.0, 50.0, "USD", None, Some("+14155550134")));
    assert_eq!(created(&orders, "shopify:#1001"), "2022-01-11T09:32:31+00:00");
    assert_eq!(order(&orders, "shopify:#1002"), r("shipped", 30.0, 0.0, 10.0, 20.0, "USD", None, None));
    assert_eq!(order(&orders, "shopify:#1003").0, "cancelled");
    assert_eq!(order(&orders, "shopify:#1004"), r("refunded", 40.0, 0.0, 40.0, 0.0, "USD", None, None));
    assert_eq!(order(&orders, "shopify:#1005").0, "pending_payment");
    // Taobao: `="…"` ids, 元 suffix, '-prefixed phone, China time, close reasons.
    let tb = "taobao:35153131473293579";
    assert_eq!(
        order(&orders, tb),
        r("completed", 128.0, 0.0, 0.0, 128.0, "CNY", Some("tb_jane"), Some("+8613925130165"))
    );
    assert_eq!(created(&orders, tb), "2017-07-07T16:42:32+00:00");
    assert_eq!(order(&orders, "taobao:35153131473293580").0, "cancelled");
    assert_eq!(
        order(&orders, "taobao:35153131473293581"),
        r("refunded", 99.0, 0.0, 99.0, 0.0, "CNY", Some("tb_jane"), Some("+8613925130165"))
    );
    assert_eq!(order(&orders, "taobao:35153131473293582").0, "shipped");
    // Amazon: one row per item, no buyer identity (each order its own customer), Windows-1252.
    assert_eq!(order(&orders, "amazon:302-1234567-1234567"), r("shipped", 45.97, 0.0, 0.0, 45.97, "EUR", None, None));
    assert_eq!(order(&orders, "amazon:302-7654321-7654321").0, "cancelled");
    // POS.
    assert_eq!(
        order(&orders, "pos:SH01-230115-00002"),
        r("completed", 335.0, 0.0, 0.0, 335.0, "CNY", Some("M00025540"), Some("+8613682343944"))
    );
    let items = read(&lake.join("order_items/part-0.parquet"));
    let names: Vec<&str> = items.column("product_name").unwrap().str().unwrap().iter().flatten().collect();
    assert!(names.contains(&"Café Becher") && names.contains(&"硅胶铲套装"), "{names:?}");
    let prices: Vec<(Option<&str>, Option<f64>)> = items
        .column("sku")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .zip(items.column("unit_price").unwrap().f64().unwrap().iter())
        .collect();
    assert!(prices.contains(&(Some("SKU-1004"), Some(45.0))), "元 stripped: {prices:?}");
    // One person across Shopify (phone only), Taobao and POS (+86 spaced) by the phone 13925130165.
    let id = |oid: &str| {
        let i = orders.column("order_id").unwrap().str().unwrap().iter().position(|v| v == Some(oid)).unwrap();
        orders.column("customer_id").unwrap().str().unwrap().get(i).unwrap().to_string()
    };
    assert_eq!(id("shopify:#1005"), id(tb));
    let pos_hz = id("pos:HZ01-230116-00003");
    assert_eq!(pos_hz, id(tb));
    assert_ne!(id("amazon:302-1234567-1234567"), id("amazon:302-7654321-7654321"));
    // Shopify customers exports (2024+ and 2022 layouts) → profiles, linked to the orders' people.
    let profiles = read(&lake.join("profiles/part-0.parquet"));
    let ps = |c: &str| -> Vec<Option<String>> {
        profiles.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
    };
    let (pid, pcust, pphone, pname) = (ps("profile_id"), ps("customer_id"), ps("phone"), ps("name"));
    let at = |key: &str| pid.iter().position(|p| p.as_deref() == Some(key)).unwrap_or_else(|| panic!("{key}: {pid:?}"));
    assert_eq!(pid.iter().filter(|p| p.as_deref().is_some_and(|p| p.starts_with("shopify:"))).count(), 6);
    let jane = at("shopify:7012345678901");
    assert_eq!(pname[jane].as_deref(), Some("Jane Doe"), "First Name + Last Name");
    assert_eq!(pphone[jane].as_deref(), Some("+14155550134"), "national number read in its address country (US)");
    assert_eq!(pcust[jane].as_deref(), Some(id("shopify:#1001").as_str()), "same person as order #1001");
    let bob = at("shopify:7012345678902");
    assert_eq!(pcust[bob].as_deref(), Some(id("shopify:#1002").as_str()), "BOB@example.org = bob@example.org");
    // The 2022 layout has no Customer ID: keyed by email, else phone.
    assert_eq!(pphone[at("shopify:carol@example.net")].as_deref(), Some("+493012345678"));
    let eve = at("shopify:+8613925130165");
    assert_eq!(pcust[eve].as_deref(), Some(id(tb).as_str()), "Eve's CN phone links her to Taobao, POS and #1005");
    assert!(pcust[at("shopify:7012345678904")].is_some(), "a profile known by its customer id only");
    // Consent from the profiles reaches `customers`.
    let customers = read(&lake.join("customers/part-0.parquet"));
    let consent = |cid: &str| {
        let i = customers.column("customer_id").unwrap().str().unwrap().iter().position(|v| v == Some(cid)).unwrap();
        let b = |c: &str| customers.column(c).unwrap().bool().unwrap().get(i);
        (b("email_opt_in"), b("sms_opt_in"))
    };
    assert_eq!(consent(pcust[jane].as_deref().unwrap()), (Some(true), Some(false)));
    assert_eq!(consent(pcust[bob].as_deref().unwrap()), (Some(false), Some(true)));
    assert_eq!(consent(pcust[eve].as_deref().unwrap()), (Some(false), Some(true)));
}

#[test]
fn explicit_format_and_unknown_format() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pos_sales.csv");
    ok(&custlens(tmp.path(), &["ingest", "--input", f.to_str().unwrap(), "--format", "pos", "--lake", "lake"]));
    let o = custlens(tmp.path(), &["ingest", "--input", f.to_str().unwrap(), "--format", "shopfy", "--lake", "lake"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shopfy") && err.contains("shopify") && err.contains("taobao-orders"), "{err}");
}

/// (source, event_type, customer_id, campaign_id, sku) of an event.
type EventRow = (String, String, String, Option<String>, Option<String>);

/// Strings of a column, nulls as None.
fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn event_and_ticket_exports_land_with_their_customers() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let args = ["ingest", "--input", fixtures.to_str().unwrap(), "--lake", "lake", "--set"];
    ok(&custlens(tmp.path(), &[&args[..], &["identity.default_phone_region=CN"]].concat()));
    let lake = tmp.path().join("lake");
    let orders = read(&lake.join("orders/part-0.parquet"));
    let customer_of_order = |oid: &str| {
        let i = strs(&orders, "order_id").iter().position(|v| v.as_deref() == Some(oid)).unwrap();
        strs(&orders, "customer_id")[i].clone().unwrap()
    };
    let (jane, bob, dave) =
        (customer_of_order("shopify:#1001"), customer_of_order("shopify:#1002"), customer_of_order("shopify:#1004"));
    let eve = customer_of_order("taobao:35153131473293579");
    // Events: (source, event_type, customer_id, campaign_id, sku).
    let events = read(&lake.join("events/part-0.parquet"));
    let rows: Vec<EventRow> = (0..events.height())
        .map(|i| {
            (
                strs(&events, "source")[i].clone().unwrap(),
                strs(&events, "event_type")[i].clone().unwrap(),
                strs(&events, "customer_id")[i].clone().unwrap(),
                strs(&events, "campaign_id")[i].clone(),
                strs(&events, "sku")[i].clone(),
            )
        })
        .collect();
    let has = |src: &str, ty: &str, who: &str| rows.iter().any(|r| r.0 == src && r.1 == ty && r.2 == who);
    assert!(has("mailchimp", "unsubscribe", &bob), "Mailchimp unsubscribed export → an unsubscribe event");
    assert!(rows.iter().any(|r| r.1 == "unsubscribe" && r.3.as_deref() == Some("c-spring")), "with its campaign");
    assert!(has("mailchimp", "email_open", &jane) && has("mailchimp", "email_click", &jane));
    assert!(has("mailchimp", "bounce", &bob), "activity bounce, BOB@ = bob@");
    assert!(rows.iter().any(|r| r.0 == "mailchimp" && r.1 == "bounce" && r.3.as_deref() == Some("c-may")), "cleaned");
    assert!(has("klaviyo", "email_sent", &jane) && has("klaviyo", "email_open", &jane));
    assert!(has("klaviyo", "other", &jane), "an unknown metric is kept as `other`");
    assert!(has("klaviyo", "unsubscribe", &dave), "the old metric name");
    assert!(rows.iter().any(|r| r.0 == "klaviyo" && r.1 == "add_to_cart" && r.4.as_deref() == Some("MUG-1")));
    let ga4: Vec<_> = rows.iter().filter(|r| r.0 == "ga4").collect();
    assert_eq!(ga4.len(), 2, "the anonymous page view is a reject");
    assert!(ga4
        .iter()
        .any(|r| r.1 == "add_to_cart" && r.4.as_deref() == Some("MUG-1") && r.3.as_deref() == Some("spring")));
    assert!(ga4.iter().any(|r| r.1 == "other"));
    let ts = events.column("ts").unwrap().datetime().unwrap().physical().clone();
    let i = rows.iter().position(|r| r.0 == "ga4" && r.1 == "add_to_cart").unwrap();
    assert_eq!(ts.get(i), Some(1_682_935_200_000_000), "event_timestamp is µs UTC");
    // Tickets: kind from tags/subject rules, then type; satisfaction mapped; order and customer links.
    let tickets = read(&lake.join("tickets/part-0.parquet"));
    let t = |id: &str, c: &str| {
        let i = strs(&tickets, "ticket_id").iter().position(|v| v.as_deref() == Some(id)).unwrap();
        strs(&tickets, c)[i].clone()
    };
    let sat = |id: &str| {
        let i = strs(&tickets, "ticket_id").iter().position(|v| v.as_deref() == Some(id)).unwrap();
        tickets.column("satisfaction").unwrap().f64().unwrap().get(i)
    };
    assert_eq!(t("zendesk:501", "kind").as_deref(), Some("return"), "tag return_request");
    assert_eq!(t("zendesk:501", "order_id").as_deref(), Some("shopify:#1002"));
    assert_eq!(t("zendesk:501", "customer_id"), Some(bob.clone()));
    assert_eq!(sat("zendesk:501"), Some(1.0));
    assert_eq!((t("zendesk:502", "kind").as_deref(), sat("zendesk:502")), (Some("inquiry"), None), "question; Offered");
    assert_eq!((t("zendesk:503", "kind").as_deref(), sat("zendesk:503")), (Some("exchange"), Some(0.0)));
    assert_eq!(t("freshdesk:7001", "kind").as_deref(), Some("return"), "subject rule before type Refund");
    assert_eq!(t("freshdesk:7001", "customer_id"), Some(jane.clone()));
    assert_eq!(t("freshdesk:7002", "kind").as_deref(), Some("complaint"));
    assert_eq!(t("freshdesk:7002", "customer_id"), Some(eve), "by phone");
    // Consent: Bob unsubscribed in Mailchimp; Ann opted in (dated) then unsubscribed in Klaviyo;
    // Jane subscribed in Mailchimp and says yes in Shopify.
    let customers = read(&lake.join("customers/part-0.parquet"));
    let opt_in = |cid: &str| {
        let i = strs(&customers, "customer_id").iter().position(|v| v.as_deref() == Some(cid)).unwrap();
        customers.column("email_opt_in").unwrap().bool().unwrap().get(i)
    };
    assert_eq!(opt_in(&bob), Some(false));
    assert_eq!(opt_in(&jane), Some(true));
    let profiles = read(&lake.join("profiles/part-0.parquet"));
    let ann = strs(&profiles, "profile_id").iter().position(|p| p.as_deref() == Some("mailchimp:102")).unwrap();
    assert_eq!(opt_in(strs(&profiles, "customer_id")[ann].as_deref().unwrap()), Some(false));
}
