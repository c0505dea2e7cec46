//! RFC 3339 timestamps in UTC (`2019-08-24T14:15:22.000Z`) written with integer arithmetic.
//!
//! Every customer, address and group in a response carries two of them: a customer read with two
//! addresses and three groups writes twelve. `chrono`'s `to_rfc3339_opts` went through its
//! general formatter for each (about 1 300 instructions; 4 % of a read's instructions,
//! docs/benchmarks.md change 29); this writes the same text in about a tenth of that. Years
//! outside 0000–9999 and leap seconds, which it does not handle, go to `chrono`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Digits after the decimal point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    /// Three (`.000`), as both API families write timestamps.
    Millis,
    /// Six (`.000000`), as the log lines do.
    Micros,
}

/// `t` as the API writes it: milliseconds, `Z`.
pub fn millis(t: &DateTime<Utc>) -> String {
    let mut out = String::with_capacity(24);
    push(&mut out, t.timestamp(), t.timestamp_subsec_nanos(), Fraction::Millis);
    out
}

/// Appends the instant `secs` seconds and `nanos` nanoseconds after 1970-01-01T00:00:00Z, with
/// the fraction truncated to `fraction` (as `chrono` does).
pub fn push(out: &mut String, secs: i64, nanos: u32, fraction: Fraction) {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return push_by_chrono(out, secs, nanos, fraction);
    }
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    digits(&mut buf[0..4], year as u64);
    digits(&mut buf[5..7], month as u64);
    digits(&mut buf[8..10], day as u64);
    digits(&mut buf[11..13], (of_day / 3600) as u64);
    digits(&mut buf[14..16], (of_day / 60 % 60) as u64);
    digits(&mut buf[17..19], (of_day % 60) as u64);
    let end = match fraction {
        Fraction::Millis => {
            digits(&mut buf[20..23], u64::from(nanos / 1_000_000));
            buf[23] = b'Z';
            24
        }
        Fraction::Micros => {
            digits(&mut buf[20..26], u64::from(nanos / 1_000));
            27
        }
    };
    // Only ASCII digits and separators were written.
    out.push_str(std::str::from_utf8(&buf[..end]).unwrap_or_default());
}

fn push_by_chrono(out: &mut String, secs: i64, nanos: u32, fraction: Fraction) {
    let format = match fraction {
        Fraction::Millis => SecondsFormat::Millis,
        Fraction::Micros => SecondsFormat::Micros,
    };
    if let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) {
        out.push_str(&t.to_rfc3339_opts(format, true));
    }
}

/// Writes `n` into `into` as decimal digits, zero-padded to its length.
fn digits(into: &mut [u8], mut n: u64) {
    for b in into.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(secs: i64, nanos: u32, fraction: Fraction) -> String {
        let mut out = String::new();
        push(&mut out, secs, nanos, fraction);
        out
    }

    fn chrono_s(secs: i64, nanos: u32, fraction: Fraction) -> String {
        let mut out = String::new();
        push_by_chrono(&mut out, secs, nanos, fraction);
        out
    }

    #[test]
    fn known_instants() {
        assert_eq!(ours(0, 0, Fraction::Millis), "1970-01-01T00:00:00.000Z");
        assert_eq!(ours(1_566_656_122, 999_999_999, Fraction::Millis), "2019-08-24T14:15:22.999Z");
        assert_eq!(ours(1_566_656_122, 179_803_123, Fraction::Micros), "2019-08-24T14:15:22.179803Z");
        assert_eq!(ours(951_782_400, 0, Fraction::Millis), "2000-02-29T00:00:00.000Z");
        assert_eq!(ours(-1, 0, Fraction::Millis), "1969-12-31T23:59:59.000Z");
        assert_eq!(ours(253_402_300_799, 0, Fraction::Millis), "9999-12-31T23:59:59.000Z");
        assert_eq!(ours(-62_167_219_200, 0, Fraction::Millis), "0000-01-01T00:00:00.000Z");
        let t = DateTime::<Utc>::from_timestamp(1_566_656_122, 5_000_000).expect("instant");
        assert_eq!(millis(&t), t.to_rfc3339_opts(SecondsFormat::Millis, true));
    }

    #[test]
    fn outside_four_digit_years_and_leap_seconds_are_chrono_s() {
        for (secs, nanos) in [(253_402_300_800, 0), (-62_167_219_201, 0), (1_483_228_799, 1_500_000_000)] {
            for fraction in [Fraction::Millis, Fraction::Micros] {
                assert_eq!(ours(secs, nanos, fraction), chrono_s(secs, nanos, fraction), "{secs} {nanos}");
            }
        }
    }

    proptest! {
        #[test]
        fn the_same_text_as_chrono(secs in -70_000_000_000i64..260_000_000_000, nanos in 0u32..1_000_000_000) {
            for fraction in [Fraction::Millis, Fraction::Micros] {
                prop_assert_eq!(ours(secs, nanos, fraction), chrono_s(secs, nanos, fraction));
            }
        }
    }
}
