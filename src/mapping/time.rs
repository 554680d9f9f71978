//! Reading CleverTap times: 14-digit `ts` in the account's zone, epoch seconds, `$D_` dates.

use super::values::{View, view};
use crate::clevertap::Json;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use sonic_rs::JsonValueTrait;

/// Parses an IANA time-zone name (`UTC`, `Asia/Kolkata`).
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!("unknown time zone `{name}`: use an IANA name such as UTC or Asia/Kolkata")
    })
}

/// Runs `read` on the digits of a JSON integer or of a string holding one (`None`: neither).
/// The text is lent, not copied: every record's time goes through here.
fn with_integer_text<R>(value: &Json, read: impl FnOnce(&str) -> R) -> Option<R> {
    let integer = |text: &str| {
        let digits = text.strip_prefix('-').unwrap_or(text);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if let Some(text) = value.as_str() {
        let text = text.trim();
        return integer(text).then(|| read(text));
    }
    if let Some(raw) = value.as_raw_number() {
        return integer(raw.as_str()).then(|| read(raw.as_str()));
    }
    let text = value.as_number()?.to_string();
    integer(&text).then(|| read(&text))
}

/// Reads `ts`: 14 digits `YYYYMMDDHHMMSS` in `zone`; 13 digits epoch milliseconds; otherwise
/// epoch seconds (upload payloads and newer exports). Returns milliseconds since the epoch.
pub fn ts_to_millis(value: &Json, zone: Tz) -> Result<i64, String> {
    with_integer_text(value, |text| {
        if text.len() == 14 && !text.starts_with('-') {
            let naive = fourteen_digit_time(text)
                .ok_or_else(|| format!("`{text}` is not a valid YYYYMMDDHHMMSS time"))?;
            let local = zone
                .from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| format!("`{text}` does not exist in time zone {zone}"))?;
            return Ok(local.timestamp_millis());
        }
        let number: i64 = text
            .parse()
            .map_err(|_| format!("`{text}` is out of range"))?;
        if text.trim_start_matches('-').len() == 13 {
            Ok(number)
        } else {
            epoch_seconds_to_millis(number).ok_or_else(|| format!("`{text}` is out of range"))
        }
    })
    .unwrap_or_else(|| {
        Err(format!(
            "`{value}` is not a CleverTap time (YYYYMMDDHHMMSS or epoch seconds)"
        ))
    })
}

/// Reads `eventTime` (epoch seconds).
pub fn epoch_value_to_millis(value: &Json) -> Result<i64, String> {
    with_integer_text(value, |text| {
        text.parse::<i64>()
            .ok()
            .and_then(epoch_seconds_to_millis)
            .ok_or_else(|| format!("`{text}` is out of range"))
    })
    .unwrap_or_else(|| Err(format!("`{value}` is not epoch seconds")))
}

fn epoch_seconds_to_millis(seconds: i64) -> Option<i64> {
    // Years 0..=9999 only: anything else is not a real event time.
    const LIMIT: i64 = 253_402_300_799;
    (-62_167_219_200..=LIMIT)
        .contains(&seconds)
        .then(|| seconds * 1000)
}

/// A `$D_<epoch seconds>` date (or plain epoch seconds) as `YYYY-MM-DD` in UTC.
pub fn dollar_date_to_iso(value: &Json) -> Option<String> {
    let seconds = match view(value) {
        View::String(text) => text
            .trim()
            .strip_prefix("$D_")
            .unwrap_or(text.trim())
            .parse::<i64>()
            .ok()?,
        View::Number(text) => text.parse::<i64>().ok()?,
        _ => return None,
    };
    let date = chrono::DateTime::from_timestamp(seconds, 0)?.date_naive();
    (date >= NaiveDate::from_ymd_opt(1, 1, 1)?).then(|| date.format("%Y-%m-%d").to_string())
}

/// Milliseconds as an RFC 3339 UTC time, for messages and the window.
pub fn format_millis(millis: i64) -> String {
    let mut text = String::with_capacity(23);
    write_millis(&mut text, millis);
    text
}

