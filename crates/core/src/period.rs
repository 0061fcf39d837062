//! Report periods under the national reporting regime (Nghị định 09/2019/NĐ-CP):
//! a monthly report covers the 15th of the previous month to the 14th of the month;
//! a yearly report covers 15 December of the previous year to 14 December. The plan
//! asks for the monthly report "trước ngày 15" and the yearly one "trước ngày 15/12",
//! so a report is on time when it reaches the server before 00:00 (Vietnam time) on
//! the day after its window closes.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::time::{format_date, start_of_day};

/// The day of the month on which a new Decree 09 window opens.
pub const WINDOW_START_DAY: u32 = 15;

/// In JSON a period is its key, `"2024-03"` or `"2024"`: compact, readable, the
/// same string used in ids and addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Period {
    Month { year: i32, month: u32 },
    Year { year: i32 },
}

/// An inclusive range of calendar dates in Vietnam.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DateWindow {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateWindow {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("tháng {0} không hợp lệ")]
    InvalidMonth(u32),
    #[error("năm {0} nằm ngoài phạm vi hỗ trợ")]
    InvalidYear(i32),
    #[error("không đọc được kỳ báo cáo '{0}'")]
    Unparsable(String),
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("day 14/15 exists in every month")
}

impl Period {
    /// A checked constructor for a monthly period.
    pub fn month(year: i32, month: u32) -> Result<Period, PeriodError> {
        if !(1..=12).contains(&month) {
            return Err(PeriodError::InvalidMonth(month));
        }
        Period::year(year)?;
        Ok(Period::Month { year, month })
    }

    /// A checked constructor for a yearly period.
    pub fn year(year: i32) -> Result<Period, PeriodError> {
        if !(1900..=9999).contains(&year) {
            return Err(PeriodError::InvalidYear(year));
        }
        Ok(Period::Year { year })
    }

    /// The dates the report covers.
    pub fn window(&self) -> DateWindow {
        match *self {
            Period::Month { year, month } => {
                let (py, pm) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
                DateWindow { first: date(py, pm, WINDOW_START_DAY), last: date(year, month, WINDOW_START_DAY - 1) }
            }
            Period::Year { year } => {
                DateWindow { first: date(year - 1, 12, WINDOW_START_DAY), last: date(year, 12, WINDOW_START_DAY - 1) }
            }
        }
    }

    /// The last calendar day on which the report is still on time.
    pub fn due_date(&self) -> NaiveDate {
        self.window().last
    }

    /// The instant from which a report for this period is late: 00:00 Vietnam time on
    /// the 15th ("trước ngày 15" means strictly before it).
    pub fn deadline(&self) -> DateTime<FixedOffset> {
        start_of_day(self.due_date() + chrono::Days::new(1))
    }

    /// The monthly period whose window contains `date`.
    pub fn month_containing(date: NaiveDate) -> Period {
        if date.day() >= WINDOW_START_DAY {
            if date.month() == 12 {
                Period::Month { year: date.year() + 1, month: 1 }
            } else {
                Period::Month { year: date.year(), month: date.month() + 1 }
            }
        } else {
            Period::Month { year: date.year(), month: date.month() }
        }
    }

    /// The yearly period whose window contains `date`.
    pub fn year_containing(date: NaiveDate) -> Period {
        if (date.month(), date.day()) >= (12, WINDOW_START_DAY) {
            Period::Year { year: date.year() + 1 }
        } else {
            Period::Year { year: date.year() }
        }
    }

    pub fn previous(&self) -> Period {
        match *self {
            Period::Month { year, month: 1 } => Period::Month { year: year - 1, month: 12 },
            Period::Month { year, month } => Period::Month { year, month: month - 1 },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }

    pub fn next(&self) -> Period {
        match *self {
            Period::Month { year, month: 12 } => Period::Month { year: year + 1, month: 1 },
            Period::Month { year, month } => Period::Month { year, month: month + 1 },
            Period::Year { year } => Period::Year { year: year + 1 },
        }
    }

    /// A stable key, used in ids and URLs: `2024-03` or `2024`.
    pub fn key(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Year { year } => format!("{year:04}"),
        }
    }

    /// Parses exactly the form `key()` writes (`YYYY` or `YYYY-MM`), so one period
    /// has one key and ids built from keys cannot collide.
    pub fn parse_key(key: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::Unparsable(key.to_string());
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let canonical = match key.split_once('-') {
            Some((y, m)) => digits(y, 4) && digits(m, 2),
            None => digits(key, 4),
        };
        if !canonical {
            return Err(bad());
        }
        match key.split_once('-') {
            Some((y, m)) => {
                let year = y.parse().map_err(|_| bad())?;
                let month = m.parse().map_err(|_| bad())?;
                Period::month(year, month)
            }
            None => Period::year(key.parse().map_err(|_| bad())?),
        }
    }

    /// Vietnamese label: "Tháng 03/2024" or "Năm 2024".
    pub fn label_vi(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("Tháng {month:02}/{year}"),
            Period::Year { year } => format!("Năm {year}"),
        }
    }

    /// English label: "Month 03/2024" or "Year 2024".
    pub fn label_en(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("Month {month:02}/{year}"),
            Period::Year { year } => format!("Year {year}"),
        }
    }

    /// "15/02/2024 – 14/03/2024"
    pub fn window_label(&self) -> String {
        let w = self.window();
        format!("{} – {}", format_date(w.first), format_date(w.last))
    }
}

/// What [`Period::parse_key`] accepts, as a regular expression: `YYYY-MM` or `YYYY`,
/// years 1900–9999 ([`Period::year`]), months 01–12 ([`Period::month`]).
pub const PERIOD_PATTERN: &str = "^(19[0-9]{2}|[2-9][0-9]{3})(-(0[1-9]|1[0-2]))?$";

