//! The run's calendar: the time zone whose midnights bound every day of the analysis.
//!
//! ## Method
//! `[analysis] timezone` (an IANA name, default `UTC`) decides which *local day* an instant
//! belongs to: features (purchase days, recency, tenure), RFM (through the features), CLV's daily
//! summaries and every business period. A local day is numbered like a UTC day number — days
//! since 1970-01-01 — but of the local date: `day = floor((µs + offset(µs)) / 86 400 000 000)`,
//! where `offset(µs)` is the zone's UTC offset at that instant (DST included).
//!
//! With UTC (the default) the day expression is the plain [`super::day_of`], so the outputs are
//! the ones of a run without a calendar. Other zones compute each row's offset with `chrono-tz`
//! in a column function: polars can convert time zones itself only with its `timezones` feature,
//! which pulls in another copy of the zone database and costs CI build minutes, while the offset
//! lookup here is a binary search in `chrono-tz`'s table (tens of nanoseconds a row).
//!
//! `--as-of DATE` and the default `as_of` are local midnights ([`Calendar::midnight`]); a
//! midnight that a DST change skips is the first instant of that local day.

use super::{day_of, DAY_US};
use chrono::{Datelike, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use polars::prelude::*;

/// The time zone of the run's day boundaries. `Calendar::default()` is UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Calendar {
    /// None: UTC, the plain day arithmetic.
    tz: Option<Tz>,
}

/// Days from 0001-01-01 (chrono's `num_days_from_ce` of 1970-01-01 is 719 163).
const EPOCH_CE_DAYS: i64 = 719_163;

impl Calendar {
    /// UTC days.
    pub fn utc() -> Self {
        Calendar { tz: None }
    }

    /// The calendar of an IANA zone name (`UTC`, `Asia/Shanghai`, `America/New_York`, …).
    pub fn new(name: &str) -> Result<Self, String> {
        if name == "UTC" {
            return Ok(Calendar::utc());
        }
        name.parse::<Tz>().map(|tz| Calendar { tz: Some(tz) }).map_err(|_| {
            format!(
                "`{name}` is not an IANA time zone name; use e.g. UTC, Asia/Shanghai, Europe/Berlin, America/New_York"
            )
        })
    }

    /// The zone (UTC for the default calendar).
    pub fn tz(&self) -> Tz {
        self.tz.unwrap_or(Tz::UTC)
    }

    /// The zone's UTC offset at instant `us`, in µs.
    pub fn offset_us(&self, us: i64) -> i64 {
        match self.tz {
            None => 0,
            Some(tz) => offset_us(tz, us),
        }
    }

    /// The local day number of instant `us` (µs since the epoch).
    pub fn day_of(&self, us: i64) -> i64 {
        (us + self.offset_us(us)).div_euclid(DAY_US)
    }

    /// The local day number of a timestamp (or Int64 µs) column, as Int64.
    pub fn day(&self, c: Expr) -> Expr {
        match self.tz {
            None => day_of(c),
            Some(tz) => c.cast(DataType::Int64).map(
                move |s| {
                    let ca = s.i64()?;
                    let out: Int64Chunked = ca.apply_values(|us| (us + offset_us(tz, us)).div_euclid(DAY_US));
                    Ok(out.into_column())
                },
                |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
            ),
        }
    }

    /// The instant (µs) at which local day `day` starts: its midnight, or, when a DST change
    /// skips midnight, the first instant of the day; of two midnights (clocks set back over
    /// midnight), the earlier.
    pub fn midnight(&self, day: i64) -> i64 {
        let Some(tz) = self.tz else { return day * DAY_US };
        let naive = day_date(day).and_hms_opt(0, 0, 0).expect("midnight exists");
        if let Some(t) = tz.from_local_datetime(&naive).earliest() {
            return t.timestamp_micros();
        }
        // Skipped midnight: the day starts at the transition, the first instant whose local day
        // is `day`. Offsets change by at most a day, so search the instants around UTC midnight.
        let (mut lo, mut hi) = (day * DAY_US - DAY_US, day * DAY_US + DAY_US);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.day_of(mid) >= day {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// `LazyFrame` with `created_at` replaced by its local wall-clock time tagged as UTC, so that
    /// UTC-day arithmetic downstream (CLV's daily summaries) counts local days. The identity for
    /// UTC.
    pub fn wall_clock(&self, lf: LazyFrame) -> LazyFrame {
        match self.tz {
            None => lf,
            Some(tz) => lf.with_column(
                col("created_at")
                    .cast(DataType::Int64)
                    .map(
                        move |s| {
                            let ca = s.i64()?;
                            let out: Int64Chunked = ca.apply_values(|us| us + offset_us(tz, us));
                            Ok(out.into_column())
                        },
                        |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
                    )
                    .cast(DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC)))
                    .alias("created_at"),
            ),
        }
    }
}

