//! Built-in adapters on fixtures written as the platforms write them (see tests/fixtures/README.md):
//! auto-detected from the header, canonical rows checked value by value.

mod common;
use common::{custlens, ok, read};
use polars::prelude::*;
use std::path::Path;

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
            ("douyin_orders.csv", "douyin"),
            ("freshdesk_tickets.csv", "freshdesk"),
            ("ga4_events.jsonl", "ga4"),
            ("jd_orders.csv", "jd"),
            ("klaviyo_events.jsonl", "klaviyo"),
            ("mailchimp_activity.jsonl", "mailchimp-activity"),
            ("mailchimp_cleaned.csv", "mailchimp-cleaned"),
            ("mailchimp_subscribed.csv", "mailchimp-subscribed"),
            ("mailchimp_unsubscribed.csv", "mailchimp-unsubscribed"),
            ("pinduoduo_orders.csv", "pinduoduo"),
            ("pos_sales.csv", "pos"),
            ("shopify_customers.csv", "shopify-customers"),
            ("shopify_customers_2022.csv", "shopify-customers-2022"),
            ("shopify_orders.csv", "shopify"),
            ("taobao_items.csv", "taobao-items"),
            ("taobao_orders.csv", "taobao-orders"),
            ("woocommerce_orders.csv", "woocommerce"),
            ("woocommerce_webtoffee.csv", "woocommerce-webtoffee"),
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
    // Closed before payment with 买家应付货款 empty: cancelled at zero (issue 33).
    assert_eq!(
        order(&orders, "taobao:35153131473293583"),
        r("cancelled", 0.0, 0.0, 0.0, 0.0, "CNY", Some("快乐的鱼"), Some("+8613800001111"))
    );
    // Amazon: one row per item, no buyer identity (each order its own customer), Windows-1252.
    assert_eq!(order(&orders, "amazon:302-1234567-1234567"), r("shipped", 45.97, 0.0, 0.0, 45.97, "EUR", None, None));
    assert_eq!(order(&orders, "amazon:302-7654321-7654321").0, "cancelled");
    // Cancelled lines as Amazon writes them: quantity 0, price and currency empty (issue 33). A
    // wholly cancelled order is cancelled at zero, in no currency; a cancelled item of an order that
    // shipped otherwise is a line that sold nothing.
    assert_eq!(order(&orders, "amazon:302-1111111-3333333"), r("cancelled", 0.0, 0.0, 0.0, 0.0, "XXX", None, None));
    assert_eq!(order(&orders, "amazon:302-2222222-4444444"), r("shipped", 9.99, 0.0, 0.0, 9.99, "EUR", None, None));
    // POS.
    assert_eq!(
        order(&orders, "pos:SH01-230115-00002"),
        r("completed", 335.0, 0.0, 0.0, 335.0, "CNY", Some("M00025540"), Some("+8613682343944"))
    );
    let items = read(&lake.join("order_items/part-0.parquet"));
    assert_eq!(lines(&items, "amazon:302-1111111-3333333"), vec![unpriced(1, "TEA-1", "Teekanne", 0, Some(0.0))]);
    assert_eq!(
        lines(&items, "amazon:302-2222222-4444444"),
        vec![line(1, "CAN-1", "Kerze", 1, 9.99, 9.99), unpriced(2, "TEA-1", "Teekanne", 0, Some(0.0))]
    );
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
    // A Klaviyo export mixes channels: on-site metrics are `web`, SMS ones `sms`, the rest `email`.
    let channel_of = |ty: &str| {
        let i = (0..events.height()).find(|&i| rows[i].0 == "klaviyo" && rows[i].1 == ty).unwrap();
        strs(&events, "channel")[i].clone().unwrap()
    };
    assert_eq!(channel_of("add_to_cart"), "web");
    assert_eq!(channel_of("email_open"), "email");
    let sms_unsub = (0..events.height())
        .find(|&i| rows[i].0 == "klaviyo" && rows[i].1 == "unsubscribe" && rows[i].2 == jane)
        .expect("Unsubscribed from SMS Marketing is an unsubscribe");
    assert_eq!(strs(&events, "channel")[sms_unsub].as_deref(), Some("sms"));
    // … which withdraws Jane's SMS consent (and not her email consent).
    let customers = read(&lake.join("customers/part-0.parquet"));
    let i = strs(&customers, "customer_id").iter().position(|c| c.as_deref() == Some(jane.as_str())).unwrap();
    let sms_opt_in = customers.column("sms_opt_in").unwrap().bool().unwrap().get(i);
    assert_eq!(sms_opt_in, Some(false));
    assert!(customers.column("unsubscribed_at").unwrap().is_null().get(i).unwrap());
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

