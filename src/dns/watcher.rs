//! Polls every configured record at every configured nameserver, keeps the
//! history each state is derived from, and answers the engine's two questions:
//! may this wave cut over, and is it done.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::config::{DnsSection, NameserverRole, RecordConfig};
use super::gate::{blocking_first, gate_reason, wave_records_done};
use super::history::{Expectation, RecordHistory};
use super::probe::Probe;
use super::state::{NameserverAnswer, RecordState, RecordStatus};
use super::value::RecordKind;

/// Records queried at the same time; each asks all its nameservers at once.
const RECORDS_IN_FLIGHT: usize = 16;

/// Shortest interval [`Watcher::spawn`] accepts, so a typo cannot flood a
/// nameserver.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// The source of "now" for TTL arithmetic; tests inject a fixed clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// One record being watched.
struct Watched {
    name: String,
    rtype: String,
    wave: Option<String>,
    tenant: Option<String>,
    /// The fully qualified name and type to ask for, or why the plan's
    /// record cannot be asked for (validation reports it too).
    query: Result<(String, RecordKind), String>,
    expected: Expectation,
    history: RecordHistory,
}

/// Watches the plan's DNS records; see the module documentation.
pub struct Watcher {
    gate_enabled: bool,
    interval: Duration,
    clock: Arc<dyn Clock>,
    probes: Vec<Probe>,
    records: Vec<Watched>,
    errors: u64,
}

impl Watcher {
    /// Sets up the watcher; nothing is queried until [`Watcher::poll_once`].
    /// An invalid record or nameserver is kept and reported in its status,
    /// never a panic.
    #[must_use]
    pub fn new(section: DnsSection, clock: Arc<dyn Clock>) -> Self {
        let gate_enabled = section.gate_enabled();
        let interval = section.interval();
        let timeout = section.timeout();
        let probes: Vec<Probe> = section
            .nameservers
            .iter()
            .map(|nameserver| Probe::new(nameserver, timeout))
            .collect();
        let resolvers_watched = probes
            .iter()
            .any(|probe| probe.role == NameserverRole::Resolver);
        let records = section
            .records
            .into_iter()
            .map(|record| watched(&record, resolvers_watched))
            .collect();
        Self {
            gate_enabled,
            interval,
            clock,
            probes,
            records,
            errors: 0,
        }
    }

    /// Asks every nameserver for every record once and folds the answers
    /// into each record's history. Failures become answers with an `error`.
    pub async fn poll_once(&mut self) {
        for probe in &mut self.probes {
            probe.prepare();
        }
        let asks: Vec<_> = self
            .records
            .iter()
            .map(|record| ask_record(record, &self.probes, self.clock.as_ref()))
            .collect();
        let rounds: Vec<Option<Vec<NameserverAnswer>>> = futures::stream::iter(asks)
            .buffered(RECORDS_IN_FLIGHT)
            .collect()
            .await;
        let at = self.clock.now();
        for (record, round) in self.records.iter_mut().zip(rounds) {
            let Some(round) = round else { continue };
            self.errors += count_errors(&self.probes, &round);
            log_new_failures(record, &round);
            let before = record.history.verdict(&record.expected, at).state;
            record.history.observe(round, &record.expected, at);
            let verdict = record.history.verdict(&record.expected, at);
            if verdict.state != before {
                tracing::info!(record = %record.name, rtype = %record.rtype, from = %before,
                    to = %verdict.state, "dns record state: {}", verdict.reason);
            }
        }
    }

    /// Every record's status, what holds a wave first.
    #[must_use]
    pub fn statuses(&self) -> Vec<RecordStatus> {
        let now = self.clock.now();
        let mut statuses: Vec<RecordStatus> = self
            .records
            .iter()
            .map(|record| status(record, now))
            .collect();
        statuses.sort_by(blocking_first);
        statuses
    }

    /// `Some("held: …")` while the wave's records are not all ready (or
    /// beyond); `None` when it may go, when gating is off, or when no record
    /// is configured.
    #[must_use]
    pub fn gate(&self, wave: &str, tenants_of_wave: &[String]) -> Option<String> {
        if !self.gate_enabled {
            return None;
        }
        gate_reason(&self.statuses(), wave, tenants_of_wave)
    }

    /// Whether every record of the wave answers the new value everywhere.
    #[must_use]
    pub fn wave_done(&self, wave: &str, tenants: &[String]) -> bool {
        wave_records_done(&self.statuses(), wave, tenants)
    }

    /// Failed queries (timeouts, SERVFAIL, refused…) since the watcher began.
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors
    }

    /// Whether the plan has the gate on (see [`DnsSection::gate_enabled`]).
    #[must_use]
    pub fn gate_enabled(&self) -> bool {
        self.gate_enabled
    }

    /// Polls now and then every `interval` (the plan's when `None`), and
    /// publishes the statuses after each poll. The task ends when every
    /// receiver is dropped; abort the handle to stop it sooner.
    ///
    /// # Panics
    /// When called outside a Tokio runtime, like [`tokio::spawn`].
    #[must_use]
    pub fn spawn(
        mut self,
        interval: Option<Duration>,
    ) -> (watch::Receiver<Vec<RecordStatus>>, JoinHandle<()>) {
        let period = interval.unwrap_or(self.interval).max(MIN_INTERVAL);
        let (sender, receiver) = watch::channel(self.statuses());
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                self.poll_once().await;
                if sender.send(self.statuses()).is_err() {
                    break;
                }
            }
        });
        (receiver, task)
    }
}

