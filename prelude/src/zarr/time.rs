//! numpy's `datetime64` and `timedelta64`: their units, and values that are a count of a unit,
//! which they keep, so that a read shows and converts them the way numpy does
//! (`2020-01-01T00:00:00`, `NaT`).

use std::fmt;

/// numpy's "not a time": the smallest `i64`.
const NAT: i64 = i64::MIN;

/// numpy's datetime and timedelta units, `Y` to `as`; the default is numpy's for dates from
/// Python, nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TimeUnit {
    /// `Y`
    Year,
    /// `M`
    Month,
    /// `W`
    Week,
    /// `D`
    Day,
    /// `h`
    Hour,
    /// `m`
    Minute,
    /// `s`
    Second,
    /// `ms`
    Millisecond,
    /// `us`
    Microsecond,
    /// `ns`
    #[default]
    Nanosecond,
    /// `ps`
    Picosecond,
    /// `fs`
    Femtosecond,
    /// `as`
    Attosecond,
}

/// Seconds per unit as an exact fraction (numerator, denominator).
type Seconds = Option<(i128, i128)>;

/// Each unit (in the enum's order): numpy's code, its CF / udunits name, and seconds per unit
/// (none for years and months, whose length varies).
pub(super) const UNITS: [(TimeUnit, &str, &str, Seconds); 13] = {
    use TimeUnit::*;
    [
        (Year, "Y", "years", None),
        (Month, "M", "months", None),
        (Week, "W", "weeks", Some((604_800, 1))),
        (Day, "D", "days", Some((86_400, 1))),
        (Hour, "h", "hours", Some((3_600, 1))),
        (Minute, "m", "minutes", Some((60, 1))),
        (Second, "s", "seconds", Some((1, 1))),
        (Millisecond, "ms", "milliseconds", Some((1, 1_000))),
        (Microsecond, "us", "microseconds", Some((1, 1_000_000))),
        (Nanosecond, "ns", "nanoseconds", Some((1, 1_000_000_000))),
        (Picosecond, "ps", "picoseconds", Some((1, 1_000_000_000_000))),
        (Femtosecond, "fs", "femtoseconds", Some((1, 1_000_000_000_000_000))),
        (Attosecond, "as", "attoseconds", Some((1, 1_000_000_000_000_000_000))),
    ]
};

impl TimeUnit {
    /// numpy's code: `ns`, `s`, `D`, ….
    pub fn code(self) -> &'static str {
        UNITS[self as usize].1
    }

    /// The unit's name in CF and udunits terms: `days`, `seconds`, `nanoseconds`, ….
    pub fn long_name(self) -> &'static str {
        UNITS[self as usize].2
    }

    /// The unit with numpy's code (`μs` too).
    pub fn parse(code: &str) -> Option<TimeUnit> {
        let code = if code == "μs" { "us" } else { code };
        UNITS.iter().find(|u| u.1 == code).map(|u| u.0)
    }

    /// Seconds per unit as an exact fraction (numerator, denominator), for the fixed units;
    /// `None` for years and months, whose length varies.
    pub fn seconds(self) -> Option<(i128, i128)> {
        UNITS[self as usize].3
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A numpy `datetime64` value: `value` units since 1970-01-01T00:00 (no time zone), or NaT.
///
/// Shows like numpy (`2020-01-01T06:00:00` for seconds, `2020-01-01` for days); converts to
/// [`chrono`] ([`to_chrono`](DateTime64::to_chrono)); `value` is the raw count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct DateTime64 {
    /// Units since the epoch (`i64::MIN` is NaT).
    pub value: i64,
    /// The unit of `value`.
    pub unit: TimeUnit,
}

/// A numpy `timedelta64` value: `value` units, or NaT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TimeDelta64 {
    /// The count of units (`i64::MIN` is NaT).
    pub value: i64,
    /// The unit of `value`.
    pub unit: TimeUnit,
}

/// `value` units as whole seconds and nanoseconds (floored), for the fixed-length units.
fn split(value: i64, unit: TimeUnit) -> Option<(i64, u32)> {
    let (num, den) = unit.seconds()?;
    let nanos = (value as i128 * num * 1_000_000_000).div_euclid(den);
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    Some((secs, nanos.rem_euclid(1_000_000_000) as u32))
}

impl DateTime64 {
    /// `value` units since the epoch.
    pub fn new(value: i64, unit: TimeUnit) -> Self {
        DateTime64 { value, unit }
    }

    /// Not a time, numpy's `NaT`.
    pub fn nat(unit: TimeUnit) -> Self {
        DateTime64 { value: NAT, unit }
    }

    /// True for NaT.
    pub fn is_nat(&self) -> bool {
        self.value == NAT
    }

    /// The date and time, or `None` for NaT or outside chrono's range (±262 000 years);
    /// sub-nanosecond units are truncated.
    pub fn to_chrono(&self) -> Option<chrono::NaiveDateTime> {
        if self.is_nat() {
            return None;
        }
        match self.unit {
            TimeUnit::Year => {
                let year = i32::try_from(1970 + self.value).ok()?;
                Some(chrono::NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?)
            }
            TimeUnit::Month => {
                let months = 1970 * 12 + self.value;
                let year = i32::try_from(months.div_euclid(12)).ok()?;
                Some(chrono::NaiveDate::from_ymd_opt(year, months.rem_euclid(12) as u32 + 1, 1)?.and_hms_opt(0, 0, 0)?)
            }
            unit => {
                let (secs, nanos) = split(self.value, unit)?;
                Some(chrono::DateTime::from_timestamp(secs, nanos)?.naive_utc())
            }
        }
    }

