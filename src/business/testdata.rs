//! Hand-made lake orders and lines for the business tables' unit tests.

use super::params::BusinessValidParams;
use crate::analytics::calendar::{date_day, Calendar};
use chrono::NaiveDate;
use polars::prelude::*;

/// One order: id, customer, channel, store, status, created_at (RFC 3339), currency, gross,
/// refund, net, units.
pub struct O(
    pub &'static str,
    pub &'static str,
    pub &'static str,
    pub Option<&'static str>,
    pub &'static str,
    pub &'static str,
    pub &'static str,
    pub f64,
    pub f64,
    pub f64,
    pub i64,
);

pub fn us(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
}

pub fn day(y: i32, m: u32, d: u32) -> i64 {
    date_day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// (orders, items) as the lake stores them (the columns the business tables read).
pub fn lake(rows: &[O]) -> (LazyFrame, LazyFrame) {
    let ts = Series::new("created_at".into(), rows.iter().map(|r| us(r.5)).collect::<Vec<_>>())
        .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
        .unwrap();
    let orders = DataFrame::new_infer_height(vec![
        Column::new("order_id".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("customer_id".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("channel".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("store".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        Column::new("status".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
        ts.into(),
        Column::new("currency".into(), rows.iter().map(|r| r.6).collect::<Vec<_>>()),
        Column::new("gross_amount".into(), rows.iter().map(|r| r.7).collect::<Vec<_>>()),
        Column::new("refund_amount".into(), rows.iter().map(|r| r.8).collect::<Vec<_>>()),
        Column::new("net_amount".into(), rows.iter().map(|r| r.9).collect::<Vec<_>>()),
    ])
    .unwrap();
    // Each order's units as two lines (one of 1 unit when there are at least 2), or none for 0.
    let (mut id, mut q) = (Vec::new(), Vec::new());
    for r in rows {
        match r.10 {
            0 => {}
            1 => {
                id.push(r.0);
                q.push(1i64);
            }
            n => {
                id.extend([r.0, r.0]);
                q.extend([1i64, n - 1]);
            }
        }
    }
    let items =
        DataFrame::new_infer_height(vec![Column::new("order_id".into(), id), Column::new("quantity".into(), q)])
            .unwrap();
    (orders.lazy(), items.lazy())
}

/// The collected order frame at `as_of` (a local midnight of `cal` given as a day) with rates
/// USD = 1, CNY = 0.5.
pub fn order_frame(rows: &[O], as_of_day: i64, cal: &Calendar) -> (DataFrame, i64) {
    let (orders, items) = lake(rows);
    let as_of = cal.midnight(as_of_day);
    let rates = [("USD".to_string(), 1.0), ("CNY".to_string(), 0.5)];
    (super::order_frame(orders, items, as_of, &rates, cal).collect().unwrap(), as_of)
}

/// The period table of `p`'s grains for the order frame `o` at `as_of`.
pub fn periods(o: &DataFrame, as_of: i64, cal: &Calendar, grains: &[super::Grain]) -> DataFrame {
    let first = o.column("day").unwrap().i64().unwrap().min().unwrap();
    super::periods::period_table(grains, first, cal.day_of(as_of - 1), cal.day_of(as_of)).unwrap()
}

/// Runs `trends` on `rows`.
pub fn trends(rows: &[O], as_of_day: i64, cal: &Calendar, p: &BusinessValidParams) -> DataFrame {
    let (o, as_of) = order_frame(rows, as_of_day, cal);
    let per = periods(&o, as_of, cal, p.grains());
    super::trends::trends(o.lazy(), per.lazy(), p).unwrap().collect().unwrap()
}

/// The shared hand-computed case (see `trends_tests.rs` for the figures): two customers on two
/// channels, a cancelled, a fully refunded and a partially refunded order, two currencies
/// (CNY at 0.5), a leap-day order, months without sales, January 2023, December 2023,
/// January 2024 and February 2024.
pub fn case() -> Vec<O> {
    vec![
        O("o1", "c1", "web", Some("S1"), "completed", "2023-01-15T10:00:00Z", "USD", 100.0, 0.0, 90.0, 2),
        O("o2", "c1", "web", Some("S1"), "completed", "2023-12-20T10:00:00Z", "USD", 50.0, 0.0, 50.0, 1),
        O("o3", "c2", "app", None, "paid", "2024-01-10T10:00:00Z", "CNY", 200.0, 0.0, 180.0, 3),
        O("o4", "c2", "web", Some("S1"), "shipped", "2024-01-20T10:00:00Z", "USD", 60.0, 20.0, 30.0, 1),
        O("o5", "c1", "web", Some("S1"), "cancelled", "2024-01-25T10:00:00Z", "USD", 40.0, 0.0, 40.0, 1),
        O("o6", "c3", "web", Some("S2"), "completed", "2024-01-26T10:00:00Z", "USD", 70.0, 70.0, 0.0, 1),
        O("o7", "c3", "web", Some("S2"), "completed", "2024-02-29T12:00:00Z", "USD", 30.0, 0.0, 30.0, 1),
        O("o8", "c4", "app", None, "completed", "2024-01-05T08:00:00Z", "USD", 20.0, 0.0, 20.0, 1),
        O("o9", "c4", "app", None, "completed", "2024-02-10T08:00:00Z", "USD", 25.0, 0.0, 25.0, 1),
    ]
}

/// The single row of `df` at (grain, period start, channel, store).
pub fn pick(df: &DataFrame, grain: &str, start: i64, channel: &str, store: Option<&str>) -> DataFrame {
    let store = match store {
        None => col("store").is_null(),
        Some(s) => col("store").eq(lit(s)),
    };
    let out = df
        .clone()
        .lazy()
        .filter(
            col("grain")
                .eq(lit(grain))
                .and(col("period_start").cast(DataType::Int32).eq(lit(start as i32)))
                .and(col("channel").eq(lit(channel)))
                .and(store),
        )
        .collect()
        .unwrap();
    assert_eq!(out.height(), 1, "{grain} {start} {channel}");
    out
}

/// Column `c` of a one-row frame as f64 (integers cast).
pub fn f(r: &DataFrame, c: &str) -> Option<f64> {
    r.column(c).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0)
}

/// Asserts `got` equals `want` to 1e-9 (both null or both close).
#[track_caller]
pub fn close(got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "got {g}, want {w}"),
        _ => assert_eq!(got, want),
    }
}

/// Asserts several columns of a one-row frame.
#[track_caller]
pub fn expect(r: &DataFrame, want: &[(&str, Option<f64>)]) {
    for (c, w) in want {
        let g = f(r, c);
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{c}: got {g}, want {w}"),
            _ => assert_eq!(g, *w, "{c}"),
        }
    }
}