// ---- Issue 5: WooCommerce, JD, Pinduoduo, Douyin and Excel workbooks ----

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Ingests one file (auto-detected) into a fresh lake; returns the lake folder.
fn ingest_one(tmp: &Path, file: &Path, lake: &str) -> std::path::PathBuf {
    let o = custlens(tmp, &["ingest", "--input", file.to_str().unwrap(), "--lake", lake]);
    ok(&o);
    tmp.join(lake)
}

fn file_format(lake: &Path) -> (String, i64, i64) {
    let files = read(&lake.join("files/part-0.parquet"));
    let s = |c: &str| files.column(c).unwrap().str().unwrap().get(0).unwrap().to_string();
    let n = |c: &str| files.column(c).unwrap().i64().unwrap().get(0).unwrap();
    (s("format"), n("rows_read"), n("rejected"))
}

/// (line_no, sku, product_name, quantity, unit_price, line_amount) of an order's lines.
type Line = (i64, Option<String>, Option<String>, i64, Option<f64>, Option<f64>);

fn lines(items: &DataFrame, id: &str) -> Vec<Line> {
    let col = |c: &str| items.column(c).unwrap();
    let ids = col("order_id").str().unwrap();
    let mut out: Vec<Line> = (0..items.height())
        .filter(|&i| ids.get(i) == Some(id))
        .map(|i| {
            (
                col("line_no").i64().unwrap().get(i).unwrap(),
                col("sku").str().unwrap().get(i).map(str::to_string),
                col("product_name").str().unwrap().get(i).map(str::to_string),
                col("quantity").i64().unwrap().get(i).unwrap(),
                col("unit_price").f64().unwrap().get(i),
                col("line_amount").f64().unwrap().get(i),
            )
        })
        .collect();
    out.sort_by_key(|l| l.0);
    out
}

fn line(n: i64, sku: &str, name: &str, qty: i64, unit: f64, amount: f64) -> Line {
    (n, Some(sku.to_string()), Some(name.to_string()), qty, Some(unit), Some(amount))
}

/// A line without a price: its amount is null, or 0 at quantity 0.
fn unpriced(n: i64, sku: &str, name: &str, qty: i64, amount: Option<f64>) -> Line {
    (n, Some(sku.to_string()), Some(name.to_string()), qty, None, amount)
}

fn text(orders: &DataFrame, id: &str, c: &str) -> Option<String> {
    let i = orders.column("order_id").unwrap().str().unwrap().iter().position(|v| v == Some(id)).unwrap();
    orders.column(c).unwrap().str().unwrap().get(i).map(str::to_string)
}

fn ts(orders: &DataFrame, id: &str, c: &str) -> Option<String> {
    let i = orders.column("order_id").unwrap().str().unwrap().iter().position(|v| v == Some(id)).unwrap();
    let us = orders.column(c).unwrap().datetime().unwrap().physical().get(i)?;
    Some(chrono::DateTime::from_timestamp_micros(us).unwrap().to_rfc3339())
}

#[allow(clippy::too_many_arguments)] // one argument per column of `Row`, as the `r` closure above
fn row(status: &str, g: f64, d: f64, rf: f64, n: f64, cur: &str, key: Option<&str>, phone: Option<&str>) -> Row {
    (status.into(), g, d, rf, n, cur.into(), key.map(Into::into), phone.map(Into::into))
}

