//! Wall-clock time as core sees it: a count of seconds the caller read from its own clock.
//!
//! core reads no clock (see `core/clippy.toml`), so every date it prints comes from a
//! [`UnixTime`] passed in. The calendar arithmetic is Howard Hinnant's `days_from_civil` /
//! `civil_from_days` (proleptic Gregorian, exact for every `i64` day count), written out here
//! rather than pulled from a date crate: two dates formats are all pveproxy needs.

use std::fmt::Write as _;
use std::ops::Add;
use std::time::Duration;

const SECS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in Hinnant's era arithmetic.
const EPOCH_SHIFT: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;
/// Years accepted by [`UnixTime::from_utc`]: wide enough for anything real, narrow enough that
/// the seconds never overflow an `i64`.
const YEAR_LIMIT: i64 = 1_000_000_000;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Wall-clock time as whole seconds since the Unix epoch, always passed in by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// The instant of a UTC calendar date and time, or `None` when a field is out of range
    /// (month 1–12, the month's real day count, 0–23 h, 0–59 min, 0–59 s: no leap seconds, as
    /// Unix time has none) or the year is beyond ±10⁹.
    pub fn from_utc(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<UnixTime> {
        let valid = year.abs() <= YEAR_LIMIT
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        Some(UnixTime(days * SECS_PER_DAY + secs))
    }

    /// IMF-fixdate for Date/Expires: "Tue, 24 Nov 2026 21:30:00 GMT".
    pub fn http_date(self) -> String {
        let c = Civil::at(self.0);
        let mut out = String::with_capacity(29);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[c.weekday],
            c.day,
            MONTHS[c.month_index()],
            c.year,
            c.hour,
            c.minute,
            c.second
        );
        out
    }

    /// Proxmox access-log date, numeric month, with the given UTC offset: "24/11/2026:22:30:00
    /// +0100". The offset is the caller's local offset at this instant (strftime's `%z`); like
    /// `%z` it shows hours and minutes and drops leftover seconds.
    pub fn access_log_date(self, utc_offset_secs: i32) -> String {
        let c = Civil::at(self.0.saturating_add(i64::from(utc_offset_secs)));
        let sign = if utc_offset_secs < 0 { '-' } else { '+' };
        let offset = i64::from(utc_offset_secs).abs();
        let mut out = String::with_capacity(26);
        let _ = write!(
            out,
            "{:02}/{:02}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}",
            c.day,
            c.month,
            c.year,
            c.hour,
            c.minute,
            c.second,
            sign,
            offset / 3600,
            offset % 3600 / 60
        );
        out
    }
}

/// A broken-down UTC (or offset-shifted) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    /// 0 = Sunday.
    weekday: usize,
}

