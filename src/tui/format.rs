//! Figures as people read them: short durations, sizes, UTC clock times.

use chrono::{DateTime, Utc};

/// `45s`, `12m`, `2h13m`, `3d04h`: the two largest units, no spaces.
#[must_use]
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    if days > 0 {
        format!("{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{hours}h{minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{secs}s")
    }
}

/// Like [`duration`] but to the second below ten minutes, for data age.
#[must_use]
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        duration(secs)
    }
}

/// `940 B`, `12.3 MB`, `1.2 GB` (decimal units, as mail quotas are sold).
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut unit = 0;
    let mut scaled = n;
    let mut tenths = 0;
    while scaled >= 1000 && unit + 1 < UNITS.len() {
        tenths = scaled % 1000 / 100;
        scaled /= 1000;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if scaled < 100 {
        format!("{scaled}.{tenths} {}", UNITS[unit])
    } else {
        format!("{scaled} {}", UNITS[unit])
    }
}

/// `12,345`.
#[must_use]
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds without false precision: `7.4`, `84`, `1840`.
#[must_use]
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// `22:00Z`.
#[must_use]
pub fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%MZ").to_string()
}

/// `06-14 22:00Z`.
#[must_use]
pub fn day_clock(at: DateTime<Utc>) -> String {
    at.format("%m-%d %H:%MZ").to_string()
}

/// A journal timestamp (RFC 3339) as `23:41:07Z`; anything else unchanged.
#[must_use]
pub fn journal_time(at: &str) -> String {
    DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_string(),
        |t| t.with_timezone(&Utc).format("%H:%M:%SZ").to_string(),
    )
}

/// A journal timestamp (RFC 3339) as `23:41Z`; anything else unchanged.
#[must_use]
pub fn journal_clock(at: &str) -> String {
    DateTime::parse_from_rfc3339(at)
        .map_or_else(|_| at.to_string(), |t| clock(t.with_timezone(&Utc)))
}

/// Pads or cuts `text` to exactly `width` characters.
#[must_use]
pub fn fit(text: &str, width: usize) -> String {
    let mut out: String = text.chars().take(width).collect();
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width - len));
    out
}

/// Right-aligns `text` in `width` characters, cutting from the left.
#[must_use]
pub fn fit_right(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len >= width {
        text.chars().skip(len - width).collect()
    } else {
        format!("{}{text}", " ".repeat(width - len))
    }
}

/// A ratio in 0..=1, with an empty whole counting as nothing done.
#[must_use]
pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "mailbox and message counts are far below 2^52"
    )]
    let r = part.min(whole) as f64 / whole as f64;
    r
}

/// A whole percentage, 0 to 100.
#[must_use]
pub fn percent(r: f64) -> u32 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 0..=100 first"
    )]
    let p = (r.clamp(0.0, 1.0) * 100.0).floor() as u32;
    p
}

/// How many of `width` cells `r` (0..=1) fills.
#[must_use]
pub fn cells(r: f64, width: usize) -> usize {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "widths are terminal columns, and r is clamped"
    )]
    let n = (r.clamp(0.0, 1.0) * width as f64).round() as usize;
    n.min(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_two_units() {
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(12 * 60 + 5), "12m");
        assert_eq!(duration(2 * 3600 + 13 * 60), "2h13m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3d04h");
        assert_eq!(duration(-5), "0s");
        assert_eq!(age(75), "1m15s");
    }

    #[test]
    fn sizes_and_counts() {
        assert_eq!(bytes(940), "940 B");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(123_456_789), "123 MB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn fitting_never_overflows() {
        assert_eq!(fit("wave-2-globex", 6), "wave-2");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit_right("42", 4), "  42");
        assert_eq!(cells(0.5, 9), 5);
        assert_eq!(cells(2.0, 9), 9);
        assert_eq!(percent(0.999), 99);
    }
}
