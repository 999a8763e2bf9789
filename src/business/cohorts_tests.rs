//! Hand-computed cohorts on the shared case (see `trends_tests.rs`): c1 acquired in 2023-01 on
//! web (back in 2023-12), c2 and c4 in 2024-01 on app (c4 back in 2024-02), c3 in 2024-02 on web
//! (its January order was fully refunded, so it does not acquire it).

use super::*;
use crate::analytics::calendar::Calendar;
use crate::business::params::BusinessParams;
use crate::business::testdata::*;

fn run(p: &BusinessValidParams) -> DataFrame {
    let cal = Calendar::utc();
    let (o, as_of) = order_frame(&case(), day(2024, 3, 1), &cal);
    let months = periods(&o, as_of, &cal, &[Grain::Month]);
    cohorts(o.lazy(), months.lazy(), p).unwrap().collect().unwrap()
}

fn row(df: &DataFrame, channel: &str, cohort: i64, k: i64) -> DataFrame {
    let out = df
        .clone()
        .lazy()
        .filter(
            col("channel")
                .eq(lit(channel))
                .and(col("cohort_month").cast(DataType::Int32).eq(lit(cohort as i32)))
                .and(col("months_since").eq(lit(k))),
        )
        .collect()
        .unwrap();
    assert_eq!(out.height(), 1, "{channel} {cohort} {k}");
    out
}

#[test]
fn retention_and_cumulative_revenue() {
    let c = run(&BusinessParams::new().check().unwrap());
    // 2023-01: months 0..=13; 2024-01: 0..=1; 2024-02: 0.
    assert_eq!(c.height(), 14 + 2 + 1);
    let jan23 = day(2023, 1, 1);
    expect(
        &row(&c, "all", jan23, 0),
        &[
            ("cohort_size", Some(1.0)),
            ("active_customers", Some(1.0)),
            ("retention", Some(1.0)),
            ("orders", Some(1.0)),
            ("revenue", Some(90.0)),
            ("cumulative_revenue_per_customer", Some(90.0)),
        ],
    );
    // A month without orders: zeros, and the cumulative revenue carries over.
    expect(
        &row(&c, "all", jan23, 1),
        &[("active_customers", Some(0.0)), ("retention", Some(0.0)), ("cumulative_revenue_per_customer", Some(90.0))],
    );
    expect(
        &row(&c, "all", jan23, 11),
        &[("active_customers", Some(1.0)), ("revenue", Some(50.0)), ("cumulative_revenue_per_customer", Some(140.0))],
    );
    let jan24 = day(2024, 1, 1);
    expect(
        &row(&c, "all", jan24, 0),
        &[
            ("cohort_size", Some(2.0)),
            ("active_customers", Some(2.0)),
            ("orders", Some(3.0)),
            ("revenue", Some(140.0)),
            ("cumulative_revenue_per_customer", Some(70.0)),
        ],
    );
    let m1 = row(&c, "all", jan24, 1);
    expect(&m1, &[("retention", Some(0.5)), ("revenue", Some(25.0)), ("cumulative_revenue_per_customer", Some(82.5))]);
    assert_eq!(m1.column("complete").unwrap().bool().unwrap().get(0), Some(true));
    expect(&row(&c, "all", day(2024, 2, 1), 0), &[("cohort_size", Some(1.0)), ("revenue", Some(30.0))]);
}

#[test]
fn cohorts_by_first_order_channel() {
    let c = run(&BusinessParams::new().cohort_by(CohortBy::Channel).check().unwrap());
    assert_eq!(c.height(), 2 * 17);
    // c2 and c4 were acquired on app; c2's later web order still counts in the app cohort.
    expect(
        &row(&c, "app", day(2024, 1, 1), 0),
        &[("cohort_size", Some(2.0)), ("orders", Some(3.0)), ("revenue", Some(140.0))],
    );
    expect(&row(&c, "web", day(2023, 1, 1), 11), &[("cohort_size", Some(1.0)), ("revenue", Some(50.0))]);
    expect(&row(&c, "web", day(2024, 2, 1), 0), &[("cohort_size", Some(1.0))]);
}
