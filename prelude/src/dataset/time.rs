//! CF times: "days since 1850-01-01" in a calendar, decoded to dates and back, and date labels
//! ("2020", "2020-03", "2020-03-01", "2020-03-01T12:00") as the half-open period they name,
//! like pandas' partial-string indexing.

use crate::error::{Error, Result};
use std::fmt;

/// A CF calendar (the `calendar` attribute of a time variable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calendar {
    /// `standard` / `gregorian`: Julian before 1582-10-15, Gregorian from then on.
    Standard,
    /// `proleptic_gregorian`: Gregorian rules for every year (what numpy and pandas use).
    ProlepticGregorian,
    /// `noleap` / `365_day`: no February 29.
    NoLeap,
    /// `all_leap` / `366_day`: a February 29 every year.
    AllLeap,
    /// `360_day`: twelve months of 30 days.
    Day360,
    /// `julian`: a leap year every 4 years.
    Julian,
}

const CALENDARS: &str = "standard, gregorian, proleptic_gregorian, noleap, 365_day, all_leap, 366_day, 360_day, julian";

impl Calendar {
    /// The calendar of a CF name (case-insensitive; missing means `standard`).
    pub fn parse(name: &str) -> Result<Calendar> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "" | "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "noleap" | "365_day" => Calendar::NoLeap,
            "all_leap" | "366_day" => Calendar::AllLeap,
            "360_day" => Calendar::Day360,
            "julian" => Calendar::Julian,
            other => return Err(Error::invalid(format!("unknown calendar '{other}'; CF calendars are {CALENDARS}"))),
        })
    }

    /// The CF name.
    pub fn name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
            Calendar::Julian => "julian",
        }
    }

    fn month_days(self, year: i64, month: u32) -> u32 {
        let gregorian_leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let leap = match self {
            Calendar::Day360 => return 30,
            Calendar::NoLeap => false,
            Calendar::AllLeap => true,
            Calendar::Julian => year % 4 == 0,
            Calendar::ProlepticGregorian => gregorian_leap,
            Calendar::Standard if year < 1582 => year % 4 == 0,
            Calendar::Standard => gregorian_leap,
        };
        fixed_month_days(month, leap)
    }

    /// A day number: consecutive days get consecutive numbers (Julian Day Numbers for the
    /// real-world calendars, days since year 0 for the model calendars).
    fn day_number(self, y: i64, m: u32, d: u32) -> i64 {
        let month_start = |leap: bool| (1..m).map(|k| i64::from(fixed_month_days(k, leap))).sum::<i64>();
        match self {
            Calendar::NoLeap => y * 365 + month_start(false) + i64::from(d) - 1,
            Calendar::AllLeap => y * 366 + month_start(true) + i64::from(d) - 1,
            Calendar::Day360 => y * 360 + i64::from(m - 1) * 30 + i64::from(d) - 1,
            Calendar::Julian => jdn(y, m, d, false),
            Calendar::ProlepticGregorian => jdn(y, m, d, true),
            Calendar::Standard => jdn(y, m, d, (y, m, d) >= (1582, 10, 15)),
        }
    }

    fn date_of(self, n: i64) -> (i64, u32, u32) {
        let from_year_start = |year_len: i64, leap: bool| {
            let (y, mut rest) = (n.div_euclid(year_len), n.rem_euclid(year_len));
            let mut m = 1;
            loop {
                let len = i64::from(fixed_month_days(m, leap));
                if rest < len || m == 12 {
                    return (y, m, rest as u32 + 1);
                }
                rest -= len;
                m += 1;
            }
        };
        match self {
            Calendar::NoLeap => from_year_start(365, false),
            Calendar::AllLeap => from_year_start(366, true),
            Calendar::Day360 => {
                let (y, r) = (n.div_euclid(360), n.rem_euclid(360));
                (y, (r / 30) as u32 + 1, (r % 30) as u32 + 1)
            }
            Calendar::Julian => civil(n, false),
            Calendar::ProlepticGregorian => civil(n, true),
            // 2299161 is 1582-10-15 (Gregorian), the day after 1582-10-04 (Julian).
            Calendar::Standard => civil(n, n >= 2_299_161),
        }
    }
}

