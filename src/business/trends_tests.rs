//! Hand-computed trends on [`case`] (UTC, as_of = 2024-03-01 00:00):
//!
//! | month | valid orders (base revenue) | others |
//! |---|---|---|
//! | 2023-01 | o1 c1 web 90 (first) | |
//! | 2023-02 … 2023-11 | none | |
//! | 2023-12 | o2 c1 web 50 | |
//! | 2024-01 | o8 c4 app 20 (first), o3 c2 app 180 CNY = 90 (first), o4 c2 web 30 (partial refund 20) | o5 cancelled (gross 40), o6 fully refunded (gross 70, refund 70) |
//! | 2024-02 | o9 c4 app 25, o7 c3 web 30 on the leap day (c3's first valid order) | |

use super::*;
use crate::analytics::calendar::Calendar;
use crate::business::params::BusinessParams;
use crate::business::testdata::trends as run;
use crate::business::testdata::{case, day, expect, f, pick};

fn all_grains() -> DataFrame {
    run(&case(), day(2024, 3, 1), &Calendar::utc(), &BusinessParams::new().check().unwrap())
}

#[test]
fn january_against_december_and_last_january() {
    let t = all_grains();
    let jan = pick(&t, "month", day(2024, 1, 1), "all", None);
    expect(
        &jan,
        &[
            ("orders", Some(3.0)),
            ("customers", Some(2.0)),
            ("new_customers", Some(2.0)),
            ("returning_customers", Some(0.0)),
            ("revenue", Some(140.0)),
            ("new_revenue", Some(140.0)),
            ("returning_revenue", Some(0.0)),
            ("aov", Some(140.0 / 3.0)),
            ("units", Some(5.0)),
            ("gmv", Some(100.0 + 60.0 + 40.0 + 70.0 + 20.0)),
            ("paid_revenue", Some(100.0 + 60.0 + 20.0)),
            ("refunded_amount", Some(90.0)),
            ("repeat_rate", Some(0.0)),
            ("revenue_share", Some(1.0)),
            ("cross_channel_customers", None),
            ("revenue_mom", Some(140.0 / 50.0 - 1.0)),
            ("orders_mom", Some(2.0)),
            ("customers_mom", Some(1.0)),
            ("revenue_yoy", Some(140.0 / 90.0 - 1.0)),
            ("orders_yoy", Some(2.0)),
            ("customers_yoy", Some(1.0)),
        ],
    );
    assert_eq!(jan.column("complete").unwrap().bool().unwrap().get(0), Some(true));
    let web = pick(&t, "month", day(2024, 1, 1), "web", None);
    // c2's first order was on app: a web customer who is neither new there nor returning.
    expect(
        &web,
        &[
            ("orders", Some(1.0)),
            ("customers", Some(1.0)),
            ("new_customers", Some(0.0)),
            ("returning_customers", Some(0.0)),
            ("revenue", Some(30.0)),
            ("gmv", Some(170.0)),
            ("paid_revenue", Some(60.0)),
            ("refunded_amount", Some(90.0)),
            ("revenue_share", Some(30.0 / 140.0)),
            ("cross_channel_customers", Some(1.0)),
            ("revenue_mom", Some(30.0 / 50.0 - 1.0)),
            ("revenue_yoy", Some(30.0 / 90.0 - 1.0)),
        ],
    );
    let app = pick(&t, "month", day(2024, 1, 1), "app", None);
    expect(
        &app,
        &[
            ("orders", Some(2.0)),
            ("new_customers", Some(2.0)),
            ("revenue", Some(110.0)),
            ("units", Some(4.0)),
            ("cross_channel_customers", Some(1.0)),
            // No app sales in December or last January: no base.
            ("revenue_mom", None),
            ("revenue_yoy", None),
        ],
    );
}

#[test]
fn a_month_without_sales_is_a_row_of_zeros() {
    let t = all_grains();
    for ch in ["all", "web", "app"] {
        let feb = pick(&t, "month", day(2023, 2, 1), ch, None);
        for c in ["orders", "customers", "new_customers", "revenue", "units", "gmv", "refunded_amount"] {
            assert_eq!(f(&feb, c), Some(0.0), "{ch} {c}");
        }
        // Ratios without a denominator are null, never NaN.
        for c in ["aov", "repeat_rate", "revenue_share", "revenue_yoy", "orders_yoy"] {
            assert_eq!(f(&feb, c), None, "{ch} {c}");
        }
    }
    let feb = pick(&t, "month", day(2023, 2, 1), "all", None);
    expect(&feb, &[("revenue_mom", Some(-1.0)), ("orders_mom", Some(-1.0))]);
    // Against a zero base the change is null.
    expect(&pick(&t, "month", day(2023, 3, 1), "all", None), &[("revenue_mom", None), ("customers_mom", None)]);
    // The first period has no previous one.
    expect(&pick(&t, "month", day(2023, 1, 1), "all", None), &[("revenue_mom", None), ("revenue", Some(90.0))]);
}

