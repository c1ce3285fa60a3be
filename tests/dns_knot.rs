//! The DNS watcher against two real Knot servers (scripts/dns-testbed.sh):
//! TTLs lowered and values switched live, a lagging second server, a wave held
//! and released by the gate, and a nameserver that does not exist.
//!
//! Each test owns its record names and sets them before use, so the tests
//! can share the servers and run in parallel. Short TTLs keep the whole file
//! well under a minute.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover::dns::{
    DnsSection, RecordState, RecordStatus, SystemClock, Watcher, gate_reason, wave_records_done,
};
use serde::Deserialize;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dns-testbed.sh");
const ZONE: &str = "example.test";

/// Runs the testbed script and fails the test loudly when it fails.
fn testbed(args: &[&str]) {
    let output = Command::new("bash")
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {SCRIPT}: {error}"));
    assert!(
        output.status.success(),
        "dns-testbed.sh {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn port(server: &str, default: u16) -> u16 {
    std::env::var(format!("CUTOVER_DNS_{server}_PORT"))
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

#[derive(Deserialize)]
struct Plan {
    dns: DnsSection,
}

/// A `[dns]` table with one A record from 127.0.0.1 to 127.0.0.2, target
/// TTL 2 s, asked of the given `(name, address, role)` nameservers.
fn section(label: &str, nameservers: &[(&str, String, &str)], extra: &str) -> DnsSection {
    let mut text = String::from("[dns]\ninterval-secs = 1\ntimeout-ms = 400\n");
    for (name, address, role) in nameservers {
        let _ = write!(
            text,
            "[[dns.nameserver]]\nname = \"{name}\"\naddress = \"{address}\"\nrole = \"{role}\"\n"
        );
    }
    let _ = write!(
        text,
        "[[dns.record]]\nname = \"{label}.{ZONE}\"\ntype = \"A\"\nbefore = [\"127.0.0.1\"]\n\
         after = [\"127.0.0.2\"]\ntarget-ttl = 2\n{extra}"
    );
    let section = toml::from_str::<Plan>(&text)
        .unwrap_or_else(|error| panic!("test plan does not parse: {error}\n{text}"))
        .dns;
    let problems = section.validate(&["pilot".into()], &["acme".into()]);
    assert!(problems.is_empty(), "test plan is invalid: {problems:?}");
    section
}

fn ns1() -> (&'static str, String, &'static str) {
    (
        "ns1",
        format!("127.0.0.1:{}", port("NS1", 5353)),
        "authoritative",
    )
}

fn ns2_as_resolver() -> (&'static str, String, &'static str) {
    (
        "ns2",
        format!("127.0.0.1:{}", port("NS2", 5354)),
        "resolver",
    )
}

fn only(statuses: &[RecordStatus]) -> &RecordStatus {
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    &statuses[0]
}

async fn poll(watcher: &mut Watcher) -> RecordStatus {
    watcher.poll_once().await;
    only(&watcher.statuses()).clone()
}

/// Polls until the record leaves `state`, for at most `limit`.
async fn poll_while(watcher: &mut Watcher, state: RecordState, limit: Duration) -> RecordStatus {
    let started = Instant::now();
    loop {
        let status = poll(watcher).await;
        if status.state != state || started.elapsed() > limit {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_record_moves_from_ttl_high_to_done_with_a_lagging_server() {
    testbed(&["start"]);
    testbed(&["set", "life", "A", "5", "127.0.0.1", "both"]);
    let wave = "wave = \"pilot\"\n";
    let mut watched = Watcher::new(
        section("life", &[ns1(), ns2_as_resolver()], wave),
        Arc::new(SystemClock),
    );
    let mut authoritative_only =
        Watcher::new(section("life", &[ns1()], wave), Arc::new(SystemClock));

    let status = poll(&mut watched).await;
    assert_eq!(status.state, RecordState::TtlHigh, "{status:?}");
    assert_eq!(status.reason, "life.example.test TTL 5 s > 2 s");
    assert_eq!(status.answers.len(), 2);
    assert!(
        status
            .answers
            .iter()
            .all(|a| a.ttl == Some(5) && a.error.is_none()),
        "{status:?}"
    );
    assert_eq!(
        watched.gate("pilot", &[]).as_deref(),
        Some("held: life.example.test TTL 5 s > 2 s")
    );
    assert_eq!(
        poll(&mut authoritative_only).await.state,
        RecordState::TtlHigh
    );

    testbed(&["set", "life", "A", "2", "127.0.0.1", "both"]);
    let lowered = Instant::now();
    let status = poll(&mut watched).await;
    assert_eq!(status.state, RecordState::Lowering, "{status:?}");
    assert!(status.reason.contains("TTL lowered"), "{}", status.reason);
    let safe_at = status.safe_at.expect("lowering says when it is safe");
    let wait = (safe_at - chrono::Utc::now()).num_milliseconds();
    assert!(
        (3000..=5500).contains(&wait),
        "safe in {wait} ms, expected about 5 s"
    );
    assert!(
        watched
            .gate("pilot", &[])
            .is_some_and(|r| r.contains("lowered"))
    );
    assert_eq!(
        poll(&mut authoritative_only).await.state,
        RecordState::Lowering
    );

    let status = poll_while(&mut watched, RecordState::Lowering, Duration::from_secs(8)).await;
    assert_eq!(status.state, RecordState::Ready, "{status:?}");
    assert!(
        lowered.elapsed() >= Duration::from_secs(4),
        "ready too early"
    );
    assert_eq!(watched.gate("pilot", &[]), None);
    let status = poll_while(
        &mut authoritative_only,
        RecordState::Lowering,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(status.state, RecordState::Ready, "{status:?}");

    testbed(&["set", "life", "A", "2", "127.0.0.2", "ns1"]);
    let status = poll(&mut watched).await;
    assert_eq!(status.state, RecordState::Propagating, "{status:?}");
    assert_eq!(status.lagging, ["ns2"]);
    assert!(
        status
            .reason
            .starts_with("ns2 still answers the old value, at most until"),
        "{}",
        status.reason
    );
    assert_eq!(
        watched.gate("pilot", &[]),
        None,
        "a switched record does not hold its wave"
    );
    assert!(!watched.wave_done("pilot", &[]));
    let status = poll(&mut authoritative_only).await;
    assert_eq!(status.state, RecordState::Switched, "{status:?}");

    testbed(&["set", "life", "A", "2", "127.0.0.2", "ns2"]);
    let status = poll(&mut watched).await;
    assert_eq!(status.state, RecordState::Done, "{status:?}");
    assert!(status.lagging.is_empty());
    assert!(watched.wave_done("pilot", &[]));
    assert!(wave_records_done(&watched.statuses(), "pilot", &[]));
    let status = poll_while(
        &mut authoritative_only,
        RecordState::Switched,
        Duration::from_secs(4),
    )
    .await;
    assert_eq!(status.state, RecordState::Done, "{status:?}");
    assert_eq!(watched.error_count(), 0);
}

#[tokio::test]
async fn an_unreachable_nameserver_is_reported_not_fatal() {
    testbed(&["start"]);
    testbed(&["set", "dead", "A", "5", "127.0.0.1", "both"]);
    let nowhere = "127.0.0.1:5399".to_owned();

    let mut alone = Watcher::new(
        section("dead", &[("gone", nowhere.clone(), "authoritative")], ""),
        Arc::new(SystemClock),
    );
    let status = poll(&mut alone).await;
    assert_eq!(status.state, RecordState::Unreachable, "{status:?}");
    assert!(status.answers[0].error.is_some(), "{status:?}");
    assert!(
        status
            .reason
            .starts_with("no authoritative nameserver answered"),
        "{}",
        status.reason
    );
    assert_eq!(alone.error_count(), 1);
    assert!(
        alone.gate("pilot", &[]).is_some(),
        "an unreachable record holds every wave"
    );
    poll(&mut alone).await;
    assert_eq!(alone.error_count(), 2);

    let mut beside = Watcher::new(
        section("dead", &[ns1(), ("gone", nowhere, "resolver")], ""),
        Arc::new(SystemClock),
    );
    let status = poll(&mut beside).await;
    assert_eq!(status.state, RecordState::TtlHigh, "{status:?}");
    let gone = status
        .answers
        .iter()
        .find(|a| a.nameserver == "gone")
        .expect("gone answered");
    assert!(gone.error.is_some(), "{gone:?}");
    assert_eq!(beside.error_count(), 1);
}

#[tokio::test]
async fn a_wave_is_held_until_its_records_are_ready_and_spawn_publishes() {
    testbed(&["start"]);
    testbed(&["set", "gate-pilot", "A", "1", "127.0.0.1", "both"]);
    testbed(&["set", "gate-acme", "A", "3", "127.0.0.1", "both"]);
    let mut section = section("gate-pilot", &[ns1()], "wave = \"pilot\"\n");
    let mut acme = section.records[0].clone();
    acme.name = toml::Spanned::new(0..0, format!("gate-acme.{ZONE}"));
    acme.wave = None;
    acme.tenant = Some(toml::Spanned::new(0..0, "acme".to_owned()));
    section.records.push(acme);
    let acme_tenants = ["acme".to_owned()];

    let (mut statuses, task) =
        Watcher::new(section, Arc::new(SystemClock)).spawn(Some(Duration::from_millis(300)));
    let first: Vec<RecordStatus> = statuses
        .wait_for(|s| s.iter().all(|r| !r.answers.is_empty()))
        .await
        .map(|published| published.clone())
        .expect("the watcher publishes");
    let held = gate_reason(&first, "pilot", &acme_tenants).unwrap_or_default();
    assert!(
        held.starts_with("held: gate-acme.example.test TTL 3 s > 2 s"),
        "{held}"
    );

    testbed(&["set", "gate-acme", "A", "2", "127.0.0.1", "both"]);
    let released = tokio::time::timeout(
        Duration::from_secs(10),
        statuses.wait_for(|s| {
            s.iter().all(|r| r.state == RecordState::Ready)
                && gate_reason(s, "pilot", &acme_tenants).is_none()
        }),
    )
    .await
    .is_ok_and(|published| published.is_ok());
    let latest = statuses.borrow().clone();
    assert!(released, "the wave was never released: {latest:?}");
    assert!(!wave_records_done(&latest, "pilot", &acme_tenants));
    assert_eq!(
        gate_reason(&latest, "later", &[]),
        None,
        "other waves are not held"
    );
    task.abort();
}