#[test]
fn woocommerce_advanced_order_export() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("woocommerce_orders.csv"), "lake");
    assert_eq!(file_format(&lake), ("woocommerce".into(), 9, 0));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let items = read(&lake.join("order_items/part-0.parquet"));
    assert_eq!(orders.height(), 7);
    // Two product rows; Cart Discount Amount is order-level; shipping and tax outside net.
    let o = "woocommerce:1001";
    assert_eq!(order(&orders, o), row("completed", 55.0, 5.0, 0.0, 50.0, "EUR", None, Some("+14155550134")));
    assert_eq!(created(&orders, o), "2024-03-05T14:22:00+00:00", "no zone in the export: UTC unless configured");
    assert_eq!(text(&orders, o, "email").as_deref(), Some("jane.doe@example.com"));
    assert_eq!(text(&orders, o, "name").as_deref(), Some("Jane Doe"), "First + Last Name (Billing)");
    assert_eq!(
        lines(&items, o),
        vec![line(1, "HOOD-M", "Hoodie", 2, 20.0, 40.0), line(2, "CAP-1", "Cap", 1, 15.0, 15.0)]
    );
    let f = |c: &str| {
        let i = orders.column("order_id").unwrap().str().unwrap().iter().position(|v| v == Some(o)).unwrap();
        orders.column(c).unwrap().f64().unwrap().get(i).unwrap()
    };
    assert_eq!((f("shipping"), f("tax")), (6.0, 4.0));
    assert_eq!(order(&orders, "woocommerce:1002"), row("refunded", 12.5, 0.0, 12.5, 0.0, "EUR", None, None));
    // "On hold"; a note spanning lines inside quotes; a product name with doubled quotes.
    assert_eq!(order(&orders, "woocommerce:1003"), row("pending_payment", 34.0, 0.0, 0.0, 34.0, "EUR", None, None));
    assert_eq!(lines(&items, "woocommerce:1003")[0], line(1, "POSTER-L", "Poster 24\" x 36\"", 3, 8.0, 24.0));
    // Processing with a partial refund (Order Refund Amount).
    assert_eq!(order(&orders, "woocommerce:1004"), row("paid", 60.0, 0.0, 30.0, 30.0, "EUR", None, None));
    assert_eq!(order(&orders, "woocommerce:1005").0, "pending_payment");
    assert_eq!(order(&orders, "woocommerce:1006").0, "cancelled");
    assert_eq!(order(&orders, "woocommerce:1007").0, "cancelled", "Failed");
}

#[test]
fn woocommerce_webtoffee_export() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("woocommerce_webtoffee.csv"), "lake");
    assert_eq!(file_format(&lake), ("woocommerce-webtoffee".into(), 3, 0));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let o = "woocommerce:2001";
    assert_eq!(order(&orders, o), row("completed", 40.0, 4.0, 0.0, 36.0, "EUR", Some("17"), Some("+14155550134")));
    assert_eq!(ts(&orders, o, "paid_at").as_deref(), Some("2024-04-01T09:16:02+00:00"));
    // Guest: customer_id 0 is no member key.
    assert_eq!(order(&orders, "woocommerce:2002"), row("paid", 25.0, 0.0, 0.0, 25.0, "EUR", None, None));
    assert_eq!(text(&orders, "woocommerce:2002", "email").as_deref(), Some("guest@example.net"));
    assert_eq!(
        order(&orders, "woocommerce:2003"),
        row("refunded", 12.0, 0.0, 12.0, 0.0, "EUR", Some("17"), Some("+14155550134"))
    );
    assert_eq!(text(&orders, o, "customer_id"), text(&orders, "woocommerce:2003", "customer_id"));
    // The lines packed in line_item_N: sub_total (before the coupon) is the line amount.
    let items = read(&lake.join("order_items/part-0.parquet"));
    assert_eq!(items.height(), 4);
    assert_eq!(lines(&items, o), vec![line(1, "HOOD-M", "Hoodie", 2, 20.0, 40.0)]);
    assert_eq!(
        lines(&items, "woocommerce:2002"),
        vec![line(1, "MUG", "Mug", 1, 12.5, 12.5), line(2, "COAST", "Coaster", 1, 12.5, 12.5)]
    );
    assert_eq!(lines(&items, "woocommerce:2003"), vec![line(1, "CAP-1", "Cap", 1, 12.0, 12.0)]);
}

