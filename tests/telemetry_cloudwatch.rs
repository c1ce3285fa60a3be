//! CloudWatch against a real local emulator (ministack, started on loopback
//! by `scripts/cloudwatch-emulator.sh`): a snapshot's figures published and
//! read back with `GetMetricData`, an alarm set to ALARM closing the gate, and
//! an unreachable endpoint shown as a failing output without holding
//! anything up.

#![expect(
    clippy::doc_markdown,
    reason = "CloudWatch is a product name, not an identifier"
)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat, StateValue, Statistic,
};
use chrono::Utc;
use cutover::engine::Snapshot;
use cutover::engine::snapshot::{ErrorCount, GateView, MailboxView, WaveView};
use cutover::journal::MailboxPhase;
use cutover::telemetry::config::CloudWatchConfig;
use cutover::telemetry::{
    Category, LatencySummary, Metrics, Op, OutputState, Outputs, TelemetrySection,
};
use tokio::sync::watch;

const EMULATOR: &str = "http://127.0.0.1:4577";
const NAMESPACE: &str = "CutoverTest";

/// Test credentials for the standard chain, and nothing from this machine's
/// AWS set-up (profiles, instance metadata).
fn aws_environment() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, before any test of this binary starts a client.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
            std::env::set_var(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            );
            std::env::remove_var("AWS_PROFILE");
            std::env::remove_var("AWS_ENDPOINT_URL");
        }
    });
}

/// The emulator for one test; stopped afterwards when this test started it.
struct Emulator {
    started_here: bool,
}

impl Emulator {
    fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cloudwatch-emulator.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .output()
            .expect("the emulator script runs");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "emulator did not start: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            started_here: said.starts_with("started"),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if self.started_here {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cloudwatch-emulator.sh");
            let _ = Command::new("bash").arg(script).arg("stop").output();
        }
    }
}

fn section(endpoint: &str, alarms: &[String]) -> TelemetrySection {
    #[derive(serde::Deserialize)]
    struct Plan {
        telemetry: TelemetrySection,
    }
    let alarms: Vec<String> = alarms.iter().map(|a| format!("\"{a}\"")).collect();
    let text = format!(
        "[telemetry.cloudwatch]\nregion = \"us-east-1\"\nendpoint-url = \"{endpoint}\"\n\
         namespace = \"{NAMESPACE}\"\ninterval-secs = 1\nalarms = [{}]\nalarm-gate = true\n",
        alarms.join(", ")
    );
    let section = toml::from_str::<Plan>(&text).unwrap().telemetry;
    assert_eq!(section.validate(&[]), Vec::new());
    section
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    )
}

/// Waves `wave-1` (running) and `wave-2` (held), and `tenants` tenants in
/// `wave-1` with two mailboxes each: enough datums for several requests.
fn fixture(plan: &str, tenants: usize) -> (Snapshot, Vec<(String, String)>) {
    let mut s: Snapshot = serde_json::from_value(serde_json::json!({
        "plan": plan, "taken_at": Utc::now(), "state": "running", "halted": false,
        "waves": [], "mailboxes": [], "errors": [], "error_examples": [], "latency": [],
        "thresholds": { "max_error_rate": 0.05, "max_p95_append_ms": 2000,
                        "max_p95_fetch_ms": 2000, "window_secs": 300 },
        "gates": [], "window": null, "events": [], "audit": [],
        "messages_per_sec": 41.5, "bytes_per_sec": 90000.0, "copied": 1234, "bytes": 5_678_000,
    }))
    .unwrap();
    let mut pairs = Vec::new();
    for t in 0..tenants {
        let tenant = format!("tenant-{t:03}");
        pairs.push((tenant.clone(), "wave-1".to_owned()));
        for (n, phase) in [MailboxPhase::Verified, MailboxPhase::Failed]
            .into_iter()
            .enumerate()
        {
            s.mailboxes.push(MailboxView {
                source: format!("user{n}@{tenant}.example"),
                destination: format!("user{n}@{tenant}.new.example"),
                tenant: tenant.clone(),
                wave: "wave-1".to_owned(),
                phase,
                copied: 7,
                bytes: 700,
                error_category: None,
                error_text: None,
                verified: None,
                cutover: false,
            });
        }
    }
    let wave = |name: &str, phase: &str| WaveView {
        name: name.to_owned(),
        phase: phase.to_owned(),
        reason: None,
        owner: None,
        mailboxes: u32::try_from(tenants * 2).unwrap(),
        done: 0,
        verified: u32::try_from(tenants).unwrap(),
        failed: u32::try_from(tenants).unwrap(),
        messages: 1234,
        bytes: 5_678_000,
        eta_secs: None,
    };
    s.waves = vec![wave("wave-1", "delta-syncing"), wave("wave-2", "held")];
    s.gates.push(GateView {
        wave: "wave-2".to_owned(),
        gate: "error-rate destination".to_owned(),
        open: false,
        reason: Some("too many errors".to_owned()),
    });
    s.errors = vec![
        ErrorCount {
            category: Category::Timeout,
            count: 3,
        },
        ErrorCount {
            category: Category::OverQuota,
            count: 1,
        },
    ];
    s.latency.push(LatencySummary {
        server: "destination".to_owned(),
        op: Op::Append,
        count: 50,
        p50_ms: 11.0,
        p95_ms: 95.5,
        p99_ms: 240.0,
    });
    (s, pairs)
}