#[test]
fn the_grid_is_dense_and_has_no_nan() {
    let t = all_grains();
    let count = |g: &str| t.column("grain").unwrap().str().unwrap().iter().flatten().filter(|x| *x == g).count();
    // 2023-01 … 2024-02: 14 months × (all, app, web); 2023-01-15 … 2024-02-29: 411 days.
    assert_eq!(count("month"), 14 * 3);
    assert_eq!(count("day"), ((day(2024, 2, 29) - day(2023, 1, 15) + 1) * 3) as usize);
    // ISO weeks from Monday 2023-01-09 to Monday 2024-02-26.
    assert_eq!(count("week"), (((day(2024, 2, 26) - day(2023, 1, 9)) / 7 + 1) * 3) as usize);
    for (name, c) in t.get_column_names().iter().zip(t.columns()) {
        if let Ok(v) = c.f64() {
            assert!(v.iter().flatten().all(f64::is_finite), "{name}");
        }
    }
}

#[test]
fn the_leap_day_and_its_week() {
    let t = all_grains();
    let leap = pick(&t, "day", day(2024, 2, 29), "all", None);
    expect(&leap, &[("orders", Some(1.0)), ("revenue", Some(30.0)), ("new_customers", Some(1.0))]);
    assert_eq!(leap.column("complete").unwrap().bool().unwrap().get(0), Some(true));
    let week = pick(&t, "week", day(2024, 2, 26), "all", None);
    expect(&week, &[("orders", Some(1.0)), ("revenue", Some(30.0))]);
    // The week runs to Sunday 3 March, after as_of.
    assert_eq!(week.column("complete").unwrap().bool().unwrap().get(0), Some(false));
    let feb = pick(&t, "month", day(2024, 2, 1), "all", None);
    expect(
        &feb,
        &[
            ("orders", Some(2.0)),
            ("customers", Some(2.0)),
            ("new_customers", Some(1.0)),
            ("returning_customers", Some(1.0)),
            ("new_revenue", Some(30.0)),
            ("returning_revenue", Some(25.0)),
            ("repeat_rate", Some(0.5)),
            ("revenue_mom", Some(55.0 / 140.0 - 1.0)),
            ("revenue_yoy", None),
        ],
    );
    // Day-level year on year: 364 days before 2024-01-14 is 2023-01-15 (o1's day).
    expect(&pick(&t, "day", day(2024, 1, 14), "all", None), &[("revenue_yoy", Some(-1.0))]);
    // Week on week: the week of 2023-01-16 against that of 2023-01-09 (o1).
    expect(&pick(&t, "week", day(2023, 1, 16), "all", None), &[("revenue_mom", Some(-1.0))]);
}

#[test]
fn store_rows_split_channels() {
    let p = BusinessParams::new().grains(vec![Grain::Month]).by_store(true).check().unwrap();
    let t = run(&case(), day(2024, 3, 1), &Calendar::utc(), &p);
    // all, app, web, (app, (none)), (web, S1), (web, S2).
    assert_eq!(t.height(), 14 * 6);
    let s1 = pick(&t, "month", day(2024, 1, 1), "web", Some("S1"));
    expect(&s1, &[("orders", Some(1.0)), ("revenue", Some(30.0)), ("gmv", Some(100.0))]);
    let s2 = pick(&t, "month", day(2024, 1, 1), "web", Some("S2"));
    expect(&s2, &[("orders", Some(0.0)), ("gmv", Some(70.0)), ("refunded_amount", Some(70.0))]);
    let s2 = pick(&t, "month", day(2024, 2, 1), "web", Some("S2"));
    expect(&s2, &[("new_customers", Some(1.0)), ("revenue", Some(30.0))]);
    let none = pick(&t, "month", day(2024, 1, 1), "app", Some(crate::business::NO_STORE));
    expect(&none, &[("revenue", Some(110.0))]);
}

#[test]
fn an_order_late_on_31_january_utc_is_a_february_order_in_shanghai() {
    use crate::business::testdata::O;
    let rows = [
        O("x1", "c9", "web", None, "completed", "2024-01-15T12:00:00Z", "USD", 5.0, 0.0, 5.0, 1),
        O("x2", "c9", "web", None, "completed", "2024-01-31T23:30:00Z", "USD", 10.0, 0.0, 10.0, 1),
    ];
    let p = BusinessParams::new().grains(vec![Grain::Month]).check().unwrap();
    let utc = run(&rows, day(2024, 2, 10), &Calendar::utc(), &p);
    expect(&pick(&utc, "month", day(2024, 1, 1), "all", None), &[("orders", Some(2.0)), ("revenue", Some(15.0))]);
    expect(&pick(&utc, "month", day(2024, 2, 1), "all", None), &[("orders", Some(0.0))]);
    let sh = Calendar::new("Asia/Shanghai").unwrap();
    let t = run(&rows, day(2024, 2, 10), &sh, &p);
    expect(&pick(&t, "month", day(2024, 1, 1), "all", None), &[("orders", Some(1.0)), ("revenue", Some(5.0))]);
    expect(
        &pick(&t, "month", day(2024, 2, 1), "all", None),
        &[
            ("orders", Some(1.0)),
            ("revenue", Some(10.0)),
            ("returning_customers", Some(1.0)),
            ("revenue_mom", Some(1.0)),
        ],
    );
}