/// Days in a month of a calendar whose years are all leap or all not.
fn fixed_month_days(month: u32, leap: bool) -> u32 {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    DAYS[month as usize - 1] + u32::from(month == 2 && leap)
}

/// Julian Day Number of a date in the Gregorian or Julian calendar (Fliegel–Van Flandern).
fn jdn(y: i64, m: u32, d: u32, gregorian: bool) -> i64 {
    let a = (14 - i64::from(m)) / 12;
    let (yy, mm) = (y + 4800 - a, i64::from(m) + 12 * a - 3);
    let base = i64::from(d) + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4);
    if gregorian {
        base - yy.div_euclid(100) + yy.div_euclid(400) - 32045
    } else {
        base - 32083
    }
}

/// The date of a Julian Day Number (Richards' algorithm).
fn civil(n: i64, gregorian: bool) -> (i64, u32, u32) {
    let (b, c) = if gregorian {
        let a = n + 32044;
        let b = (4 * a + 3).div_euclid(146_097);
        (b, a - (146_097 * b).div_euclid(4))
    } else {
        (0, n + 32082)
    };
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2) / 153;
    let day = (e - (153 * m + 2) / 5 + 1) as u32;
    let month = (m + 3 - 12 * (m / 10)) as u32;
    (100 * b + d - 4800 + m / 10, month, day)
}

/// A date and time in some calendar (to the microsecond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CfDate {
    /// Year (astronomical: 0 is 1 BC).
    pub year: i64,
    /// Month 1-12.
    pub month: u32,
    /// Day of the month from 1.
    pub day: u32,
    /// Microseconds since midnight.
    pub micros: i64,
}

const DAY_US: i64 = 86_400_000_000;

impl fmt::Display for CfDate {
    /// `2020-03-01`, or `2020-03-01T06:00:00` when there is a time of day.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if self.micros != 0 {
            let s = self.micros / 1_000_000;
            write!(f, "T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
            if self.micros % 1_000_000 != 0 {
                write!(f, ".{:06}", self.micros % 1_000_000)?;
            }
        }
        Ok(())
    }
}

impl CfDate {
    /// ISO 8601 with the time always shown, as `datetime.isoformat()` writes it.
    pub fn iso(&self) -> String {
        if self.micros == 0 {
            format!("{self}T00:00:00")
        } else {
            self.to_string()
        }
    }
}

/// How a period label was given: its precision sets where the period ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Precision {
    Year,
    Month,
    Day,
    Second,
}

/// Parse `Y[-M[-D[( |T)H:M[:S[.f]]]]]` (optionally ending in `Z` or `+00:00`) in `cal`.
fn parse_label(text: &str, cal: Calendar) -> Result<(CfDate, Precision)> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "cannot read '{text}' as a date ({why}); write e.g. 2020, 2020-03, 2020-03-01 or 2020-03-01T06:00"
        ))
    };
    let t = text.trim().trim_end_matches('Z').trim_end_matches("+00:00").trim_end_matches(" UTC");
    let (date, time) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let (neg, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad("not a number"));
    let year = num(parts[0])? * if neg { -1 } else { 1 };
    let month = parts.get(1).map(|s| num(s)).transpose()?.unwrap_or(1);
    let day = parts.get(2).map(|s| num(s)).transpose()?.unwrap_or(1);
    if parts.len() > 3 || !(1..=12).contains(&month) {
        return Err(bad("month out of 1-12"));
    }
    if day < 1 || day > i64::from(cal.month_days(year, month as u32)) {
        return Err(bad(&format!("no such day in the {} calendar", cal.name())));
    }
    let mut precision = [Precision::Year, Precision::Month, Precision::Day][parts.len() - 1];
    let mut micros = 0;
    if let Some(time) = time.filter(|s| !s.is_empty()) {
        let hms: Vec<&str> = time.split(':').collect();
        let h = num(hms[0])?;
        let m = hms.get(1).map(|s| num(s)).transpose()?.unwrap_or(0);
        let s: f64 = hms.get(2).map(|s| s.parse::<f64>().map_err(|_| bad("bad seconds"))).transpose()?.unwrap_or(0.0);
        if hms.len() > 3 || !(0..24).contains(&h) || !(0..60).contains(&m) || !(0.0..61.0).contains(&s) {
            return Err(bad("time of day out of range"));
        }
        micros = (h * 3600 + m * 60) * 1_000_000 + (s * 1e6).round() as i64;
        precision = Precision::Second;
    }
    Ok((CfDate { year, month: month as u32, day: day as u32, micros }, precision))
}

