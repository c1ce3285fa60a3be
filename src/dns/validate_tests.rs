use serde::Deserialize;

use super::super::config::{DnsSection, NameserverRole};

#[derive(Deserialize)]
struct Plan {
    dns: DnsSection,
}

const GOOD: &str = r#"
[dns]
interval-secs = 10
timeout-ms = 500
[[dns.nameserver]]
name = "ns1"
address = "127.0.0.1:5353"
role = "authoritative"
[[dns.nameserver]]
name = "isp"
address = "192.0.2.53"
role = "resolver"
[[dns.record]]
name = "Mail.Example.Test."
type = "a"
before = ["127.0.0.1"]
after = ["127.0.0.2"]
target-ttl = 300
wave = "pilot"
[[dns.record]]
name = "example.test"
type = "MX"
before = ["10 mail.example.test."]
after = ["10 mx.example.net"]
tenant = "acme"
"#;

fn parse(text: &str) -> DnsSection {
    toml::from_str::<Plan>(text).expect("test plan parses").dns
}

fn problems(text: &str) -> Vec<(String, String)> {
    let section = parse(text);
    section
        .validate(&["pilot".into()], &["acme".into()])
        .into_iter()
        .map(|(span, message, _)| (text[span].to_owned(), message))
        .collect()
}

#[test]
fn a_good_section_parses_with_defaults_and_passes() {
    let section = parse(GOOD);
    assert_eq!(problems(GOOD), Vec::<(String, String)>::new());
    assert_eq!(section.interval().as_secs(), 10);
    assert!(section.gate_enabled());
    assert_eq!(section.nameservers[1].role, NameserverRole::Resolver);
    assert_eq!(
        section.nameservers[1].socket_addr().map(|a| a.port()),
        Ok(53)
    );
    let mx = section.records[1].normalized().expect("valid record");
    assert_eq!(mx.after, vec!["10 mx.example.net.".to_owned()]);
    assert_eq!(*section.records[1].target_ttl.get_ref(), 300);
    assert_eq!(section.records[0].display_name(), "mail.example.test");
}

#[test]
fn defaults_without_records_turn_the_gate_off() {
    let section = parse("[dns]\n");
    assert_eq!(section.interval().as_secs(), 30);
    assert_eq!(section.timeout().as_millis(), 2000);
    assert!(!section.gate_enabled());
}

#[test]
fn unknown_keys_are_refused() {
    let text = "[dns]\ninterval = 3\n";
    assert!(toml::from_str::<Plan>(text).is_err());
}

#[test]
fn each_problem_points_at_its_value() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("type = \"a\"", "type = \"SRV\"", "\"SRV\"", "type `SRV`"),
        (
            "\"127.0.0.2\"",
            "\"127.0.0.300\"",
            "\"127.0.0.300\"",
            "not an IPv4",
        ),
        (
            "\"127.0.0.1:5353\"",
            "\"ns.example:53\"",
            "\"ns.example:53\"",
            "not an IP",
        ),
        (
            "wave = \"pilot\"",
            "wave = \"later\"",
            "\"later\"",
            "unknown wave `later`",
        ),
        (
            "tenant = \"acme\"",
            "tenant = \"nobody\"",
            "\"nobody\"",
            "unknown tenant",
        ),
        (
            "target-ttl = 300",
            "target-ttl = 0",
            "0",
            "target-ttl must be",
        ),
        (
            "interval-secs = 10",
            "interval-secs = 0",
            "0",
            "interval-secs must",
        ),
        (
            "\"10 mx.example.net\"",
            "\"mx.example.net\"",
            "\"mx.example.net\"",
            "preference",
        ),
        (
            "\"authoritative\"",
            "\"resolver\"",
            "\"ns1\"",
            "no nameserver has role",
        ),
        (
            "\"127.0.0.2\"",
            "\"127.0.0.1\"",
            "\"Mail.Example.Test.\"",
            "before and after are the same",
        ),
        ("name = \"isp\"", "name = \"ns1\"", "\"ns1\"", "named twice"),
    ];
    for (from, to, at, says) in cases {
        let text = GOOD.replacen(from, to, 1);
        let found = problems(&text);
        assert!(
            found
                .iter()
                .any(|(span, message)| span == at && message.contains(says)),
            "replacing {from} by {to}: expected `{says}` at {at}, got {found:?}"
        );
    }
}

#[test]
fn records_without_nameservers_and_both_wave_and_tenant_are_reported() {
    let text = r#"
[dns]
[[dns.record]]
name = "mail.example.test"
type = "CNAME"
before = ["a.example.test", "b.example.test"]
after = []
wave = "pilot"
tenant = "acme"
[[dns.record]]
name = "MAIL.example.test."
type = "cname"
after = ["c.example.test"]
"#;
    let found = problems(text);
    let says = |what: &str| found.iter().any(|(_, message)| message.contains(what));
    assert!(says("no [[dns.nameserver]]"), "{found:?}");
    assert!(says("exactly one name"), "{found:?}");
    assert!(says("no `after` value"), "{found:?}");
    assert!(says("not both"), "{found:?}");
    assert!(says("listed twice"), "{found:?}");
}

#[test]
fn bad_input_never_panics() {
    let text = r#"
[dns]
timeout-ms = 0
[[dns.nameserver]]
name = ""
address = ""
role = "authoritative"
[[dns.record]]
name = ".."
type = ""
before = [""]
after = [""]
"#;
    let found = problems(text);
    assert!(found.len() >= 4, "{found:?}");
}
