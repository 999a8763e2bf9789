//! Cell-level parsing: transforms, numbers, booleans, timestamps.
//!
//! Every function takes untrusted text and returns `Result<_, String>` (the reason that goes into
//! `rejects`); none panics on any input (see the property tests).

use crate::config::mapping::Transform;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;

/// Applies the transforms after trimming whitespace.
///
/// ## Example
/// ```
/// use custlens::config::mapping::Transform;
/// use custlens::ingest::parse::clean;
/// assert_eq!(clean(" =\"123\" ", &[Transform::StripExcelFormula]), "123");
/// assert_eq!(clean("'139", &[Transform::StripLeadingQuote]), "139");
/// assert_eq!(clean("¥12.5元", &[Transform::StripYuanSuffix]), "12.5");
/// ```
pub fn clean(raw: &str, transforms: &[Transform]) -> String {
    clean_str(raw, transforms).to_string()
}

/// [`clean`] without the copy: every transform removes a prefix, a suffix or the whole value, so
/// the result is a slice of the cell (one allocation per cell at most, made by the caller).
pub fn clean_str<'a>(raw: &'a str, transforms: &[Transform]) -> &'a str {
    let mut s = if visible_ascii_ends(raw) { raw } else { raw.trim_matches(|c: char| c.is_whitespace() && c != '\t') };
    for t in transforms {
        s = match t {
            Transform::StripExcelFormula => strip_excel_formula(s),
            Transform::StripLeadingQuote => s.strip_prefix('\'').unwrap_or(s),
            Transform::StripLeadingTab => s.trim_start_matches('\t'),
            Transform::StripYuanSuffix => {
                let x = s.trim_end_matches('元').trim();
                x.trim_start_matches(['¥', '￥']).trim()
            }
            Transform::ZeroAsEmpty => {
                if s == "0" {
                    ""
                } else {
                    s
                }
            }
        };
    }
    if visible_ascii_ends(s) {
        s
    } else {
        s.trim()
    }
}

/// Whether a text starts and ends with a visible ASCII character, so that trimming whitespace
/// leaves it as it is (most cells: the check spares decoding their end characters).
fn visible_ascii_ends(s: &str) -> bool {
    let visible = |b: u8| b > b' ' && b < 0x7f;
    matches!((s.as_bytes().first(), s.as_bytes().last()), (Some(&f), Some(&l)) if visible(f) && visible(l))
}

/// True for a masked personal value (`张**`, `jd_****7788`, `138****0000`, `j***@x.com`): platforms
/// hide buyers' data with asterisks, and a masked value is shared by many people, so it is never
/// a key (nor a name).
pub fn looks_masked(s: &str) -> bool {
    s.contains(['*', '＊'])
}

fn strip_excel_formula(s: &str) -> &str {
    s.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')).unwrap_or(s)
}

/// Parses an amount: optional sign, digits with an optional decimal point; `,` thousands
/// separators are accepted only in groups of three (`1,234.50`).
pub fn parse_money(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let plain: String = if t.contains(',') {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let groups: Vec<&str> = int.trim_start_matches(['-', '+']).split(',').collect();
        let ok = groups.len() > 1
            && !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(format!("`{s}` is not an amount"));
        }
        if frac.is_empty() {
            int.replace(',', "")
        } else {
            format!("{}.{frac}", int.replace(',', ""))
        }
    } else {
        t.to_string()
    };
    let valid = !plain.is_empty()
        && plain.trim_start_matches(['-', '+']).chars().all(|c| c.is_ascii_digit() || c == '.')
        && plain.chars().filter(|c| *c == '.').count() <= 1
        && plain.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return Err(format!("`{s}` is not an amount"));
    }
    plain.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("`{s}` is not an amount"))
}

/// Parses a whole number of units; `3.0` is accepted, `2.5` and `two` are not.
pub fn parse_count(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 => Ok(v as i64),
        _ => Err(format!("`{s}` is not a whole number")),
    }
}

/// Parses a yes/no cell: true/false, yes/no, y/n, 1/0, 是/否 (case-insensitive).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" | "subscribed" | "opted_in" => Ok(true),
        // Consent states of mailing tools: an unconfirmed (`pending`) or erased (`redacted`) state is not consent.
        "false" | "no" | "n" | "0" | "否" | "unsubscribed" | "not_subscribed" | "pending" | "redacted" | "invalid" => {
            Ok(false)
        }
        _ => Err(format!("`{s}` is not yes/no")),
    }
}

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

