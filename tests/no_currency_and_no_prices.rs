//! Issue 33, parts 1 and 2, through the binary: the four-column canonical file needs no config
//! (one unnamed currency, `XXX`), a named currency added to it says what to set, and order lines
//! without prices are kept on orders that carry their own amount.

mod common;
use common::{custlens, ok, read};
use polars::prelude::*;
use std::path::Path;

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
}

fn floats(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
    df.column(c).unwrap().f64().unwrap().iter().collect()
}

/// `order_id,customer_id,created_at,net_amount`: 12 customers with 1–3 orders each (net amounts
/// 10.25 + order number), and on line 8 a date that does not exist.
fn four_columns(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let mut rows = Vec::new();
    let mut n = 0;
    for c in 0..12 {
        for k in 0..1 + c % 3 {
            n += 1;
            rows.push(format!("o{n},c{c},2024-{:02}-{:02}T10:00:00Z,{}.25", 1 + (c + 4 * k) % 12, 1 + c, 10 + n));
        }
    }
    rows.insert(6, "o-bad,c1,2024-02-30T10:00:00Z,12.00".into()); // the header is line 1: this is line 8
    let p = dir.join("four.csv");
    std::fs::write(&p, format!("order_id,customer_id,created_at,net_amount\n{}\n", rows.join("\n"))).unwrap();
    (p, rows)
}

#[test]
fn four_column_canonical_file_ingests_and_analyzes_with_no_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (f, rows) = four_columns(tmp.path());
    let o = custlens(
        tmp.path(),
        &["run", "--input", f.to_str().unwrap(), "--format", "canonical", "--lake", "lake", "--out", "out"],
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("one unnamed currency (XXX)"), "the log says so: {err}");
    let orders = read(&tmp.path().join("lake/orders/part-0.parquet"));
    assert_eq!(orders.height(), rows.len() - 1);
    assert!(strs(&orders, "currency").iter().all(|c| c.as_deref() == Some("XXX")));
    // The bad date is still a reject naming its line and column.
    let rejects = read(&tmp.path().join("lake/rejects/part-0.parquet"));
    assert_eq!(rejects.height(), 1);
    assert_eq!(rejects.column("line").unwrap().i64().unwrap().get(0), Some(8));
    assert_eq!(strs(&rejects, "column")[0].as_deref(), Some("created_at"));
    assert!(strs(&rejects, "raw")[0].as_deref().unwrap().starts_with("o-bad,c1,2024-02-30"));
    // Analyzed in XXX, amounts as they are: c2 has orders o4, o5, o6 → 14.25 + 15.25 + 16.25.
    let out = tmp.path().join("out");
    assert_eq!(manifest(&out)["base_currency"], "XXX");
    let seg = read(&out.join("segments.parquet"));
    assert_eq!(seg.height(), 12);
    assert!(strs(&seg, "currency").iter().all(|c| c.as_deref() == Some("XXX")));
    let c2 = strs(&seg, "customer_id").iter().position(|c| c.as_deref() == Some("c2")).unwrap();
    assert_eq!(floats(&seg, "monetary_total")[c2], Some(45.75));
}

