//! Vietnam time. Asia/Ho_Chi_Minh is UTC+7 with no daylight saving (since 1975), so a
//! fixed offset is exact for every date this app handles and avoids shipping a tz
//! database to the phone. Everything the plan says about dates is in this zone,
//! never in the device's own zone.

/// A calendar date as the API reads it (`NaiveDate`'s `YYYY-MM-DD`, years 0000–9999),
/// as a regular expression: the API description's pattern for request dates (JSON
/// Schema's `format` only annotates). Leap years included.
pub const DATE_PATTERN: &str = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$";

/// An RFC 3339 instant with a `T`, seconds, an optional fraction and `Z` or an
/// offset: what the API description promises a request may send (chrono reads more).
pub const DATE_TIME_PATTERN: &str = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$";

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};

/// Seconds east of UTC for Asia/Ho_Chi_Minh.
pub const VN_OFFSET_SECONDS: i32 = 7 * 3600;

pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(VN_OFFSET_SECONDS).expect("+07:00 is a valid offset")
}

/// Midnight at the start of `date` in Vietnam.
pub fn start_of_day(date: NaiveDate) -> DateTime<FixedOffset> {
    vn_offset()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .expect("a fixed offset has no gaps")
}

/// The calendar date in Vietnam at an instant.
pub fn vn_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&vn_offset()).date_naive()
}

/// dd/mm/yyyy, the way dates are written in Vietnamese administrative documents.
// Written by hand rather than with chrono's strftime, whose format-string machinery
// adds kilobytes to the phone's download for two fixed formats.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// "HH:MM dd/mm/yyyy" in Vietnam time, for "last updated" lines.
pub fn format_vn_datetime(instant: DateTime<Utc>) -> String {
    let local = instant.with_timezone(&vn_offset());
    format!("{:02}:{:02} {}", local.hour(), local.minute(), format_date(local.date_naive()))
}

/// Parses dd/mm/yyyy (also accepting d/m/yyyy).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%d/%m/%Y").ok()
}

/// "HH:MM" for an instant earlier today (Vietnam date), "HH:MM dd/mm/yyyy" otherwise:
/// the status line on a 360-px screen has room for little more than the time.
pub fn format_vn_time_since(instant: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if vn_date(instant) == vn_date(now) {
        let local = instant.with_timezone(&vn_offset());
        format!("{:02}:{:02}", local.hour(), local.minute())
    } else {
        format_vn_datetime(instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_date_changes_at_17_utc() {
        let before = Utc.with_ymd_and_hms(2024, 2, 29, 16, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2024, 2, 29, 17, 0, 0).unwrap();
        assert_eq!(vn_date(before), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(vn_date(after), NaiveDate::from_ymd_opt(2024, 3, 1).unwrap());
    }

    #[test]
    fn formats_and_parses_dd_mm_yyyy() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        assert_eq!(format_date(d), "01/02/2024");
        assert_eq!(parse_date("01/02/2024"), Some(d));
        assert_eq!(parse_date("1/2/2024"), Some(d));
        assert_eq!(parse_date("2024-02-01"), None);
        assert_eq!(parse_date("31/02/2024"), None);
    }

    #[test]
    fn formats_vietnam_date_and_time_whatever_the_instant_zone() {
        let t = Utc.with_ymd_and_hms(2024, 12, 31, 17, 5, 0).unwrap();
        assert_eq!(format_vn_datetime(t), "00:05 01/01/2025");
        assert_eq!(format_date(NaiveDate::from_ymd_opt(987, 3, 9).unwrap()), "09/03/0987");
    }

    #[test]
    fn time_since_drops_the_date_only_for_the_same_vietnam_day() {
        let at = Utc.with_ymd_and_hms(2024, 3, 14, 16, 30, 0).unwrap(); // 23:30 on 14/03 in Vietnam
        assert_eq!(format_vn_time_since(at, Utc.with_ymd_and_hms(2024, 3, 14, 16, 59, 0).unwrap()), "23:30");
        // 17:00 UTC is already 15/03 in Vietnam, though still 14/03 in UTC.
        assert_eq!(format_vn_time_since(at, Utc.with_ymd_and_hms(2024, 3, 14, 17, 0, 0).unwrap()), "23:30 14/03/2024");
    }

    #[test]
    fn start_of_day_is_17_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert_eq!(start_of_day(d).with_timezone(&Utc), Utc.with_ymd_and_hms(2023, 12, 31, 17, 0, 0).unwrap());
    }
}