const OFFSET_FORMATS: &[&str] = &["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z"];

/// Parses a timestamp to microseconds since the epoch (UTC).
///
/// ## Method
/// With `format`, the cell must match it (with or without `%z`). Without, RFC 3339, `… %z`
/// offsets and common naive layouts are tried, then a bare date (midnight). Naive times are local
/// to `tz`; an ambiguous local time (DST fall-back) takes the earlier instant, a skipped one is an error.
pub fn parse_timestamp(s: &str, format: Option<&str>, tz: Tz) -> Result<i64, String> {
    let t = s.trim();
    let err = || match format {
        Some(f) => format!("`{s}` does not match date_format `{f}`"),
        None => format!("`{s}` is not a date/time"),
    };
    if let Some(unit) = format.and_then(|f| f.strip_prefix("epoch_")) {
        // Integer time since 1970-01-01 UTC: `epoch_s`, `epoch_ms`, `epoch_us` (GA4's event_timestamp).
        let n: i64 = t.parse().map_err(|_| err())?;
        let us = match unit {
            "s" => n.checked_mul(1_000_000),
            "ms" => n.checked_mul(1_000),
            "us" => Some(n),
            _ => None,
        };
        return us.filter(|u| (0..=253_402_300_799_000_000).contains(u)).ok_or_else(err);
    }
    if let Some(us) = quick_timestamp(t, format, tz) {
        return Ok(us);
    }
    if let Some(f) = format {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Ok(dt.with_timezone(&Utc).timestamp_micros());
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return localize(n, tz).ok_or_else(err);
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, tz)).ok_or_else(err);
        }
        return Err(err());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc).timestamp_micros());
    }
    for f in OFFSET_FORMATS {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Ok(dt.with_timezone(&Utc).timestamp_micros());
        }
    }
    for f in NAIVE_FORMATS {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return localize(n, tz).ok_or_else(err);
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, tz)).ok_or_else(err);
        }
    }
    Err(err())
}

/// Shopify's `date_format`, which the quick path also knows.
const SHOPIFY_FORMAT: &str = "%Y-%m-%d %H:%M:%S %z";

/// The most common layouts without chrono's format interpreter (which dominated ingest time):
/// `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]]`, then nothing (local time), ` ±HHMM`, or — after a `T`
/// and seconds — `Z`/`±HH:MM`. Only shapes the general path accepts with the same meaning are
/// taken (without `format`, or with Shopify's); anything else returns None and goes the long way.
fn quick_timestamp(t: &str, format: Option<&str>, tz: Tz) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0u32, |n, c| n * 10 + (c - b'0') as u32))
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let (mut sec, mut nanos, mut has_seconds, mut has_fraction) = (0, 0, false, false);
    if b.get(i) == Some(&b':') {
        sec = num(i + 1..i + 3)?;
        has_seconds = true;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = num(i + 1..i + 1 + digits)? * 10u32.pow(9 - digits as u32);
            has_fraction = true;
            i += 1 + digits;
        }
    }
    if sec >= 60 {
        return None; // leap seconds: the general path decides
    }
    let naive = date.and_hms_nano_opt(h, mi, sec, nanos)?;
    let rest = &b[i..];
    let offset = |sign: u8, hh: u32, mm: u32| -> Option<i64> {
        (hh < 24 && mm < 60).then(|| (if sign == b'-' { -1 } else { 1 }) * (hh * 3600 + mm * 60) as i64)
    };
    let utc = |off: i64| naive.and_utc().timestamp_micros() - off * 1_000_000;
    let shopify = format == Some(SHOPIFY_FORMAT);
    match rest {
        [] if format.is_none() && (has_seconds || !has_fraction) => localize(naive, tz),
        [b' ', sign @ (b'+' | b'-'), ..] if rest.len() == 6 && has_seconds && !has_fraction && b[10] == b' ' => {
            if format.is_some() && !shopify {
                return None;
            }
            Some(utc(offset(*sign, num(i + 2..i + 4)?, num(i + 4..i + 6)?)?))
        }
        [b'Z'] if format.is_none() && has_seconds && b[10] == b'T' => Some(utc(0)),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] if format.is_none() && has_seconds && b[10] == b'T' => {
            Some(utc(offset(*sign, num(i + 1..i + 3)?, num(i + 4..i + 6)?)?))
        }
        _ => None,
    }
}

