//! Record types and values in one normal form, so that what the plan says and
//! what a nameserver answers can be compared as plain strings.
//!
//! Names are lower-case with a trailing dot, addresses are in their canonical
//! text form, MX is `"<preference> <exchange>"`, TXT is the concatenation of
//! its character-strings (the way SPF and DKIM readers see it).

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_resolver::proto::rr::{RData, RecordType};

/// The record types a cutover moves: addresses, aliases, mail exchangers and
/// the TXT records (SPF, verification) that travel with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
}

impl RecordKind {
    /// Every kind, in the order they are listed in messages.
    pub const ALL: [RecordKind; 5] = [Self::A, Self::Aaaa, Self::Cname, Self::Mx, Self::Txt];

    /// Reads the plan's `type` field; case does not matter.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The type as DNS writes it (`A`, `AAAA`, `CNAME`, `MX`, `TXT`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Mx => "MX",
            Self::Txt => "TXT",
        }
    }

    pub(crate) fn record_type(self) -> RecordType {
        match self {
            Self::A => RecordType::A,
            Self::Aaaa => RecordType::AAAA,
            Self::Cname => RecordType::CNAME,
            Self::Mx => RecordType::MX,
            Self::Txt => RecordType::TXT,
        }
    }

    /// The plan's spelling of every kind, for hints.
    #[must_use]
    pub fn list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// A domain name in normal form: lower case, trailing dot. Rejects what no
/// nameserver could hold, so a typo is caught by validation, not at 3 a.m.
///
/// # Errors
/// A plain-words description of what is wrong with the name.
pub fn normalize_name(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let bare = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if bare.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if bare.len() > 253 {
        return Err(format!("`{bare}` is longer than 253 characters"));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(format!(
                "`{trimmed}` has an empty label (two dots in a row)"
            ));
        }
        if label.len() > 63 {
            return Err(format!("`{label}` is longer than 63 characters"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*';
        if let Some(bad) = label.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "`{trimmed}` contains `{bad}`, which a host name cannot"
            ));
        }
    }
    Ok(format!("{}.", bare.to_ascii_lowercase()))
}

/// One plan value (`before` or `after`) in normal form for its record type.
///
/// # Errors
/// A plain-words description of why the value does not fit the type.
pub fn normalize_value(kind: RecordKind, raw: &str) -> Result<String, String> {
    let text = raw.trim();
    match kind {
        RecordKind::A => text
            .parse::<Ipv4Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("`{text}` is not an IPv4 address")),
        RecordKind::Aaaa => text
            .parse::<Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("`{text}` is not an IPv6 address")),
        RecordKind::Cname => normalize_name(text),
        RecordKind::Mx => {
            let mut parts = text.split_whitespace();
            let (Some(preference), Some(exchange), None) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("`{text}` is not `<preference> <host>`"));
            };
            let preference: u16 = preference
                .parse()
                .map_err(|_| format!("MX preference `{preference}` is not a number 0-65535"))?;
            Ok(format!("{preference} {}", normalize_name(exchange)?))
        }
        RecordKind::Txt => Ok(raw.to_owned()),
    }
}

/// The normal form of one answered record, or `None` for data of another
/// type (a CNAME met on the way to an A record, for instance).
pub(crate) fn rdata_value(kind: RecordKind, data: &RData) -> Option<String> {
    match (kind, data) {
        (RecordKind::A, RData::A(a)) => Some(a.0.to_string()),
        (RecordKind::Aaaa, RData::AAAA(aaaa)) => Some(aaaa.0.to_string()),
        (RecordKind::Cname, RData::CNAME(cname)) => Some(answered_name(&cname.0.to_ascii())),
        (RecordKind::Mx, RData::MX(mx)) => Some(format!(
            "{} {}",
            mx.preference,
            answered_name(&mx.exchange.to_ascii())
        )),
        (RecordKind::Txt, RData::TXT(txt)) => Some(
            txt.txt_data
                .iter()
                .map(|part| String::from_utf8_lossy(part))
                .collect(),
        ),
        _ => None,
    }
}

/// Names on the wire are already valid; only case and the final dot vary.
fn answered_name(name: &str) -> String {
    let bare = name.strip_suffix('.').unwrap_or(name);
    format!("{}.", bare.to_ascii_lowercase())
}

/// A set of values in one order, so equal sets compare equal.
pub(crate) fn value_set(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_in_any_case() {
        assert_eq!(RecordKind::parse("aaaa"), Some(RecordKind::Aaaa));
        assert_eq!(RecordKind::parse(" MX "), Some(RecordKind::Mx));
        assert_eq!(RecordKind::parse("SRV"), None);
    }

    #[test]
    fn values_normalise() {
        let cases = [
            (RecordKind::A, "127.0.0.1", Ok("127.0.0.1")),
            (RecordKind::A, "127.0.0", Err(())),
            (RecordKind::Aaaa, "2001:DB8:0::1", Ok("2001:db8::1")),
            (RecordKind::Aaaa, "127.0.0.1", Err(())),
            (
                RecordKind::Cname,
                "Mail.Example.Test",
                Ok("mail.example.test."),
            ),
            (
                RecordKind::Cname,
                "mail.example.test.",
                Ok("mail.example.test."),
            ),
            (RecordKind::Cname, "mail..test", Err(())),
            (RecordKind::Cname, "mail example", Err(())),
            (
                RecordKind::Mx,
                "10 MAIL.example.test",
                Ok("10 mail.example.test."),
            ),
            (RecordKind::Mx, "mail.example.test", Err(())),
            (RecordKind::Mx, "70000 mail.example.test", Err(())),
            (RecordKind::Mx, "10 a b", Err(())),
            (RecordKind::Txt, "v=spf1 -all", Ok("v=spf1 -all")),
        ];
        for (kind, raw, want) in cases {
            let got = normalize_value(kind, raw);
            match want {
                Ok(text) => assert_eq!(got.as_deref(), Ok(text), "{kind:?} {raw}"),
                Err(()) => assert!(got.is_err(), "{kind:?} {raw} should fail, got {got:?}"),
            }
        }
    }

    #[test]
    fn answered_data_matches_plan_form() {
        use hickory_resolver::proto::rr::Name;
        use hickory_resolver::proto::rr::rdata::{CNAME, MX, TXT};

        let exchange = Name::from_ascii("MAIL.example.test.").expect("literal name");
        let mx = RData::MX(MX::new(10, exchange.clone()));
        assert_eq!(
            rdata_value(RecordKind::Mx, &mx).as_deref(),
            Some("10 mail.example.test.")
        );
        let cname = RData::CNAME(CNAME(exchange));
        assert_eq!(
            rdata_value(RecordKind::Cname, &cname).as_deref(),
            Some("mail.example.test.")
        );
        assert_eq!(rdata_value(RecordKind::A, &cname), None);
        let txt = RData::TXT(TXT::new(vec!["v=spf1 ".into(), "-all".into()]));
        assert_eq!(
            rdata_value(RecordKind::Txt, &txt).as_deref(),
            Some("v=spf1 -all")
        );
    }
}