/// [`format_millis`] appended to `out`: a message that starts with a time (nearly every
/// historical record has one) is built in one buffer.
pub fn write_millis(out: &mut String, millis: i64) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let Some(time) = chrono::DateTime::from_timestamp_millis(millis) else {
        let _ = write!(out, "{millis} ms");
        return;
    };
    let (year, date, clock) = (time.year(), time.date_naive(), time.time());
    let Ok(year @ 0..=9999) = u32::try_from(year) else {
        let _ = write!(
            out,
            "{year:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            date.month(),
            date.day(),
            clock.hour(),
            clock.minute(),
            clock.second()
        );
        return;
    };
    // `YYYY-MM-DD HH:MM:SS UTC`, digit by digit: this runs once per record of a large file.
    let mut text = *b"0000-00-00 00:00:00 UTC";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for slot in text[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, date.month());
    put(8, 2, date.day());
    put(11, 2, clock.hour());
    put(14, 2, clock.minute());
    put(17, 2, clock.second());
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// `YYYYMMDDHHMMSS` (fourteen ASCII digits) as a date and time, if it is a real one.
fn fourteen_digit_time(text: &str) -> Option<NaiveDateTime> {
    let digits = text.as_bytes();
    if digits.len() != 14 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |from: usize, to: usize| {
        digits[from..to]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(number(0, 4) as i32, number(4, 6), number(6, 8))?.and_hms_opt(
        number(8, 10),
        number(10, 12),
        number(12, 14),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    #[test]
    fn times_are_written_as_utc_dates_whatever_the_year() {
        assert_eq!(format_millis(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_millis(1_644_626_491_999), "2022-02-12 00:41:31 UTC");
        assert_eq!(format_millis(-1), "1969-12-31 23:59:59 UTC");
        // Years of other than four digits keep their sign and digits.
        assert_eq!(
            format_millis(-62_198_755_200_000),
            "-001-01-01 00:00:00 UTC"
        );
        assert_eq!(
            format_millis(253_402_300_800_000),
            "10000-01-01 00:00:00 UTC"
        );
        assert_eq!(format_millis(i64::MAX), format!("{} ms", i64::MAX));
        let mut message = String::from("at ");
        write_millis(&mut message, 86_400_000);
        assert_eq!(message, "at 1970-01-02 00:00:00 UTC");
    }

    #[test]
    fn fourteen_digit_ts_is_read_in_the_account_zone() {
        let utc = parse_timezone("UTC").unwrap();
        assert_eq!(
            ts_to_millis(&json!(20220212004131_i64), utc).unwrap(),
            1_644_626_491_000
        );
        assert_eq!(
            ts_to_millis(&json!("20220212004131"), utc).unwrap(),
            1_644_626_491_000
        );
        let kolkata = parse_timezone("Asia/Kolkata").unwrap();
        assert_eq!(
            ts_to_millis(&json!(20220212004131_i64), kolkata).unwrap(),
            1_644_626_491_000 - 19_800_000
        );
    }

    #[test]
    fn epoch_seconds_and_millis_are_accepted_and_garbage_is_not() {
        let utc = parse_timezone("UTC").unwrap();
        assert_eq!(
            ts_to_millis(&json!(1468308340), utc).unwrap(),
            1_468_308_340_000
        );
        assert_eq!(
            ts_to_millis(&json!(1468308340123_i64), utc).unwrap(),
            1_468_308_340_123
        );
        assert!(ts_to_millis(&json!("20221341000000"), utc).is_err());
        assert!(ts_to_millis(&json!("soon"), utc).is_err());
        assert!(ts_to_millis(&json!(true), utc).is_err());
        assert!(ts_to_millis(&json!("99999999999999999999999"), utc).is_err());
        assert_eq!(
            epoch_value_to_millis(&json!("1700000000")).unwrap(),
            1_700_000_000_000
        );
    }

    #[test]
    fn dollar_dates_become_iso_dates_before_and_after_1970() {
        assert_eq!(
            dollar_date_to_iso(&json!("$D_1468322268")).as_deref(),
            Some("2016-07-12")
        );
        assert_eq!(
            dollar_date_to_iso(&json!("$D_-86400")).as_deref(),
            Some("1969-12-31")
        );
        assert_eq!(dollar_date_to_iso(&json!("yesterday")), None);
    }
}