#[test]
fn jd_export() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("jd_orders.csv"), "lake");
    assert_eq!(file_format(&lake), ("jd".into(), 6, 0));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let items = read(&lake.join("order_items/part-0.parquet"));
    // GBK; one row per SKU with 订单金额 repeated; China time; masked 客户姓名 and 联系电话 dropped.
    let o = "jd:235871234567";
    assert_eq!(order(&orders, o), row("completed", 228.0, 0.0, 0.0, 228.0, "CNY", Some("jd_wang88"), None));
    assert_eq!(created(&orders, o), "2024-05-01T02:20:30+00:00");
    assert_eq!(ts(&orders, o, "paid_at").as_deref(), Some("2024-05-01T02:21:02+00:00"));
    assert_eq!(ts(&orders, o, "completed_at").as_deref(), Some("2024-05-04T10:00:00+00:00"));
    assert_eq!(text(&orders, o, "name"), None, "王* is masked");
    assert_eq!(
        lines(&items, o),
        vec![
            // 货号, the shop's own code; the second line has none: JD's 商品ID.
            line(1, "GUO-32", "不粘锅炒锅 32cm", 1, 199.0, 199.0),
            line(2, "100087654321", "硅胶铲套装", 1, 29.0, 29.0)
        ]
    );
    // A masked account (jd_****7788) is no key: the order stands alone.
    assert_eq!(order(&orders, "jd:235871234999"), row("paid", 119.8, 0.0, 0.0, 119.8, "CNY", None, None));
    assert_eq!(order(&orders, "jd:235871235000").0, "cancelled");
    assert_eq!(text(&orders, "jd:235871235000", "customer_id"), text(&orders, o, "customer_id"), "same 下单帐号");
    assert_eq!(
        order(&orders, "jd:235871235001"),
        row("shipped", 88.0, 0.0, 0.0, 88.0, "CNY", Some("li_mei"), Some("+8613800138000"))
    );
    assert_eq!(text(&orders, "jd:235871235001", "name").as_deref(), Some("李梅"));
    // Cancelled before payment with 京东价 empty: cancelled at zero, its line kept unpriced (issue 33).
    let closed = "jd:235871235002";
    assert_eq!(order(&orders, closed), row("cancelled", 0.0, 0.0, 0.0, 0.0, "CNY", Some("jd_wang88"), None));
    assert_eq!(lines(&items, closed), vec![unpriced(1, "BWB-500", "保温杯 500ml", 1, None)]);
}

#[test]
fn pinduoduo_export() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("pinduoduo_orders.csv"), "lake");
    assert_eq!(file_format(&lake), ("pinduoduo".into(), 5, 0));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let items = read(&lake.join("order_items/part-0.parquet"));
    // 店铺优惠折扣 is the shop's discount; the `\t`-only phone and the masked 收货人 are ignored.
    let o = "pinduoduo:240501-038271946551234";
    assert_eq!(order(&orders, o), row("completed", 59.8, 5.0, 0.0, 54.8, "CNY", None, None));
    assert_eq!(created(&orders, o), "2024-05-01T04:00:01+00:00");
    assert_eq!(ts(&orders, o, "completed_at").as_deref(), Some("2024-05-06T02:00:00+00:00"));
    assert_eq!(text(&orders, o, "name"), None);
    // 商家编码-规格维度, the shop's own code for the variant.
    assert_eq!(lines(&items, o), vec![line(1, "BWB-500-W", "304不锈钢保温杯 500ml", 2, 29.9, 59.8)]);
    // 售后状态 退款成功 → refunded, whatever the order status.
    assert_eq!(
        order(&orders, "pinduoduo:240502-038271946559876"),
        row("refunded", 19.9, 0.0, 19.9, 0.0, "CNY", None, None)
    );
    assert_eq!(
        order(&orders, "pinduoduo:240503-038271946550001"),
        row("paid", 35.0, 0.0, 0.0, 35.0, "CNY", None, Some("+8613925130165"))
    );
    assert_eq!(order(&orders, "pinduoduo:240504-038271946550002").0, "cancelled");
    // 交易关闭 before payment: 商品总价 empty and quantity 0, cancelled at zero (issue 33).
    let closed = "pinduoduo:240505-038271946550003";
    assert_eq!(order(&orders, closed), row("cancelled", 0.0, 0.0, 0.0, 0.0, "CNY", None, None));
    assert_eq!(lines(&items, closed), vec![unpriced(1, "MB-10", "加厚抹布 10条装", 0, Some(0.0))]);
    // Without a usable identifier each order is its own customer.
    let ids: std::collections::HashSet<Option<String>> =
        orders.column("customer_id").unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect();
    assert_eq!(ids.len(), 5);
}