    /// `t` in `unit` (rounded toward negative infinity), or `None` when it does not fit an `i64`.
    pub fn from_chrono(t: chrono::NaiveDateTime, unit: TimeUnit) -> Option<Self> {
        use chrono::Datelike;
        let value = match unit {
            TimeUnit::Year => i64::from(t.year()) - 1970,
            TimeUnit::Month => (i64::from(t.year()) - 1970) * 12 + i64::from(t.month0()),
            unit => {
                let utc = t.and_utc();
                in_unit(i128::from(utc.timestamp()) * 1_000_000_000 + i128::from(utc.timestamp_subsec_nanos()), unit)?
            }
        };
        Some(DateTime64 { value, unit })
    }
}

/// `nanos` nanoseconds as a count of a fixed-length `unit` (floored), or `None` when it does
/// not fit an `i64` (or would be NaT).
fn in_unit(nanos: i128, unit: TimeUnit) -> Option<i64> {
    let (num, den) = unit.seconds()?;
    i64::try_from((nanos * den).div_euclid(num * 1_000_000_000)).ok().filter(|&v| v != NAT)
}

impl TimeDelta64 {
    /// `value` units.
    pub fn new(value: i64, unit: TimeUnit) -> Self {
        TimeDelta64 { value, unit }
    }

    /// True for NaT.
    pub fn is_nat(&self) -> bool {
        self.value == NAT
    }

    /// `d` in `unit` (rounded toward negative infinity), or `None` for years and months or when
    /// it does not fit an `i64`.
    pub fn from_chrono(d: chrono::TimeDelta, unit: TimeUnit) -> Option<Self> {
        // For a negative duration both parts are negative.
        let value = in_unit(i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos()), unit)?;
        Some(TimeDelta64 { value, unit })
    }

    /// The duration, or `None` for NaT, years and months (of no fixed length), or out of range.
    pub fn to_chrono(&self) -> Option<chrono::TimeDelta> {
        if self.is_nat() {
            return None;
        }
        let (secs, nanos) = split(self.value, self.unit)?;
        chrono::TimeDelta::new(secs, nanos)
    }
}

impl fmt::Display for DateTime64 {
    /// numpy's `str()`: as precise as the unit (`2020-01`, `2020-01-01`, `2020-01-01T06`,
    /// `2020-01-01T06:00:00.000`), `NaT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = self.to_chrono() else {
            return f.write_str(if self.is_nat() { "NaT" } else { "out of range" });
        };
        let text = match self.unit {
            TimeUnit::Year => t.format("%Y").to_string(),
            TimeUnit::Month => t.format("%Y-%m").to_string(),
            TimeUnit::Week | TimeUnit::Day => t.format("%Y-%m-%d").to_string(),
            TimeUnit::Hour => t.format("%Y-%m-%dT%H").to_string(),
            TimeUnit::Minute => t.format("%Y-%m-%dT%H:%M").to_string(),
            TimeUnit::Second => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            TimeUnit::Millisecond => t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            TimeUnit::Microsecond => t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            _ => t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string(),
        };
        f.write_str(&text)
    }
}

impl fmt::Display for TimeDelta64 {
    /// numpy's `str()`: `3 seconds`, `1 days`, `NaT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nat() {
            return f.write_str("NaT");
        }
        write!(f, "{} {}", self.value, self.unit.long_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimeUnit::*;

    #[test]
    fn the_unit_table_is_in_the_enum_order() {
        assert!(UNITS.iter().enumerate().all(|(i, u)| u.0 as usize == i));
    }

    #[test]
    fn shows_and_converts_like_numpy() {
        // np.datetime64("2020-03-01T06:30", "s").astype("i8") == 1583044200
        let t = DateTime64::new(1_583_044_200, Second);
        assert_eq!(t.to_string(), "2020-03-01T06:30:00");
        assert_eq!(DateTime64::new(1_583_044_200_000_000_123, Nanosecond).to_string(), "2020-03-01T06:30:00.000000123");
        assert_eq!(DateTime64::new(18_322, Day).to_string(), "2020-03-01");
        assert_eq!(DateTime64::new(602, Month).to_string(), "2020-03");
        assert_eq!(DateTime64::new(-1, Second).to_string(), "1969-12-31T23:59:59");
        assert_eq!(DateTime64::new(-1, Attosecond).to_string(), "1969-12-31T23:59:59.999999999");
        assert_eq!(DateTime64::nat(Nanosecond).to_string(), "NaT");
        assert!(DateTime64::nat(Day).to_chrono().is_none());
        let back = DateTime64::from_chrono(t.to_chrono().unwrap(), Millisecond).unwrap();
        assert_eq!(back, DateTime64::new(1_583_044_200_000, Millisecond));
        assert_eq!(DateTime64::from_chrono(t.to_chrono().unwrap(), Month).unwrap().value, 602);
        assert_eq!(TimeDelta64::new(90, Minute).to_chrono(), chrono::TimeDelta::new(5400, 0));
        assert_eq!(TimeDelta64::new(3, Second).to_string(), "3 seconds");
        assert_eq!(TimeDelta64::new(NAT, Second).to_string(), "NaT");
        assert!(TimeDelta64::new(1, Month).to_chrono().is_none());
        // -1.5 s floors to -2 s, as numpy's astype does.
        let d = TimeDelta64::new(-1_500, Millisecond).to_chrono().unwrap();
        assert_eq!(TimeDelta64::from_chrono(d, Second), Some(TimeDelta64::new(-2, Second)));
        assert_eq!(TimeDelta64::from_chrono(d, Microsecond), Some(TimeDelta64::new(-1_500_000, Microsecond)));
    }
}