/// In the API description a period is the string of its key (see the serde
/// attributes above), not the enum.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(PERIOD_PATTERN))
            .description(Some("A Decree 09 report period: `YYYY-MM` (a month) or `YYYY` (a year), 1900–9999."))
            .examples(["2024-03", "2024"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Period {}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.key()
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(key: String) -> Result<Period, PeriodError> {
        Period::parse_key(&key)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn january_window_starts_in_previous_december() {
        let p = Period::month(2024, 1).unwrap();
        assert_eq!(p.window(), DateWindow { first: d(2023, 12, 15), last: d(2024, 1, 14) });
    }

    #[test]
    fn december_window_and_next_period_crosses_the_year() {
        let p = Period::month(2024, 12).unwrap();
        assert_eq!(p.window(), DateWindow { first: d(2024, 11, 15), last: d(2024, 12, 14) });
        assert_eq!(p.next(), Period::Month { year: 2025, month: 1 });
        assert_eq!(Period::Month { year: 2025, month: 1 }.previous(), p);
    }

    #[test]
    fn march_window_covers_the_whole_of_a_leap_february() {
        let w = Period::month(2024, 3).unwrap().window();
        assert_eq!(w.first, d(2024, 2, 15));
        assert!(w.contains(d(2024, 2, 29)));
        assert_eq!((w.last - w.first).num_days() + 1, 29); // 15..29 Feb + 1..14 Mar
        let w = Period::month(2023, 3).unwrap().window();
        assert_eq!((w.last - w.first).num_days() + 1, 28);
    }

    #[test]
    fn yearly_window_runs_15_december_to_14_december() {
        let p = Period::year(2024).unwrap();
        assert_eq!(p.window(), DateWindow { first: d(2023, 12, 15), last: d(2024, 12, 14) });
        // 2024 is a leap year: 366 days in the window (Dec 15 2023 .. Dec 14 2024).
        let w = p.window();
        assert_eq!((w.last - w.first).num_days() + 1, 366);
        let w = Period::year(2025).unwrap().window();
        assert_eq!((w.last - w.first).num_days() + 1, 365);
    }

    #[test]
    fn deadline_is_midnight_vietnam_time_on_the_15th() {
        let p = Period::month(2024, 3).unwrap();
        assert_eq!(p.due_date(), d(2024, 3, 14));
        assert_eq!(p.deadline().with_timezone(&Utc), Utc.with_ymd_and_hms(2024, 3, 14, 17, 0, 0).unwrap());
        let y = Period::year(2024).unwrap();
        assert_eq!(y.deadline().with_timezone(&Utc), Utc.with_ymd_and_hms(2024, 12, 14, 17, 0, 0).unwrap());
    }

    #[test]
    fn containing_period_switches_on_the_15th() {
        assert_eq!(Period::month_containing(d(2024, 3, 14)), Period::Month { year: 2024, month: 3 });
        assert_eq!(Period::month_containing(d(2024, 3, 15)), Period::Month { year: 2024, month: 4 });
        assert_eq!(Period::month_containing(d(2024, 12, 15)), Period::Month { year: 2025, month: 1 });
        assert_eq!(Period::month_containing(d(2024, 1, 1)), Period::Month { year: 2024, month: 1 });
        assert_eq!(Period::year_containing(d(2024, 12, 14)), Period::Year { year: 2024 });
        assert_eq!(Period::year_containing(d(2024, 12, 15)), Period::Year { year: 2025 });
        assert_eq!(Period::year_containing(d(2024, 1, 1)), Period::Year { year: 2024 });
    }

    #[test]
    fn every_day_of_a_leap_year_belongs_to_exactly_one_monthly_window() {
        let mut day = d(2023, 12, 15);
        while day <= d(2024, 12, 14) {
            let p = Period::month_containing(day);
            assert!(p.window().contains(day), "{day} not in {p:?}");
            assert!(!p.next().window().contains(day));
            assert!(!p.previous().window().contains(day));
            assert!(Period::year_containing(day) == Period::Year { year: 2024 });
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn keys_round_trip_and_bad_input_is_an_error() {
        for p in [Period::month(2024, 1).unwrap(), Period::month(2024, 12).unwrap(), Period::year(2024).unwrap()] {
            assert_eq!(Period::parse_key(&p.key()).unwrap(), p);
        }
        assert_eq!(Period::parse_key("2024-13"), Err(PeriodError::InvalidMonth(13)));
        assert!(Period::parse_key("abc").is_err());
        assert!(Period::parse_key("2024-x").is_err());
        for other_spelling in ["2024-3", "+2024-03", "02024", "2024-003", " 2024", "2024-03-01"] {
            assert!(Period::parse_key(other_spelling).is_err(), "{other_spelling} accepted");
        }
    }

    #[test]
    fn json_is_the_period_key() {
        let p = Period::month(2024, 3).unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2024-03\"");
        assert_eq!(serde_json::from_str::<Period>("\"2024\"").unwrap(), Period::Year { year: 2024 });
        assert!(serde_json::from_str::<Period>("\"2024-00\"").is_err());
    }

    #[test]
    fn vietnamese_labels() {
        assert_eq!(Period::month(2024, 3).unwrap().label_vi(), "Tháng 03/2024");
        assert_eq!(Period::year(2024).unwrap().label_vi(), "Năm 2024");
        assert_eq!(Period::month(2024, 3).unwrap().label_en(), "Month 03/2024");
        assert_eq!(Period::month(2024, 1).unwrap().window_label(), "15/12/2023 – 14/01/2024");
    }
}
