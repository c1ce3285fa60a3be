//! CloudWatch: the migration's figures out with `PutMetricData`, the state of
//! the alarms the plan names in with `DescribeAlarms`.
//!
//! One background task does both once per interval. Failures are counted
//! and shown; they never reach the engine, whose snapshots this task only
//! reads.

#![expect(
    clippy::doc_markdown,
    reason = "CloudWatch is a product name, not an identifier"
)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::error::{DisplayErrorContext, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, MetricDatum, StandardUnit, StateValue};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::config::CloudWatchConfig;
use super::outputs::Health;
use super::{Category, Metrics};
use crate::engine::Snapshot;
use crate::journal::MailboxPhase;

/// CloudWatch accepts at most this many datums in one `PutMetricData`.
pub const MAX_DATUMS_PER_REQUEST: usize = 1000;

/// Tries of one request before the interval gives up on it.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// One alarm the plan names, as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmState {
    pub name: String,
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA` as CloudWatch says; `UNKNOWN`
    /// before the first read or when reads have failed for a while;
    /// `MISSING` when CloudWatch has no such alarm.
    pub state: String,
    pub reason: Option<String>,
}

/// The alarm states shared between the CloudWatch task and the gate.
#[derive(Debug)]
pub struct AlarmBoard {
    names: Vec<String>,
    /// States older than this hold nothing.
    stale_after: Duration,
    inner: Mutex<Board>,
}

#[derive(Debug, Default)]
struct Board {
    states: HashMap<String, (String, Option<String>)>,
    read_at: Option<Instant>,
}

impl AlarmBoard {
    #[must_use]
    pub fn new(cfg: Option<&CloudWatchConfig>) -> Self {
        let interval = cfg.map_or(60, |c| *c.interval_secs.get_ref()).max(1);
        Self {
            names: cfg
                .map(|c| c.alarms.iter().map(|a| a.get_ref().clone()).collect())
                .unwrap_or_default(),
            stale_after: Duration::from_secs(interval * 3 + 10),
            inner: Mutex::new(Board::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, states: HashMap<String, (String, Option<String>)>) {
        let mut board = self.lock();
        board.states = states;
        board.read_at = Some(Instant::now());
    }

    fn fresh(&self, board: &Board) -> bool {
        board
            .read_at
            .is_some_and(|at| at.elapsed() <= self.stale_after)
    }

    /// Named alarms in ALARM according to a recent read, in plan order.
    pub fn firing(&self) -> Vec<String> {
        let board = self.lock();
        if !self.fresh(&board) {
            return Vec::new();
        }
        self.names
            .iter()
            .filter(|n| board.states.get(*n).is_some_and(|(s, _)| s == "ALARM"))
            .cloned()
            .collect()
    }

    /// Every named alarm, in plan order.
    pub fn states(&self) -> Vec<AlarmState> {
        let board = self.lock();
        let fresh = self.fresh(&board);
        self.names
            .iter()
            .map(|name| {
                let (state, reason) = match (board.read_at, board.states.get(name)) {
                    (None, _) => ("UNKNOWN".to_owned(), Some("not read yet".to_owned())),
                    (Some(_), _) if !fresh => (
                        "UNKNOWN".to_owned(),
                        Some("CloudWatch has not answered for a while".to_owned()),
                    ),
                    (Some(_), None) => (
                        "MISSING".to_owned(),
                        Some("CloudWatch has no alarm of that name".to_owned()),
                    ),
                    (Some(_), Some((state, reason))) => (state.clone(), reason.clone()),
                };
                AlarmState {
                    name: name.clone(),
                    state,
                    reason,
                }
            })
            .collect()
    }
}

/// A CloudWatch client from the standard credential chain, with the plan's
/// region and endpoint. The SDK's own retries are off: [`run`] retries with
/// its own backoff and counts each failure.
pub async fn client(cfg: &CloudWatchConfig) -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(20))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(region) = &cfg.region {
        loader = loader.region(Region::new(region.get_ref().clone()));
    }
    if let Some(url) = &cfg.endpoint_url {
        loader = loader.endpoint_url(url.get_ref());
    }
    Client::new(&loader.load().await)
}

/// The CloudWatch task: publishes the latest snapshot's figures and reads
/// the alarms once per interval until aborted.
pub(crate) async fn run(
    cfg: CloudWatchConfig,
    plan: String,
    tenants: Vec<(String, String)>,
    mut snapshots: watch::Receiver<Option<Snapshot>>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    alarms: Arc<AlarmBoard>,
) {
    let client = client(&cfg).await;
    let namespace = cfg.namespace.get_ref().clone();
    let mut ticker =
        tokio::time::interval(Duration::from_secs((*cfg.interval_secs.get_ref()).max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut published = ErrorTotals::new();
    let fail = |text: &str| {
        tracing::warn!(output = "cloudwatch", "{text}");
        metrics.error(Category::Cloudwatch, "", "cloudwatch", text);
        health.failing(text);
    };

    loop {
        let closed = tokio::select! {
            _ = ticker.tick() => false,
            () = engine_gone(&mut snapshots) => true,
        };
        let mut all_ok = true;

        let batch = snapshots
            .borrow()
            .as_ref()
            .map(|s| metric_data(&plan, &tenants, s, &published));
        if let Some((datums, totals)) = batch {
            match publish(&client, &namespace, datums, &fail).await {
                Ok(()) => published = totals,
                Err(()) => all_ok = false,
            }
        }

        if !alarms.names.is_empty() && !closed {
            match with_retries("DescribeAlarms", &fail, || {
                read_alarms(&client, &alarms.names)
            })
            .await
            {
                Ok(states) => alarms.record(states),
                Err(()) => all_ok = false,
            }
        }

        if all_ok {
            health.ok();
        }
        if closed {
            return;
        }
    }
}

/// Returns once the engine has dropped its end of the snapshot channel, so
/// the last figures are published at once rather than at the next tick.
async fn engine_gone(snapshots: &mut watch::Receiver<Option<Snapshot>>) {
    while snapshots.changed().await.is_ok() {}
}

/// Sends the datums in requests of at most [`MAX_DATUMS_PER_REQUEST`].
async fn publish(
    client: &Client,
    namespace: &str,
    datums: Vec<MetricDatum>,
    fail: &impl Fn(&str),
) -> Result<(), ()> {
    let mut result = Ok(());
    for chunk in datums.chunks(MAX_DATUMS_PER_REQUEST) {
        let sent = with_retries("PutMetricData", fail, || {
            client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
        })
        .await;
        if sent.is_err() {
            result = Err(());
        }
    }
    result
}

/// Runs one request up to [`ATTEMPTS`] times with a doubling pause, counting
/// every failed attempt. Requests CloudWatch refused as wrong are not retried.
async fn with_retries<T, E, F>(
    what: &str,
    fail: &impl Fn(&str),
    call: impl Fn() -> F,
) -> Result<T, ()>
where
    E: std::error::Error + 'static,
    F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let mut pause = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match call().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                let retry = attempt < ATTEMPTS && worth_retrying(&err);
                let then = if retry { "; retrying" } else { "" };
                fail(&format!("{what}: {}{then}", DisplayErrorContext(&err)));
                if !retry {
                    break;
                }
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
    Err(())
}

/// Network faults, timeouts, throttling and server errors may pass; a
/// refused request (bad credentials, bad input) will not.
fn worth_retrying<E>(err: &SdkError<E, HttpResponse>) -> bool {
    match err.raw_response().map(|r| r.status().as_u16()) {
        Some(status) => status == 429 || status >= 500,
        None => true,
    }
}

async fn read_alarms(
    client: &Client,
    names: &[String],
) -> Result<
    HashMap<String, (String, Option<String>)>,
    SdkError<aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError, HttpResponse>,
> {
    let out = client
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .max_records(100)
        .send()
        .await?;
    let metric = out
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
    let composite = out
        .composite_alarms()
        .iter()
        .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
    Ok(metric
        .chain(composite)
        .filter_map(|(name, state, reason)| {
            Some((
                name?.to_owned(),
                (
                    state.map_or("UNKNOWN", StateValue::as_str).to_owned(),
                    reason.map(str::to_owned),
                ),
            ))
        })
        .collect())
}

/// Error counts per category as last published, so each publication sends
/// the errors that happened since the one before.
pub type ErrorTotals = BTreeMap<Category, u64>;

/// Mailbox figures of one tenant in one wave.
#[derive(Default)]
struct Tally {
    mailboxes: f64,
    messages: f64,
    bytes: f64,
    verified: f64,
    failed: f64,
}

/// Datums being collected, all stamped with the snapshot's time.
struct Datums {
    at: AwsDateTime,
    out: Vec<MetricDatum>,
}

impl Datums {
    /// Adds one datum; values CloudWatch would refuse (not finite, an empty
    /// dimension) are left out.
    fn push(&mut self, name: &str, dims: &[(&str, &str)], value: f64, unit: StandardUnit) {
        if !value.is_finite() || dims.iter().any(|(_, v)| v.is_empty()) {
            return;
        }
        let dimensions = dims
            .iter()
            .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
            .collect();
        self.out.push(
            MetricDatum::builder()
                .metric_name(name)
                .set_dimensions(Some(dimensions))
                .timestamp(self.at)
                .value(value)
                .unit(unit)
                .build(),
        );
    }
}

/// The datums for one snapshot, and the error totals they account for.
///
/// Metrics, by dimensions:
/// - Plan: `MessagesCopied`, `BytesCopied`, `MessagesPerSecond`,
///   `BytesPerSecond`, `Halted` (1/0);
/// - Plan, Wave: `MessagesCopied`, `BytesCopied`, `Mailboxes`,
///   `MailboxesVerified`, `MailboxesFailed`, `GateHeld` (1 held, 0 open);
/// - Plan, Wave, Tenant: `MessagesCopied`, `BytesCopied`, `Mailboxes`,
///   `MailboxesVerified`, `MailboxesFailed`;
/// - Plan, Category: `Errors` since the previous publication;
/// - Plan, Server, Operation: `LatencyP50`, `LatencyP95`, `LatencyP99` (ms).
#[must_use]
pub fn metric_data(
    plan: &str,
    tenants: &[(String, String)],
    snapshot: &Snapshot,
    published: &ErrorTotals,
) -> (Vec<MetricDatum>, ErrorTotals) {
    let mut datums = Datums {
        at: AwsDateTime::from_millis(snapshot.taken_at.timestamp_millis()),
        out: Vec::new(),
    };
    plan_and_wave_figures(&mut datums, plan, snapshot);
    tenant_figures(&mut datums, plan, tenants, snapshot);
    let totals = error_figures(&mut datums, plan, snapshot, published);
    for l in &snapshot.latency {
        let d = [
            ("Plan", plan),
            ("Server", l.server.as_str()),
            ("Operation", l.op.as_str()),
        ];
        datums.push("LatencyP50", &d, l.p50_ms, StandardUnit::Milliseconds);
        datums.push("LatencyP95", &d, l.p95_ms, StandardUnit::Milliseconds);
        datums.push("LatencyP99", &d, l.p99_ms, StandardUnit::Milliseconds);
    }
    (datums.out, totals)
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn plan_and_wave_figures(datums: &mut Datums, plan: &str, snapshot: &Snapshot) {
    let p = [("Plan", plan)];
    datums.push(
        "MessagesCopied",
        &p,
        snapshot.copied as f64,
        StandardUnit::Count,
    );
    datums.push(
        "BytesCopied",
        &p,
        snapshot.bytes as f64,
        StandardUnit::Bytes,
    );
    datums.push(
        "MessagesPerSecond",
        &p,
        snapshot.messages_per_sec,
        StandardUnit::CountSecond,
    );
    datums.push(
        "BytesPerSecond",
        &p,
        snapshot.bytes_per_sec,
        StandardUnit::BytesSecond,
    );
    let halted = f64::from(u8::from(snapshot.halted));
    datums.push("Halted", &p, halted, StandardUnit::None);

    for wave in &snapshot.waves {
        let d = [("Plan", plan), ("Wave", wave.name.as_str())];
        datums.push(
            "MessagesCopied",
            &d,
            wave.messages as f64,
            StandardUnit::Count,
        );
        datums.push("BytesCopied", &d, wave.bytes as f64, StandardUnit::Bytes);
        datums.push(
            "Mailboxes",
            &d,
            f64::from(wave.mailboxes),
            StandardUnit::Count,
        );
        datums.push(
            "MailboxesVerified",
            &d,
            f64::from(wave.verified),
            StandardUnit::Count,
        );
        datums.push(
            "MailboxesFailed",
            &d,
            f64::from(wave.failed),
            StandardUnit::Count,
        );
        let held = wave.phase == "held"
            || snapshot
                .gates
                .iter()
                .any(|g| g.wave == wave.name && !g.open);
        datums.push(
            "GateHeld",
            &d,
            f64::from(u8::from(held)),
            StandardUnit::None,
        );
    }
}

/// Per tenant and wave; every tenant of the plan is published, with zeros
/// when none of its mailboxes has started.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn tenant_figures(
    datums: &mut Datums,
    plan: &str,
    tenants: &[(String, String)],
    snapshot: &Snapshot,
) {
    let mut per_tenant: BTreeMap<(&str, &str), Tally> = tenants
        .iter()
        .map(|(t, w)| ((t.as_str(), w.as_str()), Tally::default()))
        .collect();
    for m in &snapshot.mailboxes {
        let tally = per_tenant
            .entry((m.tenant.as_str(), m.wave.as_str()))
            .or_default();
        tally.mailboxes += 1.0;
        tally.messages += m.copied as f64;
        tally.bytes += m.bytes as f64;
        tally.verified += f64::from(u8::from(m.phase == MailboxPhase::Verified));
        tally.failed += f64::from(u8::from(m.phase == MailboxPhase::Failed));
    }
    for ((tenant, wave), t) in &per_tenant {
        let d = [("Plan", plan), ("Wave", *wave), ("Tenant", *tenant)];
        datums.push("MessagesCopied", &d, t.messages, StandardUnit::Count);
        datums.push("BytesCopied", &d, t.bytes, StandardUnit::Bytes);
        datums.push("Mailboxes", &d, t.mailboxes, StandardUnit::Count);
        datums.push("MailboxesVerified", &d, t.verified, StandardUnit::Count);
        datums.push("MailboxesFailed", &d, t.failed, StandardUnit::Count);
    }
}

/// Errors per category since the last publication; returns the totals this
/// publication accounts for.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn error_figures(
    datums: &mut Datums,
    plan: &str,
    snapshot: &Snapshot,
    published: &ErrorTotals,
) -> ErrorTotals {
    let mut totals = published.clone();
    for e in &snapshot.errors {
        let before = published.get(&e.category).copied().unwrap_or(0);
        let d = [("Plan", plan), ("Category", e.category.as_str())];
        let since = e.count.saturating_sub(before) as f64;
        datums.push("Errors", &d, since, StandardUnit::Count);
        totals.insert(e.category, e.count);
    }
    totals
}