#[test]
fn douyin_export() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("douyin_orders.csv"), "lake");
    assert_eq!(file_format(&lake), ("douyin".into(), 5, 0));
    let orders = read(&lake.join("orders/part-0.parquet"));
    let items = read(&lake.join("order_items/part-0.parquet"));
    // BOM; "\t"-prefixed 19-digit ids; 主订单 with two 子订单 rows; masked 收件人/收件人手机号.
    let o = "douyin:6923456789012345678";
    assert_eq!(order(&orders, o), row("completed", 228.0, 0.0, 0.0, 228.0, "CNY", None, None));
    assert_eq!(created(&orders, o), "2024-05-01T04:00:00+00:00");
    assert_eq!(text(&orders, o, "name"), None, "张** is masked");
    assert_eq!(
        lines(&items, o),
        vec![line(1, "DFB-3L", "家用电饭煲 3L", 1, 189.0, 189.0), line(2, "DFB-NEI", "电饭煲内胆", 1, 39.0, 39.0)]
    );
    assert_eq!(order(&orders, "douyin:6923456789012345680"), row("refunded", 59.0, 0.0, 59.0, 0.0, "CNY", None, None));
    assert_eq!(
        order(&orders, "douyin:6923456789012345682"),
        row("shipped", 98.0, 0.0, 0.0, 98.0, "CNY", None, Some("+8613682343944"))
    );
    // An encrypted phone (#…#) is no phone.
    assert_eq!(
        order(&orders, "douyin:6923456789012345684"),
        row("cancelled", 179.0, 0.0, 0.0, 179.0, "CNY", None, None)
    );
    // Masked values never link: each masked-only order is its own customer.
    let cid = |id: &str| text(&orders, id, "customer_id").unwrap();
    assert_ne!(cid(o), cid("douyin:6923456789012345680"));
    let identities = read(&lake.join("identities/part-0.parquet"));
    let keys: Vec<&str> = identities.column("key").unwrap().str().unwrap().iter().flatten().collect();
    assert!(!keys.iter().any(|k| k.contains('*')), "{keys:?}");
}

#[test]
fn new_order_adapters_link_across_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = fixture("");
    let args = ["ingest", "--input", fixtures.to_str().unwrap(), "--lake", "lake"];
    ok(&custlens(tmp.path(), &[&args[..], &["--set", "identity.default_phone_region=CN"]].concat()));
    let orders = read(&tmp.path().join("lake/orders/part-0.parquet"));
    let cid = |id: &str| text(&orders, id, "customer_id").unwrap();
    // Jane: Shopify and both WooCommerce plugins by email.
    assert_eq!(cid("woocommerce:1001"), cid("shopify:#1001"));
    assert_eq!(cid("woocommerce:2001"), cid("shopify:#1001"));
    // Pinduoduo's unmasked phone joins the Taobao buyer; Douyin's joins the POS member.
    assert_eq!(cid("pinduoduo:240503-038271946550001"), cid("taobao:35153131473293579"));
    assert_eq!(cid("douyin:6923456789012345682"), cid("pos:SH01-230115-00002"));
}

/// Sorted rows of a lake table as text, for comparing two ingests.
fn table_rows(lake: &Path, table: &str) -> Vec<String> {
    let df = read(&lake.join(format!("{table}/part-0.parquet")));
    let mut rows: Vec<String> = (0..df.height())
        .map(|i| df.columns().iter().map(|c| format!("{:?}", c.get(i).unwrap())).collect::<Vec<_>>().join("|"))
        .collect();
    rows.sort();
    rows
}

#[test]
fn excel_versions_give_the_same_canonical_rows() {
    let tmp = tempfile::tempdir().unwrap();
    for (csv, excel, format) in [
        ("pinduoduo_orders.csv", "excel/pinduoduo_orders.xlsx", "pinduoduo"),
        ("jd_orders.csv", "excel/jd_orders.xls", "jd"),
    ] {
        let a = ingest_one(tmp.path(), &fixture(csv), &format!("{format}-csv"));
        let b = ingest_one(tmp.path(), &fixture(excel), &format!("{format}-excel"));
        let (fmt, rows, rejected) = file_format(&b);
        assert_eq!((fmt.as_str(), rejected), (format, 0), "detected from the sheet's header");
        assert_eq!(rows, file_format(&a).1);
        for table in ["orders", "order_items", "customers", "identities"] {
            assert_eq!(table_rows(&a, table), table_rows(&b, table), "{excel}: {table}");
        }
    }
}

