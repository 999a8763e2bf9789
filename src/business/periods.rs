//! Periods of the business tables: days, ISO weeks and months of the run's calendar.
//!
//! ## Method
//! A period is named by an integer *index* that orders periods of one grain: a day by its day
//! number (local days since 1970-01-01, see [`crate::analytics::calendar`]), a week by the day
//! number of its Monday, a month by `12 · year + month − 1`. The previous period of the same
//! grain is index − 1 (weeks: − 7); the year-earlier one is the same month a year before
//! (index − 12) and, for days and weeks, 364 days before (52 weeks: the same weekday).
//! [`period_index`] computes indices in a polars expression, the rest in plain Rust
//! ([`period_table`] lists every period of a span, with its start date and whether it is
//! complete at `as_of`).

use super::params::Grain;
use crate::analytics::calendar::{date_day, day_date};
use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

/// The period index of a day-number expression (Int64) at `grain`.
pub fn period_index(grain: Grain, day: Expr) -> Expr {
    match grain {
        Grain::Day => day,
        // 1970-01-01 was a Thursday: Monday is 3 days earlier. The added multiple of 7 keeps the
        // remainder's operand positive for any date after year −2700.
        Grain::Week => day.clone() - ((day + lit(3 + 7 * 1_500_000i64)) % lit(7i64)),
        Grain::Month => {
            let d = day.cast(DataType::Int32).cast(DataType::Date);
            d.clone().dt().year().cast(DataType::Int64) * lit(12i64) + d.dt().month().cast(DataType::Int64) - lit(1i64)
        }
    }
}

/// The period index of day number `day` at `grain` (what [`period_index`] computes).
pub fn index_of_day(grain: Grain, day: i64) -> i64 {
    match grain {
        Grain::Day => day,
        Grain::Week => day - (day + 3).rem_euclid(7),
        Grain::Month => {
            let d = day_date(day);
            d.year() as i64 * 12 + d.month0() as i64
        }
    }
}

/// The first day (day number) of period `idx`.
pub fn start_day(grain: Grain, idx: i64) -> i64 {
    match grain {
        Grain::Day | Grain::Week => idx,
        Grain::Month => date_day(month_date(idx)),
    }
}

/// The day after period `idx` (its exclusive end).
pub fn end_day(grain: Grain, idx: i64) -> i64 {
    start_day(grain, next(grain, idx))
}

/// The index of the period after `idx`.
pub fn next(grain: Grain, idx: i64) -> i64 {
    match grain {
        Grain::Day | Grain::Month => idx + 1,
        Grain::Week => idx + 7,
    }
}

/// The index of the period before `idx` (month-on-month, week-on-week, day-on-day).
pub fn previous(grain: Grain, idx: i64) -> i64 {
    match grain {
        Grain::Day | Grain::Month => idx - 1,
        Grain::Week => idx - 7,
    }
}

/// The index of the year-earlier period: the same month a year before; 364 days (52 weeks)
/// before for days and weeks.
pub fn year_earlier(grain: Grain, idx: i64) -> i64 {
    match grain {
        Grain::Day | Grain::Week => idx - 364,
        Grain::Month => idx - 12,
    }
}

/// The first day of month index `idx`.
pub fn month_date(idx: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(idx.div_euclid(12) as i32, idx.rem_euclid(12) as u32 + 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Every period of each grain from the one holding `first_day` to the one holding `last_day`:
/// `grain` (String), `_p` (index), `period_start` (Date), `complete` (the period ends on or
/// before local day `as_of_day`, the day `as_of` falls in: `end ≤ as_of_day`), `_prev` and
/// `_yoy` (indices of the previous and year-earlier periods). Sorted by grain, then index.
pub fn period_table(grains: &[Grain], first_day: i64, last_day: i64, as_of_day: i64) -> PolarsResult<DataFrame> {
    let (mut g, mut p, mut start, mut complete, mut prev, mut yoy) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &grain in grains {
        let (mut i, last) = (index_of_day(grain, first_day), index_of_day(grain, last_day));
        while i <= last {
            g.push(grain.as_str());
            p.push(i);
            start.push(start_day(grain, i) as i32);
            complete.push(end_day(grain, i) <= as_of_day);
            prev.push(previous(grain, i));
            yoy.push(year_earlier(grain, i));
            i = next(grain, i);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("grain".into(), g),
        Column::new("_p".into(), p),
        Column::new("period_start".into(), start).cast(&DataType::Date)?,
        Column::new("complete".into(), complete),
        Column::new("_prev".into(), prev),
        Column::new("_yoy".into(), yoy),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        date_day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn expression_and_rust_indices_agree() {
        let days: Vec<i64> = (day(2019, 12, 20)..day(2021, 3, 10)).chain([-1000, -1, 0, 1]).collect();
        let df = DataFrame::new_infer_height(vec![Column::new("d".into(), days.clone())]).unwrap();
        for g in Grain::ALL {
            let out = df.clone().lazy().select([period_index(g, col("d")).alias("p")]).collect().unwrap();
            let got: Vec<i64> = out.column("p").unwrap().i64().unwrap().into_no_null_iter().collect();
            let want: Vec<i64> = days.iter().map(|d| index_of_day(g, *d)).collect();
            assert_eq!(got, want, "{g:?}");
        }
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2024-02-29 (a leap day) is a Thursday; its ISO week starts Monday 26 February.
        assert_eq!(index_of_day(Grain::Week, day(2024, 2, 29)), day(2024, 2, 26));
        assert_eq!(index_of_day(Grain::Week, day(2024, 2, 26)), day(2024, 2, 26));
        assert_eq!(index_of_day(Grain::Week, day(2024, 3, 3)), day(2024, 2, 26));
        let feb = index_of_day(Grain::Month, day(2024, 2, 29));
        assert_eq!(start_day(Grain::Month, feb), day(2024, 2, 1));
        assert_eq!(end_day(Grain::Month, feb), day(2024, 3, 1));
        // January's previous month is last December, its year-earlier month last January.
        let jan = index_of_day(Grain::Month, day(2024, 1, 15));
        assert_eq!(month_date(previous(Grain::Month, jan)), NaiveDate::from_ymd_opt(2023, 12, 1).unwrap());
        assert_eq!(month_date(year_earlier(Grain::Month, jan)), NaiveDate::from_ymd_opt(2023, 1, 1).unwrap());
        assert_eq!(year_earlier(Grain::Day, day(2024, 3, 1)), day(2023, 3, 3));
    }

    #[test]
    fn period_table_covers_the_span_and_marks_complete_periods() {
        // 2024-01-30 .. 2024-03-02, as_of = 2024-03-01 00:00: January and February complete.
        let t =
            period_table(&[Grain::Month, Grain::Week], day(2024, 1, 30), day(2024, 2, 29), day(2024, 3, 1)).unwrap();
        let grains: Vec<&str> = t.column("grain").unwrap().str().unwrap().iter().flatten().collect();
        let complete: Vec<bool> = t.column("complete").unwrap().bool().unwrap().iter().flatten().collect();
        assert_eq!(grains, ["month", "month", "week", "week", "week", "week", "week"]);
        // Weeks from Monday 29 January to Monday 26 February (ends 4 March: incomplete).
        assert_eq!(complete, [true, true, true, true, true, true, false]);
        let starts = t.column("period_start").unwrap().cast(&DataType::Int32).unwrap();
        let starts: Vec<i32> = starts.i32().unwrap().into_no_null_iter().collect();
        assert_eq!(starts[0] as i64, day(2024, 1, 1));
        assert_eq!(starts[2] as i64, day(2024, 1, 29));
    }
}
