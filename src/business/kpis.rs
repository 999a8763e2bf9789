//! `kpis.json`: the headline figures a report or a chat message shows first.
//!
//! ## Method
//! Two blocks of figures over valid orders (GMV over all orders), each with the value of the
//! period before and of a year earlier and the relative changes (`0.12` = +12 %, null against a
//! zero or missing base):
//! - `month`: the latest complete month (the last month ending on or before `as_of`), against the
//!   month before and the same month a year earlier;
//! - `last_30_days`: the 30 local days ending at `as_of` (the last of them holds the last instant
//!   before `as_of`), against the 30 days before and the 30 days 364 days earlier (52 weeks: the
//!   same weekdays, as in `trends`).
//!
//! Figures: `revenue`, `gmv`, `orders`, `customers`, `new_customers` (first valid order ever in
//! the window), `aov` (revenue ÷ orders), `repeat_rate` (share of the window's customers with a
//! valid order before it). And `month1_retention`: the month-1 retention of the latest cohort
//! whose month 1 is complete, against the cohort before and the cohort a year earlier.

use super::params::Grain;
use super::periods::{end_day, index_of_day, month_date, start_day};
use super::{first_orders, money, ratio};
use crate::analytics::calendar::day_date;
use polars::prelude::*;
use serde_json::{json, Map, Value};

/// Length of the rolling window, in days.
pub const ROLLING_DAYS: i64 = 30;

/// The figures of a block, in output order.
pub const FIGURES: [&str; 7] = ["revenue", "gmv", "orders", "customers", "new_customers", "aov", "repeat_rate"];

/// A window of local days `[start_day, end_day)` and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub label: String,
    pub start_day: i64,
    pub end_day: i64,
}

/// Which windows the KPIs compare, from the run's `as_of`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiPlan {
    /// Month index of the latest complete month.
    pub month: i64,
    /// Exclusive end day of the rolling window.
    pub rolling_end: i64,
}

impl KpiPlan {
    /// `as_of_day`: the local day `as_of` falls in; `last_day`: the local day of the last instant
    /// before `as_of` (the same day unless `as_of` is a midnight).
    pub fn new(as_of_day: i64, last_day: i64) -> Self {
        KpiPlan { month: index_of_day(Grain::Month, as_of_day) - 1, rolling_end: last_day + 1 }
    }

    /// The six windows: `month`, `month_previous`, `month_year_earlier`, `days`, `days_previous`,
    /// `days_year_earlier`.
    pub fn windows(&self) -> Vec<Window> {
        let m = |label: &str, idx: i64| Window {
            label: label.into(),
            start_day: start_day(Grain::Month, idx),
            end_day: end_day(Grain::Month, idx),
        };
        let d = |label: &str, end: i64| Window { label: label.into(), start_day: end - ROLLING_DAYS, end_day: end };
        vec![
            m("month", self.month),
            m("month_previous", self.month - 1),
            m("month_year_earlier", self.month - 12),
            d("days", self.rolling_end),
            d("days_previous", self.rolling_end - ROLLING_DAYS),
            d("days_year_earlier", self.rolling_end - 364),
        ]
    }
}

/// One row per window: `window`, and the [`FIGURES`]. `orders`: [`super::order_frame`].
pub fn figures(orders: LazyFrame, windows: &[Window]) -> PolarsResult<LazyFrame> {
    let first = first_orders(orders.clone());
    let x = orders.join(first, [col("customer_id")], [col("customer_id")], JoinArgs::new(JoinType::Left));
    let rows: Vec<LazyFrame> = windows
        .iter()
        .map(|w| {
            let (s, e) = (lit(w.start_day), lit(w.end_day));
            let valid = || col("valid");
            let new = valid().and(col("_first_day").gt_eq(s.clone())).and(col("_first_day").lt(e.clone()));
            let returning = valid().and(col("_first_day").lt(s.clone()));
            let distinct = |c: Expr| col("customer_id").filter(c).n_unique().cast(DataType::Int64);
            x.clone().filter(col("day").gt_eq(s).and(col("day").lt(e))).select([
                lit(w.label.as_str()).alias("window"),
                money(col("net").sum()).alias("revenue"),
                money(col("gross").sum()).alias("gmv"),
                valid().cast(DataType::Int64).sum().alias("orders"),
                distinct(valid()).alias("customers"),
                distinct(new).alias("new_customers"),
                distinct(returning).alias("_returning"),
            ])
        })
        .collect();
    Ok(concat(rows, UnionArgs::default())?.select([
        col("window"),
        col("revenue"),
        col("gmv"),
        col("orders"),
        col("customers"),
        col("new_customers"),
        ratio(col("revenue"), col("orders")).alias("aov"),
        ratio(col("_returning"), col("customers")).alias("repeat_rate"),
    ]))
}

