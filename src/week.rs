//! ISO weeks (`2026-W48`): the unit every form, answer and digest belongs to.
//!
//! Owns the `Week` value and its text form. Never looks at a clock: callers
//! pass the local date they mean.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, IsoWeek, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 8601 week: the Monday-to-Sunday week a form asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    year: i32,
    week: u32,
}

impl Week {
    /// The week `date` falls in.
    pub fn of(date: NaiveDate) -> Week {
        Week::from_iso(date.iso_week())
    }

    fn from_iso(iso: IsoWeek) -> Week {
        Week {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// A week from its ISO year and number, if that week exists.
    pub fn new(year: i32, week: u32) -> Option<Week> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(Week::of)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.week
    }

    /// The date of `day` in this week.
    pub fn day(self, day: Weekday) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, day).expect("valid ISO week") // ok: a Week is only built from a valid ISO week
    }

    pub fn monday(self) -> NaiveDate {
        self.day(Weekday::Mon)
    }

    /// The week `n` weeks later (negative: earlier).
    pub fn plus(self, n: i64) -> Week {
        Week::of(self.monday() + chrono::Duration::weeks(n))
    }

    pub fn next(self) -> Week {
        self.plus(1)
    }

    pub fn prev(self) -> Week {
        self.plus(-1)
    }

    /// Whole weeks from `self` to `later` (negative when `later` is earlier).
    pub fn weeks_until(self, later: Week) -> i64 {
        (later.monday() - self.monday()).num_weeks()
    }
}

impl fmt::Display for Week {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

/// Why a text is not a week.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an ISO week; write it as YYYY-Www, e.g. 2026-W48")]
pub struct BadWeek(pub String);

impl FromStr for Week {
    type Err = BadWeek;

    fn from_str(s: &str) -> Result<Week, BadWeek> {
        let bad = || BadWeek(s.to_string());
        let (year, week) = s.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        Week::new(year, week).ok_or_else(bad)
    }
}

impl Serialize for Week {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Week {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Week, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Week {
    /// The week's days as people read them: `23–29 Nov 2026`, or
    /// `28 Dec 2026 – 3 Jan 2027` across months or years. The one place a
    /// week is written for people.
    pub fn dates(self) -> String {
        let monday = self.monday();
        let sunday = monday + chrono::Duration::days(6);
        if monday.format("%b %Y").to_string() == sunday.format("%b %Y").to_string() {
            format!("{}–{}", monday.format("%-d"), sunday.format("%-d %b %Y"))
        } else if monday.format("%Y").to_string() == sunday.format("%Y").to_string() {
            format!(
                "{} – {}",
                monday.format("%-d %b"),
                sunday.format("%-d %b %Y")
            )
        } else {
            format!(
                "{} – {}",
                monday.format("%-d %b %Y"),
                sunday.format("%-d %b %Y")
            )
        }
    }
}

/// A local time as every email writes it: `Fri 4 Dec 2026, 16:00`. The one
/// place a local time is written for people.
pub fn local_time(t: chrono::NaiveDateTime) -> String {
    t.format("%a %-d %b %Y, %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_prints_and_parses_back() {
        let w = Week::of(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        assert_eq!(w.to_string(), "2026-W48");
        assert_eq!("2026-W48".parse::<Week>().unwrap(), w);
    }

    #[test]
    fn iso_year_differs_from_calendar_year_at_new_year() {
        let w = Week::of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(w.to_string(), "2026-W53");
        assert_eq!(w.next().to_string(), "2027-W01");
        assert_eq!(w.next().prev(), w);
    }

    #[test]
    fn nonexistent_weeks_are_refused() {
        assert!("2025-W53".parse::<Week>().is_err());
        assert!("2026-48".parse::<Week>().is_err());
        assert!("W48".parse::<Week>().is_err());
    }

    #[test]
    fn weeks_until_counts_across_years() {
        let a: Week = "2026-W50".parse().unwrap();
        let b: Week = "2027-W02".parse().unwrap();
        assert_eq!(a.weeks_until(b), 5);
        assert_eq!(b.weeks_until(a), -5);
    }
}