impl Civil {
    fn at(secs: i64) -> Civil {
        let days = secs.div_euclid(SECS_PER_DAY);
        let in_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60,
            // 1970-01-01 was a Thursday; rem_euclid keeps it in 0..7.
            weekday: (days.rem_euclid(7) as usize + 4) % 7,
        }
    }

    fn month_index(self) -> usize {
        (self.month as usize).saturating_sub(1) % 12
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`). The year
/// must be within ±[`YEAR_LIMIT`] and the month 1–12.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Years start in March, so the leap day is the last day of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * DAYS_PER_ERA + doe - EPOCH_SHIFT
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
/// Exact for every day an `i64` of seconds can reach.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + EPOCH_SHIFT;
    let era = z.div_euclid(DAYS_PER_ERA);
    let doe = z - era * DAYS_PER_ERA; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A point on a monotonic clock, as the time since an origin its driver chose (the driver's
/// start): what core's state machines take as `now`. They compare such points and add durations
/// to them; only the driver reads a clock, and turns its instants into these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Monotonic(pub Duration);

impl Monotonic {
    /// The driver's origin.
    pub const ZERO: Monotonic = Monotonic(Duration::ZERO);

    /// `self + duration`, `None` past the end of time.
    pub fn checked_add(self, duration: Duration) -> Option<Monotonic> {
        self.0.checked_add(duration).map(Monotonic)
    }

    /// How long after `earlier` this is; zero when it is not after it.
    pub fn saturating_duration_since(self, earlier: Monotonic) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Monotonic {
    type Output = Monotonic;

    /// Saturates at the end of time instead of overflowing.
    fn add(self, duration: Duration) -> Monotonic {
        Monotonic(self.0.saturating_add(duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> UnixTime {
        UnixTime::from_utc(y, mo, d, h, mi, s).expect("valid test date")
    }

    #[test]
    fn epoch_is_thursday_first_of_january_1970() {
        assert_eq!(UnixTime(0).http_date(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(utc(1970, 1, 1, 0, 0, 0), UnixTime(0));
        assert_eq!(UnixTime(-1).http_date(), "Wed, 31 Dec 1969 23:59:59 GMT");
    }

    #[test]
    fn http_date_known_values() {
        // Values cross-checked with `date -u -d @N`.
        assert_eq!(
            UnixTime(1_795_555_800).http_date(),
            "Tue, 24 Nov 2026 21:30:00 GMT"
        );
        assert_eq!(
            UnixTime(784_111_777).http_date(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            UnixTime(1_000_000_000).http_date(),
            "Sun, 09 Sep 2001 01:46:40 GMT"
        );
        assert_eq!(
            UnixTime(951_782_400).http_date(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }

    #[test]
    fn after_2038() {
        assert_eq!(
            UnixTime(i64::from(i32::MAX)).http_date(),
            "Tue, 19 Jan 2038 03:14:07 GMT"
        );
        assert_eq!(
            UnixTime(i64::from(i32::MAX) + 1).http_date(),
            "Tue, 19 Jan 2038 03:14:08 GMT"
        );
        assert_eq!(
            UnixTime(4_102_444_800).http_date(),
            "Fri, 01 Jan 2100 00:00:00 GMT"
        );
        assert_eq!(
            UnixTime(253_402_300_799).http_date(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn leap_years() {
        // 2024 leap, 2100 not (century), 2000 leap (400), 1900 not.
        assert_eq!(
            utc(2024, 2, 29, 12, 0, 0).http_date(),
            "Thu, 29 Feb 2024 12:00:00 GMT"
        );
        assert_eq!(
            utc(2024, 3, 1, 0, 0, 0).0 - utc(2024, 2, 28, 0, 0, 0).0,
            2 * SECS_PER_DAY
        );
        assert_eq!(
            utc(2100, 3, 1, 0, 0, 0).0 - utc(2100, 2, 28, 0, 0, 0).0,
            SECS_PER_DAY
        );
        assert_eq!(UnixTime::from_utc(2100, 2, 29, 0, 0, 0), None);
        assert_eq!(UnixTime::from_utc(1900, 2, 29, 0, 0, 0), None);
        assert!(UnixTime::from_utc(2000, 2, 29, 0, 0, 0).is_some());
        assert_eq!(
            utc(1900, 3, 1, 0, 0, 0).http_date(),
            "Thu, 01 Mar 1900 00:00:00 GMT"
        );
    }

    #[test]
    fn round_trips_every_day_over_eight_centuries() {
        // Both directions of the algorithm, and the weekday, day by day across 1600–2400.
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        let mut expected = (1600, 1, 1);
        for days in start..=end {
            let (y, m, d) = civil_from_days(days);
            assert_eq!((y, m, d), expected, "day {days}");
            assert_eq!(days_from_civil(y, m, d), days);
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        // 1600-01-01 was a Saturday.
        assert_eq!(Civil::at(start * SECS_PER_DAY).weekday, 6);
    }

    #[test]
    fn from_utc_refuses_out_of_range_fields() {
        assert_eq!(UnixTime::from_utc(2026, 0, 1, 0, 0, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 4, 31, 0, 0, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 4, 0, 0, 0, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 4, 1, 24, 0, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 4, 1, 0, 60, 0), None);
        assert_eq!(UnixTime::from_utc(2026, 4, 1, 0, 0, 60), None);
        assert_eq!(UnixTime::from_utc(YEAR_LIMIT + 1, 1, 1, 0, 0, 0), None);
        assert!(UnixTime::from_utc(-YEAR_LIMIT, 1, 1, 0, 0, 0).is_some());
    }

    #[test]
    fn access_log_date_with_offsets() {
        let t = utc(2026, 11, 24, 21, 30, 0);
        assert_eq!(t.access_log_date(3600), "24/11/2026:22:30:00 +0100");
        assert_eq!(t.access_log_date(0), "24/11/2026:21:30:00 +0000");
        // Marquesas, -09:30: the date goes back with the offset.
        let early = utc(2026, 1, 1, 5, 0, 0);
        assert_eq!(early.access_log_date(-34_200), "31/12/2025:19:30:00 -0930");
        // Chatham, +13:45 in summer: into the next day and year.
        let late = utc(2026, 12, 31, 11, 0, 0);
        assert_eq!(late.access_log_date(49_500), "01/01/2027:00:45:00 +1345");
        // Seconds in an offset are dropped from the text, as strftime's %z does.
        assert_eq!(t.access_log_date(-61), "24/11/2026:21:28:59 -0001");
    }

    #[test]
    fn extremes_never_panic() {
        for secs in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let t = UnixTime(secs);
            assert!(t.http_date().ends_with(" GMT"));
            for offset in [i32::MIN, -1, 0, 1, i32::MAX] {
                assert!(!t.access_log_date(offset).is_empty());
            }
        }
    }
}