fn watched(record: &RecordConfig, resolvers_watched: bool) -> Watched {
    let normalized = record.normalized();
    let (before, after) = normalized
        .as_ref()
        .map(|n| (n.before.clone(), n.after.clone()))
        .unwrap_or_default();
    Watched {
        name: record.display_name(),
        rtype: record.kind().map_or_else(
            || record.rtype.get_ref().clone(),
            |kind| kind.as_str().to_owned(),
        ),
        wave: record.wave.as_ref().map(|wave| wave.get_ref().clone()),
        tenant: record
            .tenant
            .as_ref()
            .map(|tenant| tenant.get_ref().clone()),
        query: normalized.map(|n| (n.name, n.kind)),
        expected: Expectation {
            name: record.display_name(),
            before,
            after,
            target_ttl: *record.target_ttl.get_ref(),
            resolvers_watched,
        },
        history: RecordHistory::default(),
    }
}

/// One record at every nameserver at once; `None` when the record cannot be
/// asked for at all.
async fn ask_record(
    record: &Watched,
    probes: &[Probe],
    clock: &dyn Clock,
) -> Option<Vec<NameserverAnswer>> {
    let (name, kind) = record.query.as_ref().ok()?;
    Some(join_all(probes.iter().map(|probe| ask(probe, name, *kind, clock))).await)
}

async fn ask(probe: &Probe, name: &str, kind: RecordKind, clock: &dyn Clock) -> NameserverAnswer {
    let reply = probe.ask(name, kind).await;
    NameserverAnswer {
        nameserver: probe.label.clone(),
        role: probe.role,
        values: reply.values,
        ttl: reply.ttl,
        at: clock.now(),
        error: reply.error,
    }
}

/// Failed answers, leaving out nameservers whose address the plan got wrong:
/// that is a configuration problem, reported by validation.
fn count_errors(probes: &[Probe], round: &[NameserverAnswer]) -> u64 {
    let failed = probes
        .iter()
        .zip(round)
        .filter(|(probe, answer)| answer.error.is_some() && !probe.misconfigured())
        .count();
    u64::try_from(failed).unwrap_or(u64::MAX)
}

/// Warns once when a nameserver starts failing for a record, not every poll.
fn log_new_failures(record: &Watched, round: &[NameserverAnswer]) {
    for answer in round {
        let Some(error) = &answer.error else { continue };
        let failed_before = record
            .history
            .latest()
            .iter()
            .any(|old| old.nameserver == answer.nameserver && old.error.is_some());
        if !failed_before {
            tracing::warn!(record = %record.name, nameserver = %answer.nameserver, %error,
                "dns query failed");
        }
    }
}

fn status(record: &Watched, now: DateTime<Utc>) -> RecordStatus {
    let verdict = match &record.query {
        Ok(_) => record.history.verdict(&record.expected, now),
        Err(reason) => super::history::Verdict {
            state: RecordState::Unreachable,
            safe_at: None,
            lagging: Vec::new(),
            reason: format!("{} is not watched: {reason}", record.name),
        },
    };
    RecordStatus {
        name: record.name.clone(),
        rtype: record.rtype.clone(),
        wave: record.wave.clone(),
        tenant: record.tenant.clone(),
        state: verdict.state,
        answers: record.history.latest().to_vec(),
        safe_at: verdict.safe_at,
        lagging: verdict.lagging,
        reason: verdict.reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct FixedClock(DateTime<Utc>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[derive(serde::Deserialize)]
    struct Plan {
        dns: DnsSection,
    }

    fn watcher(text: &str) -> Watcher {
        let section = toml::from_str::<Plan>(text).expect("test plan parses").dns;
        let clock = Utc
            .with_ymd_and_hms(2025, 3, 1, 14, 0, 0)
            .single()
            .unwrap_or_default();
        Watcher::new(section, Arc::new(FixedClock(clock)))
    }

    const BROKEN: &str = r#"
[dns]
gate = GATE
[[dns.nameserver]]
name = "ns1"
address = "not an address"
role = "authoritative"
[[dns.record]]
name = "mail.example.test"
type = "SRV"
after = ["x"]
wave = "pilot"
"#;

    #[tokio::test]
    async fn a_broken_plan_is_reported_in_the_status_not_a_panic() {
        let mut watcher = watcher(&BROKEN.replace("GATE", "true"));
        assert_eq!(
            watcher.statuses()[0].reason,
            "mail.example.test is not watched: type `SRV` is not one of A, AAAA, CNAME, MX, TXT"
        );
        watcher.poll_once().await;
        let status = &watcher.statuses()[0];
        assert_eq!(status.state, RecordState::Unreachable);
        assert_eq!(status.rtype, "SRV");
        assert_eq!(
            watcher.error_count(),
            0,
            "a plan mistake is not a DNS error"
        );
        assert!(watcher.gate("pilot", &[]).is_some());
        assert!(!watcher.wave_done("pilot", &[]));
    }

    #[tokio::test]
    async fn a_bad_nameserver_address_is_an_answer_with_an_error() {
        let text = BROKEN
            .replace("GATE", "true")
            .replace("SRV", "A")
            .replace("\"x\"", "\"192.0.2.1\"");
        let mut watcher = watcher(&text);
        watcher.poll_once().await;
        let status = &watcher.statuses()[0];
        assert_eq!(status.state, RecordState::Unreachable, "{status:?}");
        let error = status.answers[0].error.as_deref().unwrap_or_default();
        assert!(error.contains("not an IP address"), "{error}");
        assert_eq!(watcher.error_count(), 0);
    }

    #[test]
    fn gating_off_opens_every_wave() {
        let watcher = watcher(&BROKEN.replace("GATE", "false"));
        assert!(!watcher.gate_enabled());
        assert_eq!(watcher.gate("pilot", &[]), None);
        assert_eq!(watcher.statuses()[0].state, RecordState::Unreachable);
    }
}