#[test]
fn a_named_currency_beside_the_unnamed_one_says_what_to_set() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let (f, _) = four_columns(p);
    let four = f.to_str().unwrap();
    std::fs::write(
        p.join("eur.csv"),
        "order_id,customer_id,created_at,net_amount,currency\ne1,c1,2024-03-01T10:00:00Z,20.00,EUR\n",
    )
    .unwrap();
    let ingest = |file: &str, extra: &[&str]| {
        let args = [&["ingest", "--input", file, "--format", "canonical", "--lake", "lake"][..], extra].concat();
        ok(&custlens(p, &args));
    };
    ingest(four, &[]);
    ingest("eur.csv", &[]);
    let o = custlens(p, &["analyze", "--lake", "lake", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("currency.base") && err.contains("orders in XXX"), "{err}");
    assert!(err.contains("[currency] base = \"EUR\"") && err.contains("--set currency.rates.XXX=RATE"), "{err}");
    assert!(!p.join("out/manifest.json").exists());
    // As it says: the file ingested again with `[currency] base` is in EUR, and the lake adds up.
    ingest(four, &["--set", "currency.base=EUR"]);
    let orders = read(&p.join("lake/orders/part-0.parquet"));
    assert!(strs(&orders, "currency").iter().all(|c| c.as_deref() == Some("EUR")));
    ok(&custlens(p, &["analyze", "--lake", "lake", "--out", "out"]));
    assert_eq!(manifest(&p.join("out"))["base_currency"], "EUR");

    // Two named currencies without rates stay an error that names the keys to set.
    std::fs::write(
        p.join("usd.csv"),
        "order_id,customer_id,created_at,net_amount,currency\nu1,c3,2024-03-02T10:00:00Z,30.00,USD\n",
    )
    .unwrap();
    ingest("usd.csv", &[]);
    let o = custlens(p, &["analyze", "--lake", "lake", "--out", "out2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("currency.base") && err.contains("currency.rates.USD=RATE"), "{err}");
    ok(&custlens(
        p,
        &[
            "analyze",
            "--lake",
            "lake",
            "--out",
            "out2",
            "--set",
            "currency.base=EUR",
            "--set",
            "currency.rates.USD=0.9",
        ],
    ));
}

/// (order_id, line_no, sku, quantity, unit_price, line_amount) of an order line.
type Line = (String, i64, String, i64, Option<f64>, Option<f64>);

#[test]
fn order_lines_without_prices_land_with_the_orders_total() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    // SKUs and quantities, an order total, no line prices; and a cancelled order with no amount.
    std::fs::write(
        p.join("lines.csv"),
        "order_id,customer_id,created_at,status,net_amount,currency,sku,quantity\n\
         A-1,c1,2024-05-01T10:00:00Z,completed,30.00,EUR,MUG,2\n\
         A-1,c1,2024-05-01T10:00:00Z,completed,30.00,EUR,TEA,1\n\
         A-2,c2,2024-05-02T10:00:00Z,completed,12.50,EUR,TEA,1\n\
         A-3,c1,2024-06-01T10:00:00Z,completed,18.00,EUR,MUG,1\n\
         A-3,c1,2024-06-01T10:00:00Z,completed,18.00,EUR,TEA,3\n\
         A-4,c2,2024-06-03T10:00:00Z,cancelled,,EUR,MUG,0\n",
    )
    .unwrap();
    let o = custlens(p, &["run", "--input", "lines.csv", "--format", "canonical", "--lake", "lake", "--out", "out"]);
    ok(&o);
    let files = read(&p.join("lake/files/part-0.parquet"));
    assert_eq!(
        files.column("rejected").unwrap().i64().unwrap().get(0),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let orders = read(&p.join("lake/orders/part-0.parquet"));
    let at = |id: &str| strs(&orders, "order_id").iter().position(|v| v.as_deref() == Some(id)).unwrap();
    let amounts = |id: &str| {
        let i = at(id);
        (
            strs(&orders, "status")[i].clone().unwrap(),
            floats(&orders, "gross_amount")[i],
            floats(&orders, "net_amount")[i],
        )
    };
    assert_eq!(amounts("A-1"), ("completed".into(), Some(30.0), Some(30.0)));
    assert_eq!(amounts("A-4"), ("cancelled".into(), Some(0.0), Some(0.0)));
    let items = read(&p.join("lake/order_items/part-0.parquet"));
    let mut lines: Vec<Line> = (0..items.height())
        .map(|i| {
            (
                strs(&items, "order_id")[i].clone().unwrap(),
                items.column("line_no").unwrap().i64().unwrap().get(i).unwrap(),
                strs(&items, "sku")[i].clone().unwrap(),
                items.column("quantity").unwrap().i64().unwrap().get(i).unwrap(),
                floats(&items, "unit_price")[i],
                floats(&items, "line_amount")[i],
            )
        })
        .collect();
    lines.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let l =
        |o: &str, n: i64, sku: &str, q: i64, amount: Option<f64>| (o.to_string(), n, sku.to_string(), q, None, amount);
    assert_eq!(
        lines,
        [
            l("A-1", 1, "MUG", 2, None),
            l("A-1", 2, "TEA", 1, None),
            l("A-2", 1, "TEA", 1, None),
            l("A-3", 1, "MUG", 1, None),
            l("A-3", 2, "TEA", 3, None),
            l("A-4", 1, "MUG", 0, Some(0.0)),
        ]
    );
    // The analysis reads those lines: c1's two baskets both hold MUG and TEA.
    let seg = read(&p.join("out/segments.parquet"));
    let c1 = strs(&seg, "customer_id").iter().position(|c| c.as_deref() == Some("c1")).unwrap();
    assert_eq!(floats(&seg, "monetary_total")[c1], Some(48.0));
    let itemsets = read(&p.join("out/itemsets.parquet"));
    let ints = |c: &str| -> Vec<Option<i64>> {
        itemsets.column(c).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().iter().collect()
    };
    let pairs: Vec<Option<i64>> =
        ints("length").iter().zip(ints("count")).filter(|(l, _)| **l == Some(2)).map(|(_, n)| n).collect();
    assert_eq!(pairs, [Some(2)], "MUG + TEA, in A-1 and A-3: {itemsets}");
}