/// `cur / base − 1`, None when either is missing or the base is 0.
fn change(cur: Option<f64>, base: Option<f64>) -> Option<f64> {
    match (cur, base) {
        (Some(c), Some(b)) if b != 0.0 => Some(c / b - 1.0),
        _ => None,
    }
}

fn compared(value: Option<f64>, previous: Option<f64>, year_earlier: Option<f64>) -> Value {
    json!({
        "value": value,
        "previous": previous,
        "change": change(value, previous),
        "year_earlier": year_earlier,
        "yoy_change": change(value, year_earlier),
    })
}

fn date(day: i64) -> String {
    day_date(day).to_string()
}

/// The `kpis.json` document from the collected [`figures`] of `plan.windows()` and the collected
/// cohorts table ([`super::cohorts::cohorts`]).
pub fn kpis_json(figures: &DataFrame, cohorts: &DataFrame, plan: &KpiPlan) -> PolarsResult<Value> {
    let labels: Vec<Option<&str>> = figures.column("window")?.str()?.iter().collect();
    let row = |label: &str| labels.iter().position(|l| *l == Some(label));
    let value = |label: &str, fig: &str| -> PolarsResult<Option<f64>> {
        let Some(i) = row(label) else { return Ok(None) };
        let c = figures.column(fig)?.cast(&DataType::Float64)?;
        Ok(c.f64()?.get(i))
    };
    let windows = plan.windows();
    let mut doc = Map::new();
    for (block, prefix, w) in [("month", "month", &windows[0]), ("last_30_days", "days", &windows[3])] {
        let mut b = Map::new();
        b.insert("start".into(), date(w.start_day).into());
        b.insert("end".into(), date(w.end_day).into());
        let (p, y) = (&windows[if prefix == "month" { 1 } else { 4 }], &windows[if prefix == "month" { 2 } else { 5 }]);
        b.insert("previous_start".into(), date(p.start_day).into());
        b.insert("year_earlier_start".into(), date(y.start_day).into());
        for fig in FIGURES {
            let v = value(prefix, fig)?;
            let pv = value(&format!("{prefix}_previous"), fig)?;
            let yv = value(&format!("{prefix}_year_earlier"), fig)?;
            b.insert(fig.into(), compared(v, pv, yv));
        }
        doc.insert(block.into(), Value::Object(b));
    }
    doc.insert("month1_retention".into(), month1_retention(cohorts)?);
    Ok(Value::Object(doc))
}

/// The month-1 retention of the latest cohort whose month 1 is complete (channel `all`), with the
/// cohort before and the cohort a year earlier; null when no cohort has a complete month 1.
fn month1_retention(cohorts: &DataFrame) -> PolarsResult<Value> {
    let df = cohorts
        .clone()
        .lazy()
        .filter(col("channel").eq(lit("all")).and(col("months_since").eq(lit(1i64))).and(col("complete")))
        .select([
            period_index(col("cohort_month").cast(DataType::Int32).cast(DataType::Int64)).alias("m"),
            col("retention"),
        ])
        .collect()?;
    let m: Vec<Option<i64>> = df.column("m")?.i64()?.iter().collect();
    let r: Vec<Option<f64>> = df.column("retention")?.f64()?.iter().collect();
    let at = |idx: i64| m.iter().position(|x| *x == Some(idx)).and_then(|i| r[i]);
    let Some(latest) = m.iter().flatten().max().copied() else { return Ok(Value::Null) };
    let mut v = compared(at(latest), at(latest - 1), at(latest - 12));
    v["cohort_month"] = month_date(latest).to_string().into();
    Ok(v)
}

fn period_index(day: Expr) -> Expr {
    super::periods::period_index(Grain::Month, day)
}

#[cfg(test)]
#[path = "kpis_tests.rs"]
mod tests;