#[test]
fn excel_numeric_ids_are_recovered_or_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = ingest_one(tmp.path(), &fixture("excel/douyin_ids.xlsx"), "lake");
    assert_eq!(file_format(&lake), ("douyin".into(), 6, 3), "a blank row is no record");
    let orders = read(&lake.join("orders/part-0.parquet"));
    let ids: Vec<&str> = orders.column("order_id").unwrap().str().unwrap().iter().flatten().collect();
    // The 19-digit id stored as text is kept digit for digit.
    assert_eq!(ids, ["douyin:6923456789012345678", "douyin:6923456789012345686", "douyin:6923456789012345688"]);
    assert_eq!(created(&orders, "douyin:6923456789012345678"), "2024-05-01T04:00:00+00:00", "date cell, China time");
    assert_eq!(created(&orders, "douyin:6923456789012345686"), "2024-05-04T01:00:00+00:00", "text date");
    assert_eq!(
        text(&orders, "douyin:6923456789012345686", "phone").as_deref(),
        Some("+8613682343944"),
        "a phone stored as a number below 2^53 is exact"
    );
    let rejects = read(&lake.join("rejects/part-0.parquet"));
    let col = |c: &str| -> Vec<String> {
        rejects.column(c).unwrap().str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect()
    };
    let lines: Vec<i64> = rejects.column("line").unwrap().i64().unwrap().iter().flatten().collect();
    assert_eq!(lines, [3, 4, 5], "spreadsheet row numbers");
    assert_eq!(col("column"), ["主订单编号", "商家编码", "订单应付金额"]);
    let reasons = col("reason");
    assert!(reasons[0].starts_with("numeric cell lost precision") && reasons[0].contains("format the column as text"));
    assert!(reasons[1].contains("12.5 has a fraction where an id is expected"), "{}", reasons[1]);
    assert!(reasons[2].contains("#N/A"), "{}", reasons[2]);
}

#[test]
fn excel_sheet_is_chosen_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let book = fixture("excel/two_sheets.xlsx");
    // The first sheet holds a note, not a header: no format.
    let o = custlens(tmp.path(), &["ingest", "--input", book.to_str().unwrap(), "--lake", "lake"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(
        tmp.path().join("custlens.toml"),
        format!("[[sources]]\npath = {:?}\nsheet = \"订单\"\n", book.to_str().unwrap()),
    )
    .unwrap();
    ok(&custlens(tmp.path(), &["ingest", "--lake", "lake"]));
    assert_eq!(file_format(&tmp.path().join("lake")), ("pos".into(), 3, 0));
    std::fs::write(
        tmp.path().join("custlens.toml"),
        format!("[[sources]]\npath = {:?}\nsheet = \"Orders\"\n", book.to_str().unwrap()),
    )
    .unwrap();
    let o = custlens(tmp.path(), &["ingest", "--lake", "lake2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no sheet `Orders`") && err.contains("说明, 订单"), "{err}");
}

/// Amazon JP reports are Shift-JIS: detected from the header, decoded without a mapping.
#[test]
fn amazon_jp_report_in_shift_jis() {
    let tmp = tempfile::tempdir().unwrap();
    let f = fixture("amazon_jp/all_orders_jp.txt");
    ok(&custlens(tmp.path(), &["ingest", "--input", f.to_str().unwrap(), "--lake", "lake"]));
    let items = read(&tmp.path().join("lake/order_items/part-0.parquet"));
    let names: Vec<&str> = items.column("product_name").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(names, ["マグカップ 陶器 350ml"]);
    let orders = read(&tmp.path().join("lake/orders/part-0.parquet"));
    assert_eq!(
        order(&orders, "amazon:503-1111111-2222222"),
        row("shipped", 1980.0, 0.0, 0.0, 1980.0, "JPY", None, None)
    );
}