/// CF time units: a unit, a reference date and a calendar (`"days since 1850-01-01"`).
#[derive(Clone, Debug, PartialEq)]
pub struct TimeUnits {
    unit_us: f64,
    unit: String,
    reference: CfDate,
    ref_day: i64,
    calendar: Calendar,
}

impl TimeUnits {
    /// Units like `"hours since 2000-01-01 00:00:00"` in a calendar.
    pub fn parse(units: &str, calendar: Calendar) -> Result<TimeUnits> {
        let Some((unit, since)) = units.split_once(" since ") else {
            return Err(Error::invalid(format!("'{units}' are not CF time units; write e.g. 'days since 2000-01-01'")));
        };
        let unit = unit.trim().to_ascii_lowercase();
        let unit_us = match unit.as_str() {
            "days" | "day" | "d" => 86_400e6,
            "hours" | "hour" | "hr" | "h" => 3_600e6,
            "minutes" | "minute" | "min" => 60e6,
            "seconds" | "second" | "sec" | "s" => 1e6,
            "milliseconds" | "millisecond" | "ms" => 1e3,
            "microseconds" | "microsecond" | "us" => 1.0,
            other => {
                return Err(Error::invalid(format!(
                    "time unit '{other}' in '{units}' is not supported (months and years have no fixed length); use days, hours, minutes, seconds, milliseconds or microseconds"
                )))
            }
        };
        let (reference, _) = parse_label(since, calendar)?;
        let ref_day = calendar.day_number(reference.year, reference.month, reference.day);
        Ok(TimeUnits { unit_us, unit, reference, ref_day, calendar })
    }

    /// The time units a variable's CF attributes give (`units` "… since …" and `calendar`,
    /// `standard` when missing): `None` when the units are not a time's.
    pub(crate) fn from_attrs(attrs: &serde_json::Map<String, serde_json::Value>) -> Option<Result<TimeUnits>> {
        let units = attrs.get("units").and_then(|u| u.as_str()).filter(|u| u.contains(" since "))?;
        let calendar = attrs.get("calendar").and_then(|c| c.as_str()).unwrap_or("standard");
        Some(Calendar::parse(calendar).and_then(|c| TimeUnits::parse(units, c)))
    }

    /// The calendar.
    pub fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// The units as CF writes them (`days since 1850-01-01`).
    pub fn units(&self) -> String {
        format!("{} since {}", self.unit, self.reference.iso().replace('T', " "))
    }

    /// The date `value` units after the reference (`None` for NaN or out of range).
    pub fn decode(&self, value: f64) -> Option<CfDate> {
        let offset = value * self.unit_us;
        if !offset.is_finite() || offset.abs() > 1e20 {
            return None;
        }
        let us = self.reference.micros + offset.round() as i64;
        let (y, m, d) = self.calendar.date_of(self.ref_day + us.div_euclid(DAY_US));
        Some(CfDate { year: y, month: m, day: d, micros: us.rem_euclid(DAY_US) })
    }

    /// `date` in these units (the inverse of `decode`).
    pub fn encode(&self, date: &CfDate) -> f64 {
        let days = self.calendar.day_number(date.year, date.month, date.day) - self.ref_day;
        let us = days as f64 * DAY_US as f64 + (date.micros - self.reference.micros) as f64;
        us / self.unit_us
    }