fn start(
    section: &TelemetrySection,
    plan: &str,
    snapshot: Snapshot,
    tenants: Vec<(String, String)>,
) -> (Outputs, watch::Sender<Option<Snapshot>>, Arc<Metrics>) {
    let (tx, rx) = watch::channel(Some(snapshot));
    let metrics = Arc::new(Metrics::new());
    let outputs = cutover::telemetry::start(
        section,
        plan,
        Path::new("."),
        tenants,
        rx,
        Arc::clone(&metrics),
    );
    (outputs, tx, metrics)
}

async fn until<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The maximum of one metric over the last minutes, read back with
/// `GetMetricData`.
async fn read_back(
    client: &aws_sdk_cloudwatch::Client,
    name: &str,
    dims: &[(&str, &str)],
) -> Vec<f64> {
    let mut metric = Metric::builder().namespace(NAMESPACE).metric_name(name);
    for (n, v) in dims {
        metric = metric.dimensions(Dimension::builder().name(*n).value(*v).build());
    }
    let query = MetricDataQuery::builder()
        .id("q1")
        .metric_stat(
            MetricStat::builder()
                .metric(metric.build())
                .period(60)
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build();
    let now = Utc::now().timestamp();
    let out = client
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(AwsDateTime::from_secs(now - 600))
        .end_time(AwsDateTime::from_secs(now + 600))
        .send()
        .await
        .expect("GetMetricData answers");
    out.metric_data_results()
        .iter()
        .flat_map(|r| r.values().iter().copied())
        .collect()
}

async fn create_alarm(client: &aws_sdk_cloudwatch::Client, name: &str) {
    client
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
}

async fn set_alarm(client: &aws_sdk_cloudwatch::Client, name: &str, state: StateValue, why: &str) {
    client
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason(why)
        .send()
        .await
        .expect("SetAlarmState");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_published_and_an_alarm_closes_the_gate() {
    aws_environment();
    let _emulator = Emulator::start();
    let plan = unique("cw");
    let alarm = unique("dst-fleet-cpu");
    let section = section(EMULATOR, std::slice::from_ref(&alarm));
    let cfg: &CloudWatchConfig = section.cloudwatch_on().unwrap();
    let client = cutover::telemetry::cloudwatch::client(cfg).await;

    // An alarm on a metric nobody publishes here, forced into ALARM.
    create_alarm(&client, &alarm).await;
    set_alarm(
        &client,
        &alarm,
        StateValue::Alarm,
        "destination fleet CPU above 80 %",
    )
    .await;

    // 600 tenants: over 3000 datums, so several PutMetricData requests.
    let (snapshot, tenants) = fixture(&plan, 600);
    let (datums, _) = cutover::telemetry::cloudwatch::metric_data(
        &plan,
        &tenants,
        &snapshot,
        &cutover::telemetry::cloudwatch::ErrorTotals::new(),
    );
    assert!(datums.len() > 3 * cutover::telemetry::cloudwatch::MAX_DATUMS_PER_REQUEST);
    let began = Instant::now();
    let (outputs, tx, metrics) = start(&section, &plan, snapshot, tenants);
    assert!(began.elapsed() < Duration::from_millis(200), "start waits");

    let gate = until("the alarm gate closes", 20, || outputs.alarm_gate()).await;
    assert_eq!(gate, format!("held: CloudWatch alarm {alarm} in ALARM"));
    let alarms = outputs.alarms();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].state, "ALARM");
    assert_eq!(
        alarms[0].reason.as_deref(),
        Some("destination fleet CPU above 80 %")
    );

    until("a publication", 20, || {
        let cw = outputs.status().into_iter().next().unwrap();
        cw.last_ok.filter(|_| cw.state == OutputState::Ok)
    })
    .await;
    let p = ("Plan", plan.as_str());
    assert_eq!(read_back(&client, "MessagesCopied", &[p]).await, [1234.0]);
    assert_eq!(read_back(&client, "BytesCopied", &[p]).await, [5_678_000.0]);
    assert_eq!(read_back(&client, "MessagesPerSecond", &[p]).await, [41.5]);
    let wave1 = [p, ("Wave", "wave-1")];
    assert_eq!(
        read_back(&client, "MailboxesVerified", &wave1).await,
        [600.0]
    );
    assert_eq!(read_back(&client, "MailboxesFailed", &wave1).await, [600.0]);
    assert_eq!(read_back(&client, "GateHeld", &wave1).await, [0.0]);
    assert_eq!(
        read_back(&client, "GateHeld", &[p, ("Wave", "wave-2")]).await,
        [1.0]
    );
    // The last tenant's datums went in the last request.
    let last = [p, ("Wave", "wave-1"), ("Tenant", "tenant-599")];
    assert_eq!(read_back(&client, "MailboxesVerified", &last).await, [1.0]);
    assert_eq!(read_back(&client, "MessagesCopied", &last).await, [14.0]);
    let timeouts = [p, ("Category", "timeout")];
    assert_eq!(read_back(&client, "Errors", &timeouts).await, [3.0]);
    let append = [p, ("Server", "destination"), ("Operation", "append")];
    assert_eq!(read_back(&client, "LatencyP95", &append).await, [95.5]);
    assert_eq!(read_back(&client, "LatencyP99", &append).await, [240.0]);
    assert!(
        metrics.error_counts().is_empty(),
        "{:?}",
        metrics.error_examples()
    );

    // Back to OK: the gate opens again.
    set_alarm(&client, &alarm, StateValue::Ok, "recovered").await;
    until("the alarm gate opens", 20, || {
        outputs.alarm_gate().is_none().then_some(())
    })
    .await;
    let _ = client.delete_alarms().alarm_names(&alarm).send().await;

    // The engine stops: the last figures go out before `finish` returns.
    let (mut last, _) = fixture(&plan, 600);
    last.copied = 2000;
    tx.send(Some(last)).unwrap();
    drop(tx);
    let began = Instant::now();
    outputs.finish(Duration::from_secs(20)).await;
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "finish waited for the grace"
    );
    assert_eq!(read_back(&client, "MessagesCopied", &[p]).await, [2000.0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cloudwatch_is_a_failing_output_and_holds_nothing() {
    aws_environment();
    let plan = unique("cw-dead");
    let section = section("http://127.0.0.1:9", &["dst-fleet-cpu".to_owned()]);
    let (snapshot, tenants) = fixture(&plan, 3);

    let began = Instant::now();
    let (outputs, tx, metrics) = start(&section, &plan, snapshot.clone(), tenants);
    for _ in 0..1000 {
        tx.send(Some(snapshot.clone())).unwrap();
    }
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "the engine's side waited"
    );

    let cw = until("CloudWatch shows as failing", 15, || {
        let cw = outputs.status().into_iter().next().unwrap();
        (cw.state == OutputState::Failing).then_some(cw)
    })
    .await;
    assert_eq!(cw.name, "cloudwatch");
    let error = cw.last_error.unwrap();
    assert!(error.starts_with("PutMetricData: ") || error.starts_with("DescribeAlarms: "));
    assert!(cw.last_ok.is_none());
    let counts = metrics.error_counts();
    assert!(
        matches!(counts.as_slice(), [(Category::Cloudwatch, n)] if *n >= 1),
        "{counts:?}"
    );
    let example = &metrics.error_examples()[0];
    assert_eq!(
        (example.mailbox.as_str(), example.server.as_str()),
        ("", "cloudwatch")
    );
    assert!(
        !example.text.contains("test"),
        "credentials in {}",
        example.text
    );

    // Alarms that cannot be read hold nothing.
    assert_eq!(outputs.alarm_gate(), None);
    assert_eq!(outputs.alarms()[0].state, "UNKNOWN");

    let began = Instant::now();
    drop(outputs);
    assert!(began.elapsed() < Duration::from_millis(100));
}
