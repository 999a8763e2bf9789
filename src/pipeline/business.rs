//! The business stage: the order frame collected once, then `trends`, `cohorts` and `kpis`
//! ([`crate::business`]) over it.

use super::{stage_err, Outputs, PipelineError};
use crate::analytics::calendar::Calendar;
use crate::business::{self, kpis, periods, BusinessValidParams, Grain};
use crate::lake;
use crate::schema::Table;
use polars::prelude::*;
use std::path::Path;

/// What the business stage writes.
pub(super) struct BusinessTables {
    trends: DataFrame,
    cohorts: DataFrame,
    kpis: serde_json::Value,
}

/// The outputs of the stage, for removing stale ones when it is switched off.
pub(super) const FILES: [&str; 3] = ["trends.parquet", "cohorts.parquet", "kpis.json"];

/// Runs the business tables at `as_of` in `cal`'s days.
pub(super) fn run(
    lake_dir: &Path,
    orders: LazyFrame,
    as_of: i64,
    rates: &[(String, f64)],
    cal: &Calendar,
    p: &BusinessValidParams,
) -> Result<BusinessTables, PipelineError> {
    let err = stage_err("business");
    let items = lake::scan(lake_dir, Table::OrderItems)?;
    // Collected once: the three tables read it, and the local days are computed once.
    let o = business::order_frame(orders, items, as_of, rates, cal).collect().map_err(&err)?;
    let first_day = o.column("day").and_then(|c| c.i64().map(|c| c.min())).map_err(&err)?;
    let Some(first_day) = first_day else {
        return Err(PipelineError::Stage { stage: "business", message: "no orders before as_of".into() });
    };
    let (as_of_day, last_day) = (cal.day_of(as_of), cal.day_of(as_of - 1));
    let table = |grains: &[Grain]| periods::period_table(grains, first_day, last_day, as_of_day).map_err(&err);
    let months = table(&[Grain::Month])?;
    let trends = business::trends::trends(o.clone().lazy(), table(p.grains())?.lazy(), p)
        .and_then(LazyFrame::collect)
        .map_err(&err)?;
    let cohorts =
        business::cohorts::cohorts(o.clone().lazy(), months.lazy(), p).and_then(LazyFrame::collect).map_err(&err)?;
    let plan = kpis::KpiPlan::new(as_of_day, last_day);
    let figures = kpis::figures(o.lazy(), &plan.windows()).and_then(LazyFrame::collect).map_err(&err)?;
    let mut doc = kpis::kpis_json(&figures, &cohorts, &plan).map_err(&err)?;
    doc["as_of"] = chrono::DateTime::from_timestamp_micros(as_of).map(|d| d.to_rfc3339()).unwrap_or_default().into();
    doc["timezone"] = cal.tz().name().into();
    tracing::info!(trends = trends.height(), cohorts = cohorts.height(), "business stage");
    Ok(BusinessTables { trends, cohorts, kpis: doc })
}

/// Adds the stage's tables to the run's outputs.
pub(super) fn add_outputs(outputs: &mut Outputs, t: BusinessTables, base_currency: &str) {
    let mut kpis = t.kpis;
    kpis["base_currency"] = base_currency.into();
    outputs.table("trends", t.trends, false);
    outputs.table("cohorts", t.cohorts, false);
    outputs.json("kpis", kpis);
}
