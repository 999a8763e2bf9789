//! Hand-computed KPIs on the shared case (see `trends_tests.rs`) at as_of = 2024-03-01 00:00
//! UTC: the latest complete month is February 2024; the last 30 days are 31 January to
//! 29 February.

use super::*;
use crate::analytics::calendar::Calendar;
use crate::business::params::BusinessParams;
use crate::business::testdata::*;

fn doc() -> Value {
    let cal = Calendar::utc();
    let (o, as_of) = order_frame(&case(), day(2024, 3, 1), &cal);
    let months = periods(&o, as_of, &cal, &[Grain::Month]);
    let p = BusinessParams::new().check().unwrap();
    let cohorts = crate::business::cohorts::cohorts(o.clone().lazy(), months.lazy(), &p).unwrap().collect().unwrap();
    let plan = KpiPlan::new(cal.day_of(as_of), cal.day_of(as_of - 1));
    let fig = figures(o.lazy(), &plan.windows()).unwrap().collect().unwrap();
    kpis_json(&fig, &cohorts, &plan).unwrap()
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn windows_of_the_plan() {
    let plan = KpiPlan::new(day(2024, 3, 1), day(2024, 2, 29));
    let w = plan.windows();
    assert_eq!((w[0].start_day, w[0].end_day), (day(2024, 2, 1), day(2024, 3, 1)));
    assert_eq!((w[1].start_day, w[1].end_day), (day(2024, 1, 1), day(2024, 2, 1)));
    assert_eq!((w[2].start_day, w[2].end_day), (day(2023, 2, 1), day(2023, 3, 1)));
    assert_eq!((w[3].start_day, w[3].end_day), (day(2024, 1, 31), day(2024, 3, 1)));
    assert_eq!((w[4].start_day, w[4].end_day), (day(2024, 1, 1), day(2024, 1, 31)));
    assert_eq!((w[5].start_day, w[5].end_day), (day(2023, 2, 1), day(2023, 3, 3)));
    // as_of in the middle of 1 March: February is still the latest complete month, and the
    // rolling window runs to the end of 1 March.
    let plan = KpiPlan::new(day(2024, 3, 1), day(2024, 3, 1));
    assert_eq!(plan.windows()[0].start_day, day(2024, 2, 1));
    assert_eq!(plan.windows()[3].end_day, day(2024, 3, 2));
}

#[test]
fn latest_complete_month_against_january_and_last_february() {
    let d = doc();
    let m = &d["month"];
    assert_eq!(m["start"], "2024-02-01");
    assert_eq!(m["end"], "2024-03-01");
    assert_eq!(m["previous_start"], "2024-01-01");
    assert_eq!(m["year_earlier_start"], "2023-02-01");
    close(num(&m["revenue"]["value"]), Some(55.0));
    close(num(&m["revenue"]["previous"]), Some(140.0));
    close(num(&m["revenue"]["change"]), Some(55.0 / 140.0 - 1.0));
    close(num(&m["revenue"]["year_earlier"]), Some(0.0));
    assert!(m["revenue"]["yoy_change"].is_null());
    close(num(&m["gmv"]["previous"]), Some(290.0));
    close(num(&m["orders"]["change"]), Some(2.0 / 3.0 - 1.0));
    close(num(&m["customers"]["change"]), Some(0.0));
    close(num(&m["new_customers"]["change"]), Some(-0.5));
    close(num(&m["aov"]["value"]), Some(27.5));
    assert!(m["aov"]["year_earlier"].is_null());
    close(num(&m["repeat_rate"]["value"]), Some(0.5));
    assert!(m["repeat_rate"]["change"].is_null(), "January's repeat rate is 0");
}

#[test]
fn last_30_days_and_month1_retention() {
    let d = doc();
    let w = &d["last_30_days"];
    assert_eq!(w["start"], "2024-01-31");
    close(num(&w["revenue"]["value"]), Some(55.0));
    close(num(&w["revenue"]["previous"]), Some(140.0));
    close(num(&w["orders"]["previous"]), Some(3.0));
    close(num(&w["revenue"]["year_earlier"]), Some(0.0));
    let r = &d["month1_retention"];
    assert_eq!(r["cohort_month"], "2024-01-01");
    close(num(&r["value"]), Some(0.5));
    assert!(r["previous"].is_null(), "no cohort in 2023-12");
    close(num(&r["year_earlier"]), Some(0.0));
    assert!(r["yoy_change"].is_null());
}