fn localize(n: NaiveDateTime, tz: Tz) -> Option<i64> {
    tz.from_local_datetime(&n).earliest().map(|dt| dt.with_timezone(&Utc).timestamp_micros())
}

/// Parses the analysis date: RFC 3339 (taken as given) or `YYYY-MM-DD` (midnight in `tz`, the
/// run's `[analysis] timezone`), to microseconds.
pub fn parse_as_of(s: &str, tz: Tz) -> Result<i64, String> {
    parse_timestamp(s, None, tz)
        .map_err(|_| format!("`{s}` is not a timestamp; use RFC 3339 (2024-06-30T00:00:00Z) or a date (2024-06-30)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general path alone (the quick one bypassed), for comparison.
    fn slow(t: &str, format: Option<&str>, tz: Tz) -> Result<i64, String> {
        let mut s = String::from(" ");
        s.push_str(t); // a leading space skips the quick path; parse_timestamp trims it
        assert!(quick_timestamp(&s, format, tz).is_none());
        parse_timestamp(&s, format, tz)
    }

    #[test]
    fn quick_timestamps_equal_the_general_path() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let cases = [
            ("2024-03-05 10:11:12", None),
            ("2024-03-05T10:11:12.123456789", None),
            ("2024-03-05 10:11", None),
            ("2024-03-05T10:11", None),
            ("2024-03-05 10:11:12.5", None),
            ("2022-01-11 04:33:02 -0500", None),
            ("2022-01-11 04:33:02 -0500", Some(SHOPIFY_FORMAT)),
            ("2022-01-11T04:33:02Z", None),
            ("2022-01-11T04:33:02.25+08:00", None),
            ("2022-01-11T04:33:02-03:30", None),
        ];
        for (t, f) in cases {
            let q = quick_timestamp(t, f, tz);
            assert!(q.is_some(), "{t} takes the quick path");
            assert_eq!(q.map(Ok), Some(slow(t, f, tz)), "{t} {f:?}");
        }
        // Shapes left to the general path.
        for t in ["2024-02-30 10:00:00", "2024-03-05 10:11:60", "2024-03-05 10:11:12 +05:00", "2024-3-5 10:11"] {
            assert!(quick_timestamp(t, None, tz).is_none(), "{t}");
        }
        assert!(quick_timestamp("2024-03-05 10:11:12", Some("%Y-%m-%d %H:%M:%S"), tz).is_none());
    }

    proptest! {
        /// Any text: the quick path either declines or agrees with the general one.
        #[test]
        fn quick_path_never_disagrees(t in "20[0-9]{2}-[01][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-6][0-9](:[0-6][0-9](\\.[0-9]{1,10})?)?( ?[+-][0-9]{2}:?[0-9]{2}|Z)?") {
            let tz: Tz = "America/New_York".parse().unwrap();
            for f in [None, Some(SHOPIFY_FORMAT)] {
                if let Some(q) = quick_timestamp(&t, f, tz) {
                    prop_assert_eq!(Ok(q), slow(&t, f, tz), "{} {:?}", t, f);
                }
            }
        }
    }

    fn us(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap().timestamp_micros()
    }

    #[test]
    fn transforms() {
        let all = [
            Transform::StripExcelFormula,
            Transform::StripLeadingQuote,
            Transform::StripLeadingTab,
            Transform::StripYuanSuffix,
        ];
        assert_eq!(clean("0", &[Transform::ZeroAsEmpty]), "");
        assert_eq!(clean("10", &[Transform::ZeroAsEmpty]), "10");
        assert!(looks_masked("张**") && looks_masked("1******6198") && !looks_masked("tb_jane"));
        assert_eq!(clean("=\"\"", &all), "");
        assert_eq!(clean("=\"35153131473293579\"", &all), "35153131473293579");
        assert_eq!(clean("'13925130165", &all), "13925130165");
        assert_eq!(clean("\t12345", &all), "12345");
        assert_eq!(clean("128.00元", &all), "128.00");
        assert_eq!(clean("  plain  ", &[]), "plain");
        assert_eq!(clean("'keep", &[]), "'keep");
    }

    #[test]
    fn money() {
        assert_eq!(parse_money("95.40"), Ok(95.4));
        assert_eq!(parse_money("-3"), Ok(-3.0));
        assert_eq!(parse_money("1,234.50"), Ok(1234.5));
        assert!(parse_money("1,23.5").is_err());
        assert!(parse_money("12元").is_err());
        assert!(parse_money("").is_err());
        assert!(parse_money("1.2.3").is_err());
        assert!(parse_money("NaN").is_err());
    }

    #[test]
    fn counts_and_bools() {
        assert_eq!(parse_count("3"), Ok(3));
        assert_eq!(parse_count("3.0"), Ok(3));
        assert!(parse_count("2.5").is_err());
        assert!(parse_count("two").is_err());
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool("否"), Ok(false));
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn timestamps() {
        let sh = chrono_tz::Asia::Shanghai;
        assert_eq!(parse_timestamp("2022-01-11 04:32:31 -0500", None, sh), Ok(us(2022, 1, 11, 9, 32, 31)));
        assert_eq!(parse_timestamp("2017-06-17T08:04:21+00:00", None, sh), Ok(us(2017, 6, 17, 8, 4, 21)));
        assert_eq!(parse_timestamp("2017-07-08 00:42:32", None, sh), Ok(us(2017, 7, 7, 16, 42, 32)));
        assert_eq!(parse_timestamp("2024/03/05 14:22", Some("%Y/%m/%d %H:%M"), sh), Ok(us(2024, 3, 5, 6, 22, 0)));
        assert_eq!(parse_timestamp("2024-03-05", None, chrono_tz::UTC), Ok(us(2024, 3, 5, 0, 0, 0)));
        assert!(parse_timestamp("2024/13/45 10:00", None, sh).is_err());
        assert!(parse_timestamp("2024-03-05", Some("%d.%m.%Y"), sh).unwrap_err().contains("date_format"));
        // DST: 02:30 on 2024-03-10 does not exist in New York.
        assert!(parse_timestamp("2024-03-10 02:30:00", None, chrono_tz::America::New_York).is_err());
    }

    #[test]
    fn as_of() {
        assert_eq!(parse_as_of("2024-06-30", chrono_tz::UTC), Ok(us(2024, 6, 30, 0, 0, 0)));
        assert!(parse_as_of("tomorrow", chrono_tz::UTC).is_err());
        // A date is a midnight of the run's zone; an RFC 3339 instant is taken as given.
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(parse_as_of("2024-06-30", sh), Ok(us(2024, 6, 29, 16, 0, 0)));
        assert_eq!(parse_as_of("2024-06-30T00:00:00Z", sh), Ok(us(2024, 6, 30, 0, 0, 0)));
    }

    #[test]
    fn epoch_timestamps() {
        let tz = chrono_tz::UTC;
        assert_eq!(parse_timestamp("1682935200000000", Some("epoch_us"), tz), Ok(1_682_935_200_000_000));
        assert_eq!(parse_timestamp("1682935200000", Some("epoch_ms"), tz), Ok(1_682_935_200_000_000));
        assert_eq!(parse_timestamp("1682935200", Some("epoch_s"), tz), Ok(1_682_935_200_000_000));
        assert!(parse_timestamp("-5", Some("epoch_s"), tz).is_err());
        assert!(parse_timestamp("9223372036854775807", Some("epoch_s"), tz).is_err(), "overflow is an error");
        assert!(parse_timestamp("1.5", Some("epoch_s"), tz).is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = clean(&s, &[Transform::StripExcelFormula, Transform::StripLeadingQuote, Transform::StripLeadingTab, Transform::StripYuanSuffix, Transform::ZeroAsEmpty]);
            let _ = parse_money(&s);
            let _ = parse_count(&s);
            let _ = parse_bool(&s);
            let _ = parse_timestamp(&s, None, chrono_tz::Asia::Shanghai);
            let _ = parse_timestamp(&s, Some("%Y-%m-%d %H:%M:%S"), chrono_tz::UTC);
        }

        #[test]
        fn visible_ends_skip_trimming_only_when_it_changes_nothing(s in "[ \t\r\n\u{a0}\u{3000}a-z0-9~\u{7f}张]{0,8}") {
            let reference = s.trim_matches(|c: char| c.is_whitespace() && c != '\t').trim();
            prop_assert_eq!(clean_str(&s, &[]), reference);
        }

        #[test]
        fn money_roundtrips(cents in -10_000_000i64..10_000_000) {
            let text = format!("{}.{:02}", cents / 100, (cents % 100).abs());
            let text = if cents < 0 && cents > -100 { format!("-{}", text) } else { text };
            prop_assert!((parse_money(&text).unwrap() - cents as f64 / 100.0).abs() < 1e-9);
        }
    }
}
