//! A small strict parser of ISO 8601 / RFC 3339 date-times, for checking the values compared
//! with date-time fields without a date library.
//!
//! Accepted (and nothing else):
//!
//! ```text
//! YYYY-MM-DD                                   midnight UTC
//! YYYY-MM-DDThh:mm[:ss[.f…]][offset]           f: 1 to 9 digits; "t" for "T" allowed
//! offset = "Z" | "z" | ("+" | "-") hh ":" mm    none: UTC
//! ```
//!
//! Fields are range-checked (month 1–12, day within its month, leap years included, hour
//! 0–23, minute and second 0–59, offset up to ±23:59).

/// A validated date-time, as written (not converted to UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// 0–9999.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31, within the month.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
    /// Fraction of the second, in nanoseconds.
    pub nanos: u32,
    /// Offset from UTC in minutes (0 when none was written).
    pub offset_minutes: i16,
}

impl DateTime {
    /// RFC 3339 text: `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`, the fraction without
    /// trailing zeros (what e.g. `chrono::DateTime::parse_from_rfc3339` accepts).
    pub fn to_rfc3339(&self) -> String {
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos > 0 {
            let fraction = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        if self.offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        out
    }
}

/// Parses an ISO 8601 date-time in the subset described in this module.
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    let mut c = Cursor { bytes: s.as_bytes(), at: 0 };
    let year = u16::try_from(c.digits(4)?).ok()?;
    c.byte(b'-')?;
    let month = c.digits(2)?;
    c.byte(b'-')?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut dt = DateTime {
        year,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_minutes: 0,
    };
    if c.done() {
        return Some(dt);
    }
    c.one_of(b"Tt")?;
    dt.hour = c.ranged(2, 23)?;
    c.byte(b':')?;
    dt.minute = c.ranged(2, 59)?;
    if c.peek() == Some(b':') {
        c.byte(b':')?;
        dt.second = c.ranged(2, 59)?;
        if c.peek() == Some(b'.') {
            c.byte(b'.')?;
            let mut nanos = 0;
            let mut count = 0;
            while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                c.at += 1;
                count += 1;
                if count > 9 {
                    return None;
                }
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            if count == 0 {
                return None;
            }
            dt.nanos = nanos * 10u32.pow(9 - count);
        }
    }
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => c.at += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.at += 1;
            let hours = i16::from(c.ranged(2, 23)?);
            c.byte(b':')?;
            let minutes = i16::from(c.ranged(2, 59)?);
            let total = hours * 60 + minutes;
            dt.offset_minutes = if sign == b'-' { -total } else { total };
        }
        Some(_) => return None,
    }
    c.done().then_some(dt)
}

/// The RFC 3339 form of an accepted date-time (see [`DateTime::to_rfc3339`]); `None` when
/// `s` is not one. `"2024-01-31"` gives `"2024-01-31T00:00:00Z"`.
pub fn normalize_datetime(s: &str) -> Option<String> {
    parse_datetime(s).map(|dt| dt.to_rfc3339())
}

fn days_in_month(year: u16, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn byte(&mut self, expected: u8) -> Option<()> {
        self.one_of(&[expected])
    }

    fn one_of(&mut self, allowed: &[u8]) -> Option<()> {
        let b = self.peek()?;
        if allowed.contains(&b) {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..n {
            let b = self.peek().filter(u8::is_ascii_digit)?;
            self.at += 1;
            value = value * 10 + u32::from(b - b'0');
        }
        Some(value)
    }

    /// Exactly `n` digits forming a number no greater than `max`.
    fn ranged(&mut self, n: usize, max: u8) -> Option<u8> {
        let value = u8::try_from(self.digits(n)?).ok()?;
        (value <= max).then_some(value)
    }
}
