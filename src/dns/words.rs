//! Times and durations the way an operator reads them in a reason sentence.

use chrono::{DateTime, TimeDelta, Utc};

/// `14:32Z`, or `14:32:05Z` when the seconds matter (short test TTLs).
pub(crate) fn clock(at: DateTime<Utc>) -> String {
    if at.format("%S").to_string() == "00" {
        at.format("%H:%MZ").to_string()
    } else {
        at.format("%H:%M:%SZ").to_string()
    }
}

/// `40 s`, `12 min`, `3 h 5 min`; negative spans count as zero.
pub(crate) fn duration(span: TimeDelta) -> String {
    let secs = span.num_seconds().max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// `ns1`, `ns1 and ns2`, `ns1, ns2 and ns3`.
pub(crate) fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A value set as a reader expects it; an empty answer is "nothing".
pub(crate) fn values(values: &[String]) -> String {
    if values.is_empty() {
        "nothing".to_owned()
    } else {
        values.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn reads_naturally() {
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 14, 32, 0).single();
        assert_eq!(at.map(clock).as_deref(), Some("14:32Z"));
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 14, 32, 5).single();
        assert_eq!(at.map(clock).as_deref(), Some("14:32:05Z"));
        assert_eq!(duration(TimeDelta::seconds(40)), "40 s");
        assert_eq!(duration(TimeDelta::seconds(12 * 60 + 5)), "12 min");
        assert_eq!(duration(TimeDelta::seconds(3 * 3600 + 300)), "3 h 5 min");
        assert_eq!(duration(TimeDelta::seconds(-3)), "0 s");
        let names = ["ns1".to_owned(), "ns2".to_owned(), "ns3".to_owned()];
        assert_eq!(list(&names), "ns1, ns2 and ns3");
        assert_eq!(list(&names[..1]), "ns1");
        assert_eq!(values(&[]), "nothing");
    }
}