fn offset_us(tz: Tz, us: i64) -> i64 {
    match chrono::DateTime::from_timestamp_micros(us) {
        Some(t) => tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() as i64 * 1_000_000,
        None => 0,
    }
}

/// The date of a day number (days since 1970-01-01).
pub fn day_date(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + EPOCH_CE_DAYS) as i32).unwrap_or(NaiveDate::MIN)
}

/// The day number of a date.
pub fn date_day(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64 - EPOCH_CE_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    fn days(cal: &Calendar, ts: &[i64]) -> Vec<i64> {
        let df = DataFrame::new_infer_height(vec![Column::new("t".into(), ts.to_vec())]).unwrap();
        let out = df.lazy().select([cal.day(col("t")).alias("d")]).collect().unwrap();
        out.column("d").unwrap().i64().unwrap().into_no_null_iter().collect()
    }

    #[test]
    fn utc_is_the_plain_day_number() {
        let ts = [-1, 0, DAY_US - 1, DAY_US, 19_753 * DAY_US + 5, -3 * DAY_US - 7];
        let want: Vec<i64> = ts.iter().map(|t| t.div_euclid(DAY_US)).collect();
        assert_eq!(days(&Calendar::utc(), &ts), want);
        // A zone with no offset through the general path gives the same days.
        assert_eq!(days(&Calendar::new("Etc/UTC").unwrap(), &ts), want);
        assert_eq!(Calendar::new("UTC").unwrap(), Calendar::utc());
    }

    #[test]
    fn shanghai_moves_late_evening_utc_to_the_next_day() {
        let cal = Calendar::new("Asia/Shanghai").unwrap();
        let t = us("2024-01-31T23:30:00Z");
        let feb1 = date_day(NaiveDate::from_ymd_opt(2024, 2, 1).unwrap());
        assert_eq!(Calendar::utc().day_of(t), feb1 - 1);
        assert_eq!(cal.day_of(t), feb1);
        assert_eq!(days(&cal, &[t, us("2024-01-31T15:59:59Z")]), vec![feb1, feb1 - 1]);
        assert_eq!(cal.midnight(feb1), us("2024-01-31T16:00:00Z"));
    }

    #[test]
    fn new_york_follows_daylight_saving() {
        let cal = Calendar::new("America/New_York").unwrap();
        // EST (−5 h) in January, EDT (−4 h) in July.
        let jan = date_day(NaiveDate::from_ymd_opt(2024, 1, 10).unwrap());
        let jul = date_day(NaiveDate::from_ymd_opt(2024, 7, 10).unwrap());
        assert_eq!(cal.midnight(jan), us("2024-01-10T05:00:00Z"));
        assert_eq!(cal.midnight(jul), us("2024-07-10T04:00:00Z"));
        assert_eq!(days(&cal, &[us("2024-07-10T03:59:59Z"), us("2024-07-10T04:00:00Z")]), vec![jul - 1, jul]);
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_change() {
        // Santiago sets clocks forward at 24:00 on the first Saturday of September 2024
        // (2024-09-08 00:00 −04 does not exist; the day starts at 01:00 −03 = 04:00 UTC).
        let cal = Calendar::new("America/Santiago").unwrap();
        let d = date_day(NaiveDate::from_ymd_opt(2024, 9, 8).unwrap());
        let m = cal.midnight(d);
        assert_eq!(m, us("2024-09-08T04:00:00Z"));
        assert_eq!(cal.day_of(m), d);
        assert_eq!(cal.day_of(m - 1), d - 1);
    }

    #[test]
    fn wall_clock_shifts_created_at_by_the_offset() {
        let cal = Calendar::new("Asia/Shanghai").unwrap();
        let df = crate::clv::summary::orders_frame(["a"], vec![us("2024-01-31T23:30:00Z")], vec![1.0]).unwrap();
        let out = cal.wall_clock(df.clone().lazy()).collect().unwrap();
        let t = out.column("created_at").unwrap().cast(&DataType::Int64).unwrap();
        assert_eq!(t.i64().unwrap().get(0), Some(us("2024-02-01T07:30:00Z")));
        assert_eq!(Calendar::utc().wall_clock(df.clone().lazy()).collect().unwrap(), df);
    }

    #[test]
    fn unknown_zone_is_an_error() {
        assert!(Calendar::new("Mars/Olympus").unwrap_err().contains("IANA"));
    }

    #[test]
    fn day_numbers_and_dates_round_trip() {
        let d = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(date_day(d), 0);
        assert_eq!(day_date(19_782), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        for day in [-800, -1, 0, 59, 11_016, 19_782] {
            assert_eq!(date_day(day_date(day)), day);
        }
    }
}