    /// The half-open period a label names, in these units: `"2020-03"` is
    /// `[2020-03-01, 2020-04-01)`, `"2020-03-01T06:00"` one second.
    pub fn period(&self, label: &str) -> Result<(f64, f64)> {
        let (start, precision) = parse_label(label, self.calendar)?;
        let cal = self.calendar;
        let end = match precision {
            Precision::Year => CfDate { year: start.year + 1, ..start },
            Precision::Month if start.month == 12 => CfDate { year: start.year + 1, month: 1, ..start },
            Precision::Month => CfDate { month: start.month + 1, ..start },
            Precision::Day => {
                let (year, month, day) = cal.date_of(cal.day_number(start.year, start.month, start.day) + 1);
                CfDate { year, month, day, micros: 0 }
            }
            Precision::Second => return Ok((self.encode(&start), self.encode(&start) + 1e6 / self.unit_us)),
        };
        Ok((self.encode(&start), self.encode(&end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(u: &str, cal: &str) -> TimeUnits {
        TimeUnits::parse(u, Calendar::parse(cal).unwrap()).unwrap()
    }

    #[test]
    fn day_numbers_round_trip_in_every_calendar() {
        for cal in ["standard", "proleptic_gregorian", "noleap", "all_leap", "360_day", "julian"] {
            let c = Calendar::parse(cal).unwrap();
            let start = c.day_number(1500, 1, 1);
            for n in start..start + 200_000 {
                let (y, m, d) = c.date_of(n);
                assert!(d >= 1 && d <= c.month_days(y, m), "{cal} {n}: {y}-{m}-{d}");
                assert_eq!(c.day_number(y, m, d), n, "{cal}: {y}-{m}-{d}");
            }
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(units("days since 1970-01-01", "standard").decode(18262.0).unwrap().to_string(), "2020-01-01");
        // The Gregorian reform: the day after 1582-10-04 is 1582-10-15 in the standard calendar.
        let std = units("days since 1582-10-04", "standard");
        assert_eq!(std.decode(1.0).unwrap().to_string(), "1582-10-15");
        assert_eq!(
            units("days since 1582-10-04", "proleptic_gregorian").decode(1.0).unwrap().to_string(),
            "1582-10-05"
        );
        assert_eq!(units("days since 2000-01-01", "noleap").decode(59.0).unwrap().to_string(), "2000-03-01");
        assert_eq!(units("days since 2000-01-01", "360_day").decode(59.0).unwrap().to_string(), "2000-02-30");
        assert_eq!(units("days since 2000-01-01", "all_leap").decode(366.0).unwrap().to_string(), "2001-01-01");
        let h = units("hours since 2000-01-01 00:00:00", "standard");
        assert_eq!(h.decode(30.0).unwrap().iso(), "2000-01-02T06:00:00");
        assert_eq!(h.encode(&h.decode(30.0).unwrap()), 30.0);
    }

    #[test]
    fn periods_are_half_open_at_the_label_precision() {
        let d = units("days since 2020-01-01", "noleap");
        assert_eq!(d.period("2020").unwrap(), (0.0, 365.0));
        assert_eq!(d.period("2020-03").unwrap(), (59.0, 90.0));
        assert_eq!(d.period("2020-12-31").unwrap(), (364.0, 365.0));
        assert!(d.period("2020-02-29").unwrap_err().message().contains("no such day in the noleap calendar"));
        assert!(units("days since 2020-01-01", "360_day").period("2020-02-30").is_ok());
    }

    #[test]
    fn bad_units_and_calendars_say_what_to_write() {
        assert!(Calendar::parse("lunar").unwrap_err().message().contains("unknown calendar 'lunar'"));
        let e = TimeUnits::parse("months since 2000-01-01", Calendar::Standard).unwrap_err();
        assert!(e.message().contains("months and years have no fixed length"), "{}", e.message());
        assert!(TimeUnits::parse("kelvin", Calendar::Standard).is_err());
    }
}
