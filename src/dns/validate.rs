//! Checks on the `[dns]` table, reported with the byte span of the value at
//! fault so the plan loader can print line and column like any other error.

use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;

use super::config::{DnsSection, NameserverRole, RecordConfig};
use super::value::{RecordKind, normalize_name, normalize_value, value_set};

/// One problem: where it is, what is wrong, and how to fix it.
pub type Problem = (Range<usize>, String, Option<String>);

impl DnsSection {
    /// Every problem in the section, in file order within each kind of check.
    /// `waves` and `tenants` are the plan's ids that records may refer to.
    #[must_use]
    pub fn validate(&self, waves: &[String], tenants: &[String]) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_timing(&mut problems);
        self.check_nameservers(&mut problems);
        let mut seen = HashSet::new();
        for record in &self.records {
            check_record(record, &mut problems);
            check_reference(record.wave.as_ref(), "wave", waves, &mut problems);
            check_reference(record.tenant.as_ref(), "tenant", tenants, &mut problems);
            if let (Some(_), Some(tenant)) = (&record.wave, &record.tenant) {
                problems.push((
                    tenant.span(),
                    "a record gates either a wave or a tenant, not both".to_owned(),
                    Some("keep the one that says who moves when this record switches".to_owned()),
                ));
            }
            let key = (
                record.display_name(),
                record.rtype.get_ref().to_ascii_uppercase(),
            );
            if !seen.insert(key) {
                problems.push((
                    record.name.span(),
                    format!(
                        "{} {} is listed twice",
                        record.display_name(),
                        record.rtype.get_ref()
                    ),
                    Some("list every value of a record in one [[dns.record]]".to_owned()),
                ));
            }
        }
        problems
    }

    fn check_timing(&self, problems: &mut Vec<Problem>) {
        if *self.interval_secs.get_ref() == 0 {
            problems.push((
                self.interval_secs.span(),
                "interval-secs must be at least 1".to_owned(),
                Some("30 s notices a TTL change well within any sensible target TTL".to_owned()),
            ));
        }
        if *self.timeout_ms.get_ref() == 0 {
            problems.push((
                self.timeout_ms.span(),
                "timeout-ms must be at least 1".to_owned(),
                Some("2000 ms lets a distant nameserver answer".to_owned()),
            ));
        }
    }

    fn check_nameservers(&self, problems: &mut Vec<Problem>) {
        let mut names = HashSet::new();
        for nameserver in &self.nameservers {
            let name = nameserver.name.get_ref().trim();
            if name.is_empty() {
                problems.push((
                    nameserver.name.span(),
                    "the nameserver's name is empty".to_owned(),
                    Some("the war room labels answers with it, e.g. \"ns1\"".to_owned()),
                ));
            } else if !names.insert(name.to_owned()) {
                problems.push((
                    nameserver.name.span(),
                    format!("nameserver `{name}` is named twice"),
                    Some("give each nameserver its own label".to_owned()),
                ));
            }
            if let Err(reason) = nameserver.socket_addr() {
                problems.push((
                    nameserver.address.span(),
                    reason,
                    Some(
                        "write ip:port, e.g. \"192.0.2.53:53\"; host names are not resolved"
                            .to_owned(),
                    ),
                ));
            }
        }
        if let Some(first) = self.records.first()
            && self.nameservers.is_empty()
        {
            problems.push((
                first.name.span(),
                "records are listed but no [[dns.nameserver]] is".to_owned(),
                Some(
                    "add the zone's authoritative servers with role = \"authoritative\"".to_owned(),
                ),
            ));
        }
        let has_authoritative = self
            .nameservers
            .iter()
            .any(|nameserver| nameserver.role == NameserverRole::Authoritative);
        if let Some(first) = self.nameservers.first()
            && !has_authoritative
        {
            problems.push((
                first.name.span(),
                "no nameserver has role = \"authoritative\"".to_owned(),
                Some(
                    "the TTL that must be lowered is the one the zone's own servers publish"
                        .to_owned(),
                ),
            ));
        }
    }
}

fn check_record(record: &RecordConfig, problems: &mut Vec<Problem>) {
    if let Err(reason) = normalize_name(record.name.get_ref()) {
        problems.push((record.name.span(), reason, None));
    }
    if *record.target_ttl.get_ref() == 0 {
        problems.push((
            record.target_ttl.span(),
            "target-ttl must be at least 1 second".to_owned(),
            Some(
                "300 s is usual: short enough to switch fast, long enough to keep load low"
                    .to_owned(),
            ),
        ));
    }
    if record.after.is_empty() {
        problems.push((
            record.name.span(),
            format!("{} has no `after` value", record.display_name()),
            Some("list what the record answers once the cutover has switched it".to_owned()),
        ));
    }
    let Some(kind) = record.kind() else {
        problems.push((
            record.rtype.span(),
            format!(
                "type `{}` is not one the watcher knows",
                record.rtype.get_ref()
            ),
            Some(format!("use one of {}", RecordKind::list())),
        ));
        return;
    };
    let before = check_values(kind, &record.before, problems);
    let after = check_values(kind, &record.after, problems);
    if let (Some(before), Some(after)) = (before, after)
        && !after.is_empty()
        && before == after
    {
        problems.push((
            record.name.span(),
            format!("{}: before and after are the same", record.display_name()),
            Some("the watcher tells old from new by these values".to_owned()),
        ));
    }
}

/// Checks each value; returns the normalised set when all of them parse.
fn check_values(
    kind: RecordKind,
    values: &[Spanned<String>],
    problems: &mut Vec<Problem>,
) -> Option<Vec<String>> {
    let mut normal = Vec::new();
    let mut all_parse = true;
    for value in values {
        match normalize_value(kind, value.get_ref()) {
            Ok(text) => normal.push(text),
            Err(reason) => {
                all_parse = false;
                problems.push((value.span(), reason, value_hint(kind)));
            }
        }
    }
    if kind == RecordKind::Cname
        && let Some(extra) = values.get(1)
    {
        problems.push((
            extra.span(),
            "a CNAME holds exactly one name".to_owned(),
            None,
        ));
    }
    all_parse.then(|| value_set(normal))
}

fn value_hint(kind: RecordKind) -> Option<String> {
    let example = match kind {
        RecordKind::A => "\"192.0.2.10\"",
        RecordKind::Aaaa => "\"2001:db8::10\"",
        RecordKind::Cname => "\"mail.example.net.\"",
        RecordKind::Mx => "\"10 mail.example.net.\"",
        RecordKind::Txt => return None,
    };
    Some(format!("a {} value looks like {example}", kind.as_str()))
}

fn check_reference(
    reference: Option<&Spanned<String>>,
    what: &str,
    known: &[String],
    problems: &mut Vec<Problem>,
) {
    let Some(reference) = reference else { return };
    if known.iter().any(|id| id == reference.get_ref()) {
        return;
    }
    let hint = if known.is_empty() {
        format!("the plan defines no {what}s")
    } else {
        format!("known {what}s: {}", known.join(", "))
    };
    problems.push((
        reference.span(),
        format!("unknown {what} `{}`", reference.get_ref()),
        Some(hint),
    ));
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
