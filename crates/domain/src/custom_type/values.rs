//! Custom field values against their field type: what is accepted, and in which normal form
//! it is stored.
//!
//! | type | accepted JSON | stored |
//! |---|---|---|
//! | Boolean | `true`/`false` | as given |
//! | String | a string (without U+0000, which PostgreSQL cannot store) | as given |
//! | LocalizedString | an object of strings (`{"en": "…"}`) | as given |
//! | Number | any number | as given |
//! | Date | `"YYYY-MM-DD"`, a real calendar date | as given |
//! | DateTime | `"YYYY-MM-DDThh:mm:ss[.f…](Z\|±hh:mm)"`, strictly | UTC with milliseconds, `…T10:00:00.000Z` |
//! | Enum, LocalizedEnum | the key (a string) of one of the values | as given |
//! | Set | an array of values of the element type | each element normalized |

use super::FieldType;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

/// The value, normalized, when it is valid for `t`.
pub(super) fn check(t: &FieldType, value: &Value) -> Option<Value> {
    Some(match (t, value) {
        (FieldType::Boolean, Value::Bool(_)) | (FieldType::Number, Value::Number(_)) => value.clone(),
        // PostgreSQL cannot store U+0000 in JSON text.
        (FieldType::String, Value::String(s)) => {
            if s.contains('\0') {
                return None;
            }
            value.clone()
        }
        (FieldType::LocalizedString, Value::Object(map)) => {
            let bad = |locale: &String, v: &Value| {
                locale.is_empty() || locale.contains('\0') || v.as_str().is_none_or(|s| s.contains('\0'))
            };
            if map.iter().any(|(locale, v)| bad(locale, v)) {
                return None;
            }
            value.clone()
        }
        (FieldType::Date, Value::String(s)) => {
            parse_date(s)?;
            value.clone()
        }
        (FieldType::DateTime, Value::String(s)) => {
            Value::String(parse_datetime_strict(s)?.to_rfc3339_opts(SecondsFormat::Millis, true))
        }
        (FieldType::Enum { values }, Value::String(s)) => values.iter().any(|v| &v.key == s).then(|| value.clone())?,
        (FieldType::LocalizedEnum { values }, Value::String(s)) => {
            values.iter().any(|v| &v.key == s).then(|| value.clone())?
        }
        (FieldType::Set { element_type }, Value::Array(items)) => {
            Value::Array(items.iter().map(|item| check(element_type, item)).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

/// A strict ISO 8601 calendar date: exactly `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let year = s[0..4].parse().ok()?;
    let month = s[5..7].parse().ok()?;
    let day = s[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A strict ISO 8601 date-time: `YYYY-MM-DDThh:mm:ss`, an optional fraction of 1–9 digits,
/// then `Z` or `±hh:mm` (upper-case `T` and `Z`, seconds and offset required).
pub fn parse_datetime_strict(s: &str) -> Option<DateTime<Utc>> {
    let (date, rest) = (s.get(..10)?, s.get(10..)?);
    let date = parse_date(date)?;
    let rest = rest.strip_prefix('T')?;
    let b = rest.as_bytes();
    let time_shape = b.len() >= 8
        && b[2] == b':'
        && b[5] == b':'
        && b[..8].iter().enumerate().all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit());
    if !time_shape {
        return None;
    }
    let (hour, minute, second): (u32, u32, u32) =
        (rest[0..2].parse().ok()?, rest[3..5].parse().ok()?, rest[6..8].parse().ok()?);
    let mut rest = &rest[8..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        let scale = 10u32.pow(9 - u32::try_from(digits).ok()?);
        nanos = fraction[..digits].parse::<u32>().ok()? * scale;
        rest = &fraction[digits..];
    }
    let offset_secs: i32 = match rest.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) => {
            let hours = i32::from(h1 - b'0') * 10 + i32::from(h2 - b'0');
            let minutes = i32::from(m1 - b'0') * 10 + i32::from(m2 - b'0');
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = (hours * 60 + minutes) * 60;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let local: NaiveDateTime = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = chrono::FixedOffset::east_opt(offset_secs)?;
    Some(local.and_local_timezone(offset).single()?.with_timezone(&Utc))
}
